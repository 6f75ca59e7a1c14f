//! Flags a column dropped and added back under its name: the old app keeps working, its data
//! does not survive.

use crate::analyze::compat::{DiffKind, Difference};
use crate::analyze::context::Context;
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags a column of the previous release that a release drops and adds back with the
    /// same name and type, when the old app cannot see the moment it is missing (one
    /// transaction on PostgreSQL and SQLite). On MySQL and in no-transaction files the state
    /// between the two statements is visible, and `drop-column` reports the drop as an error
    /// instead; a re-add with another type is `drop-column` too.
    ///
    /// ## Why it breaks the running app
    /// The old app's queries still work (the column is back), but every existing value is
    /// gone: each row now holds the new column's default, or NULL. Usually a mistake for a
    /// type change or a reset written as a drop.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users DROP COLUMN nickname;
    /// ALTER TABLE users ADD COLUMN nickname text;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. To change the column's type, add a new column, backfill it in batches, switch the app over, then drop the old one in a contract migration.
    /// 2. To clear the values on purpose, `UPDATE` in batches instead, and say so with `-- migrate:allow drop-and-add-column: <reason>`.
    /// 3. Every file and app release, for PostgreSQL and MySQL: docs/recipes.md, “Change a column's type”.
    ///
    /// ## Suppress
    /// `-- migrate:allow drop-and-add-column: <reason>` above the statement that adds it back.
    DROP_AND_ADD_COLUMN, code = "M128", name = "drop-and-add-column", kind = Compat, severity = Warning,
    summary = "a column dropped and added back keeps the old app working but loses every value"; compat
}

pub(crate) fn compat(ctx: &mut Context, d: &Difference) {
    let (Some(cause), DiffKind::Replaced { new_type: None }) = (ctx.cause, &d.kind) else {
        return;
    };
    let object = d.table.column(&d.column);
    ctx.report(
        cause.span,
        &object,
        format!(
            "column {object} is dropped and added back: the previous release still finds it, but every existing value is gone"
        ),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::{Dialect, fires, fires_pg};

    #[test]
    fn flags_a_drop_and_re_add_in_one_transaction() {
        let files = [
            "CREATE TABLE t (a int, b int);",
            "ALTER TABLE t DROP COLUMN b;\nALTER TABLE t ADD COLUMN b int;",
        ];
        assert_eq!(fires_pg("drop-and-add-column", &files), [(2, 2)]);
        assert_eq!(
            fires("drop-and-add-column", Dialect::Sqlite, &files),
            [(2, 2)]
        );
        // On MySQL the drop is visible: drop-column reports it, once.
        assert!(fires("drop-and-add-column", Dialect::Mysql, &files).is_empty());
    }

    #[test]
    fn new_columns_and_type_changes_are_not_this_rule() {
        let files = [
            "CREATE TABLE t (a int);",
            "ALTER TABLE t ADD COLUMN b int;\nALTER TABLE t DROP COLUMN b;\nALTER TABLE t ADD COLUMN b int;",
        ];
        assert!(fires_pg("drop-and-add-column", &files).is_empty());
        let retyped = [
            "CREATE TABLE t (a int);",
            "ALTER TABLE t DROP COLUMN a;\nALTER TABLE t ADD COLUMN a text;",
        ];
        assert!(fires_pg("drop-and-add-column", &retyped).is_empty());
    }
}
