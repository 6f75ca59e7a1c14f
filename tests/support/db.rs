//! Real databases for the engine tests: each test gets its own uniquely named PostgreSQL or
//! MariaDB database (dropped afterwards) or SQLite file, a migrations directory, and helpers
//! to run the binary and inspect the schema. When a server is down the test is skipped with a
//! message, except under `CI=true`, where it fails.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use sqlx::Connection;
use sqlx::mysql::MySqlConnection;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use tempfile::TempDir;

pub use super::cmd::Run;
use super::cmd::{Migrate, migrate};

pub const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const MARIADB_ADMIN: &str = "mysql://root@127.0.0.1:3306/";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Postgres,
    Mariadb,
    Sqlite,
}

pub struct TestDb {
    pub kind: Kind,
    pub url: String,
    pub name: String,
    pub dir: TempDir,
    rt: tokio::runtime::Runtime,
}

fn unique_name() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "mt_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos % 100_000
    )
}

fn unavailable(what: &str, error: impl std::fmt::Display) -> Option<TestDb> {
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("{what} is not reachable ({error}); under CI=true the server tests must run");
    }
    eprintln!("skipping: {what} is not reachable ({error}); start it or run .ci/run");
    None
}

impl TestDb {
    /// A fresh database of `kind`, or `None` (skip) when its server is down outside CI.
    pub fn new(kind: Kind) -> Option<TestDb> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dir = TempDir::new().unwrap();
        std::fs::create_dir_all(dir.path().join("migrations")).unwrap();
        let name = unique_name();
        let url = match kind {
            Kind::Postgres => {
                let mut admin = match rt.block_on(PgConnection::connect(PG_ADMIN)) {
                    Ok(c) => c,
                    Err(e) => return unavailable("PostgreSQL at 127.0.0.1:5432", e),
                };
                rt.block_on(
                    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                        .execute(&mut admin),
                )
                .unwrap();
                format!("postgres://postgres@127.0.0.1:5432/{name}")
            }
            Kind::Mariadb => {
                let mut admin = match rt.block_on(MySqlConnection::connect(MARIADB_ADMIN)) {
                    Ok(c) => c,
                    Err(e) => return unavailable("MariaDB at 127.0.0.1:3306", e),
                };
                rt.block_on(
                    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                        .execute(&mut admin),
                )
                .unwrap();
                format!("mysql://root@127.0.0.1:3306/{name}")
            }
            Kind::Sqlite => format!("sqlite://{}", dir.path().join("app.db").display()),
        };
        Some(TestDb {
            kind,
            url,
            name,
            dir,
            rt,
        })
    }

    pub fn migrations(&self) -> PathBuf {
        self.dir.path().join("migrations")
    }

    pub fn write(&self, file: &str, sql: impl AsRef<[u8]>) {
        let path = self.migrations().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, sql).unwrap();
    }

    pub fn remove(&self, file: &str) {
        std::fs::remove_file(self.migrations().join(file)).unwrap();
    }

    /// `migrate SUBCOMMAND --dir <migrations> --database <url>`, run in the test's directory.
    pub fn command(&self, subcommand: &str) -> Migrate {
        self.against(subcommand, &self.url)
    }

    /// `migrate SUBCOMMAND --dir <migrations> --database URL`, for another URL of the test's
    /// database (through a pooler, with TLS options).
    pub fn against(&self, subcommand: &str, url: &str) -> Migrate {
        migrate()
            .cwd(self.dir.path())
            .arg(subcommand)
            .dir(self.migrations())
            .database(url)
    }

    pub fn migrate(&self, subcommand: &str, args: &[&str]) -> Run {
        self.command(subcommand).args(args).run()
    }

    pub fn config(&self, toml: &str) {
        std::fs::write(self.dir.path().join("migrate.toml"), toml).unwrap();
    }

    /// Runs SQL (several statements allowed) on a connection of its own.
    pub fn exec(&self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match self.kind {
            Kind::Postgres => {
                let mut c = self.rt.block_on(PgConnection::connect(&self.url)).unwrap();
                self.rt
                    .block_on(sqlx::raw_sql(sql).execute(&mut c))
                    .unwrap();
            }
            Kind::Mariadb => {
                let mut c = self
                    .rt
                    .block_on(MySqlConnection::connect(&self.url))
                    .unwrap();
                self.rt
                    .block_on(sqlx::raw_sql(sql).execute(&mut c))
                    .unwrap();
            }
            Kind::Sqlite => {
                let mut c = self.sqlite();
                self.rt
                    .block_on(sqlx::raw_sql(sql).execute(&mut c))
                    .unwrap();
            }
        }
    }

    /// First column of every row, as text.
    pub fn strings(&self, sql: &str) -> Vec<String> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match self.kind {
            Kind::Postgres => {
                let mut c = self.rt.block_on(PgConnection::connect(&self.url)).unwrap();
                self.rt
                    .block_on(sqlx::query_scalar::<_, String>(sql).fetch_all(&mut c))
                    .unwrap()
            }
            Kind::Mariadb => {
                let mut c = self
                    .rt
                    .block_on(MySqlConnection::connect(&self.url))
                    .unwrap();
                self.rt
                    .block_on(sqlx::query_scalar::<_, String>(sql).fetch_all(&mut c))
                    .unwrap()
            }
            Kind::Sqlite => {
                let mut c = self.sqlite();
                self.rt
                    .block_on(sqlx::query_scalar::<_, String>(sql).fetch_all(&mut c))
                    .unwrap()
            }
        }
    }

    /// `version:state` of every history row.
    /// `version:state` of every history row; none when the table does not exist.
    pub fn history(&self) -> Vec<String> {
        if !self.tables().iter().any(|t| t == "migrate_history") {
            return Vec::new();
        }
        let cast = match self.kind {
            Kind::Mariadb => "CONCAT(version, ':', state)",
            _ => "CAST(version AS TEXT) || ':' || state",
        };
        self.strings(&format!(
            "SELECT {cast} FROM migrate_history ORDER BY version"
        ))
    }

    /// Column names of `table`, in order.
    pub fn columns(&self, table: &str) -> Vec<String> {
        let sql = match self.kind {
            Kind::Postgres => format!(
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '{table}' ORDER BY ordinal_position"
            ),
            Kind::Mariadb => format!(
                "SELECT CAST(column_name AS CHAR) FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = '{table}' ORDER BY ordinal_position"
            ),
            Kind::Sqlite => format!("SELECT name FROM pragma_table_info('{table}')"),
        };
        self.strings(&sql)
    }

    /// Names of the user tables (history table included).
    pub fn tables(&self) -> Vec<String> {
        let sql = match self.kind {
            Kind::Postgres => {
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
            }
            Kind::Mariadb => {
                "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1"
            }
            Kind::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1",
        };
        self.strings(sql)
    }

    /// SQLite: a connection of its own that holds the write lock (`BEGIN IMMEDIATE`) until
    /// it is dropped.
    pub fn hold_sqlite_write_lock(&self) -> SqliteConnection {
        let mut c = self.sqlite();
        self.rt
            .block_on(sqlx::raw_sql("BEGIN IMMEDIATE").execute(&mut c))
            .unwrap();
        c
    }

    fn sqlite(&self) -> SqliteConnection {
        let options: SqliteConnectOptions = self.url.parse().unwrap();
        self.rt
            .block_on(SqliteConnection::connect_with(
                &options.create_if_missing(true),
            ))
            .unwrap()
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// A connection of the test's own, kept open (with whatever transaction or lock it holds)
/// until dropped.
pub struct Held {
    rt: tokio::runtime::Runtime,
    conn: HeldConn,
}

enum HeldConn {
    Pg(PgConnection),
    My(MySqlConnection),
    Lite(SqliteConnection),
}

impl Held {
    /// Runs SQL on the held connection.
    pub fn exec(&mut self, sql: &str) {
        self.try_exec(sql).unwrap();
    }

    /// Runs SQL on the held connection, which may fail.
    pub fn try_exec(&mut self, sql: &str) -> Result<(), sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match &mut self.conn {
            HeldConn::Pg(c) => self.rt.block_on(sqlx::raw_sql(sql).execute(c)).map(|_| ()),
            HeldConn::My(c) => self.rt.block_on(sqlx::raw_sql(sql).execute(c)).map(|_| ()),
            HeldConn::Lite(c) => self.rt.block_on(sqlx::raw_sql(sql).execute(c)).map(|_| ()),
        }
    }

    /// The first column of the first row, as text.
    pub fn string(&mut self, sql: &str) -> String {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match &mut self.conn {
            HeldConn::Pg(c) => self.rt.block_on(sqlx::query_scalar(sql).fetch_one(c)),
            HeldConn::My(c) => self.rt.block_on(sqlx::query_scalar(sql).fetch_one(c)),
            HeldConn::Lite(c) => self.rt.block_on(sqlx::query_scalar(sql).fetch_one(c)),
        }
        .unwrap()
    }
}

impl TestDb {
    /// A connection of the test's own that has run `sql` and stays open.
    pub fn hold(&self, sql: &str) -> Held {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let conn = match self.kind {
            Kind::Postgres => HeldConn::Pg(rt.block_on(PgConnection::connect(&self.url)).unwrap()),
            Kind::Mariadb => {
                HeldConn::My(rt.block_on(MySqlConnection::connect(&self.url)).unwrap())
            }
            Kind::Sqlite => {
                let options: SqliteConnectOptions = self.url.parse().unwrap();
                HeldConn::Lite(
                    rt.block_on(SqliteConnection::connect_with(
                        &options.create_if_missing(true),
                    ))
                    .unwrap(),
                )
            }
        };
        let mut held = Held { rt, conn };
        if !sql.is_empty() {
            held.exec(sql);
        }
        held
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let drop = |admin: &str| format!("DROP DATABASE IF EXISTS {}{admin}", self.name);
        match self.kind {
            Kind::Postgres => {
                if let Ok(mut c) = self.rt.block_on(PgConnection::connect(PG_ADMIN)) {
                    let _ = self.rt.block_on(
                        sqlx::raw_sql(sqlx::AssertSqlSafe(drop(" WITH (FORCE)"))).execute(&mut c),
                    );
                }
            }
            Kind::Mariadb => {
                if let Ok(mut c) = self.rt.block_on(MySqlConnection::connect(MARIADB_ADMIN)) {
                    let _ = self
                        .rt
                        .block_on(sqlx::raw_sql(sqlx::AssertSqlSafe(drop(""))).execute(&mut c));
                }
            }
            Kind::Sqlite => {}
        }
    }
}
