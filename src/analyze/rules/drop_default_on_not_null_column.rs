//! Flags dropping the default of a NOT NULL column the previous release inserts into.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER COLUMN ... DROP DEFAULT` on a `NOT NULL` column the previous release can
    /// see (and a MySQL `MODIFY` that restates such a column without its default). No other
    /// linter flags this.
    ///
    /// ## Why it breaks the running app
    /// The previous release may rely on the default: its `INSERT`s that omit the column start
    /// failing with a not-null violation.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users ALTER COLUMN role DROP DEFAULT;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Release an app version that always writes the column explicitly.
    /// 2. Drop the default in a later (contract) migration.
    ///
    /// ## Suppress
    /// `-- migrate:allow drop-default-on-not-null-column: <reason>` above the statement.
    DROP_DEFAULT_ON_NOT_NULL_COLUMN, code = "M122", name = "drop-default-on-not-null-column",
    severity = Error,
    summary = "dropping the default of a NOT NULL column breaks old inserts that omit it", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let (table, column) = match &change.kind {
        ChangeKind::DropDefault { table, column } => (table, column),
        ChangeKind::RedefineColumn { table, from, .. } => (table, from),
        _ => return,
    };
    let Some(old) = ctx.catalog.column(table, column) else {
        return;
    };
    let hazard = match &change.kind {
        ChangeKind::RedefineColumn { column: new, .. } => {
            old.not_null
                && old.default.is_some()
                && new.not_null
                && new.default.is_none()
                && !new.serial
        }
        _ => old.not_null,
    };
    if !hazard || ctx.is_new_column(table, column) {
        return;
    }
    ctx.report(
        change.span,
        table.column(column),
        format!(
            "dropping the default of NOT NULL column {} makes inserts of the previous release that omit it fail",
            table.column(column)
        ),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::{Dialect, fires, fires_pg};

    #[test]
    fn flags_not_null_columns() {
        let files = [
            "CREATE TABLE t (a int NOT NULL DEFAULT 0);",
            "ALTER TABLE t ALTER COLUMN a DROP DEFAULT;",
        ];
        assert_eq!(
            fires_pg("drop-default-on-not-null-column", &files),
            [(2, 1)]
        );
        let files = [
            "CREATE TABLE t (a int NOT NULL DEFAULT 0);",
            "ALTER TABLE t MODIFY a int NOT NULL;",
        ];
        assert_eq!(
            fires("drop-default-on-not-null-column", Dialect::Mysql, &files),
            [(2, 1)]
        );
    }

    #[test]
    fn nullable_columns_are_fine() {
        let files = [
            "CREATE TABLE t (a int DEFAULT 0);",
            "ALTER TABLE t ALTER COLUMN a DROP DEFAULT;",
        ];
        assert!(fires_pg("drop-default-on-not-null-column", &files).is_empty());
    }
}
