//! Compiler-style output: `path:line:col: error[code name]: message`, the source line with a
//! caret under the clause, the recipe as `help:` lines, and a closing summary. A clean run
//! prints nothing.

use std::io::{self, Write};

use crate::analyze::Analysis;
use crate::analyze::diagnostic::{Diagnostic, Severity};
use crate::source::{LineIndex, SourceFile};

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Writes every diagnostic and the summary; nothing at all when there are no diagnostics.
pub fn render(
    out: &mut impl Write,
    analysis: &Analysis,
    sources: &[&SourceFile],
    color: bool,
) -> io::Result<()> {
    let style = Style { on: color };
    if let Some(queries) = &analysis.queries {
        for note in &queries.notes {
            writeln!(out, "{}: {note}\n", style.paint("1;36", "note"))?;
        }
        for u in queries.unparsed() {
            writeln!(
                out,
                "{}: app query {} could not be parsed: {} (it counts as using whatever it names)\n",
                style.paint("1;33", "warning[app-queries]"),
                u.origin,
                u.message
            )?;
        }
    }
    if analysis.diagnostics.is_empty() {
        if analysis.summary.warnings > 0 {
            writeln!(out, "{}", summary_line(analysis))?;
        }
        return Ok(());
    }
    let indexes: Vec<LineIndex> = sources.iter().map(|s| LineIndex::new(&s.text)).collect();
    // Notes repeat per file (a diesel project has a down.sql in every folder): the first
    // few of a rule are shown, the rest counted. Machine formats list every one.
    let mut notes_shown: Vec<(&crate::analyze::registry::Rule, usize)> = Vec::new();
    for d in &analysis.diagnostics {
        if d.severity == Severity::Info {
            let seen = match notes_shown
                .iter_mut()
                .find(|(rule, _)| std::ptr::eq(*rule, d.rule))
            {
                Some((_, n)) => n,
                None => {
                    notes_shown.push((d.rule, 0));
                    &mut notes_shown.last_mut().unwrap().1
                }
            };
            *seen += 1;
            if *seen > NOTES_SHOWN {
                continue;
            }
        }
        let source = sources
            .get(d.file_index)
            .map(|s| (s, &indexes[d.file_index]));
        diagnostic(
            out,
            d,
            source.map(|(s, i)| (s.text.as_str(), i)),
            analysis.queries.as_deref(),
            &style,
        )?;
    }
    for (rule, n) in notes_shown.iter().filter(|(_, n)| *n > NOTES_SHOWN) {
        let more = n - NOTES_SHOWN;
        let like = if more == 1 { "like this" } else { "like these" };
        writeln!(
            out,
            "{}: {more} more {like} (`--format json` lists every one)\n",
            style.paint("1;36", &format!("note[{} {}]", rule.code, rule.name))
        )?;
    }
    let s = analysis.summary;
    let code = if s.errors > 0 { "1;31" } else { "1" };
    writeln!(out, "{}", style.paint(code, &summary_line(analysis)))
}

fn summary_line(analysis: &Analysis) -> String {
    let s = analysis.summary;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut line = format!(
        "{}, {}",
        plural(s.errors, "error"),
        plural(s.warnings, "warning")
    );
    if s.infos > 0 {
        line.push_str(&format!(", {}", plural(s.infos, "note")));
    }
    line.push_str(&format!(
        " in {} ({}, {} unparsed",
        plural(s.files, "file"),
        plural(s.statements, "statement"),
        s.unparsed
    ));
    match &analysis.layout {
        Some(l) if l.auto => line.push_str(&format!(
            "; layout {} (auto{}))",
            l.layout.name(),
            l.sign
                .as_ref()
                .map(|s| format!(": {s}"))
                .unwrap_or_default()
        )),
        Some(l) => line.push_str(&format!("; layout {})", l.layout.name())),
        None => line.push(')'),
    }
    line
}

/// Queries quoted under a finding at most.
const QUERIES_SHOWN: usize = 3;

/// Notes of one rule shown in full; the others are counted in one line.
const NOTES_SHOWN: usize = 3;

/// Characters of a source line shown at most; a longer line is shown around the clause.
const WINDOW: usize = 160;

fn diagnostic(
    out: &mut impl Write,
    d: &Diagnostic,
    source: Option<(&str, &LineIndex)>,
    queries: Option<&crate::analyze::usage::AppQueries>,
    style: &Style,
) -> io::Result<()> {
    let (label, color) = match d.severity {
        Severity::Error => ("error", "1;31"),
        Severity::Warning => ("warning", "1;33"),
        Severity::Info => ("note", "1;36"),
    };
    let start = d.span.start;
    writeln!(
        out,
        "{}: {}: {}",
        style.paint(
            "1",
            &format!("{}:{}:{}", d.file, start.line.max(1), start.column.max(1))
        ),
        style.paint(color, &format!("{label}[{} {}]", d.rule.code, d.rule.name)),
        d.message
    )?;
    if let Some((text, index)) = source.filter(|_| start.line > 0) {
        let full: Vec<char> = index
            .line(text, start.line)
            .chars()
            // A control character in the file must not steer the terminal.
            .map(|c| {
                if c.is_control() && c != '\t' {
                    '\u{fffd}'
                } else {
                    c
                }
            })
            .collect();
        let column = start.column.saturating_sub(1) as usize;
        let end = if d.span.end.line == start.line && d.span.end.column > start.column {
            d.span.end.column.saturating_sub(1) as usize
        } else {
            full.len()
        };
        // A long line is shown as a window around the clause.
        let from = if full.len() > WINDOW {
            column.saturating_sub(WINDOW / 4)
        } else {
            0
        };
        let to = (from + WINDOW).min(full.len());
        let mut line: String = full[from..to].iter().collect();
        let mut shift = 0;
        if from > 0 {
            line.insert(0, '…');
            shift = 1;
        }
        if to < full.len() {
            line.push('…');
        }
        let gutter = start.line.to_string();
        let pad = " ".repeat(gutter.len());
        writeln!(
            out,
            " {} {} {}",
            style.paint("1;34", &gutter),
            style.paint("1;34", "|"),
            line
        )?;
        let before: String = std::iter::repeat_n(' ', shift)
            .chain(
                full[from..column.clamp(from, to)]
                    .iter()
                    .map(|&c| if c == '\t' { '\t' } else { ' ' }),
            )
            .collect();
        let width = end.min(to).saturating_sub(column.max(from)).max(1);
        writeln!(
            out,
            " {pad} {} {before}{}",
            style.paint("1;34", "|"),
            style.paint(color, &"^".repeat(width))
        )?;
    }
    if let (Some(queries), Some(evidence)) = (queries, &d.evidence) {
        let quoted = queries.quoted(evidence);
        for q in quoted.iter().take(QUERIES_SHOWN) {
            writeln!(
                out,
                "  {} {}: {}",
                style.paint("1;36", "used by"),
                q.origin,
                q.one_line(120)
            )?;
        }
        if quoted.len() > QUERIES_SHOWN {
            writeln!(
                out,
                "  {} {} more queries (`--format json` lists every one)",
                style.paint("1;36", "used by"),
                quoted.len() - QUERIES_SHOWN
            )?;
        }
    }
    for help in d.help.lines().filter(|l| !l.trim().is_empty()) {
        writeln!(out, "  {} {help}", style.paint("1;32", "help:"))?;
    }
    writeln!(out)
}
