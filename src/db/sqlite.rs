//! SQLite: no server lock, so each migration takes the database's own write lock
//! (`BEGIN IMMEDIATE`, waiting up to `lock_wait`) and applies with its history row in that
//! transaction. Nothing is read first: a deployer that queued behind another which applied
//! the same migration fails on it (or on the history row's primary key), rolls back, and
//! finds the row applied, so concurrent deployers apply each migration exactly once. The
//! happy path runs through SQLite's C API ([`direct`]); failures run again through sqlx to
//! name the failing statement. Statements SQLite refuses in a transaction (`VACUUM`) run
//! after a `running` claim taken the same way; a deployer that finds another's claim waits
//! for it.

use std::time::{Duration, Instant};

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use tokio::runtime::Runtime;

use crate::db::backend::{Backend, Conn, FastPath, Opened, Ran};
use crate::db::error::{ApplyError, Cause, DbError, Failure};
use crate::db::exec::{self, Guard, Sqlx, TxStyle};
use crate::db::history_sql::{HistorySql, NewRow};
use crate::db::lock::{Lock, NoLock};
use crate::db::settings::{Settings, TableName};
use crate::db::{Migration, Outcome, Target};
use crate::dialect::Dialect;

mod direct;

/// Whether the database lives in memory only (`sqlite::memory:`, which sqlx names
/// `file:sqlx-in-memory-N`, or `mode=memory`): no file, no lock file beside it.
fn is_in_memory(options: &SqliteConnectOptions, target: &Target) -> bool {
    let file = options.get_filename().as_os_str().to_string_lossy();
    file.is_empty()
        || file == ":memory:"
        || file.starts_with("file:sqlx-in-memory")
        || target.redacted.contains("mode=memory")
}

/// For a command that only reads: the SQLite file `target` names, when it does not exist
/// (in-memory databases always do).
pub fn missing_file(target: &Target) -> Option<std::path::PathBuf> {
    use std::str::FromStr;
    let options = SqliteConnectOptions::from_str(&target.sqlx_url()).ok()?;
    if is_in_memory(&options, target) {
        return None;
    }
    let file = options.get_filename();
    (!file.exists()).then(|| file.to_path_buf())
}

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

/// SQLite, as a [`Backend`].
pub struct Sqlite {
    lock_wait: Duration,
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

/// `SQLITE_READONLY` (8) or one of its extended codes.
fn is_read_only(code: i32) -> bool {
    code & 0xff == 8
}

impl Backend for Sqlite {
    type Db = sqlx::Sqlite;
    const DIALECT: Dialect = Dialect::Sqlite;
    const CURRENT_SCHEMA: Option<&'static str> = None;
    const FIXED_SCHEMA: Option<&'static str> = Some("main");

    fn connect_options(options: SqliteConnectOptions, settings: &Settings) -> SqliteConnectOptions {
        options
            .create_if_missing(!settings.read_only)
            .foreign_keys(false)
            // Concurrent deployers queue on SQLite's write lock for up to lock_wait.
            .busy_timeout(settings.lock_wait)
    }

    async fn open(
        _: &mut SqliteConnection,
        options: &SqliteConnectOptions,
        target: &Target,
        settings: &Settings,
        _: &TableName,
    ) -> Result<Opened<Self>, DbError> {
        let file = options.get_filename();
        let in_memory = is_in_memory(options, target);
        let lock: Box<dyn Lock<sqlx::Sqlite>> = if in_memory {
            Box::new(NoLock::new(target))
        } else {
            let mut path = file.as_os_str().to_owned();
            path.push(LOCK_FILE_SUFFIX);
            Box::new(FileLock {
                target: target.clone(),
                path: path.into(),
                file: None,
            })
        };
        Ok(Opened {
            backend: Sqlite {
                lock_wait: settings.lock_wait,
                foreign_keys: None,
            },
            lock,
            // Outside a transaction a file may switch foreign keys on (the rebuild recipe
            // ends that way): off again for the migrations after it. The other pragmas a
            // migration may set for its own statements go back to SQLite's defaults.
            reset: vec![
                "PRAGMA foreign_keys = OFF; PRAGMA case_sensitive_like = OFF; PRAGMA recursive_triggers = OFF; PRAGMA reverse_unordered_selects = OFF; PRAGMA ignore_check_constraints = OFF; PRAGMA defer_foreign_keys = OFF; PRAGMA legacy_alter_table = OFF; PRAGMA query_only = OFF"
                    .to_string(),
            ],
        })
    }

    /// The migration's temporary objects dropped and the databases it attached detached.
    async fn reset_after(
        &mut self,
        conn: &mut SqliteConnection,
        _: &Ran<'_>,
    ) -> Result<(), sqlx::Error> {
        // Triggers and views first: a table's drop takes its indexes and triggers with it.
        let temporary = sqlx::Sqlite::texts(
            conn,
            "SELECT type, name FROM temp.sqlite_master WHERE type IN ('trigger', 'view', 'table') ORDER BY type = 'table', name",
            &[],
            2,
        )
        .await?;
        for row in temporary {
            let (kind, name) = (&row[0], &row[1]);
            let drop = format!(
                "DROP {} IF EXISTS temp.\"{}\"",
                kind.to_ascii_uppercase(),
                name.replace('"', "\"\"")
            );
            sqlx::Sqlite::raw(conn, &drop).await?;
        }
        let attached = sqlx::Sqlite::texts(
            conn,
            "SELECT name FROM pragma_database_list WHERE name NOT IN ('main', 'temp')",
            &[],
            1,
        )
        .await?;
        for name in attached.into_iter().flatten() {
            sqlx::Sqlite::raw(
                conn,
                &format!("DETACH DATABASE \"{}\"", name.replace('"', "\"\"")),
            )
            .await?;
        }
        Ok(())
    }

    fn classify(&self, e: &sqlx::Error) -> Cause {
        let code = match e {
            sqlx::Error::Database(db) => db.code().and_then(|c| c.parse::<i32>().ok()),
            _ => None,
        };
        match code {
            Some(c) if is_busy(c) => Cause::Timeout,
            Some(c) if is_read_only(c) => Cause::ReadOnly,
            _ => Cause::Statement,
        }
    }

    fn explain(&self, cause: Cause, message: String) -> String {
        match cause {
            Cause::Timeout => busy_message(self.lock_wait, &message),
            _ => message,
        }
    }

    // SQLite has no schemas here: ?1 (the schema) is bound and unused.
    const HISTORY_EXISTS: &'static str =
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?2";

    const HISTORY_COLUMNS: &'static str = "SELECT name, type FROM pragma_table_info(?2)";

    const USER_TABLES: &'static str = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> ?2 ORDER BY 1";

    const RELATIONS: &'static str = "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') \
        AND name NOT LIKE 'sqlite_%' AND name <> ?2 LIMIT 5";

    const OTHER_HISTORIES: &'static str = "SELECT m.name FROM sqlite_master AS m, pragma_table_info(m.name) AS p \
        WHERE m.type = 'table' AND m.name <> ?2 AND p.name IN ('version', 'checksum', 'sql_text', 'state', 'statements_applied', 'statements_total') GROUP BY m.name HAVING count(*) = 6 ORDER BY 1";

    // The probes are bound with (schema, table, name); ?1 is unused here too.
    const PROBE_TABLE: &'static str =
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?2 AND name = ?3";

    const PROBE_COLUMN: &'static str = "SELECT name FROM pragma_table_info(?2) WHERE name = ?3";

    // SQLite has no invalid indexes.
    const PROBE_INDEX: &'static str = "SELECT 'valid' FROM sqlite_master WHERE type = 'index' AND name = ?3 AND (?2 IS NULL OR tbl_name = ?2)";

    // No server sessions: the lock file's holder is a process.
    const SESSION: Option<&'static str> = None;
    const SESSION_ALIVE: Option<&'static str> = None;

    async fn tx_style(&mut self, conn: &mut Conn<Self>, m: &Migration<'_>) -> TxStyle {
        let check = self.may_have_foreign_keys(conn, m).await;
        TxStyle {
            begin: BEGIN,
            batched: true,
            verify: check.then_some(FOREIGN_KEY_CHECK),
            // The direct path asks SQLite itself (sqlite3_get_autocommit); sqlx's path
            // checks with a savepoint.
            guard: Guard::Savepoint,
        }
    }

    fn apply_fast(&mut self, fast: FastPath<'_, Self>) -> Option<Result<Outcome, ApplyError>> {
        let check = fast.style.verify.is_some();
        match apply_direct(fast.rt, fast.conn, fast.sql, fast.migration, check) {
            Ok(Some(ms)) => Some(Ok(Outcome::Applied { ms })),
            Err(Direct::Verify(problem)) => Some(Err(FOREIGN_KEY_CHECK.failure(&problem))),
            Err(Direct::Ended) => Some(Err(fast.rt.block_on(exec::ended::<sqlx::Sqlite>(
                fast.conn,
                fast.sql,
                fast.migration,
            )))),
            // busy_timeout ran out: going through sqlx would wait as long again.
            Err(Direct::Sqlite(e)) if e.is_busy() => Some(Err(ApplyError::RolledBack(Failure {
                cause: Cause::Timeout,
                statement: None,
                message: busy_message(self.lock_wait, &e.message),
            }))),
            // Any other failure was rolled back: run it again through sqlx, whose error
            // path names the failing statement and notices a migration applied meanwhile.
            Ok(None) | Err(Direct::Sqlite(_)) => None,
        }
    }
}

/// What is appended to the database file's name for the migration lock file.
const LOCK_FILE_SUFFIX: &str = "-migrate-lock";

/// The migration lock of a SQLite database: an OS lock (`flock`) on a file next to the
/// database, held by the deployer's process for the whole run and released by the OS when
/// the process dies. Concurrent deployers queue on it as on PostgreSQL's advisory lock, so a
/// `running` row found under it was left by a deployer that is gone.
struct FileLock {
    target: Target,
    path: std::path::PathBuf,
    /// Open and locked while held.
    file: Option<std::fs::File>,
}

impl FileLock {
    fn error(&self, e: std::io::Error) -> DbError {
        DbError::Query {
            context: format!("taking the migration lock file {}", self.path.display()),
            url: self.target.redacted.clone(),
            message: e.to_string(),
        }
    }
}

impl Lock<sqlx::Sqlite> for FileLock {
    fn try_acquire(&mut self, _: &Runtime, _: &mut SqliteConnection) -> Result<bool, DbError> {
        use std::io::{Seek, Write};
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&self.path)
            .map_err(|e| self.error(e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Ok(false),
            Err(std::fs::TryLockError::Error(e)) => return Err(self.error(e)),
        }
        // Who holds it, for a waiting deployer's message.
        let holder = format!("{}\n", super::backend::process_session());
        let _ = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(holder.as_bytes()));
        self.file = Some(file);
        Ok(true)
    }

    fn holder(&mut self, _: &Runtime, _: &mut SqliteConnection) -> String {
        let who = std::fs::read_to_string(&self.path).unwrap_or_default();
        let who = who.trim();
        if who.is_empty() {
            format!("another process (lock file {})", self.path.display())
        } else {
            format!("{who} (lock file {})", self.path.display())
        }
    }

    fn release(&mut self, _: &Runtime, _: &mut SqliteConnection) -> Result<(), DbError> {
        let Some(file) = self.file.take() else {
            return Err(DbError::Unlock {
                url: self.target.redacted.clone(),
                message: "the lock was not held".into(),
            });
        };
        // The file stays: deleting it would let two deployers lock two different files.
        file.unlock().map_err(|e| DbError::Unlock {
            url: self.target.redacted.clone(),
            message: e.to_string(),
        })
    }

    fn check(&mut self, _: &Runtime, _: &mut SqliteConnection) -> Result<(), DbError> {
        match self.file {
            Some(_) => Ok(()),
            None => Err(DbError::LockLost {
                url: self.target.redacted.clone(),
                message: "it is not held".into(),
            }),
        }
    }
}

/// The write lock was not free within `lock_wait` (SQLite's busy timeout).
fn busy_message(lock_wait: Duration, message: &str) -> String {
    format!(
        "{message}: another connection held the database's write lock for longer than {lock_wait:?} (setting lock_wait)"
    )
}

impl Sqlite {
    /// Whether applying `m` needs the foreign key check: only when the database may hold a
    /// foreign key. Without one no row can dangle, and the check costs a pass over every
    /// table's schema (about 0.1 ms per 1,000 tables) besides reading every child table.
    async fn may_have_foreign_keys(
        &mut self,
        conn: &mut SqliteConnection,
        m: &Migration<'_>,
    ) -> bool {
        if mentions_references(m.sql) {
            self.foreign_keys = Some(true);
        }
        if let Some(known) = self.foreign_keys {
            return known;
        }
        let any = sqlx::query_scalar::<_, i64>(
            "SELECT 1 FROM sqlite_master AS m, pragma_foreign_key_list(m.name) WHERE m.type = 'table' LIMIT 1",
        )
        .fetch_optional(conn)
        .await
        // Unknown: check.
        .map_or(true, |row| row.is_some());
        self.foreign_keys = Some(any);
        any
    }
}

/// Why the direct path did not apply a migration.
enum Direct {
    /// SQLite returned an error.
    Sqlite(direct::RawError),
    /// The foreign key check found a problem.
    Verify(String),
    /// The file ended the migration's transaction itself.
    Ended,
}

/// Applies `m` with its history row through SQLite's C API ([`direct`]), returning the
/// migration's time in milliseconds; `Ok(None)` when the direct path cannot take it. On an
/// error everything is rolled back.
fn apply_direct(
    rt: &Runtime,
    conn: &mut SqliteConnection,
    sql: &HistorySql,
    m: &Migration,
    check: bool,
) -> Result<Option<u64>, Direct> {
    let started = Instant::now();
    let Ok(mut locked) = rt.block_on(conn.lock_handle()) else {
        return Ok(None);
    };
    // SAFETY: while `locked` lives, sqlx's worker thread does not touch the connection.
    let mut db = unsafe { direct::Handle::new(locked.as_raw_handle()) };
    let Some(ran) = db.exec(&m.after_begin(BEGIN)) else {
        return Ok(None);
    };
    let result = ran.map_err(Direct::Sqlite).and_then(|()| {
        if !db.in_transaction() {
            return Err(Direct::Ended);
        }
        if check
            && let Some(problem) = db
                .first_text(FOREIGN_KEY_CHECK.query)
                .map_err(Direct::Sqlite)?
        {
            return Err(Direct::Verify(problem));
        }
        let ms = started.elapsed().as_millis() as u64;
        db.execute(&sql.insert, &NewRow::applied(m, ms).values())
            .and_then(|()| db.exec("COMMIT").unwrap_or(Ok(())))
            .map_err(Direct::Sqlite)?;
        Ok(Some(ms))
    });
    if result.is_err() {
        db.rollback();
    }
    result
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
