//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF consumers. Every rule
//! is described (id, name, short and full description, help); every result has its physical
//! location with a 1-based region whose end column is exclusive.

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::analyze::Analysis;
use crate::analyze::diagnostic::Severity;
use crate::analyze::registry::{RULES, Rule};

/// `drop-column` → `DropColumn`: SARIF's conventional rule-name style.
fn pascal_case(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

fn descriptor(rule: &Rule) -> Value {
    let full = rule
        .section("What it does")
        .unwrap_or_else(|| rule.summary.to_string())
        .replace('\n', " ");
    json!({
        "id": rule.code,
        "name": pascal_case(rule.name),
        "shortDescription": { "text": format!("{}: {}", rule.name, rule.summary) },
        "fullDescription": { "text": full },
        "help": { "text": rule.recipe(), "markdown": rule.markdown() },
        "defaultConfiguration": { "level": level(rule.severity) },
        "properties": { "tags": ["migration", "zero-downtime"] },
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// Writes one SARIF log with one run.
pub fn render(out: &mut impl Write, analysis: &Analysis) -> io::Result<()> {
    let rules: Vec<Value> = RULES.iter().map(|r| descriptor(r)).collect();
    let results: Vec<Value> = analysis
        .diagnostics
        .iter()
        .map(|d| {
            let index = RULES
                .iter()
                .position(|r| std::ptr::eq(*r, d.rule))
                .unwrap_or(0);
            let start = d.span.start;
            let end = d.span.end;
            let mut region = json!({
                "startLine": start.line.max(1),
                "startColumn": start.column.max(1),
            });
            if end > start {
                region["endLine"] = json!(end.line);
                region["endColumn"] = json!(end.column.max(1));
            }
            json!({
                "ruleId": d.rule.code,
                "ruleIndex": index,
                "level": level(d.severity),
                "message": { "text": d.message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": d.file.replace(' ', "%20") },
                        "region": region,
                    }
                }],
            })
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "migrate",
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": "https://github.com/migrate/migrate",
                    "rules": rules,
                }
            },
            "results": results,
        }]
    });
    serde_json::to_writer_pretty(&mut *out, &log).map_err(io::Error::other)?;
    writeln!(out)
}
