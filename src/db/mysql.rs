//! MySQL/MariaDB: DDL commits implicitly, so the engine runs every migration statement by
//! statement with a `running` history row and per-statement progress
//! ([`Dialect::transactional_ddl`]); the session's lock timeouts come from the settings; the
//! migration lock is `GET_LOCK` on a connection of its own, polled with a zero timeout.

use sha2::{Digest, Sha256};
use sqlx::Connection;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlDatabaseError};
use tokio::runtime::Runtime;

use crate::db::Target;
use crate::db::driver::{Backend, Opened, connecting, message, query_error};
use crate::db::error::{Cause, DbError};
use crate::db::exec::Sqlx;
use crate::db::lock::Lock;
use crate::db::settings::{Settings, TableName};
use crate::dialect::Dialect;

/// MySQL or MariaDB, as a [`Backend`].
pub struct Mysql;

impl Backend for Mysql {
    type Db = sqlx::MySql;
    const DIALECT: Dialect = Dialect::Mysql;
    const CURRENT_SCHEMA: Option<&'static str> = Some("SELECT CAST(DATABASE() AS CHAR)");

    async fn open(
        conn: &mut MySqlConnection,
        options: &MySqlConnectOptions,
        target: &Target,
        settings: &Settings,
        table: &TableName,
    ) -> Result<Opened<Self>, DbError> {
        let seconds = settings.lock_timeout.as_secs().max(1);
        for statement in [
            format!("SET SESSION lock_wait_timeout = {seconds}"),
            format!("SET SESSION innodb_lock_wait_timeout = {seconds}"),
        ] {
            sqlx::MySql::raw(conn, &statement)
                .await
                .map_err(|e| query_error(target, "setting session timeouts", &e))?;
        }
        if let Some(t) = settings.statement_timeout {
            // MariaDB: seconds as a decimal. MySQL refuses the variable (its
            // max_execution_time only limits SELECT): not fatal.
            let statement = format!("SET SESSION max_statement_time = {}", t.as_secs_f64());
            let _ = sqlx::MySql::raw(conn, &statement).await;
        }
        Ok(Opened {
            backend: Mysql,
            lock: Box::new(GetLock {
                target: target.clone(),
                options: options.clone(),
                conn: None,
                name: lock_name(table),
            }),
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

    const HISTORY_EXISTS: &'static str = "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES \
        WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?";

    const HISTORY_COLUMNS: &'static str = "SELECT CAST(COLUMN_NAME AS CHAR), CAST(DATA_TYPE AS CHAR) FROM information_schema.COLUMNS \
        WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?";

    const USER_TABLES: &'static str = "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES \
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' \
        AND NOT (TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?) ORDER BY 1";
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

/// `GET_LOCK` on a connection of its own, opened when the lock is first wanted and closed
/// when it is released.
struct GetLock {
    target: Target,
    options: MySqlConnectOptions,
    /// Open while the lock is wanted or held.
    conn: Option<MySqlConnection>,
    name: String,
}

impl Lock<sqlx::MySql> for GetLock {
    /// One `GET_LOCK(name, 0)` (a zero timeout: never blocks).
    fn try_acquire(&mut self, rt: &Runtime, _: &mut MySqlConnection) -> Result<bool, DbError> {
        if self.conn.is_none() {
            let conn = rt.block_on(connecting(
                &self.target,
                MySqlConnection::connect_with(&self.options),
            ))?;
            self.conn = Some(conn);
        }
        let conn = self.conn.as_mut().expect("lock connection");
        let got: Option<i64> = rt
            .block_on(
                sqlx::query_scalar("SELECT GET_LOCK(?, 0)")
                    .bind(&self.name)
                    .fetch_one(conn),
            )
            .map_err(|e| query_error(&self.target, "taking the migration lock", &e))?;
        Ok(got == Some(1))
    }

    fn holder(&mut self, rt: &Runtime, _: &mut MySqlConnection) -> String {
        let Some(conn) = self.conn.as_mut() else {
            return "another session".into();
        };
        let id: Option<i64> = rt
            .block_on(
                sqlx::query_scalar("SELECT IS_USED_LOCK(?)")
                    .bind(&self.name)
                    .fetch_one(&mut *conn),
            )
            .ok()
            .flatten();
        let Some(id) = id else {
            return "another session".into();
        };
        let who: Option<(String, String)> = rt
            .block_on(
                sqlx::query_as(
                    "SELECT USER, HOST FROM information_schema.PROCESSLIST WHERE ID = ?",
                )
                .bind(id)
                .fetch_optional(conn),
            )
            .ok()
            .flatten();
        match who {
            Some((user, host)) => format!("connection {id} ({user}@{host})"),
            None => format!("connection {id}"),
        }
    }

    fn release(&mut self, rt: &Runtime, _: &mut MySqlConnection) -> Result<(), DbError> {
        let unlock = |message: String| DbError::Unlock {
            url: self.target.redacted.clone(),
            message,
        };
        let Some(mut conn) = self.conn.take() else {
            return Err(unlock("the lock was not held".into()));
        };
        let released: Result<Option<i64>, _> = rt.block_on(
            sqlx::query_scalar("SELECT RELEASE_LOCK(?)")
                .bind(&self.name)
                .fetch_one(&mut conn),
        );
        let _ = rt.block_on(conn.close());
        match released {
            Ok(Some(1)) => Ok(()),
            Ok(_) => Err(unlock(format!(
                "RELEASE_LOCK('{}') reports the lock was not held",
                self.name
            ))),
            Err(e) => Err(unlock(message(&e))),
        }
    }

    fn check(&mut self, rt: &Runtime, _: &mut MySqlConnection) -> Result<(), DbError> {
        let lost = |message: String| DbError::LockLost {
            url: self.target.redacted.clone(),
            message,
        };
        let Some(conn) = self.conn.as_mut() else {
            return Err(lost("it is not held".into()));
        };
        let mine: Option<i64> = rt
            .block_on(
                sqlx::query_scalar("SELECT IS_USED_LOCK(?) = CONNECTION_ID()")
                    .bind(&self.name)
                    .fetch_one(conn),
            )
            .map_err(|e| lost(message(&e)))?;
        if mine != Some(1) {
            return Err(lost("MariaDB/MySQL no longer lists it".into()));
        }
        Ok(())
    }
}
