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
