//! The analysis: parse every migration, replay the history into a [`schema::Catalog`], and
//! judge each statement of the release under test against the catalog as the previous release
//! sees it.
//!
//! Files are parsed in parallel (parsing is per file and pure); the replay is sequential, in
//! version order. Rules never see sqlparser's AST: they see IR [`ir::Change`]s.

pub mod context;
pub mod diagnostic;
pub mod ir;
pub mod lower;
pub mod names;
pub mod parse;
pub mod recognise;
pub mod registry;
pub mod rules;
pub mod schema;
pub mod split;

use std::collections::HashMap;

use context::{Context, FileFacts, Finding};
use diagnostic::{Diagnostic, Severity};
use ir::{Change, ChangeKind, Span};
use parse::ParsedFile;
use registry::{RULES, Rule};
use rules::{
    deleted_migration::DELETED_MIGRATION, down_migration_ignored::DOWN_MIGRATION_IGNORED,
    duplicate_version::DUPLICATE_VERSION, edited_migration::EDITED_MIGRATION,
    invalid_directive::INVALID_DIRECTIVE, invalid_migration_name::INVALID_MIGRATION_NAME,
    migrate_sum_mismatch::MIGRATE_SUM_MISMATCH, unparsed_statement::UNPARSED_STATEMENT,
    unused_allow::UNUSED_ALLOW,
};
use schema::{Catalog, Release};

use crate::dialect::Dialect;
use crate::source::directive::{self, Directive};
use crate::source::{FileProblem, Pos, SourceFile};

/// The level a rule is configured to in `migrate.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Report as an error.
    Error,
    /// Report as a warning.
    Warning,
    /// Do not run the rule.
    Off,
}

/// How to analyse.
#[derive(Debug, Clone)]
pub struct Options {
    /// SQL dialect.
    pub dialect: Dialect,
    /// PostgreSQL major version to assume (default 15).
    pub pg_version: u32,
    /// `unparsed-statement` becomes an error.
    pub strict: bool,
    /// Per-rule levels from config, by rule name.
    pub levels: HashMap<String, Level>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dialect: Dialect::Postgres,
            pg_version: 15,
            strict: false,
            levels: HashMap::new(),
        }
    }
}

/// One file to analyse, with the release it belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Unit<'a> {
    /// The file.
    pub file: &'a SourceFile,
    /// Its release; files sharing a release are judged as one deploy.
    pub release: Release,
    /// Judge it (the release under test) or only replay it (history).
    pub lint: bool,
}

impl<'a> Unit<'a> {
    /// Every file its own release, all linted: what `check` does without `--base`.
    pub fn each_own_release(files: &'a [SourceFile]) -> Vec<Unit<'a>> {
        files
            .iter()
            .enumerate()
            .map(|(i, file)| Unit {
                file,
                release: i as Release + 1,
                lint: true,
            })
            .collect()
    }
}

/// An `-- migrate:allow` line, after analysis.
#[derive(Debug, Clone)]
pub struct Allow {
    /// Line of the comment.
    pub line: u32,
    /// Rule names it suppresses.
    pub rules: Vec<String>,
    /// The justification.
    pub reason: String,
    /// It suppressed at least one diagnostic.
    pub used: bool,
}

/// What the analysis found out about one file.
#[derive(Debug, Clone, Default)]
pub struct FileResult {
    /// Byte ranges of its statements, in order (to execute them one at a time).
    pub statements: Vec<(usize, usize)>,
    /// Statements no front end understood.
    pub unparsed: usize,
    /// Must run outside a transaction (detected, or by directive).
    pub no_transaction: bool,
    /// Its suppressions.
    pub allows: Vec<Allow>,
}

/// Counts for the summary line and JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Files linted.
    pub files: usize,
    /// Statements in them.
    pub statements: usize,
    /// Error diagnostics.
    pub errors: usize,
    /// Warning diagnostics.
    pub warnings: usize,
    /// Info diagnostics.
    pub infos: usize,
    /// Statements not understood.
    pub unparsed: usize,
}

/// The outcome of an analysis.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    /// Diagnostics in file and position order.
    pub diagnostics: Vec<Diagnostic>,
    /// Per-unit results, in unit order.
    pub files: Vec<FileResult>,
    /// Totals.
    pub summary: Summary,
}

impl Analysis {
    /// At least one error.
    pub fn has_errors(&self) -> bool {
        self.summary.errors > 0
    }
}

/// What PostgreSQL (or SQLite) refuses to run inside a transaction, as a phrase; `None` when
/// the change may run in one.
pub fn non_transactional(kind: &ChangeKind, dialect: Dialect, pg_version: u32) -> Option<String> {
    let what = match (dialect, kind) {
        (Dialect::Postgres, ChangeKind::CreateIndex { concurrently, .. }) if *concurrently => {
            "CREATE INDEX CONCURRENTLY"
        }
        (Dialect::Postgres, ChangeKind::DropIndex { concurrently, .. }) if *concurrently => {
            "DROP INDEX CONCURRENTLY"
        }
        (Dialect::Postgres, ChangeKind::Reindex { concurrently, .. }) if *concurrently => {
            "REINDEX CONCURRENTLY"
        }
        (Dialect::Postgres, ChangeKind::DetachPartition { concurrently, .. }) if *concurrently => {
            "DETACH PARTITION CONCURRENTLY"
        }
        (Dialect::Postgres | Dialect::Sqlite, ChangeKind::Vacuum { .. }) => "VACUUM",
        (Dialect::Postgres, ChangeKind::AddEnumValue { .. }) if pg_version < 12 => {
            "ALTER TYPE ... ADD VALUE (before PostgreSQL 12)"
        }
        (Dialect::Postgres, ChangeKind::NonTransactionalCommand { what }) => {
            return Some(what.clone());
        }
        _ => return None,
    };
    Some(what.to_string())
}

/// Runs the analysis over `units` (in replay order) plus the directory's file problems.
pub fn analyze(units: &[Unit], problems: &[FileProblem], options: &Options) -> Analysis {
    let parsed = parse_all(units, options.dialect);
    let enabled: Vec<&'static Rule> = RULES
        .iter()
        .copied()
        .filter(|r| r.check.is_some() && effective_severity(r, options).is_some())
        .collect();

    // Changes of each release, flattened, for rules that look ahead within the release.
    let mut release_changes: HashMap<Release, Vec<&Change>> = HashMap::new();
    for (unit, file) in units.iter().zip(&parsed) {
        let list = release_changes.entry(unit.release).or_default();
        for stmt in &file.statements {
            list.extend(stmt.changes.iter());
        }
    }
    let mut release_pos: HashMap<Release, usize> = HashMap::new();

    let mut catalog = Catalog::new(options.dialect);
    let mut raw: Vec<(usize, Finding)> = Vec::new();
    let mut results = Vec::with_capacity(units.len());
    let mut summary = Summary::default();

    for (file_index, (unit, file)) in units.iter().zip(&parsed).enumerate() {
        let text = &unit.file.text;
        let mut file_findings: Vec<Finding> = Vec::new();
        let mut allows = file_allows(file, text, &mut file_findings);
        let facts = file_facts(file, text, options);
        let mut result = FileResult {
            statements: file.statements.iter().map(|s| (s.start, s.end)).collect(),
            unparsed: file
                .statements
                .iter()
                .filter(|s| s.failure.is_some())
                .count(),
            no_transaction: facts.no_transaction_directive || !facts.non_transactional.is_empty(),
            allows: Vec::new(),
        };
        let file_no = file_index as u32 + 1;
        let mut in_transaction_block = false;
        let changes_of_release = &release_changes[&unit.release];
        for (stmt_index, stmt) in file.statements.iter().enumerate() {
            let mut findings: Vec<Finding> = Vec::new();
            if let (Some(failure), true) = (&stmt.failure, unit.lint) {
                // A position past the statement (an unterminated string or dollar quote is
                // reported at the end of the file) points at the statement instead.
                let at = if failure.pos.line > 0 && failure.pos <= stmt.span.end {
                    failure.pos
                } else {
                    stmt.span.start
                };
                findings.push(Finding {
                    rule: &UNPARSED_STATEMENT,
                    span: Span { start: at, end: at },
                    object: None,
                    message: format!("statement not understood: {}", failure.message),
                    help: None,
                });
            }
            for change in &stmt.changes {
                let pos = release_pos.entry(unit.release).or_insert(0);
                let later = &changes_of_release[(*pos + 1).min(changes_of_release.len())..];
                *pos += 1;
                if unit.lint {
                    for rule in &enabled {
                        let Some(check) = rule.check else { continue };
                        let mut ctx = Context {
                            dialect: options.dialect,
                            pg_version: options.pg_version,
                            catalog: &catalog,
                            release: unit.release,
                            file_no,
                            stmt_index,
                            in_transaction_block,
                            file: &facts,
                            later,
                            rule,
                            findings: &mut findings,
                        };
                        check(&mut ctx, change);
                    }
                }
                catalog.apply(change, unit.release, file_no);
                if let ChangeKind::Transaction(tx) = change.kind {
                    in_transaction_block = tx == ir::TxControl::Begin
                        || (in_transaction_block && tx == ir::TxControl::Savepoint);
                }
            }
            for finding in findings {
                let suppressed = allows.iter_mut().find(|a| {
                    a.target == Some(stmt_index)
                        && a.rules.iter().any(|r| r.name == finding.rule.name)
                });
                match suppressed {
                    Some(allow) => allow.used = true,
                    None => file_findings.push(finding),
                }
            }
        }
        for allow in &allows {
            if allow.target.is_some() && !allow.used && !allow.rules.is_empty() {
                let names: Vec<&str> = allow.rules.iter().map(|r| r.name).collect();
                file_findings.push(Finding {
                    rule: &UNUSED_ALLOW,
                    span: line_span(allow.line),
                    object: None,
                    message: format!(
                        "`migrate:allow {}` suppresses nothing on the statement below it",
                        names.join(", ")
                    ),
                    help: None,
                });
            }
        }
        result.allows = allows
            .iter()
            .filter(|a| a.reason.is_some() && a.target.is_some())
            .map(|a| Allow {
                line: a.line,
                rules: a.rules.iter().map(|r| r.name.to_string()).collect(),
                reason: a.reason.clone().unwrap_or_default(),
                used: a.used,
            })
            .collect();
        if unit.lint {
            summary.files += 1;
            summary.statements += file.statements.len();
            summary.unparsed += result.unparsed;
            raw.extend(file_findings.into_iter().map(|f| (file_index, f)));
        }
        results.push(result);
    }

    let mut diagnostics: Vec<Diagnostic> = problems
        .iter()
        .filter_map(|p| problem_diagnostic(p, options))
        .collect();
    let mut unit_diagnostics: Vec<Diagnostic> = raw
        .into_iter()
        .filter_map(|(file_index, f)| {
            let severity = effective_severity(f.rule, options)?;
            Some(Diagnostic {
                file: units[file_index].file.display.clone(),
                file_index,
                span: f.span,
                rule: f.rule,
                severity,
                message: f.message,
                help: f.help.unwrap_or_else(|| f.rule.recipe()),
                object: f.object,
            })
        })
        .collect();
    unit_diagnostics.sort_by_key(|d| (d.file_index, d.span.start, d.span.end));
    diagnostics.extend(unit_diagnostics);
    for d in &diagnostics {
        match d.severity {
            Severity::Error => summary.errors += 1,
            Severity::Warning => summary.warnings += 1,
            Severity::Info => summary.infos += 1,
        }
    }
    Analysis {
        diagnostics,
        files: results,
        summary,
    }
}

/// Parses every unit, in parallel across files.
fn parse_all(units: &[Unit], dialect: Dialect) -> Vec<ParsedFile> {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(units.len().max(1));
    if workers <= 1 {
        return units
            .iter()
            .map(|u| parse::parse_file(&u.file.text, dialect))
            .collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut slots: Vec<Option<ParsedFile>> = vec![None; units.len()];
    let done: Vec<Vec<(usize, ParsedFile)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(unit) = units.get(i) else { break };
                        out.push((i, parse::parse_file(&unit.file.text, dialect)));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    for (i, file) in done.into_iter().flatten() {
        slots[i] = Some(file);
    }
    slots
        .into_iter()
        .zip(units)
        .map(|(slot, unit)| slot.unwrap_or_else(|| parse::parse_file(&unit.file.text, dialect)))
        .collect()
}

/// The severity a rule reports at, or `None` when it is off.
fn effective_severity(rule: &'static Rule, options: &Options) -> Option<Severity> {
    if options.strict && std::ptr::eq(rule, &UNPARSED_STATEMENT) {
        return Some(Severity::Error);
    }
    match options.levels.get(rule.name) {
        Some(Level::Off) => None,
        Some(Level::Error) => Some(Severity::Error),
        Some(Level::Warning) => Some(Severity::Warning),
        None => Some(rule.severity),
    }
}

fn line_span(line: u32) -> Span {
    let at = Pos { line, column: 1 };
    Span { start: at, end: at }
}

fn file_span() -> Span {
    line_span(1)
}

fn problem_diagnostic(problem: &FileProblem, options: &Options) -> Option<Diagnostic> {
    let mut help = None;
    let (rule, file, message): (&'static Rule, &str, String) = match problem {
        FileProblem::InvalidName { file, reason } => (
            &INVALID_MIGRATION_NAME,
            file,
            format!("file name `{file}` is not a migration name: {reason}"),
        ),
        FileProblem::DuplicateVersion {
            file,
            kept,
            version,
        } => (
            &DUPLICATE_VERSION,
            file,
            format!("version {version} is used by both {kept} and {file}"),
        ),
        FileProblem::DownFile { file } => (
            &DOWN_MIGRATION_IGNORED,
            file,
            format!("rollback file {file} is ignored: migrate is forward-only"),
        ),
        FileProblem::SumMismatch { file, reason } => (&MIGRATE_SUM_MISMATCH, file, reason.clone()),
        FileProblem::EditedSinceBase { file, diff } => {
            help = Some(format!("{}\n{diff}", EDITED_MIGRATION.recipe()));
            (
                &EDITED_MIGRATION,
                file,
                format!("{file} existed at the base and was edited: applied history is immutable"),
            )
        }
        FileProblem::DeletedSinceBase { file } => (
            &DELETED_MIGRATION,
            file,
            format!("{file} existed at the base and was deleted: applied history is immutable"),
        ),
    };
    let severity = effective_severity(rule, options)?;
    Some(Diagnostic {
        file: file.to_string(),
        file_index: usize::MAX,
        span: file_span(),
        rule,
        severity,
        message,
        help: help.unwrap_or_else(|| rule.recipe()),
        object: Some(file.to_string()),
    })
}

/// An allow as parsed, with the statement it applies to.
struct AllowState {
    line: u32,
    rules: Vec<&'static Rule>,
    reason: Option<String>,
    target: Option<usize>,
    used: bool,
}

/// Parses the file's directives, attaching each allow to the statement directly below it.
fn file_allows(file: &ParsedFile, text: &str, findings: &mut Vec<Finding>) -> Vec<AllowState> {
    let mut allows = Vec::new();
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
            Some(Directive::NoTransaction) => {
                let before = &text[..dc.start];
                if before.lines().any(|l| {
                    let t = l.trim();
                    !t.is_empty() && !t.starts_with("--")
                }) {
                    invalid(
                        "`migrate:no-transaction` must come before any statement, on the first line"
                            .to_string(),
                    );
                }
            }
            Some(Directive::Unknown { word }) => invalid(format!(
                "unknown directive `migrate:{word}` (expected `migrate:allow` or `migrate:no-transaction`)"
            )),
            None => {}
        }
    }
    allows
}

/// The statement whose first line follows `line` with only comment lines in between.
fn statement_below(file: &ParsedFile, text: &str, line: u32) -> Option<usize> {
    let index = file
        .statements
        .iter()
        .position(|s| s.span.start.line > line)?;
    let start = file.statements[index].span.start.line;
    let only_comments =
        (line + 1..start).all(|l| file.lines.line(text, l).trim().starts_with("--"));
    only_comments.then_some(index)
}

/// Non-transactional statements and statement counts of a file.
fn file_facts(file: &ParsedFile, text: &str, options: &Options) -> FileFacts {
    let mut facts = FileFacts {
        no_transaction_directive: file.directives.iter().any(|dc| {
            matches!(
                directive::parse(&text[dc.start + 2..dc.end]),
                Some(Directive::NoTransaction)
            )
        }),
        ..FileFacts::default()
    };
    for (index, stmt) in file.statements.iter().enumerate() {
        let setting_only = !stmt.changes.is_empty()
            && stmt
                .changes
                .iter()
                .all(|c| matches!(c.kind, ChangeKind::SessionSetting));
        if !setting_only {
            facts.effective_statements += 1;
        }
        if let Some(what) = stmt
            .changes
            .iter()
            .find_map(|c| non_transactional(&c.kind, options.dialect, options.pg_version))
        {
            facts.non_transactional.push((index, what));
        }
    }
    facts
}
