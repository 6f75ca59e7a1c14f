//! Flags `REINDEX` without `CONCURRENTLY` on PostgreSQL.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags PostgreSQL `REINDEX` without `CONCURRENTLY` (available since PostgreSQL 12),
    /// except of a table, or an index of a table, made in the same release.
    ///
    /// ## Why it breaks the running app
    /// A plain `REINDEX` locks out writes to the table, and reads that would use the index,
    /// for the whole rebuild.
    ///
    /// ## Example
    /// ```sql
    /// REINDEX INDEX orders_customer_id;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Use `REINDEX INDEX CONCURRENTLY ...` (PostgreSQL 12+) alone in its own migration file.
    /// 2. Before 12: `CREATE INDEX CONCURRENTLY` a twin, then `DROP INDEX CONCURRENTLY` the old one.
    ///
    /// ## Suppress
    /// `-- migrate:allow reindex-not-concurrently: <reason>` above the statement.
    REINDEX_NOT_CONCURRENTLY, code = "M202", name = "reindex-not-concurrently", kind = Lock, severity = Error,
    summary = "REINDEX without CONCURRENTLY blocks writes while it rebuilds", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::Reindex {
        target,
        kind,
        name,
        concurrently: false,
    } = &change.kind
    else {
        return;
    };
    if !ctx.postgres() {
        return;
    }
    // A table (or an index of one) the old app has never seen has no traffic to block.
    let new = name.as_ref().is_some_and(|name| match kind.as_str() {
        "TABLE" => ctx.is_new_table(name),
        "INDEX" => ctx
            .catalog
            .index(name, None)
            .is_some_and(|i| ctx.is_new_index(i)),
        _ => false,
    });
    if new {
        return;
    }
    ctx.report(
        change.span,
        target,
        format!("REINDEX of {target} without CONCURRENTLY blocks writes while it rebuilds"),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn flags_plain_reindex() {
        assert_eq!(
            fires_pg("reindex-not-concurrently", &["REINDEX INDEX i;"]),
            [(1, 1)]
        );
    }

    #[test]
    fn new_tables_and_their_indexes_are_fine() {
        let made = "CREATE TABLE t (a int);\nCREATE INDEX i ON t (a);";
        assert!(
            fires_pg(
                "reindex-not-concurrently",
                &[&format!("{made}\nREINDEX TABLE t;\nREINDEX INDEX i;")]
            )
            .is_empty()
        );
        assert_eq!(
            fires_pg(
                "reindex-not-concurrently",
                &[
                    made,
                    "REINDEX TABLE t;\nREINDEX INDEX i;\nREINDEX SCHEMA public;"
                ]
            ),
            [(2, 1), (2, 2), (2, 3)]
        );
    }

    #[test]
    fn concurrently_is_fine() {
        assert!(
            fires_pg(
                "reindex-not-concurrently",
                &["REINDEX INDEX CONCURRENTLY i;"]
            )
            .is_empty()
        );
    }
}
