//! Bytes → the file-name parser and the `-- migrate:` directive parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use migrate::source::directive;
use migrate::source::name::{self, FileName};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let FileName::Up { version, description } = name::parse(text) {
        assert!(text.starts_with(|c: char| c.is_ascii_digit()));
        assert!(!description.is_empty());
        let _ = version;
    }
    if let Some(directive::Directive::Allow { rules, reason }) = directive::parse(text) {
        assert!(rules.iter().all(|r| !r.trim().is_empty()));
        assert!(reason.is_none_or(|r| !r.is_empty()));
    }
});
