//! The migration lock as a strategy ([`Lock`]): PostgreSQL's advisory lock and MySQL's
//! `GET_LOCK` implement it in their backends, SQLite needs none ([`NoLock`]: each migration
//! takes the database's write lock). Waiting is written once ([`acquire`]): polled, never a
//! blocking call. Also the backoff of lock-timeout retries.

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

use crate::db::exec::Sqlx;
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
