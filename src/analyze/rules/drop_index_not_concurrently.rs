//! Warns about `DROP INDEX` without `CONCURRENTLY` on PostgreSQL.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Warns about PostgreSQL `DROP INDEX` without `CONCURRENTLY` on an index of an existing
    /// table. Indexes and tables of the same release are fine.
    ///
    /// ## Why it breaks the running app
    /// `DROP INDEX` takes an ACCESS EXCLUSIVE lock on the table. The drop itself is quick, but
    /// waiting for the lock behind a long query blocks every later query on the table.
    ///
    /// ## Example
    /// ```sql
    /// DROP INDEX orders_customer_id;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Use `DROP INDEX CONCURRENTLY IF EXISTS ...` alone in its own migration file.
    ///
    /// ## Suppress
    /// `-- migrate:allow drop-index-not-concurrently: <reason>` above the statement.
    DROP_INDEX_NOT_CONCURRENTLY, code = "M203", name = "drop-index-not-concurrently", kind = Lock,
    severity = Warning,
    summary = "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::DropIndex {
        name,
        table,
        concurrently: false,
    } = &change.kind
    else {
        return;
    };
    if !ctx.postgres() {
        return;
    }
    let new = match ctx.catalog.index(name, table.as_ref()) {
        Some(index) => ctx.is_new_index(index),
        // Unknown to the history: new only on a database that held nothing (not there).
        None => ctx.is_new_in(None, name.schema.as_deref()),
    };
    if new {
        return;
    }
    ctx.report(
        change.span,
        name,
        format!(
            "dropping index {name} without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on its table"
        ),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn warns_on_old_indexes() {
        let files = [
            "CREATE TABLE t (a int);\nCREATE INDEX i ON t (a);",
            "DROP INDEX i;",
        ];
        assert_eq!(fires_pg("drop-index-not-concurrently", &files), [(2, 1)]);
    }

    #[test]
    fn concurrently_and_new_indexes_are_fine() {
        let files = [
            "CREATE TABLE t (a int);\nCREATE INDEX i ON t (a);",
            "DROP INDEX CONCURRENTLY i;",
        ];
        assert!(fires_pg("drop-index-not-concurrently", &files).is_empty());
        let files = [
            "CREATE TABLE t (a int);",
            "CREATE INDEX CONCURRENTLY i ON t (a);\nDROP INDEX i;",
        ];
        assert!(fires_pg("drop-index-not-concurrently", &files).is_empty());
    }
}
