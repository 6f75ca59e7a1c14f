//! Flags `TRUNCATE` of a table the previous release can see.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `TRUNCATE` of a table created by an earlier migration. No other linter flags plain
    /// `TRUNCATE`.
    ///
    /// ## Why it breaks the running app
    /// Every row is gone: the running app loses its data, and a rollback cannot bring it back.
    /// On PostgreSQL it also takes an ACCESS EXCLUSIVE lock.
    ///
    /// ## Example
    /// ```sql
    /// TRUNCATE audit_log;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Delete in batches with a `WHERE` clause (by age, by id range) from a job, not a migration.
    /// 2. Or, when the table is truly unused, drop it in a contract migration.
    /// 3. The breaking step, once no release uses the old shape, is a contract migration (`migrate new --contract`, applied by `migrate up --phase contract` after the rollout): docs/recipes.md.
    ///
    /// ## Suppress
    /// `-- migrate:allow truncate-table: <why losing the rows is intended>` above the statement.
    TRUNCATE_TABLE, code = "M109", name = "truncate-table", kind = Compat, severity = Error,
    summary = "TRUNCATE deletes every row the running app still uses", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::Truncate { table } = &change.kind else {
        return;
    };
    if ctx.is_new_table(table) {
        return;
    }
    ctx.report(
        change.span,
        table,
        format!("truncating table {table} deletes every row the running app still uses"),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn flags_old_tables() {
        let files = ["CREATE TABLE t (id int);", "TRUNCATE t;"];
        assert_eq!(fires_pg("truncate-table", &files), [(2, 1)]);
    }

    #[test]
    fn same_release_is_free() {
        let files = ["CREATE TABLE t (id int);\nTRUNCATE TABLE t;"];
        assert!(fires_pg("truncate-table", &files).is_empty());
    }
}
