//! MySQL/MariaDB: DDL commits implicitly, so every migration runs statement by statement with
//! a `running` history row and per-statement progress; the migration lock is `GET_LOCK` on a
//! connection of its own, polled with a zero timeout.

use std::str::FromStr;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlDatabaseError};
use sqlx::{AssertSqlSafe, Connection};

use crate::db::exec;
use crate::db::history_sql::{self, HistorySql, NewRow};
use crate::db::{
    ApplyError, DbError, Driver, Migration, Outcome, Resolution, Settings, TableName, Target,
    check_shape, connecting, message, poll_lock, runtime,
};
use crate::dialect::Dialect;
use crate::history::HistoryRow;

/// A MySQL or MariaDB database.
pub struct Mysql {
    rt: tokio::runtime::Runtime,
    target: Target,
    options: MySqlConnectOptions,
    conn: MySqlConnection,
    lock_conn: Option<MySqlConnection>,
    lock_name: Option<String>,
    table: TableName,
    sql: HistorySql,
}

fn query_error(target: &Target, context: &str, e: &sqlx::Error) -> DbError {
    DbError::Query {
        context: context.to_string(),
        url: target.redacted.clone(),
        message: message(target, e),
    }
}

impl Mysql {
    /// Connects and sets the migration session's lock timeout.
    pub fn connect(target: &Target, settings: &Settings) -> Result<Self, DbError> {
        let rt = runtime(target)?;
        let options =
            MySqlConnectOptions::from_str(&target.sqlx_url()).map_err(|e| DbError::InvalidUrl {
                url: target.redacted.clone(),
                message: message(target, &e),
            })?;
        let mut conn = rt
            .block_on(connecting(MySqlConnection::connect_with(&options)))
            .map_err(|e| DbError::Connect {
                url: target.redacted.clone(),
                message: message(target, &e),
            })?;
        let seconds = settings.lock_timeout.as_secs().max(1);
        let mut session = vec![
            format!("SET SESSION lock_wait_timeout = {seconds}"),
            format!("SET SESSION innodb_lock_wait_timeout = {seconds}"),
        ];
        if let Some(t) = settings.statement_timeout {
            // MariaDB: seconds as a decimal; MySQL ignores it (max_execution_time is for SELECT).
            session.push(format!(
                "SET SESSION max_statement_time = {}",
                t.as_secs_f64()
            ));
        }
        for (i, statement) in session.into_iter().enumerate() {
            let result = rt.block_on(sqlx::raw_sql(AssertSqlSafe(statement)).execute(&mut conn));
            if let Err(e) = result {
                // max_statement_time is MariaDB-only: MySQL's refusal is not fatal.
                if i < 2 {
                    return Err(query_error(target, "setting session timeouts", &e));
                }
            }
        }
        Ok(Mysql {
            rt,
            target: target.clone(),
            options,
            conn,
            lock_conn: None,
            lock_name: None,
            sql: HistorySql::new(Dialect::Mysql, &settings.history_table),
            table: settings.history_table.clone(),
        })
    }

    fn lock_name(&mut self) -> Result<String, DbError> {
        let schema = match &self.table.schema {
            Some(s) => s.clone(),
            None => self
                .rt
                .block_on(
                    sqlx::query_scalar::<_, Option<String>>("SELECT DATABASE()")
                        .fetch_one(&mut self.conn),
                )
                .map_err(|e| query_error(&self.target, "reading the current database", &e))?
                .unwrap_or_default(),
        };
        let name = format!("migrate:{schema}.{}", self.table.name);
        if name.len() <= 64 {
            return Ok(name);
        }
        let digest = Sha256::digest(name.as_bytes());
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        Ok(format!("migrate:{hex}"))
    }

    /// One `GET_LOCK(name, 0)` on the lock connection (a zero timeout: never blocks).
    fn try_lock(&mut self, name: &str) -> Result<bool, DbError> {
        let Some(conn) = self.lock_conn.as_mut() else {
            return Err(DbError::LockLost {
                url: self.target.redacted.clone(),
                message: "the lock connection is gone".into(),
            });
        };
        let got: Option<i64> = self
            .rt
            .block_on(
                sqlx::query_scalar("SELECT GET_LOCK(?, 0)")
                    .bind(name)
                    .fetch_one(conn),
            )
            .map_err(|e| query_error(&self.target, "taking the migration lock", &e))?;
        Ok(got == Some(1))
    }

    fn holder(&mut self, name: &str) -> String {
        let Some(conn) = self.lock_conn.as_mut() else {
            return "another session".into();
        };
        let id: Option<i64> = self
            .rt
            .block_on(
                sqlx::query_scalar("SELECT IS_USED_LOCK(?)")
                    .bind(name)
                    .fetch_one(&mut *conn),
            )
            .ok()
            .flatten();
        let Some(id) = id else {
            return "another session".into();
        };
        let who: Option<(String, String)> = self
            .rt
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
}

/// Reads MySQL's error number into an [`ApplyError`].
fn classify(target: &Target, e: &sqlx::Error, statement: Option<usize>) -> ApplyError {
    let number = match e {
        sqlx::Error::Database(db) => db
            .try_downcast_ref::<MySqlDatabaseError>()
            .map(|m| m.number()),
        _ => None,
    };
    ApplyError {
        // 1205: lock wait timeout exceeded (also for metadata locks).
        lock_timeout: number == Some(1205),
        // 3024: max_execution_time exceeded.
        timeout: number == Some(3024),
        statement,
        message: message(target, e),
        recorded: false,
    }
}

impl Driver for Mysql {
    fn target(&self) -> &Target {
        &self.target
    }

    fn lock(&mut self, wait: Duration, waiting: &mut dyn FnMut(&str)) -> Result<(), DbError> {
        let name = self.lock_name()?;
        if self.lock_conn.is_none() {
            let conn = self
                .rt
                .block_on(connecting(MySqlConnection::connect_with(&self.options)))
                .map_err(|e| DbError::Connect {
                    url: self.target.redacted.clone(),
                    message: message(&self.target, &e),
                })?;
            self.lock_conn = Some(conn);
        }
        poll_lock(
            self,
            wait,
            waiting,
            |d| d.try_lock(&name),
            |d| d.holder(&name),
        )?;
        self.lock_name = Some(name);
        Ok(())
    }

    fn unlock(&mut self) -> Result<(), DbError> {
        let (Some(name), Some(mut conn)) = (self.lock_name.take(), self.lock_conn.take()) else {
            return Err(DbError::Unlock {
                url: self.target.redacted.clone(),
                message: "the lock was not held".into(),
            });
        };
        let released: Option<i64> = self
            .rt
            .block_on(
                sqlx::query_scalar("SELECT RELEASE_LOCK(?)")
                    .bind(&name)
                    .fetch_one(&mut conn),
            )
            .map_err(|e| DbError::Unlock {
                url: self.target.redacted.clone(),
                message: message(&self.target, &e),
            })?;
        let _ = self.rt.block_on(conn.close());
        if released != Some(1) {
            return Err(DbError::Unlock {
                url: self.target.redacted.clone(),
                message: format!("RELEASE_LOCK('{name}') reports the lock was not held"),
            });
        }
        Ok(())
    }

    fn check_lock(&mut self) -> Result<(), DbError> {
        let lost = |message: String| DbError::LockLost {
            url: self.target.redacted.clone(),
            message,
        };
        let (Some(name), Some(conn)) = (self.lock_name.as_deref(), self.lock_conn.as_mut()) else {
            return Err(lost("it is not held".into()));
        };
        let mine: Option<i64> = self
            .rt
            .block_on(
                sqlx::query_scalar("SELECT IS_USED_LOCK(?) = CONNECTION_ID()")
                    .bind(name)
                    .fetch_one(conn),
            )
            .map_err(|e| lost(message(&self.target, &e)))?;
        if mine != Some(1) {
            return Err(lost("MariaDB/MySQL no longer lists it".into()));
        }
        Ok(())
    }

    fn ensure_history(&mut self) -> Result<(), DbError> {
        self.rt
            .block_on(sqlx::raw_sql(AssertSqlSafe(self.sql.create.clone())).execute(&mut self.conn))
            .map_err(|e| query_error(&self.target, "creating the history table", &e))?;
        let columns: Vec<(String, String)> = self
            .rt
            .block_on(
                sqlx::query_as(
                    "SELECT CAST(COLUMN_NAME AS CHAR), CAST(DATA_TYPE AS CHAR) FROM information_schema.COLUMNS \
                     WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?",
                )
                .bind(self.table.schema.clone())
                .bind(self.table.name.clone())
                .fetch_all(&mut self.conn),
            )
            .map_err(|e| query_error(&self.target, "reading the history table's columns", &e))?;
        check_shape(&self.target, &self.table, &columns)
    }

    fn history(&mut self) -> Result<Option<Vec<HistoryRow>>, DbError> {
        let exists: i64 = self
            .rt
            .block_on(
                sqlx::query_scalar(
                    "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?",
                )
                .bind(self.table.schema.clone())
                .bind(self.table.name.clone())
                .fetch_one(&mut self.conn),
            )
            .map_err(|e| query_error(&self.target, "looking for the history table", &e))?;
        if exists == 0 {
            return Ok(None);
        }
        let rows = self
            .rt
            .block_on(exec::read_history::<sqlx::MySql>(&mut self.conn, &self.sql));
        super::rows_or_shape(&self.target, &self.table, rows).map(Some)
    }

    fn user_tables(&mut self) -> Result<Vec<String>, DbError> {
        self.rt
            .block_on(
                sqlx::query_scalar(
                    "SELECT CAST(TABLE_NAME AS CHAR) FROM information_schema.TABLES \
                     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME <> ? ORDER BY 1",
                )
                .bind(self.table.name.clone())
                .fetch_all(&mut self.conn),
            )
            .map_err(|e| query_error(&self.target, "listing tables", &e))
    }

    /// MySQL commits DDL implicitly: a transaction would not make a migration atomic, so
    /// every migration runs statement by statement with recorded progress.
    fn apply_in_transaction(&mut self, m: &Migration) -> Result<Outcome, ApplyError> {
        self.apply_stepwise(m)
    }

    fn apply_stepwise(&mut self, m: &Migration) -> Result<Outcome, ApplyError> {
        let started = Instant::now();
        let target = &self.target;
        let classify = |e: &sqlx::Error, s| classify(target, e, s);
        self.rt.block_on(async {
            exec::claim::<sqlx::MySql>(&mut self.conn, &self.sql, m)
                .await
                .map_err(|e| classify(&e, None))?;
            exec::stepwise::<sqlx::MySql>(&mut self.conn, &self.sql, m, started, &classify).await
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
            .block_on(exec::resolve::<sqlx::MySql>(
                &mut self.conn,
                &self.sql,
                version,
                resolution,
                file,
            ))
            .map_err(|e| query_error(&self.target, "resolving the migration", &e))?;
        super::resolved(&self.target, version, rows)
    }

    fn baseline(&mut self, m: &Migration) -> Result<(), DbError> {
        let insert = history_sql::insert::<sqlx::MySql>(&self.sql.insert, NewRow::baseline(m));
        self.rt
            .block_on(insert.execute(&mut self.conn))
            .map(|_| ())
            .map_err(|e| query_error(&self.target, "recording the baseline", &e))
    }
}
