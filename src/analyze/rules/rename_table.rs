//! Flags renaming a table the previous release can see.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;
use crate::analyze::rules::check_rename;
use crate::analyze::rules::table_rebuild::is_rebuild_rename;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... RENAME TO` and MySQL `RENAME TABLE` of a table created by an
    /// earlier migration. Renaming a table created in the same release is free; renaming a new
    /// table into the place of a dropped one is a rebuild (`table-rebuild`).
    ///
    /// ## Why it breaks the running app
    /// The previous release still queries the old name and fails with "relation does not
    /// exist" until every instance runs the new code; a rollback cannot work at all.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE customers RENAME TO clients;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Rename the table and create a view with the old name over it (`CREATE VIEW customers AS SELECT * FROM clients`) in one migration, so both names work (PostgreSQL: simple views are updatable).
    /// 2. Release an app version that uses the new name.
    /// 3. Drop the compatibility view in a later (contract) migration.
    /// 4. Every file and app release, for PostgreSQL and MySQL: docs/recipes.md, “Rename a table”.
    ///
    /// ## Suppress
    /// `-- migrate:allow rename-table: <reason>` above the statement.
    RENAME_TABLE, code = "M111", name = "rename-table", kind = Compat, severity = Error,
    summary = "renaming a table breaks the previous release, which uses the old name", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::RenameTable { from, to } = &change.kind else {
        return;
    };
    if is_rebuild_rename(ctx, from) {
        return;
    }
    // PostgreSQL: a view with the old name made in the same transaction keeps the old app's
    // reads and writes working (a simple view is updatable), as the recipe says.
    if ctx.postgres()
        && !ctx.file.no_transaction_directive
        && ctx.later_in_file().any(|c| {
            matches!(c, ChangeKind::CreateView { view, materialized: false, .. } if view == from)
        })
    {
        return;
    }
    let is_new = ctx.is_new_table(from);
    check_rename(
        ctx,
        change.span,
        "table",
        &from.to_string(),
        &to.to_string(),
        is_new,
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::{Dialect, fires, fires_pg};

    #[test]
    fn flags_old_tables() {
        let files = ["CREATE TABLE a (id int);", "ALTER TABLE a RENAME TO b;"];
        assert_eq!(fires_pg("rename-table", &files), [(2, 1)]);
        let files = ["CREATE TABLE a (id int);", "RENAME TABLE a TO b;"];
        assert_eq!(fires("rename-table", Dialect::Mysql, &files), [(2, 1)]);
    }

    #[test]
    fn a_view_with_the_old_name_in_the_same_transaction_keeps_it_working() {
        let base = "CREATE TABLE a (id int);";
        let view = "ALTER TABLE a RENAME TO b;\nCREATE VIEW a AS SELECT * FROM b;";
        assert!(fires_pg("rename-table", &[base, view]).is_empty());
        // In a later file the old app sees the gap; MySQL commits the rename alone.
        let later = [
            base,
            "ALTER TABLE a RENAME TO b;",
            "CREATE VIEW a AS SELECT * FROM b;",
        ];
        assert_eq!(fires_pg("rename-table", &later), [(2, 1)]);
        let mysql = [
            base,
            "RENAME TABLE a TO b;\nCREATE VIEW a AS SELECT * FROM b;",
        ];
        assert_eq!(fires("rename-table", Dialect::Mysql, &mysql), [(2, 1)]);
    }

    #[test]
    fn same_release_is_free() {
        let files = ["CREATE TABLE a (id int);\nALTER TABLE a RENAME TO b;"];
        assert!(fires_pg("rename-table", &files).is_empty());
    }
}
