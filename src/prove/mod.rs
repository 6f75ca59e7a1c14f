//! `check --prove`: the database judges. The history up to the release under test is applied
//! to a shadow database ([`server`]), every query of the previous release's app is prepared
//! and its parameter and result types recorded; the release is applied and each query is
//! prepared again on a new session. A query that prepared before and fails after, or whose
//! result columns lost a name or changed type, is broken by the release; one that failed
//! already before is reported apart.

pub mod server;

use std::time::{Duration, Instant};

use sqlx::{Column as _, Connection as _, Executor as _, TypeInfo as _};

use crate::analyze::usage::{Query, QuerySet};
use crate::analyze::{Analysis, Unit};
use crate::dialect::Dialect;

/// Runs `future` on a runtime of its own (the proof is sequential).
pub(crate) fn run<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(future)
}

/// What preparing a query says: its parameter types and result columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// Parameter types (or only their count, on MySQL and SQLite: `?` placeholders).
    pub parameters: Vec<String>,
    /// Result columns: name and type.
    pub columns: Vec<(String, String)>,
}

/// The verdict on one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Prepared before and after, the same shape (or only with columns added).
    Holds {
        /// Result columns the release added (`SELECT *`).
        added: Vec<String>,
        /// Parameters whose type changed: (position, before, after).
        parameters: Vec<(usize, String, String)>,
    },
    /// Prepared before, fails after.
    Fails {
        /// The database's message.
        message: String,
    },
    /// Prepared before and after, but result columns are gone or changed type.
    Changed {
        /// What changed, one item per column.
        changes: Vec<String>,
    },
    /// Did not prepare before the release: not the release's doing.
    FailedBefore {
        /// The database's message then.
        message: String,
    },
}

/// The proof of one release.
#[derive(Debug, Clone)]
pub struct Proof {
    /// Where it ran (redacted).
    pub shadow: String,
    /// The files of the release under test, as displayed.
    pub release: Vec<String>,
    /// Per query of the previous release: the query and its verdict.
    pub verdicts: Vec<(Query, Verdict)>,
    /// The release itself failed on the shadow database: file, line, message.
    pub release_failed: Option<(String, u32, String)>,
    /// Time spent starting the shadow, replaying the history, preparing.
    pub timings: Timings,
}

/// Where the time went.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    /// Starting the shadow database.
    pub start: Duration,
    /// Applying the history and the release.
    pub replay: Duration,
    /// Preparing the queries, both times.
    pub prepare: Duration,
}

impl Proof {
    /// Queries the release breaks.
    pub fn broken(&self) -> usize {
        self.verdicts
            .iter()
            .filter(|(_, v)| matches!(v, Verdict::Fails { .. } | Verdict::Changed { .. }))
            .count()
            + usize::from(self.release_failed.is_some())
    }
}

/// A connection to the shadow database.
enum Conn {
    Pg(sqlx::PgConnection),
    My(sqlx::MySqlConnection),
    Lite(sqlx::SqliteConnection),
}

async fn connect(url: &str, dialect: Dialect) -> Result<Conn, sqlx::Error> {
    Ok(match dialect {
        Dialect::Postgres => Conn::Pg(sqlx::PgConnection::connect(url).await?),
        Dialect::Mysql => Conn::My(sqlx::MySqlConnection::connect(url).await?),
        Dialect::Sqlite => Conn::Lite(sqlx::SqliteConnection::connect(url).await?),
    })
}

fn shape<S: sqlx::Statement>(statement: &S) -> Shape {
    let parameters = match statement.parameters() {
        Some(sqlx::Either::Left(types)) => types.iter().map(|t| t.name().to_string()).collect(),
        Some(sqlx::Either::Right(n)) => vec!["?".to_string(); n],
        None => Vec::new(),
    };
    let columns = statement
        .columns()
        .iter()
        .map(|c| (c.name().to_string(), c.type_info().name().to_string()))
        .collect();
    Shape {
        parameters,
        columns,
    }
}

impl Conn {
    async fn execute(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match self {
            Conn::Pg(c) => c.execute(sqlx::raw_sql(sql)).await.map(|_| ()),
            Conn::My(c) => c.execute(sqlx::raw_sql(sql)).await.map(|_| ()),
            Conn::Lite(c) => c.execute(sqlx::raw_sql(sql)).await.map(|_| ()),
        }
    }

    async fn prepare(&mut self, sql: &str) -> Result<Shape, sqlx::Error> {
        use sqlx::SqlSafeStr;
        let sql = sqlx::AssertSqlSafe(sql.to_string()).into_sql_str();
        Ok(match self {
            Conn::Pg(c) => shape(&c.prepare(sql).await?),
            Conn::My(c) => shape(&c.prepare(sql).await?),
            Conn::Lite(c) => shape(&c.prepare(sql).await?),
        })
    }

    async fn close(self) {
        let _ = match self {
            Conn::Pg(c) => c.close().await,
            Conn::My(c) => c.close().await,
            Conn::Lite(c) => c.close().await,
        };
    }
}

fn message(e: &sqlx::Error) -> String {
    let text = match e {
        sqlx::Error::Database(d) => d.message().to_string(),
        other => other.to_string(),
    };
    crate::db::scrub(&text)
}

/// Proves the last linted release of `units` with the previous release's `queries` on
/// `shadow`. `analysis` gives each file's statements. Errors: the shadow could not be used,
/// or the history before the release failed there (the proof cannot run).
pub fn prove(
    units: &[Unit],
    analysis: &Analysis,
    queries: &QuerySet,
    shadow: &server::Shadow,
) -> anyhow::Result<Proof> {
    let last = units
        .iter()
        .rposition(|u| u.lint)
        .ok_or_else(|| anyhow::anyhow!("--prove: no migration to prove"))?;
    let release = units[last].release;
    let first = units
        .iter()
        .position(|u| u.release == release)
        .unwrap_or(last);
    let mut timings = Timings {
        start: shadow.started_in,
        ..Timings::default()
    };
    run(async {
        let shown = |e: sqlx::Error| {
            anyhow::anyhow!(
                "--prove: cannot connect to {}: {}",
                shadow.shown,
                message(&e)
            )
        };
        let mut conn = connect(&shadow.url, shadow.dialect).await.map_err(shown)?;
        let replay = Instant::now();
        for (i, unit) in units[..first].iter().enumerate() {
            if let Err((line, m)) = apply(&mut conn, unit, &analysis.files[i].statements).await {
                anyhow::bail!(
                    "--prove: the history fails on the shadow database ({}) at {}:{line}: {m}; the release cannot be proven",
                    shadow.shown,
                    unit.file.display
                );
            }
        }
        timings.replay += replay.elapsed();
        conn.close().await;
        let prepare = Instant::now();
        let mut conn = connect(&shadow.url, shadow.dialect).await.map_err(shown)?;
        let mut before = Vec::with_capacity(queries.queries.len());
        for q in &queries.queries {
            before.push(if q.names.is_some() {
                conn.prepare(&q.text).await.map_err(|e| message(&e))
            } else {
                Err("not parsed".to_string())
            });
        }
        conn.close().await;
        timings.prepare += prepare.elapsed();
        let replay = Instant::now();
        let mut conn = connect(&shadow.url, shadow.dialect).await.map_err(shown)?;
        let mut release_failed = None;
        for (i, unit) in units.iter().enumerate().skip(first) {
            if unit.release != release {
                continue;
            }
            if let Err((line, m)) = apply(&mut conn, unit, &analysis.files[i].statements).await {
                release_failed = Some((unit.file.display.clone(), line, m));
                break;
            }
        }
        conn.close().await;
        timings.replay += replay.elapsed();
        let prepare = Instant::now();
        let mut conn = connect(&shadow.url, shadow.dialect).await.map_err(shown)?;
        let mut verdicts = Vec::with_capacity(queries.queries.len());
        for (q, before) in queries.queries.iter().zip(before) {
            let verdict = match before {
                Err(message) => Verdict::FailedBefore { message },
                Ok(was) => match conn.prepare(&q.text).await {
                    Err(e) => Verdict::Fails {
                        message: message(&e),
                    },
                    Ok(now) => compare(&was, &now),
                },
            };
            verdicts.push((q.clone(), verdict));
        }
        conn.close().await;
        timings.prepare += prepare.elapsed();
        Ok(Proof {
            shadow: shadow.shown.clone(),
            release: units[first..=last]
                .iter()
                .filter(|u| u.release == release)
                .map(|u| u.file.display.clone())
                .collect(),
            verdicts,
            release_failed,
            timings,
        })
    })
}

/// Applies one file statement by statement (outside a transaction: the shadow database is
/// thrown away, and `CREATE INDEX CONCURRENTLY` needs it so); the failing statement's line
/// and message.
async fn apply(
    conn: &mut Conn,
    unit: &Unit<'_>,
    statements: &[(usize, usize)],
) -> Result<(), (u32, String)> {
    let text = &unit.file.text;
    let lines = crate::source::LineIndex::new(text);
    for &(start, end) in statements {
        let sql = &text[start..end];
        if let Err(e) = conn.execute(sql).await {
            return Err((lines.pos(text, start).line, message(&e)));
        }
    }
    Ok(())
}

/// Compares a query's shape before and after the release.
fn compare(was: &Shape, now: &Shape) -> Verdict {
    let mut changes = Vec::new();
    for (i, (name, ty)) in was.columns.iter().enumerate() {
        match now.columns.iter().find(|(n, _)| n == name) {
            None => changes.push(match now.columns.get(i) {
                Some((other, _)) => format!("result column {name} is now {other}"),
                None => format!("result column {name} is gone"),
            }),
            Some((_, t)) if t != ty => {
                changes.push(format!("result column {name} was {ty}, is now {t}"))
            }
            Some(_) => {}
        }
    }
    if !changes.is_empty() {
        return Verdict::Changed { changes };
    }
    let added = now
        .columns
        .iter()
        .filter(|(n, _)| !was.columns.iter().any(|(w, _)| w == n))
        .map(|(n, _)| n.clone())
        .collect();
    let parameters = was
        .parameters
        .iter()
        .zip(&now.parameters)
        .enumerate()
        .filter(|(_, (a, b))| a != b)
        .map(|(i, (a, b))| (i + 1, a.clone(), b.clone()))
        .collect();
    Verdict::Holds { added, parameters }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(columns: &[(&str, &str)]) -> Shape {
        Shape {
            parameters: vec!["INT4".into()],
            columns: columns
                .iter()
                .map(|(n, t)| (n.to_string(), t.to_string()))
                .collect(),
        }
    }

    #[test]
    fn shapes_compare_by_name_and_type() {
        let was = shape(&[("id", "INT4"), ("name", "TEXT")]);
        assert_eq!(
            compare(
                &was,
                &shape(&[("id", "INT4"), ("name", "TEXT"), ("x", "TEXT")])
            ),
            Verdict::Holds {
                added: vec!["x".into()],
                parameters: vec![]
            }
        );
        assert_eq!(
            compare(&was, &shape(&[("id", "INT8"), ("name", "TEXT")])),
            Verdict::Changed {
                changes: vec!["result column id was INT4, is now INT8".into()]
            }
        );
        assert_eq!(
            compare(&was, &shape(&[("id", "INT4"), ("full_name", "TEXT")])),
            Verdict::Changed {
                changes: vec!["result column name is now full_name".into()]
            }
        );
    }
}
