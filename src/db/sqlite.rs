//! SQLite: no server lock, so each migration takes the database's own write lock
//! (`BEGIN IMMEDIATE`, waiting up to `lock_wait`) and applies with its history row in that
//! transaction. Nothing is read first: a deployer that queued behind another which applied
//! the same migration fails on it (or on the history row's primary key), rolls back, and
//! finds the row applied, so concurrent deployers apply each migration exactly once. The
//! happy path runs through SQLite's C API ([`direct`]); failures run again through sqlx to
//! name the failing statement. Statements SQLite refuses in a transaction (`VACUUM`) run
//! after a `running` claim taken the same way; a deployer that finds another's claim waits
//! for it.

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{AssertSqlSafe, Connection};

use crate::db::exec;
use crate::db::history_sql::{self, HistorySql, NewRow};
use crate::db::{
    ApplyError, DbError, Driver, Migration, Outcome, Resolution, Settings, TableName, Target,
    check_shape, connecting, message, runtime,
};
use crate::dialect::Dialect;
use crate::history::{HistoryRow, RowState};

mod direct;

/// Opens a migration's transaction and takes the write lock at once, so concurrent
/// deployers queue for up to `lock_wait` instead of failing at their first write.
const BEGIN: &str = "BEGIN IMMEDIATE";

/// Migrations run with foreign key enforcement off, as in the `sqlite3` shell: with it on,
/// dropping a table deletes its rows first and cascades into child tables, which makes the
/// table rebuild SQLite needs for most changes (`PRAGMA foreign_keys` cannot be switched
/// inside the migration's transaction) delete data. Each transactional migration is checked
/// before it commits instead: any row left pointing at nothing rolls it back.
const FOREIGN_KEY_CHECK: exec::Verify = exec::Verify {
    query: "SELECT \"table\" || ' row ' || coalesce(rowid, '?') || ' references a missing row of ' || parent FROM pragma_foreign_key_check LIMIT 1",
    explain: "the migration leaves a row whose foreign key points at nothing (migrations run with foreign key enforcement off, so cascades do not fire; delete or fix the dependent rows in the migration)",
};

/// A SQLite database file.
pub struct Sqlite {
    rt: tokio::runtime::Runtime,
    target: Target,
    /// `None` only while being closed in `Drop`.
    conn: Option<SqliteConnection>,
    locked: bool,
    lock_wait: Duration,
    table: TableName,
    sql: HistorySql,
    /// Whether the database may hold a foreign key: `None` until first needed, then what
    /// the schema said, turned `true` by any migration that mentions `REFERENCES`.
    foreign_keys: Option<bool>,
}

/// Whether `sql` may declare a foreign key. SQLite spells every foreign key with the word
/// `REFERENCES` and has no dynamic SQL, so a migration without the word adds none (a
/// comment or string with it only costs a check).
fn mentions_references(sql: &str) -> bool {
    sql.as_bytes()
        .windows(b"references".len())
        .any(|w| w.eq_ignore_ascii_case(b"references"))
}

/// `SQLITE_BUSY` (5) or one of its extended codes: the busy timeout ran out waiting for the
/// write lock.
fn is_busy(code: i32) -> bool {
    code & 0xff == 5
}

fn query_error(target: &Target, context: &str, e: &sqlx::Error) -> DbError {
    DbError::Query {
        context: context.to_string(),
        url: target.redacted.clone(),
        message: message(target, e),
    }
}

fn classify(
    target: &Target,
    lock_wait: Duration,
    e: &sqlx::Error,
    statement: Option<usize>,
) -> ApplyError {
    let busy = match e {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|c| c.parse::<i32>().ok())
            .is_some_and(is_busy),
        _ => false,
    };
    let message = message(target, e);
    if busy {
        return busy_error(lock_wait, &message);
    }
    ApplyError {
        lock_timeout: false,
        timeout: false,
        statement,
        message,
        recorded: false,
    }
}

/// The write lock was not free within `lock_wait` (SQLite's busy timeout).
fn busy_error(lock_wait: Duration, message: &str) -> ApplyError {
    ApplyError {
        lock_timeout: false,
        timeout: true,
        statement: None,
        message: format!(
            "{message}: another connection held the database's write lock for longer than {lock_wait:?} (setting lock_wait)"
        ),
        recorded: false,
    }
}

/// What a claim attempt found.
enum Claim {
    /// We inserted the `running` row.
    Ours,
    /// Another deployer holds it.
    Running,
    /// Already applied.
    Applied,
}

impl Sqlite {
    /// Opens (creating if needed) the database file.
    pub fn connect(target: &Target, settings: &Settings) -> Result<Self, DbError> {
        let rt = runtime(target)?;
        let options = SqliteConnectOptions::from_str(&target.sqlx_url())
            .map_err(|e| DbError::InvalidUrl {
                url: target.redacted.clone(),
                message: message(target, &e),
            })?
            .create_if_missing(true)
            .foreign_keys(false)
            // Concurrent deployers queue on SQLite's write lock for up to lock_wait.
            .busy_timeout(settings.lock_wait);
        let conn = rt
            .block_on(connecting(SqliteConnection::connect_with(&options)))
            .map_err(|e| DbError::Connect {
                url: target.redacted.clone(),
                message: message(target, &e),
            })?;
        Ok(Sqlite {
            rt,
            target: target.clone(),
            conn: Some(conn),
            locked: false,
            lock_wait: settings.lock_wait,
            sql: HistorySql::new(Dialect::Sqlite, &settings.history_table),
            table: settings.history_table.clone(),
            foreign_keys: None,
        })
    }

    /// Under the write lock: claim `m` with a `running` row unless someone else has.
    fn try_claim(&mut self, m: &Migration) -> Result<Claim, sqlx::Error> {
        self.rt.block_on(async {
            let mut tx = self
                .conn
                .as_mut()
                .expect("open connection")
                .begin_with(BEGIN)
                .await?;
            let state: Option<String> =
                sqlx::query_scalar(AssertSqlSafe(self.sql.select_state.clone()))
                    .bind(m.version)
                    .fetch_optional(&mut *tx)
                    .await?;
            let claim = match state.as_deref().and_then(RowState::parse) {
                None => {
                    exec::claim::<sqlx::Sqlite>(&mut tx, &self.sql, m).await?;
                    Claim::Ours
                }
                Some(RowState::Applied) => Claim::Applied,
                Some(_) => Claim::Running,
            };
            tx.commit().await?;
            Ok(claim)
        })
    }

    /// Whether applying `m` needs the foreign key check: only when the database may hold a
    /// foreign key. Without one no row can dangle, and the check costs a pass over every
    /// table's schema (about 0.1 ms per 1,000 tables) besides reading every child table.
    fn may_have_foreign_keys(&mut self, m: &Migration) -> bool {
        if mentions_references(m.sql) {
            self.foreign_keys = Some(true);
        }
        if let Some(known) = self.foreign_keys {
            return known;
        }
        let conn = self.conn.as_mut().expect("open connection");
        let any = self
            .rt
            .block_on(
                sqlx::query_scalar::<_, i64>(
                    "SELECT 1 FROM sqlite_master AS m, pragma_foreign_key_list(m.name) WHERE m.type = 'table' LIMIT 1",
                )
                .fetch_optional(conn),
            )
            // Unknown: check.
            .map_or(true, |row| row.is_some());
        self.foreign_keys = Some(any);
        any
    }

    /// Applies `m` with its history row through SQLite's C API ([`direct`]), returning
    /// the migration's time in milliseconds; `Ok(None)` when the direct path cannot take
    /// it. On an error everything is rolled back.
    fn apply_direct(&mut self, m: &Migration, check: bool) -> Result<Option<u64>, Direct> {
        let started = Instant::now();
        let conn = self.conn.as_mut().expect("open connection");
        let Ok(mut locked) = self.rt.block_on(conn.lock_handle()) else {
            return Ok(None);
        };
        // SAFETY: while `locked` lives, sqlx's worker thread does not touch the connection.
        let mut db = unsafe { direct::Handle::new(locked.as_raw_handle()) };
        let Some(ran) = db.exec(&m.after_begin(BEGIN)) else {
            return Ok(None);
        };
        let result = ran.map_err(Direct::Sqlite).and_then(|()| {
            if check {
                if let Some(problem) = db
                    .first_text(FOREIGN_KEY_CHECK.query)
                    .map_err(Direct::Sqlite)?
                {
                    return Err(Direct::Verify(problem));
                }
            }
            let ms = started.elapsed().as_millis() as u64;
            db.execute(&self.sql.insert, &NewRow::applied(m, ms).values())
                .and_then(|()| db.exec("COMMIT").unwrap_or(Ok(())))
                .map_err(Direct::Sqlite)?;
            Ok(Some(ms))
        });
        if result.is_err() {
            db.rollback();
        }
        result
    }
}

/// Why the direct path did not apply a migration.
enum Direct {
    /// SQLite returned an error.
    Sqlite(direct::RawError),
    /// The foreign key check found a problem.
    Verify(String),
}

impl Drop for Sqlite {
    fn drop(&mut self) {
        // Close explicitly so SQLite checkpoints a WAL before the process exits.
        if let Some(conn) = self.conn.take() {
            let _ = self.rt.block_on(conn.close());
        }
    }
}

impl Driver for Sqlite {
    fn target(&self) -> &Target {
        &self.target
    }

    /// SQLite has no session lock: each migration takes the write lock itself.
    fn lock(&mut self, _wait: Duration, _waiting: &mut dyn FnMut(&str)) -> Result<(), DbError> {
        self.locked = true;
        Ok(())
    }

    fn unlock(&mut self) -> Result<(), DbError> {
        if !std::mem::replace(&mut self.locked, false) {
            return Err(DbError::Unlock {
                url: self.target.redacted.clone(),
                message: "the lock was not held".into(),
            });
        }
        Ok(())
    }

    /// Nothing to lose: each migration takes SQLite's write lock itself.
    fn check_lock(&mut self) -> Result<(), DbError> {
        Ok(())
    }

    fn ensure_history(&mut self) -> Result<(), DbError> {
        self.rt
            .block_on(
                sqlx::raw_sql(AssertSqlSafe(self.sql.create.clone()))
                    .execute(self.conn.as_mut().expect("open connection")),
            )
            .map_err(|e| query_error(&self.target, "creating the history table", &e))?;
        let columns: Vec<(String, String)> = self
            .rt
            .block_on(
                sqlx::query_as("SELECT name, type FROM pragma_table_info(?)")
                    .bind(self.table.name.clone())
                    .fetch_all(self.conn.as_mut().expect("open connection")),
            )
            .map_err(|e| query_error(&self.target, "reading the history table's columns", &e))?;
        check_shape(&self.target, &self.table, &columns)
    }

    fn history(&mut self) -> Result<Option<Vec<HistoryRow>>, DbError> {
        let exists: i64 = self
            .rt
            .block_on(
                sqlx::query_scalar(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
                )
                .bind(self.table.name.clone())
                .fetch_one(self.conn.as_mut().expect("open connection")),
            )
            .map_err(|e| query_error(&self.target, "looking for the history table", &e))?;
        if exists == 0 {
            return Ok(None);
        }
        let rows = self.rt.block_on(exec::read_history::<sqlx::Sqlite>(
            self.conn.as_mut().expect("open connection"),
            &self.sql,
        ));
        super::rows_or_shape(&self.target, &self.table, rows).map(Some)
    }

    fn user_tables(&mut self) -> Result<Vec<String>, DbError> {
        self.rt
            .block_on(
                sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> ? ORDER BY 1",
                )
                .bind(self.table.name.clone())
                .fetch_all(self.conn.as_mut().expect("open connection")),
            )
            .map_err(|e| query_error(&self.target, "listing tables", &e))
    }

    fn apply_in_transaction(&mut self, m: &Migration) -> Result<Outcome, ApplyError> {
        let check = self.may_have_foreign_keys(m);
        match self.apply_direct(m, check) {
            Ok(Some(ms)) => return Ok(Outcome::Applied { ms }),
            Err(Direct::Verify(problem)) => return Err(FOREIGN_KEY_CHECK.failure(&problem)),
            // busy_timeout ran out: going through sqlx would wait as long again.
            Err(Direct::Sqlite(e)) if e.is_busy() => {
                return Err(busy_error(self.lock_wait, &e.message));
            }
            // Any other failure was rolled back: run it again through sqlx, whose error
            // path names the failing statement and notices a migration applied meanwhile.
            Ok(None) | Err(Direct::Sqlite(_)) => {}
        }
        let target = &self.target;
        let lock_wait = self.lock_wait;
        let classify = |e: &sqlx::Error, s| classify(target, lock_wait, e, s);
        self.rt.block_on(exec::transactional::<sqlx::Sqlite>(
            self.conn.as_mut().expect("open connection"),
            exec::TxStyle {
                begin: BEGIN,
                batched: true,
                verify: check.then_some(FOREIGN_KEY_CHECK),
            },
            &self.sql,
            m,
            &classify,
        ))
    }

    fn apply_stepwise(&mut self, m: &Migration) -> Result<Outcome, ApplyError> {
        if mentions_references(m.sql) {
            self.foreign_keys = Some(true);
        }
        let started = Instant::now();
        loop {
            match self.try_claim(m) {
                Ok(Claim::Ours) => break,
                Ok(Claim::Applied) => return Ok(Outcome::AlreadyApplied),
                Ok(Claim::Running) if started.elapsed() < self.lock_wait => {
                    std::thread::sleep(Duration::from_millis(250));
                }
                Ok(Claim::Running) => {
                    return Err(ApplyError {
                        lock_timeout: false,
                        timeout: false,
                        statement: None,
                        message: "it has been marked running by another deployer for longer than lock_wait (or that deployer was interrupted: see `migrate status`)".into(),
                        recorded: true,
                    });
                }
                Err(e) => return Err(classify(&self.target, self.lock_wait, &e, None)),
            }
        }
        let target = &self.target;
        let lock_wait = self.lock_wait;
        let classify = |e: &sqlx::Error, s| classify(target, lock_wait, e, s);
        let conn = self.conn.as_mut().expect("open connection");
        self.rt.block_on(async {
            let outcome =
                exec::stepwise::<sqlx::Sqlite>(conn, &self.sql, m, started, &classify).await;
            // Outside a transaction the file may switch foreign keys on (the rebuild recipe
            // ends that way): switch them off again for the migrations after it.
            let _ = sqlx::raw_sql("PRAGMA foreign_keys = OFF")
                .execute(&mut *conn)
                .await;
            outcome
        })
    }

    fn resolve(
        &mut self,
        version: i64,
        resolution: Resolution,
        file: Option<&Migration>,
    ) -> Result<(), DbError> {
        let rows = self
            .rt
            .block_on(exec::resolve::<sqlx::Sqlite>(
                self.conn.as_mut().expect("open connection"),
                &self.sql,
                version,
                resolution,
                file,
            ))
            .map_err(|e| query_error(&self.target, "resolving the migration", &e))?;
        super::resolved(&self.target, version, rows)
    }

    fn baseline(&mut self, m: &Migration) -> Result<(), DbError> {
        let insert = history_sql::insert::<sqlx::Sqlite>(&self.sql.insert, NewRow::baseline(m));
        self.rt
            .block_on(insert.execute(self.conn.as_mut().expect("open connection")))
            .map(|_| ())
            .map_err(|e| query_error(&self.target, "recording the baseline", &e))
    }
}

#[cfg(test)]
mod tests {
    use super::mentions_references;

    #[test]
    fn every_foreign_key_spelling_mentions_references() {
        assert!(mentions_references(
            "CREATE TABLE c (p INT REFERENCES p (id))"
        ));
        assert!(mentions_references(
            "create table c (p int, foreign key (p) references p)"
        ));
        assert!(mentions_references(
            "ALTER TABLE c ADD COLUMN q INT ReFeReNcEs p"
        ));
        assert!(!mentions_references(
            "CREATE TABLE t (id INT);\nINSERT INTO t VALUES (1);"
        ));
        assert!(!mentions_references("referenc"));
    }
}
