//! Bytes → the whole `check` analysis path (normalise, split, parse, recognise, replay, rules)
//! in every dialect, split into two migrations so the catalog replay has history to judge.
#![no_main]

use libfuzzer_sys::fuzz_target;
use migrate::analyze::{Options, Unit, analyze};
use migrate::dialect::Dialect;
use migrate::source::{LineIndex, SourceFile, normalise};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = normalise(data.to_vec()) else {
        return;
    };
    let cut = text
        .char_indices()
        .map(|(i, _)| i)
        .find(|&i| i >= text.len() / 2)
        .unwrap_or(text.len());
    let files: Vec<SourceFile> = [&text[..cut], &text[cut..]]
        .iter()
        .enumerate()
        .map(|(i, part)| SourceFile {
            path: format!("{}_fuzz.sql", i + 1).into(),
            display: format!("{}_fuzz.sql", i + 1),
            version: Some(i as u64 + 1),
            description: "fuzz".into(),
            text: part.to_string(),
        })
        .collect();
    for dialect in Dialect::ALL {
        let options = Options {
            dialect,
            ..Options::default()
        };
        let analysis = analyze(&Unit::each_own_release(&files), &[], &options);
        // Every diagnostic points into its file (end of file included).
        for d in &analysis.diagnostics {
            let lines = LineIndex::new(&files[d.file_index].text).line_count();
            assert!(d.span.start.line >= 1 && d.span.start.line <= lines, "{d:?}");
            assert!(d.span.end >= d.span.start || d.span.end.line == 0, "{d:?}");
        }
    }
});
