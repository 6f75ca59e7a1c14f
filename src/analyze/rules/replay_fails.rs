//! Flags statements the replay of the history knows will fail.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, QName};
use crate::analyze::registry::declare_rule;
use crate::analyze::rules::{PARTITIONED_INDEX_RECIPE, partitioned};
use crate::dialect::Dialect;

declare_rule! {
    /// ## What it does
    /// Flags a statement that the replay of the history shows will fail when it runs:
    /// creating a table or an index that an earlier migration created (without
    /// `IF NOT EXISTS`), adding a
    /// column that exists, altering or dropping a column that does not exist, or touching a
    /// table that an earlier migration dropped or renamed away. Only where the replay is
    /// certain: the table was made by a migration with its column list, no opaque DDL (a `DO`
    /// block, dynamic SQL, a `CALL`) and no statement `check` could not read has run since, and the
    /// statement does not say `IF [NOT] EXISTS`. Also `CREATE INDEX CONCURRENTLY` on a table
    /// the history made partitioned (`PARTITION BY`), which PostgreSQL refuses.
    ///
    /// ## Why it breaks the running app
    /// The deploy step fails. On PostgreSQL and SQLite the file rolls back and the deploy stops;
    /// on MySQL and MariaDB every earlier DDL statement of the file has already committed, so
    /// the database is left half-migrated and the file cannot simply be run again.
    ///
    /// ## Example
    /// ```sql
    /// -- an earlier migration
    /// CREATE TABLE users (id bigint PRIMARY KEY, email text);
    /// ```
    ///
    /// ```sql
    /// -- this migration
    /// ALTER TABLE users ADD COLUMN email text;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Fix the statement against the schema the history really makes (`migrate check` replays it).
    /// 2. If the object may or may not exist on some databases (made by hand), say so with `IF [NOT] EXISTS`.
    ///
    /// ## Suppress
    /// `-- migrate:allow replay-fails: <why the database differs from the history>` above the statement.
    REPLAY_FAILS, code = "M130", name = "replay-fails", kind = Statement, severity = Error,
    summary = "the replayed history shows the statement will fail when it runs", check
}

/// The existing column a change needs, with its table.
fn needs_column(kind: &ChangeKind) -> Option<(&QName, &str)> {
    match kind {
        ChangeKind::DropColumn { table, column }
        | ChangeKind::AlterColumnType { table, column, .. }
        | ChangeKind::SetNotNull { table, column }
        | ChangeKind::DropNotNull { table, column }
        | ChangeKind::SetDefault { table, column, .. }
        | ChangeKind::DropDefault { table, column } => Some((table, column)),
        ChangeKind::RenameColumn { table, from, .. }
        | ChangeKind::RedefineColumn { table, from, .. } => Some((table, from)),
        _ => None,
    }
}

/// The table a change needs to exist.
fn needs_table(kind: &ChangeKind) -> Option<&QName> {
    match kind {
        ChangeKind::AddColumn { table, .. }
        | ChangeKind::DropTable { table }
        | ChangeKind::AddConstraint { table, .. }
        | ChangeKind::CreateIndex { table, .. } => Some(table),
        ChangeKind::RenameTable { from, .. } => Some(from),
        other => needs_column(other).map(|(t, _)| t),
    }
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    if let ChangeKind::CreateIndex {
        table,
        concurrently: true,
        ..
    } = &change.kind
        && partitioned(ctx, table)
    {
        ctx.report_with_help(
            change.span,
            table,
            format!("CREATE INDEX CONCURRENTLY on partitioned table {table} fails: PostgreSQL refuses it"),
            PARTITIONED_INDEX_RECIPE,
        );
        return;
    }
    if ctx.guarded {
        return;
    }
    let problem = match &change.kind {
        ChangeKind::CreateTable {
            table,
            if_not_exists: false,
            ..
        } if ctx
            .catalog
            .table(table)
            .is_some_and(|t| ctx.catalog.certain(t)) =>
        {
            Some((
                table.to_string(),
                format!("table {table} already exists: an earlier migration created it"),
            ))
        }
        ChangeKind::CreateIndex {
            name: Some(name),
            table,
            ..
        } if ctx.catalog.certain_index(name, table) => Some((
            name.to_string(),
            format!("index {name} already exists: an earlier migration created it"),
        )),
        ChangeKind::AddColumn { table, column }
            if ctx
                .catalog
                .table(table)
                .is_some_and(|t| ctx.catalog.certain(t) && t.column(&column.name).is_some()) =>
        {
            let object = table.column(&column.name);
            Some((object.clone(), format!("column {object} already exists")))
        }
        kind => {
            if let Some(table) = needs_table(kind).filter(|t| ctx.catalog.dropped_table(t)) {
                Some((
                    table.to_string(),
                    format!(
                        "table {table} does not exist: an earlier migration dropped or renamed it"
                    ),
                ))
            } else if let Some((table, column)) = needs_column(kind).filter(|(t, c)| {
                ctx.catalog
                    .table(t)
                    .is_some_and(|t| ctx.catalog.certain(t) && t.any_column(c).is_none())
            }) {
                let object = table.column(column);
                Some((
                    object.clone(),
                    format!("column {object} does not exist in the schema the history makes"),
                ))
            } else {
                None
            }
        }
    };
    let Some((object, what)) = problem else {
        return;
    };
    let tail = if ctx.dialect == Dialect::Mysql {
        ": the statement fails, and every DDL statement before it in the file stays applied"
    } else {
        ": the statement fails and the migration rolls back"
    };
    ctx.report(change.span, object, format!("{what}{tail}"));
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::{Dialect, fires, fires_pg};

    /// PostgreSQL folds A-Z only: `Ärger` and `"ärger"` are two tables (the server takes
    /// both), `Ärger` and `"Ärger"` one (it refuses the second).
    #[test]
    fn postgres_folds_ascii_letters_only() {
        let two = [
            "CREATE TABLE Ärger (a int);",
            "CREATE TABLE \"ärger\" (a int);",
        ];
        assert!(fires_pg("replay-fails", &two).is_empty());
        let one = [
            "CREATE TABLE Ärger (a int);",
            "CREATE TABLE \"Ärger\" (a int);",
        ];
        assert_eq!(fires_pg("replay-fails", &one), [(2, 1)]);
    }

    const RULE: &str = "replay-fails";

    #[test]
    fn flags_what_the_replay_knows_fails() {
        let base = "CREATE TABLE users (id int, email text);\nCREATE INDEX users_email ON users (email);\nCREATE TABLE gone (id int);\nDROP TABLE gone;";
        let cases = [
            "CREATE TABLE users (id int);",
            "ALTER TABLE users ADD COLUMN email text;",
            "ALTER TABLE users DROP COLUMN nickname;",
            "ALTER TABLE users ALTER COLUMN nickname SET NOT NULL;",
            "ALTER TABLE gone ADD COLUMN x int;",
            "CREATE INDEX users_email ON users (email);",
            "CREATE UNIQUE INDEX CONCURRENTLY users_email ON users (id);",
        ];
        for case in cases {
            assert_eq!(fires_pg(RULE, &[base, case]), [(2, 1)], "{case}");
        }
        assert_eq!(
            fires(
                RULE,
                Dialect::Mysql,
                &[base, "ALTER TABLE users ADD COLUMN email text;"]
            ),
            [(2, 1)]
        );
        for redefine in [
            "ALTER TABLE users MODIFY COLUMN nope int;",
            "ALTER TABLE users CHANGE COLUMN nope n2 int;",
        ] {
            assert_eq!(
                fires(RULE, Dialect::Mysql, &[base, redefine]),
                [(2, 1)],
                "{redefine}"
            );
        }
        let existing = "ALTER TABLE users MODIFY COLUMN email varchar(9);";
        assert!(fires(RULE, Dialect::Mysql, &[base, existing]).is_empty());
    }

    #[test]
    fn concurrently_on_a_partitioned_table_fails() {
        let base = "CREATE TABLE e (id int, at int) PARTITION BY RANGE (at);\nCREATE TABLE e1 PARTITION OF e FOR VALUES FROM (0) TO (10);";
        assert_eq!(
            fires_pg(RULE, &[base, "CREATE INDEX CONCURRENTLY e_id ON e (id);"]),
            [(2, 1)]
        );
        assert!(fires_pg(RULE, &[base, "CREATE INDEX CONCURRENTLY e1_id ON e1 (id);"]).is_empty());
        let plain = "CREATE INDEX e_id ON e (id);";
        assert_eq!(
            fires_pg("create-index-not-concurrently", &[base, plain]),
            [(2, 1)]
        );
        let only = "CREATE INDEX e_id ON ONLY e (id);";
        assert!(fires_pg("create-index-not-concurrently", &[base, only]).is_empty());
    }

    #[test]
    fn guarded_unknown_or_opaque_is_not_certain() {
        let base = "CREATE TABLE users (id int, email text);";
        let fine = [
            "CREATE TABLE IF NOT EXISTS users (id int);",
            "ALTER TABLE users ADD COLUMN IF NOT EXISTS email text;",
            "ALTER TABLE users DROP COLUMN IF EXISTS nickname;",
            "ALTER TABLE legacy DROP COLUMN nickname;",
            "ALTER TABLE users ADD COLUMN nickname text;",
        ];
        for case in fine {
            assert!(fires_pg(RULE, &[base, case]).is_empty(), "{case}");
        }
        let opaque = "DO $$ BEGIN EXECUTE 'ALTER TABLE users ADD COLUMN nickname text'; END $$;";
        let after = "ALTER TABLE users DROP COLUMN nickname;";
        assert!(fires_pg(RULE, &[base, opaque, after]).is_empty());
        // An index its table's changes may have dropped or renamed unseen, one dropped, one
        // on another MySQL table: not certain to exist.
        let indexed =
            "CREATE TABLE users (id int, email text, nick text);\nCREATE INDEX i ON users (email);";
        for between in [
            "ALTER TABLE users DROP COLUMN email;",
            "ALTER TABLE users DROP CONSTRAINT users_pkey;",
            "ALTER TABLE users ADD CONSTRAINT u UNIQUE USING INDEX i;",
            "DROP INDEX i;",
            "DO $$ BEGIN EXECUTE 'DROP INDEX i'; END $$;",
            "CALL drop_index('users', 'i');",
        ] {
            let again = "CREATE INDEX i ON users (nick);";
            assert!(
                fires_pg(RULE, &[indexed, between, again]).is_empty(),
                "{between}"
            );
        }
        assert!(
            fires_pg(
                RULE,
                &[indexed, "CREATE INDEX IF NOT EXISTS i ON users (nick);"]
            )
            .is_empty()
        );
        let call = "CALL PROC_DROP_INDEX('users', 'i');";
        let again = "CREATE INDEX i ON users (nick);";
        assert!(fires(RULE, Dialect::Mysql, &[indexed, call, again]).is_empty());
        let other = "CREATE TABLE posts (id int);\nCREATE INDEX i ON posts (id);";
        assert!(fires(RULE, Dialect::Mysql, &[indexed, other]).is_empty());
        assert_eq!(
            fires(
                RULE,
                Dialect::Mysql,
                &[indexed, "CREATE INDEX i ON users (nick);"]
            ),
            [(2, 1)]
        );
        let ctas = "CREATE TABLE copy AS SELECT * FROM users;";
        assert!(fires_pg(RULE, &[base, ctas, "ALTER TABLE copy DROP COLUMN email;"]).is_empty());
    }
}
