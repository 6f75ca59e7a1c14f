//! Flags `CREATE INDEX` without `CONCURRENTLY` on an existing PostgreSQL table.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;
use crate::analyze::rules::{PARTITIONED_INDEX_RECIPE, partitioned};

declare_rule! {
    /// ## What it does
    /// Flags `CREATE [UNIQUE] INDEX` without `CONCURRENTLY` on a PostgreSQL table created by
    /// an earlier migration (or outside them). On a table created in the same release a plain
    /// `CREATE INDEX` is fine: nobody else uses it yet. On a partitioned table (the catalog
    /// knows `PARTITION BY`), where PostgreSQL refuses `CONCURRENTLY`, the help is the
    /// partition-by-partition recipe instead; `CREATE INDEX ... ON ONLY parent` builds nothing
    /// and is fine.
    ///
    /// ## Why it breaks the running app
    /// A plain index build holds a SHARE lock for its whole duration: every `INSERT`, `UPDATE`
    /// and `DELETE` on the table waits, for minutes on a large table, and requests pile up
    /// until the app times out.
    ///
    /// ## Example
    /// ```sql
    /// CREATE INDEX orders_customer_id ON orders (customer_id);
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Write `CREATE INDEX CONCURRENTLY IF NOT EXISTS ...` alone in its own migration file (it cannot run in a transaction; migrate detects that).
    /// 2. If the build fails it leaves an INVALID index: drop it (`DROP INDEX CONCURRENTLY`) and run again.
    ///
    /// ## Suppress
    /// `-- migrate:allow create-index-not-concurrently: <why the table is small or idle>` above the statement.
    CREATE_INDEX_NOT_CONCURRENTLY, code = "M201", name = "create-index-not-concurrently", kind = Lock,
    severity = Error,
    summary = "CREATE INDEX without CONCURRENTLY blocks writes while it builds", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::CreateIndex {
        table,
        concurrently: false,
        unique,
        only,
        ..
    } = &change.kind
    else {
        return;
    };
    if !ctx.postgres() || ctx.is_new_table(table) || *only {
        return;
    }
    let kind = if *unique { "unique index" } else { "index" };
    if partitioned(ctx, table) {
        ctx.report_with_help(
            change.span,
            table,
            format!("creating an {kind} on partitioned table {table} builds it on every partition while writes to all of them wait (PostgreSQL refuses CONCURRENTLY on a partitioned table)"),
            PARTITIONED_INDEX_RECIPE,
        );
        return;
    }
    ctx.report(
        change.span,
        table,
        format!("creating an {kind} on {table} without CONCURRENTLY blocks writes to it while the index builds"),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::{Dialect, fires, fires_pg};

    #[test]
    fn flags_existing_tables() {
        let files = ["CREATE TABLE t (a int);", "CREATE INDEX i ON t (a);"];
        assert_eq!(fires_pg("create-index-not-concurrently", &files), [(2, 1)]);
    }

    #[test]
    fn concurrently_new_tables_and_mysql_are_fine() {
        let files = [
            "CREATE TABLE t (a int);",
            "CREATE INDEX CONCURRENTLY i ON t (a);",
        ];
        assert!(fires_pg("create-index-not-concurrently", &files).is_empty());
        let files = ["CREATE TABLE t (a int);\nCREATE INDEX i ON t (a);"];
        assert!(fires_pg("create-index-not-concurrently", &files).is_empty());
        let files = ["CREATE TABLE t (a int);", "CREATE INDEX i ON t (a);"];
        assert!(fires("create-index-not-concurrently", Dialect::Mysql, &files).is_empty());
    }
}
