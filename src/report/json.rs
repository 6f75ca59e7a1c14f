//! `--format json`: exactly one JSON object; its schema is docs/schemas/check.schema.json.

use std::io::{self, Write};

use serde::Serialize;

use crate::analyze::Analysis;

#[derive(Serialize)]
struct Report<'a> {
    diagnostics: Vec<Entry<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct Entry<'a> {
    file: &'a str,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    rule: &'a str,
    code: &'a str,
    severity: &'a str,
    message: &'a str,
    help: &'a str,
    object: Option<&'a str>,
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    statements: usize,
    errors: usize,
    warnings: usize,
    unparsed: usize,
    layout: Option<&'static str>,
    layout_chosen_by: Option<&'static str>,
    layout_sign: Option<String>,
}

/// The diagnostics as JSON values (as `check --format json` prints them), for other reports.
pub fn diagnostics(analysis: &Analysis) -> Vec<serde_json::Value> {
    entries(analysis)
        .iter()
        .filter_map(|e| serde_json::to_value(e).ok())
        .collect()
}

fn entries(analysis: &Analysis) -> Vec<Entry<'_>> {
    analysis
        .diagnostics
        .iter()
        .map(|d| {
            let end = if d.span.end >= d.span.start {
                d.span.end
            } else {
                d.span.start
            };
            Entry {
                file: &d.file,
                line: d.span.start.line.max(1),
                column: d.span.start.column.max(1),
                end_line: end.line.max(1),
                end_column: end.column.max(1),
                rule: d.rule.name,
                code: d.rule.code,
                severity: d.severity.name(),
                message: &d.message,
                help: &d.help,
                object: d.object.as_deref(),
            }
        })
        .collect()
}

/// Writes the analysis as one JSON object followed by a newline.
pub fn render(out: &mut impl Write, analysis: &Analysis) -> io::Result<()> {
    let report = Report {
        diagnostics: entries(analysis),
        summary: Summary {
            files: analysis.summary.files,
            statements: analysis.summary.statements,
            errors: analysis.summary.errors,
            warnings: analysis.summary.warnings,
            unparsed: analysis.summary.unparsed,
            layout: analysis.layout.as_ref().map(|l| l.layout.name()),
            layout_chosen_by: analysis
                .layout
                .as_ref()
                .map(|l| if l.auto { "auto" } else { "setting" }),
            layout_sign: analysis.layout.as_ref().and_then(|l| l.sign.clone()),
        },
    };
    serde_json::to_writer(&mut *out, &report).map_err(io::Error::other)?;
    writeln!(out)
}
