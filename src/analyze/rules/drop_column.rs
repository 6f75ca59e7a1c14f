//! Flags `ALTER TABLE ... DROP COLUMN` on a column the previous release can see.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;
use crate::dialect::Dialect;

declare_rule! {
    /// ## What it does
    /// Flags dropping a column that an earlier migration created (or that exists outside the
    /// migrations). Dropping a column added in the same release is fine. In every dialect,
    /// including SQLite (3.35+ `DROP COLUMN`) and MySQL.
    ///
    /// ## Why it breaks the running app
    /// The previous release still selects, inserts and updates the column: those queries fail
    /// (`column does not exist`) from the moment the migration commits until the new release
    /// has fully rolled out, and a rollback to it is impossible. ORMs that list every column
    /// break even on tables the new code barely touches.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users DROP COLUMN legacy_name;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Release an app version that neither reads nor writes the column (and tell the ORM to ignore it).
    /// 2. Once no running version uses it, drop it in a later (contract) migration.
    ///
    /// ## Suppress
    /// `-- migrate:allow drop-column: <why no running version uses it>` above the statement.
    DROP_COLUMN, code = "M102", name = "drop-column", severity = Error,
    summary = "dropping a column breaks the previous release, which still reads it", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::DropColumn { table, column } = &change.kind else {
        return;
    };
    if ctx.is_new_column(table, column) {
        return;
    }
    let note = if ctx.dialect == Dialect::Sqlite {
        " (and SQLite before 3.35 cannot drop columns at all)"
    } else {
        ""
    };
    ctx.report(
        change.span,
        table.column(column),
        format!(
            "dropping column {} breaks the previous release, which still reads it{note}",
            table.column(column)
        ),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::{Dialect, fires, fires_pg};

    #[test]
    fn flags_old_columns() {
        let files = [
            "CREATE TABLE t (a int, b int);",
            "ALTER TABLE t DROP COLUMN b;",
        ];
        assert_eq!(fires_pg("drop-column", &files), [(2, 1)]);
        assert_eq!(fires("drop-column", Dialect::Sqlite, &files), [(2, 1)]);
    }

    #[test]
    fn same_release_columns_are_free() {
        let files = [
            "CREATE TABLE t (a int);",
            "ALTER TABLE t ADD COLUMN b int;\nALTER TABLE t DROP COLUMN b;",
        ];
        assert!(fires_pg("drop-column", &files).is_empty());
    }
}
