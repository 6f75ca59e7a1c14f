//! Errors of the database layer: [`DbError`] when the engine itself cannot work (connect,
//! read the history, take the lock), [`ApplyError`] for what became of a migration that did
//! not apply, with the [`Cause`] that decides whether to retry and what to tell the user.

use std::time::Duration;

/// Why a migration's statement, or the engine's work around it, failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// The lock timeout ran out (PostgreSQL 55P03, MySQL 1205): another session held a lock
    /// the statement needed, and the statement had no effect. Worth retrying.
    LockTimeout,
    /// A time limit cancelled it: `statement_timeout`, or SQLite's busy timeout (`lock_wait`).
    Timeout,
    /// The connection was lost or terminated by the server.
    Connection,
    /// The database refused to write for a reason outside the migration (read-only).
    ReadOnly,
    /// The statement itself failed: the migration needs fixing.
    Statement,
    /// The check before commit found a problem the migration left behind (SQLite's foreign
    /// key check).
    Check,
    /// The file ended the migration's transaction itself (`COMMIT`/`ROLLBACK` inside it).
    TransactionEnded,
}

impl Cause {
    /// Whether the migration itself is at fault (fix it), rather than its circumstances.
    pub fn blames_migration(self) -> bool {
        matches!(
            self,
            Cause::Statement | Cause::Check | Cause::TransactionEnded
        )
    }
}

/// One failure: its cause, the 0-based statement when known, the database's message.
#[derive(Debug, Clone)]
pub struct Failure {
    /// What kind of failure.
    pub cause: Cause,
    /// 0-based index of the failing statement, when known.
    pub statement: Option<usize>,
    /// The database's message (secrets scrubbed).
    pub message: String,
}

/// What became of a migration that did not apply.
#[derive(Debug, Clone)]
pub enum ApplyError {
    /// It ran in a transaction that was rolled back: nothing of it remains.
    RolledBack(Failure),
    /// It ran outside a transaction and stopped at the failing statement: the ones before it
    /// stay applied. `recorded`: its history row now says `failed` (otherwise the row could
    /// not be written and still says `running`).
    Stopped {
        /// What failed.
        failure: Failure,
        /// The `failed` row was written.
        recorded: bool,
    },
    /// A backfill batch waited for a lock longer than the lock timeout through every retry
    /// and was rolled back: the batches before it stay, and the history row stays `running`
    /// with its progress, so the next `up` resumes it.
    Paused(Failure),
    /// Another deployer's `running` claim on it outlasted `lock_wait` (SQLite, where each
    /// migration is claimed on its own).
    Claimed {
        /// What was found.
        message: String,
    },
}

impl ApplyError {
    /// The failure, when a statement failed.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            ApplyError::RolledBack(f)
            | ApplyError::Paused(f)
            | ApplyError::Stopped { failure: f, .. } => Some(f),
            ApplyError::Claimed { .. } => None,
        }
    }

    /// The database's message.
    pub fn message(&self) -> &str {
        match self {
            ApplyError::Claimed { message } => message,
            other => &other.failure().expect("a failure").message,
        }
    }

    /// 0-based index of the failing statement, when known.
    pub fn statement(&self) -> Option<usize> {
        self.failure().and_then(|f| f.statement)
    }

    /// A lock timeout that rolled everything back: retrying is safe.
    pub fn retryable(&self) -> bool {
        matches!(self, ApplyError::RolledBack(f) if f.cause == Cause::LockTimeout)
    }
}

/// Failures of the database layer.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The scheme is not one we know.
    #[error(
        "unknown database URL scheme `{scheme}` in {url} (expected postgres://, postgresql://, mysql://, mariadb:// or sqlite://)"
    )]
    UnknownScheme {
        /// The scheme.
        scheme: String,
        /// The redacted URL.
        url: String,
    },
    /// The URL is malformed.
    #[error("invalid database URL {url}: {message}")]
    InvalidUrl {
        /// The redacted URL.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// Connecting failed (refused, unreachable, authentication).
    #[error("cannot connect to {url}: {message}")]
    Connect {
        /// The redacted URL.
        url: String,
        /// Why.
        message: String,
    },
    /// A query of the engine itself failed.
    #[error("{context} on {url}: {message}")]
    Query {
        /// What the engine was doing.
        context: String,
        /// The redacted URL.
        url: String,
        /// The database's message.
        message: String,
    },
    /// The history table does not have the shape `migrate` created.
    #[error("history table {table} on {url} {problem} (was it altered by hand?)")]
    HistoryShape {
        /// The table.
        table: String,
        /// The redacted URL.
        url: String,
        /// What is wrong.
        problem: String,
    },
    /// Another deployer held the lock for the whole `lock_wait`.
    #[error(
        "gave up after {waited:?} waiting for the migration lock on {url}, held by {holder} (setting lock_wait)"
    )]
    LockWait {
        /// How long we waited.
        waited: Duration,
        /// Who holds it.
        holder: String,
        /// The redacted URL.
        url: String,
    },
    /// A transaction- or statement-mode connection pooler sits between us and PostgreSQL.
    #[error(
        "{url} goes through a connection pooler in transaction or statement mode (PgBouncer?): session advisory locks leak and prepared statements break behind it. Point migrate at PostgreSQL directly, or at a session-mode pool"
    )]
    Pooler {
        /// The redacted URL.
        url: String,
    },
    /// Connecting needed a second connection for a moment and the database (a full pool)
    /// gave none in time: retried, then this error.
    #[error(
        "cannot connect to {url}: {message}. While connecting, migrate opens a second connection for a moment to detect a transaction-mode pooler; behind PgBouncer in session mode, size the pool for one spare server connection beyond the concurrent deployers"
    )]
    Crowded {
        /// The redacted URL.
        url: String,
        /// What happened.
        message: String,
    },
    /// The lock's connection was lost while migrations ran.
    #[error("lost the migration lock on {url} ({message}): stopped before the next migration")]
    LockLost {
        /// The redacted URL.
        url: String,
        /// Why.
        message: String,
    },
    /// Releasing the lock failed.
    #[error("could not release the migration lock on {url}: {message}")]
    Unlock {
        /// The redacted URL.
        url: String,
        /// Why.
        message: String,
    },
}
