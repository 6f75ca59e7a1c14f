//! The analysis: parse every migration, replay the history into a [`schema::Catalog`], and
//! judge each statement of the release under test against the catalog as the previous release
//! sees it.
//!
//! Files are parsed in parallel (parsing is per file and pure); the replay is sequential, in
//! version order. Rules never see sqlparser's AST: they see IR [`ir::Change`]s.

pub mod compat;
pub mod context;
pub mod diagnostic;
pub mod ir;
pub mod lex;
pub mod lower;
pub mod names;
pub mod parse;
pub mod recognise;
pub mod registry;
pub mod rules;
pub mod schema;
pub mod split;
pub mod step;
pub mod usage;

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
    /// `up`'s gate on a database that holds nothing yet (no migration of the history
    /// applied, nothing an old app could use: `Driver::holds_nothing`). No old app and no traffic exist
    /// there, so every object the run touches is new to it (made by the run, or not there
    /// at all), and an allow that suppresses nothing in this run is still the one a
    /// database with the history needs (no `unused-allow`).
    pub fresh_database: bool,
    /// The app's queries (`--app-queries`, `app_queries`): compatibility findings are judged
    /// by whether a query uses their subject ([`usage`]).
    pub queries: Option<usage::Shared>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dialect: Dialect::Postgres,
            pg_version: 15,
            strict: false,
            levels: HashMap::new(),
            fresh_database: false,
            queries: None,
        }
    }
}

pub use crate::source::select::Unit;

mod suppress;
use suppress::*;

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
    /// Each statement as the engine runs it outside a migration-wide transaction.
    pub steps: Vec<step::Step>,
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
    /// The layout the files were read in, for the summary (set by the caller that knows it).
    pub layout: Option<crate::source::LayoutUsed>,
    /// The app's queries the findings were weighed with (their unparsed ones are warnings,
    /// counted in the summary).
    pub queries: Option<usage::Shared>,
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
        (Dialect::Postgres, ChangeKind::DropDatabase { .. }) => "DROP DATABASE",
        (Dialect::Postgres, ChangeKind::NonTransactionalCommand { what }) => {
            return Some(what.clone());
        }
        _ => return None,
    };
    Some(what.to_string())
}

/// What executing or recording `file` needs without judging it (`baseline`, `resolve`): its
/// statements and `migrate:allow` comments, found by the splitter alone.
pub fn outline(file: &SourceFile, dialect: Dialect) -> FileResult {
    let parsed = parse::split_file(&file.text, dialect);
    let allows = file_allows(&parsed, &file.text, &mut Vec::new());
    FileResult {
        statements: parsed.statements.iter().map(|s| (s.start, s.end)).collect(),
        unparsed: 0,
        no_transaction: false,
        allows: recorded_allows(&allows),
        steps: Vec::new(),
    }
}

/// The tables that exist after replaying `texts` in order (no rules run): what another
/// app's history made, when it shares the database.
pub fn tables_made(texts: &[String], dialect: Dialect) -> Vec<ir::QName> {
    let replay = || {
        let mut catalog = Catalog::new(dialect);
        for (i, text) in texts.iter().enumerate() {
            let parsed = parse::parse_file(text, dialect);
            for change in parsed.statements.iter().flat_map(|s| &s.changes) {
                catalog.apply(change, i as Release + 1, i as u32 + 1);
            }
        }
        // Tables only mentioned (stubs of release 0) were not made by that history.
        let mut names: Vec<ir::QName> = catalog
            .table_names()
            .filter(|n| catalog.table(n).is_some_and(|t| t.release > 0))
            .cloned()
            .collect();
        names.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
        names
    };
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(parse::PARSER_STACK)
            .spawn_scoped(scope, replay)
            .ok()
            .and_then(|worker| worker.join().ok())
            .unwrap_or_default()
    })
}

/// Runs the analysis over `units` (in replay order) plus the directory's file problems.
///
/// Files are parsed in parallel and replayed in order as soon as every file of their release
/// is parsed (rules look ahead within a release); a file's parse results are dropped once it
/// is replayed, so memory follows the largest release, not the whole history.
pub fn analyze(units: &[Unit], problems: &[FileProblem], options: &Options) -> Analysis {
    let enabled: Vec<&'static Rule> = RULES
        .iter()
        .copied()
        .filter(|r| {
            (r.check.is_some() || r.compat.is_some()) && effective_severity(r, options).is_some()
        })
        .collect();
    let mut last_of_release: HashMap<Release, usize> = HashMap::new();
    for (i, unit) in units.iter().enumerate() {
        last_of_release.insert(unit.release, i);
    }
    let mut replay = Replay {
        options,
        enabled,
        catalog: Catalog::new(options.dialect),
        tracker: compat::Tracker::default(),
        release: None,
        raw: Vec::new(),
        results: Vec::with_capacity(units.len()),
        summary: Summary::default(),
        fresh: options.fresh_database,
    };
    let mut buffer: HashMap<usize, ParsedFile> = HashMap::new();
    parse_all(units, options.dialect, |received| {
        let (index, file) = received;
        buffer.insert(index, file);
        // Replay every file whose whole release has arrived, in order.
        while let Some(next) = Some(replay.results.len()).filter(|&n| n < units.len()) {
            let last = last_of_release[&units[next].release];
            if !(next..=last).all(|j| buffer.contains_key(&j)) {
                break;
            }
            let file = buffer.remove(&next).expect("parsed file");
            let later: Vec<&ParsedFile> = (next + 1..=last)
                .filter(|&j| units[j].release == units[next].release)
                .map(|j| &buffer[&j])
                .collect();
            replay.file(next, &units[next], &file, &later);
        }
    });
    let Replay {
        raw,
        results,
        mut summary,
        ..
    } = replay;

    let mut diagnostics: Vec<Diagnostic> = problems
        .iter()
        .filter_map(|p| problem_diagnostic(p, options))
        .collect();
    let mut unit_diagnostics: Vec<Diagnostic> = raw
        .into_iter()
        .filter_map(|(file_index, f)| {
            let mut severity = effective_severity(f.rule, options)?;
            let mut message = f.message;
            match &f.about.evidence {
                Some(usage::Evidence::Unused {
                    phrase, through, ..
                }) => {
                    severity = match severity {
                        Severity::Error => Severity::Warning,
                        _ => Severity::Info,
                    };
                    message.push_str(&format!(" (but {phrase}"));
                    if *through {
                        message.push_str(
                            "; what queries read through views and functions is not followed: --prove checks it",
                        );
                    }
                    message.push(')');
                }
                Some(usage::Evidence::Used { new_release: true, .. }) => {
                    severity = Severity::Error;
                    message.push_str(" (the new release's queries still use it)");
                }
                _ => {}
            }
            Some(Diagnostic {
                file: units[file_index].file.display.clone(),
                file_index,
                span: f.span,
                rule: f.rule,
                severity,
                message,
                help: f.help.unwrap_or_else(|| f.rule.recipe_for(options.dialect)),
                object: f.object,
                evidence: f.about.evidence,
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
    if let Some(queries) = &options.queries {
        summary.warnings += queries.unparsed().len();
    }
    Analysis {
        diagnostics,
        files: results,
        summary,
        layout: None,
        queries: options.queries.clone(),
    }
}

/// The sequential half of the analysis: the catalog and what the rules found so far.
struct Replay<'o> {
    options: &'o Options,
    enabled: Vec<&'static Rule>,
    catalog: Catalog,
    /// The differences from the previous release while a linted release is replayed.
    tracker: compat::Tracker,
    /// The release being replayed.
    release: Option<Release>,
    raw: Vec<(usize, Finding)>,
    results: Vec<FileResult>,
    summary: Summary,
    /// [`Options::fresh_database`], until a statement points unqualified names elsewhere
    /// (MySQL `USE`, SQLite `ATTACH`): from there on everything is judged.
    fresh: bool,
}

impl Replay<'_> {
    /// Judges (when linted) and replays file `file_index`; `later` holds the parsed files that
    /// follow it in its release.
    fn file(&mut self, file_index: usize, unit: &Unit, file: &ParsedFile, later: &[&ParsedFile]) {
        let text = &unit.file.text;
        let mut file_findings: Vec<Finding> = Vec::new();
        let mut allows = file_allows(file, text, &mut file_findings);
        let mut facts = file_facts(file, text, self.options);
        facts.no_transaction_directive |= unit.file.outside_transaction;
        facts.phase = unit.file.phase();
        let mut result = FileResult {
            statements: file.statements.iter().map(|s| (s.start, s.end)).collect(),
            unparsed: file
                .statements
                .iter()
                .filter(|s| s.failure.is_some())
                .count(),
            no_transaction: facts.no_transaction_directive || !facts.non_transactional.is_empty(),
            allows: Vec::new(),
            steps: file_steps(file, text, self.options),
        };
        let file_no = file_index as u32 + 1;
        let mut in_transaction_block = false;
        if self.release != Some(unit.release) {
            self.release = Some(unit.release);
            self.tracker.begin_release();
            self.catalog.begin_release(unit.release);
        }
        self.catalog.record_previous_release(unit.lint);
        // The old app sees the state after each statement where DDL commits one statement at
        // a time (MySQL, a no-transaction file), else only the state after the file.
        let each_statement = self.options.dialect == Dialect::Mysql || result.no_transaction;
        // The changes from this file to the end of its release, for rules that look ahead.
        let ahead: Vec<&Change> = std::iter::once(file)
            .chain(later.iter().copied())
            .flat_map(|f| f.statements.iter().flat_map(|s| s.changes.iter()))
            .collect();
        let mut position = 0;
        let in_file: usize = file.statements.iter().map(|s| s.changes.len()).sum();
        for (stmt_index, stmt) in file.statements.iter().enumerate() {
            let mut findings: Vec<Finding> = Vec::new();
            if self.fresh && reaches_elsewhere(&text[stmt.start..stmt.end], self.options.dialect) {
                self.fresh = false;
            }
            if stmt.failure.is_some() {
                self.catalog.mark_uncertain();
            }
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
                    about: Default::default(),
                });
            }
            for change in &stmt.changes {
                position += 1;
                let later = &ahead[position.min(ahead.len())..];
                if unit.lint {
                    for rule in &self.enabled {
                        let probe = self.probes(rule, &facts);
                        let Some(check) = rule
                            .check
                            .filter(|_| rule.kind.judges(facts.phase) || probe)
                        else {
                            continue;
                        };
                        let before = findings.len();
                        let mut ctx = Context {
                            dialect: self.options.dialect,
                            pg_version: self.options.pg_version,
                            catalog: &self.catalog,
                            release: unit.release,
                            fresh: self.fresh,
                            file_no,
                            stmt_index,
                            in_transaction_block,
                            guarded: stmt.guarded,
                            file: &facts,
                            later,
                            later_in_file: in_file.saturating_sub(position),
                            cause: None,
                            rule,
                            findings: &mut findings,
                        };
                        check(&mut ctx, change);
                        if rule.kind == registry::Kind::Compat {
                            for f in &mut findings[before..] {
                                if f.about.subject.is_none() {
                                    f.about.subject = usage::subject_of(&change.kind);
                                }
                                f.about.probe = probe;
                            }
                        }
                    }
                }
                self.catalog.apply(change, unit.release, file_no);
                if unit.lint {
                    self.tracker
                        .update(&self.catalog, unit.release, || compat::Cause {
                            file_index,
                            stmt_index,
                            span: change.span,
                            change: change.kind.clone(),
                        });
                }
                if let ChangeKind::Transaction(tx) = change.kind {
                    in_transaction_block = tx == ir::TxControl::Begin
                        || (in_transaction_block && tx == ir::TxControl::Savepoint);
                }
            }
            suppress(&mut allows, stmt_index, findings, &mut file_findings);
            if unit.lint && (each_statement || stmt_index + 1 == file.statements.len()) {
                self.judge_visible(unit, file_no, &facts, &mut allows, &mut file_findings);
            }
        }
        if !self.options.fresh_database {
            unused_allows(&allows, &mut file_findings);
        }
        result.allows = recorded_allows(&allows);
        self.weigh(&mut file_findings);
        if unit.lint {
            self.summary.files += 1;
            self.summary.statements += file.statements.len();
            self.summary.unparsed += result.unparsed;
            self.raw
                .extend(file_findings.into_iter().map(|f| (file_index, f)));
        }
        self.results.push(result);
    }
}

impl Replay<'_> {
    /// A compatibility rule runs in a contract migration only to find what the new
    /// release's queries still use (when they are known).
    fn probes(&self, rule: &Rule, facts: &FileFacts) -> bool {
        rule.kind == registry::Kind::Compat
            && !rule.kind.judges(facts.phase)
            && self
                .options
                .queries
                .as_ref()
                .is_some_and(|q| q.new.is_some())
    }

    /// Weighs each compatibility finding of a file with the app's queries, against the
    /// previous release's catalog (the journal still holds it): a probe nothing uses is
    /// dropped.
    fn weigh(&self, findings: &mut Vec<Finding>) {
        let Some(queries) = &self.options.queries else {
            return;
        };
        findings.retain_mut(|f| {
            let Some(subject) = &f.about.subject else {
                return !f.about.probe;
            };
            let evidence = if f.about.probe {
                match &queries.new {
                    Some(new) => new.evidence(subject, &self.catalog, true),
                    None => return false,
                }
            } else {
                match &queries.old {
                    Some(old) => old.evidence(subject, &self.catalog, false),
                    None => return true,
                }
            };
            let keep = !f.about.probe || matches!(evidence, usage::Evidence::Used { .. });
            f.about.evidence = Some(evidence);
            keep
        });
    }
}

impl Replay<'_> {
    /// Runs the compatibility rules over the differences a state the old app can see shows
    /// for the first time; each finding belongs to the statement that caused it.
    fn judge_visible(
        &mut self,
        unit: &Unit,
        file_no: u32,
        facts: &FileFacts,
        allows: &mut [AllowState],
        out: &mut Vec<Finding>,
    ) {
        for (difference, cause) in self.tracker.visible() {
            // No old app uses a table of a database that held nothing (one named in another
            // database or attached file is judged).
            if context::absent_before(
                self.fresh,
                self.options.dialect,
                difference.table.schema.as_deref(),
            ) {
                continue;
            }
            let mut findings = Vec::new();
            for rule in &self.enabled {
                let probe = self.probes(rule, facts);
                let Some(compat) = rule
                    .compat
                    .filter(|_| rule.kind.judges(facts.phase) || probe)
                else {
                    continue;
                };
                let before = findings.len();
                let mut ctx = Context {
                    dialect: self.options.dialect,
                    pg_version: self.options.pg_version,
                    catalog: &self.catalog,
                    release: unit.release,
                    fresh: self.fresh,
                    file_no,
                    stmt_index: cause.stmt_index,
                    in_transaction_block: false,
                    guarded: false,
                    file: facts,
                    later: &[],
                    later_in_file: 0,
                    cause: Some(&cause),
                    rule,
                    findings: &mut findings,
                };
                compat(&mut ctx, &difference);
                if rule.kind == registry::Kind::Compat {
                    for f in &mut findings[before..] {
                        if f.about.subject.is_none() {
                            f.about.subject = Some(usage::of_difference(&difference));
                        }
                        f.about.probe = probe;
                    }
                }
            }
            suppress(allows, cause.stmt_index, findings, out);
        }
    }
}

/// Parses every unit in parallel across files, on threads with a stack that fits sqlparser's
/// recursion ([`parse::PARSER_STACK`]), handing each parsed file to `on_parsed` on the calling
/// thread as it arrives (in any order).
fn parse_all(units: &[Unit], dialect: Dialect, mut on_parsed: impl FnMut((usize, ParsedFile))) {
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(units.len())
        .max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut arrived = vec![false; units.len()];
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel::<(usize, ParsedFile)>();
        for _ in 0..workers {
            let tx = tx.clone();
            let next = &next;
            let _ = std::thread::Builder::new()
                .stack_size(parse::PARSER_STACK)
                .spawn_scoped(scope, move || {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(unit) = units.get(i) else { break };
                        if tx
                            .send((i, parse::parse_file(&unit.file.text, dialect)))
                            .is_err()
                        {
                            break;
                        }
                    }
                });
        }
        drop(tx);
        for received in rx {
            arrived[received.0] = true;
            on_parsed(received);
        }
    });
    // Files whose worker could not start or panicked: parse them on a parser thread here.
    for (i, unit) in units.iter().enumerate().filter(|(i, _)| !arrived[*i]) {
        let parsed = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .stack_size(parse::PARSER_STACK)
                .spawn_scoped(scope, || parse::parse_file(&unit.file.text, dialect))
                .ok()
                .and_then(|h| h.join().ok())
        });
        on_parsed((
            i,
            parsed.unwrap_or_else(|| parse::failed_file(&unit.file.text)),
        ));
    }
}

/// A statement after which unqualified names may mean another database's objects: MySQL
/// `USE`, SQLite `ATTACH` (then `main` is still ours, but a name may resolve to the attached
/// file's table).
fn reaches_elsewhere(statement: &str, dialect: Dialect) -> bool {
    let first = statement
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .find(|w| !w.is_empty())
        .unwrap_or("");
    match dialect {
        Dialect::Mysql => first.eq_ignore_ascii_case("USE"),
        Dialect::Sqlite => first.eq_ignore_ascii_case("ATTACH"),
        Dialect::Postgres => false,
    }
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
        help: help.unwrap_or_else(|| rule.recipe_for(options.dialect)),
        object: Some(file.to_string()),
        evidence: None,
    })
}

/// The step facts of every statement of a file.
fn file_steps(file: &ParsedFile, text: &str, options: &Options) -> Vec<step::Step> {
    let has_tx = file.statements.iter().any(|s| {
        s.changes
            .iter()
            .any(|c| matches!(c.kind, ChangeKind::Transaction(_)))
    });
    file.statements
        .iter()
        .map(|s| {
            let text = &text[s.start..s.end];
            step::step(
                &s.changes,
                text,
                options.dialect,
                options.pg_version,
                has_tx,
            )
        })
        .collect()
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
    let mut checks_off = false;
    for (index, stmt) in file.statements.iter().enumerate() {
        let setting_only = !stmt.changes.is_empty()
            && stmt
                .changes
                .iter()
                .all(|c| matches!(c.kind, ChangeKind::SessionSetting));
        facts.foreign_key_checks_off.push(checks_off);
        if setting_only {
            let words = names::expr_words(&text[stmt.start..stmt.end]);
            if words.iter().any(|w| w == "foreign_key_checks") {
                // The session's value (not SET GLOBAL's), from its own assignment in a list.
                let sql = text[stmt.start..stmt.end].to_ascii_lowercase();
                for part in sql.split(',').filter(|p| p.contains("foreign_key_checks")) {
                    if part.contains("global") {
                        continue;
                    }
                    let value = part
                        .rsplit(['=', ' '])
                        .find(|v| !v.trim().is_empty())
                        .unwrap_or("");
                    checks_off =
                        matches!(value.trim().trim_end_matches(';'), "0" | "off" | "false");
                }
            }
        }
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
