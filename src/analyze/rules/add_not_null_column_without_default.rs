//! Flags adding a NOT NULL column without a default to a table the previous release writes.

use crate::analyze::compat::{DiffKind, Difference, Requirement};
use crate::analyze::context::Context;
use crate::analyze::ir::ChangeKind;
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags a state the previous release can see in which a column it does not know, on a
    /// table it does, must be given a value: `NOT NULL` (or a primary key, or a
    /// `CHECK (col IS NOT NULL)`, validated or not) without a `DEFAULT`, and not generated or
    /// serial. Whichever statement of the release made it so is flagged: the `ADD COLUMN`
    /// itself, a later `SET NOT NULL` or `DROP DEFAULT` on the new column, or a check
    /// constraint. A file the old app sees only as a whole (one transaction on PostgreSQL and
    /// SQLite) is judged by its end state; on MySQL every statement's state is visible.
    ///
    /// ## Why it breaks the running app
    /// The previous release does not know the column, so its `INSERT`s omit it and start
    /// failing with a not-null violation. PostgreSQL also refuses the statement on a non-empty
    /// table; MySQL silently fills `0`/`''` into existing rows.
    ///
    /// ## Example
    /// ```sql
    /// -- an earlier migration
    /// CREATE TABLE users (id bigint PRIMARY KEY, email text);
    /// ```
    ///
    /// ```sql
    /// -- this migration
    /// ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Add the column nullable, or `NOT NULL` with a constant `DEFAULT` (PostgreSQL: metadata-only from 11).
    /// 2. Release an app version that writes it; backfill existing rows in batches.
    /// 3. Enforce `NOT NULL` in a later release (PostgreSQL: `ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID`, `VALIDATE CONSTRAINT`, then `SET NOT NULL`) (MySQL: `MODIFY col <type> NOT NULL, ALGORITHM=INPLACE, LOCK=NONE`).
    /// 4. Every file and app release, for PostgreSQL and MySQL: docs/recipes.md, “Make a column NOT NULL”.
    ///
    /// ## Suppress
    /// `-- migrate:allow add-not-null-column-without-default: <reason>` above the statement.
    ADD_NOT_NULL_COLUMN_WITHOUT_DEFAULT, code = "M120", name = "add-not-null-column-without-default", kind = Compat,
    severity = Error,
    summary = "a new NOT NULL column without default breaks the previous release's inserts"; compat
}

pub(crate) fn compat(ctx: &mut Context, d: &Difference) {
    let (Some(cause), DiffKind::Required { by }) = (ctx.cause, &d.kind) else {
        return;
    };
    let object = d.table.column(&d.column);
    let added_here =
        matches!(&cause.change, ChangeKind::AddColumn { column, .. } if column.name == d.column);
    let message = match by {
        Requirement::NotNull if added_here => format!(
            "adding NOT NULL column {object} without a default makes inserts of the previous release fail"
        ),
        Requirement::NotNull => format!(
            "after this statement {object}, which the previous release does not know, is NOT NULL without a default: its inserts omit the column and fail"
        ),
        Requirement::Check => format!(
            "a CHECK ({} IS NOT NULL) requires a value in {object}, which the previous release does not know: its inserts omit the column and fail (NOT VALID spares only existing rows)",
            d.column
        ),
    };
    ctx.report(cause.span, object, message);
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
    fn made_required_later_in_the_release() {
        let rule = "add-not-null-column-without-default";
        let base = "CREATE TABLE users (id int);";
        let later = "ALTER TABLE users ADD COLUMN org_id bigint;\nUPDATE users SET org_id = 1;\nALTER TABLE users ALTER COLUMN org_id SET NOT NULL;";
        assert_eq!(fires_pg(rule, &[base, later]), [(2, 3)]);
        let dropped = "ALTER TABLE users ADD COLUMN flag int NOT NULL DEFAULT 10;\nALTER TABLE users ALTER COLUMN flag DROP DEFAULT;";
        assert_eq!(fires_pg(rule, &[base, dropped]), [(2, 2)]);
        assert_eq!(fires(rule, Dialect::Mysql, &[base, dropped]), [(2, 2)]);
        let inline = "ALTER TABLE users ADD COLUMN x text CHECK (x IS NOT NULL);";
        assert_eq!(fires_pg(rule, &[base, inline]), [(2, 1)]);
        let not_valid = "ALTER TABLE users ADD COLUMN x text;\nALTER TABLE users ADD CONSTRAINT x_nn CHECK (x IS NOT NULL) NOT VALID;";
        assert_eq!(fires_pg(rule, &[base, not_valid]), [(2, 2)]);
        // Filled again before the old app can see it.
        let refilled = "ALTER TABLE users ADD COLUMN flag int NOT NULL DEFAULT 10;\nALTER TABLE users ALTER COLUMN flag DROP DEFAULT;\nALTER TABLE users ALTER COLUMN flag SET DEFAULT 11;";
        assert!(fires_pg(rule, &[base, refilled]).is_empty());
        assert_eq!(fires(rule, Dialect::Mysql, &[base, refilled]), [(2, 2)]);
    }

    #[test]
    fn re_added_not_null_without_default_where_the_old_app_omitted_it() {
        let rule = "add-not-null-column-without-default";
        let base = "CREATE TABLE t (id int, a int);";
        let readd = "ALTER TABLE t DROP COLUMN a;\nALTER TABLE t ADD COLUMN a int NOT NULL;";
        assert_eq!(fires_pg(rule, &[base, readd]), [(2, 2)]);
        let required = "CREATE TABLE t (id int, a int NOT NULL);";
        assert!(fires_pg(rule, &[required, readd]).is_empty());
    }

    #[test]
    fn each_of_many_new_columns_is_pointed_at_its_own_statement() {
        let mut file = String::new();
        for i in 0..200 {
            file.push_str(&format!("ALTER TABLE t ADD COLUMN c{i} int;\nALTER TABLE t ALTER COLUMN c{i} SET NOT NULL;\n"));
        }
        let found = fires_pg(
            "add-not-null-column-without-default",
            &["CREATE TABLE t (id int);", &file],
        );
        let expected: Vec<(usize, u32)> = (0..200).map(|i| (2, 2 * i + 2)).collect();
        assert_eq!(found, expected);
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
