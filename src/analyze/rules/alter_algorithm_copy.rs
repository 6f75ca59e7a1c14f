//! Flags MySQL `ALGORITHM=COPY` on an existing table.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags a MySQL/MariaDB `ALTER TABLE` or `CREATE INDEX` with `ALGORITHM=COPY` on a table
    /// created by an earlier migration.
    ///
    /// ## Why it breaks the running app
    /// The copy algorithm rebuilds the table into a new copy and blocks writes (concurrent DML
    /// is not permitted) for the whole copy.
    ///
    /// ## Example
    /// ```sql mysql
    /// ALTER TABLE orders ADD COLUMN note TEXT, ALGORITHM=COPY;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Use `ALGORITHM=INPLACE, LOCK=NONE` (or `INSTANT`) so MySQL refuses instead of locking when it cannot do the change online.
    /// 2. For changes that need a copy, use an online schema change tool (gh-ost, pt-online-schema-change).
    ///
    /// ## Suppress
    /// `-- migrate:allow alter-algorithm-copy: <reason>` above the statement.
    ALTER_ALGORITHM_COPY, code = "M301", name = "alter-algorithm-copy", kind = Lock, severity = Error,
    summary = "ALGORITHM=COPY copies the table and blocks writes", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::AlterOptions {
        table,
        algorithm: Some(algorithm),
        ..
    } = &change.kind
    else {
        return;
    };
    if !algorithm.eq_ignore_ascii_case("COPY") || ctx.is_new_table(table) {
        return;
    }
    ctx.report(
        change.span,
        table,
        format!("ALGORITHM=COPY copies {table} and blocks its writes for the whole copy"),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::{Dialect, fires};

    const TABLE: &str = "CREATE TABLE t (a INT);";

    #[test]
    fn flags_copy() {
        let files = [TABLE, "ALTER TABLE t ADD COLUMN b INT, ALGORITHM=COPY;"];
        assert_eq!(
            fires("alter-algorithm-copy", Dialect::Mysql, &files),
            [(2, 1)]
        );
    }

    #[test]
    fn inplace_is_fine() {
        let files = [
            TABLE,
            "ALTER TABLE t ADD COLUMN b INT, ALGORITHM=INPLACE, LOCK=NONE;",
        ];
        assert!(fires("alter-algorithm-copy", Dialect::Mysql, &files).is_empty());
    }
}
