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

/// `up` on every dialect refuses the file before running anything: exit 2 naming the file,
/// the line and the marker; no table, no history row. `check` refuses it the same way.
#[test]
fn down_sections_are_never_run_or_analysed() {
    for kind in [Kind::Postgres, Kind::Mariadb, Kind::Sqlite] {
        for (tool, text, line) in FILES {
            let Some(db) = TestDb::new(kind) else {
                continue;
            };
            db.write("0001_base.sql", "CREATE TABLE base (id INT);\n");
            db.write("0002_kept.sql", text);
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

/// A lone Up marker is the whole file: read and applied as it stands (hydra's corpus has one).
#[test]
fn a_lone_up_marker_is_read_as_a_comment() {
    let Some(db) = TestDb::new(Kind::Sqlite) else {
        return;
    };
    db.write("0001_a.sql", "-- +goose Up\nCREATE TABLE a (id INT);\n");
    db.write("0002_b.sql", "-- migrate:up\nCREATE TABLE b (id INT);\n");
    db.write("0003_c.sql", "-- +migrate Up\nCREATE TABLE c (id INT);\n");
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
        .run();
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
}

/// Statement blocks and transaction markers are refused too, also for a FILE argument.
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
        let run = migrate().check().dialect("postgres").arg(&path).run();
        assert_eq!(run.code, 2, "{name}: {}{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(name), "{}", run.stderr);
        std::fs::remove_file(&path).unwrap();
    }
}
