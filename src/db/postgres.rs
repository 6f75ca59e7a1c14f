//! PostgreSQL: transactional DDL, so migrations run in one transaction with their history row
//! (guarded by a `SET LOCAL` mark against a `COMMIT` inside the file); `lock_timeout` and
//! `statement_timeout` on the migration session, restored after a migration that may change
//! them; a session advisory lock on the migration session (polled with
//! `pg_try_advisory_lock`, never a blocking call); and a refusal to work through a
//! transaction-mode connection pooler.

use std::time::Duration;

use sha2::{Digest, Sha256};
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgDatabaseError};

use crate::analyze::ir::QName;
use crate::db::backend::{Backend, Conn, Opened, query_error, quote_qname};
use crate::db::error::{Cause, DbError};
use crate::db::exec::{Guard, Sqlx, TxStyle};
use crate::db::history_sql::Value;
use crate::db::lock::{SessionLock, SessionLockSql};
use crate::db::settings::{Settings, TableName};
use crate::db::{Migration, Target};
use crate::dialect::Dialect;

/// PostgreSQL, as a [`Backend`].
pub struct Postgres;

impl Backend for Postgres {
    type Db = sqlx::Postgres;
    const DIALECT: Dialect = Dialect::Postgres;
    const CURRENT_SCHEMA: Option<&'static str> = Some("SELECT current_schema()::text");

    const HISTORY_EXISTS: &'static str = "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
        WHERE n.nspname = coalesce($1, current_schema()) AND c.relname = $2 AND c.relkind IN ('r', 'p')";

    const HISTORY_COLUMNS: &'static str = "SELECT column_name::text, data_type::text FROM information_schema.columns \
        WHERE table_schema = coalesce($1, current_schema()) AND table_name = $2";

    // Only the history table's schema: another app may live in another schema.
    const USER_TABLES: &'static str = "SELECT table_name::text FROM information_schema.tables \
        WHERE table_type = 'BASE TABLE' AND table_schema = coalesce($1, current_schema()) \
        AND table_name <> $2 ORDER BY 1";

    // Relations (sequences too), user types (enums, domains, composite and range types; a
    // table's row type and array types aside), functions and schemas other than `public`:
    // anything the old app could use. Extensions' members are left out.
    const RELATIONS: &'static str = "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
        AND n.nspname NOT LIKE 'pg\\_%' \
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e') \
        AND NOT (n.nspname = coalesce($1, current_schema()) AND c.relname = $2) \
        UNION ALL SELECT 'type ' || n.nspname || '.' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
        WHERE t.typtype IN ('e', 'd', 'c', 'r', 'm') AND (t.typtype <> 'c' OR EXISTS (SELECT 1 FROM pg_class r WHERE r.oid = t.typrelid AND r.relkind = 'c')) \
        AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' \
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e') \
        UNION ALL SELECT 'function ' || n.nspname || '.' || p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%' \
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e') \
        UNION ALL SELECT 'schema ' || n.nspname FROM pg_namespace n \
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'public') AND n.nspname NOT LIKE 'pg\\_%' \
        AND n.nspname <> coalesce($1, current_schema()) \
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e') \
        LIMIT 5";

    const OTHER_HISTORIES: &'static str = "SELECT table_name::text FROM information_schema.columns \
        WHERE table_schema = coalesce($1, current_schema()) AND table_name <> $2 \
        AND column_name IN ('version', 'checksum', 'sql_text', 'state', 'statements_applied', 'statements_total') GROUP BY table_name HAVING count(*) = 6 ORDER BY 1";

    const PROBE_TABLE: &'static str = "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
        WHERE n.nspname = coalesce($1, current_schema()) AND c.relname = $3 AND c.relkind IN ('r', 'p') AND $2::text IS NOT DISTINCT FROM $3";

    const PROBE_COLUMN: &'static str = "SELECT column_name::text FROM information_schema.columns \
        WHERE table_schema = coalesce($1, current_schema()) AND table_name = $2 AND column_name = $3";

    const PROBE_INDEX: &'static str = "SELECT CASE WHEN i.indisvalid THEN 'valid' ELSE 'invalid' END \
        FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid JOIN pg_namespace n ON n.oid = c.relnamespace \
        JOIN pg_class t ON t.oid = i.indrelid \
        WHERE n.nspname = coalesce($1, current_schema()) AND c.relname = $3 AND ($2::text IS NULL OR t.relname = $2)";

    const SESSION: Option<&'static str> = Some(
        "SELECT pid::text || ' (started ' || backend_start::text || ')' FROM pg_stat_activity WHERE pid = pg_backend_pid()",
    );

    const SESSION_ALIVE: Option<&'static str> = Some(
        "SELECT pid::text FROM pg_stat_activity WHERE pid::text || ' (started ' || backend_start::text || ')' = $1",
    );

    fn connect_options(options: PgConnectOptions, _: &Settings) -> PgConnectOptions {
        options.application_name(&format!("migrate {}", env!("CARGO_PKG_VERSION")))
    }

    async fn open(
        conn: &mut PgConnection,
        options: &PgConnectOptions,
        target: &Target,
        settings: &Settings,
        table: &TableName,
    ) -> Result<Opened<Self>, DbError> {
        let mut session = vec![
            "SET client_min_messages = warning".to_string(),
            format!(
                "SET lock_timeout = '{}ms'",
                settings.lock_timeout.as_millis()
            ),
        ];
        if let Some(t) = settings.statement_timeout {
            session.push(format!("SET statement_timeout = '{}ms'", t.as_millis()));
        }
        let setup = session.join("; ");
        sqlx::Postgres::raw(conn, &setup)
            .await
            .map_err(|e| query_error(target, "setting session timeouts", &e))?;
        // PostgreSQL 14+: if this process dies mid-statement, the server notices within a
        // second and rolls back, instead of finishing a long statement for nobody while
        // holding its locks (and the migration lock). Older servers do not know the setting.
        let check = "SET client_connection_check_interval = '1s'";
        let checks_client = sqlx::Postgres::raw(conn, check).await.is_ok();
        detect_pooler(target, conn, options).await?;
        // Every migration starts from this state: RESET ALL undoes a migration's SET (but
        // not its role), DISCARD TEMP its temporary tables, CLOSE ALL its cursors, UNLISTEN
        // its channels; then the set-up again. (Not DISCARD ALL: it would deallocate sqlx's
        // prepared statements.)
        let mut reset = vec![
            "RESET ALL".to_string(),
            "RESET ROLE".to_string(),
            "SET SESSION AUTHORIZATION DEFAULT".to_string(),
            "DISCARD TEMP".to_string(),
            "CLOSE ALL".to_string(),
            "UNLISTEN *".to_string(),
            setup,
        ];
        if checks_client {
            reset.push(check.to_string());
        }
        Ok(Opened {
            backend: Postgres,
            lock: Box::new(SessionLock::new(
                target,
                Value::Int(Some(lock_key(table))),
                ADVISORY_LOCK,
            )),
            reset: vec![reset.join("; ")],
        })
    }

    fn classify(&self, e: &sqlx::Error) -> Cause {
        let code = match e {
            sqlx::Error::Database(db) => db
                .try_downcast_ref::<PgDatabaseError>()
                .map(|p| p.code().to_string()),
            _ => None,
        };
        match code.as_deref() {
            Some("55P03") => Cause::LockTimeout,
            // 57014: canceled by statement_timeout (or by an operator).
            Some("57014") => Cause::Timeout,
            // 57P01..57P03: the server terminated the session or is shutting down.
            Some("57P01" | "57P02" | "57P03") => Cause::Connection,
            // 25006: read-only transaction (a standby, or default_transaction_read_only).
            Some("25006") => Cause::ReadOnly,
            _ => Cause::Statement,
        }
    }

    fn create_schema(schema: &str) -> Option<String> {
        Some(format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
    }

    fn drop_invalid_index(index: &QName) -> Option<String> {
        Some(format!(
            "DROP INDEX CONCURRENTLY IF EXISTS {}",
            quote_qname(index)
        ))
    }

    async fn tx_style(&mut self, _conn: &mut Conn<Self>, _m: &Migration<'_>) -> TxStyle {
        TxStyle {
            begin: "BEGIN",
            batched: false,
            verify: None,
            guard: Guard::Setting,
        }
    }
}

/// The advisory lock key: the schema-qualified history table's name, hashed.
fn lock_key(table: &TableName) -> i64 {
    let digest = Sha256::digest(format!("migrate:{table}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// PostgreSQL's session advisory lock, bound with its key. `pg_locks` shows the key's halves
/// in `classid` and `objid`.
const ADVISORY_LOCK: SessionLockSql = SessionLockSql {
    acquire: "SELECT pg_try_advisory_lock($1)::text",
    release: "SELECT pg_advisory_unlock($1)::text",
    check: "SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' AND granted \
        AND pid = pg_backend_pid() AND classid::bigint = ($1 >> 32) & 4294967295 \
        AND objid::bigint = $1 & 4294967295 AND objsubid = 1",
    holder: "SELECT 'pid ' || a.pid || ' (' || coalesce(a.application_name, '') || ', ' || coalesce(host(a.client_addr), 'local') || ')' \
        FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
        WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = ($1 >> 32) & 4294967295 \
        AND l.objid::bigint = $1 & 4294967295 AND l.objsubid = 1",
    released_by: "pg_advisory_unlock_all() or DISCARD ALL",
};

/// `pg_backend_pid()` through the simple protocol (no prepared statement, which a
/// transaction pooler would break).
async fn backend_pid(conn: &mut PgConnection) -> Result<i32, sqlx::Error> {
    let row = sqlx::raw_sql("SELECT pg_backend_pid()")
        .fetch_one(conn)
        .await?;
    row.try_get(0)
}

/// How long the short-lived second connection of [`detect_pooler`] may take, with its
/// query. Behind a session-mode pool that is full it waits for a free server connection:
/// then the deployer lets go of its own connection and tries again later
/// ([`DbError::Crowded`]), so deployers never hold one connection while waiting for another.
const PROBE: Duration = Duration::from_secs(2);

/// Refuses to work through a connection pooler in transaction or statement mode (PgBouncer's
/// default for many deployments): behind it, a session advisory lock stays on a server
/// connection that goes back to the pool (leaking the lock) and prepared statements vanish
/// between transactions. Two client connections that share one server backend, or one client
/// connection that changes backend between statements, give the pooler away. The second
/// connection is closed at once: while waiting for the lock and applying, a deployer holds
/// one server connection.
async fn detect_pooler(
    target: &Target,
    conn: &mut PgConnection,
    options: &PgConnectOptions,
) -> Result<(), DbError> {
    use sqlx::{ConnectOptions, Connection};
    let a = backend_pid(conn)
        .await
        .map_err(|e| query_error(target, "reading the backend pid", &e))?;
    let probe_options = options.clone().application_name(&format!(
        "migrate {} (pooler check)",
        env!("CARGO_PKG_VERSION")
    ));
    let probe = async {
        let mut probe = probe_options.connect().await?;
        let b = backend_pid(&mut probe).await;
        let _ = probe.close().await;
        b
    };
    let b = match tokio::time::timeout(PROBE, probe).await {
        Ok(b) => b.map_err(|e| query_error(target, "reading the backend pid", &e))?,
        Err(_) => {
            return Err(DbError::Crowded {
                url: target.redacted.clone(),
                message: format!(
                    "a second connection got no server within {} s (a full session-mode pool?)",
                    PROBE.as_secs()
                ),
            });
        }
    };
    let a_again = backend_pid(conn)
        .await
        .map_err(|e| query_error(target, "reading the backend pid", &e))?;
    if a == b || a != a_again {
        return Err(DbError::Pooler {
            url: target.redacted.clone(),
        });
    }
    Ok(())
}
