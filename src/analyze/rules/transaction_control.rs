//! Flags `BEGIN`/`COMMIT`/`ROLLBACK` written inside a migration file.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags transaction control (`BEGIN`, `START TRANSACTION`, `COMMIT`, `END`,
    /// `ROLLBACK`, `SAVEPOINT`) inside a migration file.
    ///
    /// ## Why it breaks the running app
    /// The engine owns transactions: on PostgreSQL and SQLite each migration runs in one
    /// transaction together with its history row. A `COMMIT` in the file ends that transaction
    /// early (a later failure would leave the first half committed without a history row); a
    /// `ROLLBACK` undoes the first half while the rest runs outside any transaction. Outside
    /// a transaction (MySQL, `-- migrate:no-transaction` files) the engine commits each
    /// statement with its progress in a transaction of its own, which a `BEGIN` in the file
    /// would fight. The engine also checks, before writing the history row, that its
    /// transaction is still open: a file that ended it is recorded as `failed` and needs
    /// `migrate resolve`.
    ///
    /// ## Example
    /// ```sql
    /// BEGIN;
    /// ALTER TABLE users ADD COLUMN nickname text;
    /// COMMIT;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Remove the transaction statements: the engine wraps each file in a transaction.
    /// 2. For statements that cannot run in a transaction, put each in its own file (they are detected, or mark the file `-- migrate:no-transaction`).
    ///
    /// ## Suppress
    /// `-- migrate:allow transaction-control: <reason>` above the statement.
    TRANSACTION_CONTROL, code = "M008", name = "transaction-control", kind = Statement, severity = Error,
    summary = "BEGIN/COMMIT in a migration file fights the engine's own transaction", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::Transaction(tx) = change.kind else {
        return;
    };
    ctx.report(
        change.span,
        "",
        format!(
            "transaction control ({}) inside a migration: the engine already runs each migration in a transaction",
            format!("{tx:?}").to_uppercase()
        ),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn flags_begin_and_commit() {
        let sql = "BEGIN;\nCREATE TABLE t (id int);\nCOMMIT;";
        assert_eq!(fires_pg("transaction-control", &[sql]), [(1, 1), (1, 3)]);
    }

    #[test]
    fn plain_files_are_fine() {
        assert!(fires_pg("transaction-control", &["CREATE TABLE t (id int);"]).is_empty());
    }
}
