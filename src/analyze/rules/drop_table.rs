//! Flags `DROP TABLE` of a table the previous release can see.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;
use crate::analyze::rules::table_rebuild::is_rebuild_drop;

declare_rule! {
    /// ## What it does
    /// Flags `DROP TABLE` of a table created by an earlier migration (or outside the
    /// migrations). A table created in the same release may be dropped freely. A drop that is
    /// part of a table rebuild (the table is replaced by renaming another one into its place)
    /// is reported by `table-rebuild` instead.
    ///
    /// ## Why it breaks the running app
    /// The previous release still reads and writes the table: every query on it fails as soon
    /// as the migration commits, and its rows are gone for a rollback too.
    ///
    /// ## Example
    /// ```sql
    /// DROP TABLE sessions;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Release an app version that no longer reads or writes the table.
    /// 2. Once no running version uses it, drop it in a later (contract) migration.
    /// 3. Keep a backup if the data may be needed again.
    /// 4. Every file and app release, for PostgreSQL and MySQL: docs/recipes.md, “Rename a table”.
    ///
    /// ## Suppress
    /// `-- migrate:allow drop-table: <why no running version uses it>` above the statement.
    DROP_TABLE, code = "M101", name = "drop-table", kind = Compat, severity = Error,
    summary = "dropping a table breaks the previous release, which still uses it", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::DropTable { table } = &change.kind else {
        return;
    };
    let known = ctx.catalog.table(table);
    // Dropped (or renamed away) before for certain: the old app has no such table.
    if ctx.catalog.dropped_table(table) {
        return;
    }
    if ctx.is_new_table(table)
        || is_rebuild_drop(ctx, table)
        || known.is_some_and(|t| t.renamed_in == Some(ctx.release))
    {
        return;
    }
    ctx.report(
        change.span,
        table,
        format!(
            "dropping table {table} breaks the previous release, which still reads and writes it"
        ),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn flags_tables_of_earlier_releases() {
        let files = ["CREATE TABLE t (id int);", "DROP TABLE t;"];
        assert_eq!(fires_pg("drop-table", &files), [(2, 1)]);
        assert_eq!(
            fires_pg("drop-table", &["DROP TABLE IF EXISTS unknown;"]),
            [(1, 1)]
        );
    }

    #[test]
    fn same_release_tables_are_free() {
        let files = ["CREATE TABLE t (id int);\nDROP TABLE t;"];
        assert!(fires_pg("drop-table", &files).is_empty());
    }
}
