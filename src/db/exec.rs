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
use crate::history::{BackfillProgress, HistoryRow, RowState};
use crate::utc::Utc;

/// What the execution routines need of a sqlx database.
// The futures need not be `Send`: every driver blocks on a single-threaded runtime.
#[allow(async_fn_in_trait)]
pub trait Sqlx: sqlx::Database {
    /// Runs `sql` (any number of statements, no bound values) through the simple protocol.
    async fn raw(conn: &mut Self::Connection, sql: &str) -> Result<(), sqlx::Error>;

    /// Runs `sql` (no bound values) through the simple protocol; the rows it changed.
    async fn raw_rows(conn: &mut Self::Connection, sql: &str) -> Result<u64, sqlx::Error>;

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

            async fn raw_rows(conn: &mut Self::Connection, sql: &str) -> Result<u64, sqlx::Error> {
                sqlx::raw_sql(AssertSqlSafe(sql.to_string()))
                    .execute(&mut *conn)
                    .await
                    .map(|r| r.rows_affected())
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
    /// How the engine makes sure the file did not end its transaction (a `COMMIT` or
    /// `ROLLBACK` inside it) before the history row is written.
    pub guard: Guard,
}

/// How [`transactional`] checks that the migration's transaction is still its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// None: a database whose migrations never run in one transaction (MySQL).
    None,
    /// A `SET LOCAL` after `BEGIN` and [`HistorySql::insert_guarded`], which inserts nothing
    /// once the transaction that made the setting is over (PostgreSQL): no extra round trip.
    Setting,
    /// A savepoint after `BEGIN`, released before the history row: releasing fails once
    /// the transaction that made it is over (SQLite through sqlx).
    Savepoint,
}

/// The savepoint of [`Guard::Savepoint`].
const SAVEPOINT: &str = "migrate_tx";

impl TxStyle {
    /// The statements that open the transaction, with the guard's mark.
    fn opening(&self) -> String {
        match self.guard {
            Guard::None => self.begin.to_string(),
            Guard::Setting => format!("{};\n{}", self.begin, history_sql::PG_TRANSACTION_MARK),
            Guard::Savepoint => format!("{};\nSAVEPOINT {SAVEPOINT}", self.begin),
        }
    }
}

/// The failure when the file itself ended the migration's transaction.
pub fn transaction_ended() -> Failure {
    Failure {
        cause: Cause::TransactionEnded,
        statement: None,
        message: "the file ended the migration's transaction itself (a COMMIT, ROLLBACK or END inside it): statements before that point may be committed, and the ones after it ran outside any transaction; remove the transaction control from the file".into(),
    }
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
    let mut text_result = DB::raw(conn, &m.after_begin(&style.opening())).await;
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
            let committed = match (style.guard, &sql.insert_guarded) {
                (Guard::Savepoint, _) => {
                    let release = format!("RELEASE {SAVEPOINT}");
                    match DB::raw(conn, &release).await {
                        Err(_) => return Err(ended::<DB>(conn, sql, m).await),
                        Ok(()) => DB::execute(conn, &format!("{}; COMMIT", sql.insert), &row)
                            .await
                            .map(|_| ()),
                    }
                }
                (Guard::Setting, Some(guarded)) => match DB::execute(conn, guarded, &row).await {
                    Ok(0) => return Err(ended::<DB>(conn, sql, m).await),
                    Ok(_) => DB::raw(conn, "COMMIT").await,
                    Err(e) => Err(e),
                },
                (Guard::Setting | Guard::None, _) if style.batched => {
                    DB::execute(conn, &format!("{}; COMMIT", sql.insert), &row)
                        .await
                        .map(|_| ())
                }
                (Guard::Setting | Guard::None, _) => {
                    match DB::execute(conn, &sql.insert, &row).await {
                        Ok(_) => DB::raw(conn, "COMMIT").await,
                        Err(e) => Err(e),
                    }
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
    if let Ok(Some(state)) = state
        && state == RowState::Applied.as_str()
    {
        return Ok(Outcome::AlreadyApplied);
    }
    let failure = if in_text {
        locate::<DB>(conn, style.begin, m, classify, error).await
    } else {
        classify(&error, None)
    };
    Err(ApplyError::RolledBack(failure))
}

/// The file ended the migration's transaction: whatever it committed stays, so the migration
/// is recorded as `failed` (the next `up` refuses until `migrate resolve`).
pub async fn ended<DB: Sqlx>(
    conn: &mut DB::Connection,
    sql: &HistorySql,
    m: &Migration<'_>,
) -> ApplyError {
    rollback::<DB>(conn).await;
    let failure = transaction_ended();
    let row = NewRow {
        migration: m,
        state: RowState::Failed,
        phase: m.phase.as_str(),
        statements_applied: 0,
        applied_at: None,
        execution_ms: None,
        applied_by: applied_by(),
        session: None,
    };
    let recorded = DB::execute(conn, &sql.insert, &row.values()).await.is_ok()
        && DB::execute(
            conn,
            &sql.failed,
            &[
                Value::Text(Some(failure.message.clone())),
                Value::Int(None),
                Value::Int(Some(m.version)),
            ],
        )
        .await
        .is_ok();
    ApplyError::Stopped { failure, recorded }
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

/// Claims `m` with a `running` row holding `session` unless a row exists, in one short
/// transaction opened with `begin` (SQLite's `BEGIN IMMEDIATE` makes the read and the insert
/// atomic even without the migration lock).
pub async fn claim<DB: Sqlx>(
    conn: &mut DB::Connection,
    begin: &str,
    sql: &HistorySql,
    m: &Migration<'_>,
    session: &str,
) -> Result<Claim, sqlx::Error> {
    DB::raw(conn, begin).await?;
    let claimed = async {
        let state = DB::text(conn, &sql.select_state, &[Value::Int(Some(m.version))]).await?;
        let claim = match state.as_deref().and_then(RowState::parse) {
            None => {
                let row = NewRow {
                    migration: m,
                    state: RowState::Running,
                    phase: m.phase.as_str(),
                    statements_applied: 0,
                    applied_at: None,
                    execution_ms: None,
                    applied_by: applied_by(),
                    session: Some(session.to_string()),
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

/// Runs statement `i` of a claimed migration and records it. `atomic`: the statement and
/// its progress update commit together in a transaction opened with `begin`, so a crash
/// leaves both or neither. Otherwise the row first says statement `i` is in flight, then
/// the statement runs on its own, then the progress is recorded: a crash in between leaves a
/// row that says the statement *may* have completed.
pub async fn step<DB: Sqlx>(
    conn: &mut DB::Connection,
    begin: &str,
    sql: &HistorySql,
    m: &Migration<'_>,
    i: usize,
    atomic: bool,
    classify: Classify<'_>,
) -> Result<(), Failure> {
    let version = Value::Int(Some(m.version));
    let progress = [Value::Int(Some(i as i64 + 1)), version.clone()];
    let statement = m.statements[i];
    if atomic {
        DB::raw(conn, begin)
            .await
            .map_err(|e| classify(&e, Some(i)))?;
        let ran = async {
            DB::raw(conn, statement).await?;
            DB::execute(conn, &sql.progress, &progress).await?;
            DB::raw(conn, "COMMIT").await
        }
        .await;
        if let Err(e) = ran {
            rollback::<DB>(conn).await;
            return Err(classify(&e, Some(i)));
        }
        return Ok(());
    }
    DB::execute(conn, &sql.in_flight, &[Value::Int(Some(i as i64)), version])
        .await
        .map_err(|e| classify(&e, Some(i)))?;
    DB::raw(conn, statement)
        .await
        .map_err(|e| classify(&e, Some(i)))?;
    DB::execute(conn, &sql.progress, &progress)
        .await
        .map(|_| ())
        .map_err(|e| classify(&e, Some(i)))
}

/// Runs one batch of statement `i` of a claimed backfill migration: the statement and the
/// history row's progress (`before` plus this batch) commit together in a transaction opened
/// with `begin` (unless the table ignores transactions: `atomic` false), so a crash leaves
/// both or neither. A batch that changes no row ends the statement, and so does the one run
/// of a statement that is not a data change (`once`): the row moves past it.
/// Returns the rows the batch changed and the progress recorded.
#[allow(clippy::too_many_arguments)]
pub async fn batch<DB: Sqlx>(
    conn: &mut DB::Connection,
    begin: &str,
    sql: &HistorySql,
    m: &Migration<'_>,
    i: usize,
    before: BackfillProgress,
    once: bool,
    atomic: bool,
    classify: Classify<'_>,
) -> Result<(u64, BackfillProgress), Failure> {
    let started = Instant::now();
    if atomic {
        DB::raw(conn, begin)
            .await
            .map_err(|e| classify(&e, Some(i)))?;
    }
    let ran = async {
        let rows = DB::raw_rows(conn, m.statements[i]).await?;
        // What a statement that is no data change reports is no count of changed rows.
        let rows = if once { 0 } else { rows };
        let progress = BackfillProgress {
            batches: before.batches + 1,
            rows: before.rows + rows,
            ms: before.ms + started.elapsed().as_millis() as u64,
        };
        let applied = if rows == 0 || once { i + 1 } else { i };
        let values = [
            Value::Int(Some(applied as i64)),
            Value::Text(Some(progress.to_json())),
            Value::Int(Some(m.version)),
        ];
        DB::execute(conn, &sql.batch, &values).await?;
        if atomic {
            DB::raw(conn, "COMMIT").await?;
        }
        Ok::<_, sqlx::Error>((rows, progress))
    }
    .await;
    match ran {
        Ok(done) => Ok(done),
        Err(e) => {
            if atomic {
                rollback::<DB>(conn).await;
            }
            Err(classify(&e, Some(i)))
        }
    }
}

/// Records statement `i` of `m` as failed with `failure`; whether the row was written.
pub async fn record_failure<DB: Sqlx>(
    conn: &mut DB::Connection,
    sql: &HistorySql,
    m: &Migration<'_>,
    i: usize,
    failure: &Failure,
) -> bool {
    let error = format!(
        "statement {} of {} (line {}): {}",
        i + 1,
        m.statements.len(),
        m.line_of(i),
        failure.message
    );
    let values = [
        Value::Text(Some(error)),
        Value::Int(Some(i as i64)),
        Value::Int(Some(m.version)),
    ];
    DB::execute(conn, &sql.failed, &values).await.is_ok()
}

/// Marks a claimed migration applied after `ms` milliseconds.
pub async fn finish<DB: Sqlx>(
    conn: &mut DB::Connection,
    sql: &HistorySql,
    m: &Migration<'_>,
    ms: u64,
) -> Result<(), sqlx::Error> {
    let values = [
        Value::Text(Some(Utc::now().iso8601())),
        Value::Int(Some(ms as i64)),
        Value::Int(Some(m.version)),
    ];
    DB::execute(conn, &sql.applied, &values).await.map(|_| ())
}

/// Takes over an interrupted `running` row for `session`, to resume at statement `from`;
/// the rows it touched (0: the row is no longer running).
pub async fn take_over<DB: Sqlx>(
    conn: &mut DB::Connection,
    sql: &HistorySql,
    m: &Migration<'_>,
    session: &str,
    from: usize,
) -> Result<u64, sqlx::Error> {
    let values = [
        Value::Text(Some(session.to_string())),
        Value::Int(Some(from as i64)),
        Value::Int(Some(m.version)),
    ];
    DB::execute(conn, &sql.take_over, &values).await
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
