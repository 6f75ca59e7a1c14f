//! Flags adding a validated CHECK constraint to an existing PostgreSQL table.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ConstraintKind};
use crate::analyze::registry::declare_rule;
use crate::analyze::rules::inline_on_old_table;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... ADD [CONSTRAINT ...] CHECK (...)` without `NOT VALID` on a
    /// PostgreSQL table created by an earlier migration.
    ///
    /// An inline `CHECK` on `ADD COLUMN` is judged the same: PostgreSQL checks every existing
    /// row against it (even when the new column holds only NULLs), and `ADD COLUMN` has no
    /// `NOT VALID`.
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
    ADD_CHECK_WITHOUT_NOT_VALID, code = "M205", name = "add-check-without-not-valid", kind = Lock,
    severity = Error,
    summary = "adding a CHECK without NOT VALID scans the table under an exclusive lock", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    if let Some((table, column)) = inline_on_old_table(ctx, change) {
        if column.check.is_some() {
            let object = table.column(&column.name);
            ctx.report(
                change.span,
                table,
                format!("adding {object} with an inline CHECK scans every row of {table} under an ACCESS EXCLUSIVE lock (ADD COLUMN cannot say NOT VALID)"),
            );
        }
        return;
    }
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

    #[test]
    fn inline_form_on_add_column() {
        let base = "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE t (a int);";
        assert_eq!(
            crate::analyze::rules::testing::fires_pg(
                "add-check-without-not-valid",
                &[base, "ALTER TABLE t ADD COLUMN n int CHECK (n > 0);"]
            ),
            [(2, 1)]
        );
        assert!(
            crate::analyze::rules::testing::fires_pg(
                "add-check-without-not-valid",
                &[base, "ALTER TABLE t ADD COLUMN n int;"]
            )
            .is_empty()
        );
        let new_table = "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN n int CHECK (n > 0);";
        assert!(
            crate::analyze::rules::testing::fires_pg(
                "add-check-without-not-valid",
                &["CREATE TABLE p (id int PRIMARY KEY);", new_table]
            )
            .is_empty()
        );
    }
}
