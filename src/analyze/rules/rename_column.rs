//! Flags renaming a column the previous release can see, including MySQL `CHANGE old new`.

use crate::analyze::compat::{DiffKind, Difference};
use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;
use crate::analyze::rules::check_rename;

declare_rule! {
    /// ## What it does
    /// Flags `RENAME COLUMN` (on tables and views) and MySQL `CHANGE old_name new_name type`
    /// of a column created by an earlier migration, when the previous release can see the
    /// result: renaming a column back, or renaming a replacement into the name of a column the
    /// same transaction dropped (SQLite's add, copy, drop, rename swap), leaves the old app's
    /// column where it was.
    ///
    /// ## Why it breaks the running app
    /// The previous release reads and writes the old column name: every such query fails until
    /// all instances run the new code, and a rollback is impossible.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users RENAME COLUMN name TO full_name;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Add the new column (nullable) and keep both in sync with a trigger.
    /// 2. Backfill the new column in batches.
    /// 3. Release an app version that reads the new column and writes both.
    /// 4. Release one that uses only the new column.
    /// 5. Drop the old column and the trigger in a later (contract) migration.
    /// 6. Every file and app release, for PostgreSQL and MySQL: docs/recipes.md, “Rename a column”.
    ///
    /// ## Suppress
    /// `-- migrate:allow rename-column: <reason>` above the statement.
    RENAME_COLUMN, code = "M112", name = "rename-column", kind = Compat, severity = Error,
    summary = "renaming a column breaks the previous release, which uses the old name", check; compat
}

/// Columns of tables: judged on the states the old app sees.
pub(crate) fn compat(ctx: &mut Context, d: &Difference) {
    let (
        Some(cause),
        DiffKind::Gone {
            renamed_to: Some(to),
        },
    ) = (ctx.cause, &d.kind)
    else {
        return;
    };
    check_rename(
        ctx,
        cause.span,
        "column",
        &d.table.column(&d.column),
        to,
        false,
    );
}

/// Columns of views.
pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let (table, from, to) = match &change.kind {
        ChangeKind::RenameColumn { table, from, to } => (table, from, to),
        ChangeKind::RedefineColumn {
            table,
            from,
            column,
        } if *from != column.name => (table, from, &column.name),
        _ => return,
    };
    let Some(view) = ctx.catalog.view(table) else {
        return;
    };
    let new = ctx.is_new(Some(view.release));
    check_rename(ctx, change.span, "column", &table.column(from), to, new);
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::{Dialect, fires, fires_pg};

    #[test]
    fn flags_old_columns() {
        let files = [
            "CREATE TABLE t (a int);",
            "ALTER TABLE t RENAME COLUMN a TO b;",
        ];
        assert_eq!(fires_pg("rename-column", &files), [(2, 1)]);
        let files = ["CREATE TABLE t (a int);", "ALTER TABLE t CHANGE a b int;"];
        assert_eq!(fires("rename-column", Dialect::Mysql, &files), [(2, 1)]);
    }

    #[test]
    fn same_name_change_and_new_columns_are_free() {
        let files = ["CREATE TABLE t (a int);", "ALTER TABLE t CHANGE a a int;"];
        assert!(fires("rename-column", Dialect::Mysql, &files).is_empty());
        let files = ["CREATE TABLE t (a int);\nALTER TABLE t RENAME COLUMN a TO b;"];
        assert!(fires_pg("rename-column", &files).is_empty());
    }

    #[test]
    fn a_table_renamed_after_its_column_keeps_the_cause_and_the_old_names() {
        let files = [
            "CREATE TABLE post_tag (id int, tag_id int);",
            "ALTER TABLE post_tag RENAME tag_id TO community_tag_id;\nALTER TABLE post_tag RENAME TO post_community_tag;",
        ];
        assert_eq!(fires_pg("rename-column", &files), [(2, 1)]);
        assert_eq!(fires_pg("rename-table", &files), [(2, 2)]);
    }

    #[test]
    fn renamed_back_or_swapped_in_is_the_old_column() {
        let files = [
            "CREATE TABLE t (a int);",
            "ALTER TABLE t RENAME COLUMN a TO b;\nALTER TABLE t RENAME COLUMN b TO a;",
        ];
        assert!(fires_pg("rename-column", &files).is_empty());
        assert_eq!(fires("rename-column", Dialect::Mysql, &files), [(2, 1)]);
        let swap = [
            "CREATE TABLE t (a int);",
            "ALTER TABLE t ADD COLUMN a_new int;\nUPDATE t SET a_new = a;\nALTER TABLE t DROP COLUMN a;\nALTER TABLE t RENAME COLUMN a_new TO a;",
        ];
        assert!(fires("rename-column", Dialect::Sqlite, &swap).is_empty());
        assert!(fires("drop-column", Dialect::Sqlite, &swap).is_empty());
        assert!(fires("drop-and-add-column", Dialect::Sqlite, &swap).is_empty());
    }
}
