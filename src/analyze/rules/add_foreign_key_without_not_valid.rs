//! Flags adding a validated foreign key to an existing PostgreSQL table.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ConstraintKind};
use crate::analyze::registry::declare_rule;
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
    /// 1. `ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (...) REFERENCES ... NOT VALID;` (new rows are checked at once).
    /// 2. In a later migration: `ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;` (takes only SHARE UPDATE EXCLUSIVE).
    ///
    /// ## Suppress
    /// `-- migrate:allow add-foreign-key-without-not-valid: <reason>` above the statement.
    ADD_FOREIGN_KEY_WITHOUT_NOT_VALID, code = "M204", name = "add-foreign-key-without-not-valid",
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
    if !ctx.postgres() || ctx.is_new_table(table) {
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
