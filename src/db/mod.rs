//! Executing migrations. The engine talks to a database through one [`Driver`], implemented
//! once (`SqlxDriver`, in `driver.rs`) over a `Backend` per database family; the rest of
//! the layer is split by responsibility:
//!
//! - `url.rs`: [`Target`] (dialect from the scheme) and the one redaction mechanism, [`scrub`];
//! - `settings.rs`: [`Settings`] with each default said once, [`TableName`], durations;
//! - `error.rs`: [`DbError`], and [`ApplyError`] (what became of a migration) with its [`Cause`];
//! - `lock.rs`: the [`Lock`](lock::Lock) strategy, waiting for it, retry backoff;
//! - `exec.rs`: the execution routines over sqlx, written once;
//! - `history_sql.rs`: the history table's SQL, shape and row decoding;
//! - `postgres.rs`, `mysql.rs`, `sqlite.rs`: the backends.

mod backend;
mod driver;
mod error;
mod exec;
mod history_sql;
pub mod lock;
mod mysql;
mod postgres;
mod settings;
mod sqlite;
mod url;

pub use driver::{Driver, Observed};
pub use error::{ApplyError, Cause, DbError, Failure};
pub use lock::backoff;
pub use settings::{Settings, TableName, parse_duration};
pub use sqlite::missing_file as missing_sqlite_file;
pub use url::{Target, redact, scrub, sqlite_rest};

use crate::dialect::Dialect;

/// One migration to apply.
#[derive(Debug, Clone)]
pub struct Migration<'a> {
    /// Version (fits the history table's BIGINT).
    pub version: i64,
    /// Description.
    pub description: &'a str,
    /// `sha256:<hex>` of the normalised text.
    pub checksum: String,
    /// The normalised text.
    pub sql: &'a str,
    /// Its statements, in order (for statement-by-statement execution).
    pub statements: Vec<&'a str>,
    /// Byte offset of each statement in `sql`.
    pub offsets: Vec<usize>,
    /// The `migrate:allow` suppressions, as JSON.
    pub allows: String,
    /// The deploy phase its file declares (recorded in the history row).
    pub phase: crate::source::directive::Phase,
}

/// The version of the baseline marker row ([`Migration::baseline_marker`]).
pub const MARKER_VERSION: i64 = -1;

impl Migration<'static> {
    /// The row `baseline 0` (and a `baseline --from` that finds nothing applied) records:
    /// nothing of this app is applied yet, and the tables the database already has are not
    /// its own. Version -1, which no file has (a file may have version 0: diesel's setup).
    pub fn baseline_marker() -> Self {
        Migration {
            version: MARKER_VERSION,
            description: "baseline: nothing applied, existing tables are not this app's",
            checksum: "baseline".into(),
            sql: "",
            statements: Vec::new(),
            offsets: Vec::new(),
            allows: "[]".into(),
            phase: crate::source::directive::Phase::Expand,
        }
    }
}

impl Migration<'_> {
    /// 1-based line of statement `index` in the file.
    pub fn line_of(&self, index: usize) -> usize {
        let offset = self.offsets.get(index).copied().unwrap_or(0);
        self.sql[..offset.min(self.sql.len())].matches('\n').count() + 1
    }

    /// `begin` and the file as one text, to open the transaction and run the migration in
    /// one go; just `begin` when the file holds no statement (only comments).
    pub fn after_begin(&self, begin: &str) -> String {
        let text = if self.statements.is_empty() {
            ""
        } else {
            self.sql
        };
        format!("{begin};\n{text}")
    }
}

/// What became of a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Applied now, in this many milliseconds.
    Applied {
        /// Execution time.
        ms: u64,
    },
    /// Another deployer applied it meanwhile (SQLite re-read under the write lock).
    AlreadyApplied,
}

/// How a failed migration was fixed by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Its remaining statements were applied by hand: record it as applied.
    Applied,
    /// Its partial changes were undone by hand: forget the row so `up` runs it again.
    RolledBack,
}

/// Connects to `target`.
pub fn connect(target: &Target, settings: &Settings) -> Result<Box<dyn Driver>, DbError> {
    use driver::SqlxDriver;
    Ok(match target.dialect {
        Dialect::Postgres => Box::new(SqlxDriver::<postgres::Postgres>::connect(target, settings)?),
        Dialect::Mysql => Box::new(SqlxDriver::<mysql::Mysql>::connect(target, settings)?),
        Dialect::Sqlite => Box::new(SqlxDriver::<sqlite::Sqlite>::connect(target, settings)?),
    })
}

/// The tool and version written into `applied_by`.
pub fn applied_by() -> String {
    format!("migrate {}", env!("CARGO_PKG_VERSION"))
}
