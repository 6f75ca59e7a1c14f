//! `--format gitlab`: GitLab Code Quality JSON (an array of issues), with fingerprints that
//! stay stable when lines move: they hash the rule, file, object and message, not the line.

use std::collections::HashMap;
use std::io::{self, Write};

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::analyze::Analysis;
use crate::analyze::diagnostic::Severity;

/// Writes the Code Quality report.
pub fn render(out: &mut impl Write, analysis: &Analysis) -> io::Result<()> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let issues: Vec<serde_json::Value> = analysis
        .diagnostics
        .iter()
        .map(|d| {
            let identity = format!(
                "{}\0{}\0{}\0{}",
                d.rule.name,
                d.file,
                d.object.as_deref().unwrap_or(""),
                d.message
            );
            let occurrence = seen.entry(identity.clone()).or_insert(0);
            *occurrence += 1;
            let digest = Sha256::digest(format!("{identity}\0{occurrence}").as_bytes());
            let fingerprint: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            json!({
                "description": format!("{}: {}", d.rule.name, d.message),
                "check_name": d.rule.name,
                "fingerprint": fingerprint,
                "severity": match d.severity {
                    Severity::Error => "critical",
                    Severity::Warning => "minor",
                    Severity::Info => "info",
                },
                "location": {
                    "path": d.file,
                    "lines": { "begin": d.span.start.line.max(1) },
                },
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &issues).map_err(io::Error::other)?;
    writeln!(out)
}
