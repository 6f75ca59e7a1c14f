//! PostgreSQL: transactional migrations with their history row in the same transaction,
//! statement-by-statement execution for what cannot run in one, a session advisory lock on a
//! connection of its own (polled with `pg_try_advisory_lock`, never a blocking call), and
//! `lock_timeout`/`statement_timeout` on the migration connection only.

use std::str::FromStr;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgDatabaseError};
use sqlx::{AssertSqlSafe, Connection, Row};

use crate::db::exec;
use crate::db::history_sql::{self, HistorySql, NewRow};
use crate::db::{
    ApplyError, DbError, Driver, Migration, Outcome, Resolution, Settings, TableName, Target,
    check_shape, connecting, message, poll_lock, runtime,
};
use crate::history::HistoryRow;

/// A PostgreSQL database.
pub struct Postgres {
    rt: tokio::runtime::Runtime,
    target: Target,
    conn: PgConnection,
    lock_conn: Option<PgConnection>,
    lock_key: Option<i64>,
    table: TableName,
    sql: HistorySql,
}

impl Postgres {
    /// Connects and sets the migration session's timeouts.
    pub fn connect(target: &Target, settings: &Settings) -> Result<Self, DbError> {
        let rt = runtime(target)?;
        let options = PgConnectOptions::from_str(&target.sqlx_url())
            .map_err(|e| DbError::InvalidUrl {
                url: target.redacted.clone(),
                message: message(target, &e),
            })?
            .application_name(&format!("migrate {}", env!("CARGO_PKG_VERSION")));
        let mut conn = rt
            .block_on(connecting(PgConnection::connect_with(&options)))
            .map_err(|e| DbError::Connect {
                url: target.redacted.clone(),
                message: message(target, &e),
            })?;
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
        for statement in session {
            rt.block_on(sqlx::raw_sql(AssertSqlSafe(statement)).execute(&mut conn))
                .map_err(|e| query_error(target, "setting session timeouts", &e))?;
        }
        // PostgreSQL 14+: if this process dies mid-statement, the server notices within a
        // second and rolls back, instead of finishing a long statement for nobody while
        // holding its locks. Older servers do not know the setting: not fatal.
        let _ = rt.block_on(
            sqlx::raw_sql("SET client_connection_check_interval = '1s'").execute(&mut conn),
        );
        let lock_options = options
            .clone()
            .application_name(&format!("migrate {} (lock)", env!("CARGO_PKG_VERSION")));
        let mut lock_conn = rt
            .block_on(connecting(PgConnection::connect_with(&lock_options)))
            .map_err(|e| DbError::Connect {
                url: target.redacted.clone(),
                message: message(target, &e),
            })?;
        detect_pooler(&rt, target, &mut conn, &mut lock_conn)?;
        Ok(Postgres {
            rt,
            target: target.clone(),
            conn,
            lock_conn: Some(lock_conn),
            lock_key: None,
            sql: HistorySql::new(crate::dialect::Dialect::Postgres, &settings.history_table),
            table: settings.history_table.clone(),
        })
    }

    /// The advisory lock key: the history table's schema and name, hashed.
    fn lock_key(&mut self) -> Result<i64, DbError> {
        let schema = match &self.table.schema {
            Some(s) => s.clone(),
            None => self
                .rt
                .block_on(
                    sqlx::query_scalar::<_, String>("SELECT current_schema()")
                        .fetch_one(&mut self.conn),
                )
                .map_err(|e| query_error(&self.target, "reading the current schema", &e))?,
        };
        let digest = Sha256::digest(format!("migrate:{schema}.{}", self.table.name).as_bytes());
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&digest[..8]);
        Ok(i64::from_be_bytes(bytes))
    }

    /// One `pg_try_advisory_lock` on the lock connection. Each poll is its own short
    /// statement: a waiting deployer never sits in an open transaction that a CREATE INDEX
    /// CONCURRENTLY of the lock holder would wait for.
    fn try_lock(&mut self, key: i64) -> Result<bool, DbError> {
        let Some(conn) = self.lock_conn.as_mut() else {
            return Err(DbError::LockLost {
                url: self.target.redacted.clone(),
                message: "the lock connection is gone".into(),
            });
        };
        self.rt
            .block_on(
                sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                    .bind(key)
                    .fetch_one(conn),
            )
            .map_err(|e| query_error(&self.target, "taking the migration lock", &e))
    }

    fn holder(&mut self, key: i64) -> String {
        let Some(conn) = self.lock_conn.as_mut() else {
            return "another session".into();
        };
        let query = sqlx::query(
            "SELECT a.pid, coalesce(a.application_name, '') AS app, coalesce(host(a.client_addr), 'local') AS addr \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = $1 AND l.objid::bigint = $2 AND l.objsubid = 1",
        )
        .bind((key >> 32) & 0xffff_ffff)
        .bind(key & 0xffff_ffff);
        match self.rt.block_on(query.fetch_optional(conn)) {
            Ok(Some(row)) => format!(
                "pid {} ({}, {})",
                row.try_get::<i32, _>("pid").unwrap_or_default(),
                row.try_get::<String, _>("app").unwrap_or_default(),
                row.try_get::<String, _>("addr").unwrap_or_default()
            ),
            _ => "another session".into(),
        }
    }
}

/// Reads PostgreSQL's SQLSTATE into an [`ApplyError`].
fn classify(target: &Target, e: &sqlx::Error, statement: Option<usize>) -> ApplyError {
    let pg = match e {
        sqlx::Error::Database(db) => db.try_downcast_ref::<PgDatabaseError>(),
        _ => None,
    };
    ApplyError {
        lock_timeout: pg.is_some_and(|p| p.code() == "55P03"),
        // 57014: canceled by statement_timeout (or by an operator).
        timeout: pg.is_some_and(|p| p.code() == "57014"),
        statement,
        message: message(target, e),
        recorded: false,
    }
}

/// `pg_backend_pid()` through the simple protocol (no prepared statement, which a
/// transaction pooler would break).
async fn backend_pid(conn: &mut PgConnection) -> Result<i32, sqlx::Error> {
    let row = sqlx::raw_sql("SELECT pg_backend_pid()")
        .fetch_one(conn)
        .await?;
    row.try_get(0)
}

/// Refuses to work through a connection pooler in transaction or statement mode (PgBouncer's
/// default for many deployments): behind it, a session advisory lock stays on a server
/// connection that goes back to the pool (leaking the lock) and prepared statements vanish
/// between transactions. Two client connections that share one server backend, or one client
/// connection that changes backend between statements, give the pooler away.
fn detect_pooler(
    rt: &tokio::runtime::Runtime,
    target: &Target,
    conn: &mut PgConnection,
    lock_conn: &mut PgConnection,
) -> Result<(), DbError> {
    let pids = rt.block_on(async {
        let a = backend_pid(conn).await?;
        let b = backend_pid(lock_conn).await?;
        let a_again = backend_pid(conn).await?;
        Ok::<_, sqlx::Error>((a, b, a_again))
    });
    let (a, b, a_again) = pids.map_err(|e| query_error(target, "reading the backend pid", &e))?;
    if a == b || a != a_again {
        return Err(DbError::Pooler {
            url: target.redacted.clone(),
        });
    }
    Ok(())
}

fn query_error(target: &Target, context: &str, e: &sqlx::Error) -> DbError {
    DbError::Query {
        context: context.to_string(),
        url: target.redacted.clone(),
        message: message(target, e),
    }
}

impl Driver for Postgres {
    fn target(&self) -> &Target {
        &self.target
    }

    fn lock(&mut self, wait: Duration, waiting: &mut dyn FnMut(&str)) -> Result<(), DbError> {
        let key = self.lock_key()?;
        poll_lock(self, wait, waiting, |d| d.try_lock(key), |d| d.holder(key))?;
        self.lock_key = Some(key);
        Ok(())
    }

    fn unlock(&mut self) -> Result<(), DbError> {
        let (Some(key), Some(conn)) = (self.lock_key.take(), self.lock_conn.as_mut()) else {
            return Err(DbError::Unlock {
                url: self.target.redacted.clone(),
                message: "the lock was not held".into(),
            });
        };
        let released: bool = self
            .rt
            .block_on(
                sqlx::query_scalar("SELECT pg_advisory_unlock($1)")
                    .bind(key)
                    .fetch_one(&mut *conn),
            )
            .map_err(|e| DbError::Unlock {
                url: self.target.redacted.clone(),
                message: message(&self.target, &e),
            })?;
        if !released {
            return Err(DbError::Unlock {
                url: self.target.redacted.clone(),
                message: "PostgreSQL reports the advisory lock was not held".into(),
            });
        }
        Ok(())
    }

    fn check_lock(&mut self) -> Result<(), DbError> {
        let lost = |message: String| DbError::LockLost {
            url: self.target.redacted.clone(),
            message,
        };
        let (Some(key), Some(conn)) = (self.lock_key, self.lock_conn.as_mut()) else {
            return Err(lost("it is not held".into()));
        };
        let held: i64 = self
            .rt
            .block_on(
                sqlx::query_scalar(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted \
                     AND pid = pg_backend_pid() AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 1",
                )
                .bind((key >> 32) & 0xffff_ffff)
                .bind(key & 0xffff_ffff)
                .fetch_one(conn),
            )
            .map_err(|e| lost(message(&self.target, &e)))?;
        if held == 0 {
            return Err(lost("PostgreSQL no longer lists it".into()));
        }
        Ok(())
    }

    fn ensure_history(&mut self) -> Result<(), DbError> {
        if let Some(schema) = &self.table.schema {
            let create = format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"");
            self.rt
                .block_on(sqlx::raw_sql(AssertSqlSafe(create)).execute(&mut self.conn))
                .map_err(|e| query_error(&self.target, "creating the history schema", &e))?;
        }
        self.rt
            .block_on(sqlx::raw_sql(AssertSqlSafe(self.sql.create.clone())).execute(&mut self.conn))
            .map_err(|e| query_error(&self.target, "creating the history table", &e))?;
        let columns: Vec<(String, String)> = self
            .rt
            .block_on(
                sqlx::query_as(
                    "SELECT column_name::text, data_type::text FROM information_schema.columns \
                     WHERE table_schema = coalesce($1, current_schema()) AND table_name = $2",
                )
                .bind(self.table.schema.clone())
                .bind(self.table.name.clone())
                .fetch_all(&mut self.conn),
            )
            .map_err(|e| query_error(&self.target, "reading the history table's columns", &e))?;
        check_shape(&self.target, &self.table, &columns)
    }

    fn history(&mut self) -> Result<Option<Vec<HistoryRow>>, DbError> {
        let exists: Option<String> = self
            .rt
            .block_on(
                sqlx::query_scalar("SELECT to_regclass($1)::text")
                    .bind(self.table.quoted(crate::dialect::Dialect::Postgres))
                    .fetch_one(&mut self.conn),
            )
            .map_err(|e| query_error(&self.target, "looking for the history table", &e))?;
        if exists.is_none() {
            return Ok(None);
        }
        let rows = self.rt.block_on(exec::read_history::<sqlx::Postgres>(
            &mut self.conn,
            &self.sql,
        ));
        super::rows_or_shape(&self.target, &self.table, rows).map(Some)
    }

    fn user_tables(&mut self) -> Result<Vec<String>, DbError> {
        self.rt
            .block_on(
                sqlx::query_scalar(
                    "SELECT table_schema::text || '.' || table_name::text FROM information_schema.tables \
                     WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') \
                     AND NOT (table_name = $2 AND table_schema = coalesce($1, current_schema())) ORDER BY 1",
                )
                .bind(self.table.schema.clone())
                .bind(self.table.name.clone())
                .fetch_all(&mut self.conn),
            )
            .map_err(|e| query_error(&self.target, "listing tables", &e))
    }

    fn apply_in_transaction(&mut self, m: &Migration) -> Result<Outcome, ApplyError> {
        let target = &self.target;
        let classify = |e: &sqlx::Error, s| classify(target, e, s);
        self.rt.block_on(exec::transactional::<sqlx::Postgres>(
            &mut self.conn,
            exec::TxStyle {
                begin: "BEGIN",
                batched: false,
                verify: None,
            },
            &self.sql,
            m,
            &classify,
        ))
    }

    fn apply_stepwise(&mut self, m: &Migration) -> Result<Outcome, ApplyError> {
        let started = Instant::now();
        let target = &self.target;
        let classify = |e: &sqlx::Error, s| classify(target, e, s);
        self.rt.block_on(async {
            exec::claim::<sqlx::Postgres>(&mut self.conn, &self.sql, m)
                .await
                .map_err(|e| classify(&e, None))?;
            exec::stepwise::<sqlx::Postgres>(&mut self.conn, &self.sql, m, started, &classify).await
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
            .block_on(exec::resolve::<sqlx::Postgres>(
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
        let insert = history_sql::insert::<sqlx::Postgres>(&self.sql.insert, NewRow::baseline(m));
        self.rt
            .block_on(insert.execute(&mut self.conn))
            .map(|_| ())
            .map_err(|e| query_error(&self.target, "recording the baseline", &e))
    }
}
