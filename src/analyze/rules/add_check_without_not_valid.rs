//! Flags adding a validated CHECK constraint to an existing PostgreSQL table.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ConstraintKind};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... ADD [CONSTRAINT ...] CHECK (...)` without `NOT VALID` on a
    /// PostgreSQL table created by an earlier migration.
    ///
    /// ## Why it breaks the running app
    /// PostgreSQL scans every row to validate the check while holding an ACCESS EXCLUSIVE lock:
    /// all reads and writes of the table wait. If an old row violates it, the migration fails.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total >= 0);
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. `ALTER TABLE orders ADD CONSTRAINT total_positive CHECK (total >= 0) NOT VALID;` (new rows are checked at once).
    /// 2. Fix violating rows, then in a later migration: `ALTER TABLE orders VALIDATE CONSTRAINT total_positive;`
    ///
    /// ## Suppress
    /// `-- migrate:allow add-check-without-not-valid: <reason>` above the statement.
    ADD_CHECK_WITHOUT_NOT_VALID, code = "M205", name = "add-check-without-not-valid",
    severity = Error,
    summary = "adding a CHECK without NOT VALID scans the table under an exclusive lock", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::AddConstraint {
        table,
        constraint,
        not_valid: false,
    } = &change.kind
    else {
        return;
    };
    if !matches!(constraint.kind, ConstraintKind::Check { .. })
        || !ctx.postgres()
        || ctx.is_new_table(table)
    {
        return;
    }
    let name = constraint.name.as_deref().unwrap_or("CHECK");
    ctx.report(
        change.span,
        table,
        format!("adding {name} to {table} without NOT VALID scans every row under an ACCESS EXCLUSIVE lock"),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn flags_validated_checks() {
        let files = [
            "CREATE TABLE t (a int);",
            "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);",
        ];
        assert_eq!(fires_pg("add-check-without-not-valid", &files), [(2, 1)]);
    }

    #[test]
    fn not_valid_is_fine() {
        let files = [
            "CREATE TABLE t (a int);",
            "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;",
        ];
        assert!(fires_pg("add-check-without-not-valid", &files).is_empty());
    }
}
