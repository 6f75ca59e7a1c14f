//! Flags `DELETE` without `WHERE` on a table the previous release can see.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `DELETE FROM t` without a `WHERE` (or `LIMIT`) on a table created by an earlier
    /// migration.
    ///
    /// ## Why it breaks the running app
    /// Every row is deleted, usually by mistake; on a large table it also holds row locks and
    /// writes the whole table to the WAL in one transaction.
    ///
    /// ## Example
    /// ```sql
    /// DELETE FROM sessions;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Add the `WHERE` clause you meant.
    /// 2. For large cleanups, delete in batches from a background job.
    ///
    /// ## Suppress
    /// `-- migrate:allow delete-without-where: <why every row must go>` above the statement.
    DELETE_WITHOUT_WHERE, code = "M110", name = "delete-without-where", kind = Statement, severity = Error,
    summary = "DELETE without WHERE deletes every row", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::Delete {
        table,
        restricted: false,
        ..
    } = &change.kind
    else {
        return;
    };
    if ctx.is_new_table(table) {
        return;
    }
    ctx.report(
        change.span,
        table,
        format!("deleting from {table} without WHERE removes every row the running app uses"),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn flags_unrestricted_deletes() {
        let files = ["CREATE TABLE t (id int);", "DELETE FROM t;"];
        assert_eq!(fires_pg("delete-without-where", &files), [(2, 1)]);
    }

    #[test]
    fn where_is_fine() {
        let files = ["CREATE TABLE t (id int);", "DELETE FROM t WHERE id < 10;"];
        assert!(fires_pg("delete-without-where", &files).is_empty());
    }
}
