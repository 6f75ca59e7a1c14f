//! Flags `ADD UNIQUE` that builds its index under lock on an existing PostgreSQL table.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ConstraintKind};
use crate::analyze::registry::declare_rule;
use crate::analyze::rules::inline_on_old_table;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... ADD [CONSTRAINT ...] UNIQUE (...)` on a PostgreSQL table created
    /// by an earlier migration, unless it is `UNIQUE USING INDEX` an index built beforehand.
    ///
    /// An inline `UNIQUE` on `ADD COLUMN` is judged the same: the index is built over every row
    /// under the same lock.
    ///
    /// ## Why it breaks the running app
    /// The unique index is built while the table is locked (ACCESS EXCLUSIVE): every query on
    /// it waits. Existing duplicates make the migration fail, and the previous release may
    /// still write duplicates and start getting errors.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. `CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);` alone in its own migration.
    /// 2. In a later migration: `ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;`
    ///
    /// ## Suppress
    /// `-- migrate:allow add-unique-without-index: <reason>` above the statement.
    ADD_UNIQUE_WITHOUT_INDEX, code = "M206", name = "add-unique-without-index", kind = Lock, severity = Error,
    summary = "ADD UNIQUE builds its index under an exclusive lock; use UNIQUE USING INDEX", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    if let Some((table, column)) = inline_on_old_table(ctx, change) {
        if column.unique && !column.primary_key {
            let object = table.column(&column.name);
            ctx.report(
                change.span,
                table,
                format!("adding {object} with an inline UNIQUE builds its index over every row of {table} under an ACCESS EXCLUSIVE lock"),
            );
        }
        return;
    }
    let ChangeKind::AddConstraint {
        table, constraint, ..
    } = &change.kind
    else {
        return;
    };
    let is_unique = matches!(constraint.kind, ConstraintKind::Unique { .. });
    if !is_unique || constraint.using_index.is_some() || !ctx.postgres() || ctx.is_new_table(table)
    {
        return;
    }
    ctx.report(
        change.span,
        table,
        format!(
            "adding a UNIQUE constraint to {table} builds its index under an ACCESS EXCLUSIVE lock"
        ),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn flags_plain_unique() {
        let files = [
            "CREATE TABLE t (a int);",
            "ALTER TABLE t ADD CONSTRAINT u UNIQUE (a);",
        ];
        assert_eq!(fires_pg("add-unique-without-index", &files), [(2, 1)]);
    }

    #[test]
    fn using_index_is_fine() {
        let files = [
            "CREATE TABLE t (a int);",
            "ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX u_idx;",
        ];
        assert!(fires_pg("add-unique-without-index", &files).is_empty());
    }

    #[test]
    fn inline_form_on_add_column() {
        let base = "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE t (a int);";
        assert_eq!(
            crate::analyze::rules::testing::fires_pg(
                "add-unique-without-index",
                &[base, "ALTER TABLE t ADD COLUMN code text UNIQUE;"]
            ),
            [(2, 1)]
        );
        assert!(
            crate::analyze::rules::testing::fires_pg(
                "add-unique-without-index",
                &[base, "ALTER TABLE t ADD COLUMN code text;"]
            )
            .is_empty()
        );
        let new_table = "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN code text UNIQUE;";
        assert!(
            crate::analyze::rules::testing::fires_pg(
                "add-unique-without-index",
                &["CREATE TABLE p (id int PRIMARY KEY);", new_table]
            )
            .is_empty()
        );
    }
}
