//! Files written for other tools (goose, sql-migrate, dbmate): their Down sections, statement
//! blocks and transaction markers are never analysed or run (issue 13).

mod support;

use support::cmd::migrate;
use support::db::{Kind, TestDb};

/// One file per tool, each creating a table and dropping it again in its Down section.
const FILES: &[(&str, &str, usize)] = &[
    (
        "goose",
        "-- +goose Up\nCREATE TABLE kept (id INT);\n\n-- +goose Down\nDROP TABLE kept;\n",
        4,
    ),
    (
        "sql-migrate",
        "-- +migrate Up\nCREATE TABLE kept (id INT);\n-- +migrate Down\nDROP TABLE kept;\n",
        3,
    ),
    (
        "dbmate",
        "-- migrate:up\nCREATE TABLE kept (id INT);\n\n-- migrate:down\nDROP TABLE kept;\n",
        4,
    ),
];

fn dialect(kind: Kind) -> &'static str {
    match kind {
        Kind::Postgres => "postgres",
        Kind::Mariadb => "mysql",
        Kind::Sqlite => "sqlite",
    }
}

/// In `migrate`'s own layout, `up` on every dialect refuses the file before running anything:
/// exit 2 naming the file, the line and the marker; no table, no history row. `check` refuses
/// it the same way. Under `auto` (the default) the markers choose the tool's layout, where the
/// markerless first file breaks it: refused too, nothing run.
#[test]
fn down_sections_are_never_run_or_analysed() {
    for kind in [Kind::Postgres, Kind::Mariadb, Kind::Sqlite] {
        for (tool, text, line) in FILES {
            let Some(db) = TestDb::new(kind) else {
                continue;
            };
            db.write("0001_base.sql", "CREATE TABLE base (id INT);\n");
            db.write("0002_kept.sql", text);
            let auto = db.migrate("up", &[]);
            assert_eq!(
                auto.code, 2,
                "{kind:?} {tool}: {}{}",
                auto.stdout, auto.stderr
            );
            assert!(
                auto.stderr.contains("0001_base.sql:1:") && auto.stderr.contains(tool),
                "{kind:?} {tool}: {}",
                auto.stderr
            );
            db.config("layout = \"migrate\"\n");
            let run = db.migrate("up", &[]);
            assert_eq!(run.code, 2, "{kind:?} {tool}: {}{}", run.stdout, run.stderr);
            let expected = format!("0002_kept.sql:{line}:");
            assert!(
                run.stderr.contains(&expected) && run.stderr.contains(tool),
                "{kind:?} {tool}: {}",
                run.stderr
            );
            let tables = db.tables();
            assert!(
                !tables.iter().any(|t| t == "kept" || t == "base"),
                "{kind:?} {tool}: something ran: {tables:?}"
            );
            let check = migrate()
                .check()
                .dir(db.migrations())
                .dialect(dialect(kind))
                .args(["--layout", "migrate"])
                .run();
            assert_eq!(
                check.code, 2,
                "{kind:?} {tool} check: {}{}",
                check.stdout, check.stderr
            );
            assert!(check.stderr.contains(&expected), "{}", check.stderr);
        }
    }
}

/// In `migrate`'s layout a lone Up marker is the whole file: read and applied as it stands
/// (hydra's corpus has one). Under `auto` three tools' Up markers are mixed signals, listed.
#[test]
fn a_lone_up_marker_is_read_as_a_comment() {
    let Some(db) = TestDb::new(Kind::Sqlite) else {
        return;
    };
    db.write("0001_a.sql", "-- +goose Up\nCREATE TABLE a (id INT);\n");
    db.write("0002_b.sql", "-- migrate:up\nCREATE TABLE b (id INT);\n");
    db.write("0003_c.sql", "-- +migrate Up\nCREATE TABLE c (id INT);\n");
    let mixed = db.migrate("up", &[]);
    assert_eq!(mixed.code, 2, "{}{}", mixed.stdout, mixed.stderr);
    for sign in ["goose (", "dbmate (", "sql-migrate (", "0003_c.sql:1"] {
        assert!(mixed.stderr.contains(sign), "{sign}: {}", mixed.stderr);
    }
    assert!(db.tables().is_empty(), "{:?}", db.tables());
    db.config("layout = \"migrate\"\n");
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let tables = db.tables();
    for t in ["a", "b", "c"] {
        assert!(tables.iter().any(|x| x == t), "{t} missing: {tables:?}");
    }
    let check = migrate()
        .check()
        .dir(db.migrations())
        .dialect("sqlite")
        .args(["--layout", "migrate"])
        .run();
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
}

/// In `migrate`'s layout statement blocks and transaction markers are refused too, also for a
/// FILE argument.
#[test]
fn blocks_and_transaction_markers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        (
            "0001_block.sql",
            "-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE a (id INT);\n-- +goose StatementEnd\n",
        ),
        (
            "0002_notx.sql",
            "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON a (id);\n",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let run = migrate()
            .check()
            .dialect("postgres")
            .args(["--layout", "migrate"])
            .arg(&path)
            .run();
        assert_eq!(run.code, 2, "{name}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(name), "{}", run.stderr);
        std::fs::remove_file(&path).unwrap();
    }
}

/// With the layout declared (flag or `migrate.toml`), each tool's file is its Up section: `up`
/// creates the table and runs nothing of the Down section, on every dialect; `check` judges
/// only the Up section (the Down section's DROP TABLE is not reported).
#[test]
fn a_declared_layout_runs_the_up_section_only() {
    for kind in [Kind::Postgres, Kind::Mariadb, Kind::Sqlite] {
        for (i, (tool, text, _)) in FILES.iter().enumerate() {
            let Some(db) = TestDb::new(kind) else {
                continue;
            };
            db.write("0001_kept.sql", text);
            let run = if i % 2 == 0 {
                db.migrate("up", &["--layout", tool])
            } else {
                db.config(&format!("layout = \"{tool}\"\n"));
                db.migrate("up", &[])
            };
            assert_eq!(run.code, 0, "{kind:?} {tool}: {}{}", run.stdout, run.stderr);
            assert!(
                db.tables().iter().any(|t| t == "kept"),
                "{kind:?} {tool}: the Down section ran: {:?}",
                db.tables()
            );
            let check = migrate()
                .check()
                .dir(db.migrations())
                .dialect(dialect(kind))
                .args(["--layout", tool, "--format", "json"])
                .run();
            assert_eq!(
                check.code, 0,
                "{kind:?} {tool}: {}{}",
                check.stdout, check.stderr
            );
            assert!(!check.stdout.contains("drop-table"), "{}", check.stdout);
        }
    }
}

/// goose's StatementBegin/End keeps a function with semicolons in its body as one statement,
/// and its NO TRANSACTION lets CREATE INDEX CONCURRENTLY run (PostgreSQL refuses it in a
/// transaction).
#[test]
fn goose_blocks_and_no_transaction_run_on_postgres() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    db.write(
        "0001_f.sql",
        "-- +goose Up\nCREATE TABLE t (id int);\n-- +goose StatementBegin\nCREATE FUNCTION twice(x int) RETURNS int LANGUAGE plpgsql AS '\nBEGIN\n  RETURN x * 2;\nEND;';\n-- +goose StatementEnd\n\n-- +goose Down\n-- +goose StatementBegin\nDROP FUNCTION twice;\n-- +goose StatementEnd\nDROP TABLE t;\n",
    );
    db.write(
        "0002_index.sql",
        "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY t_id ON t (id);\n\n-- +goose Down\nDROP INDEX CONCURRENTLY t_id;\n",
    );
    let run = db.migrate("up", &["--layout", "goose"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(db.strings("SELECT twice(21)::text"), ["42"]);
    assert_eq!(
        db.strings("SELECT indexname::text FROM pg_indexes WHERE tablename = 't'"),
        ["t_id"]
    );
}

/// In a declared layout, a file that breaks it is refused naming the file, line and layout.
#[test]
fn a_file_that_breaks_its_layout_is_refused() {
    let Some(db) = TestDb::new(Kind::Sqlite) else {
        return;
    };
    db.write("0001_a.sql", "CREATE TABLE a (id INT);\n-- +goose Up\n");
    let run = db.migrate("up", &["--layout", "goose"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("0001_a.sql:1:") && run.stderr.contains("layout goose"),
        "{}",
        run.stderr
    );
    assert!(db.tables().is_empty(), "{:?}", db.tables());
}

/// From the adversarial review: an Up section that ends inside an open comment would lose its
/// tail silently on SQLite (which ends a comment at the end of input): refused, nothing
/// applied. Growing the Down section of an applied file is not an edit of the history. Blocks
/// without a closing `;` run on PostgreSQL, where a file runs as one batch.
#[test]
fn sections_keep_their_meaning_under_review_cases() {
    let Some(db) = TestDb::new(Kind::Sqlite) else {
        return;
    };
    db.write(
        "0001_a.sql",
        "-- +goose Up\nCREATE TABLE a (id int);\n/*\n-- +goose Down\n  notes\n*/\nCREATE TABLE b (id int);\n",
    );
    let run = db.migrate("up", &["--layout", "goose"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("0001_a.sql:4:"), "{}", run.stderr);
    assert!(db.tables().is_empty(), "{:?}", db.tables());
    db.write(
        "0001_a.sql",
        "-- +goose Up\nCREATE TABLE a (id int);\n\n-- +goose Down\nDROP TABLE a;\n",
    );
    let run = db.migrate("up", &["--layout", "goose"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    db.write(
        "0001_a.sql",
        "-- +goose Up\nCREATE TABLE a (id int);\n\n-- +goose Down\n-- drop it again\n\nDROP TABLE a;\n\n",
    );
    let verify = db.migrate("verify", &["--layout", "goose"]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);

    let Some(pg) = TestDb::new(Kind::Postgres) else {
        return;
    };
    pg.write(
        "0001_blocks.sql",
        "-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE h (id int)\n-- +goose StatementEnd\n-- +goose StatementBegin\nCREATE TABLE i (id int)\n-- +goose StatementEnd\n",
    );
    let run = pg.migrate("up", &["--layout", "goose"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let tables = pg.tables();
    assert!(
        tables.iter().any(|t| t == "h") && tables.iter().any(|t| t == "i"),
        "{tables:?}"
    );
}

/// Writes `files` (`path`, text) under the test's migration directory, folders included.
fn write_tree(db: &TestDb, files: &[(&str, &str)]) {
    for (path, text) in files {
        let full = db.migrations().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
}

/// Every file layout under `auto` on PostgreSQL: the layout is told in the JSON summary, the
/// rollbacks (golang-migrate's and diesel's down files, Flyway's `U` scripts) are never run,
/// and the tool's way of running a migration outside a transaction (diesel's metadata.toml,
/// Flyway's .sql.conf, sqlx's first line) lets CREATE INDEX CONCURRENTLY run, which
/// PostgreSQL refuses inside a transaction.
#[test]
fn file_layouts_are_detected_and_run_on_postgres() {
    let create = "CREATE TABLE t (id int);\n";
    let index = "CREATE INDEX CONCURRENTLY t_id ON t (id);\n";
    let drop = "DROP TABLE t;\n";
    let cases: Vec<(&str, Vec<(&str, String)>)> = vec![
        (
            "sqlx",
            vec![
                ("1_t.sql", create.to_string()),
                ("2_i.sql", format!("-- no-transaction\n{index}")),
            ],
        ),
        (
            "flyway",
            vec![
                ("V1__t.sql", create.to_string()),
                ("U1__t.sql", drop.to_string()),
                ("V2__i.sql", index.to_string()),
                ("V2__i.sql.conf", "executeInTransaction=false\n".to_string()),
            ],
        ),
        (
            "diesel",
            vec![
                (
                    "00000000000000_diesel_initial_setup/up.sql",
                    "SELECT 1;\n".to_string(),
                ),
                ("2019-01-01-000000_t/up.sql", create.to_string()),
                ("2019-01-01-000000_t/down.sql", drop.to_string()),
                // diesel >= 2.2 names folders with 18 digits; it orders versions as text.
                ("2019-01-02-000000-0000_i/up.sql", index.to_string()),
                (
                    "2019-01-02-000000-0000_i/metadata.toml",
                    "run_in_transaction = false\n".to_string(),
                ),
                ("2019-01-02-000000-0000_i/down.sql", drop.to_string()),
            ],
        ),
        (
            "prisma",
            vec![
                (
                    "migration_lock.toml",
                    "provider = \"postgresql\"\n".to_string(),
                ),
                ("20190101000000_t/migration.sql", create.to_string()),
                (
                    "20190102000000_i/migration.sql",
                    "CREATE INDEX t_id ON t (id);\n".to_string(),
                ),
            ],
        ),
        (
            "migrate",
            vec![
                ("1_t.up.sql", create.to_string()),
                ("1_t.down.sql", drop.to_string()),
            ],
        ),
    ];
    for (layout, files) in cases {
        let Some(db) = TestDb::new(Kind::Postgres) else {
            return;
        };
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        write_tree(&db, &files);
        let check = migrate()
            .check()
            .dir(db.migrations())
            .args(["--format", "json"])
            .run();
        assert!(
            check.code <= 1,
            "{layout}: {}{}",
            check.stdout,
            check.stderr
        );
        let json: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
        assert_eq!(json["summary"]["layout"], layout, "{}", check.stdout);
        assert_eq!(json["summary"]["layout_chosen_by"], "auto");
        let run = db.migrate("up", &[]);
        assert_eq!(run.code, 0, "{layout}: {}{}", run.stdout, run.stderr);
        assert!(
            db.tables().iter().any(|t| t == "t"),
            "{layout}: a rollback ran"
        );
        if layout != "migrate" {
            assert_eq!(
                db.strings("SELECT indexname::text FROM pg_indexes WHERE tablename = 't'"),
                ["t_id"],
                "{layout}"
            );
        }
        if layout == "diesel" {
            // Recorded with diesel's versions (dashes out), in diesel's order.
            assert_eq!(
                db.history(),
                [
                    "0:applied",
                    "20190101000000:applied",
                    "201901020000000000:applied"
                ]
            );
        }
    }
}

/// diesel orders versions as text: a 14-digit version of a later day comes after an 18-digit
/// one of an earlier day, the opposite of their numeric order (crates.io's history has both).
/// `up` applies them in diesel's order: the second folder needs the first's table.
#[test]
fn diesel_versions_apply_in_diesels_order() {
    let Some(db) = TestDb::new(Kind::Sqlite) else {
        return;
    };
    write_tree(
        &db,
        &[
            (
                "2025-11-19-091444-0000_a/up.sql",
                "CREATE TABLE a (id INT);\n",
            ),
            (
                "2026-05-27-120000_b/up.sql",
                "ALTER TABLE a ADD COLUMN b INT;\n",
            ),
        ],
    );
    let run = db.migrate("up", &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(db.columns("a"), ["id", "b"]);
    let status = db.migrate("status", &[]);
    assert_eq!(status.code, 0, "{}{}", status.stdout, status.stderr);
    let a = status.stdout.find("202511190914440000").unwrap();
    let b = status.stdout.find("20260527120000").unwrap();
    assert!(a < b, "{}", status.stdout);
}

/// Signs of two layouts are an error listing both; nothing read.
#[test]
fn mixed_layouts_are_refused_listing_their_signs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("V1__a.sql"), "CREATE TABLE a (id INT);\n").unwrap();
    std::fs::create_dir(dir.path().join("2019-01-01-000000_b")).unwrap();
    std::fs::write(dir.path().join("2019-01-01-000000_b/up.sql"), "SELECT 1;\n").unwrap();
    let run = migrate().check().dir(dir.path()).run();
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    for sign in [
        "flyway (",
        "V1__a.sql",
        "diesel (",
        "2019-01-01-000000_b/up.sql",
    ] {
        assert!(run.stderr.contains(sign), "{sign}: {}", run.stderr);
    }
}

/// `start_after` replays the history unjudged: a drop that was right at the time is not
/// reported, a new one is; a version no file has is an error naming the setting.
#[test]
fn start_after_replays_old_history_without_judging_it() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("1_a.sql", "CREATE TABLE a (id INT, old INT);\n");
    write("2_b.sql", "ALTER TABLE a DROP COLUMN old;\n");
    write("3_c.sql", "ALTER TABLE a DROP COLUMN id;\n");
    let all = migrate()
        .check()
        .dir(dir.path())
        .args(["--format", "json"])
        .run();
    assert_eq!(
        all.stdout.matches("drop-column").count(),
        2,
        "{}",
        all.stdout
    );
    let adopted = migrate()
        .check()
        .dir(dir.path())
        .args(["--format", "json", "--start-after", "2"])
        .run();
    assert_eq!(adopted.code, 1, "{}{}", adopted.stdout, adopted.stderr);
    assert_eq!(
        adopted.stdout.matches("drop-column").count(),
        1,
        "{}",
        adopted.stdout
    );
    assert!(adopted.stdout.contains("3_c.sql"), "{}", adopted.stdout);
    // The replay still knows the schema: dropping `id` is judged against the table.
    assert!(adopted.stdout.contains("a.id"), "{}", adopted.stdout);
    let wrong = migrate()
        .check()
        .dir(dir.path())
        .args(["--start-after", "7"])
        .run();
    assert_eq!(wrong.code, 2, "{}{}", wrong.stdout, wrong.stderr);
    assert!(wrong.stderr.contains("start_after = 7"), "{}", wrong.stderr);
}

/// `migrate init` on a goose project: writes migrate.toml with the layout, the dialect, the
/// directory and start_after at the newest version, prints the next commands, refuses to
/// overwrite; after it, `check` is clean on the old history and `new` writes goose markers.
#[test]
fn init_adopts_a_directory() {
    let root = tempfile::tempdir().unwrap();
    let migrations = root.path().join("db/migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    std::fs::write(
        migrations.join("20240101000000_a.sql"),
        "-- +goose Up\nCREATE TABLE a (id INT, old INT);\n-- +goose Down\nDROP TABLE a;\n",
    )
    .unwrap();
    std::fs::write(
        migrations.join("20240102000000_b.sql"),
        "-- +goose Up\nALTER TABLE a DROP COLUMN old;\n-- +goose Down\n",
    )
    .unwrap();
    let init = migrate().cwd(root.path()).arg("init").run();
    assert_eq!(init.code, 0, "{}{}", init.stdout, init.stderr);
    for said in [
        "layout goose",
        "start_after 20240102000000",
        "migrate baseline --from goose",
    ] {
        assert!(init.stdout.contains(said), "{said}: {}", init.stdout);
    }
    // --layout overrides the detection, and says so.
    let forced = migrate()
        .cwd(root.path())
        .args(["init", "--layout", "goose", "--config", "other.toml"])
        .run();
    assert!(
        forced.code == 0 && forced.stdout.contains("layout goose (--layout)"),
        "{}{}",
        forced.stdout,
        forced.stderr
    );
    let config = std::fs::read_to_string(root.path().join("migrate.toml")).unwrap();
    for line in [
        "dir = \"db/migrations\"",
        "layout = \"goose\"",
        "dialect = \"postgres\"",
        "start_after = 20240102000000",
    ] {
        assert!(config.contains(line), "{line}: {config}");
    }
    let check = migrate().cwd(root.path()).arg("check").run();
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    let again = migrate().cwd(root.path()).arg("init").run();
    assert_eq!(again.code, 2, "{}{}", again.stdout, again.stderr);
    assert_eq!(
        std::fs::read_to_string(root.path().join("migrate.toml")).unwrap(),
        config
    );
    let new = migrate().cwd(root.path()).args(["new", "add b"]).run();
    assert_eq!(new.code, 0, "{}{}", new.stdout, new.stderr);
    let created = root.path().join(new.stdout.trim());
    assert!(
        std::fs::read_to_string(created)
            .unwrap()
            .contains("-- +goose Up")
    );
}

/// Each tool's way of running a migration outside a transaction is honoured by `up`: the
/// file's first statement commits on its own, so when the second fails the first's table
/// stays (and the history says failed); the same file without the setting rolls back whole.
/// On PostgreSQL, where DDL is transactional, this is the observable difference.
#[test]
fn outside_transaction_settings_are_honoured_by_up() {
    let failing = "CREATE TABLE kept (id int);\nINSERT INTO missing VALUES (1);\n";
    type Files = Vec<(&'static str, String)>;
    let cases: Vec<(&str, Files, Files)> = vec![
        (
            "diesel",
            vec![
                ("2024-01-01-000000_x/up.sql", failing.to_string()),
                (
                    "2024-01-01-000000_x/metadata.toml",
                    "run_in_transaction = false\n".to_string(),
                ),
            ],
            vec![("2024-01-01-000000_x/up.sql", failing.to_string())],
        ),
        (
            "flyway",
            vec![
                ("V1__x.sql", failing.to_string()),
                ("V1__x.sql.conf", "executeInTransaction=false\n".to_string()),
            ],
            vec![("V1__x.sql", failing.to_string())],
        ),
        (
            "sqlx",
            vec![("1_x.sql", format!("-- no-transaction\n{failing}"))],
            vec![("1_x.sql", format!("-- no transaction\n{failing}"))],
        ),
    ];
    for (layout, outside, inside) in cases {
        for (files, stays) in [(outside, true), (inside, false)] {
            let Some(db) = TestDb::new(Kind::Postgres) else {
                return;
            };
            let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
            write_tree(&db, &files);
            let run = db.migrate("up", &["--layout", layout]);
            // A migration whose statement fails while applying is exit 1 (docs/up.md).
            assert_eq!(run.code, 1, "{layout}: {}{}", run.stdout, run.stderr);
            assert_eq!(
                db.tables().iter().any(|t| t == "kept"),
                stays,
                "{layout} (outside a transaction: {stays}): {:?}",
                db.tables()
            );
        }
    }
}

/// Flyway's repeatable migrations on PostgreSQL: applied after every versioned one (the view
/// reads a column V2 adds, though `R__` sorts first), not again while unchanged, again once
/// edited (the history keeps one row for it, with the new checksum); a versioned file added
/// later is not out of order behind it.
#[test]
fn flyway_repeatable_migrations_apply_last_and_again_when_changed() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    db.write("V1__t.sql", "CREATE TABLE t (a int);\n");
    db.write(
        "R__v.sql",
        "CREATE OR REPLACE VIEW v AS SELECT a, b FROM t;\n",
    );
    db.write("V2__b.sql", "ALTER TABLE t ADD COLUMN b int;\n");
    let first = db.migrate("up", &[]);
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    assert_eq!(db.columns("v"), ["a", "b"]);
    assert_eq!(db.history().len(), 3, "{:?}", db.history());
    let again = db.migrate("up", &["--format", "json"]);
    assert_eq!(again.code, 0, "{}{}", again.stdout, again.stderr);
    let report: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(report["status"], "up-to-date", "{}", again.stdout);
    assert_eq!(
        report["migrations"].as_array().map(Vec::len),
        Some(0),
        "{}",
        again.stdout
    );
    db.write(
        "R__v.sql",
        "CREATE OR REPLACE VIEW v AS SELECT a, b, 1 AS c FROM t;\n",
    );
    db.write("V3__d.sql", "ALTER TABLE t ADD COLUMN d int;\n");
    let status = db.migrate("status", &[]);
    assert_eq!(status.code, 0, "{}{}", status.stdout, status.stderr);
    assert!(!status.stdout.contains("modified"), "{}", status.stdout);
    let changed = db.migrate("up", &[]);
    assert_eq!(changed.code, 0, "{}{}", changed.stdout, changed.stderr);
    assert_eq!(db.columns("v"), ["a", "b", "c"]);
    assert_eq!(db.columns("t"), ["a", "b", "d"]);
    assert_eq!(db.history().len(), 4, "{:?}", db.history());
    let verify = db.migrate("verify", &[]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
}

/// `migrate new` names the file the layout's way: the next Flyway version after the numbered
/// ones (not after a repeatable's key), a diesel folder with up.sql and down.sql.
#[test]
fn new_follows_the_layout() {
    let dir = tempfile::tempdir().unwrap();
    let flyway = dir.path().join("flyway");
    std::fs::create_dir(&flyway).unwrap();
    for (name, text) in [
        ("V1__a.sql", "SELECT 1;\n"),
        ("V2__b.sql", "SELECT 2;\n"),
        ("R__v.sql", "SELECT 3;\n"),
    ] {
        std::fs::write(flyway.join(name), text).unwrap();
    }
    let run = migrate().args(["new", "add c", "--dir"]).arg(&flyway).run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(flyway.join("V3__add_c.sql").is_file(), "{}", run.stdout);
    let diesel = dir.path().join("diesel");
    std::fs::create_dir_all(diesel.join("2024-01-01-000000_a")).unwrap();
    std::fs::write(diesel.join("2024-01-01-000000_a/up.sql"), "SELECT 1;\n").unwrap();
    let run = migrate().args(["new", "add d", "--dir"]).arg(&diesel).run();
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let created = std::path::PathBuf::from(run.stdout.trim());
    assert_eq!(created.file_name().unwrap(), "up.sql", "{}", run.stdout);
    assert!(created.with_file_name("down.sql").is_file());
    let folder = created
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    assert!(
        folder.ends_with("_add_d") && folder.chars().nth(4) == Some('-'),
        "{folder}"
    );
}

/// A directory in which nothing is a migration (empty, or only other files) is not a silent
/// success: `check` and `up` say what they looked for, on stderr, and exit 0 (a new project
/// has no migrations yet). With a layout set, its own file names are named.
#[test]
fn a_directory_without_migrations_says_what_it_expected() {
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("migrations");
    std::fs::create_dir(&migrations).unwrap();
    std::fs::write(migrations.join("README.txt"), "notes\n").unwrap();
    let check = migrate().check().dir(&migrations).run();
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    assert!(
        check.stderr.contains("no migrations in")
            && check
                .stderr
                .contains("expected `<version>_<description>.sql`"),
        "{}",
        check.stderr
    );
    let flyway = migrate()
        .check()
        .dir(&migrations)
        .args(["--layout", "flyway"])
        .run();
    assert!(
        flyway
            .stderr
            .contains("expected `V<version>__<description>.sql` or `R__<description>.sql` files (layout flyway)"),
        "{}",
        flyway.stderr
    );
    let db = dir.path().join("x.db");
    let up = migrate()
        .up()
        .dir(&migrations)
        .database(format!("sqlite://{}", db.display()))
        .run();
    assert_eq!(up.code, 0, "{}{}", up.stdout, up.stderr);
    assert!(up.stderr.contains("no migrations in"), "{}", up.stderr);
    // One migration: nothing to say.
    std::fs::write(migrations.join("1_a.sql"), "CREATE TABLE a (id INT);\n").unwrap();
    let check = migrate().check().dir(&migrations).run();
    assert!(!check.stderr.contains("no migrations"), "{}", check.stderr);
}

/// Flyway: `start_after` takes the version as Flyway writes it (`1.1`), in the flag and in
/// migrate.toml; a repeatable migration's key is no version to start after. A placeholder
/// (`${name}`, which Flyway would replace) and a script configuration migrate cannot honour
/// are refused naming the file and line, nothing analysed.
#[test]
fn flyway_start_after_placeholders_and_script_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("migrations");
    std::fs::create_dir(&m).unwrap();
    std::fs::write(m.join("V1__a.sql"), "CREATE TABLE a (id INT, x INT);\n").unwrap();
    std::fs::write(m.join("V1.1__drop.sql"), "ALTER TABLE a DROP COLUMN x;\n").unwrap();
    std::fs::write(
        m.join("R__v.sql"),
        "CREATE OR REPLACE VIEW v AS SELECT id FROM a;\n",
    )
    .unwrap();
    let all = migrate().check().dir(&m).dialect("postgres").run();
    assert_eq!(
        all.code, 1,
        "the drop is judged: {}{}",
        all.stdout, all.stderr
    );
    let after = migrate()
        .check()
        .dir(&m)
        .dialect("postgres")
        .args(["--start-after", "1.1"])
        .run();
    assert_eq!(after.code, 0, "{}{}", after.stdout, after.stderr);
    std::fs::write(
        dir.path().join("migrate.toml"),
        "dir = \"migrations\"\nstart_after = \"1.1\"\n",
    )
    .unwrap();
    let toml = migrate().check().dialect("postgres").cwd(dir.path()).run();
    assert_eq!(toml.code, 0, "{}{}", toml.stdout, toml.stderr);
    std::fs::remove_file(dir.path().join("migrate.toml")).unwrap();
    let status = migrate()
        .check()
        .dir(&m)
        .dialect("postgres")
        .format("json")
        .run();
    assert!(
        status.stdout.contains("\"layout\":\"flyway\""),
        "{}",
        status.stdout
    );
    // The repeatable's key (what status shows as its version: from the SHA-256 of its
    // description, in [2^62, 2^63)) is refused.
    use sha2::Digest;
    let digest = sha2::Sha256::digest(b"v");
    let first = u64::from_be_bytes(digest[..8].try_into().unwrap());
    let key = ((1u64 << 62) + first % (1u64 << 62)).to_string();
    let db = dir.path().join("x.db");
    std::fs::File::create(&db).unwrap();
    let url = format!("sqlite://{}", db.display());
    let status = migrate().status().dir(&m).database(&url).run();
    assert!(
        status.stdout.contains(&key),
        "the key status shows: {}",
        status.stdout
    );
    let run = migrate()
        .check()
        .dir(&m)
        .args(["--start-after", &key])
        .run();
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("no versioned migration"),
        "{}",
        run.stderr
    );
    std::fs::write(
        m.join("V2__p.sql"),
        "CREATE TABLE b (id INT);\nINSERT INTO b VALUES (${tenant});\n",
    )
    .unwrap();
    let placeholder = migrate().check().dir(&m).dialect("postgres").run();
    assert_eq!(
        placeholder.code, 2,
        "{}{}",
        placeholder.stdout, placeholder.stderr
    );
    assert!(
        placeholder.stderr.contains("V2__p.sql:2") && placeholder.stderr.contains("${tenant}"),
        "{}",
        placeholder.stderr
    );
    std::fs::write(m.join("V2__p.sql"), "CREATE TABLE b (id INT);\n").unwrap();
    std::fs::write(m.join("V2__p.sql.conf"), "executeInTransaction=maybe\n").unwrap();
    let conf = migrate().check().dir(&m).dialect("postgres").run();
    assert_eq!(conf.code, 2, "{}{}", conf.stdout, conf.stderr);
    assert!(
        conf.stderr.contains("V2__p.sql.conf:1") && conf.stderr.contains("expected true or false"),
        "{}",
        conf.stderr
    );
}

/// Folders are read once each: a symlink loop in a Flyway directory ends (no duplicates, no
/// explosion), a file 12 folders deep is read; `start_after` spelled as Flyway writes
/// versions is refused in another layout (there `1.1` is no version); `init --layout` that
/// matches none of the files writes nothing.
#[test]
fn folders_once_start_after_spelling_and_init_layout_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("migrations");
    let deep = m.join("a/b/c/d/e/f/g/h/i/j/k/l");
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(m.join("V1__a.sql"), "CREATE TABLE a (id INT);\n").unwrap();
    std::fs::write(deep.join("V2__b.sql"), "CREATE TABLE b (id INT);\n").unwrap();
    for n in 0..6 {
        std::os::unix::fs::symlink(".", m.join(format!("loop{n}"))).unwrap();
        std::os::unix::fs::symlink(&m, deep.join(format!("up{n}"))).unwrap();
    }
    let started = std::time::Instant::now();
    let check = migrate().check().dir(&m).format("json").run();
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    let report: serde_json::Value = serde_json::from_str(&check.stdout).unwrap();
    assert_eq!(report["summary"]["files"], 2, "{}", check.stdout);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));

    let plain = tempfile::tempdir().unwrap();
    let pm = plain.path().join("migrations");
    std::fs::create_dir(&pm).unwrap();
    std::fs::write(pm.join("1_a.sql"), "CREATE TABLE a (id INT, x INT);\n").unwrap();
    std::fs::write(pm.join("1001_b.sql"), "ALTER TABLE a DROP COLUMN x;\n").unwrap();
    let spelled = migrate()
        .check()
        .dir(&pm)
        .args(["--start-after", "1.1"])
        .run();
    assert_eq!(spelled.code, 2, "{}{}", spelled.stdout, spelled.stderr);
    assert!(
        spelled.stderr.contains("written as a flyway version"),
        "{}",
        spelled.stderr
    );
    let number = migrate()
        .check()
        .dir(&pm)
        .args(["--start-after", "1001"])
        .run();
    assert_eq!(number.code, 0, "{}{}", number.stdout, number.stderr);

    let init = migrate()
        .cwd(plain.path())
        .args(["init", "--layout", "flyway"])
        .run();
    assert_eq!(init.code, 2, "{}{}", init.stdout, init.stderr);
    assert!(init.stderr.contains("no file in"), "{}", init.stderr);
    assert!(!plain.path().join("migrate.toml").exists());
}
