use super::*;
use crate::analyze::schema::Catalog;
use crate::source::queries::{Origin, QueryFiles, RawQuery};

fn catalog(dialect: Dialect, files: &[&str]) -> Catalog {
    let mut catalog = Catalog::new(dialect);
    for (i, text) in files.iter().enumerate() {
        let parsed = crate::analyze::parse::parse_file(text, dialect);
        for s in &parsed.statements {
            for c in &s.changes {
                catalog.apply(c, i as u32 + 1, i as u32 + 1);
            }
        }
    }
    catalog
}

fn set(dialect: Dialect, queries: &[&str]) -> QuerySet {
    let files = QueryFiles {
        queries: queries
            .iter()
            .enumerate()
            .map(|(i, q)| RawQuery {
                origin: Origin {
                    source: "q.sql".into(),
                    line: i as u32 + 1,
                    id: None,
                },
                text: q.to_string(),
                script: false,
            })
            .collect(),
        unreadable: Vec::new(),
    };
    QuerySet::parse(&files, dialect)
}

const SCHEMA: &str =
    "CREATE TABLE users (id int PRIMARY KEY, name text, legacy_name text, org_id int);
CREATE TABLE orgs (id int PRIMARY KEY, name text, legacy_name text);
CREATE TYPE mood AS ENUM ('happy', 'sad');";

fn column(t: &str, c: &str) -> Subject {
    Subject::Column(QName::new(t), c.into())
}

/// Which of `queries` use `subject`.
fn users(queries: &[&str], subject: &Subject) -> Vec<usize> {
    let catalog = catalog(Dialect::Postgres, &[SCHEMA]);
    let set = set(Dialect::Postgres, queries);
    assert!(set.unparsed.is_empty(), "{:?}", set.unparsed);
    match set.evidence(subject, &catalog, false) {
        Evidence::Used { queries, .. } => queries,
        Evidence::Unused { .. } => Vec::new(),
    }
}

#[test]
fn columns_resolve_through_aliases_joins_and_scopes() {
    let legacy = column("users", "legacy_name");
    let queries = [
        "SELECT id, name FROM users WHERE id = $1",
        "SELECT u.legacy_name FROM users u",
        "SELECT legacy_name FROM users",
        // orgs has legacy_name too: the qualified one is orgs'.
        "SELECT o.legacy_name FROM users u JOIN orgs o ON o.id = u.org_id",
        // A subquery over orgs captures the unqualified name.
        "SELECT id FROM users WHERE org_id IN (SELECT id FROM orgs WHERE legacy_name = $1)",
        // Correlated: the inner scope has no table with the column, the outer one has users.
        "SELECT id FROM users WHERE EXISTS (SELECT 1 FROM generate_series(1, 2) g WHERE legacy_name IS NULL)",
        "WITH x AS (SELECT legacy_name AS n FROM users) SELECT n FROM x",
        "SELECT * FROM users",
        "SELECT u.* FROM users u",
        "SELECT o.* FROM users u JOIN orgs o ON true",
        "SELECT count(*) FROM users",
        "UPDATE users SET legacy_name = $1 WHERE id = $2",
        "UPDATE users SET name = $1 WHERE id = $2 RETURNING *",
        "DELETE FROM users WHERE id = $1 RETURNING id",
    ];
    assert_eq!(users(&queries, &legacy), [1, 2, 5, 6, 7, 8, 11, 12]);
}

#[test]
fn inserts_use_their_columns_or_every_column() {
    let legacy = column("users", "legacy_name");
    let queries = [
        "INSERT INTO users (id, name) VALUES ($1, $2)",
        "INSERT INTO users (id, legacy_name) VALUES ($1, $2)",
        "INSERT INTO users VALUES ($1, $2, $3, $4)",
        "INSERT INTO users (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET legacy_name = excluded.name",
        "INSERT INTO users (id) SELECT id FROM orgs",
    ];
    assert_eq!(users(&queries, &legacy), [1, 2, 3]);
    let omits = Subject::InsertOmits(QName::new("users"), "legacy_name".into());
    assert_eq!(users(&queries, &omits), [0, 2, 3, 4]);
    let writes = Subject::Writes(QName::new("users"), vec!["name".into()]);
    assert_eq!(
        users(
            &[
                "UPDATE users SET legacy_name = $1",
                "UPDATE users SET name = $1",
                "INSERT INTO users (id) VALUES (1)",
                "SELECT name FROM users"
            ],
            &writes
        ),
        [1, 2]
    );
}

#[test]
fn relations_functions_types_labels_and_schemas() {
    let queries = [
        "SELECT id FROM users",
        "SELECT id FROM app.users",
        "WITH users AS (SELECT 1 AS id) SELECT id FROM users",
        "SELECT lower(name) FROM orgs",
        "SELECT 'happy'::mood",
        "SELECT id FROM orgs WHERE name = 'sad'",
    ];
    assert_eq!(
        users(&queries, &Subject::Relation(QName::new("users"))),
        [0]
    );
    let app_users = QName {
        schema: Some("app".into()),
        name: "users".into(),
    };
    assert_eq!(users(&queries, &Subject::Relation(app_users)), [0, 1]);
    assert_eq!(
        users(&queries, &Subject::Function(QName::new("lower"))),
        [3]
    );
    assert_eq!(users(&queries, &Subject::Type(QName::new("mood"))), [4]);
    assert_eq!(users(&queries, &Subject::Label("sad".into())), [5]);
    assert_eq!(users(&queries, &Subject::Schema("app".into())), [1]);
}

#[test]
fn unparsed_queries_use_what_they_name_and_are_listed() {
    let catalog = catalog(Dialect::Postgres, &[SCHEMA]);
    let set = set(
        Dialect::Postgres,
        &[
            "SELECT legacy_name FROM users WHERE ((",
            "SELEC nothing",
            "SET x = 1",
        ],
    );
    assert_eq!(set.unparsed.len(), 2);
    assert_eq!(set.ignored, 1);
    assert_eq!(
        set.evidence(&column("users", "legacy_name"), &catalog, false),
        Evidence::Used {
            queries: vec![0],
            new_release: false
        }
    );
    assert!(matches!(
        set.evidence(&column("users", "name"), &catalog, false),
        Evidence::Unused { .. }
    ));
}

#[test]
fn scripts_are_split_into_queries_with_lines() {
    let files = QueryFiles {
        queries: vec![RawQuery {
            origin: Origin {
                source: "app.sql".into(),
                line: 0,
                id: None,
            },
            text: "SELECT 1;\n\n-- the list\nSELECT id\nFROM users;\n".into(),
            script: true,
        }],
        unreadable: Vec::new(),
    };
    let set = QuerySet::parse(&files, Dialect::Postgres);
    let lines: Vec<u32> = set.queries.iter().map(|q| q.origin.line).collect();
    assert_eq!(lines, [1, 4]);
}

#[test]
fn reading_through_a_view_or_function_is_said() {
    let catalog = catalog(
        Dialect::Postgres,
        &[
            SCHEMA,
            "CREATE VIEW people AS SELECT id, legacy_name FROM users;",
        ],
    );
    let set = set(Dialect::Postgres, &["SELECT legacy_name FROM people"]);
    assert!(matches!(
        set.evidence(&column("users", "legacy_name"), &catalog, false),
        Evidence::Unused { through: true, phrase, .. } if phrase == "no known query uses users.legacy_name"
    ));
    let plain = self::set(Dialect::Postgres, &["SELECT name FROM users"]);
    assert!(matches!(
        plain.evidence(&column("users", "legacy_name"), &catalog, false),
        Evidence::Unused { through: false, .. }
    ));
}

#[test]
fn mysql_and_sqlite_placeholders_and_forms() {
    let catalog = catalog(
        Dialect::Mysql,
        &[SCHEMA
            .lines()
            .take(2)
            .collect::<Vec<_>>()
            .join("\n")
            .as_str()],
    );
    let set = set(
        Dialect::Mysql,
        &[
            "SELECT `legacy_name` FROM `users` WHERE id = ?",
            "INSERT INTO users SET id = ?, name = ?",
            "REPLACE INTO users (id, name) VALUES (?, ?)",
            "INSERT INTO users (id) VALUES (?) ON DUPLICATE KEY UPDATE legacy_name = VALUES(name)",
        ],
    );
    assert!(set.unparsed.is_empty(), "{:?}", set.unparsed);
    let used = |s: &Subject| match set.evidence(s, &catalog, false) {
        Evidence::Used { queries, .. } => queries,
        _ => Vec::new(),
    };
    assert_eq!(used(&column("users", "legacy_name")), [0, 3]);
    assert_eq!(
        used(&Subject::InsertOmits(
            QName::new("users"),
            "legacy_name".into()
        )),
        [1, 2, 3]
    );
}
