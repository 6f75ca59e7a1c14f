//! The execution routines every dialect shares, written once: applying in a transaction with
//! the history row, claiming and applying statement by statement with recorded progress,
//! reading history, resolving, recording a baseline.
//!
//! They need four things of a sqlx database, said once in the [`Sqlx`] trait (implemented for
//! PostgreSQL, MySQL and SQLite by one macro), so no routine restates sqlx's `Encode`/`Type`
//! bounds.

use std::time::Instant;

use sqlx::AssertSqlSafe;

use crate::db::error::{ApplyError, Cause, Failure};
use crate::db::history_sql::{self, HistorySql, NewRow, Value};
use crate::db::{Migration, Outcome, Resolution, applied_by};
use crate::history::{HistoryRow, RowState};
use crate::utc::Utc;

/// What the execution routines need of a sqlx database.
// The futures need not be `Send`: every driver blocks on a single-threaded runtime.
#[allow(async_fn_in_trait)]
pub trait Sqlx: sqlx::Database {
    /// Runs `sql` (any number of statements, no bound values) through the simple protocol.
    async fn raw(conn: &mut Self::Connection, sql: &str) -> Result<(), sqlx::Error>;

    /// Runs the single statement `sql` with `values` bound in order; the rows it affected.
    async fn execute(
        conn: &mut Self::Connection,
        sql: &str,
        values: &[Value],
    ) -> Result<u64, sqlx::Error>;

    /// The first column of the first row of `sql` (bound `values`) as text, if any row.
    async fn text(
        conn: &mut Self::Connection,
        sql: &str,
        values: &[Value],
    ) -> Result<Option<String>, sqlx::Error> {
        let rows = Self::texts(conn, sql, values, 1).await?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next()))
    }

    /// Every row of `sql` (bound `values`), its first `columns` columns as text (NULL: empty).
    async fn texts(
        conn: &mut Self::Connection,
        sql: &str,
        values: &[Value],
        columns: usize,
    ) -> Result<Vec<Vec<String>>, sqlx::Error>;

    /// Every row of [`HistorySql::select`], decoded; an error text names what is unreadable.
    async fn history(conn: &mut Self::Connection, sql: &str) -> Result<Vec<HistoryRow>, String>;
}

/// `sql` as a query of `$db` with `values` bound in order.
macro_rules! bound {
    ($db:ty, $sql:expr, $values:expr) => {{
        let mut query = sqlx::query::<$db>(AssertSqlSafe($sql.to_string()));
        for value in $values {
            query = match value {
                Value::Int(i) => query.bind(*i),
                Value::Text(t) => query.bind(t.clone()),
            };
        }
        query
    }};
}

macro_rules! impl_sqlx {
    ($($db:ty),*) => {$(
        impl Sqlx for $db {
            async fn raw(conn: &mut Self::Connection, sql: &str) -> Result<(), sqlx::Error> {
                sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
                    .execute(&mut *conn)
                    .await
                    .map(|_| ())
            }

            async fn execute(
                conn: &mut Self::Connection,
                sql: &str,
                values: &[Value],
            ) -> Result<u64, sqlx::Error> {
                let query = bound!($db, sql, values);
                Ok(query.execute(&mut *conn).await?.rows_affected())
            }

            async fn texts(
                conn: &mut Self::Connection,
                sql: &str,
                values: &[Value],
                columns: usize,
            ) -> Result<Vec<Vec<String>>, sqlx::Error> {
                use sqlx::Row as _;
                let rows = bound!($db, sql, values).fetch_all(&mut *conn).await?;
                rows.iter()
                    .map(|row| {
                        (0..columns)
                            .map(|i| {
                                row.try_get::<Option<String>, _>(i)
                                    .map(Option::unwrap_or_default)
                            })
                            .collect()
                    })
                    .collect()
            }

            async fn history(
                conn: &mut Self::Connection,
                sql: &str,
            ) -> Result<Vec<HistoryRow>, String> {
                let rows = sqlx::query::<$db>(AssertSqlSafe(sql.to_string()))
                    .fetch_all(&mut *conn)
                    .await
                    .map_err(|e| format!("cannot be read: {e}"))?;
                rows.iter().map(history_sql::decode).collect()
            }
        }
    )*};
}

impl_sqlx!(sqlx::Postgres, sqlx::MySql, sqlx::Sqlite);

/// Turns a database error into a [`Failure`] at statement `statement` (dialect-specific codes).
pub type Classify<'a> = &'a dyn Fn(&sqlx::Error, Option<usize>) -> Failure;

/// How a dialect opens and batches the transaction of [`transactional`].
#[derive(Debug, Clone, Copy)]
pub struct TxStyle {
    /// The statement that opens the transaction (`BEGIN`; SQLite's `BEGIN IMMEDIATE` takes
    /// the write lock at once, which serialises concurrent deployers).
    pub begin: &'static str,
    /// One prepared query may hold several statements sharing one list of bound values
    /// (sqlx's SQLite driver; PostgreSQL's extended protocol allows one statement per query),
    /// so the history row and the `COMMIT` go together.
    pub batched: bool,
    /// A query run after the migration's text, before the history row: a first column of
    /// its first row, if any, is a problem that rolls the migration back (SQLite's
    /// foreign key check, since migrations run there with enforcement off).
    pub verify: Option<Verify>,
}

/// A check run inside a migration's transaction before it commits.
#[derive(Debug, Clone, Copy)]
pub struct Verify {
    /// Returns one text column, one row per problem.
    pub query: &'static str,
    /// Says what a problem means and what to do; the first problem follows it.
    pub explain: &'static str,
}

impl Verify {
    /// The error for `problem`, the first row of the query: nothing of the migration stays.
    pub fn failure(&self, problem: &str) -> ApplyError {
        ApplyError::RolledBack(Failure {
            cause: Cause::Check,
            statement: None,
            message: format!("{}: {problem}", self.explain),
        })
    }
}

/// Applies `m` and inserts its history row in one transaction.
///
/// The `BEGIN` and the migration's text go in one round trip, like the file fed to `psql`,
/// then the history row and the `COMMIT` (together when the style is batched). Nothing is
/// read first: when anything fails, the transaction is rolled back and the history row read;
/// if another deployer applied the migration meanwhile (possible on SQLite, whose write lock
/// is taken only by `BEGIN IMMEDIATE`), the outcome is [`Outcome::AlreadyApplied`]; otherwise
/// the statements run again one by one, in a transaction that is rolled back too, to name the
/// failing one. Transactions are driven with plain `BEGIN`/`COMMIT`/`ROLLBACK` statements.
pub async fn transactional<DB: Sqlx>(
    conn: &mut DB::Connection,
    style: TxStyle,
    sql: &HistorySql,
    m: &Migration<'_>,
    classify: Classify<'_>,
) -> Result<Outcome, ApplyError> {
    let started = Instant::now();
    let mut text_result = DB::raw(conn, &m.after_begin(style.begin)).await;
    if let (Ok(()), Some(verify)) = (&text_result, style.verify) {
        match DB::text(conn, verify.query, &[]).await {
            Ok(None) => {}
            Ok(Some(problem)) => {
                rollback::<DB>(conn).await;
                return Err(verify.failure(&problem));
            }
            Err(e) => text_result = Err(e),
        }
    }
    let outcome = match text_result {
        Err(e) => Err((e, true)),
        Ok(()) => {
            let ms = started.elapsed().as_millis() as u64;
            let row = NewRow::applied(m, ms).values();
            let committed = if style.batched {
                DB::execute(conn, &format!("{}; COMMIT", sql.insert), &row)
                    .await
                    .map(|_| ())
            } else {
                match DB::execute(conn, &sql.insert, &row).await {
                    Ok(_) => DB::raw(conn, "COMMIT").await,
                    Err(e) => Err(e),
                }
            };
            committed.map(|()| ms).map_err(|e| (e, false))
        }
    };
    let (error, in_text) = match outcome {
        Ok(ms) => return Ok(Outcome::Applied { ms }),
        Err(failed) => failed,
    };
    rollback::<DB>(conn).await;
    let state = DB::text(conn, &sql.select_state, &[Value::Int(Some(m.version))]).await;
    if let Ok(Some(state)) = state {
        if state == RowState::Applied.as_str() {
            return Ok(Outcome::AlreadyApplied);
        }
    }
    let failure = if in_text {
        locate::<DB>(conn, style.begin, m, classify, error).await
    } else {
        classify(&error, None)
    };
    Err(ApplyError::RolledBack(failure))
}

async fn rollback<DB: Sqlx>(conn: &mut DB::Connection) {
    let _ = DB::raw(conn, "ROLLBACK").await;
}

/// Names the statement behind `error` (the transaction is already rolled back): unless it
/// was a timeout or the connection is gone, runs the statements one by one in a fresh
/// transaction, rolled back too.
async fn locate<DB: Sqlx>(
    conn: &mut DB::Connection,
    begin: &'static str,
    m: &Migration<'_>,
    classify: Classify<'_>,
    error: sqlx::Error,
) -> Failure {
    let mut failure = classify(&error, None);
    if matches!(
        failure.cause,
        Cause::LockTimeout | Cause::Timeout | Cause::Connection
    ) {
        return failure;
    }
    if DB::raw(conn, begin).await.is_err() {
        // The BEGIN itself fails: there is no statement to name.
        return failure;
    }
    for (i, statement) in m.statements.iter().enumerate() {
        if let Err(e) = DB::raw(conn, statement).await {
            failure = classify(&e, Some(i));
            break;
        }
    }
    rollback::<DB>(conn).await;
    failure
}

/// What a claim attempt found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// We inserted the `running` row.
    Ours,
    /// Another deployer's row says `running` or `failed`.
    Taken,
    /// Already applied.
    Applied,
}

/// Claims `m` with a `running` row unless a row exists, in one short transaction opened with
/// `begin` (SQLite's `BEGIN IMMEDIATE` makes the read and the insert atomic between
/// deployers; elsewhere the migration lock already does).
pub async fn claim<DB: Sqlx>(
    conn: &mut DB::Connection,
    begin: &str,
    sql: &HistorySql,
    m: &Migration<'_>,
) -> Result<Claim, sqlx::Error> {
    DB::raw(conn, begin).await?;
    let claimed = async {
        let state = DB::text(conn, &sql.select_state, &[Value::Int(Some(m.version))]).await?;
        let claim = match state.as_deref().and_then(RowState::parse) {
            None => {
                let row = NewRow {
                    migration: m,
                    state: RowState::Running,
                    phase: "expand",
                    statements_applied: 0,
                    applied_at: None,
                    execution_ms: None,
                    applied_by: applied_by(),
                };
                DB::execute(conn, &sql.insert, &row.values()).await?;
                Claim::Ours
            }
            Some(RowState::Applied) => Claim::Applied,
            Some(_) => Claim::Taken,
        };
        DB::raw(conn, "COMMIT").await?;
        Ok(claim)
    }
    .await;
    if claimed.is_err() {
        rollback::<DB>(conn).await;
    }
    claimed
}

/// Runs the statements of a claimed migration one by one outside a transaction, recording
/// progress after each, `applied` at the end, `failed` with the statement and error on failure.
pub async fn stepwise<DB: Sqlx>(
    conn: &mut DB::Connection,
    sql: &HistorySql,
    m: &Migration<'_>,
    started: Instant,
    classify: Classify<'_>,
) -> Result<Outcome, ApplyError> {
    let total = m.statements.len();
    let version = Value::Int(Some(m.version));
    let stopped = |failure: Failure, recorded: bool| ApplyError::Stopped { failure, recorded };
    for (i, statement) in m.statements.iter().enumerate() {
        if let Err(e) = DB::raw(conn, statement).await {
            let failure = classify(&e, Some(i));
            let error = format!(
                "statement {} of {total} (line {}): {}",
                i + 1,
                m.line_of(i),
                failure.message
            );
            let values = [
                Value::Text(Some(error)),
                Value::Int(Some(i as i64)),
                version.clone(),
            ];
            let recorded = DB::execute(conn, &sql.failed, &values).await.is_ok();
            return Err(stopped(failure, recorded));
        }
        DB::execute(
            conn,
            &sql.progress,
            &[Value::Int(Some(i as i64 + 1)), version.clone()],
        )
        .await
        .map_err(|e| stopped(classify(&e, Some(i)), false))?;
    }
    let ms = started.elapsed().as_millis() as u64;
    let values = [
        Value::Text(Some(Utc::now().iso8601())),
        Value::Int(Some(ms as i64)),
        version,
    ];
    DB::execute(conn, &sql.applied, &values)
        .await
        .map_err(|e| stopped(classify(&e, None), false))?;
    Ok(Outcome::Applied { ms })
}

/// Applies a resolution; returns the number of rows it touched (0: nothing to resolve).
pub async fn resolve<DB: Sqlx>(
    conn: &mut DB::Connection,
    sql: &HistorySql,
    version: i64,
    resolution: Resolution,
    file: Option<&Migration<'_>>,
) -> Result<u64, sqlx::Error> {
    match (resolution, file) {
        (Resolution::Applied, Some(m)) => {
            let values = [
                Value::Text(Some(Utc::now().iso8601())),
                Value::Text(Some(m.checksum.clone())),
                Value::Text(Some(m.sql.to_string())),
                Value::Text(Some(format!("{} (resolve)", applied_by()))),
                Value::Int(Some(version)),
            ];
            DB::execute(conn, &sql.resolve_applied, &values).await
        }
        _ => DB::execute(conn, &sql.resolve_rolled_back, &[Value::Int(Some(version))]).await,
    }
}
