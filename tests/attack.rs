//! `up` tried the way production breaks it: a deployer killed while its statement waits or
//! runs, interrupted migrations resumed from what the catalog shows, lock timeouts outside
//! a transaction, a file that commits or rolls back the engine's transaction, session state
//! that a migration changes, concurrent SQLite deployers. Every test runs on the real
//! servers, and each would fail without the behaviour it names.

mod support;

use std::time::{Duration, Instant};

use support::cmd::finish;
use support::db::{Kind, TestDb};

/// Waits until `query` (a count, as text) on `db` says a statement is there.
fn wait_for(db: &TestDb, query: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while db.strings(query).first().map(String::as_str) == Some("0") {
        assert!(Instant::now() < deadline, "never saw {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A `running` row as a deployer killed at a known moment leaves it: `applied` statements
/// done, statement `in_flight` started (or none), written by the dead session `session`.
fn interrupt(db: &TestDb, version: i64, applied: i64, in_flight: Option<i64>, session: &str) {
    let in_flight = in_flight.map_or("NULL".to_string(), |i| i.to_string());
    db.exec(&format!(
        "UPDATE migrate_history SET state = 'running', statements_applied = {applied}, in_flight = {in_flight}, error = NULL, failed_statement = NULL, session = '{session}' WHERE version = {version}"
    ));
}

/// Issue point 1, DML: a deployer killed while its `UPDATE` waits for a row lock. The
/// statement and its progress update are one transaction, so the killed session's update is
/// rolled back with it, the next run resumes at that statement, and the balance moves once.
/// (Before, the UPDATE committed on its own after the kill and its progress was lost: a
/// deployer following the recorded count ran it twice.)
#[test]
fn mariadb_dml_commits_with_its_progress_so_a_killed_update_runs_once() {
    let Some(db) = TestDb::new(Kind::Mariadb) else {
        return;
    };
    db.config("lock_timeout = \"30s\"\n");
    db.write(
        "1_acct.sql",
        "CREATE TABLE acct (id INT PRIMARY KEY, balance INT NOT NULL);\nINSERT INTO acct VALUES (1, 100);\n",
    );
    assert_eq!(db.migrate("up", &[]).code, 0);
    db.write(
        "2_bump.sql",
        "UPDATE acct SET balance = balance + 1 WHERE id = 1;\nALTER TABLE acct ADD COLUMN note TEXT;\n",
    );
    let mut holder = db.hold("BEGIN; SELECT balance FROM acct WHERE id = 1 FOR UPDATE");
    let mut child = db.command("up").spawn();
    wait_for(
        &db,
        "SELECT CAST(COUNT(*) AS CHAR) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'UPDATE acct%'",
        "the UPDATE waiting for its row lock",
    );
    child.kill().unwrap();
    child.wait().unwrap();
    holder.exec("COMMIT");
    let run = finish(db.command("up").spawn(), Duration::from_secs(60));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("resuming 2, interrupted earlier"),
        "{}",
        run.stderr
    );
    assert_eq!(
        db.strings("SELECT CAST(balance AS CHAR) FROM acct"),
        ["101"],
        "the UPDATE ran exactly once"
    );
    assert_eq!(db.history(), ["1:applied", "2:applied"]);
}

/// Issue point 1, DDL on MariaDB: a statement that commits on its own is marked in flight
/// first. After a kill between it and its progress update, the next run reads the catalog:
/// the column exists (resume after it), is missing (run it again), or the catalog cannot
/// tell (refuse naming the statement); and it refuses while the session is alive.
#[test]
fn mariadb_in_flight_ddl_is_judged_by_the_catalog() {
    let Some(db) = TestDb::new(Kind::Mariadb) else {
        return;
    };
    db.write("1_t.sql", "CREATE TABLE t (id INT PRIMARY KEY);\n");
    db.write(
        "2_alter.sql",
        "ALTER TABLE t ADD COLUMN c INT;\nALTER TABLE t MODIFY c BIGINT;\nINSERT INTO log VALUES (1);\n",
    );
    // The first run stops at the INSERT (no table `log` yet): statements 1 and 2 ran.
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    db.exec("CREATE TABLE log (n INT)");

    // Killed while MODIFY ran: nothing in the catalog tells whether it completed.
    interrupt(&db, 2, 1, Some(1), "4000000001");
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("statement 2 of 3 (line 2) ran outside a transaction: it may or may not have taken effect"),
        "{}",
        run.stdout
    );
    assert_eq!(db.history(), ["1:applied", "2:running"], "nothing was run");

    // A live session: the test's own connection stands for a killed client's statement
    // that the server still runs.
    let mut live = db.hold("");
    let id = live.string("SELECT CAST(CONNECTION_ID() AS CHAR)");
    interrupt(&db, 2, 0, Some(0), &id);
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!(
            "its statement 1 of 3 (line 1) is still running in session {id}"
        )),
        "{}",
        run.stdout
    );
    drop(live);

    // Killed while ADD COLUMN ran, and it completed: resume after it.
    db.exec("ALTER TABLE t DROP COLUMN c");
    db.exec("ALTER TABLE t ADD COLUMN c INT");
    interrupt(&db, 2, 0, Some(0), "4000000002");
    db.write(
        "2_alter.sql",
        "ALTER TABLE t ADD COLUMN c INT;\nALTER TABLE t MODIFY c BIGINT;\nINSERT INTO log VALUES (1);\n",
    );
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("resuming 2, interrupted earlier: statement 1 of 3 was applied"),
        "{}",
        run.stderr
    );
    assert_eq!(db.history(), ["1:applied", "2:applied"]);
    assert_eq!(db.strings("SELECT CAST(COUNT(*) AS CHAR) FROM log"), ["1"]);
}

/// The same judgement when the column did not appear: the statement runs again.
#[test]
fn mariadb_in_flight_ddl_that_did_not_happen_runs_again() {
    let Some(db) = TestDb::new(Kind::Mariadb) else {
        return;
    };
    db.write("1_t.sql", "CREATE TABLE t (id INT PRIMARY KEY);\n");
    db.write(
        "2_alter.sql",
        "ALTER TABLE t ADD COLUMN c INT;\nINSERT INTO log VALUES (1);\n",
    );
    assert_eq!(db.migrate("up", &[]).code, 1);
    db.exec("ALTER TABLE t DROP COLUMN c");
    db.exec("CREATE TABLE log (n INT)");
    interrupt(&db, 2, 0, Some(0), "4000000003");
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("none of its 2 statements was applied"),
        "{}",
        run.stderr
    );
    assert!(db.columns("t").contains(&"c".to_string()));
    assert_eq!(db.history(), ["1:applied", "2:applied"]);
}

/// Issue point 1 on PostgreSQL: a deployer killed during `CREATE INDEX CONCURRENTLY` leaves
/// an INVALID index; the next run drops it concurrently, says so, and builds it again.
#[test]
fn postgres_interrupted_index_build_is_dropped_and_rebuilt() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    db.write(
        "1_users.sql",
        "CREATE TABLE users (id INT PRIMARY KEY, email TEXT);\nINSERT INTO users VALUES (1, 'a'), (2, 'a');\n",
    );
    db.write(
        "2_index.sql",
        "-- migrate:allow mixed-non-transactional: the test needs a statement after the build\nCREATE INDEX CONCURRENTLY users_email ON users (email);\nINSERT INTO log VALUES (1);\n",
    );
    assert_eq!(db.migrate("up", &[]).code, 1, "stops at the INSERT");
    db.exec("CREATE TABLE log (n INT)");
    // What a kill midway through the build leaves: an INVALID index of that name.
    db.exec("DROP INDEX users_email");
    let failed = db
        .hold("")
        .try_exec("CREATE UNIQUE INDEX CONCURRENTLY users_email ON users (email)");
    assert!(failed.is_err(), "the duplicate emails make the build fail");
    assert_eq!(
        db.strings(
            "SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'users_email'::regclass"
        ),
        ["false"]
    );
    interrupt(
        &db,
        2,
        0,
        Some(0),
        "999999 (started 2000-01-01 00:00:00+00)",
    );
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("dropped the INVALID index users_email that statement 1 of 2 left"),
        "{}",
        run.stderr
    );
    assert_eq!(
        db.strings(
            "SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'users_email'::regclass"
        ),
        ["true"]
    );
    assert_eq!(db.history(), ["1:applied", "2:applied"]);
}

/// Issue point 8 on MariaDB: an ALTER that times out waiting for a metadata lock had no
/// effect; it is retried with backoff (not left as a `failed` row), and succeeds once the
/// lock is free.
#[test]
fn mariadb_lock_timeout_outside_a_transaction_is_retried() {
    let Some(db) = TestDb::new(Kind::Mariadb) else {
        return;
    };
    db.config("lock_timeout = \"1s\"\nlock_retries = 6\n");
    db.write("1_t.sql", "CREATE TABLE t (id INT);\n");
    assert_eq!(db.migrate("up", &[]).code, 0);
    db.write("2_c.sql", "ALTER TABLE t ADD COLUMN c INT;\n");
    let mut holder = db.hold("BEGIN; SELECT * FROM t");
    let child = db.command("up").spawn();
    std::thread::sleep(Duration::from_millis(2500));
    holder.exec("COMMIT");
    let run = finish(child, Duration::from_secs(60));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("lock timeout on statement 1 of 2: it had no effect, retry 1 of 6"),
        "{}",
        run.stderr
    );
    assert!(db.columns("t").contains(&"c".to_string()));
    assert_eq!(db.history(), ["1:applied", "2:applied"]);
}

/// Issue point 8 on PostgreSQL: `CREATE INDEX CONCURRENTLY` that hits the lock timeout
/// (waiting for an old snapshot) leaves an INVALID index; the engine drops the index it was
/// building, says so, and retries until it is built.
#[test]
fn postgres_index_build_lock_timeout_drops_the_invalid_index_and_retries() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    db.config("lock_timeout = \"1s\"\nlock_retries = 8\n");
    db.write(
        "1_t.sql",
        "CREATE TABLE t (id INT);\nINSERT INTO t SELECT generate_series(1, 1000);\n",
    );
    assert_eq!(db.migrate("up", &[]).code, 0);
    db.write("2_index.sql", "CREATE INDEX CONCURRENTLY t_id ON t (id);\n");
    let mut old_snapshot = db.hold("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1");
    let child = db.command("up").spawn();
    std::thread::sleep(Duration::from_millis(3000));
    old_snapshot.exec("COMMIT");
    let run = finish(child, Duration::from_secs(90));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("lock timeout on statement 1 of 2"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("dropped the INVALID index t_id"),
        "{}",
        run.stderr
    );
    assert_eq!(
        db.strings("SELECT indisvalid::text FROM pg_index WHERE indexrelid = 't_id'::regclass"),
        ["true"]
    );
    assert_eq!(db.history(), ["1:applied", "2:applied"]);
}

/// Issue point 2: a `COMMIT` or `ROLLBACK` inside a transactional file (forced past the
/// gate with an allow) ends the engine's transaction. The engine notices before writing the
/// history row, records the migration as failed, and the next run refuses until resolved.
#[test]
fn commit_or_rollback_inside_a_file_is_caught_before_the_history_row() {
    for kind in [Kind::Postgres, Kind::Sqlite] {
        for (control, a_stays) in [("COMMIT", true), ("ROLLBACK", false)] {
            let Some(db) = TestDb::new(kind) else {
                return;
            };
            let sql = format!(
                "CREATE TABLE a (id INT);\n-- migrate:allow transaction-control: proving the engine's guard\n{control};\nCREATE TABLE b (id INT);\n"
            );
            db.write("1_tx.sql", &sql);
            let run = db.migrate("up", &[]);
            assert_eq!(
                run.code, 1,
                "{kind:?} {control}: {}{}",
                run.stdout, run.stderr
            );
            assert!(
                run.stdout
                    .contains("the file ended the migration's transaction itself"),
                "{kind:?} {control}: {}",
                run.stdout
            );
            assert_eq!(db.history(), ["1:failed"], "{kind:?} {control}");
            let tables = db.tables();
            assert_eq!(
                tables.contains(&"a".to_string()),
                a_stays,
                "{kind:?} {control}: {tables:?}"
            );
            assert!(tables.contains(&"b".to_string()), "{kind:?} {control}");
            let refused = db.migrate("up", &[]);
            assert_eq!(refused.code, 1, "{kind:?} {control}: {}", refused.stdout);
            assert!(
                refused.stdout.contains("migrate resolve 1"),
                "{}",
                refused.stdout
            );
            // Without the allow, the gate refuses the file before anything runs.
            let Some(fresh) = TestDb::new(kind) else {
                return;
            };
            fresh.write(
                "1_tx.sql",
                format!("CREATE TABLE a (id INT);\n{control};\n"),
            );
            let run = fresh.migrate("up", &[]);
            assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
            assert!(
                run.stdout.contains("error[M008 transaction-control]"),
                "{}",
                run.stdout
            );
            assert!(fresh.tables().is_empty() || fresh.tables() == ["migrate_history"]);
        }
    }
}

/// Issue point 3: a migration's `SET lock_timeout = 0` does not reach the next migration,
/// which still gives up on the configured lock timeout instead of stalling traffic.
#[test]
fn postgres_session_settings_do_not_leak_into_the_next_migration() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    db.config("lock_timeout = \"500ms\"\nlock_retries = 0\n");
    db.write("1_t.sql", "CREATE TABLE t (id INT);\n");
    assert_eq!(db.migrate("up", &[]).code, 0);
    db.write("2_no_timeout.sql", "SET lock_timeout = 0;\n");
    db.write("3_alter.sql", "ALTER TABLE t ADD COLUMN c INT;\n");
    let holder = db.hold("BEGIN; LOCK TABLE t IN ACCESS SHARE MODE");
    let run = finish(db.command("up").spawn(), Duration::from_secs(20));
    drop(holder);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("failed 3 alter") && run.stdout.contains("lock timeout"),
        "{}",
        run.stdout
    );
    assert_eq!(db.history(), ["1:applied", "2:applied"]);
}

/// Issue point 3: `SET search_path` in one migration neither moves the history table nor
/// the next migration's objects.
#[test]
fn postgres_search_path_does_not_leak() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    db.write(
        "1_path.sql",
        "CREATE SCHEMA other;\nSET search_path = other;\nCREATE TABLE inside_other (id INT);\n",
    );
    db.write("2_t.sql", "CREATE TABLE t2 (id INT);\n");
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(db.history(), ["1:applied", "2:applied"]);
    assert!(db.tables().contains(&"t2".to_string()), "{:?}", db.tables());
    assert_eq!(
        db.strings("SELECT table_schema::text FROM information_schema.tables WHERE table_name = 'inside_other'"),
        ["other"]
    );
}

/// Issue point 3 on MariaDB: `USE other_db` in a migration neither writes the history there
/// nor creates the next migration's tables there.
#[test]
fn mariadb_use_does_not_leak() {
    let Some(db) = TestDb::new(Kind::Mariadb) else {
        return;
    };
    let other = format!("{}_other", db.name);
    db.exec(&format!("CREATE DATABASE {other}"));
    db.write(
        "1_use.sql",
        format!("USE {other};\nCREATE TABLE there (id INT);\n"),
    );
    db.write("2_t.sql", "CREATE TABLE t2 (id INT);\n");
    let run = db.migrate("up", &[]);
    let in_other = db.strings(&format!(
        "SELECT CAST(table_name AS CHAR) FROM information_schema.tables WHERE table_schema = '{other}' ORDER BY 1"
    ));
    db.exec(&format!("DROP DATABASE {other}"));
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(db.history(), ["1:applied", "2:applied"]);
    assert_eq!(in_other, ["there"]);
    assert!(db.tables().contains(&"t2".to_string()), "{:?}", db.tables());
}

/// Issue point 5: concurrent SQLite deployers with a slow no-transaction file queue on the
/// lock file; none mistakes another live deployer's `running` row for an interrupted run.
#[test]
fn sqlite_concurrent_deployers_with_a_slow_no_transaction_file_all_succeed() {
    let Some(db) = TestDb::new(Kind::Sqlite) else {
        return;
    };
    db.write("1_t.sql", "CREATE TABLE t (id INT);\n");
    db.write(
        "2_slow.sql",
        "-- migrate:no-transaction\nCREATE TABLE big (n INT);\nINSERT INTO big WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 300000) SELECT n FROM c;\n",
    );
    let children: Vec<_> = (0..16).map(|_| db.command("up").spawn()).collect();
    for child in children {
        let run = finish(child, Duration::from_secs(120));
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    }
    assert_eq!(db.history(), ["1:applied", "2:applied"]);
    assert_eq!(
        db.strings("SELECT CAST(count(*) AS TEXT) FROM big"),
        ["300000"]
    );
}

/// Issue point 6: passwords the URL parser would not find (a `/`, `?` or `@` inside,
/// percent-encoded, a query parameter, a libpq keyword string) never appear in any output of
/// any command, whether the URL comes from `--database`, `DATABASE_URL` or `migrate.toml`.
#[test]
fn passwords_never_appear_whatever_the_url_form_and_command() {
    let dir = tempfile::TempDir::new().unwrap();
    std::fs::create_dir_all(dir.path().join("migrations")).unwrap();
    std::fs::write(
        dir.path().join("migrations/1_t.sql"),
        "CREATE TABLE t (id INT);\n",
    )
    .unwrap();
    let secret = "Sk9secretPW";
    let forms = [
        format!("postgres://app:Zq9/{secret}@127.0.0.1:1/db"),
        format!("postgres://app:Zq9?{secret}@127.0.0.1:1/db"),
        format!("postgres://app:Zq9@{secret}@127.0.0.1:1/db"),
        format!("postgres://app:{secret}@127.0.0.1:1/db?sslmode=disable"),
        format!("postgres://app@127.0.0.1:1/db?password={secret}"),
        format!("mysql://root:{secret}@127.0.0.1:1/db"),
        format!("mariadb://root:{secret}:x@127.0.0.1:1/db"),
        "postgres://app:Sk9secret%50W@127.0.0.1:1/db".to_string(),
        format!("host=127.0.0.1 port=1 user=app password={secret} dbname=db"),
        format!("host=127.0.0.1 password='{secret} x' dbname=db"),
    ];
    let commands: [&[&str]; 7] = [
        &["up"],
        &["up", "--format", "json"],
        &["status"],
        &["status", "--format", "json"],
        &["verify"],
        &["resolve", "1", "--rolled-back"],
        &["baseline", "1"],
    ];
    let mut runs = 0;
    for url in &forms {
        for args in commands {
            for source in ["flag", "env", "config"] {
                let mut m = support::cmd::migrate()
                    .cwd(dir.path())
                    .args(args.iter())
                    .dir("migrations");
                let _ = std::fs::remove_file(dir.path().join("migrate.toml"));
                match source {
                    "flag" => m = m.database(url),
                    "env" => m = m.env("DATABASE_URL", url),
                    _ => std::fs::write(
                        dir.path().join("migrate.toml"),
                        format!("database_url = {}\n", serde_json::to_string(url).unwrap()),
                    )
                    .unwrap(),
                }
                let run = m.run();
                runs += 1;
                let out = format!("{}{}", run.stdout, run.stderr);
                assert_eq!(run.code, 2, "{url} {args:?} {source}: {out}");
                for leaked in [secret, "Sk9secret%50W", "secretPW"] {
                    assert!(
                        !out.contains(leaked),
                        "{url} {args:?} {source} leaks {leaked}: {out}"
                    );
                }
            }
        }
    }
    assert_eq!(runs, 210);
}

/// Issue point 10: a `DATABASE_URL` that is not UTF-8 is named as such, not "no database".
#[test]
fn database_url_that_is_not_utf8_is_named() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::TempDir::new().unwrap();
    std::fs::create_dir_all(dir.path().join("migrations")).unwrap();
    let run = support::cmd::migrate()
        .cwd(dir.path())
        .status()
        .env(
            "DATABASE_URL",
            std::ffi::OsStr::from_bytes(b"postgres://u:\xff@h/db"),
        )
        .run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("DATABASE_URL is not valid UTF-8"),
        "{}",
        run.stderr
    );
}

/// Issue point 4: two apps with their own history tables share a database. App B's first
/// `up` is not refused because of app A's tables (made by A's history) or A's history
/// table; tables no history accounts for still are, and `baseline 0` adopts the database
/// without skipping B's first migration.
#[test]
fn two_apps_with_their_own_history_tables_share_a_database() {
    for kind in [Kind::Postgres, Kind::Mariadb, Kind::Sqlite] {
        let Some(db) = TestDb::new(kind) else {
            continue;
        };
        let app = |name: &str, sql: &str| {
            let dir = db.path().join(name);
            std::fs::create_dir_all(dir.join("migrations")).unwrap();
            std::fs::write(dir.join("migrations/1_first.sql"), sql).unwrap();
            std::fs::write(
                dir.join("migrate.toml"),
                format!("history_table = \"{name}_history\"\n"),
            )
            .unwrap();
            dir
        };
        let up = |dir: &std::path::Path| {
            support::cmd::migrate()
                .cwd(dir)
                .up()
                .dir("migrations")
                .database(&db.url)
                .run()
        };
        let a = app(
            "a",
            "CREATE TABLE users (id INT);\nCREATE TABLE gone (id INT);\nDROP TABLE gone;\n",
        );
        let b = app("b", "CREATE TABLE orders (id INT);\n");
        assert_eq!(up(&a).code, 0, "{kind:?}");
        let run = up(&b);
        assert_eq!(run.code, 0, "{kind:?}: {}{}", run.stdout, run.stderr);
        assert!(db.tables().contains(&"orders".to_string()), "{kind:?}");

        // A table no history made: refused, then adopted with `baseline 0`.
        db.exec("CREATE TABLE by_hand (id INT)");
        let c = app("c", "CREATE TABLE invoices (id INT);\n");
        let run = up(&c);
        assert_eq!(run.code, 1, "{kind:?}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains("(by_hand)") && run.stdout.contains("migrate baseline 0"),
            "{kind:?}: {}",
            run.stdout
        );
        let baseline = support::cmd::migrate()
            .cwd(&c)
            .args([
                "baseline",
                "0",
                "--dir",
                "migrations",
                "--database",
                &db.url,
            ])
            .run();
        assert_eq!(
            baseline.code, 0,
            "{kind:?}: {}{}",
            baseline.stdout, baseline.stderr
        );
        let run = up(&c);
        assert_eq!(run.code, 0, "{kind:?}: {}{}", run.stdout, run.stderr);
        assert!(db.tables().contains(&"invoices".to_string()), "{kind:?}");
        let status = support::cmd::migrate()
            .cwd(&c)
            .status()
            .dir("migrations")
            .database(&db.url)
            .run();
        assert!(
            status.stdout.contains("\n1        applied") && !status.stdout.contains("missing"),
            "{kind:?}: {}",
            status.stdout
        );
    }
}

/// Issue point 10: each message says what happened. Only a failure of the migration's own
/// statements says "fix the migration"; a lock held elsewhere, a read-only database and a
/// connection the server ended say so.
#[test]
fn failures_outside_the_migration_do_not_say_fix_the_migration() {
    // A lock held by another session through every retry (PostgreSQL).
    if let Some(db) = TestDb::new(Kind::Postgres) {
        db.config("lock_timeout = \"300ms\"\nlock_retries = 1\n");
        db.write("1_t.sql", "CREATE TABLE t (id INT);\n");
        assert_eq!(db.migrate("up", &[]).code, 0);
        db.write("2_c.sql", "ALTER TABLE t ADD COLUMN c INT;\n");
        let holder = db.hold("BEGIN; LOCK TABLE t IN ACCESS SHARE MODE");
        let run = db.migrate("up", &[]);
        drop(holder);
        assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
        assert!(
            run.stdout.contains("Another session held a lock it needed")
                && !run.stdout.contains("Fix the migration"),
            "{}",
            run.stdout
        );
    }
    // A read-only SQLite database.
    if let Some(db) = TestDb::new(Kind::Sqlite) {
        db.write("1_t.sql", "CREATE TABLE t (id INT);\n");
        assert_eq!(db.migrate("up", &[]).code, 0);
        db.write("2_u.sql", "CREATE TABLE u (id INT);\n");
        let run = db.against("up", &format!("{}?mode=ro", db.url)).run();
        assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
        assert!(
            run.stdout
                .contains("The database refuses writes (read-only)")
                && !run.stdout.contains("Fix the migration"),
            "{}",
            run.stdout
        );
    }
    // SQLite's write lock held elsewhere with BEGIN EXCLUSIVE: the lock_wait message, not
    // a bare "database is locked".
    if let Some(db) = TestDb::new(Kind::Sqlite) {
        db.config("lock_wait = \"1s\"\n");
        db.write("1_t.sql", "CREATE TABLE t (id INT);\n");
        assert_eq!(db.migrate("up", &[]).code, 0);
        db.write("2_u.sql", "CREATE TABLE u (id INT);\n");
        let holder = db.hold("BEGIN EXCLUSIVE");
        let run = db.migrate("up", &[]);
        drop(holder);
        assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
        let out = format!("{}{}", run.stdout, run.stderr);
        assert!(
            out.contains("held the database's write lock for longer than 1s (setting lock_wait)"),
            "{out}"
        );
    }
}

/// Issue point 10: a checksum edited in the history table (the file and the recorded SQL
/// unchanged) is named as an edited row, not as a changed file with an empty diff; a row
/// with a negative version is named with its version; file names with control characters
/// are printed escaped.
#[test]
fn history_rows_edited_by_hand_and_hostile_names_are_named_right() {
    let Some(db) = TestDb::new(Kind::Sqlite) else {
        return;
    };
    db.write("1_t.sql", "CREATE TABLE t (id INT);\n");
    assert_eq!(db.migrate("up", &[]).code, 0);
    db.exec("UPDATE migrate_history SET checksum = 'sha256:0000' WHERE version = 1");
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("the history row of migration 1 was edited: its checksum sha256:0000"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("@@"), "no empty diff: {}", run.stdout);
    let verify = db.migrate("verify", &[]);
    assert_eq!(verify.code, 1);
    db.exec("DELETE FROM migrate_history");
    assert_eq!(db.migrate("up", &[]).code, 1, "tables without history");
    db.exec("DROP TABLE t");
    assert_eq!(db.migrate("up", &[]).code, 0);
    db.exec(
        "INSERT INTO migrate_history (version, description, checksum, phase, sql_text, state, statements_applied, statements_total, applied_by, allows) VALUES (-5, 'ghost', 'x', 'expand', '', 'applied', 0, 0, 'someone', '[]')",
    );
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("a row with version -5"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("migration 0"), "{}", run.stdout);
    db.exec("DELETE FROM migrate_history WHERE version = -5");

    db.write("2_a\u{1b}[31mred.sql", b"\xff\n");
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("2_a\\u{1b}[31mred.sql is not valid UTF-8")
            && !run.stderr.contains('\u{1b}'),
        "{:?}",
        run.stderr
    );
}
