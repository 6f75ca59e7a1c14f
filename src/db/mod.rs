//! Executing migrations: one [`Driver`] per dialect behind one trait, database URLs (always
//! redacted in messages), history-table names, timeouts and the lock-timeout backoff.
//!
//! Drivers are synchronous from the outside: each owns a single-threaded tokio runtime and
//! blocks on sqlx. The CLI is sequential, and a synchronous trait stays object-safe.

mod exec;
mod history_sql;
pub mod mysql;
pub mod postgres;
pub mod sqlite;

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use crate::dialect::Dialect;
use crate::history::HistoryRow;

/// A database the CLI was pointed at.
#[derive(Clone)]
pub struct Target {
    /// The URL as given (may hold a password: never print it).
    url: String,
    /// Its dialect.
    pub dialect: Dialect,
    /// The URL with its password replaced by `***`: the only form ever shown.
    pub redacted: String,
    password: Option<String>,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Target({})", self.redacted)
    }
}

/// Every password and raw URL seen by [`Target::parse`], so that any text leaving the
/// process (including a panic message) can be scrubbed of them.
static SECRETS: std::sync::Mutex<Vec<(String, String)>> = std::sync::Mutex::new(Vec::new());

/// Replaces every known secret in `text` (URLs by their redacted form, passwords by `***`).
pub fn scrub_secrets(text: &str) -> String {
    let mut text = text.to_string();
    if let Ok(secrets) = SECRETS.lock() {
        for (secret, replacement) in secrets.iter() {
            text = text.replace(secret, replacement);
        }
    }
    text
}

fn remember_secret(secret: &str, replacement: &str) {
    if secret.len() >= 3 {
        if let Ok(mut secrets) = SECRETS.lock() {
            secrets.push((secret.to_string(), replacement.to_string()));
            // Longest first, so a URL is replaced before the password inside it.
            secrets.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
        }
    }
}

impl Target {
    /// Parses a database URL: `postgres://`, `postgresql://`, `mysql://`, `mariadb://`, `sqlite://PATH`.
    pub fn parse(url: &str) -> Result<Target, DbError> {
        let redacted = redact(url);
        let Some((scheme, _)) = url.split_once("://") else {
            return Err(DbError::InvalidUrl {
                url: redacted,
                message: "expected <scheme>://...".into(),
            });
        };
        let dialect = match scheme.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Dialect::Postgres,
            "mysql" | "mariadb" => Dialect::Mysql,
            "sqlite" => Dialect::Sqlite,
            other => {
                return Err(DbError::UnknownScheme {
                    scheme: other.to_string(),
                    url: redacted,
                });
            }
        };
        let password = password_of(url);
        remember_secret(url, &redacted);
        if let Some(p) = &password {
            remember_secret(p, "***");
        }
        Ok(Target {
            password,
            url: url.to_string(),
            dialect,
            redacted,
        })
    }

    /// The URL for sqlx (MariaDB's scheme spelled the way sqlx expects).
    fn sqlx_url(&self) -> String {
        match self.url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("mariadb") => {
                format!("mysql://{rest}")
            }
            _ => self.url.clone(),
        }
    }

    /// Removes the password from any text (error messages of drivers may echo it).
    pub fn scrub(&self, text: &str) -> String {
        let mut text = text.replace(&self.url, &self.redacted);
        if let Some(password) = self.password.as_deref().filter(|p| p.len() >= 3) {
            text = text.replace(password, "***");
        }
        text
    }
}

fn password_of(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    Some(password.to_string()).filter(|p| !p.is_empty())
}

/// The URL with the password (in the authority or a `password=` parameter) replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return redact_params(url);
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_string(),
    };
    format!("{scheme}://{authority}{}", redact_params(tail))
}

fn redact_params(text: &str) -> String {
    let Some((path, query)) = text.split_once('?') else {
        return text.to_string();
    };
    let params: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _))
                if key.eq_ignore_ascii_case("password")
                    || key.eq_ignore_ascii_case("sslpassword")
                    || key.eq_ignore_ascii_case("pass")
                    || key.eq_ignore_ascii_case("pwd") =>
            {
                format!("{key}=***")
            }
            _ => pair.to_string(),
        })
        .collect();
    format!("{path}?{}", params.join("&"))
}

/// A validated history-table name, optionally schema-qualified (`ops.migrate_history`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    /// Schema, when qualified.
    pub schema: Option<String>,
    /// Table.
    pub name: String,
}

impl TableName {
    /// Validates `value` as `[schema.]table`, each an identifier of letters, digits and `_`.
    pub fn parse(value: &str) -> Result<TableName, String> {
        let parts: Vec<&str> = value.split('.').collect();
        let valid = |p: &str| {
            !p.is_empty()
                && p.len() <= 63
                && p.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        match parts.as_slice() {
            [name] if valid(name) => Ok(TableName {
                schema: None,
                name: name.to_string(),
            }),
            [schema, name] if valid(schema) && valid(name) => Ok(TableName {
                schema: Some(schema.to_string()),
                name: name.to_string(),
            }),
            _ => Err(format!(
                "`{value}` is not a valid table name (letters, digits and _, optionally schema.table)"
            )),
        }
    }

    /// The name quoted for `dialect`.
    pub fn quoted(&self, dialect: Dialect) -> String {
        let q = |s: &str| match dialect {
            Dialect::Mysql => format!("`{s}`"),
            _ => format!("\"{s}\""),
        };
        match &self.schema {
            Some(schema) => format!("{}.{}", q(schema), q(&self.name)),
            None => q(&self.name),
        }
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(s) => write!(f, "{s}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// Engine settings from `migrate.toml`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// History table.
    pub history_table: TableName,
    /// How long to wait for another deployer's lock.
    pub lock_wait: Duration,
    /// Lock timeout of migration statements (PostgreSQL `lock_timeout`, MySQL `lock_wait_timeout`).
    pub lock_timeout: Duration,
    /// Optional statement timeout (PostgreSQL `statement_timeout`, MySQL `max_statement_time`).
    pub statement_timeout: Option<Duration>,
    /// Retries of a transactional migration that hit its lock timeout.
    pub lock_retries: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            history_table: TableName {
                schema: None,
                name: "migrate_history".into(),
            },
            lock_wait: Duration::from_secs(600),
            lock_timeout: Duration::from_secs(5),
            statement_timeout: None,
            lock_retries: 5,
        }
    }
}

/// Parses `500ms`, `5s`, `10m`, `1h` (a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (e.g. 500ms, 5s, 10m)"))?;
    let d = match unit.trim() {
        "ms" => Duration::from_millis(n),
        "" | "s" => Duration::from_secs(n),
        "m" | "min" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => return Err(format!("`{text}` has an unknown unit (use ms, s, m or h)")),
    };
    Ok(d)
}

/// One migration to apply.
#[derive(Debug, Clone)]
pub struct Migration<'a> {
    /// Version (fits the history table's BIGINT).
    pub version: i64,
    /// Description.
    pub description: &'a str,
    /// `sha256:<hex>` of the normalised text.
    pub checksum: String,
    /// The normalised text.
    pub sql: &'a str,
    /// Its statements, in order (for statement-by-statement execution).
    pub statements: Vec<&'a str>,
    /// Byte offset of each statement in `sql`.
    pub offsets: Vec<usize>,
    /// The `migrate:allow` suppressions, as JSON.
    pub allows: String,
}

impl Migration<'_> {
    /// 1-based line of statement `index` in the file.
    pub fn line_of(&self, index: usize) -> usize {
        let offset = self.offsets.get(index).copied().unwrap_or(0);
        self.sql[..offset.min(self.sql.len())].matches('\n').count() + 1
    }

    /// `begin` and the file as one text, to open the transaction and run the migration in
    /// one go; just `begin` when the file holds no statement (only comments).
    pub fn after_begin(&self, begin: &str) -> String {
        let text = if self.statements.is_empty() {
            ""
        } else {
            self.sql
        };
        format!("{begin};\n{text}")
    }
}

/// What became of a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Applied now, in this many milliseconds.
    Applied {
        /// Execution time.
        ms: u64,
    },
    /// Another deployer applied it meanwhile (SQLite re-read under the write lock).
    AlreadyApplied,
}

/// A migration that did not apply.
#[derive(Debug, Clone)]
pub struct ApplyError {
    /// It failed on a lock timeout (SQLSTATE 55P03 / MySQL 1205): nothing changed, retry later.
    pub lock_timeout: bool,
    /// It was cancelled by a timeout (statement_timeout, SQLITE_BUSY): running its statements
    /// again to locate the failure would only wait as long again.
    pub timeout: bool,
    /// 0-based index of the failing statement, when known.
    pub statement: Option<usize>,
    /// The database's message (password scrubbed).
    pub message: String,
    /// A `failed` row now records it (non-transactional migrations).
    pub recorded: bool,
}

/// How a failed migration was fixed by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Its remaining statements were applied by hand: record it as applied.
    Applied,
    /// Its partial changes were undone by hand: forget the row so `up` runs it again.
    RolledBack,
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

/// Polls `try_lock` every 250 ms until it succeeds or `wait` passes, telling `waiting` who
/// holds the lock after 3 s and every 10 s after that. Never a blocking lock call: the tool's
/// own deadline decides, and a waiting deployer holds no long statement or transaction.
fn poll_lock<D: Driver>(
    driver: &mut D,
    wait: Duration,
    waiting: &mut dyn FnMut(&str),
    try_lock: impl Fn(&mut D) -> Result<bool, DbError>,
    holder: impl Fn(&mut D) -> String,
) -> Result<(), DbError> {
    let started = std::time::Instant::now();
    let mut next_report = Duration::from_secs(3);
    loop {
        if try_lock(driver)? {
            return Ok(());
        }
        let waited = started.elapsed();
        if waited >= wait {
            return Err(DbError::LockWait {
                waited,
                holder: holder(driver),
                url: driver.target().redacted.clone(),
            });
        }
        if waited >= next_report {
            waiting(&holder(driver));
            next_report = waited + Duration::from_secs(10);
        }
        std::thread::sleep(Duration::from_millis(250).min(wait.saturating_sub(waited)));
    }
}

/// Connects to `target`.
pub fn connect(target: &Target, settings: &Settings) -> Result<Box<dyn Driver>, DbError> {
    Ok(match target.dialect {
        Dialect::Postgres => Box::new(postgres::Postgres::connect(target, settings)?),
        Dialect::Mysql => Box::new(mysql::Mysql::connect(target, settings)?),
        Dialect::Sqlite => Box::new(sqlite::Sqlite::connect(target, settings)?),
    })
}

/// The tool and version written into `applied_by`.
pub fn applied_by() -> String {
    format!("migrate {}", env!("CARGO_PKG_VERSION"))
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

/// How long connecting may take before the host is reported unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// Runs a connect future with [`CONNECT_TIMEOUT`].
async fn connecting<T>(
    connect: impl std::future::Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, sqlx::Error> {
    match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Ok(result) => result,
        Err(_) => Err(sqlx::Error::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!(
                "no answer within {} s (unreachable host?)",
                CONNECT_TIMEOUT.as_secs()
            ),
        ))),
    }
}

/// A single-threaded runtime for a driver.
fn runtime(target: &Target) -> Result<tokio::runtime::Runtime, DbError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| DbError::Connect {
            url: target.redacted.clone(),
            message: format!("cannot start the I/O runtime: {e}"),
        })
}

/// A readable message for a sqlx error, password scrubbed.
fn message(target: &Target, e: &sqlx::Error) -> String {
    let text = match e {
        sqlx::Error::Database(db) => match db.code() {
            Some(code) => format!("{} (SQLSTATE {code})", db.message()),
            None => db.message().to_string(),
        },
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::PoolTimedOut => "timed out".into(),
        other => other.to_string(),
    };
    target.scrub(&text)
}

/// History rows, or the shape error naming what could not be read.
fn rows_or_shape(
    target: &Target,
    table: &TableName,
    rows: Result<Vec<HistoryRow>, String>,
) -> Result<Vec<HistoryRow>, DbError> {
    rows.map_err(|problem| DbError::HistoryShape {
        table: table.to_string(),
        url: target.redacted.clone(),
        problem: target.scrub(&problem),
    })
}

/// `Ok` when a resolve touched a row; an error naming the version otherwise.
fn resolved(target: &Target, version: i64, rows: u64) -> Result<(), DbError> {
    if rows == 0 {
        return Err(DbError::Query {
            context: format!("resolving migration {version}"),
            url: target.redacted.clone(),
            message: "it has no failed or running history row (see `migrate status`)".into(),
        });
    }
    Ok(())
}

/// The column list every dialect's history table has, in order.
pub const HISTORY_COLUMNS: [&str; 14] = [
    "version",
    "description",
    "checksum",
    "phase",
    "sql_text",
    "state",
    "statements_applied",
    "statements_total",
    "applied_at",
    "execution_ms",
    "applied_by",
    "allows",
    "error",
    "failed_statement",
];

/// Checks the columns found in the history table against [`HISTORY_COLUMNS`]; `columns` are
/// `(name, type)` pairs as the catalog reports them.
fn check_shape(
    target: &Target,
    table: &TableName,
    columns: &[(String, String)],
) -> Result<(), DbError> {
    let shape = |problem: String| DbError::HistoryShape {
        table: table.to_string(),
        url: target.redacted.clone(),
        problem,
    };
    for wanted in HISTORY_COLUMNS {
        if !columns.iter().any(|(n, _)| n.eq_ignore_ascii_case(wanted)) {
            return Err(shape(format!("has no column `{wanted}`")));
        }
    }
    for int_column in [
        "version",
        "statements_applied",
        "statements_total",
        "execution_ms",
    ] {
        if let Some((_, ty)) = columns
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(int_column))
        {
            if !ty.to_ascii_lowercase().contains("int") {
                return Err(shape(format!(
                    "has column `{int_column}` of type {ty}, expected an integer type"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_everywhere() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/prod?sslmode=require"),
            "postgres://app:***@db:5432/prod?sslmode=require"
        );
        assert_eq!(
            redact("mysql://root@localhost/x?password=s3cret&a=b"),
            "mysql://root@localhost/x?password=***&a=b"
        );
        assert_eq!(redact("sqlite://app.db"), "sqlite://app.db");
        assert_eq!(redact("postgres://u:p@ss:w@h/db"), "postgres://u:***@h/db");
        let t = Target::parse("postgres://app:s3cret@db/prod").unwrap();
        assert_eq!(t.scrub("auth failed for s3cret"), "auth failed for ***");
        assert_eq!(
            scrub_secrets("panicked near postgres://app:s3cret@db/prod: s3cret"),
            "panicked near postgres://app:***@db/prod: ***"
        );
        assert!(!format!("{t:?}").contains("s3cret"));
    }

    #[test]
    fn schemes() {
        assert_eq!(
            Target::parse("mariadb://r@h/d").unwrap().dialect,
            Dialect::Mysql
        );
        assert_eq!(
            Target::parse("mariadb://r@h/d").unwrap().sqlx_url(),
            "mysql://r@h/d"
        );
        let err = Target::parse("oracle://u:pw@h/d").unwrap_err().to_string();
        assert!(err.contains("oracle") && !err.contains("pw@"), "{err}");
        assert!(Target::parse("nonsense").is_err());
    }

    #[test]
    fn table_names_are_identifiers() {
        assert_eq!(
            TableName::parse("ops.history")
                .unwrap()
                .quoted(Dialect::Mysql),
            "`ops`.`history`"
        );
        for bad in ["", "a b", "x;drop table y", "a.b.c", "1abc", "a\"b"] {
            assert!(TableName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations_and_backoff() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("7").unwrap(), Duration::from_secs(7));
        assert!(parse_duration("5 parsecs").is_err());
        for attempt in 0..8 {
            let d = backoff(attempt);
            let base = (500u64 << attempt).min(30_000);
            assert!(
                d >= Duration::from_millis(base / 2) && d <= Duration::from_millis(base * 3 / 2)
            );
        }
    }
}
