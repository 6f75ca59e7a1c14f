//! One test for each bug other migration engines shipped (ENGINE-PITFALLS.md) that applies to
//! `migrate up`: locks released on every path, never a blocking lock call, no deadlock with
//! CREATE INDEX CONCURRENTLY, lock scope, lock-timeout retries, concurrent deployers, a
//! SIGKILL midway, statements PostgreSQL refuses in a transaction, and redacted passwords.
//! Real servers and files, as in `tests/up.rs`.

mod support;

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use migrate::db::{self, Settings, TableName, Target};
use sqlx::Connection;
use support::cmd::migrate;
use support::db::{Kind, Run, TestDb};

fn wait_for(child: &mut Child, limit: Duration) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("migrate did not finish within {limit:?} (deadlock?)");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn finish(mut child: Child, limit: Duration) -> Run {
    let status = wait_for(&mut child, limit);
    let mut stdout = String::new();
    let mut stderr = String::new();
    use std::io::Read;
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}

fn spawn_up(db: &TestDb, args: &[&str]) -> Child {
    db.command("up").args(args).spawn()
}

fn driver(db: &TestDb, table: &str) -> Box<dyn db::Driver> {
    let settings = Settings {
        history_table: TableName::parse(table).unwrap(),
        ..Settings::default()
    };
    db::connect(&Target::parse(&db.url).unwrap(), &settings).unwrap()
}

fn servers() -> Vec<TestDb> {
    [Kind::Postgres, Kind::Mariadb]
        .into_iter()
        .filter_map(TestDb::new)
        .collect()
}

/// Pitfalls 1, 2, 10, 11: sixteen deployers at once apply every migration exactly once (each
/// migration appends its version to a log table), all exit 0, no deadlock; the PostgreSQL set
/// includes a CREATE INDEX CONCURRENTLY, and function bodies and strings holding `;`.
#[test]
fn sixteen_concurrent_deployers_apply_each_migration_once() {
    for kind in [Kind::Postgres, Kind::Mariadb, Kind::Sqlite] {
        let Some(db) = TestDb::new(kind) else {
            continue;
        };
        db.write(
            "1_log.sql",
            "CREATE TABLE applied_log (version INT NOT NULL, note VARCHAR(20));\n",
        );
        for v in 2..=6 {
            db.write(
                &format!("{v}_step.sql"),
                format!("CREATE TABLE t{v} (id INT);\nINSERT INTO applied_log (version, note) VALUES ({v}, 'a;b');\n"),
            );
        }
        // Statements that succeed a second time: only the history row's key can stop a
        // deployer that planned this migration before another one applied it.
        db.write(
            "9_insert_only.sql",
            "INSERT INTO applied_log (version, note) VALUES (9, 'again?');\n",
        );
        if kind == Kind::Postgres {
            db.write(
                "7_index.sql",
                "CREATE INDEX CONCURRENTLY t2_id ON t2 (id);\n",
            );
            db.write(
                "8_function.sql",
                "CREATE FUNCTION twice(x int) RETURNS int LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN x * 2; -- ; inside a body\nEND;\n$$;\nINSERT INTO applied_log (version, note) VALUES (8, ';');\n",
            );
        }
        let children: Vec<Child> = (0..16).map(|_| spawn_up(&db, &[])).collect();
        for child in children {
            let run = finish(child, Duration::from_secs(120));
            assert_eq!(run.code, 0, "{kind:?}: {}{}", run.stdout, run.stderr);
        }
        let mut logged =
            db.strings("SELECT CAST(version AS CHAR(10)) FROM applied_log ORDER BY version");
        logged.iter_mut().for_each(|v| *v = v.trim().to_string());
        let expected: Vec<String> = if kind == Kind::Postgres {
            vec!["2", "3", "4", "5", "6", "8", "9"]
        } else {
            vec!["2", "3", "4", "5", "6", "9"]
        }
        .into_iter()
        .map(String::from)
        .collect();
        assert_eq!(
            logged, expected,
            "{kind:?}: each migration ran exactly once"
        );
        assert!(
            db.history().iter().all(|h| h.ends_with(":applied")),
            "{kind:?}"
        );
        if kind == Kind::Postgres {
            assert_eq!(db.strings("SELECT twice(21)::text"), ["42"]);
            assert_eq!(
                db.strings(
                    "SELECT indisvalid::text FROM pg_index WHERE indexrelid = 't2_id'::regclass"
                ),
                ["true"]
            );
        }
    }
}

/// Pitfall 4: the lock holder runs CREATE INDEX CONCURRENTLY while a second deployer waits
/// for the lock. The waiter polls with short statements, so the index build does not wait
/// for it and nobody deadlocks.
#[test]
fn create_index_concurrently_with_a_waiting_deployer_does_not_deadlock() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    db.write(
        "1_table.sql",
        "CREATE TABLE t (id INT);\nINSERT INTO t SELECT generate_series(1, 10000);\n",
    );
    db.write("2_wait.sql", "SELECT pg_sleep(2);\n");
    db.write("3_index.sql", "CREATE INDEX CONCURRENTLY t_id ON t (id);\n");
    let first = spawn_up(&db, &[]);
    std::thread::sleep(Duration::from_millis(700));
    let second = spawn_up(&db, &[]);
    let first = finish(first, Duration::from_secs(60));
    let second = finish(second, Duration::from_secs(60));
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    assert_eq!(second.code, 0, "{}{}", second.stdout, second.stderr);
    assert!(first.stdout.contains("applied 3 index"), "{}", first.stdout);
    assert!(second.stdout.contains("up to date"), "{}", second.stdout);
}

/// Pitfall 16: a migration that cannot get its table lock within `lock_timeout` is rolled
/// back and retried with backoff, each retry printed, and succeeds once the lock is free.
#[test]
fn lock_timeout_is_retried_until_the_table_is_free() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    db.config("lock_timeout = \"200ms\"\nlock_retries = 10\n");
    db.write("1_table.sql", "CREATE TABLE t (id INT);\n");
    assert_eq!(db.migrate("up", &[]).code, 0);
    db.write("2_column.sql", "ALTER TABLE t ADD COLUMN note TEXT;\n");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut holder = rt
        .block_on(sqlx::postgres::PgConnection::connect(&db.url))
        .unwrap();
    rt.block_on(sqlx::raw_sql("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE").execute(&mut holder))
        .unwrap();
    let child = spawn_up(&db, &[]);
    std::thread::sleep(Duration::from_millis(1500));
    rt.block_on(sqlx::raw_sql("COMMIT").execute(&mut holder))
        .unwrap();
    let run = finish(child, Duration::from_secs(60));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("lock timeout applying 2: rolled back, retry 1 of 10"),
        "{}",
        run.stderr
    );
    assert!(db.columns("t").contains(&"note".to_string()));
    assert_eq!(db.history(), ["1:applied", "2:applied"]);
}

/// Pitfalls 1 and 2: after a failed migration (transactional on PostgreSQL, recorded on
/// MariaDB) the lock is released by the same process, not by its session ending: another
/// connection takes it at once. Unlocking twice is an error, not a silent success.
#[test]
fn lock_is_released_on_every_path() {
    for db in servers() {
        db.write(
            "1_bad.sql",
            "CREATE TABLE a (id INT);\nALTER TABLE missing ADD COLUMN x INT;\n",
        );
        let mut first = driver(&db, "migrate_history");
        let discovery = migrate::source::discover(&db.migrations(), &Default::default()).unwrap();
        let options = migrate::engine::UpOptions {
            dry_run: false,
            allow_out_of_order: false,
            to: None,
            phase: Default::default(),
            settings: Settings::default(),
            analysis: migrate::analyze::Options {
                dialect: Target::parse(&db.url).unwrap().dialect,
                ..Default::default()
            },
        };
        let report =
            migrate::engine::up(first.as_mut(), &discovery, &options, &mut |_| {}).unwrap();
        assert!(
            matches!(report.result, migrate::engine::UpResult::Failed { .. }),
            "{:?}",
            db.kind
        );
        let mut second = driver(&db, "migrate_history");
        second
            .lock(Duration::ZERO, &mut |_| {})
            .unwrap_or_else(|e| panic!("{:?}: lock leaked: {e}", db.kind));
        second.unlock().unwrap();
        assert!(
            second.unlock().is_err(),
            "{:?}: a second unlock must report it held nothing",
            db.kind
        );
        drop(first);
    }
}

/// Pitfall 3: a waiting deployer polls with the tool's own deadline, says who holds the lock,
/// and gives up with exit 2 when `lock_wait` passes: it never hangs.
#[test]
fn waiting_deployer_names_the_holder_and_gives_up() {
    for db in servers() {
        db.config("lock_wait = \"4s\"\n");
        db.write("1_t.sql", "CREATE TABLE t (id INT);\n");
        let mut holder = driver(&db, "migrate_history");
        holder.lock(Duration::ZERO, &mut |_| {}).unwrap();
        let started = Instant::now();
        let run = finish(spawn_up(&db, &[]), Duration::from_secs(30));
        let waited = started.elapsed();
        assert_eq!(run.code, 2, "{:?}: {}{}", db.kind, run.stdout, run.stderr);
        assert!(
            run.stderr
                .contains("waiting for the migration lock, held by"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("gave up after"), "{}", run.stderr);
        assert!(
            waited >= Duration::from_secs(4) && waited < Duration::from_secs(20),
            "{waited:?}"
        );
        holder.unlock().unwrap();
        assert!(db.tables().is_empty() || !db.tables().contains(&"t".to_string()));
    }
}

/// Pitfall 3 on SQLite, which has no lock of its own: a deployer that cannot get the
/// database's write lock within `lock_wait` gives up with exit 2 and a clear line, having
/// applied nothing, and the next run applies the migration.
#[test]
fn sqlite_write_lock_held_elsewhere_gives_up_cleanly() {
    let Some(db) = TestDb::new(Kind::Sqlite) else {
        return;
    };
    db.config("lock_wait = \"2s\"\n");
    db.write("1_t.sql", "CREATE TABLE t (id INT);\n");
    assert_eq!(db.migrate("up", &[]).code, 0);
    db.write("2_u.sql", "CREATE TABLE u (id INT);\n");
    let holder = db.hold_sqlite_write_lock();
    let run = finish(spawn_up(&db, &[]), Duration::from_secs(60));
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("failed 2 u at migrations/2_u.sql: database is locked: another connection held the database's write lock for longer than 2s (setting lock_wait)")
            && run.stdout.contains("rolled back: nothing of 2 was applied. It ran out of time"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    drop(holder);
    assert_eq!(db.history(), ["1:applied"]);
    assert!(!db.tables().contains(&"u".to_string()));
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(db.history(), ["1:applied", "2:applied"]);
}

/// Pitfall 17, SQLite table rebuilds: `PRAGMA foreign_keys` cannot change inside a
/// migration's transaction, so migrations run with foreign keys off. Rebuilding a parent
/// table then leaves its `ON DELETE CASCADE` children alone (with sqlx's default, on, the
/// drop deletes them), and a migration that leaves a dangling reference is rolled back with
/// the row named. A file that switches foreign keys on outside a transaction does not leak
/// the setting into the migrations after it.
#[test]
fn sqlite_rebuild_keeps_child_rows_and_dangling_references_roll_back() {
    let Some(db) = TestDb::new(Kind::Sqlite) else {
        return;
    };
    let count = |table: &str| db.strings(&format!("SELECT CAST(count(*) AS TEXT) FROM {table}"));
    db.write(
        "1_init.sql",
        "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT);\nCREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE);\nINSERT INTO parent VALUES (1, 'a');\nINSERT INTO child VALUES (10, 1);\n",
    );
    db.write(
        "2_rebuild.sql",
        "CREATE TABLE parent_new (id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '');\nINSERT INTO parent_new SELECT id, coalesce(name, '') FROM parent;\n-- migrate:allow table-rebuild: contract step, the old version is gone\nDROP TABLE parent;\nALTER TABLE parent_new RENAME TO parent;\n",
    );
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        count("child"),
        ["1"],
        "the rebuild cascaded into the child table"
    );

    db.write("3_orphan.sql", "INSERT INTO child VALUES (11, 2);\n");
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("failed 3 orphan at migrations/3_orphan.sql: the migration leaves a row whose foreign key points at nothing")
            && run.stdout.contains("child row 11 references a missing row of parent"),
        "{}",
        run.stdout
    );
    assert_eq!(db.history(), ["1:applied", "2:applied"]);
    assert_eq!(count("child"), ["1"]);

    db.write(
        "3_orphan.sql",
        "-- migrate:no-transaction\nPRAGMA foreign_keys = ON;\n",
    );
    db.write(
        "4_drop_parent_rows.sql",
        "-- migrate:allow delete-without-where: contract step, the rows are obsolete\nDELETE FROM parent;\n",
    );
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("child row 10 references a missing row of parent"),
        "foreign keys leaked on and cascaded: {}",
        run.stdout
    );
    assert_eq!(db.history(), ["1:applied", "2:applied", "3:applied"]);
    assert_eq!(count("parent"), ["1"]);
}

/// Pitfall 17, continued: the foreign key check is skipped while the database has no
/// foreign key, so a run whose first migration declares one must still check the next
/// migration of the same run.
#[test]
fn sqlite_foreign_keys_declared_earlier_in_the_run_are_checked() {
    let Some(db) = TestDb::new(Kind::Sqlite) else {
        return;
    };
    db.write(
        "1_init.sql",
        "CREATE TABLE parent (id INTEGER PRIMARY KEY);\nCREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id));\n",
    );
    db.write("2_orphan.sql", "INSERT INTO child VALUES (1, 42);\n");
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("child row 1 references a missing row of parent"),
        "{}",
        run.stdout
    );
    assert_eq!(db.history(), ["1:applied"]);
}

/// Pitfall 6: the lock is keyed on the history table's schema and name, so two apps with
/// their own history tables in one database do not block each other.
#[test]
fn lock_is_scoped_to_the_history_table() {
    for db in servers() {
        db.config("lock_wait = \"2s\"\n");
        db.write("1_t.sql", "CREATE TABLE t (id INT);\n");
        let mut other_app = driver(&db, "other_history");
        other_app.lock(Duration::ZERO, &mut |_| {}).unwrap();
        let run = db.migrate("up", &[]);
        assert_eq!(run.code, 0, "{:?}: {}{}", db.kind, run.stdout, run.stderr);
        other_app.unlock().unwrap();
    }
}

/// Pitfall 7: `migrate up` killed with SIGKILL in the middle of a long migration. PostgreSQL
/// and SQLite roll it back with its history row, and the next run completes it; MariaDB
/// records it as running with exact progress (the statement that was killed ran in a
/// transaction with its progress update), and the next run resumes it.
#[test]
fn sigkill_midway_is_completed_by_the_next_run_or_refused_with_the_next_step() {
    for kind in [Kind::Postgres, Kind::Sqlite, Kind::Mariadb] {
        let Some(db) = TestDb::new(kind) else {
            continue;
        };
        db.write("1_t.sql", "CREATE TABLE t (id INT);\n");
        let long = match kind {
            Kind::Postgres => "CREATE TABLE big (n INT);\nINSERT INTO big SELECT generate_series(1, 100);\nSELECT pg_sleep(30);\n".to_string(),
            Kind::Mariadb => "CREATE TABLE big (n INT);\nSELECT SLEEP(5);\nALTER TABLE big ADD COLUMN m INT;\n".to_string(),
            Kind::Sqlite => "CREATE TABLE big (n INT);\nINSERT INTO big WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 30000000) SELECT n FROM c;\n".to_string(),
        };
        db.write("2_long.sql", long);
        let mut child = spawn_up(&db, &[]);
        std::thread::sleep(Duration::from_millis(2500));
        assert!(
            child.try_wait().unwrap().is_none(),
            "{kind:?}: the migration finished too fast to be killed midway"
        );
        child.kill().unwrap();
        child.wait().unwrap();
        match kind {
            Kind::Mariadb => {
                // The CREATE committed with its progress; the SELECT ran in a transaction
                // with its progress update, rolled back by the kill: the row is exact.
                assert_eq!(db.history(), ["1:applied", "2:running"]);
                // An interrupted migration resumes only with the text it was started with.
                db.write(
                    "2_long.sql",
                    "CREATE TABLE big (n INT);\nSELECT SLEEP(0);\nALTER TABLE big ADD COLUMN m INT;\n",
                );
                let refused = db.migrate("up", &[]);
                assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
                assert!(
                    refused
                        .stdout
                        .contains("was interrupted while running, and"),
                    "{}",
                    refused.stdout
                );
                db.write(
                    "2_long.sql",
                    "CREATE TABLE big (n INT);\nSELECT SLEEP(5);\nALTER TABLE big ADD COLUMN m INT;\n",
                );
                // Resumed at statement 2 (which sleeps again).
                let run = finish(spawn_up(&db, &[]), Duration::from_secs(90));
                assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
                assert!(
                    run.stderr
                        .contains("resuming 2, interrupted earlier: statement 1 of 3 was applied"),
                    "{}",
                    run.stderr
                );
                assert_eq!(db.history(), ["1:applied", "2:applied"]);
                assert!(db.columns("big").contains(&"m".to_string()));
                continue;
            }
            _ => {
                // The server (or SQLite's journal) rolled the migration back with its row.
                let history = db.history();
                assert_eq!(history, ["1:applied"], "{kind:?}");
                db.write(
                    "2_long.sql",
                    "CREATE TABLE big (n INT);\nINSERT INTO big VALUES (1);\n",
                );
            }
        }
        let run = finish(spawn_up(&db, &[]), Duration::from_secs(90));
        assert_eq!(run.code, 0, "{kind:?}: {}{}", run.stdout, run.stderr);
        assert_eq!(db.history(), ["1:applied", "2:applied"], "{kind:?}");
        assert!(db.tables().contains(&"big".to_string()));
    }
}

/// Pitfall 9: statements PostgreSQL refuses inside a transaction are detected by the parser
/// (no directive needed) and run outside one; ALTER TYPE ... ADD VALUE only before PG 12.
#[test]
fn statements_refused_in_a_transaction_run_outside_one() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    db.write(
        "1_t.sql",
        "CREATE TABLE t (id INT);\nCREATE TYPE mood AS ENUM ('happy');\n",
    );
    db.write(
        "2_index.sql",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_id ON t (id);\n",
    );
    db.write("3_value.sql", "ALTER TYPE mood ADD VALUE 'sad';\n");
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("applied 2 index (") && run.stdout.contains("outside a transaction"),
        "{}",
        run.stdout
    );
    let value_line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("applied 3 value"))
        .unwrap();
    assert!(
        !value_line.contains("outside"),
        "PG 15 runs ADD VALUE in a transaction: {value_line}"
    );
    db.config("pg_version = 11\n");
    db.write("4_value.sql", "ALTER TYPE mood ADD VALUE 'calm';\n");
    let run = db.migrate("up", &[]);
    assert!(
        run.stdout.contains("applied 4 value") && run.stdout.contains("outside a transaction"),
        "{}",
        run.stdout
    );
}

/// Pitfall 19: the password never appears in any output; an unreachable server or an unknown
/// scheme is exit 2 with one clear line.
#[test]
fn passwords_are_redacted_and_connection_errors_are_clear() {
    let dir = tempfile::TempDir::new().unwrap();
    std::fs::create_dir_all(dir.path().join("migrations")).unwrap();
    for (url, expect) in [
        (
            "postgres://app:hunter2secret@127.0.0.1:1/db",
            "Connection refused",
        ),
        (
            "mysql://root:hunter2secret@127.0.0.1:3306/mysql",
            "Access denied",
        ),
        (
            "oracle://app:hunter2secret@127.0.0.1/db",
            "unknown database URL scheme `oracle`",
        ),
    ] {
        for args in [
            vec!["up", "--format", "json"],
            vec!["status", "--format", "json"],
            vec!["verify"],
        ] {
            let sub = args[0];
            let run = migrate().cwd(dir.path()).args(&args).database(url).run();
            let (stderr, stdout) = (&run.stderr, &run.stdout);
            assert_eq!(run.code, 2, "{sub} {url}: {stderr}");
            assert!(
                !stderr.contains("hunter2secret") && !stdout.contains("hunter2secret"),
                "{stderr}"
            );
            assert!(stderr.contains("***"), "{stderr}");
            assert!(stderr.contains(expect), "{sub} {url}: {stderr}");
            assert_eq!(stderr.lines().count(), 1, "one clear line: {stderr}");
        }
    }
}

/// Pitfall 19, the panic path: a panic (injected in debug builds) whose message holds the raw
/// URL is reported on one line with the password scrubbed, exit 2.
#[test]
fn a_panic_never_shows_the_password() {
    let dir = tempfile::TempDir::new().unwrap();
    std::fs::create_dir_all(dir.path().join("migrations")).unwrap();
    let run = migrate()
        .cwd(dir.path())
        .status()
        .database("postgres://app:hunter2secret@127.0.0.1:1/db")
        .env("MIGRATE_DEBUG_PANIC_WITH_URL", "1")
        .run();
    let stderr = &run.stderr;
    assert_eq!(run.code, 2, "{stderr}");
    assert!(
        stderr.starts_with("migrate: internal error (a bug: please report it): injected panic while holding postgres://app:***@127.0.0.1:1/db"),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2secret"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
