//! Flags dropping the default of a NOT NULL column the previous release inserts into.

use crate::analyze::compat::{DiffKind, Difference};
use crate::analyze::context::Context;
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags a state the previous release can see in which a `NOT NULL` column it knows has
    /// lost its default: `ALTER COLUMN ... DROP DEFAULT`, or a MySQL `MODIFY` that restates
    /// the column without it. A default dropped and set again in one transaction is fine; on
    /// MySQL the state in between is visible. No other linter flags this.
    ///
    /// ## Why it breaks the running app
    /// The previous release may rely on the default: its `INSERT`s that omit the column start
    /// failing with a not-null violation.
    ///
    /// ## Example
    /// ```sql
    /// -- an earlier migration
    /// CREATE TABLE users (id bigint PRIMARY KEY, role text NOT NULL DEFAULT 'member');
    /// ```
    ///
    /// ```sql
    /// -- this migration
    /// ALTER TABLE users ALTER COLUMN role DROP DEFAULT;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Release an app version that always writes the column explicitly.
    /// 2. Drop the default in a later (contract) migration.
    /// 3. Every file and app release, for PostgreSQL and MySQL: docs/recipes.md, “Make a column NOT NULL”.
    ///
    /// ## Suppress
    /// `-- migrate:allow drop-default-on-not-null-column: <reason>` above the statement.
    DROP_DEFAULT_ON_NOT_NULL_COLUMN, code = "M122", name = "drop-default-on-not-null-column", kind = Compat,
    severity = Error,
    summary = "dropping the default of a NOT NULL column breaks old inserts that omit it"; compat
}

pub(crate) fn compat(ctx: &mut Context, d: &Difference) {
    let (Some(cause), DiffKind::DefaultGone) = (ctx.cause, &d.kind) else {
        return;
    };
    let object = d.table.column(&d.column);
    ctx.report(
        cause.span,
        &object,
        format!(
            "dropping the default of NOT NULL column {object} makes inserts of the previous release that omit it fail"
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
    fn set_again_before_the_old_app_sees_it() {
        let files = [
            "CREATE TABLE t (a int NOT NULL DEFAULT 0);",
            "ALTER TABLE t ALTER COLUMN a DROP DEFAULT;\nALTER TABLE t ALTER COLUMN a SET DEFAULT 1;",
        ];
        assert!(fires_pg("drop-default-on-not-null-column", &files).is_empty());
        assert_eq!(
            fires("drop-default-on-not-null-column", Dialect::Mysql, &files),
            [(2, 1)]
        );
    }

    #[test]
    fn a_serial_columns_default_is_its_sequence() {
        let files = [
            "CREATE TABLE t (id serial NOT NULL, a int);",
            "ALTER TABLE t ALTER COLUMN id DROP DEFAULT;",
        ];
        assert_eq!(
            fires_pg("drop-default-on-not-null-column", &files),
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
