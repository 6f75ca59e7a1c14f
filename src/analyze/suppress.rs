//! `-- migrate:allow` suppressions: each attached to the statement below it, validated (known rules, a reason), and the ones worth recording in the history.

use super::*;

/// An allow as parsed, with the statement it applies to.
pub(super) struct AllowState {
    line: u32,
    rules: Vec<&'static Rule>,
    reason: Option<String>,
    target: Option<usize>,
    used: bool,
}

/// Parses the file's directives, attaching each allow to the statement directly below it.
pub(super) fn file_allows(
    file: &ParsedFile,
    text: &str,
    findings: &mut Vec<Finding>,
) -> Vec<AllowState> {
    let mut allows = Vec::new();
    let mut declared: Option<crate::source::directive::Phase> = None;
    for dc in &file.directives {
        let pos = file.lines.pos(text, dc.start);
        let comment = &text[dc.start + 2..dc.end];
        let mut invalid = |message: String| {
            findings.push(Finding {
                rule: &INVALID_DIRECTIVE,
                span: Span {
                    start: pos,
                    end: file.lines.pos(text, dc.end),
                },
                object: None,
                message,
                help: None,
                about: Default::default(),
            })
        };
        match directive::parse(comment) {
            Some(Directive::Allow { rules, reason }) => {
                let mut known = Vec::new();
                for name in &rules {
                    match registry::find(name) {
                        Some(rule) => known.push(rule),
                        None => invalid(format!(
                            "`migrate:allow` names unknown rule `{name}` (see `migrate rule --list`)"
                        )),
                    }
                }
                if rules.is_empty() {
                    invalid("`migrate:allow` names no rule".to_string());
                }
                if reason.is_none() {
                    invalid(
                        "`migrate:allow` needs a reason: `-- migrate:allow <rule>: <why it is safe>`"
                            .to_string(),
                    );
                }
                let target = statement_below(file, text, pos.line);
                if target.is_none() && !known.is_empty() {
                    findings.push(Finding {
                        rule: &UNUSED_ALLOW,
                        span: line_span(pos.line),
                        object: None,
                        message: "`migrate:allow` is not directly above a statement".to_string(),
                        help: None,
                        about: Default::default(),
                    });
                }
                allows.push(AllowState {
                    line: pos.line,
                    // An allow without a reason is an error and suppresses nothing.
                    rules: if reason.is_some() { known } else { Vec::new() },
                    reason,
                    target,
                    used: false,
                });
            }
            Some(Directive::NoTransaction) if !leading(text, dc.start) => invalid(
                "`migrate:no-transaction` must come before any statement, on the first line"
                    .to_string(),
            ),
            Some(Directive::Phase(phase)) => {
                let word = phase.as_str();
                if !leading(text, dc.start) {
                    invalid(format!(
                        "`migrate:{word}` must come before any statement, among the file's first comment lines"
                    ));
                } else if let Some(first) = declared.filter(|&p| p != phase) {
                    invalid(format!(
                        "`migrate:{word}` after `migrate:{}`: a migration has one phase (split the file)",
                        first.as_str()
                    ));
                }
                declared.get_or_insert(phase);
            }
            Some(Directive::Arguments { word }) => invalid(format!(
                "`migrate:{word}` takes nothing after it: put other remarks on a line of their own"
            )),
            Some(Directive::Unknown { word }) => invalid(format!(
                "unknown directive `migrate:{word}` (expected `migrate:allow`, `migrate:no-transaction`, `migrate:contract` or `migrate:backfill`)"
            )),
            None => {
                if let Some(meant) = directive::near_miss(comment) {
                    invalid(format!(
                        "`--{}` is not a directive, and is read as a plain comment: write `-- {meant}`",
                        comment.trim_end()
                    ));
                }
            }
            Some(Directive::NoTransaction) => {}
        }
    }
    allows
}

/// Only blank and `--` comment lines come before byte `at` of `text`.
fn leading(text: &str, at: usize) -> bool {
    text[..at].lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with("--")
    })
}

/// The statement whose first line follows `line` with only comment lines in between.
pub(super) fn statement_below(file: &ParsedFile, text: &str, line: u32) -> Option<usize> {
    let index = file
        .statements
        .iter()
        .position(|s| s.span.start.line > line)?;
    let start = file.statements[index].span.start.line;
    let only_comments =
        (line + 1..start).all(|l| file.lines.line(text, l).trim().starts_with("--"));
    only_comments.then_some(index)
}

/// The allows worth recording: those with a reason and a statement below them.
pub(super) fn recorded_allows(allows: &[AllowState]) -> Vec<Allow> {
    allows
        .iter()
        .filter(|a| a.reason.is_some() && a.target.is_some())
        .map(|a| Allow {
            line: a.line,
            rules: a.rules.iter().map(|r| r.name.to_string()).collect(),
            reason: a.reason.clone().unwrap_or_default(),
            used: a.used,
        })
        .collect()
}

/// Moves `findings` of statement `stmt_index` to `out`, except those an allow above the
/// statement suppresses (which marks the allow used).
pub(super) fn suppress(
    allows: &mut [AllowState],
    stmt_index: usize,
    findings: Vec<Finding>,
    out: &mut Vec<Finding>,
) {
    for finding in findings {
        let suppressed = allows.iter_mut().find(|a| {
            a.target == Some(stmt_index) && a.rules.iter().any(|r| r.name == finding.rule.name)
        });
        match suppressed {
            Some(allow) => allow.used = true,
            None => out.push(finding),
        }
    }
}

/// An `unused-allow` finding for every allow that suppressed nothing on its statement.
pub(super) fn unused_allows(allows: &[AllowState], out: &mut Vec<Finding>) {
    for allow in allows {
        if allow.target.is_some() && !allow.used && !allow.rules.is_empty() {
            let names: Vec<&str> = allow.rules.iter().map(|r| r.name).collect();
            out.push(Finding {
                rule: &UNUSED_ALLOW,
                span: line_span(allow.line),
                object: None,
                message: format!(
                    "`migrate:allow {}` suppresses nothing on the statement below it",
                    names.join(", ")
                ),
                help: None,
                about: Default::default(),
            });
        }
    }
}
