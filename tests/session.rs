//! What one migration leaves in the session never reaches the next, and what an adversarial
//! run found: temporary tables (which may even shadow the history table), MySQL session and
//! user variables, SQLite pragmas, temporary triggers and attached databases; DML on tables
//! that ignore transactions; an interrupted migration resumed without being judged again;
//! forged progress; NUL bytes; control characters in names. Every test runs on the real
//! servers.

mod support;

use std::time::Duration;

use support::cmd::finish;
use support::db::{Kind, TestDb};

fn all() -> Vec<TestDb> {
    [Kind::Postgres, Kind::Mariadb, Kind::Sqlite]
        .into_iter()
        .filter_map(TestDb::new)
        .collect()
}

fn ok(db: &TestDb, run: &support::cmd::Run) {
    assert_eq!(run.code, 0, "{:?}: {}{}", db.kind, run.stdout, run.stderr);
}

/// A temporary table made by one migration is gone before the next: the next migration's
/// `UPDATE` reaches the real table of that name.
#[test]
fn temporary_tables_do_not_reach_the_next_migration() {
    for db in all() {
        db.write(
            "1_acct.sql",
            "CREATE TABLE acct (id INT PRIMARY KEY, balance INT NOT NULL);\nINSERT INTO acct VALUES (1, 0);\n",
        );
        db.write(
            "2_temp.sql",
            "CREATE TEMPORARY TABLE acct (id INT PRIMARY KEY, balance INT NOT NULL);\nINSERT INTO acct VALUES (1, 1000);\n",
        );
        db.write(
            "3_bump.sql",
            "UPDATE acct SET balance = balance + 2 WHERE id = 1;\n",
        );
        ok(&db, &db.migrate("up", &[]));
        assert_eq!(
            db.strings("SELECT CAST(balance AS CHAR(10)) FROM acct")
                .iter()
                .map(|s| s.trim().to_string())
                .collect::<Vec<_>>(),
            ["2"],
            "{:?}",
            db.kind
        );
    }
}

/// A migration that makes a table named like the history table (a temporary one would
/// shadow the history, even by its qualified name on MySQL) is refused before anything runs.
#[test]
fn a_table_named_like_the_history_table_is_refused() {
    for db in all() {
        db.write("1_t.sql", "CREATE TABLE t (id INT);\n");
        db.write(
            "2_shadow.sql",
            "CREATE TEMPORARY TABLE migrate_history (version INT);\n",
        );
        let run = db.migrate("up", &[]);
        assert_eq!(run.code, 1, "{:?}: {}{}", db.kind, run.stdout, run.stderr);
        assert!(
            run.stdout
                .contains("makes or changes a table named migrate_history, like the history table"),
            "{:?}: {}",
            db.kind,
            run.stdout
        );
        assert!(db.tables().is_empty() || db.tables() == ["migrate_history"]);
    }
}

/// MariaDB: session variables (any of them, not a fixed list), user variables and the
/// default storage engine a migration sets are back to the connection's before the next,
/// and a statement time limit it sets does not stop its progress being recorded.
#[test]
fn mariadb_session_and_user_variables_do_not_leak() {
    let Some(db) = TestDb::new(Kind::Mariadb) else {
        return;
    };
    db.write(
        "1_acct.sql",
        "CREATE TABLE acct (id INT PRIMARY KEY, balance INT NOT NULL);\nINSERT INTO acct VALUES (1, 0);\n",
    );
    db.write(
        "2_set.sql",
        // Last, a limit that interrupts any statement (1 µs): the engine's own progress
        // records after it are exempt, and the next migration runs without it.
        "SET SESSION default_storage_engine = 'MyISAM';\nSELECT @bonus := 100;\nSET @bonus2 = 1000;\nSET SESSION max_statement_time = 0.000001;\n",
    );
    db.write(
        "3_use.sql",
        "UPDATE acct SET balance = balance + COALESCE(@bonus, 0) + COALESCE(@bonus2, 0) + 2;\nCREATE TABLE later (id INT);\nINSERT INTO later SELECT seq FROM seq_1_to_20000;\n",
    );
    ok(&db, &db.migrate("up", &[]));
    assert_eq!(db.strings("SELECT CAST(balance AS CHAR) FROM acct"), ["2"]);
    assert_eq!(
        db.strings("SELECT CAST(ENGINE AS CHAR) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'later'"),
        ["InnoDB"]
    );
}

/// MariaDB: DML on a table that ignores transactions (MyISAM) cannot commit with its
/// progress, so a deployer killed during it leaves the statement in flight; the next run
/// refuses, naming it, instead of running it again.
#[test]
fn mariadb_dml_on_myisam_killed_midway_is_not_run_twice() {
    let Some(db) = TestDb::new(Kind::Mariadb) else {
        return;
    };
    db.write(
        "1_acct.sql",
        "CREATE TABLE acct (id INT PRIMARY KEY, balance INT NOT NULL) ENGINE=MyISAM;\nINSERT INTO acct VALUES (1, 0);\n",
    );
    assert_eq!(db.migrate("up", &[]).code, 0);
    db.write(
        "2_slow.sql",
        "UPDATE acct SET balance = balance + 1 WHERE id = 1 AND SLEEP(2) = 0;\nUPDATE acct SET balance = balance + 2 WHERE id = 1;\n",
    );
    let mut child = db.command("up").spawn();
    std::thread::sleep(Duration::from_millis(1000));
    child.kill().unwrap();
    child.wait().unwrap();
    // The killed session's UPDATE finishes on the server (MyISAM keeps it).
    std::thread::sleep(Duration::from_millis(2000));
    let run = finish(db.command("up").spawn(), Duration::from_secs(30));
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("statement 1 of 2 (line 1) ran outside a transaction"),
        "{}",
        run.stdout
    );
    let balance = db.strings("SELECT CAST(balance AS CHAR) FROM acct");
    assert!(balance == ["1"] || balance == ["0"], "never 2: {balance:?}");
}

/// SQLite: pragmas, temporary triggers and attached databases of one migration are gone
/// before the next.
#[test]
fn sqlite_pragmas_temp_triggers_and_attached_databases_do_not_leak() {
    let Some(db) = TestDb::new(Kind::Sqlite) else {
        return;
    };
    let other = db.path().join("other.db");
    db.write(
        "1_names.sql",
        "CREATE TABLE names (name TEXT, hit INT NOT NULL DEFAULT 0);\nINSERT INTO names (name) VALUES ('Alice'), ('bob');\n",
    );
    db.write(
        "2_session.sql",
        format!(
            "-- migrate:no-transaction\nPRAGMA case_sensitive_like = ON;\nCREATE TEMP TRIGGER bump AFTER UPDATE ON names BEGIN UPDATE names SET hit = hit + 100 WHERE rowid = new.rowid AND new.hit < 100; END;\nATTACH DATABASE '{}' AS o;\n",
            other.display()
        ),
    );
    db.write(
        "3_use.sql",
        "UPDATE names SET hit = 1 WHERE name LIKE 'a%';\n",
    );
    ok(&db, &db.migrate("up", &[]));
    assert_eq!(
        db.strings("SELECT name || ':' || hit FROM names ORDER BY name"),
        ["Alice:1", "bob:0"],
        "LIKE case-insensitive again, no trigger"
    );
    db.write("4_attached.sql", "CREATE TABLE o.leak (x INT);\n");
    let run = db.migrate("up", &[]);
    assert_eq!(
        run.code, 1,
        "the attachment is gone: {}{}",
        run.stdout, run.stderr
    );
}

/// A migration killed midway resumes even when, judged again against the history it is
/// half part of, it would fail the gate (it dropped a column an earlier migration of its
/// release added): it passed the gate when it started, and its text is unchanged.
#[test]
fn an_interrupted_migration_is_not_judged_again() {
    let Some(db) = TestDb::new(Kind::Mariadb) else {
        return;
    };
    db.write(
        "1_t.sql",
        "CREATE TABLE t (id INT PRIMARY KEY, s VARCHAR(20));\n",
    );
    db.write(
        "2_drop.sql",
        "ALTER TABLE t ADD COLUMN v INT;\nALTER TABLE t DROP COLUMN s;\nINSERT INTO log VALUES (1);\n",
    );
    // One release: dropping `s` made in the same release is fine. It stops at the INSERT.
    assert_eq!(db.migrate("up", &[]).code, 1);
    db.exec("CREATE TABLE log (n INT)");
    db.exec(
        "UPDATE migrate_history SET state = 'running', statements_applied = 2, error = NULL, failed_statement = NULL, session = '4000000009' WHERE version = 2",
    );
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(!run.stdout.contains("drop-column"), "{}", run.stdout);
    assert_eq!(db.history(), ["1:applied", "2:applied"]);
}

/// Forged progress (more statements than the file has, a statement in flight past the end,
/// negative progress) is refused, not followed.
#[test]
fn forged_progress_is_refused() {
    let Some(db) = TestDb::new(Kind::Sqlite) else {
        return;
    };
    db.write(
        "1_acct.sql",
        "CREATE TABLE acct (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);\nINSERT INTO acct VALUES (1, 0);\n",
    );
    db.write(
        "2_bump.sql",
        "-- migrate:no-transaction\nUPDATE acct SET balance = balance + 1;\nUPDATE acct SET balance = balance + 2;\n",
    );
    ok(&db, &db.migrate("up", &[]));
    for (applied, in_flight) in [("7", "NULL"), ("-3", "NULL"), ("0", "99")] {
        db.exec(&format!(
            "UPDATE migrate_history SET state = 'running', statements_applied = {applied}, in_flight = {in_flight} WHERE version = 2"
        ));
        let run = db.migrate("up", &[]);
        assert_eq!(
            run.code, 1,
            "{applied}/{in_flight}: {}{}",
            run.stdout, run.stderr
        );
        assert!(
            run.stdout.contains("progress no run leaves"),
            "{}",
            run.stdout
        );
    }
    assert_eq!(db.strings("SELECT CAST(balance AS TEXT) FROM acct"), ["3"]);
}

/// A NUL byte is one line naming the file and line on every dialect, before the database;
/// a file name with control characters is printed escaped by `up` and `status`.
#[test]
fn nul_bytes_and_control_characters_in_names() {
    for db in all() {
        db.write("1_a.sql", b"CREATE TABLE a (x INT);\n\0\n");
        let run = db.migrate("up", &[]);
        assert_eq!(run.code, 2, "{:?}", db.kind);
        assert!(
            run.stderr.contains("1_a.sql holds a NUL byte (line 2)"),
            "{:?}: {}",
            db.kind,
            run.stderr
        );
        db.remove("1_a.sql");
        db.write("1_a\u{1b}[31mred\nline.sql", "CREATE TABLE a (x INT);\n");
        let run = db.migrate("up", &[]);
        ok(&db, &run);
        let status = db.migrate("status", &[]);
        for out in [&run.stdout, &status.stdout] {
            assert!(
                !out.contains('\u{1b}') && out.contains("a\\u{1b}[31mred\\nline"),
                "{:?}: {out:?}",
                db.kind
            );
        }
    }
}

/// MySQL `DELIMITER` blocks are split as the mysql client splits them, also with a `$$`
/// delimiter (a character identifiers may hold): the routine is created whole and the
/// statements after `DELIMITER ;` run.
#[test]
fn mariadb_delimiter_blocks_run_as_the_client_splits_them() {
    let Some(db) = TestDb::new(Kind::Mariadb) else {
        return;
    };
    db.write(
        "1_acct.sql",
        "CREATE TABLE acct (id INT PRIMARY KEY, balance INT NOT NULL);\nINSERT INTO acct VALUES (1, 0);\n",
    );
    db.write(
        "2_proc.sql",
        "DELIMITER $$\nCREATE PROCEDURE credit(IN amount INT)\nBEGIN\n  UPDATE acct SET balance = balance + amount WHERE id = 1;\nEND$$\nDELIMITER ;\nCALL credit(5);\n",
    );
    ok(&db, &db.migrate("up", &[]));
    assert_eq!(db.strings("SELECT CAST(balance AS CHAR) FROM acct"), ["5"]);
    assert_eq!(db.history(), ["1:applied", "2:applied"]);
}
