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
    fn same_release_is_free() {
        let files = ["CREATE TABLE a (id int);\nALTER TABLE a RENAME TO b;"];
        assert!(fires_pg("rename-table", &files).is_empty());
    }
}
