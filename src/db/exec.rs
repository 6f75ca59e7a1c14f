//! The execution routines every dialect shares, written once over sqlx's `Database`:
//! applying in a transaction with the history row, applying statement by statement with
//! recorded progress, reading history, resolving. Drivers only choose which to use and how to
//! read their database's error codes.

use std::time::Instant;

use sqlx::{AssertSqlSafe, ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Type};

use crate::db::history_sql::{self, HistorySql, NewRow};
use crate::db::{ApplyError, Migration, Outcome, Resolution, applied_by};
use crate::history::{HistoryRow, RowState};
use crate::utc::Utc;

/// Turns a database error into an [`ApplyError`] (dialect-specific codes and positions).
pub type Classify<'a> = &'a dyn Fn(&sqlx::Error, Option<usize>) -> ApplyError;

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
        ApplyError {
            lock_timeout: false,
            timeout: false,
            statement: None,
            message: format!("{}: {problem}", self.explain),
            recorded: false,
        }
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
pub async fn transactional<DB>(
    conn: &mut DB::Connection,
    style: TxStyle,
    sql: &HistorySql,
    m: &Migration<'_>,
    classify: Classify<'_>,
) -> Result<Outcome, ApplyError>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB> + Decode<'t, DB>,
    for<'t> String: Encode<'t, DB> + Type<DB> + Decode<'t, DB>,
    for<'t> Option<String>: Encode<'t, DB> + Type<DB>,
    for<'t> Option<i64>: Encode<'t, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
{
    let started = Instant::now();
    let begin = style.begin;
    let mut text_result = raw::<DB>(conn, m.after_begin(begin)).await;
    if let (Ok(()), Some(verify)) = (&text_result, style.verify) {
        match sqlx::query_scalar::<DB, String>(verify.query)
            .fetch_optional(&mut *conn)
            .await
        {
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
            let row = NewRow::applied(m, ms);
            let committed = if style.batched {
                let insert_and_commit = format!("{}; COMMIT", sql.insert);
                history_sql::insert::<DB>(&insert_and_commit, row)
                    .execute(&mut *conn)
                    .await
                    .map(|_| ())
            } else {
                match history_sql::insert::<DB>(&sql.insert, row)
                    .execute(&mut *conn)
                    .await
                {
                    Ok(_) => raw::<DB>(conn, "COMMIT".to_string()).await,
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
    let state = sqlx::query_scalar::<DB, String>(AssertSqlSafe(sql.select_state.clone()))
        .bind(m.version)
        .fetch_optional(&mut *conn)
        .await;
    if let Ok(Some(state)) = state {
        if state == RowState::Applied.as_str() {
            return Ok(Outcome::AlreadyApplied);
        }
    }
    if in_text {
        Err(locate::<DB>(conn, begin, m, classify, error).await)
    } else {
        Err(classify(&error, None))
    }
}

async fn raw<DB>(conn: &mut DB::Connection, sql: String) -> Result<(), sqlx::Error>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(&mut *conn)
        .await
        .map(|_| ())
}

async fn rollback<DB>(conn: &mut DB::Connection)
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let _ = raw::<DB>(conn, "ROLLBACK".to_string()).await;
}

/// Names the statement behind `error` (the transaction is already rolled back): unless it
/// was a timeout, runs the statements one by one in a fresh transaction, rolled back too.
async fn locate<DB>(
    conn: &mut DB::Connection,
    begin: &'static str,
    m: &Migration<'_>,
    classify: Classify<'_>,
    error: sqlx::Error,
) -> ApplyError
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let mut failure = classify(&error, None);
    if failure.lock_timeout || failure.timeout {
        return failure;
    }
    if raw::<DB>(conn, begin.to_string()).await.is_err() {
        // The BEGIN itself fails: there is no statement to name.
        return failure;
    }
    for (i, statement) in m.statements.iter().enumerate() {
        if let Err(e) = raw::<DB>(conn, statement.to_string()).await {
            failure = classify(&e, Some(i));
            break;
        }
    }
    rollback::<DB>(conn).await;
    failure
}

/// Inserts the `running` row that claims `m` (committed on its own).
pub async fn claim<DB>(
    conn: &mut DB::Connection,
    sql: &HistorySql,
    m: &Migration<'_>,
) -> Result<(), sqlx::Error>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> Option<String>: Encode<'t, DB> + Type<DB>,
    for<'t> Option<i64>: Encode<'t, DB> + Type<DB>,
{
    let row = NewRow {
        migration: m,
        state: RowState::Running,
        phase: "expand",
        statements_applied: 0,
        applied_at: None,
        execution_ms: None,
        applied_by: applied_by(),
    };
    history_sql::insert::<DB>(&sql.insert, row)
        .execute(&mut *conn)
        .await
        .map(|_| ())
}

/// Runs the statements of a claimed migration one by one outside a transaction, recording
/// progress after each, `applied` at the end, `failed` with the statement and error on failure.
pub async fn stepwise<DB>(
    conn: &mut DB::Connection,
    sql: &HistorySql,
    m: &Migration<'_>,
    started: Instant,
    classify: Classify<'_>,
) -> Result<Outcome, ApplyError>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
{
    let total = m.statements.len();
    for (i, statement) in m.statements.iter().enumerate() {
        if let Err(e) = sqlx::raw_sql(AssertSqlSafe(statement.to_string()))
            .execute(&mut *conn)
            .await
        {
            let mut failure = classify(&e, Some(i));
            let error = format!(
                "statement {} of {total} (line {}): {}",
                i + 1,
                m.line_of(i),
                failure.message
            );
            failure.recorded = sqlx::query::<DB>(AssertSqlSafe(sql.failed.clone()))
                .bind(error)
                .bind(i as i64)
                .bind(m.version)
                .execute(&mut *conn)
                .await
                .is_ok();
            return Err(failure);
        }
        sqlx::query::<DB>(AssertSqlSafe(sql.progress.clone()))
            .bind(i as i64 + 1)
            .bind(m.version)
            .execute(&mut *conn)
            .await
            .map_err(|e| classify(&e, Some(i)))?;
    }
    let ms = started.elapsed().as_millis() as u64;
    sqlx::query::<DB>(AssertSqlSafe(sql.applied.clone()))
        .bind(Utc::now().iso8601())
        .bind(ms as i64)
        .bind(m.version)
        .execute(&mut *conn)
        .await
        .map_err(|e| classify(&e, None))?;
    Ok(Outcome::Applied { ms })
}

/// Every history row, in version order; an error text names what is unreadable.
pub async fn read_history<DB>(
    conn: &mut DB::Connection,
    sql: &HistorySql,
) -> Result<Vec<HistoryRow>, String>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    &'static str: ColumnIndex<DB::Row>,
    for<'r> i64: Decode<'r, DB> + Type<DB>,
    for<'r> String: Decode<'r, DB> + Type<DB>,
{
    let rows = sqlx::query::<DB>(AssertSqlSafe(sql.select.clone()))
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| format!("cannot be read: {e}"))?;
    rows.iter().map(history_sql::decode).collect()
}

/// Applies a resolution; returns the number of rows it touched (0: nothing to resolve).
pub async fn resolve<DB>(
    conn: &mut DB::Connection,
    sql: &HistorySql,
    version: i64,
    resolution: Resolution,
    file: Option<&Migration<'_>>,
) -> Result<u64, sqlx::Error>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    DB::QueryResult: RowsAffected,
{
    let query = match (resolution, file) {
        (Resolution::Applied, Some(m)) => {
            sqlx::query::<DB>(AssertSqlSafe(sql.resolve_applied.clone()))
                .bind(Utc::now().iso8601())
                .bind(m.checksum.clone())
                .bind(m.sql.to_string())
                .bind(format!("{} (resolve)", applied_by()))
                .bind(version)
        }
        _ => sqlx::query::<DB>(AssertSqlSafe(sql.resolve_rolled_back.clone())).bind(version),
    };
    Ok(query.execute(&mut *conn).await?.rows())
}

/// Rows affected, for the dialects' query results.
pub trait RowsAffected {
    /// The count.
    fn rows(&self) -> u64;
}

impl RowsAffected for sqlx::postgres::PgQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}

impl RowsAffected for sqlx::mysql::MySqlQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}

impl RowsAffected for sqlx::sqlite::SqliteQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}
