//! What one database family supplies to the one driver ([`SqlxDriver`](super::driver)):
//! session set-up and its lock, error classification, catalog queries as SQL text, the
//! transaction style and an optional fast path. Plus the helpers every backend uses to
//! connect and to word errors.

use std::time::Duration;

use sqlx::Connection;
use tokio::runtime::Runtime;

use crate::analyze::ir::QName;
use crate::db::error::{ApplyError, Cause, DbError};
use crate::db::exec::{Guard, Sqlx, TxStyle};
use crate::db::history_sql::HistorySql;
use crate::db::lock::Lock;
use crate::db::settings::{Settings, TableName};
use crate::db::{Migration, Outcome, Target, url};
use crate::dialect::Dialect;

/// What one database family supplies to the driver.
// The futures need not be `Send`: every driver blocks on a single-threaded runtime.
#[allow(async_fn_in_trait)]
pub trait Backend: Sized {
    /// The sqlx database.
    type Db: Sqlx;

    /// Its dialect (quoting, placeholders and types of the history table).
    const DIALECT: Dialect;

    /// The query naming the session's current schema (PostgreSQL) or database (MySQL), which
    /// an unqualified history table lives in; `None` where there is only one (SQLite).
    const CURRENT_SCHEMA: Option<&'static str>;

    /// The schema an unqualified history table always lives in, where it is fixed (SQLite's
    /// `main`: a `TEMP` table of the same name would shadow an unqualified one).
    const FIXED_SCHEMA: Option<&'static str> = None;

    /// Catalog query: a row when the history table exists. Like the other two, bound with
    /// the history table's schema (NULL when unqualified) and its name, in that order.
    const HISTORY_EXISTS: &'static str;

    /// Catalog query: `(name, type)` of each column of the history table, as text.
    const HISTORY_COLUMNS: &'static str;

    /// Catalog query: the database's tables other than the history table, as text.
    const USER_TABLES: &'static str;

    /// Catalog query: a few objects of the database an old app could use (tables, views,
    /// sequences; per backend also types, functions, schemas, routines), other than the
    /// history table, where a migration could have made them (system schemas and
    /// extensions' own objects left out), as text: none means the database holds nothing.
    const RELATIONS: &'static str;

    /// Catalog query: other tables of the history table's schema that have the history
    /// table's shape (another app's `migrate` history), as text.
    const OTHER_HISTORIES: &'static str;

    /// Catalog probes, each bound with a schema (NULL: the current one), a table and a name
    /// (the table again for `PROBE_TABLE`): a row when the table, the column of the table,
    /// or the index exists; the index probe's first column says `valid` or `invalid`.
    const PROBE_TABLE: &'static str;

    /// See [`Backend::PROBE_TABLE`].
    const PROBE_COLUMN: &'static str;

    /// See [`Backend::PROBE_TABLE`].
    const PROBE_INDEX: &'static str;

    /// The query naming this session on the server (a row's `session`), when there is a
    /// server; bound with nothing.
    const SESSION: Option<&'static str>;

    /// A row when the session a history row names is still alive; bound with that session.
    const SESSION_ALIVE: Option<&'static str>;

    /// Adjusts the connect options read from the URL (application name, file creation).
    fn connect_options(options: Options<Self>, _settings: &Settings) -> Options<Self> {
        options
    }

    /// Sets up the migration session just connected with `options` (the settings'
    /// timeouts) and makes the lock for the history table `table` (schema-qualified where
    /// the database has schemas).
    async fn open(
        conn: &mut Conn<Self>,
        options: &Options<Self>,
        target: &Target,
        settings: &Settings,
        table: &TableName,
    ) -> Result<Opened<Self>, DbError>;

    /// What kind of failure `e` is, from the database's codes (connection loss is read
    /// before this is asked).
    fn classify(&self, e: &sqlx::Error) -> Cause;

    /// The message shown for a failure of `cause`; by default the database's own.
    fn explain(&self, _cause: Cause, message: String) -> String {
        message
    }

    /// What goes before each of the engine's own history writes made while a migration runs
    /// statement by statement, so that the limits the migration set for its own statements
    /// (MariaDB's `max_statement_time`) do not stop its progress being recorded.
    fn bookkeeping_prefix(&self) -> Option<&'static str> {
        None
    }

    /// The statement creating the history table's schema, where the database has schemas.
    fn create_schema(_schema: &str) -> Option<String> {
        None
    }

    /// The statement dropping an index a failed `CREATE INDEX CONCURRENTLY` left INVALID,
    /// where the database leaves such indexes (PostgreSQL).
    fn drop_invalid_index(_index: &QName) -> Option<String> {
        None
    }

    /// Whether DML commits together with the progress update in one transaction: true where
    /// every table is transactional. MySQL checks for MyISAM, Aria or MEMORY tables, which
    /// keep a statement's effect when its transaction rolls back.
    async fn transactional_dml(&mut self, _conn: &mut Conn<Self>) -> bool {
        true
    }

    /// What the `reset` statements of [`Opened`] cannot undo after a migration (`ran`): by
    /// default nothing. They run first.
    async fn reset_after(
        &mut self,
        _conn: &mut Conn<Self>,
        _ran: &Ran<'_>,
    ) -> Result<(), sqlx::Error> {
        Ok(())
    }

    /// What opens a backfill batch's transaction: by default the migration's own `BEGIN`
    /// ([`Backend::tx_style`]). MySQL/MariaDB put it at READ COMMITTED, PostgreSQL's default:
    /// at REPEATABLE READ an `INSERT ... SELECT` share-locks every row it reads and an
    /// `UPDATE ... LIMIT` gap-locks what it scans, which deadlocked the app's writes in
    /// tests/recipes.rs.
    const BATCH_BEGIN: Option<&'static str> = None;

    /// How `m`'s transaction is opened, batched and checked: by default a plain `BEGIN`,
    /// one statement per query, no check, no guard.
    async fn tx_style(&mut self, _conn: &mut Conn<Self>, _m: &Migration<'_>) -> TxStyle {
        TxStyle {
            begin: "BEGIN",
            batched: false,
            verify: None,
            guard: Guard::None,
        }
    }

    /// A faster way to apply a migration in a transaction, when the backend has one; `None`
    /// to take the generic path (also after a failure the fast path rolled back, so the
    /// generic path names the failing statement).
    fn apply_fast(&mut self, _fast: FastPath<'_, Self>) -> Option<Result<Outcome, ApplyError>> {
        None
    }
}

/// The migration that ran, for [`Backend::reset_after`].
pub struct Ran<'a> {
    /// The migration.
    pub migration: &'a Migration<'a>,
    /// The temporary tables it created.
    pub temp_tables: &'a [String],
}

/// A backend's connection.
pub type Conn<B> = <<B as Backend>::Db as sqlx::Database>::Connection;

/// A backend's connect options.
pub type Options<B> = <Conn<B> as Connection>::Options;

/// What [`Backend::apply_fast`] works with.
pub struct FastPath<'a, B: Backend> {
    /// The driver's runtime.
    pub rt: &'a Runtime,
    /// The migration session.
    pub conn: &'a mut Conn<B>,
    /// The history table's statements.
    pub sql: &'a HistorySql,
    /// The migration.
    pub migration: &'a Migration<'a>,
    /// How its transaction is opened and checked.
    pub style: &'a TxStyle,
}

/// What [`Backend::open`] returns.
pub struct Opened<B: Backend> {
    /// The backend's state.
    pub backend: B,
    /// The lock strategy.
    pub lock: Box<dyn Lock<B::Db>>,
    /// The statements that put the session back as `open` left it, run after a migration
    /// that may have changed it (`SET`, `USE`, a PRAGMA, a migration run statement by
    /// statement).
    pub reset: Vec<String>,
}

/// `name` quoted for PostgreSQL (and SQLite): each part in double quotes.
pub fn quote_qname(name: &QName) -> String {
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    match &name.schema {
        Some(schema) => format!("{}.{}", q(schema), q(&name.name)),
        None => q(&name.name),
    }
}

/// How long connecting may take before the host is reported unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs a connect future with [`CONNECT_TIMEOUT`]; a failure names the redacted URL.
pub async fn connecting<T>(
    target: &Target,
    connect: impl std::future::Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, DbError> {
    connecting_within(target, CONNECT_TIMEOUT, connect).await
}

/// [`connecting`] with another timeout.
pub async fn connecting_within<T>(
    target: &Target,
    timeout: Duration,
    connect: impl std::future::Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, DbError> {
    let result = match tokio::time::timeout(timeout, connect).await {
        Ok(result) => result,
        Err(_) => Err(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!(
                "no answer within {} s (unreachable host?)",
                timeout.as_secs()
            ),
        ))),
    };
    result.map_err(|e| DbError::Connect {
        url: target.redacted.clone(),
        message: message(&e),
    })
}

/// A readable message for a sqlx error, secrets scrubbed.
pub fn message(e: &sqlx::Error) -> String {
    let text = match e {
        sqlx::Error::Database(db) => {
            let mut text = match db.code() {
                Some(code) => format!("{} (SQLSTATE {code})", db.message()),
                None => db.message().to_string(),
            };
            // PostgreSQL's DETAIL (the key in conflict, the row that fails) and HINT.
            if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                if let Some(detail) = pg.detail() {
                    text.push_str(&format!("; DETAIL: {detail}"));
                }
                if let Some(hint) = pg.hint() {
                    text.push_str(&format!("; HINT: {hint}"));
                }
            }
            text
        }
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::PoolTimedOut => "timed out".into(),
        other => other.to_string(),
    };
    url::scrub(&text)
}

/// A failed query of the engine itself, naming what it was doing.
pub fn query_error(target: &Target, context: &str, e: &sqlx::Error) -> DbError {
    DbError::Query {
        context: context.to_string(),
        url: target.redacted.clone(),
        message: message(e),
    }
}

/// A URL sqlx could not read.
pub fn invalid_url(target: &Target, e: &sqlx::Error) -> DbError {
    DbError::InvalidUrl {
        url: target.redacted.clone(),
        message: message(e),
    }
}

/// Whether `e` means the connection is gone (closed, reset, or the server went away).
pub fn is_connection_loss(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
    )
}

/// This process, as the session of a database without server sessions (SQLite).
pub fn process_session() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    if host.is_empty() {
        format!("pid {}", std::process::id())
    } else {
        format!("pid {} on {host}", std::process::id())
    }
}

/// The history table with its schema (or MySQL database) spelled out, as the session sees
/// it on connecting: every history statement names it so, and nothing a migration does to
/// the session (`SET search_path`, `USE other_db`) can move the history elsewhere.
pub async fn qualified<B: Backend>(
    conn: &mut Conn<B>,
    target: &Target,
    table: &TableName,
) -> Result<TableName, DbError> {
    if let (Some(schema), None) = (B::FIXED_SCHEMA, &table.schema) {
        return Ok(TableName {
            schema: Some(schema.to_string()),
            name: table.name.clone(),
        });
    }
    let (Some(query), None) = (B::CURRENT_SCHEMA, &table.schema) else {
        return Ok(table.clone());
    };
    let schema = B::Db::text(conn, query, &[])
        .await
        .map_err(|e| query_error(target, "reading the current schema", &e))?
        .filter(|s| !s.is_empty());
    let Some(schema) = schema else {
        return Err(DbError::InvalidUrl {
            url: target.redacted.clone(),
            message: format!(
                "it names no database (or schema) for the history table {table}: add one to the URL, or set history_table = \"<schema>.{table}\""
            ),
        });
    };
    Ok(TableName {
        schema: Some(schema),
        name: table.name.clone(),
    })
}

/// A single-threaded runtime for a driver.
pub fn runtime(target: &Target) -> Result<Runtime, DbError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| DbError::Connect {
            url: target.redacted.clone(),
            message: format!("cannot start the I/O runtime: {e}"),
        })
}
