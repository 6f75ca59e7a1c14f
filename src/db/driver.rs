//! The one driver: [`Driver`] is what the engine asks of a database; [`SqlxDriver`] implements
//! it once over sqlx for every database, and a [`Backend`] supplies only what truly differs
//! (session set-up and the lock, error classification, catalog queries, the history DDL, a
//! faster apply path). Adding a database is one new `Backend`; adding a lock strategy is one
//! new [`Lock`].
//!
//! Drivers are synchronous from the outside: each owns a single-threaded tokio runtime and
//! blocks on sqlx. The CLI is sequential, and a synchronous trait stays object-safe.

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::{ConnectOptions, Connection};
use tokio::runtime::Runtime;

use crate::db::error::{ApplyError, Cause, DbError, Failure};
use crate::db::exec::{self, Claim, Sqlx, TxStyle};
use crate::db::history_sql::{self, HistorySql, NewRow, Value};
use crate::db::lock::{self, Lock};
use crate::db::settings::{Settings, TableName};
use crate::db::{Migration, Outcome, Resolution, Target, url};
use crate::dialect::Dialect;
use crate::history::HistoryRow;

/// A connection to one database, executing migrations and keeping their history.
pub trait Driver {
    /// The database.
    fn target(&self) -> &Target;

    /// Takes the migration lock, polling (never a blocking call) until `wait` has passed;
    /// `waiting` is told who holds it (called every few seconds while waiting).
    fn lock(&mut self, wait: Duration, waiting: &mut dyn FnMut(&str)) -> Result<(), DbError>;

    /// Releases the migration lock; an error when it was not held.
    fn unlock(&mut self) -> Result<(), DbError>;

    /// Confirms the lock is still held (its connection may have been terminated).
    fn check_lock(&mut self) -> Result<(), DbError>;

    /// Creates the history table if missing and checks its shape.
    fn ensure_history(&mut self) -> Result<(), DbError>;

    /// The history rows in version order; `None` when the table does not exist.
    fn history(&mut self) -> Result<Option<Vec<HistoryRow>>, DbError>;

    /// Tables of the database other than the history table (to refuse a database that has
    /// a schema but no history: it needs a baseline, not a replay from version 1).
    fn user_tables(&mut self) -> Result<Vec<String>, DbError>;

    /// Applies `m` and writes its history row in one transaction.
    fn apply_in_transaction(&mut self, m: &Migration) -> Result<Outcome, ApplyError>;

    /// Applies `m` statement by statement outside a transaction: a `running` row first,
    /// progress after each statement, `applied` at the end, `failed` with the statement and
    /// error on failure.
    fn apply_stepwise(&mut self, m: &Migration) -> Result<Outcome, ApplyError>;

    /// Records how a failed or interrupted migration was fixed by hand. `file` is the
    /// migration file now (its checksum and SQL are recorded for `Applied`).
    fn resolve(
        &mut self,
        version: i64,
        resolution: Resolution,
        file: Option<&Migration>,
    ) -> Result<(), DbError>;

    /// Records `m` as applied without running it (adopting an existing database).
    fn baseline(&mut self, m: &Migration) -> Result<(), DbError>;
}

/// What one database family supplies to [`SqlxDriver`].
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

    /// Catalog query: a row when the history table exists. Like the other two, bound with
    /// the history table's schema (NULL when unqualified) and its name, in that order.
    const HISTORY_EXISTS: &'static str;

    /// Catalog query: `(name, type)` of each column of the history table, as text.
    const HISTORY_COLUMNS: &'static str;

    /// Catalog query: the database's tables other than the history table, as text.
    const USER_TABLES: &'static str;

    /// The statement creating the history table's schema, where the database has schemas.
    fn create_schema(_schema: &str) -> Option<String> {
        None
    }

    /// How `m`'s transaction is opened, batched and checked: by default a plain `BEGIN`,
    /// one statement per query, no check.
    async fn tx_style(&mut self, _conn: &mut Conn<Self>, _m: &Migration<'_>) -> TxStyle {
        TxStyle {
            begin: "BEGIN",
            batched: false,
            verify: None,
        }
    }

    /// A faster way to apply a migration in a transaction, when the backend has one; `None`
    /// to take the generic path (also after a failure the fast path rolled back, so the
    /// generic path names the failing statement).
    fn apply_fast(&mut self, _fast: FastPath<'_, Self>) -> Option<Result<Outcome, ApplyError>> {
        None
    }

    /// Puts the session back after a migration that ran outside a transaction.
    fn after_outside_transaction(&mut self, _m: &Migration) -> Option<&'static str> {
        None
    }
}

/// A backend's connection.
pub type Conn<B> = <<B as Backend>::Db as sqlx::Database>::Connection;

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

/// A backend's connect options.
pub type Options<B> = <Conn<B> as Connection>::Options;

/// What [`Backend::open`] returns: the backend and its lock.
pub struct Opened<B: Backend> {
    /// The backend's state.
    pub backend: B,
    /// The lock strategy.
    pub lock: Box<dyn Lock<B::Db>>,
}

/// The driver for every database, over a [`Backend`].
pub struct SqlxDriver<B: Backend> {
    rt: Runtime,
    target: Target,
    /// `None` only while being closed in `Drop`.
    conn: Option<Conn<B>>,
    backend: B,
    lock: Box<dyn Lock<B::Db>>,
    table: TableName,
    sql: HistorySql,
    lock_wait: Duration,
}

impl<B: Backend> SqlxDriver<B> {
    /// Connects to `target`.
    pub fn connect(target: &Target, settings: &Settings) -> Result<Self, DbError> {
        let rt = runtime(target)?;
        let (conn, opened) = rt.block_on(async {
            let options =
                Options::<B>::from_str(&target.sqlx_url()).map_err(|e| invalid_url(target, &e))?;
            let options = B::connect_options(options, settings);
            let mut conn = connecting(target, options.connect()).await?;
            let table = qualified::<B>(&mut conn, target, &settings.history_table).await?;
            let opened = B::open(&mut conn, &options, target, settings, &table).await?;
            Ok::<_, DbError>((conn, (opened, table)))
        })?;
        let (opened, qualified) = opened;
        Ok(SqlxDriver {
            rt,
            target: target.clone(),
            conn: Some(conn),
            backend: opened.backend,
            lock: opened.lock,
            sql: HistorySql::new(B::DIALECT, &qualified),
            table: settings.history_table.clone(),
            lock_wait: settings.lock_wait,
        })
    }

    /// Runs `f` on the migration session and waits for it.
    fn run<'a, T, F>(&'a mut self, f: impl FnOnce(&'a mut Conn<B>) -> F) -> T
    where
        F: std::future::Future<Output = T> + 'a,
    {
        let conn = self.conn.as_mut().expect("open connection");
        self.rt.block_on(f(conn))
    }

    /// Runs one of the backend's catalog queries, bound with the history table's schema and
    /// name; the first `columns` columns of each row.
    fn catalog(&mut self, sql: &str, columns: usize) -> Result<Vec<Vec<String>>, sqlx::Error> {
        let values = [
            Value::Text(self.table.schema.clone()),
            Value::Text(Some(self.table.name.clone())),
        ];
        self.run(|c| B::Db::texts(c, sql, &values, columns))
    }

    fn query_error(&self, context: &str, e: &sqlx::Error) -> DbError {
        query_error(&self.target, context, e)
    }

    /// Reads `e` as a failure at `statement`.
    fn failure(backend: &B, e: &sqlx::Error, statement: Option<usize>) -> Failure {
        let cause = if is_connection_loss(e) {
            Cause::Connection
        } else {
            backend.classify(e)
        };
        Failure {
            cause,
            statement,
            message: backend.explain(cause, message(e)),
        }
    }
}

impl<B: Backend> Drop for SqlxDriver<B> {
    fn drop(&mut self) {
        // Close explicitly: SQLite checkpoints its WAL, servers see a clean goodbye.
        if let Some(conn) = self.conn.take() {
            let _ = self.rt.block_on(conn.close());
        }
    }
}

impl<B: Backend> Driver for SqlxDriver<B> {
    fn target(&self) -> &Target {
        &self.target
    }

    fn lock(&mut self, wait: Duration, waiting: &mut dyn FnMut(&str)) -> Result<(), DbError> {
        let conn = self.conn.as_mut().expect("open connection");
        lock::acquire(
            self.lock.as_mut(),
            &self.rt,
            conn,
            &self.target,
            wait,
            waiting,
        )
    }

    fn unlock(&mut self) -> Result<(), DbError> {
        let conn = self.conn.as_mut().expect("open connection");
        self.lock.release(&self.rt, conn)
    }

    fn check_lock(&mut self) -> Result<(), DbError> {
        let conn = self.conn.as_mut().expect("open connection");
        self.lock.check(&self.rt, conn)
    }

    fn ensure_history(&mut self) -> Result<(), DbError> {
        if let Some(create) = self.table.schema.as_deref().and_then(B::create_schema) {
            let ran = self.run(|c| B::Db::raw(c, &create));
            ran.map_err(|e| self.query_error("creating the history schema", &e))?;
        }
        let create = self.sql.create.clone();
        let ran = self.run(|c| B::Db::raw(c, &create));
        ran.map_err(|e| self.query_error("creating the history table", &e))?;
        let columns = self.catalog(B::HISTORY_COLUMNS, 2);
        let columns =
            columns.map_err(|e| self.query_error("reading the history table's columns", &e))?;
        let columns: Vec<(String, String)> = columns
            .into_iter()
            .map(|mut row| (row.remove(0), row.remove(0)))
            .collect();
        history_sql::check_shape(&columns).map_err(|problem| self.shape(problem))
    }

    fn history(&mut self) -> Result<Option<Vec<HistoryRow>>, DbError> {
        let exists = self.catalog(B::HISTORY_EXISTS, 1);
        let exists = exists.map_err(|e| self.query_error("looking for the history table", &e))?;
        if exists.is_empty() {
            return Ok(None);
        }
        let select = self.sql.select.clone();
        let rows = self.run(|c| B::Db::history(c, &select));
        rows.map(Some)
            .map_err(|problem| self.shape(url::scrub(&problem)))
    }

    fn user_tables(&mut self) -> Result<Vec<String>, DbError> {
        let tables = self.catalog(B::USER_TABLES, 1);
        let tables = tables.map_err(|e| self.query_error("listing tables", &e))?;
        Ok(tables.into_iter().flatten().collect())
    }

    fn apply_in_transaction(&mut self, m: &Migration) -> Result<Outcome, ApplyError> {
        let conn = self.conn.as_mut().expect("open connection");
        let style = self.rt.block_on(self.backend.tx_style(conn, m));
        let fast = FastPath {
            rt: &self.rt,
            conn: &mut *conn,
            sql: &self.sql,
            migration: m,
            style: &style,
        };
        if let Some(outcome) = self.backend.apply_fast(fast) {
            return outcome;
        }
        let backend = &self.backend;
        let classify = |e: &sqlx::Error, s| Self::failure(backend, e, s);
        self.rt.block_on(exec::transactional::<B::Db>(
            conn, style, &self.sql, m, &classify,
        ))
    }

    fn apply_stepwise(&mut self, m: &Migration) -> Result<Outcome, ApplyError> {
        let started = Instant::now();
        let conn = self.conn.as_mut().expect("open connection");
        let begin = self.rt.block_on(self.backend.tx_style(conn, m)).begin;
        let backend = &self.backend;
        let classify = |e: &sqlx::Error, s| Self::failure(backend, e, s);
        loop {
            let claim = self
                .rt
                .block_on(exec::claim::<B::Db>(conn, begin, &self.sql, m));
            match claim {
                Ok(Claim::Ours) => break,
                Ok(Claim::Applied) => return Ok(Outcome::AlreadyApplied),
                Ok(Claim::Taken)
                    if !self.lock.exclusive() && started.elapsed() < self.lock_wait =>
                {
                    std::thread::sleep(Duration::from_millis(250));
                }
                Ok(Claim::Taken) => {
                    return Err(ApplyError::Claimed {
                        message: "it has been marked running by another deployer for longer than lock_wait (or that deployer was interrupted: see `migrate status`)".into(),
                    });
                }
                Err(e) => return Err(ApplyError::RolledBack(classify(&e, None))),
            }
        }
        let outcome = self.rt.block_on(exec::stepwise::<B::Db>(
            conn, &self.sql, m, started, &classify,
        ));
        let backend = &mut self.backend;
        if let Some(reset) = backend.after_outside_transaction(m) {
            let _ = self.rt.block_on(B::Db::raw(conn, reset));
        }
        outcome
    }

    fn resolve(
        &mut self,
        version: i64,
        resolution: Resolution,
        file: Option<&Migration>,
    ) -> Result<(), DbError> {
        let conn = self.conn.as_mut().expect("open connection");
        let rows = self.rt.block_on(exec::resolve::<B::Db>(
            conn, &self.sql, version, resolution, file,
        ));
        let rows = rows.map_err(|e| self.query_error("resolving the migration", &e))?;
        if rows == 0 {
            return Err(DbError::Query {
                context: format!("resolving migration {version}"),
                url: self.target.redacted.clone(),
                message: "it has no failed or running history row (see `migrate status`)".into(),
            });
        }
        Ok(())
    }

    fn baseline(&mut self, m: &Migration) -> Result<(), DbError> {
        let insert = self.sql.insert.clone();
        let values = NewRow::baseline(m).values();
        let ran = self.run(|c| B::Db::execute(c, &insert, &values));
        ran.map(|_| ())
            .map_err(|e| self.query_error("recording the baseline", &e))
    }
}

impl<B: Backend> SqlxDriver<B> {
    fn shape(&self, problem: String) -> DbError {
        DbError::HistoryShape {
            table: self.table.to_string(),
            url: self.target.redacted.clone(),
            problem,
        }
    }
}

/// The history table with its schema (or MySQL database) spelled out, as the session sees
/// it on connecting: every history statement names it so, and nothing a migration does to
/// the session (`SET search_path`, `USE other_db`) can move the history elsewhere.
async fn qualified<B: Backend>(
    conn: &mut Conn<B>,
    target: &Target,
    table: &TableName,
) -> Result<TableName, DbError> {
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

/// Whether `e` means the connection is gone (closed, reset, or the server went away).
fn is_connection_loss(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
    )
}

/// How long connecting may take before the host is reported unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs a connect future with [`CONNECT_TIMEOUT`]; a failure names the redacted URL.
pub async fn connecting<T>(
    target: &Target,
    connect: impl std::future::Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, DbError> {
    let result = match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(result) => result,
        Err(_) => Err(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!(
                "no answer within {} s (unreachable host?)",
                CONNECT_TIMEOUT.as_secs()
            ),
        ))),
    };
    result.map_err(|e| DbError::Connect {
        url: target.redacted.clone(),
        message: message(&e),
    })
}

/// A single-threaded runtime for a driver.
fn runtime(target: &Target) -> Result<Runtime, DbError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| DbError::Connect {
            url: target.redacted.clone(),
            message: format!("cannot start the I/O runtime: {e}"),
        })
}

/// A readable message for a sqlx error, secrets scrubbed.
pub fn message(e: &sqlx::Error) -> String {
    let text = match e {
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => format!("{} (SQLSTATE {code})", db.message()),
            None => db.message().to_string(),
        },
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
