//! What a rule sees while judging one change: the catalog as it stands before the statement,
//! the release under test, facts about the file, and a way to report.

use crate::analyze::compat::Cause;
use crate::analyze::ir::{Change, ChangeKind, ObjectKind, QName, Span};
use crate::analyze::registry::Rule;
use crate::analyze::schema::{Catalog, Index, Release};
use crate::dialect::Dialect;

/// Facts about the whole file the statement is in, computed before its statements are judged.
#[derive(Debug, Clone, Default)]
pub struct FileFacts {
    /// Statements PostgreSQL (or SQLite) refuses inside a transaction: (statement index, what).
    pub non_transactional: Vec<(usize, String)>,
    /// Statements other than session settings (`SET`), counting the non-transactional ones.
    pub effective_statements: usize,
    /// The file starts with `-- migrate:no-transaction`.
    pub no_transaction_directive: bool,
    /// Per statement: a MySQL `SET foreign_key_checks = 0` (or `OFF`) earlier in the file is in
    /// force when it runs.
    pub foreign_key_checks_off: Vec<bool>,
    /// The deploy phase the file declares (`-- migrate:contract`, `-- migrate:backfill`).
    pub phase: crate::source::directive::Phase,
}

/// A rule's report before suppressions and severity are applied.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The rule.
    pub rule: &'static Rule,
    /// Where.
    pub span: Span,
    /// The object concerned.
    pub object: Option<String>,
    /// The message.
    pub message: String,
    /// A help text replacing the rule's recipe, when the case needs its own.
    pub help: Option<String>,
    /// What the app's queries say of it.
    pub about: About,
}

/// A compatibility finding's subject and what the app's queries say of it
/// ([`crate::analyze::usage`]).
#[derive(Debug, Clone, Default)]
pub struct About {
    /// What the old app would have to use for the change to break it.
    pub subject: Option<crate::analyze::usage::Subject>,
    /// The queries' verdict, when queries were given.
    pub evidence: Option<crate::analyze::usage::Evidence>,
    /// Found in a contract migration by a rule that judges only for the new release's
    /// queries: kept only when one of them uses its subject.
    pub probe: bool,
}

/// The view a rule gets of the analysis.
pub struct Context<'a> {
    /// Dialect of the analysis.
    pub dialect: Dialect,
    /// PostgreSQL major version the rules assume.
    pub pg_version: u32,
    /// The schema before this statement.
    pub catalog: &'a Catalog,
    /// The release being judged.
    pub release: Release,
    /// The database held nothing before this run (`up` on an empty database): objects no
    /// migration made are not there ([`Context::is_new_in`]).
    pub fresh: bool,
    /// 1-based number of the file being judged (one transaction on PostgreSQL and SQLite).
    pub file_no: u32,
    /// Index of the statement in its file.
    pub stmt_index: usize,
    /// An explicit `BEGIN` in the file is open.
    pub in_transaction_block: bool,
    /// The statement says `IF [NOT] EXISTS`.
    pub guarded: bool,
    /// Facts about the file.
    pub file: &'a FileFacts,
    pub(crate) later: &'a [&'a Change],
    /// How many of `later` are in the statement's own file.
    pub(crate) later_in_file: usize,
    /// For a compatibility rule: the change that produced the difference.
    pub cause: Option<&'a Cause>,
    pub(crate) rule: &'static Rule,
    pub(crate) findings: &'a mut Vec<Finding>,
}

impl Context<'_> {
    /// The deploy phase of the file being judged: a rule of [`crate::analyze::registry::Kind::Both`]
    /// reports only its lock part in a contract migration.
    pub fn phase(&self) -> crate::source::directive::Phase {
        self.file.phase
    }

    /// The file is a contract migration (run after the rollout, against the new app).
    pub fn contract(&self) -> bool {
        self.file.phase == crate::source::directive::Phase::Contract
    }

    /// Reports the current rule with its recipe as help.
    pub fn report(&mut self, span: Span, object: impl ToString, message: impl Into<String>) {
        self.findings.push(Finding {
            rule: self.rule,
            span,
            object: Some(object.to_string()).filter(|o| !o.is_empty()),
            message: message.into(),
            help: None,
            about: About::default(),
        });
    }

    /// Reports the current rule, saying what the old app would have to use for it to break
    /// ([`crate::analyze::usage::Subject`]).
    pub fn report_on(
        &mut self,
        subject: crate::analyze::usage::Subject,
        span: Span,
        object: impl ToString,
        message: impl Into<String>,
    ) {
        self.report(span, object, message);
        if let Some(f) = self.findings.last_mut() {
            f.about.subject = Some(subject);
        }
    }

    /// Reports the current rule with help specific to this case.
    pub fn report_with_help(
        &mut self,
        span: Span,
        object: impl ToString,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.findings.push(Finding {
            rule: self.rule,
            span,
            object: Some(object.to_string()).filter(|o| !o.is_empty()),
            message: message.into(),
            help: Some(help.into()),
            about: About::default(),
        });
    }

    /// Whether a release stamp is the release under test (the old app cannot see it).
    ///
    /// Not in a contract migration: it runs after the rollout, when the release that made the
    /// object is the one serving traffic on it (unless the database held nothing before).
    pub fn is_new(&self, release: Option<Release>) -> bool {
        release == Some(self.release) && (!self.contract() || self.fresh)
    }

    /// Whether an object of `schema` stamped `release` is new to the old app: made in the
    /// release under test, or — on a database that held nothing — not made by any migration
    /// (only mentioned, or unknown), so not there at all, unless it lives in another database
    /// or attached file ([`absent_before`]).
    pub fn is_new_in(&self, release: Option<Release>, schema: Option<&str>) -> bool {
        self.is_new(release)
            || (release.is_none_or(|r| r == 0) && absent_before(self.fresh, self.dialect, schema))
    }

    /// The table (or the materialized view an index or statement targets) was created in the
    /// release under test.
    pub fn is_new_table(&self, table: &QName) -> bool {
        let schema = table.schema.as_deref();
        match self.catalog.table(table) {
            Some(t) => self.is_new_in(Some(t.release), schema),
            None => self.is_new_in(self.catalog.view(table).map(|v| v.release), schema),
        }
    }

    /// The index (or its table) was created in the release under test.
    pub fn is_new_index(&self, index: &Index) -> bool {
        self.is_new(Some(index.release)) || self.is_new_table(&index.table)
    }

    /// The column (or its table) was created in the release under test.
    pub fn is_new_column(&self, table: &QName, column: &str) -> bool {
        self.is_new_table(table)
            || self.is_new(self.catalog.column(table, column).map(|c| c.release))
    }

    /// The object was created in the release under test.
    pub fn is_new_object(&self, kind: ObjectKind, name: &QName) -> bool {
        self.is_new_in(
            self.catalog.object_release(kind, name),
            name.schema.as_deref(),
        )
    }

    /// Changes that come later in the statement's own file (one transaction on PostgreSQL
    /// and SQLite, unless it runs outside one).
    pub fn later_in_file(&self) -> impl Iterator<Item = &ChangeKind> {
        self.later.iter().take(self.later_in_file).map(|c| &c.kind)
    }

    /// Changes that come later in the same release.
    pub fn later_changes(&self) -> impl Iterator<Item = &ChangeKind> {
        self.later.iter().map(|c| &c.kind)
    }

    /// PostgreSQL.
    pub fn postgres(&self) -> bool {
        self.dialect == Dialect::Postgres
    }
}

/// On a database that held nothing before the run (`fresh`), whether an object in `schema`
/// (`None`: the default) was certainly not there: the check that found the database empty
/// covers every PostgreSQL schema, but only the current MySQL database and SQLite's `main`
/// (and `temp`) — a name qualified with another database or an attached file may exist.
pub fn absent_before(fresh: bool, dialect: Dialect, schema: Option<&str>) -> bool {
    fresh
        && match (dialect, schema) {
            (_, None) | (Dialect::Postgres, Some(_)) => true,
            (Dialect::Sqlite, Some(s)) => {
                s.eq_ignore_ascii_case("main") || s.eq_ignore_ascii_case("temp")
            }
            (Dialect::Mysql, Some(_)) => false,
        }
}
