//! The migration lock as a strategy ([`Lock`]): [`SessionLock`], written once for
//! PostgreSQL's advisory lock and MySQL's `GET_LOCK` (each backend supplies its SQL); SQLite's
//! lock file in its backend; [`NoLock`] for an in-memory SQLite database. Waiting is written
//! once ([`acquire`]): polled, never a blocking call. Also the backoff of lock-timeout retries.

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

use crate::db::backend::{is_connection_loss, message, query_error};
use crate::db::exec::Sqlx;
use crate::db::history_sql::Value;
use crate::db::{DbError, Target};

/// A way to keep two deployers of one database from applying at once. Each call is one
/// short, non-blocking exchange with the database; `conn` is the migration session, which a
/// lock may use or ignore (a lock on a connection of its own survives whatever a migration
/// does to its session).
pub trait Lock<DB: Sqlx> {
    /// One attempt to take the lock; `false` when another session holds it.
    fn try_acquire(&mut self, rt: &Runtime, conn: &mut DB::Connection) -> Result<bool, DbError>;

    /// Who holds the lock, for the waiting message.
    fn holder(&mut self, rt: &Runtime, conn: &mut DB::Connection) -> String;

    /// Releases the lock; an error when it was not held.
    fn release(&mut self, rt: &Runtime, conn: &mut DB::Connection) -> Result<(), DbError>;

    /// Confirms the lock is still held (its connection may have been terminated).
    fn check(&mut self, rt: &Runtime, conn: &mut DB::Connection) -> Result<(), DbError>;

    /// Whether holding it keeps every other deployer out. When not ([`NoLock`]), a
    /// `running` claim of another deployer may be live, and is waited for.
    fn exclusive(&self) -> bool {
        true
    }
}

/// Polls `lock` every 250 ms until it is taken or `wait` passes, telling `waiting` who holds
/// it after 3 s and every 10 s after that. Never a blocking lock call: the tool's own deadline
/// decides, and a waiting deployer holds no long statement or transaction.
pub fn acquire<DB: Sqlx>(
    lock: &mut dyn Lock<DB>,
    rt: &Runtime,
    conn: &mut DB::Connection,
    target: &Target,
    wait: Duration,
    waiting: &mut dyn FnMut(&str),
) -> Result<(), DbError> {
    let started = Instant::now();
    let mut next_report = Duration::from_secs(3);
    loop {
        if lock.try_acquire(rt, conn)? {
            return Ok(());
        }
        let waited = started.elapsed();
        if waited >= wait {
            return Err(DbError::LockWait {
                waited,
                holder: lock.holder(rt, conn),
                url: target.redacted.clone(),
            });
        }
        if waited >= next_report {
            waiting(&lock.holder(rt, conn));
            next_report = waited + Duration::from_secs(10);
        }
        std::thread::sleep(Duration::from_millis(250).min(wait.saturating_sub(waited)));
    }
}

/// The SQL of a lock held by the migration session itself (PostgreSQL's advisory lock,
/// MySQL's `GET_LOCK`), each statement bound with the lock's key and returning text.
#[derive(Debug, Clone, Copy)]
pub struct SessionLockSql {
    /// One non-blocking attempt: `true`/`1` when taken.
    pub acquire: &'static str,
    /// Release: `true`/`1` when it was held.
    pub release: &'static str,
    /// Whether this session holds it: `true`/`1`/a non-zero count.
    pub check: &'static str,
    /// Who holds it, as a phrase (no row: nobody the session can see).
    pub holder: &'static str,
    /// How a migration can have released it, for the message.
    pub released_by: &'static str,
}

/// A lock on the migration session itself: a deployer holds one connection while it
/// waits and works, and the lock lives exactly as long as the session whose statements it
/// protects (a killed deployer's statement that runs on in the server keeps the lock until
/// it ends; a session that is gone has let go of it).
pub struct SessionLock {
    target: Target,
    key: Value,
    sql: SessionLockSql,
    held: bool,
}

impl SessionLock {
    /// The lock `key` of `target`.
    pub fn new(target: &Target, key: Value, sql: SessionLockSql) -> Self {
        SessionLock {
            target: target.clone(),
            key,
            sql,
            held: false,
        }
    }

    fn ask<DB: Sqlx>(
        &self,
        rt: &Runtime,
        conn: &mut DB::Connection,
        sql: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        rt.block_on(DB::text(conn, sql, std::slice::from_ref(&self.key)))
    }
}

/// Whether a lock query's answer means yes.
fn yes(answer: Option<&str>) -> bool {
    matches!(answer, Some(a) if a == "true" || a == "t" || a.parse::<i64>().is_ok_and(|n| n > 0))
}

impl<DB: Sqlx> Lock<DB> for SessionLock {
    /// Each poll is its own short statement: a waiting deployer never sits in an open
    /// transaction that a CREATE INDEX CONCURRENTLY of the lock holder would wait for.
    fn try_acquire(&mut self, rt: &Runtime, conn: &mut DB::Connection) -> Result<bool, DbError> {
        let got = self
            .ask::<DB>(rt, conn, self.sql.acquire)
            .map_err(|e| query_error(&self.target, "taking the migration lock", &e))?;
        self.held = yes(got.as_deref());
        Ok(self.held)
    }

    fn holder(&mut self, rt: &Runtime, conn: &mut DB::Connection) -> String {
        match self.ask::<DB>(rt, conn, self.sql.holder) {
            Ok(Some(who)) if !who.is_empty() => who,
            _ => "another session".into(),
        }
    }

    fn release(&mut self, rt: &Runtime, conn: &mut DB::Connection) -> Result<(), DbError> {
        let unlock = |message: String| DbError::Unlock {
            url: self.target.redacted.clone(),
            message,
        };
        if !std::mem::replace(&mut self.held, false) {
            return Err(unlock("the lock was not held".into()));
        }
        match self.ask::<DB>(rt, conn, self.sql.release) {
            Ok(answer) if yes(answer.as_deref()) => Ok(()),
            Ok(_) => Err(unlock(format!(
                "the database reports the lock was not held (did a migration release it, with {}?)",
                self.sql.released_by
            ))),
            // The session is gone, and its session lock with it.
            Err(e) if is_connection_loss(&e) => Ok(()),
            Err(e) => Err(unlock(message(&e))),
        }
    }

    fn check(&mut self, rt: &Runtime, conn: &mut DB::Connection) -> Result<(), DbError> {
        let lost = |message: String| DbError::LockLost {
            url: self.target.redacted.clone(),
            message,
        };
        if !self.held {
            return Err(lost("it is not held".into()));
        }
        let answer = self
            .ask::<DB>(rt, conn, self.sql.check)
            .map_err(|e| lost(message(&e)))?;
        if !yes(answer.as_deref()) {
            self.held = false;
            return Err(lost(format!(
                "the database no longer lists it (a migration may have run {})",
                self.sql.released_by
            )));
        }
        Ok(())
    }
}

/// No session lock (SQLite): each migration takes the database's write lock itself
/// (`BEGIN IMMEDIATE`), and statements that cannot run in a transaction are claimed by a
/// `running` row taken under that lock.
#[derive(Debug, Default)]
pub struct NoLock {
    held: bool,
    url: String,
}

impl NoLock {
    /// For `target`.
    pub fn new(target: &Target) -> Self {
        NoLock {
            held: false,
            url: target.redacted.clone(),
        }
    }
}

impl<DB: Sqlx> Lock<DB> for NoLock {
    fn try_acquire(&mut self, _: &Runtime, _: &mut DB::Connection) -> Result<bool, DbError> {
        self.held = true;
        Ok(true)
    }

    fn holder(&mut self, _: &Runtime, _: &mut DB::Connection) -> String {
        "nobody".into()
    }

    fn release(&mut self, _: &Runtime, _: &mut DB::Connection) -> Result<(), DbError> {
        if !std::mem::replace(&mut self.held, false) {
            return Err(DbError::Unlock {
                url: self.url.clone(),
                message: "the lock was not held".into(),
            });
        }
        Ok(())
    }

    fn check(&mut self, _: &Runtime, _: &mut DB::Connection) -> Result<(), DbError> {
        Ok(())
    }

    fn exclusive(&self) -> bool {
        false
    }
}

/// Delay before retry `attempt` (0-based) of a migration that hit its lock timeout:
/// exponential from 500 ms, capped at 30 s, with ±50 % jitter so deployers do not collide.
pub fn backoff(attempt: u32) -> Duration {
    let base = 500u64.saturating_mul(1u64 << attempt.min(10)).min(30_000);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(attempt);
    let jitter = hasher.finish() % 1000; // 0..1000 per mille
    Duration::from_millis(base / 2 + base * jitter / 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_a_cap() {
        for attempt in 0..12 {
            let d = backoff(attempt);
            let base = 500u64.saturating_mul(1 << attempt.min(10)).min(30_000);
            assert!(
                d >= Duration::from_millis(base / 2) && d <= Duration::from_millis(base * 3 / 2),
                "{attempt}: {d:?}"
            );
        }
    }
}
