//! Flags MySQL `LOCK=SHARED|EXCLUSIVE` on an existing table.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags a MySQL/MariaDB `ALTER TABLE` or `CREATE INDEX` with `LOCK=SHARED` or
    /// `LOCK=EXCLUSIVE` on a table created by an earlier migration.
    ///
    /// ## Why it breaks the running app
    /// `LOCK=SHARED` blocks writes and `LOCK=EXCLUSIVE` blocks reads and writes for the whole
    /// operation.
    ///
    /// ## Example
    /// ```sql mysql
    /// CREATE INDEX orders_customer ON orders (customer_id) LOCK=EXCLUSIVE;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Use `LOCK=NONE`: MySQL then does the change online or refuses it, never locks silently.
    ///
    /// ## Suppress
    /// `-- migrate:allow alter-lock-blocking: <reason>` above the statement.
    ALTER_LOCK_BLOCKING, code = "M302", name = "alter-lock-blocking", kind = Lock, severity = Error,
    summary = "LOCK=SHARED or LOCK=EXCLUSIVE blocks the table during the change", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::AlterOptions {
        table,
        lock: Some(lock),
        ..
    } = &change.kind
    else {
        return;
    };
    let blocks = if lock.eq_ignore_ascii_case("SHARED") {
        "writes"
    } else if lock.eq_ignore_ascii_case("EXCLUSIVE") {
        "reads and writes"
    } else {
        return;
    };
    if ctx.is_new_table(table) {
        return;
    }
    ctx.report(
        change.span,
        table,
        format!(
            "LOCK={} blocks {blocks} on {table} for the whole change",
            lock.to_uppercase()
        ),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::{Dialect, fires};

    const TABLE: &str = "CREATE TABLE t (a INT);";

    #[test]
    fn flags_blocking_locks() {
        let files = [TABLE, "ALTER TABLE t ADD COLUMN b INT, LOCK=EXCLUSIVE;"];
        assert_eq!(
            fires("alter-lock-blocking", Dialect::Mysql, &files),
            [(2, 1)]
        );
    }

    #[test]
    fn lock_none_is_fine() {
        let files = [TABLE, "ALTER TABLE t ADD COLUMN b INT, LOCK=NONE;"];
        assert!(fires("alter-lock-blocking", Dialect::Mysql, &files).is_empty());
    }
}
