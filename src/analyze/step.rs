//! What the engine needs to know about each statement of a migration that runs statement by
//! statement: whether it can commit together with its progress update ([`Step::atomic`]),
//! and how to tell afterwards whether it took effect ([`Effect`]) when a deployer stopped
//! while it ran.

use crate::analyze::ir::{Change, ChangeKind, ConstraintKind, QName};
use crate::analyze::non_transactional;
use crate::dialect::Dialect;

/// A fact about the schema that holds once a statement has completed, and can be read from
/// the database's catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// The table exists (`true`) or not.
    Table {
        /// The table.
        table: QName,
        /// Whether it exists after the statement.
        exists: bool,
    },
    /// The column exists or not.
    Column {
        /// Its table.
        table: QName,
        /// The column.
        column: String,
        /// Whether it exists after the statement.
        exists: bool,
    },
    /// The index exists (and, on PostgreSQL, is valid) or not.
    Index {
        /// Its table, when the statement names it.
        table: Option<QName>,
        /// The index.
        name: QName,
        /// Whether it exists after the statement.
        exists: bool,
    },
}

/// One statement of a migration, as the engine executes it outside a migration-wide
/// transaction.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Step {
    /// It can run in a transaction of its own together with the progress update, so a crash
    /// leaves both or neither: PostgreSQL and SQLite statements that may run in a
    /// transaction, MySQL/MariaDB DML (InnoDB makes it transactional; DDL commits implicitly).
    pub atomic: bool,
    /// What holds once it completed; empty when that cannot be read from the catalog.
    pub effects: Vec<Effect>,
    /// Running it twice does no harm (`VACUUM`, `ANALYZE`).
    pub idempotent: bool,
    /// It may change the session's state (`SET`, `USE`, a PRAGMA, a temporary object, code
    /// the analysis cannot see into): the session is reset after the migration.
    pub changes_session: bool,
    /// The temporary tables it creates (to drop them where the database cannot list them).
    pub temp_tables: Vec<String>,
    /// It is an `UPDATE`, `INSERT` or `DELETE`: a backfill repeats it until it changes no
    /// row (any other statement, were one let through, runs once).
    pub data_change: bool,
}

/// Words that start a statement which may change the session's state.
const SESSION_WORDS: [&str; 16] = [
    "SET",
    "RESET",
    "USE",
    "PRAGMA",
    "DISCARD",
    "CALL",
    "SELECT",
    "ATTACH",
    "DETACH",
    "PREPARE",
    "DEALLOCATE",
    "LISTEN",
    "DECLARE",
    "LOCK",
    "HANDLER",
    "EXECUTE",
];

/// The step facts of one statement: its `changes` and its text. `file_has_tx` says the file
/// holds its own transaction control, which the engine's per-statement transactions would
/// fight: then no statement is atomic.
pub fn step(
    changes: &[Change],
    text: &str,
    dialect: Dialect,
    pg_version: u32,
    file_has_tx: bool,
) -> Step {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '`' && c != '"' && c != '.')
        .filter(|w| !w.is_empty())
        .take(8)
        .collect();
    let first_keyword = words.first().copied().unwrap_or("");
    let temp_tables = temporary_tables(&words);
    let temporary = words
        .first()
        .is_some_and(|w| w.eq_ignore_ascii_case("CREATE"))
        && words
            .iter()
            .take(4)
            .any(|w| w.eq_ignore_ascii_case("TEMP") || w.eq_ignore_ascii_case("TEMPORARY"));
    let understood = !changes.is_empty();
    let runs_outside = changes
        .iter()
        .any(|c| non_transactional(&c.kind, dialect, pg_version).is_some());
    let atomic = !file_has_tx
        && understood
        && match dialect {
            Dialect::Postgres | Dialect::Sqlite => !runs_outside,
            Dialect::Mysql => is_dml(first_keyword),
        };
    let effects: Option<Vec<Effect>> = changes
        .iter()
        // MySQL `ALGORITHM=`/`LOCK=` clauses say how, not what.
        .filter(|c| !matches!(c.kind, ChangeKind::AlterOptions { .. }))
        .map(|c| effect(&c.kind, dialect))
        .collect();
    let changes_session = !understood
        || changes.iter().any(|c| {
            matches!(
                c.kind,
                ChangeKind::SessionSetting | ChangeKind::Opaque { .. } | ChangeKind::Call { .. }
            )
        })
        || temporary
        || SESSION_WORDS
            .iter()
            .any(|k| first_keyword.eq_ignore_ascii_case(k));
    Step {
        atomic,
        effects: effects.unwrap_or_default(),
        idempotent: understood
            && changes
                .iter()
                .all(|c| matches!(c.kind, ChangeKind::Vacuum { .. })),
        changes_session,
        temp_tables,
        data_change: understood
            && changes.iter().all(|c| {
                matches!(
                    c.kind,
                    ChangeKind::Update { .. }
                        | ChangeKind::Insert { .. }
                        | ChangeKind::Delete { .. }
                )
            }),
    }
}

/// The table a `CREATE [GLOBAL|LOCAL] TEMP[ORARY] TABLE [IF NOT EXISTS] name` makes, given
/// the statement's first words (quotes kept, unquoted here).
fn temporary_tables(words: &[&str]) -> Vec<String> {
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let Some(at) = upper.iter().position(|w| w == "TABLE") else {
        return Vec::new();
    };
    let temporary = upper.first().is_some_and(|w| w == "CREATE")
        && upper[..at].iter().any(|w| w == "TEMP" || w == "TEMPORARY");
    if !temporary {
        return Vec::new();
    }
    let mut rest = words[at + 1..].iter();
    let mut name = rest.next().copied();
    if name.is_some_and(|w| w.eq_ignore_ascii_case("IF")) {
        name = rest.nth(2).copied();
    }
    name.map(|n| vec![n.replace(['`', '"'], "")])
        .unwrap_or_default()
}

/// Statements InnoDB runs inside a transaction without committing it implicitly.
fn is_dml(first_keyword: &str) -> bool {
    ["INSERT", "UPDATE", "DELETE", "REPLACE", "SELECT", "WITH"]
        .iter()
        .any(|k| first_keyword.eq_ignore_ascii_case(k))
}

/// The catalog fact one change establishes, when there is one to read.
fn effect(kind: &ChangeKind, dialect: Dialect) -> Option<Effect> {
    let table = |table: &QName, exists| Effect::Table {
        table: table.clone(),
        exists,
    };
    let column = |table: &QName, column: &str, exists| Effect::Column {
        table: table.clone(),
        column: column.to_string(),
        exists,
    };
    Some(match kind {
        ChangeKind::CreateTable { table: t, .. } => table(t, true),
        ChangeKind::DropTable { table: t } => table(t, false),
        ChangeKind::AddColumn {
            table: t,
            column: c,
        } => column(t, &c.name, true),
        ChangeKind::DropColumn {
            table: t,
            column: c,
        } => column(t, c, false),
        ChangeKind::CreateIndex {
            name: Some(name),
            table,
            ..
        } => Effect::Index {
            table: Some(table.clone()),
            name: name.clone(),
            exists: true,
        },
        ChangeKind::DropIndex { name, table, .. } => Effect::Index {
            table: table.clone(),
            name: name.clone(),
            exists: false,
        },
        // MySQL `ALTER TABLE t ADD [UNIQUE] INDEX i (...)`: an index named like the key.
        ChangeKind::AddConstraint {
            table, constraint, ..
        } if dialect == Dialect::Mysql
            && matches!(
                constraint.kind,
                ConstraintKind::Index { .. } | ConstraintKind::Unique { .. }
            ) =>
        {
            Effect::Index {
                table: Some(table.clone()),
                name: QName {
                    schema: table.schema.clone(),
                    name: constraint.name.clone()?,
                },
                exists: true,
            }
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::parse::parse_file;

    fn steps(sql: &str, dialect: Dialect) -> Vec<Step> {
        parse_file(sql, dialect)
            .statements
            .iter()
            .map(|s| step(&s.changes, &sql[s.start..s.end], dialect, 15, false))
            .collect()
    }

    #[test]
    fn postgres_statements_are_atomic_unless_they_must_run_alone() {
        let s = steps(
            "CREATE INDEX CONCURRENTLY i ON t (a);\nUPDATE t SET a = 1;\nVACUUM t;",
            Dialect::Postgres,
        );
        assert!(!s[0].atomic && s[1].atomic && !s[2].atomic);
        assert_eq!(
            s[0].effects,
            [Effect::Index {
                table: Some(QName::new("t")),
                name: QName::new("i"),
                exists: true
            }]
        );
        assert!(s[1].effects.is_empty() && !s[1].idempotent);
        assert!(s[2].idempotent);
    }

    #[test]
    fn mysql_dml_is_atomic_and_ddl_is_not() {
        let s = steps(
            "UPDATE acct SET balance = balance + 1;\nALTER TABLE acct ADD COLUMN note TEXT, ADD INDEX acct_note (note(10));\nINSERT INTO acct VALUES (1);",
            Dialect::Mysql,
        );
        assert!(s[0].atomic && !s[1].atomic && s[2].atomic);
        assert_eq!(s[1].effects.len(), 2, "{:?}", s[1].effects);
    }

    #[test]
    fn temporary_objects_change_the_session_and_are_named() {
        let s = steps(
            "CREATE TEMPORARY TABLE IF NOT EXISTS `acct` (id INT);\nCREATE TEMP VIEW v AS SELECT 1;\nCREATE TABLE t (id INT);",
            Dialect::Mysql,
        );
        assert!(s[0].changes_session && s[1].changes_session && !s[2].changes_session);
        assert_eq!(s[0].temp_tables, ["acct"]);
        assert!(s[1].temp_tables.is_empty() && s[2].temp_tables.is_empty());
    }

    #[test]
    fn unknown_statements_are_neither_atomic_nor_observable() {
        let s = steps("FROB THE WIDGETS;", Dialect::Postgres);
        assert!(!s[0].atomic && s[0].effects.is_empty());
    }
}
