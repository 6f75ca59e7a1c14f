//! Where `--prove` replays the history: a throwaway PostgreSQL server started from the
//! binaries on the machine, a scratch database on a `--shadow-database` server, or a SQLite
//! file in a temporary directory. Each is gone on every exit path.
//!
//! The throwaway server runs under a watchdog shell in its own process group, fed by a pipe
//! from this process: when the pipe closes (normal exit, an error, Ctrl-C, even SIGKILL, since
//! the kernel closes it), the watchdog stops the server and removes its directory. Ctrl-C at a
//! terminal reaches this process's group only, so the server is never left half stopped.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use crate::dialect::Dialect;

/// A database to prove on, and how to get rid of it.
pub struct Shadow {
    /// The URL to connect to (never printed: it may hold the shadow server's password).
    pub url: String,
    /// Its dialect.
    pub dialect: Dialect,
    /// What was made for the proof.
    made: Made,
    /// What the reader is told of where it runs (redacted).
    pub shown: String,
    /// How long starting it took.
    pub started_in: Duration,
}

enum Made {
    /// A PostgreSQL server under its watchdog.
    Server {
        watchdog: Child,
        pipe: Option<ChildStdin>,
    },
    /// A scratch database on a server (`--shadow-database`), dropped at the end.
    Scratch {
        /// The URL of the server's original database, to drop the scratch one from.
        admin: String,
        name: String,
    },
    /// A temporary directory (SQLite), removed at the end.
    Dir(PathBuf),
}

impl Drop for Shadow {
    fn drop(&mut self) {
        match &mut self.made {
            Made::Server { watchdog, pipe } => {
                drop(pipe.take());
                let deadline = Instant::now() + Duration::from_secs(20);
                while Instant::now() < deadline {
                    if let Ok(Some(_)) = watchdog.try_wait() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                let _ = watchdog.kill();
                let _ = watchdog.wait();
            }
            Made::Scratch { admin, name } => {
                let _ = drop_scratch(admin, name, self.dialect);
            }
            Made::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
}

/// A unique name for what a run makes: `migrate_prove_<pid>_<nanos>`.
fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_000_000)
        .unwrap_or(0);
    format!("migrate_prove_{}_{nanos}", std::process::id())
}

/// A shadow database for `dialect`: on `url`'s server when given, else made here.
pub fn open(dialect: Dialect, url: Option<&str>) -> anyhow::Result<Shadow> {
    let started = Instant::now();
    let mut shadow = match (url, dialect) {
        (Some(url), _) => scratch(url, dialect)?,
        (None, Dialect::Postgres) => throwaway_postgres()?,
        (None, Dialect::Sqlite) => {
            let dir = std::env::temp_dir().join(unique());
            std::fs::create_dir(&dir)?;
            let file = dir.join("shadow.db");
            Shadow {
                url: format!("sqlite://{}?mode=rwc", file.display()),
                dialect,
                shown: "a temporary SQLite file".into(),
                made: Made::Dir(dir),
                started_in: Duration::ZERO,
            }
        }
        (None, Dialect::Mysql) => anyhow::bail!(
            "--prove on MySQL/MariaDB needs --shadow-database URL: a server where migrate may create and drop a scratch database"
        ),
    };
    shadow.started_in = started.elapsed();
    Ok(shadow)
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (before_query, query) = match rest.find('?') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let authority = before_query.split('/').next().unwrap_or(before_query);
    format!("{scheme}://{authority}/{name}{query}")
}

fn scratch(url: &str, dialect: Dialect) -> anyhow::Result<Shadow> {
    let target = crate::db::Target::parse(url)?;
    if target.dialect != dialect {
        anyhow::bail!(
            "--shadow-database {} is a {} server, but the migrations are checked as {}",
            target.redacted,
            target.dialect.name(),
            dialect.name()
        );
    }
    if dialect == Dialect::Sqlite {
        anyhow::bail!(
            "--shadow-database: SQLite needs none (--prove replays into a temporary file)"
        );
    }
    let admin = target.sqlx_url();
    let name = unique();
    super::run(async {
        match dialect {
            Dialect::Postgres => {
                let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&admin).await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut c)
                    .await?;
            }
            _ => {
                let mut c = <sqlx::MySqlConnection as sqlx::Connection>::connect(&admin).await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut c)
                    .await?;
            }
        }
        Ok::<_, sqlx::Error>(())
    })
    .map_err(|e| {
        anyhow::anyhow!(
            "--shadow-database {}: cannot create a scratch database: {}",
            target.redacted,
            crate::db::scrub(&e.to_string())
        )
    })?;
    Ok(Shadow {
        url: with_database(&admin, &name),
        dialect,
        shown: format!("scratch database {name} on {}", target.redacted),
        made: Made::Scratch { admin, name },
        started_in: Duration::ZERO,
    })
}

fn drop_scratch(admin: &str, name: &str, dialect: Dialect) -> Result<(), sqlx::Error> {
    super::run(async {
        match dialect {
            Dialect::Postgres => {
                let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(admin).await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut c)
                .await?;
            }
            _ => {
                let mut c = <sqlx::MySqlConnection as sqlx::Connection>::connect(admin).await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name}"
                )))
                .execute(&mut c)
                .await?;
            }
        }
        Ok(())
    })
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`: `pg_config --bindir`, else the
/// newest `/usr/lib/postgresql/<major>/bin`, else `PATH`.
fn postgres_bin() -> Option<PathBuf> {
    let has = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if has(&dir) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            has(&bin).then_some((major, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|paths| std::env::split_paths(&paths).find(|p| has(p)))
}

/// The user the server runs as: this one, or (PostgreSQL refuses to run as root) `postgres`,
/// else `nobody`, from /etc/passwd.
fn server_user() -> Option<(u32, u32)> {
    use std::os::unix::fs::MetadataExt;
    let me = std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(1);
    if me != 0 {
        return None;
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let find = |name: &str| {
        passwd.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() > 3 && f[0] == name)
                .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
                .flatten()
        })
    };
    find("postgres").or_else(|| find("nobody"))
}

fn throwaway_postgres() -> anyhow::Result<Shadow> {
    let Some(bin) = postgres_bin() else {
        anyhow::bail!(
            "--prove needs PostgreSQL's server binaries (initdb, postgres; none found through pg_config, in /usr/lib/postgresql/*/bin or on PATH): install them, or pass --shadow-database URL"
        );
    };
    let dir = std::env::temp_dir().join(unique());
    std::fs::create_dir(&dir)?;
    // Removed here until the watchdog owns it.
    struct Guard(Option<PathBuf>);
    impl Drop for Guard {
        fn drop(&mut self) {
            if let Some(d) = self.0.take() {
                let _ = std::fs::remove_dir_all(d);
            }
        }
    }
    let mut guard = Guard(Some(dir.clone()));
    let user = server_user();
    if let Some((uid, gid)) = user {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid))?;
    }
    let as_user = |cmd: &mut Command| {
        use std::os::unix::process::CommandExt;
        if let Some((uid, gid)) = user {
            cmd.uid(uid).gid(gid);
        }
    };
    let data = dir.join("data");
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let log = dir.join("server.log");
    // The watchdog owns the directory from its first instruction: it makes the cluster,
    // starts the server, and on end of input (this process gone, however) stops it and
    // removes everything. $1 data, $2 port, $3 the directory (socket, logs), $4 bin.
    let script = r#"
if ! LC_ALL=C "$4/initdb" -D "$1" -U postgres -A trust -E UTF8 --no-sync >"$3/initdb.log" 2>&1; then
  echo "FATAL: initdb failed: $(tail -n 3 "$3/initdb.log" | tr '\n' ' ')" >>"$3/server.log"
  read -r _
  rm -rf "$3"
  exit 1
fi
"$4/postgres" -D "$1" -p "$2" -k "$3" -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=20 >>"$3/server.log" 2>&1 &
pid=$!
read -r _
# A server still starting up ignores the signal (an asynchronous command inherits SIGINT
# ignored until postgres installs its handlers): repeat it, then kill.
n=0
while kill -0 "$pid" 2>/dev/null; do
  if [ "$n" -lt 100 ]; then kill -INT "$pid" 2>/dev/null; else kill -KILL "$pid" 2>/dev/null; fi
  n=$((n + 1))
  sleep 0.1
done
wait "$pid"
rm -rf "$3"
"#;
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(script)
        .arg("sh")
        .arg(&data)
        .arg(port.to_string())
        .arg(&dir)
        .arg(&bin)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    as_user(&mut cmd);
    let mut watchdog = cmd.spawn()?;
    let pipe = watchdog.stdin.take();
    // The watchdog removes the directory from here on.
    guard.0 = None;
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    let mut shadow = Shadow {
        url: url.clone(),
        dialect: Dialect::Postgres,
        shown: format!(
            "a throwaway PostgreSQL server ({} on port {port})",
            bin.display()
        ),
        made: Made::Server { watchdog, pipe },
        started_in: Duration::ZERO,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = super::run(async {
            <sqlx::PgConnection as sqlx::Connection>::connect(&url)
                .await
                .map(|_| ())
        });
        if ready.is_ok() {
            return Ok(shadow);
        }
        let mut text = String::new();
        let _ = std::fs::File::open(&log).and_then(|mut f| f.read_to_string(&mut text));
        let exited = match &mut shadow.made {
            Made::Server { watchdog, .. } => matches!(watchdog.try_wait(), Ok(Some(_))),
            _ => false,
        };
        let failed = text.contains("FATAL") || text.contains("could not bind");
        if exited || failed || Instant::now() > deadline {
            let last = text
                .lines()
                .rev()
                .find(|l| l.contains("FATAL") || l.contains("ERROR"))
                .or_else(|| text.lines().last())
                .unwrap_or("no log written");
            anyhow::bail!(
                "--prove: the throwaway PostgreSQL server did not start: {last} (or pass --shadow-database URL)"
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_scratch_database_replaces_the_path_only() {
        assert_eq!(
            super::with_database("postgres://u:p@h:5/app?sslmode=disable", "x"),
            "postgres://u:p@h:5/x?sslmode=disable"
        );
        assert_eq!(
            super::with_database("mysql://root@h", "x"),
            "mysql://root@h/x"
        );
    }
}
