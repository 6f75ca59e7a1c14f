//! Flags a statement that cannot run in a transaction sharing its file with other statements.

use crate::analyze::context::Context;
use crate::analyze::ir::Change;
use crate::analyze::non_transactional;
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags a file that mixes a statement PostgreSQL (or SQLite) refuses inside a transaction
    /// — `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX CONCURRENTLY`,
    /// `DETACH PARTITION ... CONCURRENTLY`, `VACUUM`, `CREATE/DROP DATABASE`, `ALTER SYSTEM`,
    /// `ALTER TYPE ... ADD VALUE` before PostgreSQL 12 — with any other statement (session
    /// `SET`s excepted).
    ///
    /// ## Why it breaks the running app
    /// Such a file must run statement by statement outside a transaction. If its third
    /// statement fails, the first two stay applied: the database is half-migrated, the old
    /// app may already see part of the change, and re-running the file fails on what exists.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users ADD COLUMN email_lower text;
    /// CREATE INDEX CONCURRENTLY users_email_lower ON users (email_lower);
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Move the statement that cannot run in a transaction into its own migration file.
    /// 2. Keep the other statements in a file of their own, which then runs in one transaction.
    /// 3. The engine detects such files and runs them outside a transaction (or add `-- migrate:no-transaction` on the first line).
    ///
    /// ## Suppress
    /// `-- migrate:allow mixed-non-transactional: <why a partial apply is harmless>` above the first such statement.
    MIXED_NON_TRANSACTIONAL, code = "M009", name = "mixed-non-transactional", kind = Statement, severity = Error,
    summary = "a statement that cannot run in a transaction must be alone in its file", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let Some(what) = non_transactional(&change.kind, ctx.dialect, ctx.pg_version) else {
        return;
    };
    let first = ctx.file.non_transactional.first().map(|(i, _)| *i);
    if first != Some(ctx.stmt_index) || ctx.file.effective_statements <= 1 {
        return;
    }
    let others = ctx.file.effective_statements - 1;
    ctx.report(
        change.span,
        "",
        format!(
            "{what} cannot run in a transaction, so it must be alone in its file, but this file has {others} other statement{}: a failure would leave it half-applied",
            if others == 1 { "" } else { "s" }
        ),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn flags_mixed_files_once() {
        let sql = "CREATE TABLE a (id int);\nCREATE INDEX CONCURRENTLY i ON b (x);\nCREATE INDEX CONCURRENTLY j ON b (y);";
        assert_eq!(fires_pg("mixed-non-transactional", &[sql]), [(1, 2)]);
    }

    #[test]
    fn a_lone_statement_with_settings_is_fine() {
        let sql = "SET lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY i ON b (x);";
        assert!(fires_pg("mixed-non-transactional", &[sql]).is_empty());
    }
}
