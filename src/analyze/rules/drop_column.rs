//! Flags `ALTER TABLE ... DROP COLUMN` on a column the previous release can see.

use crate::analyze::compat::{DiffKind, Difference};
use crate::analyze::context::Context;
use crate::analyze::registry::declare_rule;
use crate::dialect::Dialect;

declare_rule! {
    /// ## What it does
    /// Flags a state the previous release can see in which a column it knows (made by an
    /// earlier migration, or outside the migrations) is gone: dropped, or dropped and added
    /// back with another type. Dropping a column added in the same release is fine, and so is
    /// a drop and re-add that the old app cannot see happen (one transaction; the data loss is
    /// `drop-and-add-column`). In every dialect, including SQLite (3.35+ `DROP COLUMN`) and
    /// MySQL, where every DDL statement commits on its own.
    ///
    /// ## Why it breaks the running app
    /// The previous release still selects, inserts and updates the column: those queries fail
    /// (`column does not exist`) from the moment the migration commits until the new release
    /// has fully rolled out, and a rollback to it is impossible. ORMs that list every column
    /// break even on tables the new code barely touches.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users DROP COLUMN legacy_name;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Release an app version that neither reads nor writes the column (and tell the ORM to ignore it).
    /// 2. Once no running version uses it, drop it in a later (contract) migration.
    /// 3. Every file and app release, for PostgreSQL and MySQL: docs/recipes.md, “Rename a column” (its contract step) and “Split a table”.
    ///
    /// ## Suppress
    /// `-- migrate:allow drop-column: <why no running version uses it>` above the statement.
    DROP_COLUMN, code = "M102", name = "drop-column", kind = Compat, severity = Error,
    summary = "dropping a column breaks the previous release, which still reads it"; compat
}

pub(crate) fn compat(ctx: &mut Context, d: &Difference) {
    let Some(cause) = ctx.cause else { return };
    let object = d.table.column(&d.column);
    let message = match &d.kind {
        DiffKind::Gone { renamed_to: None } => {
            let note = if ctx.dialect == Dialect::Sqlite {
                " (and SQLite before 3.35 cannot drop columns at all)"
            } else {
                ""
            };
            format!(
                "dropping column {object} breaks the previous release, which still reads it{note}"
            )
        }
        DiffKind::Replaced { new_type: Some(ty) } => format!(
            "column {object} is dropped and added back as {ty}: the previous release reads it as its old type, and its values are gone"
        ),
        _ => return,
    };
    ctx.report(cause.span, object, message);
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::{Dialect, fires, fires_pg};

    #[test]
    fn flags_old_columns() {
        let files = [
            "CREATE TABLE t (a int, b int);",
            "ALTER TABLE t DROP COLUMN b;",
        ];
        assert_eq!(fires_pg("drop-column", &files), [(2, 1)]);
        assert_eq!(fires("drop-column", Dialect::Sqlite, &files), [(2, 1)]);
    }

    #[test]
    fn a_replacement_the_old_app_cannot_see_is_no_drop() {
        let files = [
            "CREATE TABLE t (a int, b int);",
            "ALTER TABLE t DROP COLUMN b;\nALTER TABLE t ADD COLUMN b int;",
        ];
        assert!(fires_pg("drop-column", &files).is_empty());
        assert_eq!(fires("drop-column", Dialect::Mysql, &files), [(2, 1)]);
        let retyped = [
            files[0],
            "ALTER TABLE t DROP COLUMN b;\nALTER TABLE t ADD COLUMN b text;",
        ];
        assert_eq!(fires_pg("drop-column", &retyped), [(2, 2)]);
    }

    #[test]
    fn renaming_an_old_column_into_a_dropped_name_is_no_swap() {
        let files = [
            "CREATE TABLE t (a text);",
            "ALTER TABLE t ADD COLUMN a_json jsonb;",
            "ALTER TABLE t DROP COLUMN a;\nALTER TABLE t RENAME COLUMN a_json TO a;",
        ];
        assert_eq!(fires_pg("drop-column", &files), [(3, 2)]);
        assert_eq!(fires_pg("rename-column", &files), [(3, 2)]);
        assert!(fires_pg("drop-and-add-column", &files).is_empty());
        let same_type = [
            files[0],
            "ALTER TABLE t ADD COLUMN a_2 text;",
            files[2].replace("a_json", "a_2").leak(),
        ];
        // Same type: the break the old app sees is the rename of a_2.
        assert!(fires_pg("drop-column", &same_type).is_empty());
        assert_eq!(fires_pg("rename-column", &same_type), [(3, 2)]);
        assert!(fires_pg("drop-and-add-column", &same_type).is_empty());
    }

    #[test]
    fn create_table_over_a_table_only_mentioned_is_not_compared() {
        let files = [
            "ALTER TABLE t ADD COLUMN a int;",
            "CREATE TABLE t (b int NOT NULL);",
        ];
        assert!(fires_pg("drop-column", &files).is_empty());
        assert!(fires_pg("add-not-null-column-without-default", &files).is_empty());
    }

    #[test]
    fn a_swap_to_another_type_is_a_drop_and_a_missing_column_is_none() {
        let base = "CREATE TABLE t (id int, a int);";
        let swap = "ALTER TABLE t ADD COLUMN a_new text;\nUPDATE t SET a_new = a;\nALTER TABLE t DROP COLUMN a;\nALTER TABLE t RENAME COLUMN a_new TO a;";
        assert_eq!(fires_pg("drop-column", &[base, swap]), [(2, 4)]);
        // The history certainly never had `nope`, or dropped `a` before: nothing to break.
        assert!(
            fires_pg(
                "drop-column",
                &[base, "ALTER TABLE t DROP COLUMN IF EXISTS nope;"]
            )
            .is_empty()
        );
        let again = [
            base,
            "ALTER TABLE t DROP COLUMN a;",
            "ALTER TABLE t DROP COLUMN IF EXISTS a;",
        ];
        assert_eq!(fires_pg("drop-column", &again), [(2, 1)]);
        assert!(
            fires_pg(
                "drop-table",
                &[base, "DROP TABLE t;", "DROP TABLE IF EXISTS t;"]
            ) == [(2, 1)]
        );
    }

    #[test]
    fn a_renamed_table_keeps_its_columns_judged() {
        let files = [
            "CREATE TABLE user_ (id int, email text);",
            "ALTER TABLE user_ RENAME TO person;\nALTER TABLE person DROP COLUMN email;",
        ];
        assert_eq!(fires_pg("drop-column", &files), [(2, 2)]);
    }

    #[test]
    fn same_release_columns_are_free() {
        let files = [
            "CREATE TABLE t (a int);",
            "ALTER TABLE t ADD COLUMN b int;\nALTER TABLE t DROP COLUMN b;",
        ];
        assert!(fires_pg("drop-column", &files).is_empty());
    }
}
