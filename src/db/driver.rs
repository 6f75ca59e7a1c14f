//! The one driver: [`Driver`] is what the engine asks of a database; [`SqlxDriver`] implements
//! it once over sqlx for every database, and a [`Backend`] supplies only what truly differs.
//! Adding a database is one new `Backend`; adding a lock strategy is one new
//! [`Lock`](crate::db::lock::Lock).
//!
//! Drivers are synchronous from the outside: each owns a single-threaded tokio runtime and
//! blocks on sqlx. The CLI is sequential, and a synchronous trait stays object-safe.

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::{ConnectOptions, Connection};
use tokio::runtime::Runtime;

use crate::analyze::ir::QName;
use crate::analyze::step::Effect;
use crate::db::backend::{
    Backend, Conn, FastPath, Opened, Options, Ran, connecting, invalid_url, is_connection_loss,
    message, process_session, qualified, query_error, runtime,
};
use crate::db::error::{ApplyError, Cause, DbError, Failure};
use crate::db::exec::{self, Claim, Sqlx};
use crate::db::history_sql::{self, ADDED_COLUMNS, HistorySql, NewRow, Value};
use crate::db::lock::{self, Lock};
use crate::db::settings::{Settings, TableName};
use crate::db::{Migration, Outcome, Resolution, Target, url};
use crate::history::{BackfillProgress, HistoryRow};

/// What the catalog says about an [`Effect`]'s object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observed {
    /// It is not there.
    Absent,
    /// It is there (an index: valid).
    Present,
    /// An index that exists but is INVALID (PostgreSQL, after a failed `CONCURRENTLY`).
    Invalid,
}

/// A connection to one database, executing migrations and keeping their history.
pub trait Driver {
    /// The database.
    fn target(&self) -> &Target;

    /// This deployer's database session, as `running` rows record it.
    fn session(&self) -> &str;

    /// Takes the migration lock, polling (never a blocking call) until `wait` has passed;
    /// `waiting` is told who holds it (called every few seconds while waiting).
    fn lock(&mut self, wait: Duration, waiting: &mut dyn FnMut(&str)) -> Result<(), DbError>;

    /// Releases the migration lock; an error when it was not held.
    fn unlock(&mut self) -> Result<(), DbError>;

    /// Confirms the lock is still held (a migration may have released it, or its connection
    /// may be gone).
    fn check_lock(&mut self) -> Result<(), DbError>;

    /// Creates the history table if missing, checks its shape, adds columns of later
    /// releases to an older table.
    fn ensure_history(&mut self) -> Result<(), DbError>;

    /// The history rows in version order; `None` when the table does not exist.
    fn history(&mut self) -> Result<Option<Vec<HistoryRow>>, DbError>;

    /// Tables of the database other than the history table (to refuse a database that has
    /// a schema but no history: it needs a baseline, not a replay from version 1).
    fn user_tables(&mut self) -> Result<Vec<String>, DbError>;

    /// Whether the database holds nothing an old app could use besides the history table
    /// (the backend's `RELATIONS`: tables, views, sequences, and on PostgreSQL types,
    /// functions and schemas, on MariaDB routines and events; extensions' own objects do
    /// not count).
    fn holds_nothing(&mut self) -> Result<bool, DbError>;

    /// Other apps' `migrate` history tables in the history table's schema, each with the SQL
    /// of its applied migrations in order (to tell their tables from tables without history).
    fn other_histories(&mut self) -> Result<Vec<(String, Vec<String>)>, DbError>;

    /// Whether the database session a history row names is still alive; `None` when the
    /// database cannot tell.
    fn session_alive(&mut self, session: &str) -> Result<Option<bool>, DbError>;

    /// Reads the catalog for `effect`'s object.
    fn observe(&mut self, effect: &Effect) -> Result<Observed, DbError>;

    /// Applies `m` and writes its history row in one transaction.
    fn apply_in_transaction(&mut self, m: &Migration) -> Result<Outcome, ApplyError>;

    /// Claims `m` for statement-by-statement execution with a `running` row holding this
    /// deployer's session; `AlreadyApplied` when another deployer applied it meanwhile.
    fn claim(&mut self, m: &Migration) -> Result<Outcome, ApplyError>;

    /// Takes over the `running` row of an interrupted deployer, to resume `m` at statement
    /// `from`.
    fn take_over(&mut self, m: &Migration, from: usize) -> Result<(), DbError>;

    /// Runs statement `i` of a claimed migration and records its progress: in one
    /// transaction with it when `atomic`, else with the row saying it is in flight first.
    fn step(&mut self, m: &Migration, i: usize, atomic: bool) -> Result<(), Failure>;

    /// Marks a claimed migration applied after `ms` milliseconds.
    fn finish(&mut self, m: &Migration, ms: u64) -> Result<(), Failure>;

    /// Runs one batch of backfill statement `i` of a claimed migration with its progress
    /// (`before` plus the batch) in one transaction: the rows it changed and the progress
    /// recorded; a batch that changes no row (or the one run of a statement that is not a
    /// data change: `once`) moves the row past the statement.
    fn batch(
        &mut self,
        m: &Migration,
        i: usize,
        before: BackfillProgress,
        once: bool,
    ) -> Result<(u64, BackfillProgress), Failure>;

    /// Records statement `i` of a claimed migration as failed; whether the row was written.
    fn record_failure(&mut self, m: &Migration, i: usize, failure: &Failure) -> bool;

    /// Drops an index a failed `CREATE INDEX CONCURRENTLY` of the engine left INVALID, where
    /// the database leaves such indexes; `Ok(false)` where it does not.
    fn drop_invalid_index(&mut self, index: &QName) -> Result<bool, Failure>;

    /// Puts the session back as it was after connecting (timeouts, search path, current
    /// database, session variables), after a migration that may have changed it.
    /// `m` (which created the temporary tables `temp_tables`) is the migration that ran.
    fn reset_session(&mut self, m: &Migration, temp_tables: &[String]) -> Result<(), DbError>;

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

    /// Deletes the applied row of `version` (a repeatable migration whose text changed, about
    /// to be applied again under the lock).
    fn forget(&mut self, version: i64) -> Result<(), DbError>;

    /// Rows of a read-only query of another tool's history table, each column as text.
    fn foreign_rows(&mut self, sql: &str, columns: usize) -> Result<Vec<Vec<String>>, DbError>;
}

/// How long connecting retries while the database is too crowded to give the moment's
/// second connection (DbError::Crowded).
const CROWDED_FOR: Duration = Duration::from_secs(60);

/// The driver for every database, over a [`Backend`].
pub struct SqlxDriver<B: Backend> {
    rt: Runtime,
    target: Target,
    /// `None` only while being closed in `Drop`.
    conn: Option<Conn<B>>,
    backend: B,
    lock: Box<dyn Lock<B::Db>>,
    /// The history table as configured (for messages and creating its schema).
    table: TableName,
    /// The history table with the session's schema spelled out (for every query).
    qualified: TableName,
    sql: HistorySql,
    session: String,
    reset: Vec<String>,
    lock_wait: Duration,
}

impl<B: Backend> SqlxDriver<B> {
    /// Connects to `target`.
    pub fn connect(target: &Target, settings: &Settings) -> Result<Self, DbError> {
        let rt = runtime(target)?;
        // A crowded pool (see DbError::Crowded): let go and try again with jitter.
        let started = Instant::now();
        let mut attempt = 0;
        let connected = loop {
            match rt.block_on(Self::open(target, settings)) {
                Err(DbError::Crowded { .. }) if started.elapsed() < CROWDED_FOR => {
                    std::thread::sleep(lock::backoff(attempt.min(3)));
                    attempt += 1;
                }
                other => break other?,
            }
        };
        let (conn, opened, qualified, session) = connected;
        let mut sql = HistorySql::new(B::DIALECT, &qualified);
        if let Some(prefix) = opened.backend.bookkeeping_prefix() {
            sql.exempt(prefix);
        }
        Ok(SqlxDriver {
            rt,
            target: target.clone(),
            conn: Some(conn),
            backend: opened.backend,
            lock: opened.lock,
            sql,
            table: settings.history_table.clone(),
            qualified,
            session,
            reset: opened.reset,
            lock_wait: settings.lock_wait,
        })
    }

    /// Connects, sets up the session and reads what the driver needs.
    async fn open(
        target: &Target,
        settings: &Settings,
    ) -> Result<(Conn<B>, Opened<B>, TableName, String), DbError> {
        {
            let options =
                Options::<B>::from_str(&target.sqlx_url()).map_err(|e| invalid_url(target, &e))?;
            let options = B::connect_options(options, settings);
            let mut conn = connecting(target, options.connect()).await?;
            let table = qualified::<B>(&mut conn, target, &settings.history_table).await?;
            let opened = B::open(&mut conn, &options, target, settings, &table).await?;
            let session = match B::SESSION {
                Some(query) => B::Db::text(&mut conn, query, &[])
                    .await
                    .map_err(|e| query_error(target, "reading the session id", &e))?
                    .unwrap_or_default(),
                None => process_session(),
            };
            Ok::<_, DbError>((conn, opened, table, session))
        }
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
    fn catalog(&mut self, sql: &str, columns: usize) -> Result<Vec<Vec<String>>, DbError> {
        let values = [
            Value::Text(self.qualified.schema.clone()),
            Value::Text(Some(self.qualified.name.clone())),
        ];
        let rows = self.run(|c| B::Db::texts(c, sql, &values, columns));
        rows.map_err(|e| self.query_error("reading the catalog", &e))
    }

    /// The history table's `(name, type)` columns, its shape checked; which columns of
    /// [`ADDED_COLUMNS`] it has, in that order.
    fn columns(&mut self) -> Result<Vec<bool>, DbError> {
        let columns: Vec<(String, String)> = self
            .catalog(B::HISTORY_COLUMNS, 2)?
            .into_iter()
            .map(|mut row| (row.remove(0), row.remove(0)))
            .collect();
        history_sql::check_shape(&columns).map_err(|problem| self.shape(problem))?;
        Ok(ADDED_COLUMNS
            .iter()
            .map(|a| columns.iter().any(|(n, _)| n.eq_ignore_ascii_case(a)))
            .collect())
    }

    /// A failed query of the engine itself, worded by the backend (SQLite's busy timeout
    /// names the `lock_wait` setting).
    fn query_error(&self, context: &str, e: &sqlx::Error) -> DbError {
        let failure = Self::failure(&self.backend, e, None);
        DbError::Query {
            context: context.to_string(),
            url: self.target.redacted.clone(),
            message: failure.message,
        }
    }

    fn shape(&self, problem: String) -> DbError {
        DbError::HistoryShape {
            table: self.table.to_string(),
            url: self.target.redacted.clone(),
            problem,
        }
    }

    /// Reads `e` as a failure at `statement`.
    fn failure(backend: &B, e: &sqlx::Error, statement: Option<usize>) -> Failure {
        let cause = if is_connection_loss(e) {
            Cause::Connection
        } else {
            backend.classify(e)
        };
        let message = match cause {
            Cause::Connection => {
                format!("the connection to the database was lost ({})", message(e))
            }
            _ => message(e),
        };
        Failure {
            cause,
            statement,
            message: backend.explain(cause, message),
        }
    }

    /// The `BEGIN` of this backend's transactions for `m`.
    fn begin(&mut self, m: &Migration) -> &'static str {
        let conn = self.conn.as_mut().expect("open connection");
        self.rt.block_on(self.backend.tx_style(conn, m)).begin
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

    fn session(&self) -> &str {
        &self.session
    }

    fn lock(&mut self, wait: Duration, waiting: &mut dyn FnMut(&str)) -> Result<(), DbError> {
        let conn = self.conn.as_mut().expect("open connection");
        let lock = self.lock.as_mut();
        lock::acquire(lock, &self.rt, conn, &self.target, wait, waiting)
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
        let present = self.columns()?;
        for (add, _) in self
            .sql
            .add_columns
            .clone()
            .into_iter()
            .zip(present)
            .filter(|(_, present)| !present)
        {
            let ran = self.run(|c| B::Db::raw(c, &add));
            ran.map_err(|e| self.query_error("adding a column to the history table", &e))?;
        }
        Ok(())
    }

    fn history(&mut self) -> Result<Option<Vec<HistoryRow>>, DbError> {
        if self.catalog(B::HISTORY_EXISTS, 1)?.is_empty() {
            return Ok(None);
        }
        let present = self.columns()?;
        let select = self.sql.select(&present);
        let rows = self.run(|c| B::Db::history(c, &select));
        rows.map(Some)
            .map_err(|problem| self.shape(url::scrub(&problem)))
    }

    fn user_tables(&mut self) -> Result<Vec<String>, DbError> {
        Ok(self
            .catalog(B::USER_TABLES, 1)?
            .into_iter()
            .flatten()
            .collect())
    }

    fn holds_nothing(&mut self) -> Result<bool, DbError> {
        Ok(self.catalog(B::RELATIONS, 1)?.is_empty())
    }

    fn other_histories(&mut self) -> Result<Vec<(String, Vec<String>)>, DbError> {
        let mut found = Vec::new();
        for name in self.catalog(B::OTHER_HISTORIES, 1)?.into_iter().flatten() {
            let Ok(table) = TableName::parse(&name) else {
                continue;
            };
            let table = TableName {
                schema: self.qualified.schema.clone(),
                ..table
            };
            let select = format!(
                "SELECT sql_text FROM {} WHERE state = 'applied' ORDER BY version",
                table.quoted(B::DIALECT)
            );
            let rows = self.run(|c| B::Db::texts(c, &select, &[], 1));
            // A table of that shape that cannot be read is not a history we know.
            let Ok(rows) = rows else { continue };
            found.push((name, rows.into_iter().flatten().collect()));
        }
        Ok(found)
    }

    fn session_alive(&mut self, session: &str) -> Result<Option<bool>, DbError> {
        let Some(query) = B::SESSION_ALIVE else {
            return Ok(None);
        };
        let values = [Value::Text(Some(session.to_string()))];
        let rows = self.run(|c| B::Db::texts(c, query, &values, 1));
        let rows = rows.map_err(|e| self.query_error("looking for the session", &e))?;
        Ok(Some(!rows.is_empty()))
    }

    fn observe(&mut self, effect: &Effect) -> Result<Observed, DbError> {
        let (query, schema, table, name) = match effect {
            Effect::Table { table, .. } => {
                (B::PROBE_TABLE, &table.schema, Some(table), &table.name)
            }
            Effect::Column { table, column, .. } => {
                (B::PROBE_COLUMN, &table.schema, Some(table), column)
            }
            Effect::Index { table, name, .. } => {
                (B::PROBE_INDEX, &name.schema, table.as_ref(), &name.name)
            }
        };
        let values = [
            Value::Text(schema.clone()),
            Value::Text(table.map(|t| t.name.clone())),
            Value::Text(Some(name.clone())),
        ];
        let rows = self.run(|c| B::Db::texts(c, query, &values, 1));
        let rows = rows.map_err(|e| self.query_error("reading the catalog", &e))?;
        Ok(match rows.first().and_then(|r| r.first()) {
            None => Observed::Absent,
            Some(state) if state == "invalid" => Observed::Invalid,
            Some(_) => Observed::Present,
        })
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

    fn claim(&mut self, m: &Migration) -> Result<Outcome, ApplyError> {
        let started = Instant::now();
        let begin = self.begin(m);
        let exclusive = self.lock.exclusive();
        loop {
            let conn = self.conn.as_mut().expect("open connection");
            let claim = exec::claim::<B::Db>(conn, begin, &self.sql, m, &self.session);
            match self.rt.block_on(claim) {
                Ok(Claim::Ours) => return Ok(Outcome::Applied { ms: 0 }),
                Ok(Claim::Applied) => return Ok(Outcome::AlreadyApplied),
                // Without an exclusive lock another live deployer may hold the claim.
                Ok(Claim::Taken) if !exclusive && started.elapsed() < self.lock_wait => {
                    std::thread::sleep(Duration::from_millis(250));
                }
                Ok(Claim::Taken) => {
                    return Err(ApplyError::Claimed {
                        message: "another deployer's row claims it (see `migrate status`)".into(),
                    });
                }
                Err(e) => {
                    return Err(ApplyError::RolledBack(Self::failure(
                        &self.backend,
                        &e,
                        None,
                    )));
                }
            }
        }
    }

    fn take_over(&mut self, m: &Migration, from: usize) -> Result<(), DbError> {
        let conn = self.conn.as_mut().expect("open connection");
        let took = exec::take_over::<B::Db>(conn, &self.sql, m, &self.session, from);
        let rows = self
            .rt
            .block_on(took)
            .map_err(|e| self.query_error("taking over the interrupted migration", &e))?;
        if rows == 0 {
            return Err(DbError::Query {
                context: format!("resuming migration {}", m.version),
                url: self.target.redacted.clone(),
                message: "its history row is no longer `running` (another deployer?)".into(),
            });
        }
        Ok(())
    }

    fn step(&mut self, m: &Migration, i: usize, atomic: bool) -> Result<(), Failure> {
        let begin = self.begin(m);
        let conn = self.conn.as_mut().expect("open connection");
        // A table that ignores transactions keeps the statement's effect without its progress.
        let atomic = atomic && self.rt.block_on(self.backend.transactional_dml(conn));
        let backend = &self.backend;
        let classify = |e: &sqlx::Error, s| Self::failure(backend, e, s);
        let step = exec::step::<B::Db>(conn, begin, &self.sql, m, i, atomic, &classify);
        self.rt.block_on(step)
    }

    fn batch(
        &mut self,
        m: &Migration,
        i: usize,
        before: BackfillProgress,
        once: bool,
    ) -> Result<(u64, BackfillProgress), Failure> {
        let begin = B::BATCH_BEGIN.unwrap_or_else(|| self.begin(m));
        let conn = self.conn.as_mut().expect("open connection");
        let atomic = self.rt.block_on(self.backend.transactional_dml(conn));
        let backend = &self.backend;
        let classify = |e: &sqlx::Error, s| Self::failure(backend, e, s);
        let batch = exec::batch::<B::Db>(
            conn, begin, &self.sql, m, i, before, once, atomic, &classify,
        );
        self.rt.block_on(batch)
    }

    fn finish(&mut self, m: &Migration, ms: u64) -> Result<(), Failure> {
        let conn = self.conn.as_mut().expect("open connection");
        let finished = self
            .rt
            .block_on(exec::finish::<B::Db>(conn, &self.sql, m, ms));
        finished.map_err(|e| Self::failure(&self.backend, &e, None))
    }

    fn record_failure(&mut self, m: &Migration, i: usize, failure: &Failure) -> bool {
        let conn = self.conn.as_mut().expect("open connection");
        let recorded = exec::record_failure::<B::Db>(conn, &self.sql, m, i, failure);
        self.rt.block_on(recorded)
    }

    fn drop_invalid_index(&mut self, index: &QName) -> Result<bool, Failure> {
        let Some(drop) = B::drop_invalid_index(index) else {
            return Ok(false);
        };
        let ran = self.run(|c| B::Db::raw(c, &drop));
        ran.map(|()| true)
            .map_err(|e| Self::failure(&self.backend, &e, None))
    }

    fn reset_session(&mut self, m: &Migration, temp_tables: &[String]) -> Result<(), DbError> {
        let conn = self.conn.as_mut().expect("open connection");
        let ran = Ran {
            migration: m,
            temp_tables,
        };
        let reset = async {
            for statement in &self.reset {
                B::Db::raw(conn, statement).await?;
            }
            self.backend.reset_after(conn, &ran).await
        };
        let done = self.rt.block_on(reset);
        done.map_err(|e| self.query_error("resetting the session", &e))
    }

    fn resolve(
        &mut self,
        version: i64,
        resolution: Resolution,
        file: Option<&Migration>,
    ) -> Result<(), DbError> {
        let conn = self.conn.as_mut().expect("open connection");
        let resolve = exec::resolve::<B::Db>(conn, &self.sql, version, resolution, file);
        let rows = self.rt.block_on(resolve);
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

    fn forget(&mut self, version: i64) -> Result<(), DbError> {
        let forget = self.sql.forget.clone();
        let values = [Value::Int(Some(version))];
        let ran = self.run(|c| B::Db::execute(c, &forget, &values));
        ran.map(|_| ())
            .map_err(|e| self.query_error("forgetting the repeatable migration's old row", &e))
    }

    fn foreign_rows(&mut self, sql: &str, columns: usize) -> Result<Vec<Vec<String>>, DbError> {
        let rows = self.run(|c| B::Db::texts(c, sql, &[], columns));
        rows.map_err(|e| self.query_error("reading the other tool's history table", &e))
    }
}
