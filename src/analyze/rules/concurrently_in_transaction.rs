//! Flags a non-transactional statement inside an explicit `BEGIN` block of the file.

use crate::analyze::context::Context;
use crate::analyze::ir::Change;
use crate::analyze::non_transactional;
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `CREATE INDEX CONCURRENTLY` (and every other statement PostgreSQL refuses inside a
    /// transaction block) written after an explicit `BEGIN` in the same file.
    ///
    /// ## Why it breaks the running app
    /// PostgreSQL rejects it with "cannot run inside a transaction block", so the deploy fails
    /// midway; and dropping `CONCURRENTLY` to make it pass would lock the table for writes
    /// while the index builds.
    ///
    /// ## Example
    /// ```sql
    /// BEGIN;
    /// CREATE INDEX CONCURRENTLY users_email ON users (email);
    /// COMMIT;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Remove `BEGIN`/`COMMIT` and keep the statement alone in its own migration file.
    /// 2. The engine runs such a file outside a transaction automatically.
    ///
    /// ## Suppress
    /// `-- migrate:allow concurrently-in-transaction: <reason>` above the statement.
    CONCURRENTLY_IN_TRANSACTION, code = "M010", name = "concurrently-in-transaction", kind = Statement, severity = Error,
    summary = "CONCURRENTLY (or VACUUM, ...) inside BEGIN ... COMMIT fails on PostgreSQL", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    if !ctx.in_transaction_block {
        return;
    }
    let Some(what) = non_transactional(&change.kind, ctx.dialect, ctx.pg_version) else {
        return;
    };
    ctx.report(
        change.span,
        "",
        format!("{what} cannot run inside the transaction block opened earlier in this file"),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn flags_concurrently_after_begin() {
        let sql = "BEGIN;\nCREATE INDEX CONCURRENTLY i ON t (x);\nCOMMIT;";
        assert_eq!(fires_pg("concurrently-in-transaction", &[sql]), [(1, 2)]);
    }

    #[test]
    fn after_commit_it_is_fine() {
        let sql = "BEGIN;\nSELECT 1;\nCOMMIT;\nCREATE INDEX CONCURRENTLY i ON t (x);";
        assert!(fires_pg("concurrently-in-transaction", &[sql]).is_empty());
    }
}
