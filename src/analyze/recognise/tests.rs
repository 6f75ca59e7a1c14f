//! Tests of the recogniser.

use super::*;
use crate::analyze::parse::parse_file;

fn kinds(sql: &str, dialect: Dialect) -> Vec<ChangeKind> {
    let parsed = parse_file(sql, dialect);
    assert_eq!(parsed.statements.len(), 1, "{sql}");
    let stmt = &parsed.statements[0];
    assert!(stmt.failure.is_none(), "{sql}: {:?}", stmt.failure);
    stmt.changes.iter().map(|c| c.kind.clone()).collect()
}

#[test]
fn drop_index_concurrently() {
    assert_eq!(
        kinds(
            "DROP INDEX CONCURRENTLY IF EXISTS a, s.b;",
            Dialect::Postgres
        ),
        [
            ChangeKind::DropIndex {
                name: QName::new("a"),
                table: None,
                concurrently: true
            },
            ChangeKind::DropIndex {
                name: QName {
                    schema: Some("s".into()),
                    name: "b".into()
                },
                table: None,
                concurrently: true
            }
        ]
    );
}

#[test]
fn reindex_and_sequences() {
    assert_eq!(
        kinds("REINDEX INDEX CONCURRENTLY idx;", Dialect::Postgres),
        [ChangeKind::Reindex {
            target: "idx".into(),
            kind: "INDEX".into(),
            name: Some(QName::new("idx")),
            concurrently: true
        }]
    );
    assert_eq!(
        kinds("ALTER SEQUENCE s AS bigint;", Dialect::Postgres),
        [ChangeKind::AlterSequence {
            name: QName::new("s")
        }]
    );
}

#[test]
fn do_block_ddl_is_seen() {
    let k = kinds(
        "DO $$ BEGIN ALTER TABLE t ADD COLUMN x int; END $$;",
        Dialect::Postgres,
    );
    assert_eq!(
        k,
        [ChangeKind::Opaque {
            what: "DO block".into(),
            ddl: Some("ALTER TABLE".into())
        }]
    );
}

#[test]
fn named_not_null_constraint_is_set_not_null() {
    let k = kinds(
        "ALTER TABLE t ADD CONSTRAINT t_x_nn NOT NULL x, ADD COLUMN y int;",
        Dialect::Postgres,
    );
    assert!(matches!(&k[0], ChangeKind::SetNotNull { column, .. } if column == "x"));
    assert!(matches!(&k[1], ChangeKind::AddColumn { .. }));
}

#[test]
fn mysql_repairs() {
    let k = kinds(
        "ALTER TABLE t MODIFY name VARCHAR(255) BINARY NOT NULL;",
        Dialect::Mysql,
    );
    assert!(matches!(&k[0], ChangeKind::RedefineColumn { .. }));
    let k = kinds("ALTER TABLE a RENAME b;", Dialect::Mysql);
    assert!(matches!(&k[0], ChangeKind::RenameTable { .. }));
}

#[test]
fn unknown_statements_stay_unparsed() {
    let parsed = parse_file("FROBNICATE TABLE x;", Dialect::Postgres);
    assert!(parsed.statements[0].failure.is_some());
}

#[test]
fn option_lists_say_what_they_say() {
    let full = |sql: &str| match kinds(sql, Dialect::Postgres).as_slice() {
        [ChangeKind::Vacuum { full }] => *full,
        other => panic!("{sql}: {other:?}"),
    };
    assert!(!full("VACUUM (FULL FALSE) t;"));
    assert!(!full("VACUUM (FULL off, ANALYZE) t;"));
    assert!(full("VACUUM (FULL) t;"));
    assert!(full("VACUUM (VERBOSE, FULL TRUE) t;"));
    assert!(!full("VACUUM (ANALYZE) t;"));
    assert!(!full("VACUUM ANALYZE t;"));
    let concurrently = |sql: &str| match kinds(sql, Dialect::Postgres).as_slice() {
        [ChangeKind::Reindex { concurrently, .. }] => *concurrently,
        other => panic!("{sql}: {other:?}"),
    };
    assert!(concurrently("REINDEX (CONCURRENTLY) INDEX t_id;"));
    assert!(concurrently(
        "REINDEX (VERBOSE, CONCURRENTLY true) TABLE t;"
    ));
    assert!(!concurrently("REINDEX (CONCURRENTLY FALSE) INDEX t_id;"));
    assert!(!concurrently("REINDEX (VERBOSE) INDEX t_id;"));
    assert!(concurrently("REINDEX INDEX CONCURRENTLY t_id;"));
}
