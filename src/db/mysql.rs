//! MySQL/MariaDB: DDL commits implicitly, so the engine runs every migration statement by
//! statement ([`Dialect::transactional_ddl`]), DML in a transaction with its progress update;
//! the session's lock timeouts come from the settings and are restored, with the session's
//! variables and current database, after a migration that may change them; the migration
//! lock is `GET_LOCK` on the migration session, polled with a zero timeout.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlDatabaseError};

use crate::db::Target;
use crate::db::backend::{Backend, Opened, Ran, query_error};
use crate::db::error::{Cause, DbError};
use crate::db::exec::Sqlx;
use crate::db::history_sql::Value;
use crate::db::lock::{SessionLock, SessionLockSql};
use crate::db::settings::{Settings, TableName};
use crate::dialect::Dialect;

/// MySQL or MariaDB, as a [`Backend`]: the session's variables as set up on connecting,
/// to restore any a migration changes.
pub struct Mysql {
    variables: HashMap<String, String>,
}

/// MariaDB: one statement free of the session's `max_statement_time`.
const MARIADB_EXEMPT: &str = "SET STATEMENT max_statement_time = 0 FOR ";

/// Every session variable and its value.
const SESSION_VARIABLES: &str = "SELECT CAST(VARIABLE_NAME AS CHAR), CAST(VARIABLE_VALUE AS CHAR) FROM information_schema.SESSION_VARIABLES";

/// Session variables that change by themselves (clocks, counters, ids of the last
/// statement): never restored.
const VOLATILE: [&str; 12] = [
    "timestamp",
    "last_insert_id",
    "insert_id",
    "identity",
    "rand_seed1",
    "rand_seed2",
    "warning_count",
    "error_count",
    "in_transaction",
    "last_gtid",
    "gtid_seq_no",
    "pseudo_thread_id",
];

/// `name = value` for `SET SESSION`, the value quoted unless it is a number.
fn assignment(name: &str, value: &str) -> String {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        format!("{name} = {value}")
    } else {
        format!(
            "{name} = '{}'",
            value.replace('\\', "\\\\").replace('\'', "''")
        )
    }
}

/// The user variables (`@name`, not `@@system`) a migration's text mentions.
fn user_variables(sql: &str) -> Vec<String> {
    let bytes = sql.as_bytes();
    let mut names: Vec<String> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'@' && bytes.get(i + 1) != Some(&b'@') && (i == 0 || bytes[i - 1] != b'@') {
            let start = i + 1;
            let mut end = start;
            while end < bytes.len()
                && (bytes[end].is_ascii_alphanumeric()
                    || bytes[end] == b'_'
                    || bytes[end] == b'$'
                    || bytes[end] == b'.')
            {
                end += 1;
            }
            if end > start {
                let name = sql[start..end].to_string();
                if !names.contains(&name) {
                    names.push(name);
                }
            }
            i = end;
        } else {
            i += 1;
        }
    }
    names
}

impl Backend for Mysql {
    type Db = sqlx::MySql;
    const DIALECT: Dialect = Dialect::Mysql;
    const BATCH_BEGIN: Option<&'static str> =
        Some("SET TRANSACTION ISOLATION LEVEL READ COMMITTED; BEGIN");
    const CURRENT_SCHEMA: Option<&'static str> = Some("SELECT CAST(DATABASE() AS CHAR)");

    const HISTORY_EXISTS: &'static str = "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES \
        WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?";

    const HISTORY_COLUMNS: &'static str = "SELECT CAST(COLUMN_NAME AS CHAR), CAST(DATA_TYPE AS CHAR) FROM information_schema.COLUMNS \
        WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?";

    const USER_TABLES: &'static str = "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES \
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' \
        AND NOT (TABLE_SCHEMA = COALESCE(?, DATABASE()) AND BINARY TABLE_NAME = BINARY ?) ORDER BY 1";

    // Tables, views and sequences, then stored routines and events. Names compare exactly
    // (information_schema's collation ignores case; table names on Linux do not).
    const RELATIONS: &'static str = "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES \
        WHERE TABLE_SCHEMA = DATABASE() \
        AND NOT (TABLE_SCHEMA = COALESCE(?, DATABASE()) AND BINARY TABLE_NAME = BINARY ?) \
        UNION ALL SELECT CAST(ROUTINE_NAME AS CHAR) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() \
        UNION ALL SELECT CAST(EVENT_NAME AS CHAR) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = DATABASE() \
        LIMIT 5";

    const OTHER_HISTORIES: &'static str = "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.COLUMNS \
        WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME <> ? \
        AND COLUMN_NAME IN ('version', 'checksum', 'sql_text', 'state', 'statements_applied', 'statements_total') GROUP BY TABLE_NAME HAVING COUNT(*) = 6 ORDER BY 1";

    const PROBE_TABLE: &'static str = "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES \
        WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND TABLE_NAME = ?";

    const PROBE_COLUMN: &'static str = "SELECT CAST(COLUMN_NAME AS CHAR) FROM information_schema.COLUMNS \
        WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND COLUMN_NAME = ?";

    // MySQL and MariaDB have no invalid indexes: a failed index build leaves none.
    const PROBE_INDEX: &'static str = "SELECT 'valid' FROM information_schema.STATISTICS \
        WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = COALESCE(?, TABLE_NAME) AND INDEX_NAME = ? LIMIT 1";

    const SESSION: Option<&'static str> = Some("SELECT CAST(CONNECTION_ID() AS CHAR)");

    const SESSION_ALIVE: Option<&'static str> = Some(
        "SELECT CAST(ID AS CHAR) FROM information_schema.PROCESSLIST WHERE CAST(ID AS CHAR) = ?",
    );

    async fn open(
        conn: &mut MySqlConnection,
        _options: &MySqlConnectOptions,
        target: &Target,
        settings: &Settings,
        table: &TableName,
    ) -> Result<Opened<Self>, DbError> {
        let seconds = settings.lock_timeout.as_secs().max(1);
        let mut setup = vec![format!(
            "SET SESSION lock_wait_timeout = {seconds}, innodb_lock_wait_timeout = {seconds}"
        )];
        sqlx::MySql::raw(conn, &setup[0])
            .await
            .map_err(|e| query_error(target, "setting session timeouts", &e))?;
        if let Some(t) = settings.statement_timeout {
            // MariaDB: seconds as a decimal. MySQL refuses the variable (its
            // max_execution_time only limits SELECT): not fatal.
            let statement = format!("SET SESSION max_statement_time = {}", t.as_secs_f64());
            if sqlx::MySql::raw(conn, &statement).await.is_ok() {
                setup.push(statement);
            }
        }
        let variables: HashMap<String, String> =
            sqlx::MySql::texts(conn, SESSION_VARIABLES, &[], 2)
                .await
                .map_err(|e| query_error(target, "reading the session variables", &e))?
                .into_iter()
                .map(|mut row| (row.remove(0).to_ascii_lowercase(), row.remove(0)))
                .collect();
        let database = table.schema.clone().unwrap_or_default();
        let mut reset = vec![
            format!("USE `{}`", database.replace('`', "``")),
            "UNLOCK TABLES".to_string(),
            // A temporary table shadows even a database-qualified name.
            format!(
                "DROP TEMPORARY TABLE IF EXISTS {}",
                table.quoted(Dialect::Mysql)
            ),
        ];
        reset.extend(setup);
        // MariaDB: first the limit the reset itself runs under (a migration may set it tiny).
        if let Some(limit) = variables.get("max_statement_time") {
            reset.insert(
                0,
                format!("SET SESSION {}", assignment("max_statement_time", limit)),
            );
        }
        Ok(Opened {
            backend: Mysql { variables },
            lock: Box::new(SessionLock::new(
                target,
                Value::Text(Some(lock_name(table))),
                GET_LOCK,
            )),
            reset,
        })
    }

    fn bookkeeping_prefix(&self) -> Option<&'static str> {
        // MariaDB only: MySQL has no SET STATEMENT (and its max_execution_time limits only
        // SELECT).
        self.variables
            .contains_key("max_statement_time")
            .then_some(MARIADB_EXEMPT)
    }

    async fn transactional_dml(&mut self, conn: &mut MySqlConnection) -> bool {
        let query = format!(
            "{}SELECT CAST(COUNT(*) AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND ENGINE <> 'InnoDB'",
            self.bookkeeping_prefix().unwrap_or("")
        );
        let others = sqlx::MySql::text(conn, &query, &[]).await;
        // Unknown: not transactional.
        matches!(others, Ok(Some(n)) if n == "0")
    }

    /// After the statements of `open` (current database, table locks, the timeouts): the
    /// migration's temporary tables and user variables, and every session variable that
    /// differs from what it was on connecting.
    async fn reset_after(
        &mut self,
        conn: &mut MySqlConnection,
        ran: &Ran<'_>,
    ) -> Result<(), sqlx::Error> {
        for table in ran.temp_tables {
            let drop = format!(
                "DROP TEMPORARY TABLE IF EXISTS `{}`",
                table.replace('`', "``").replace('.', "`.`")
            );
            sqlx::MySql::raw(conn, &drop).await?;
        }
        let names = user_variables(ran.migration.sql);
        if !names.is_empty() {
            let clear: Vec<String> = names
                .iter()
                .map(|n| format!("@`{}` = NULL", n.replace('`', "``")))
                .collect();
            sqlx::MySql::raw(conn, &format!("SET {}", clear.join(", "))).await?;
        }
        let now = sqlx::MySql::texts(conn, SESSION_VARIABLES, &[], 2).await?;
        for mut row in now {
            let (name, value) = (row.remove(0).to_ascii_lowercase(), row.remove(0));
            if VOLATILE.contains(&name.as_str()) {
                continue;
            }
            match self.variables.get(&name) {
                Some(before) if *before != value => {
                    // Read-only variables cannot differ; one that refuses is left as is.
                    let _ = sqlx::MySql::raw(
                        conn,
                        &format!("SET SESSION {}", assignment(&name, before)),
                    )
                    .await;
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn classify(&self, e: &sqlx::Error) -> Cause {
        let number = match e {
            sqlx::Error::Database(db) => db
                .try_downcast_ref::<MySqlDatabaseError>()
                .map(|m| m.number()),
            _ => None,
        };
        match number {
            // 1205: lock wait timeout exceeded (also for metadata locks).
            Some(1205) => Cause::LockTimeout,
            // 3024: max_execution_time exceeded; 1969: MariaDB's max_statement_time.
            Some(3024 | 1969) => Cause::Timeout,
            // 1927: connection killed; 2006/2013: server gone away, lost connection.
            Some(1927 | 2006 | 2013) => Cause::Connection,
            // 1290: --read-only; 1792: read-only transaction.
            Some(1290 | 1792) => Cause::ReadOnly,
            _ => Cause::Statement,
        }
    }
}

/// The lock's name: the history table's database and name (hashed past MySQL's 64 bytes).
fn lock_name(table: &TableName) -> String {
    let name = format!("migrate:{table}");
    if name.len() <= 64 {
        return name;
    }
    let digest = Sha256::digest(name.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("migrate:{hex}")
}

/// MySQL's named lock, bound with its name.
const GET_LOCK: SessionLockSql = SessionLockSql {
    acquire: "SELECT CAST(GET_LOCK(?, 0) AS CHAR)",
    release: "SELECT CAST(RELEASE_LOCK(?) AS CHAR)",
    check: "SELECT CAST(IS_USED_LOCK(?) = CONNECTION_ID() AS CHAR)",
    holder: "SELECT CAST(CONCAT('connection ', p.ID, ' (', p.USER, '@', p.HOST, ')') AS CHAR) \
        FROM information_schema.PROCESSLIST p WHERE p.ID = IS_USED_LOCK(?)",
    released_by: "RELEASE_ALL_LOCKS()",
};
