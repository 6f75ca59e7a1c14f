//! MySQL/MariaDB: DDL commits implicitly, so the engine runs every migration statement by
//! statement ([`Dialect::transactional_ddl`]), DML in a transaction with its progress update;
//! the session's lock timeouts come from the settings and are restored, with the session's
//! variables and current database, after a migration that may change them; the migration
//! lock is `GET_LOCK` on the migration session, polled with a zero timeout.

use sha2::{Digest, Sha256};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlDatabaseError};

use crate::db::Target;
use crate::db::backend::{Backend, Opened, query_error};
use crate::db::error::{Cause, DbError};
use crate::db::exec::Sqlx;
use crate::db::history_sql::Value;
use crate::db::lock::{SessionLock, SessionLockSql};
use crate::db::settings::{Settings, TableName};
use crate::dialect::Dialect;

/// MySQL or MariaDB, as a [`Backend`].
pub struct Mysql;

/// Session variables a migration may change (`SET foreign_key_checks = 0`, `SET NAMES`,
/// `SET autocommit = 0`), read after connecting and restored after such a migration.
const SESSION_VARIABLES: [&str; 8] = [
    "autocommit",
    "sql_mode",
    "time_zone",
    "foreign_key_checks",
    "unique_checks",
    "character_set_client",
    "character_set_results",
    "collation_connection",
];

impl Backend for Mysql {
    type Db = sqlx::MySql;
    const DIALECT: Dialect = Dialect::Mysql;
    const CURRENT_SCHEMA: Option<&'static str> = Some("SELECT CAST(DATABASE() AS CHAR)");

    const HISTORY_EXISTS: &'static str = "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES \
        WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?";

    const HISTORY_COLUMNS: &'static str = "SELECT CAST(COLUMN_NAME AS CHAR), CAST(DATA_TYPE AS CHAR) FROM information_schema.COLUMNS \
        WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?";

    const USER_TABLES: &'static str = "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES \
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' \
        AND NOT (TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?) ORDER BY 1";

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
        let read = SESSION_VARIABLES
            .iter()
            .map(|v| format!("CAST(@@SESSION.{v} AS CHAR)"))
            .collect::<Vec<_>>()
            .join(", ");
        let values = sqlx::MySql::texts(
            conn,
            &format!("SELECT {read}"),
            &[],
            SESSION_VARIABLES.len(),
        )
        .await
        .map_err(|e| query_error(target, "reading the session variables", &e))?;
        let restore = SESSION_VARIABLES
            .iter()
            .zip(values.into_iter().next().unwrap_or_default())
            .map(|(name, value)| {
                if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
                    format!("{name} = {value}")
                } else {
                    format!("{name} = '{}'", value.replace('\'', "''"))
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        let database = table.schema.clone().unwrap_or_default();
        let mut reset = vec![format!("USE `{}`", database.replace('`', "``"))];
        if !restore.is_empty() {
            reset.push(format!("SET SESSION {restore}"));
        }
        reset.extend(setup);
        Ok(Opened {
            backend: Mysql,
            lock: Box::new(SessionLock::new(
                target,
                Value::Text(Some(lock_name(table))),
                GET_LOCK,
            )),
            reset,
        })
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
