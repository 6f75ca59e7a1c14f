//! `migrate up`, `status`, `verify`, `resolve` and `baseline` end to end, through the binary,
//! on real PostgreSQL and MariaDB servers and real SQLite files. Every scenario runs on each
//! database (see `on_every_database!`).

mod support;

use support::db::{Kind, TestDb};

/// Generates one test per database for a scenario `fn(&TestDb)`.
macro_rules! on_every_database {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                use super::*;
                #[test]
                fn postgres() {
                    if let Some(db) = TestDb::new(Kind::Postgres) {
                        super::$scenario(&db);
                    }
                }
                #[test]
                fn mariadb() {
                    if let Some(db) = TestDb::new(Kind::Mariadb) {
                        super::$scenario(&db);
                    }
                }
                #[test]
                fn sqlite() {
                    if let Some(db) = TestDb::new(Kind::Sqlite) {
                        super::$scenario(&db);
                    }
                }
            }
        )*
    };
}

on_every_database!(
    applies_everything_then_nothing,
    edited_applied_file_is_refused_with_a_diff,
    deleted_applied_file_is_refused,
    out_of_order_is_refused_then_applied_with_the_flag,
    breaking_batch_applies_nothing,
    failure_midway_leaves_no_trace_or_a_failed_row,
    crlf_and_bom_copy_is_not_a_change,
    dry_run_touches_nothing,
    up_to_a_version_and_verify_pending,
    existing_database_needs_a_baseline,
    suppressions_are_recorded_in_the_history,
    status_reports_every_state_as_json,
    history_table_name_is_configurable,
    empty_and_comment_only_files_are_recorded,
    empty_database_has_no_old_app_to_protect,
    contract_waits_for_the_post_deploy_step,
    mixed_contract_file_is_rejected,
    contract_before_its_expand_is_refused,
    killed_backfill_resumes_and_changes_each_row_once,
);

/// SQLite's write lock also blocks the claim of the backfill, so nothing of it starts there
/// (the lock-wait tests cover that); on the servers a row lock stops it midway.
#[test]
fn backfill_blocked_past_its_retries_stays_resumable_postgres() {
    if let Some(db) = TestDb::new(Kind::Postgres) {
        backfill_blocked_past_its_retries_stays_resumable(&db);
    }
}

#[test]
fn backfill_blocked_past_its_retries_stays_resumable_mariadb() {
    if let Some(db) = TestDb::new(Kind::Mariadb) {
        backfill_blocked_past_its_retries_stays_resumable(&db);
    }
}

const USERS: &str = "CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(200) NOT NULL, legacy VARCHAR(50));\n";

fn assert_ok(run: &support::db::Run) {
    assert_eq!(
        run.code, 0,
        "stdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
}

fn applies_everything_then_nothing(db: &TestDb) {
    db.write("20260101000000_users.sql", USERS);
    db.write("20260102000000_posts.sql", "CREATE TABLE posts (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL);\nCREATE INDEX posts_user_id ON posts (user_id);\n");
    db.write(
        "20260103000000_bio.sql",
        "ALTER TABLE users ADD COLUMN bio TEXT;\n",
    );
    let run = db.migrate("up", &[]);
    assert_ok(&run);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[0].starts_with("applied 20260101000000 users ("),
        "{}",
        run.stdout
    );
    assert!(
        lines[2].starts_with("applied 20260103000000 bio ("),
        "{}",
        run.stdout
    );
    assert!(
        lines[3].starts_with("3 migrations applied in "),
        "{}",
        run.stdout
    );
    assert_eq!(
        db.history(),
        [
            "20260101000000:applied",
            "20260102000000:applied",
            "20260103000000:applied"
        ]
    );
    assert!(db.columns("users").contains(&"bio".to_string()));

    let again = db.migrate("up", &[]);
    assert_ok(&again);
    assert_eq!(
        again.stdout.trim(),
        "database is up to date (3 migrations applied)"
    );
    assert_eq!(db.history().len(), 3);
    assert_ok(&db.migrate("verify", &[]));
}

fn edited_applied_file_is_refused_with_a_diff(db: &TestDb) {
    db.write("1_users.sql", USERS);
    assert_ok(&db.migrate("up", &[]));
    db.write("1_users.sql", USERS.replace("VARCHAR(200)", "VARCHAR(300)"));
    db.write("2_bio.sql", "ALTER TABLE users ADD COLUMN bio TEXT;\n");
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("migration 1 was applied with a different checksum"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("-CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(200)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("+CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(300)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.ends_with("refused: nothing applied\n"));
    assert_eq!(
        db.history(),
        ["1:applied"],
        "nothing applied, not even the new migration"
    );
    let verify = db.migrate("verify", &[]);
    assert_eq!(verify.code, 1);
    assert!(
        verify.stdout.starts_with("modified 1 users"),
        "{}",
        verify.stdout
    );
}

fn deleted_applied_file_is_refused(db: &TestDb) {
    db.write("1_users.sql", USERS);
    db.write("3_bio.sql", "ALTER TABLE users ADD COLUMN bio TEXT;\n");
    assert_ok(&db.migrate("up", &[]));
    db.remove("3_bio.sql");
    db.write("2_nick.sql", "ALTER TABLE users ADD COLUMN nick TEXT;\n");
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("migration 3 (bio) was applied but no file has its version any more"),
        "{}",
        run.stdout
    );
    // The newest applied migration is 3 even though its file is gone (not 1).
    assert!(
        run.stdout.contains(
            "migration 2 (nick) comes before migration 3 (bio), which is already applied"
        ),
        "{}",
        run.stdout
    );
    assert!(!db.columns("users").contains(&"nick".to_string()));
    let verify = db.migrate("verify", &[]);
    assert_eq!(verify.code, 1);
    assert!(verify.stdout.contains("missing 3 bio"), "{}", verify.stdout);
}

fn out_of_order_is_refused_then_applied_with_the_flag(db: &TestDb) {
    db.write("1_users.sql", USERS);
    db.write("3_bio.sql", "ALTER TABLE users ADD COLUMN bio TEXT;\n");
    assert_ok(&db.migrate("up", &[]));
    db.write("2_nick.sql", "ALTER TABLE users ADD COLUMN nick TEXT;\n");
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains(
            "migration 2 (nick) comes before migration 3 (bio), which is already applied"
        ),
        "{}",
        run.stdout
    );
    let status = db.migrate("status", &[]);
    assert!(
        status
            .stdout
            .lines()
            .any(|l| l.starts_with("2 ") && l.contains("out-of-order")),
        "{}",
        status.stdout
    );
    // What up refuses, verify reports (the same as a history row deleted by hand).
    let verify = db.migrate("verify", &[]);
    assert_eq!(verify.code, 1, "{}", verify.stdout);
    assert!(
        verify
            .stdout
            .starts_with("out-of-order 2 nick: migration 2 (nick) comes before migration 3"),
        "{}",
        verify.stdout
    );
    let run = db.migrate("up", &["--allow-out-of-order"]);
    assert_ok(&run);
    assert_eq!(db.history(), ["1:applied", "2:applied", "3:applied"]);
}

fn breaking_batch_applies_nothing(db: &TestDb) {
    db.write("1_users.sql", USERS);
    assert_ok(&db.migrate("up", &[]));
    db.write(
        "2_orders.sql",
        "CREATE TABLE orders (id BIGINT PRIMARY KEY);\n",
    );
    db.write(
        "3_drop_legacy.sql",
        "ALTER TABLE users DROP COLUMN legacy;\n",
    );
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("error[M102 drop-column]: dropping column users.legacy"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("nothing applied"));
    assert_eq!(db.history(), ["1:applied"]);
    assert!(
        !db.tables().contains(&"orders".to_string()),
        "the good migration of the batch was not applied either"
    );

    // A reviewed allow is the only override.
    db.write("3_drop_legacy.sql", "-- migrate:allow drop-column: legacy unused since v1.2\nALTER TABLE users DROP COLUMN legacy;\n");
    assert_ok(&db.migrate("up", &[]));
    assert_eq!(db.history(), ["1:applied", "2:applied", "3:applied"]);
}

fn failure_midway_leaves_no_trace_or_a_failed_row(db: &TestDb) {
    db.write("1_users.sql", USERS);
    assert_ok(&db.migrate("up", &[]));
    db.write(
        "2_broken.sql",
        "CREATE TABLE audit (id BIGINT PRIMARY KEY);\nALTER TABLE no_such_table ADD COLUMN x INT;\n",
    );
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("failed 2 broken at "), "{}", run.stdout);
    assert!(
        run.stdout.contains("2_broken.sql:2:"),
        "names the failing line: {}",
        run.stdout
    );
    if db.kind == Kind::Mariadb {
        // DDL commits implicitly: the first statement stays, recorded with the failure.
        assert_eq!(db.history(), ["1:applied", "2:failed"]);
        assert!(db.tables().contains(&"audit".to_string()));
        assert!(run.stdout.contains("recorded as failed"), "{}", run.stdout);
        let refused = db.migrate("up", &[]);
        assert_eq!(refused.code, 1);
        assert!(
            refused.stdout.contains("migrate resolve 2 --applied"),
            "{}",
            refused.stdout
        );
        assert!(
            refused.stdout.contains("1 of 2 statements applied"),
            "{}",
            refused.stdout
        );
        // status and verify say the same as up: the progress, the error and the next step.
        let problem = refused
            .stdout
            .lines()
            .next()
            .unwrap()
            .trim_start_matches("error: ");
        let status = db.migrate("status", &[]);
        assert!(status.stdout.contains(problem), "{}", status.stdout);
        let verify = db.migrate("verify", &[]);
        assert_eq!(verify.code, 1);
        assert!(verify.stdout.contains(problem), "{}", verify.stdout);
        assert!(verify.stdout.contains("no_such_table"), "{}", verify.stdout);
        // Undo by hand, resolve, fix the file, apply.
        db.exec("DROP TABLE audit");
        let resolved = db.migrate("resolve", &["2", "--rolled-back", "--format", "json"]);
        assert_ok(&resolved);
        let value = support::schema::parse_valid(&resolved.stdout, "resolve.schema.json");
        assert_eq!(
            (value["version"].as_u64(), value["resolution"].as_str()),
            (Some(2), Some("rolled-back"))
        );
        assert_eq!(db.history(), ["1:applied"]);
    } else {
        assert!(
            run.stdout.contains("rolled back: nothing of 2 was applied"),
            "{}",
            run.stdout
        );
        assert_eq!(db.history(), ["1:applied"], "no trace in the history");
        assert!(
            !db.tables().contains(&"audit".to_string()),
            "no trace in the schema"
        );
    }
    db.write(
        "2_broken.sql",
        "CREATE TABLE audit (id BIGINT PRIMARY KEY);\nALTER TABLE users ADD COLUMN x INT;\n",
    );
    assert_ok(&db.migrate("up", &[]));
    assert_eq!(db.history(), ["1:applied", "2:applied"]);
}

fn crlf_and_bom_copy_is_not_a_change(db: &TestDb) {
    db.write("1_users.sql", USERS);
    db.write(
        "2_bio.sql",
        "-- a comment\nALTER TABLE users ADD COLUMN bio TEXT;\n",
    );
    assert_ok(&db.migrate("up", &[]));
    db.write(
        "2_bio.sql",
        b"\xEF\xBB\xBF-- a comment\r\nALTER TABLE users ADD COLUMN bio TEXT;\r\n",
    );
    let run = db.migrate("up", &[]);
    assert_ok(&run);
    assert!(run.stdout.contains("up to date"), "{}", run.stdout);
    assert_ok(&db.migrate("verify", &[]));
    // A changed comment is a change.
    db.write(
        "2_bio.sql",
        "-- another comment\nALTER TABLE users ADD COLUMN bio TEXT;\n",
    );
    assert_eq!(db.migrate("verify", &[]).code, 1);
}

fn dry_run_touches_nothing(db: &TestDb) {
    db.write("1_users.sql", USERS);
    db.write("2_bio.sql", "ALTER TABLE users ADD COLUMN bio TEXT;\n");
    if db.kind == Kind::Sqlite {
        // A dry run only reads: a SQLite file that does not exist is not created.
        let file = db.dir.path().join("app.db");
        let missing = db.migrate("up", &["--dry-run"]);
        assert_eq!(missing.code, 2, "{}{}", missing.stdout, missing.stderr);
        assert!(
            missing.stderr.contains("no such database"),
            "{}",
            missing.stderr
        );
        assert!(!file.exists());
        std::fs::File::create(&file).unwrap();
    }
    let run = db.migrate("up", &["--dry-run"]);
    assert_ok(&run);
    assert!(run.stdout.contains("would apply 1 users"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("dry run: 2 pending migrations, nothing applied"),
        "{}",
        run.stdout
    );
    assert!(
        db.tables().is_empty(),
        "not even the history table: {:?}",
        db.tables()
    );
}

/// `up --to VERSION` applies up to that version and judges only those; `verify --pending`
/// fails (exit 1) while migrations are pending, listing them; `--to` a version no file has
/// is an error (exit 2) before anything runs. The dry run shows each file's SQL.
fn up_to_a_version_and_verify_pending(db: &TestDb) {
    db.write("1_users.sql", USERS);
    db.write("2_bio.sql", "ALTER TABLE users ADD COLUMN bio TEXT;\n");
    // Would be refused by the gate (a dropped column), but `--to 2` never judges it.
    db.write("3_drop.sql", "ALTER TABLE users DROP COLUMN legacy;\n");
    if db.kind == Kind::Sqlite {
        std::fs::File::create(db.dir.path().join("app.db")).unwrap();
    }
    let dry = db.migrate("up", &["--dry-run", "--to", "2"]);
    assert_ok(&dry);
    assert!(
        dry.stdout.contains("would apply 2 bio")
            && dry
                .stdout
                .contains("    ALTER TABLE users ADD COLUMN bio TEXT;")
            && !dry.stdout.contains("3 drop"),
        "{}",
        dry.stdout
    );
    let missing = db.migrate("up", &["--to", "7"]);
    assert_eq!(missing.code, 2, "{}{}", missing.stdout, missing.stderr);
    assert!(missing.stderr.contains("no migration file has version 7"));
    assert_ok(&db.migrate("up", &["--to", "2"]));
    assert_eq!(db.history(), ["1:applied", "2:applied"]);
    assert_eq!(db.migrate("verify", &[]).code, 0);
    let pending = db.migrate("verify", &["--pending"]);
    assert_eq!(pending.code, 1, "{}", pending.stdout);
    assert!(
        pending.stdout.contains("pending 3 drop"),
        "{}",
        pending.stdout
    );
    db.remove("3_drop.sql");
    assert_eq!(db.migrate("verify", &["--pending"]).code, 0);
}

fn existing_database_needs_a_baseline(db: &TestDb) {
    db.exec(USERS);
    db.write("1_users.sql", USERS);
    db.write("2_bio.sql", "ALTER TABLE users ADD COLUMN bio TEXT;\n");
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("already has 1 table"), "{}", run.stdout);
    assert!(
        run.stdout.contains("migrate baseline VERSION"),
        "{}",
        run.stdout
    );
    assert!(!db.columns("users").contains(&"bio".to_string()));
    assert_ok(&db.migrate("baseline", &["1"]));
    assert_eq!(db.history(), ["1:applied"]);
    assert_ok(&db.migrate("up", &[]));
    assert_eq!(db.history(), ["1:applied", "2:applied"]);
    assert_eq!(db.migrate("baseline", &["1"]).code, 1, "only once");
}

fn suppressions_are_recorded_in_the_history(db: &TestDb) {
    db.write("1_users.sql", USERS);
    db.write(
        "2_drop.sql",
        "-- migrate:allow drop-column: legacy unused since v1.2 (OPS-7)\nALTER TABLE users DROP COLUMN legacy;\n",
    );
    assert_ok(&db.migrate("up", &[]));
    let allows = db.strings("SELECT allows FROM migrate_history ORDER BY version");
    assert_eq!(allows[0], "[]");
    assert!(
        allows[1].contains("\"rules\":[\"drop-column\"]") && allows[1].contains("OPS-7"),
        "{}",
        allows[1]
    );
    let by = db.strings("SELECT applied_by FROM migrate_history");
    assert!(by[0].starts_with("migrate "), "{by:?}");
}

fn status_reports_every_state_as_json(db: &TestDb) {
    db.write("1_users.sql", USERS);
    assert_ok(&db.migrate("up", &[]));
    db.write("2_bio.sql", "ALTER TABLE users ADD COLUMN bio TEXT;\n");
    let run = db.migrate("status", &["--format", "json"]);
    assert_ok(&run);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let migrations = value["migrations"].as_array().unwrap();
    assert_eq!(migrations.len(), 2);
    assert_eq!(migrations[0]["state"], "applied");
    assert_eq!(migrations[0]["version"], 1);
    assert!(migrations[0]["applied_at"].as_str().unwrap().ends_with('Z'));
    assert!(migrations[0]["execution_ms"].is_i64());
    assert!(
        migrations[0]["checksum"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(migrations[1]["state"], "pending");
    assert!(migrations[1]["applied_at"].is_null());
    let human = db.migrate("status", &[]);
    assert!(
        human.stdout.starts_with("VERSION  STATE"),
        "{}",
        human.stdout
    );
}

fn history_table_name_is_configurable(db: &TestDb) {
    db.config("history_table = \"deploy_log\"\n");
    db.write("1_users.sql", USERS);
    assert_ok(&db.migrate("up", &[]));
    let tables = db.tables();
    assert!(
        tables.contains(&"deploy_log".to_string())
            && !tables.contains(&"migrate_history".to_string()),
        "{tables:?}"
    );
    db.config("history_table = \"x; DROP TABLE users\"\n");
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("history_table"), "{}", run.stderr);
}

/// `up --format json` and `status --format json` print one object with the documented keys.
#[test]
fn json_outputs_follow_their_schemas() {
    let Some(db) = TestDb::new(Kind::Sqlite) else {
        return;
    };
    db.write("1_users.sql", USERS);
    let schema = |name: &str| -> serde_json::Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs/schemas")
            .join(name);
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let keys_match = |value: &serde_json::Value, schema: &serde_json::Value| {
        let mut keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        let mut required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        keys.sort();
        required.sort();
        assert_eq!(keys, required, "{value}");
    };
    let up_schema = schema("up.schema.json");
    let run = db.migrate("up", &["--format", "json"]);
    assert_ok(&run);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    keys_match(&value, &up_schema);
    assert_eq!(value["status"], "applied");
    keys_match(
        &value["migrations"][0],
        &up_schema["properties"]["migrations"]["items"],
    );
    db.write("1_users.sql", "-- edited\n");
    let run = db.migrate("up", &["--format", "json"]);
    assert_eq!(run.code, 1);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(value["status"], "refused");
    keys_match(
        &value["problems"][0],
        &up_schema["properties"]["problems"]["items"],
    );
    assert!(
        value["problems"][0]["diff"]
            .as_str()
            .unwrap()
            .contains("+-- edited")
    );
    let status_schema = schema("status.schema.json");
    let run = db.migrate("status", &["--format", "json"]);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    keys_match(&value, &status_schema);
    keys_match(
        &value["migrations"][0],
        &status_schema["properties"]["migrations"]["items"],
    );
    assert_eq!(value["migrations"][0]["state"], "modified");
}

/// Warnings of the check gate come before the first applied migration, and an unparsed
/// statement made an error in `migrate.toml` stops `up` before anything is applied.
#[test]
fn gate_warnings_come_first_and_unparsed_can_be_made_blocking() {
    let Some(db) = TestDb::new(Kind::Sqlite) else {
        return;
    };
    db.write("1_a.sql", "CREATE TABLE a (id INT);\n");
    db.write("2_odd.sql", "CREATE TABLE b (id INT);\nFROBNICATE b;\n");
    let run = db.migrate("up", &[]);
    assert_eq!(
        run.code, 1,
        "the database rejects the statement: {}",
        run.stdout
    );
    let warning = run.stdout.find("warning[M001 unparsed-statement]");
    let applied = run.stdout.find("applied 1 a");
    assert!(
        warning.is_some() && applied.is_some() && warning < applied,
        "{}",
        run.stdout
    );
    assert_eq!(db.history(), ["1:applied"]);

    std::fs::write(
        db.path().join("migrate.toml"),
        "[rules]\nunparsed-statement = \"error\"\n",
    )
    .unwrap();
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("error[M001 unparsed-statement]"),
        "{}",
        run.stdout
    );
    assert_eq!(db.history(), ["1:applied"]);
}

fn empty_and_comment_only_files_are_recorded(db: &TestDb) {
    db.write("1_empty.sql", "");
    db.write("2_comments.sql", "-- nothing yet\n/* reserved */\n");
    db.write("3_users.sql", USERS);
    assert_ok(&db.migrate("up", &[]));
    assert_eq!(db.history(), ["1:applied", "2:applied", "3:applied"]);
    assert_ok(&db.migrate("verify", &[]));
}

/// `verify`, `baseline` and a command that cannot run print JSON with `--format json`, each
/// object with exactly the keys its schema in docs/schemas/ lists (passwords redacted).
#[test]
fn verify_baseline_and_errors_print_json_by_their_schemas() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    let schema = |name: &str| -> serde_json::Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("docs/schemas")
            .join(name);
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let keys = |value: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    let required = |schema: &serde_json::Value| -> Vec<String> {
        let mut r: Vec<String> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        r.sort();
        r
    };
    let parse = |run: &support::db::Run| -> serde_json::Value {
        serde_json::from_str(run.stdout.trim())
            .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr))
    };
    db.write("1_users.sql", USERS);
    db.write("2_bio.sql", "ALTER TABLE users ADD COLUMN bio TEXT;\n");
    db.exec(USERS);
    let baseline = db.migrate("baseline", &["1", "--format", "json"]);
    assert_eq!(baseline.code, 0, "{}{}", baseline.stdout, baseline.stderr);
    let value = parse(&baseline);
    let shapes = schema("baseline.schema.json");
    assert_eq!(keys(&value), required(&shapes["oneOf"][1]), "{value}");
    assert_eq!(value["count"], 1);
    let again = db.migrate("baseline", &["1", "--format", "json"]);
    assert_eq!(again.code, 1);
    let error = schema("error.schema.json");
    let value = parse(&again);
    assert_eq!(keys(&value), required(&error), "{value}");
    assert_eq!(value["exit_code"], 1);
    let verify = db.migrate("verify", &["--pending", "--format", "json"]);
    assert_eq!(verify.code, 1, "{}", verify.stdout);
    let value = parse(&verify);
    assert_eq!(
        keys(&value),
        required(&schema("verify.schema.json")),
        "{value}"
    );
    assert_eq!(value["ok"], false);
    assert_eq!(value["pending"][0]["version"], 2);
    for command in ["up", "status", "verify"] {
        let run = support::cmd::migrate()
            .arg(command)
            .dir(db.migrations())
            .database("postgres://app:s3cretpw@127.0.0.1:1/db")
            .format("json")
            .run();
        assert_eq!(run.code, 2, "{command}: {}{}", run.stdout, run.stderr);
        let value: serde_json::Value = serde_json::from_str(run.stdout.trim()).unwrap();
        assert_eq!(keys(&value), required(&error), "{command}: {value}");
        assert!(!run.stdout.contains("s3cretpw"), "{}", run.stdout);
    }
}

/// PostgreSQL's DETAIL and HINT come with its message: the key in conflict is named.
#[test]
fn postgres_errors_carry_their_detail_and_hint() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    db.write("1_users.sql", USERS);
    db.write(
        "2_rows.sql",
        "INSERT INTO users (id, email) VALUES (1, 'a@x');\nINSERT INTO users (id, email) VALUES (1, 'b@x');\n",
    );
    db.write(
        "3_hint.sql",
        "SELECT * FROM users WHERE nosuchcolumn = 1;\n",
    );
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("DETAIL: Key (id)=(1) already exists."),
        "{}",
        run.stdout
    );
    db.write(
        "2_rows.sql",
        "INSERT INTO users (id, email) VALUES (1, 'a@x');\n",
    );
    db.write("3_hint.sql", "SELECT * FROM users u WHERE u.emial = 'a';\n");
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("HINT: "), "{}", run.stdout);
}

/// A failed `CREATE INDEX CONCURRENTLY` leaves an INVALID index (asked of pg_index): the
/// failure says so and gives the statement that removes it; the steps it names work.
#[test]
fn failed_concurrent_index_names_the_invalid_index_it_left() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    db.write(
        "1_t.sql",
        "CREATE TABLE t (id INT, v INT);\nINSERT INTO t VALUES (1, 1), (2, 1);\n",
    );
    db.write(
        "2_idx.sql",
        "-- migrate:no-transaction\n-- migrate:allow restrict-old-writes: test\nCREATE UNIQUE INDEX CONCURRENTLY t_v ON t (v);\n",
    );
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("it left the INVALID index t_v behind")
            && run.stdout.contains("`DROP INDEX CONCURRENTLY t_v;`"),
        "{}",
        run.stdout
    );
    assert_eq!(
        db.strings("SELECT CASE WHEN indisvalid THEN 'valid' ELSE 'invalid' END FROM pg_index WHERE indexrelid = 't_v'::regclass"),
        ["invalid"]
    );
    db.exec("DELETE FROM t WHERE id = 2");
    db.exec("DROP INDEX CONCURRENTLY t_v");
    assert_eq!(db.migrate("resolve", &["2", "--rolled-back"]).code, 0);
    assert_ok(&db.migrate("up", &[]));
    assert_eq!(
        db.strings("SELECT CASE WHEN indisvalid THEN 'valid' ELSE 'invalid' END FROM pg_index WHERE indexrelid = 't_v'::regclass"),
        ["valid"]
    );
}

/// On a database where nothing is applied there is no old app: the whole history is one
/// release, so an allow for a drop that only matters against an old app suppresses nothing,
/// and `up` does not tell the user to delete it (it is needed on every database with the
/// history). With the history applied up to it, the same allow is used.
#[test]
fn unused_allow_is_not_reported_on_a_fresh_database() {
    let Some(db) = TestDb::new(Kind::Sqlite) else {
        return;
    };
    db.write("1_users.sql", USERS);
    db.write(
        "2_drop.sql",
        "-- migrate:allow drop-column: contract step, no release reads legacy since 0.9\nALTER TABLE users DROP COLUMN legacy;\n",
    );
    let fresh = db.migrate("up", &[]);
    assert_ok(&fresh);
    assert!(!fresh.stdout.contains("unused-allow"), "{}", fresh.stdout);
    let check = support::cmd::migrate()
        .check()
        .dir(db.migrations())
        .dialect("sqlite")
        .run();
    assert!(!check.stdout.contains("unused-allow"), "{}", check.stdout);
}

/// On a database that holds nothing (no history, no table or view) there is no old app and
/// no traffic: a whole history's drops of objects it never made (`IF EXISTS` clean-ups of
/// another tool's tables) and its locking statements on tables the run itself creates pass
/// the gate. One view made outside the history is enough to make the same files refused:
/// the database is asked, not assumed empty.
fn empty_database_has_no_old_app_to_protect(db: &TestDb) {
    let postgres = db.kind == Kind::Postgres;
    db.write(
        "1_users.sql",
        format!("{USERS}CREATE INDEX users_email ON users (email);\n"),
    );
    let mut cleanup = String::from("DROP TABLE IF EXISTS schema_migrations;\n");
    if postgres {
        cleanup.push_str("DROP SCHEMA IF EXISTS r CASCADE;\nDROP INDEX IF EXISTS lower_gh_login;\nREINDEX TABLE users;\n");
    }
    db.write("2_cleanup.sql", cleanup);
    db.exec("CREATE VIEW outside_view AS SELECT 1 AS one");
    let refused = db.migrate("up", &[]);
    assert_eq!(refused.code, 1, "{}{}", refused.stdout, refused.stderr);
    assert!(refused.stdout.contains("drop-table"), "{}", refused.stdout);
    assert!(db.history().is_empty());
    db.exec("DROP VIEW outside_view");
    let fresh = db.migrate("up", &[]);
    assert_ok(&fresh);
    assert!(!fresh.stdout.contains("warning["), "{}", fresh.stdout);
    assert_eq!(db.history(), ["1:applied", "2:applied"]);
}

/// The empty-database verdict is asked of the database and kept to what that question
/// covers. A database holding only a sequence, a function, a type or a schema (PostgreSQL),
/// or only a stored routine (MariaDB), is not empty; a name qualified with another MariaDB
/// database, a `USE` of one, or a table of an attached SQLite file is judged as usual. Each
/// case is refused (exit 1) with nothing applied.
#[test]
fn the_empty_database_verdict_covers_only_what_was_asked() {
    let refused = |db: &TestDb, file: &str, sql: &str, rule: &str| {
        db.write(file, sql);
        let run = db.migrate("up", &[]);
        assert_eq!(run.code, 1, "{sql}\n{}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains(rule), "{sql}: {}", run.stdout);
        assert!(db.history().is_empty(), "{sql}");
        db.remove(file);
    };
    if let Some(db) = TestDb::new(Kind::Postgres) {
        for (outside, sql, rule) in [
            (
                "CREATE SEQUENCE order_no",
                "DROP SEQUENCE order_no;",
                "drop-sequence",
            ),
            (
                "CREATE FUNCTION app_fn() RETURNS int LANGUAGE sql AS 'SELECT 1'",
                "DROP FUNCTION app_fn();",
                "drop-function",
            ),
            (
                "CREATE TYPE mood AS ENUM ('happy')",
                "DROP TYPE mood;",
                "drop-type",
            ),
            (
                "CREATE DOMAIN posint AS int CHECK (VALUE > 0)",
                "DROP DOMAIN posint;",
                "drop-type",
            ),
            (
                "CREATE SCHEMA appdata",
                "DROP SCHEMA appdata;",
                "drop-schema",
            ),
        ] {
            db.exec(outside);
            refused(&db, "1_drop.sql", &format!("{sql}\n"), rule);
            db.exec(&sql.replace(';', " CASCADE"));
        }
    }
    if let Some(db) = TestDb::new(Kind::Mariadb) {
        db.exec("CREATE FUNCTION f() RETURNS int RETURN 1");
        refused(&db, "1_drop.sql", "DROP FUNCTION f;\n", "drop-function");
        db.exec("DROP FUNCTION f");
        let other = format!("{}_other", db.name);
        db.exec(&format!("CREATE DATABASE {other}; CREATE TABLE {other}.users (id int PRIMARY KEY, name varchar(20)); INSERT INTO {other}.users VALUES (1, 'x')"));
        refused(
            &db,
            "1_drop.sql",
            &format!("ALTER TABLE {other}.users DROP COLUMN name;\n"),
            "drop-column",
        );
        refused(
            &db,
            "1_drop.sql",
            &format!("USE {other};\nDROP TABLE users;\n"),
            "drop-table",
        );
        assert_eq!(
            db.strings(&format!("SELECT name FROM {other}.users")),
            ["x"]
        );
        db.exec(&format!("DROP DATABASE {other}"));
    }
    if let Some(db) = TestDb::new(Kind::Sqlite) {
        let attached = db.path().join("other.db");
        let path = attached.display().to_string();
        db.exec(&format!("ATTACH DATABASE '{path}' AS o; CREATE TABLE o.users (id integer PRIMARY KEY, name text); INSERT INTO o.users VALUES (1, 'x')"));
        refused(
            &db,
            "1_drop.sql",
            &format!("ATTACH DATABASE '{path}' AS o;\nALTER TABLE o.users DROP COLUMN name;\n"),
            "drop-column",
        );
    }
}

/// Each history row's `version:phase`.
fn phases(db: &TestDb) -> Vec<String> {
    let cast = match db.kind {
        Kind::Mariadb => "CONCAT(version, ':', phase)",
        _ => "CAST(version AS TEXT) || ':' || phase",
    };
    db.strings(&format!(
        "SELECT {cast} FROM migrate_history ORDER BY version"
    ))
}

fn contract_waits_for_the_post_deploy_step(db: &TestDb) {
    db.write("1_users.sql", USERS);
    db.write(
        "2_drop_legacy.sql",
        "-- migrate:contract\nALTER TABLE users DROP COLUMN legacy;\n",
    );
    db.write("3_bio.sql", "ALTER TABLE users ADD COLUMN bio TEXT;\n");
    let run = db.migrate("up", &[]);
    assert_ok(&run);
    assert!(
        run.stdout
            .contains("left pending for the post-deploy step: contract migration 2 drop_legacy"),
        "{}",
        run.stdout
    );
    assert_eq!(db.history(), ["1:applied", "3:applied"]);
    assert!(db.columns("users").contains(&"legacy".to_string()));
    let status = db.migrate("status", &["--format", "json"]);
    let value = support::schema::parse_valid(&status.stdout, "status.schema.json");
    let second = &value["migrations"][1];
    assert_eq!(
        (
            second["version"].as_u64(),
            second["state"].as_str(),
            second["phase"].as_str()
        ),
        (Some(2), Some("pending"), Some("contract")),
        "{value}"
    );
    // Nothing to do for the pre-deploy step, and no out-of-order refusal.
    let again = db.migrate("up", &[]);
    assert_ok(&again);
    assert!(
        again.stdout.contains("database is up to date"),
        "{}",
        again.stdout
    );
    let post = db.migrate("up", &["--phase", "contract", "--format", "json"]);
    assert_ok(&post);
    let value = support::schema::parse_valid(&post.stdout, "up.schema.json");
    assert_eq!(value["migrations"][0]["phase"], "contract", "{value}");
    assert!(!db.columns("users").contains(&"legacy".to_string()));
    assert_eq!(phases(db), ["1:expand", "2:contract", "3:expand"]);
    let done = db.migrate("up", &["--phase", "contract"]);
    assert_ok(&done);
    assert!(
        done.stdout.contains("database is up to date"),
        "{}",
        done.stdout
    );
}

fn mixed_contract_file_is_rejected(db: &TestDb) {
    db.write("1_users.sql", USERS);
    assert_ok(&db.migrate("up", &[]));
    db.write(
        "2_drop_legacy.sql",
        "-- migrate:contract\nALTER TABLE users DROP COLUMN legacy;\nALTER TABLE users ADD COLUMN nickname VARCHAR(50);\n",
    );
    let run = db.migrate("up", &["--phase", "contract"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("contract-mixes-expand"),
        "{}",
        run.stdout
    );
    assert_eq!(db.history(), ["1:applied"]);
    assert!(db.columns("users").contains(&"legacy".to_string()));
    assert!(!db.columns("users").contains(&"nickname".to_string()));
}

fn contract_before_its_expand_is_refused(db: &TestDb) {
    db.write("1_users.sql", USERS);
    db.write(
        "2_full_name.sql",
        "ALTER TABLE users ADD COLUMN full_name VARCHAR(200);\n",
    );
    db.write(
        "3_drop_legacy.sql",
        "-- migrate:contract\nALTER TABLE users DROP COLUMN legacy;\n",
    );
    let run = db.migrate("up", &["--phase", "contract"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(
            "expand migration 2 (full_name) is pending and comes before contract migration 3"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("refused: nothing applied"),
        "{}",
        run.stdout
    );
    assert!(db.history().is_empty());
    assert!(!db.tables().contains(&"users".to_string()));
    // The pre-deploy step, then the post-deploy step.
    assert_ok(&db.migrate("up", &[]));
    assert_ok(&db.migrate("up", &["--phase", "contract"]));
    assert_eq!(db.history(), ["1:applied", "2:applied", "3:applied"]);
}

const BACKFILL_ROWS: u64 = 20_000;

/// Rows of `t` meeting `condition`.
fn count(db: &TestDb, condition: &str) -> u64 {
    let text = match db.kind {
        Kind::Mariadb => "CHAR",
        _ => "TEXT",
    };
    db.strings(&format!(
        "SELECT CAST(COUNT(*) AS {text}) FROM t WHERE {condition}"
    ))[0]
        .parse()
        .unwrap()
}

fn killed_backfill_resumes_and_changes_each_row_once(db: &TestDb) {
    let seed = match db.kind {
        Kind::Postgres => {
            "INSERT INTO t (id, n, done) SELECT g, 0, 0 FROM generate_series(1, 20000) g;"
        }
        Kind::Mariadb => "INSERT INTO t (id, n, done) SELECT seq, 0, 0 FROM seq_1_to_20000;",
        Kind::Sqlite => {
            "INSERT INTO t (id, n, done) WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < 20000) SELECT x, 0, 0 FROM g;"
        }
    };
    db.write(
        "1_t.sql",
        format!(
            "CREATE TABLE t (id BIGINT PRIMARY KEY, n INT NOT NULL, done INT NOT NULL);\n{seed}\n"
        ),
    );
    // An increment: run twice on a row, it would show. `done` takes the row out of the batch.
    let batch = match db.kind {
        Kind::Mariadb => "UPDATE t SET n = n + 1, done = 1 WHERE done = 0 LIMIT 100;",
        _ => {
            "UPDATE t SET n = n + 1, done = 1 WHERE id IN (SELECT id FROM t WHERE done = 0 LIMIT 100);"
        }
    };
    db.write("2_fill.sql", format!("-- migrate:backfill\n{batch}\n"));
    db.config("backfill_pause = \"10ms\"\n");
    let child = db.command("up").spawn();
    // Kill it once some batches have committed.
    let started = std::time::Instant::now();
    let progress_sql = "SELECT COALESCE(progress, '') FROM migrate_history WHERE version = 2";
    let mut child = Some(child);
    while started.elapsed() < std::time::Duration::from_secs(60) {
        let made = db.tables().iter().any(|t| t == "migrate_history");
        let progress = if made {
            db.strings(progress_sql)
        } else {
            Vec::new()
        };
        let batches = progress
            .first()
            .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
            .and_then(|p| p["batches"].as_u64())
            .unwrap_or(0);
        if batches >= 5 {
            let mut c = child.take().unwrap();
            c.kill().unwrap();
            c.wait().unwrap();
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(child.is_none(), "the backfill never got to 5 batches");
    let done = count(db, "done = 1");
    assert!(done > 0 && done < BACKFILL_ROWS, "killed after {done} rows");
    assert_eq!(db.history(), ["1:applied", "2:running"]);
    // The next `up` resumes it (a server may take a moment to end the killed session).
    let mut last = None;
    for _ in 0..50 {
        let run = db.migrate("up", &[]);
        if run.code == 0 {
            last = Some(run);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        last = Some(run);
    }
    let run = last.unwrap();
    assert_ok(&run);
    assert!(
        run.stderr
            .contains("resuming 2, a backfill interrupted earlier, at statement 1 of 1"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("backfill:"), "{}", run.stdout);
    assert_eq!(db.history(), ["1:applied", "2:applied"]);
    // As one UPDATE would have left them: every row changed, each exactly once.
    assert_eq!(count(db, "n = 1 AND done = 1"), BACKFILL_ROWS);
    assert_eq!(count(db, "n <> 1"), 0);
    // The counts went on from where the killed run stopped: every row counted once.
    let status = db.migrate("status", &["--format", "json"]);
    let value = support::schema::parse_valid(&status.stdout, "status.schema.json");
    let fill = &value["migrations"][1];
    assert_eq!(fill["phase"], "backfill", "{value}");
    assert_eq!(
        fill["backfill"]["rows"].as_u64(),
        Some(BACKFILL_ROWS),
        "{value}"
    );
    assert!(
        fill["backfill"]["batches"].as_u64().unwrap() > BACKFILL_ROWS / 100,
        "{value}"
    );
}

fn backfill_blocked_past_its_retries_stays_resumable(db: &TestDb) {
    db.write(
        "1_t.sql",
        "CREATE TABLE t (id BIGINT PRIMARY KEY, done INT NOT NULL);\nINSERT INTO t (id, done) VALUES (1, 0), (2, 0), (3, 0), (4, 0);\n",
    );
    assert_ok(&db.migrate("up", &[]));
    let batch = match db.kind {
        Kind::Mariadb => "UPDATE t SET done = 1 WHERE done = 0 ORDER BY id LIMIT 2;",
        _ => {
            "UPDATE t SET done = 1 WHERE id IN (SELECT id FROM t WHERE done = 0 ORDER BY id LIMIT 2);"
        }
    };
    db.write("2_fill.sql", format!("-- migrate:backfill\n{batch}\n"));
    db.config("lock_timeout = \"1s\"\nlock_wait = \"1s\"\nlock_retries = 0\n");
    // The app holds the third row: the first batch (rows 1 and 2) commits, the second waits.
    let held = db.hold("BEGIN; SELECT id FROM t WHERE id = 3 FOR UPDATE;");
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("resumes 2 at this statement") && !run.stdout.contains("resolve"),
        "{}",
        run.stdout
    );
    assert_eq!(db.history(), ["1:applied", "2:running"]);
    let status = db.migrate("status", &[]);
    assert!(
        status.stdout.contains("backfill 2 is at statement 1 of 1"),
        "{}",
        status.stdout
    );
    drop(held);
    let run = db.migrate("up", &[]);
    assert_ok(&run);
    assert!(
        run.stderr
            .contains("resuming 2, a backfill interrupted earlier, at statement 1 of 1"),
        "{}",
        run.stderr
    );
    assert_eq!(db.history(), ["1:applied", "2:applied"]);
    assert_eq!(count(db, "done = 1"), 4);
}

/// A statement a backfill may not hold, let through with an allow, runs once: repeated, a
/// `SELECT`'s row would count as changed forever.
#[test]
fn an_allowed_statement_that_is_no_data_change_runs_once_in_a_backfill() {
    let Some(db) = TestDb::new(Kind::Sqlite) else {
        return;
    };
    db.write(
        "1_t.sql",
        "CREATE TABLE t (id INTEGER PRIMARY KEY, done INT NOT NULL);\nINSERT INTO t (id, done) VALUES (1, 0), (2, 0), (3, 0);\n",
    );
    db.write(
        "2_fill.sql",
        "-- migrate:backfill\n-- migrate:allow backfill-not-dml: a count for the log\nSELECT count(*) FROM t;\nUPDATE t SET done = 1 WHERE id IN (SELECT id FROM t WHERE done = 0 LIMIT 2);\n",
    );
    let child = db.command("up").spawn();
    let run = support::cmd::finish(child, std::time::Duration::from_secs(60));
    assert_ok(&run);
    assert!(
        run.stdout.contains("backfill: 4 batches, 3 rows"),
        "{}",
        run.stdout
    );
    assert_eq!(db.history(), ["1:applied", "2:applied"]);
    assert_eq!(count(&db, "done = 1"), 3);
}
