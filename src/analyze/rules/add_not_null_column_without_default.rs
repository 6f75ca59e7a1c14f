//! Flags adding a NOT NULL column without a default to a table the previous release writes.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `ADD COLUMN ... NOT NULL` without a `DEFAULT` (and not generated or serial) on a
    /// table created by an earlier migration.
    ///
    /// ## Why it breaks the running app
    /// The previous release does not know the column, so its `INSERT`s omit it and start
    /// failing with a not-null violation. PostgreSQL also refuses the statement on a non-empty
    /// table; MySQL silently fills `0`/`''` into existing rows.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Add the column nullable, or `NOT NULL` with a constant `DEFAULT` (metadata-only on PostgreSQL 11+).
    /// 2. Release an app version that writes it; backfill existing rows in batches.
    /// 3. Enforce `NOT NULL` later with `ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID`, `VALIDATE CONSTRAINT`, then `SET NOT NULL`.
    ///
    /// ## Suppress
    /// `-- migrate:allow add-not-null-column-without-default: <reason>` above the statement.
    ADD_NOT_NULL_COLUMN_WITHOUT_DEFAULT, code = "M120", name = "add-not-null-column-without-default",
    severity = Error,
    summary = "a new NOT NULL column without default breaks the previous release's inserts", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::AddColumn { table, column } = &change.kind else {
        return;
    };
    let filled = column.default.as_ref().is_some_and(|d| !d.is_null)
        || column.generated.is_some()
        || column.serial;
    if !column.not_null || filled || ctx.is_new_table(table) {
        return;
    }
    ctx.report(
        change.span,
        table.column(&column.name),
        format!(
            "adding NOT NULL column {} without a default makes inserts of the previous release fail",
            table.column(&column.name)
        ),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::{Dialect, fires, fires_pg};

    #[test]
    fn flags_not_null_without_default() {
        let files = [
            "CREATE TABLE t (id int);",
            "ALTER TABLE t ADD COLUMN x int NOT NULL;",
        ];
        assert_eq!(
            fires_pg("add-not-null-column-without-default", &files),
            [(2, 1)]
        );
        assert_eq!(
            fires(
                "add-not-null-column-without-default",
                Dialect::Mysql,
                &files
            ),
            [(2, 1)]
        );
    }

    #[test]
    fn default_or_nullable_is_fine() {
        let files = [
            "CREATE TABLE t (id int);",
            "ALTER TABLE t ADD COLUMN x int NOT NULL DEFAULT 0;\nALTER TABLE t ADD COLUMN y int;",
        ];
        assert!(fires_pg("add-not-null-column-without-default", &files).is_empty());
    }
}
