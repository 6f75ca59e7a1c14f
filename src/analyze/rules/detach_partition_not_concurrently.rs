//! Flags `DETACH PARTITION` without `CONCURRENTLY` on PostgreSQL 14+.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... DETACH PARTITION` without `CONCURRENTLY` on PostgreSQL 14 or later
    /// (`pg_version`), where the concurrent form exists. `DETACH PARTITION ... FINALIZE`, which
    /// completes an interrupted concurrent detach, is not flagged: it holds only SHARE UPDATE
    /// EXCLUSIVE on the parent (reads and writes go on) and ACCESS EXCLUSIVE on the partition
    /// being detached, which the parent's queries no longer read.
    ///
    /// ## Why it breaks the running app
    /// A plain detach takes an ACCESS EXCLUSIVE lock on the parent table: every query on the
    /// partitioned table waits.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE events DETACH PARTITION events_2023;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. `ALTER TABLE events DETACH PARTITION events_2023 CONCURRENTLY;` alone in its own migration file.
    /// 2. If it is interrupted, finish it with `... DETACH PARTITION ... FINALIZE`.
    ///
    /// ## Suppress
    /// `-- migrate:allow detach-partition-not-concurrently: <reason>` above the statement.
    DETACH_PARTITION_NOT_CONCURRENTLY, code = "M215", name = "detach-partition-not-concurrently", kind = Lock,
    severity = Error,
    summary = "DETACH PARTITION without CONCURRENTLY locks the parent table", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::DetachPartition {
        table,
        concurrently: false,
        finalize: false,
    } = &change.kind
    else {
        return;
    };
    if !ctx.postgres() || ctx.pg_version < 14 || ctx.is_new_table(table) {
        return;
    }
    ctx.report(
        change.span,
        table,
        format!("detaching a partition of {table} without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on it"),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn finalize_is_not_a_plain_detach() {
        let files = ["ALTER TABLE e DETACH PARTITION e_2023 FINALIZE;"];
        assert!(fires_pg("detach-partition-not-concurrently", &files).is_empty());
    }

    #[test]
    fn flags_plain_detach() {
        let files = ["ALTER TABLE e DETACH PARTITION e_2023;"];
        assert_eq!(
            fires_pg("detach-partition-not-concurrently", &files),
            [(1, 1)]
        );
    }

    #[test]
    fn concurrently_is_fine() {
        let files = ["ALTER TABLE e DETACH PARTITION e_2023 CONCURRENTLY;"];
        assert!(fires_pg("detach-partition-not-concurrently", &files).is_empty());
    }
}
