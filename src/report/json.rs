//! `--format json`: exactly one JSON object; its schema is docs/schemas/check.schema.json.

use std::io::{self, Write};

use serde::Serialize;

use crate::analyze::Analysis;
use crate::analyze::usage::Evidence;

#[derive(Serialize)]
struct Report<'a> {
    diagnostics: Vec<Entry<'a>>,
    summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_queries: Option<AppQueriesEntry<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    proof: Option<serde_json::Value>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<EvidenceEntry<'a>>,
}

/// What the app's queries say of a finding.
#[derive(Serialize)]
struct EvidenceEntry<'a> {
    /// `used` or `proven-unused`.
    verdict: &'static str,
    /// Judged against the new release's queries (a contract migration).
    new_release: bool,
    /// The queries that use its subject.
    queries: Vec<QueryEntry<'a>>,
    /// What no query uses.
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
    /// Some query reads through a view or function, which is not followed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    through_views_or_functions: bool,
}

#[derive(Serialize)]
struct QueryEntry<'a> {
    source: &'a str,
    line: Option<u32>,
    id: Option<&'a str>,
    query: &'a str,
    parsed: bool,
}

#[derive(Serialize)]
struct AppQueriesEntry<'a> {
    /// Queries read, per release.
    previous_release: Option<usize>,
    new_release: Option<usize>,
    /// Queries not parsed (judged by their words).
    unparsed: Vec<UnparsedEntry<'a>>,
    notes: &'a [String],
}

#[derive(Serialize)]
struct UnparsedEntry<'a> {
    source: &'a str,
    line: Option<u32>,
    id: Option<&'a str>,
    message: &'a str,
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
                evidence: d.evidence.as_ref().map(|e| evidence(analysis, e)),
            }
        })
        .collect()
}

fn evidence<'a>(analysis: &'a Analysis, e: &'a Evidence) -> EvidenceEntry<'a> {
    let quoted = analysis
        .queries
        .as_deref()
        .map(|q| q.quoted(e))
        .unwrap_or_default();
    let (verdict, new_release, subject, through) = match e {
        Evidence::Used { new_release, .. } => ("used", *new_release, None, false),
        Evidence::Unused {
            subject, through, ..
        } => ("proven-unused", false, Some(subject.as_str()), *through),
    };
    EvidenceEntry {
        verdict,
        new_release,
        queries: quoted
            .into_iter()
            .map(|q| QueryEntry {
                source: &q.origin.source,
                line: Some(q.origin.line).filter(|&l| l > 0),
                id: q.origin.id.as_deref(),
                query: &q.text,
                parsed: q.names.is_some(),
            })
            .collect(),
        subject,
        through_views_or_functions: through,
    }
}

fn app_queries(analysis: &Analysis) -> Option<AppQueriesEntry<'_>> {
    let q = analysis.queries.as_deref()?;
    Some(AppQueriesEntry {
        previous_release: q.old.as_ref().map(|s| s.queries.len()),
        new_release: q.new.as_ref().map(|s| s.queries.len()),
        unparsed: q
            .unparsed()
            .into_iter()
            .map(|u| UnparsedEntry {
                source: &u.origin.source,
                line: Some(u.origin.line).filter(|&l| l > 0),
                id: u.origin.id.as_deref(),
                message: &u.message,
            })
            .collect(),
        notes: &q.notes,
    })
}

/// Writes the analysis as one JSON object followed by a newline.
pub fn render(out: &mut impl Write, analysis: &Analysis) -> io::Result<()> {
    render_with(out, analysis, None)
}

/// Writes the analysis and `check --prove`'s proof as one JSON object.
pub fn render_with(
    out: &mut impl Write,
    analysis: &Analysis,
    proof: Option<serde_json::Value>,
) -> io::Result<()> {
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
        app_queries: app_queries(analysis),
        proof,
    };
    serde_json::to_writer(&mut *out, &report).map_err(io::Error::other)?;
    writeln!(out)
}
