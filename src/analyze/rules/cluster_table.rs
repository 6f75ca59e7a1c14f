//! Flags `CLUSTER` in PostgreSQL migrations.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags PostgreSQL `CLUSTER` in a migration.
    ///
    /// ## Why it breaks the running app
    /// `CLUSTER` rewrites the table in index order under an ACCESS EXCLUSIVE lock: reads and
    /// writes wait until it ends.
    ///
    /// ## Example
    /// ```sql
    /// CLUSTER orders USING orders_created_at;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Do not cluster during a deploy; run it (or pg_repack) in a maintenance window.
    ///
    /// ## Suppress
    /// `-- migrate:allow cluster-table: <reason>` above the statement.
    CLUSTER_TABLE, code = "M212", name = "cluster-table", kind = Lock, severity = Error,
    summary = "CLUSTER rewrites the table under an exclusive lock", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    // A database that held nothing before the run has no traffic to block.
    if change.kind != ChangeKind::Cluster || !ctx.postgres() || ctx.fresh {
        return;
    }
    ctx.report(
        change.span,
        "",
        "CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock",
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn flags_cluster() {
        assert_eq!(fires_pg("cluster-table", &["CLUSTER t USING i;"]), [(1, 1)]);
    }

    #[test]
    fn other_statements_are_fine() {
        assert!(fires_pg("cluster-table", &["ANALYZE t;"]).is_empty());
    }
}
