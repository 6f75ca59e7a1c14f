//! Faults and hostile input (issue: reliability and security): clear errors with exit 2 and
//! nothing applied, a database unchanged, converging after dropped connections, refusing
//! transaction-mode connection poolers, and TLS options honoured.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::cmd::{Run, finish, migrate};
use support::db::{Kind, TestDb};

fn migrate_in(cwd: &Path, args: &[&str]) -> Run {
    migrate().cwd(cwd).args(args).run()
}

/// Bad input in the migration directory: exit 2 naming the file, before touching the database.
#[test]
fn bad_files_stop_up_before_it_touches_the_database() {
    let Some(db) = TestDb::new(Kind::Sqlite) else {
        return;
    };
    db.write("1_ok.sql", "CREATE TABLE t (id INT);\n");
    db.write("2_bad.sql", b"SELECT 1;\n\xc3\x28;\n");
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("2_bad.sql is not valid UTF-8 (line 2"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        !db.path().join("app.db").exists(),
        "the database was not even opened"
    );

    std::fs::remove_file(db.migrations().join("2_bad.sql")).unwrap();
    std::os::unix::fs::symlink(
        "/nonexistent/target.sql",
        db.migrations().join("2_link.sql"),
    )
    .unwrap();
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cannot read") && run.stderr.contains("2_link.sql"),
        "{}",
        run.stderr
    );
    assert!(!db.path().join("app.db").exists());
}

/// Only regular files are read: a FIFO named like a migration would hang `check` and `up`
/// forever, a symlink to /dev/zero would grow memory without end, a directory named like one
/// was skipped in silence. Each is exit 2 naming the file, within seconds, database
/// untouched; and a file over `max_file_size` is refused before it is read.
#[test]
fn non_regular_and_oversized_files_are_refused_by_name() {
    let Some(db) = TestDb::new(Kind::Sqlite) else {
        return;
    };
    db.write("1_ok.sql", "CREATE TABLE t (id INT);\n");
    let m = db.migrations();
    let fifo = m.join("2_fifo.sql");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    type Case<'a> = (Box<dyn Fn() + 'a>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (Box::new(|| {}), "2_fifo.sql is a FIFO", "fifo"),
        (
            Box::new(|| {
                std::fs::remove_file(m.join("2_fifo.sql")).unwrap();
                std::os::unix::fs::symlink("/dev/zero", m.join("2_zero.sql")).unwrap();
            }),
            "2_zero.sql is a device",
            "/dev/zero",
        ),
        (
            Box::new(|| {
                std::fs::remove_file(m.join("2_zero.sql")).unwrap();
                std::fs::create_dir(m.join("2_dir.sql")).unwrap();
            }),
            "2_dir.sql is a directory",
            "directory",
        ),
        (
            Box::new(|| {
                std::fs::remove_dir(m.join("2_dir.sql")).unwrap();
                std::fs::write(m.join("2_big.sql"), "SELECT 1;\n".repeat(200)).unwrap();
                std::fs::write(db.path().join("migrate.toml"), "max_file_size = \"1KiB\"\n")
                    .unwrap();
            }),
            "2_big.sql is 2000 bytes, more than the 1024 bytes allowed (setting max_file_size)",
            "size",
        ),
    ];
    for (prepare, needle, what) in cases {
        prepare();
        for sub in ["check", "up"] {
            let started = Instant::now();
            // Before, a FIFO hung `check` and `up` forever: a time limit makes that a failure.
            let child = if sub == "check" {
                migrate().cwd(db.path()).check().dir(&m).spawn()
            } else {
                db.command("up").spawn()
            };
            let run = finish(child, Duration::from_secs(10));
            assert_eq!(run.code, 2, "{what} {sub}: {}{}", run.stdout, run.stderr);
            assert!(run.stderr.contains(needle), "{what} {sub}: {}", run.stderr);
            assert!(started.elapsed() < Duration::from_secs(10), "{what} {sub}");
        }
        assert!(
            !db.path().join("app.db").exists(),
            "{what}: database untouched"
        );
    }
}

#[test]
fn missing_or_wrong_kind_of_directory_exits_2() {
    let dir = tempfile::TempDir::new().unwrap();
    std::fs::write(dir.path().join("file.sql"), "SELECT 1;").unwrap();
    for (args, needle) in [
        (
            vec!["check", "--dir", "absent"],
            "migration directory absent does not exist",
        ),
        (
            vec!["check", "--dir", "file.sql"],
            "file.sql is not a directory",
        ),
        (
            vec!["up", "--dir", "absent", "--database", "sqlite://x.db"],
            "does not exist",
        ),
    ] {
        let run = migrate_in(dir.path(), &args);
        assert_eq!(run.code, 2, "{args:?}");
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
    }
    assert!(!dir.path().join("x.db").exists());
}

/// A 50 MB migration and one with 100,000 statements are analysed statement by statement,
/// without running out of memory or time.
#[test]
fn huge_migrations_are_analysed() {
    let dir = tempfile::TempDir::new().unwrap();
    let m = dir.path().join("migrations");
    std::fs::create_dir_all(&m).unwrap();
    let mut big = String::from("CREATE TABLE t (id bigint PRIMARY KEY, name text, note text);\n");
    let mut n = 0;
    while big.len() < 50_000_000 {
        big.push_str(&format!(
            "INSERT INTO t (id, name, note) VALUES ({n}, 'name {n}', 'a note with ; and -- inside {n}');\n"
        ));
        n += 1;
    }
    std::fs::write(m.join("1_big.sql"), &big).unwrap();
    let many: String = (0..100_000)
        .map(|i| format!("UPDATE t SET name = 'x' WHERE id = {i};\n"))
        .collect();
    std::fs::write(
        m.join("2_many.sql"),
        many + "ALTER TABLE t DROP COLUMN note;\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("migrate.toml"),
        "max_file_size = \"64MiB\"\n",
    )
    .unwrap();
    let run = migrate_in(dir.path(), &["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["summary"]["statements"], n + 1 + 100_001);
    assert_eq!(report["summary"]["unparsed"], 0);
    let d = &report["diagnostics"][0];
    assert_eq!(
        (d["rule"].as_str(), d["line"].as_u64()),
        (Some("drop-column"), Some(100_001))
    );
}

/// A history table altered by hand is an error naming the table and column, exit 2.
#[test]
fn history_table_altered_by_hand_is_refused() {
    for kind in [Kind::Postgres, Kind::Mariadb, Kind::Sqlite] {
        let Some(db) = TestDb::new(kind) else {
            continue;
        };
        db.write("1_t.sql", "CREATE TABLE t (id INT);\n");
        assert_eq!(db.migrate("up", &[]).code, 0);
        db.write("2_u.sql", "CREATE TABLE u (id INT);\n");
        db.exec("ALTER TABLE migrate_history DROP COLUMN allows");
        let run = db.migrate("up", &[]);
        assert_eq!(run.code, 2, "{kind:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("history table migrate_history")
                && run.stderr.contains("has no column `allows`"),
            "{kind:?}: {}",
            run.stderr
        );
        assert!(!db.tables().contains(&"u".to_string()));
        if kind != Kind::Sqlite {
            db.exec("ALTER TABLE migrate_history ADD COLUMN allows TEXT");
            let retype = match kind {
                Kind::Postgres => "ALTER TABLE migrate_history ALTER COLUMN execution_ms TYPE text",
                _ => "ALTER TABLE migrate_history MODIFY execution_ms TEXT",
            };
            db.exec(retype);
            let run = db.migrate("up", &[]);
            assert_eq!(run.code, 2, "{kind:?}");
            assert!(
                run.stderr
                    .contains("`execution_ms` of type text, expected an integer type"),
                "{kind:?}: {}",
                run.stderr
            );
        }
    }
}

fn pg_kill(db: &TestDb, application: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let killed = db.strings(&format!(
            "SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity WHERE datname = current_database() AND application_name = '{application}' AND state = 'active' AND query LIKE '%pg_sleep%'"
        ));
        if killed.iter().any(|k| k == "true") {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no backend of {application} to terminate"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The migration connection dropping mid-run (pg_terminate_backend): a clear error, nothing
/// recorded for the rolled-back migration, and a clean next run.
#[test]
fn dropped_connection_mid_run_converges() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    db.write("1_t.sql", "CREATE TABLE t (id INT);\n");
    db.write(
        "2_slow.sql",
        "CREATE TABLE slow (id INT);\nSELECT pg_sleep(30);\n",
    );
    let child = db.command("up").spawn();
    pg_kill(&db, &format!("migrate {}", env!("CARGO_PKG_VERSION")));
    let run = finish(child, Duration::from_secs(30));
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("failed 2 slow at ") && run.stdout.contains("terminat"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("the connection was lost while applying 2")
            && !run.stdout.contains("Fix the migration"),
        "{}",
        run.stdout
    );
    assert_eq!(db.history(), ["1:applied"]);
    assert!(!db.tables().contains(&"slow".to_string()));
    db.write("2_slow.sql", "CREATE TABLE slow (id INT);\n");
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(db.history(), ["1:applied", "2:applied"]);
}

/// A migration that releases the migration lock (the lock lives on the migration session,
/// so `pg_advisory_unlock_all()` or `DISCARD ALL` in a file releases it) stops `up` before
/// the next migration (the first migration outlasts the engine's one-second interval
/// between lock checks).
#[test]
fn lost_lock_stops_before_the_next_migration() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    db.write(
        "1_slow.sql",
        "SELECT pg_advisory_unlock_all();\nSELECT pg_sleep(1.2);\n",
    );
    db.write("2_t.sql", "CREATE TABLE t (id INT);\n");
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("lost the migration lock")
            && run.stderr.contains("pg_advisory_unlock_all"),
        "{}",
        run.stderr
    );
    assert_eq!(
        db.history(),
        ["1:applied"],
        "migration 2 was not started without the lock"
    );
}

fn pgbouncer(db: &TestDb, mode: &str) -> Option<(Child, u16)> {
    pgbouncer_with(db, mode, 0, "")
}

/// PgBouncer in `mode` on a port of its own (`slot` tells apart several in one test),
/// with `extra` lines in its `[pgbouncer]` section.
fn pgbouncer_with(db: &TestDb, mode: &str, slot: u16, extra: &str) -> Option<(Child, u16)> {
    let binary = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    let Some(binary) = binary else {
        if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
            panic!("pgbouncer is not installed (.ci/run installs the Debian package)");
        }
        eprintln!("skipping: pgbouncer is not installed");
        return None;
    };
    // A port the system says is free (a fixed one may be taken, e.g. by a client's
    // ephemeral port), tried again with another should PgBouncer exit instead of listening.
    for attempt in 0..5 {
        let port = std::net::TcpListener::bind(("127.0.0.1", 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = db.path().join(format!("pgbouncer-{mode}-{slot}-{attempt}"));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("users.txt"), "\"postgres\" \"\"\n").unwrap();
        std::fs::write(
            dir.join("pgbouncer.ini"),
            format!(
                "[databases]\n* = host=127.0.0.1 port=5432\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nauth_type = trust\nauth_file = {}/users.txt\npool_mode = {mode}\nignore_startup_parameters = extra_float_digits,options\nunix_socket_dir =\nlogfile = {}/pgbouncer.log\n{extra}",
                dir.display(),
                dir.display()
            ),
        )
        .unwrap();
        // PgBouncer refuses to run as root: run it as the postgres user then.
        let root = Command::new("id")
            .arg("-u")
            .output()
            .unwrap()
            .stdout
            .starts_with(b"0");
        let mut command = if root {
            Command::new("chmod")
                .args(["-R", "a+rwX"])
                .arg(db.path())
                .status()
                .unwrap();
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", binary]);
            c
        } else {
            Command::new(binary)
        };
        let mut child = command
            .arg(dir.join("pgbouncer.ini"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some((child, port));
            }
            if child.try_wait().unwrap().is_some() || Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    panic!("pgbouncer did not start ({mode}, 5 ports tried; see its pgbouncer.log)");
}

/// Behind PgBouncer in transaction mode, session advisory locks leak and prepared statements
/// break: `up` detects the pooler and refuses (exit 2, nothing applied, no lock left behind).
/// In session mode it works.
#[test]
fn transaction_pooler_is_refused_and_session_pooler_works() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    db.write("1_t.sql", "CREATE TABLE t (id INT);\n");
    for mode in ["transaction", "session"] {
        let Some((mut bouncer, port)) = pgbouncer(&db, mode) else {
            return;
        };
        let url = format!("postgres://postgres@127.0.0.1:{port}/{}", db.name);
        let run = db.against("up", &url).run();
        let _ = bouncer.kill();
        let _ = bouncer.wait();
        if mode == "transaction" {
            assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
            assert!(
                run.stderr
                    .contains("connection pooler in transaction or statement mode"),
                "{}",
                run.stderr
            );
            assert!(db.tables().is_empty(), "nothing applied: {:?}", db.tables());
            assert_eq!(
                // This database's: other tests and deployers on the server hold their own.
                db.strings("SELECT count(*)::text FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
                ["0"]
            );
        } else {
            assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
            assert_eq!(db.history(), ["1:applied"]);
        }
    }
}

/// `sslmode` reaches rustls: `require` encrypts (the local server has a self-signed
/// certificate), `verify-full` refuses a certificate no root vouches for, with one clear line.
/// Behind PgBouncer in session mode with a pool of 2 server connections, 3 deployers at
/// once all finish: each holds one server connection while it waits for the lock (the lock
/// is on the migration session), and the moment's second connection of the pooler check is
/// retried when the pool is full instead of waited for.
#[test]
fn session_pooler_with_a_small_pool_serves_more_deployers_than_it_has_connections() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    db.write("1_t.sql", "CREATE TABLE t (id INT);\n");
    db.write(
        "2_slow.sql",
        "SELECT pg_sleep(1);\nCREATE TABLE u (id INT);\n",
    );
    let Some((mut bouncer, port)) = pgbouncer_with(
        &db,
        "session",
        1,
        "default_pool_size = 2\nmax_db_connections = 2\n",
    ) else {
        return;
    };
    let url = format!("postgres://postgres@127.0.0.1:{port}/{}", db.name);
    let children: Vec<Child> = (0..3).map(|_| db.against("up", &url).spawn()).collect();
    let runs: Vec<Run> = children
        .into_iter()
        .map(|c| finish(c, Duration::from_secs(120)))
        .collect();
    let _ = bouncer.kill();
    let _ = bouncer.wait();
    for run in &runs {
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    }
    assert_eq!(db.history(), ["1:applied", "2:applied"]);
}

#[test]
fn tls_options_are_honoured() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    let ssl = db.strings("SHOW ssl");
    if ssl != ["on"] {
        // Debian's PostgreSQL has ssl = on with a snakeoil certificate; CI must test TLS.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI: the PostgreSQL server has ssl = off, so TLS cannot be tested"
        );
        eprintln!("skipping: the local PostgreSQL has ssl = off");
        return;
    }
    let run = db.migrate("status", &[]);
    assert_eq!(run.code, 0);
    let with = |mode: &str| format!("{}?sslmode={mode}", db.url);
    let run = db.against("status", &with("require")).run();
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = db.against("status", &with("verify-full")).run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("migrate: cannot connect to postgres://postgres@127.0.0.1:5432/"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    let run = db.against("status", &with("sideways")).run();
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("sideways"), "{}", run.stderr);
}
