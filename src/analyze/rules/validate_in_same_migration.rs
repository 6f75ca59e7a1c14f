//! Flags `VALIDATE CONSTRAINT` in the same migration (transaction) that added it `NOT VALID`.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... VALIDATE CONSTRAINT c` in the same PostgreSQL migration file that
    /// added `c` as `NOT VALID`.
    ///
    /// ## Why it breaks the running app
    /// The file runs in one transaction, so the strong lock taken by `ADD CONSTRAINT` is still
    /// held while `VALIDATE` scans the table: the two-step recipe loses its point and writes
    /// are blocked for the whole scan.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (customer_id) REFERENCES customers NOT VALID;
    /// ALTER TABLE orders VALIDATE CONSTRAINT fk;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Keep `ADD CONSTRAINT ... NOT VALID` in one migration.
    /// 2. Put `VALIDATE CONSTRAINT` in the next migration file (its own transaction).
    ///
    /// ## Suppress
    /// `-- migrate:allow validate-in-same-migration: <reason>` above the statement.
    VALIDATE_IN_SAME_MIGRATION, code = "M213", name = "validate-in-same-migration", kind = Lock,
    severity = Error,
    summary = "VALIDATE in the transaction that added NOT VALID keeps the strong lock", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::ValidateConstraint { table, name } = &change.kind else {
        return;
    };
    if !ctx.postgres() || ctx.is_new_table(table) {
        return;
    }
    let added_here = ctx.catalog.table(table).is_some_and(|t| {
        t.constraints
            .iter()
            .any(|c| c.name.as_ref() == Some(name) && !c.validated && c.file == ctx.file_no)
    });
    if !added_here {
        return;
    }
    ctx.report(
        change.span,
        table,
        format!("validating {name} in the migration that added it NOT VALID holds the strong lock of ADD CONSTRAINT during the scan of {table}"),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    const TABLE: &str = "CREATE TABLE t (a int);";
    const ADD: &str = "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID;";
    const VALIDATE: &str = "ALTER TABLE t VALIDATE CONSTRAINT c;";

    #[test]
    fn flags_same_file() {
        let same = format!("{ADD}\n{VALIDATE}");
        assert_eq!(
            fires_pg("validate-in-same-migration", &[TABLE, &same]),
            [(2, 2)]
        );
    }

    #[test]
    fn next_file_is_fine() {
        assert!(fires_pg("validate-in-same-migration", &[TABLE, ADD, VALIDATE]).is_empty());
    }
}
