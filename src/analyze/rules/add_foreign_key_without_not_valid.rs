//! Flags adding a validated foreign key to an existing PostgreSQL table.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ConstraintKind};
use crate::analyze::registry::declare_rule;
use crate::dialect::Dialect;

/// MySQL and MariaDB add a foreign key in place, without copying the table, only while the
/// session's foreign_key_checks is off.
use crate::analyze::rules::inline_on_old_table;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... ADD [CONSTRAINT ...] FOREIGN KEY` without `NOT VALID` on a
    /// PostgreSQL table created by an earlier migration.
    ///
    /// An inline `REFERENCES` on `ADD COLUMN` with a non-NULL `DEFAULT` is judged the same:
    /// PostgreSQL checks every row's default against the referenced table. Without a default
    /// every row holds NULL and PostgreSQL skips the check, so that form passes.
    ///
    /// On MySQL and MariaDB, which have no `NOT VALID`, an `ADD FOREIGN KEY` on an existing table
    /// copies the table (`ALGORITHM=COPY`) unless the migration turned `foreign_key_checks` off
    /// before it; then the key is added in place.
    ///
    /// ## Why it breaks the running app
    /// Validating the key scans the whole table while holding SHARE ROW EXCLUSIVE locks on both
    /// the table and the referenced table: writes to both stop until the scan ends.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD CONSTRAINT orders_customer_fk
    ///   FOREIGN KEY (customer_id) REFERENCES customers (id);
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. PostgreSQL: `ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (...) REFERENCES ... NOT VALID;` (new rows are checked at once).
    /// 2. PostgreSQL: in a later migration, `ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;` (takes only SHARE UPDATE EXCLUSIVE).
    /// 3. MySQL: check for rows without a match first (`SELECT ... LEFT JOIN ... WHERE parent.id IS NULL`): with the checks off existing rows are not verified.
    /// 4. MySQL: `SET foreign_key_checks = 0;` earlier in the same migration, then the `ADD FOREIGN KEY` (MySQL and MariaDB add it in place, ALGORITHM=INPLACE, LOCK=NONE); migrate restores the setting after the migration.
    ///
    /// ## Suppress
    /// `-- migrate:allow add-foreign-key-without-not-valid: <reason>` above the statement.
    ADD_FOREIGN_KEY_WITHOUT_NOT_VALID, code = "M204", name = "add-foreign-key-without-not-valid", kind = Lock,
    severity = Error,
    summary = "adding a foreign key without NOT VALID locks both tables while it validates", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    if let Some((table, column)) = inline_on_old_table(ctx, change) {
        // Without a default every existing row holds NULL: PostgreSQL skips the check.
        let filled = column.default.as_ref().is_some_and(|d| !d.is_null);
        if let (Some(references), true) = (&column.references, filled) {
            let object = table.column(&column.name);
            ctx.report(
                change.span,
                table,
                format!("adding {object} with a DEFAULT and an inline REFERENCES {references} checks every row of {table} while writes to both tables wait"),
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
    let ConstraintKind::ForeignKey { references, .. } = &constraint.kind else {
        return;
    };
    if ctx.is_new_table(table) {
        return;
    }
    if ctx.dialect == Dialect::Mysql {
        if !ctx
            .file
            .foreign_key_checks_off
            .get(ctx.stmt_index)
            .copied()
            .unwrap_or(false)
        {
            ctx.report(
                change.span,
                table,
                format!("adding a foreign key from {table} to {references} copies the whole table (ALGORITHM=COPY) while writes to it wait, because foreign_key_checks is on"),
            );
        }
        return;
    }
    if !ctx.postgres() {
        return;
    }
    ctx.report(
        change.span,
        table,
        format!("adding a foreign key from {table} to {references} without NOT VALID blocks writes to both tables while every row is checked"),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    const TABLES: &str = "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE c (pid int);";

    #[test]
    fn mysql_copies_unless_foreign_key_checks_are_off() {
        use crate::analyze::rules::testing::{Dialect, fires};
        let add = "ALTER TABLE c ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES p (id);";
        let rule = "add-foreign-key-without-not-valid";
        assert_eq!(fires(rule, Dialect::Mysql, &[TABLES, add]), [(2, 1)]);
        let off = format!("SET foreign_key_checks = 0;\n{add}");
        assert!(fires(rule, Dialect::Mysql, &[TABLES, &off]).is_empty());
        let global = format!("SET GLOBAL foreign_key_checks = 0;\n{add}");
        assert_eq!(fires(rule, Dialect::Mysql, &[TABLES, &global]), [(2, 2)]);
        let listed = format!("SET foreign_key_checks = 0, sql_mode = '';\n{add}");
        assert!(fires(rule, Dialect::Mysql, &[TABLES, &listed]).is_empty());
        let back_on = format!("SET foreign_key_checks = 0;\nSET foreign_key_checks = 1;\n{add}");
        assert_eq!(fires(rule, Dialect::Mysql, &[TABLES, &back_on]), [(2, 3)]);
    }

    #[test]
    fn flags_validated_keys() {
        let files = [
            TABLES,
            "ALTER TABLE c ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES p (id);",
        ];
        assert_eq!(
            fires_pg("add-foreign-key-without-not-valid", &files),
            [(2, 1)]
        );
    }

    #[test]
    fn not_valid_is_fine() {
        let files = [
            TABLES,
            "ALTER TABLE c ADD CONSTRAINT fk FOREIGN KEY (pid) REFERENCES p (id) NOT VALID;",
        ];
        assert!(fires_pg("add-foreign-key-without-not-valid", &files).is_empty());
    }

    #[test]
    fn inline_form_on_add_column() {
        let base = "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE t (a int);";
        assert_eq!(
            crate::analyze::rules::testing::fires_pg(
                "add-foreign-key-without-not-valid",
                &[
                    base,
                    "ALTER TABLE t ADD COLUMN p_id int DEFAULT 1 REFERENCES p (id);"
                ]
            ),
            [(2, 1)]
        );
        assert!(
            crate::analyze::rules::testing::fires_pg(
                "add-foreign-key-without-not-valid",
                &[base, "ALTER TABLE t ADD COLUMN p_id int REFERENCES p (id);"]
            )
            .is_empty()
        );
        let new_table = "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN p_id int DEFAULT 1 REFERENCES p (id);";
        assert!(
            crate::analyze::rules::testing::fires_pg(
                "add-foreign-key-without-not-valid",
                &["CREATE TABLE p (id int PRIMARY KEY);", new_table]
            )
            .is_empty()
        );
    }
}
