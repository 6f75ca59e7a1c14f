//! Tests of the catalog replay.

use super::*;
use crate::analyze::parse::parse_file;

fn replay(dialect: Dialect, files: &[&str]) -> Catalog {
    let mut catalog = Catalog::new(dialect);
    for (i, text) in files.iter().enumerate() {
        let release = i as Release + 1;
        for stmt in parse_file(text, dialect).statements {
            for change in &stmt.changes {
                catalog.apply(change, release, release);
            }
        }
    }
    catalog
}

#[test]
fn stamps_objects_with_their_release() {
    let c = replay(
        Dialect::Postgres,
        &[
            "CREATE TABLE public.users (id bigint PRIMARY KEY, email text NOT NULL);",
            "ALTER TABLE users ADD COLUMN name text DEFAULT 'x';\nCREATE INDEX CONCURRENTLY users_email ON users (email);",
        ],
    );
    let users = c.table(&QName::new("users")).unwrap();
    assert_eq!(users.release, 1);
    assert_eq!(users.column("name").unwrap().release, 2);
    assert!(users.column("id").unwrap().not_null);
    let index = c.index(&QName::new("users_email"), None).unwrap();
    assert!(index.concurrently && index.release == 2);
}

#[test]
fn renames_move_objects_and_keep_their_release() {
    let c = replay(
        Dialect::Postgres,
        &[
            "CREATE TABLE a (x int);\nCREATE INDEX a_x ON a (x);",
            "ALTER TABLE a RENAME TO b;\nALTER TABLE b RENAME COLUMN x TO y;",
        ],
    );
    assert!(c.table(&QName::new("a")).is_none());
    let b = c.table(&QName::new("b")).unwrap();
    assert_eq!((b.release, b.renamed_in), (1, Some(2)));
    assert!(b.column("y").is_some() && b.column("x").is_none());
    assert_eq!(
        c.index(&QName::new("a_x"), None).unwrap().table,
        QName::new("b")
    );
}

#[test]
fn constraints_track_validation_and_enums_their_labels() {
    let c = replay(
        Dialect::Postgres,
        &[
            "CREATE TABLE t (a int);\nCREATE TYPE mood AS ENUM ('happy');",
            "ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL) NOT VALID;\nALTER TYPE mood ADD VALUE 'sad';",
            "ALTER TABLE t VALIDATE CONSTRAINT c;",
        ],
    );
    let check = &c.table(&QName::new("t")).unwrap().constraints[0];
    assert!(check.validated);
    assert_eq!(
        check.kind,
        ConstraintKind::Check {
            not_null_column: Some("a".into()),
            words: vec!["a".into(), "is".into(), "not".into(), "null".into()],
        }
    );
    let mood = c.user_type(&QName::new("mood")).unwrap();
    assert_eq!(
        mood.enum_values.as_deref(),
        Some(&["happy".to_string(), "sad".to_string()][..])
    );
}

#[test]
fn mysql_indexes_are_scoped_by_table() {
    let c = replay(
        Dialect::Mysql,
        &[
            "CREATE TABLE a (x INT);\nCREATE TABLE b (x INT);\nCREATE INDEX ix ON a (x);\nCREATE INDEX ix ON b (x);\nDROP INDEX ix ON a;",
        ],
    );
    assert!(c.index(&QName::new("ix"), Some(&QName::new("a"))).is_none());
    assert!(c.index(&QName::new("ix"), Some(&QName::new("b"))).is_some());
}

#[test]
fn unknown_tables_become_old_stubs() {
    let c = replay(
        Dialect::Postgres,
        &["ALTER TABLE legacy ADD COLUMN note text;"],
    );
    let t = c.table(&QName::new("legacy")).unwrap();
    assert_eq!(t.release, 0);
    assert_eq!(t.column("note").unwrap().release, 1);
}
