//! Flags adding an exclusion constraint to an existing PostgreSQL table.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ConstraintKind};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... ADD ... EXCLUDE USING ...` on a PostgreSQL table created by an
    /// earlier migration.
    ///
    /// ## Why it breaks the running app
    /// An exclusion constraint cannot be added `NOT VALID` or from an existing index: its index
    /// is built and every row checked under an ACCESS EXCLUSIVE lock, and there is no online
    /// alternative.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&);
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Add it when the table is created, or in a maintenance window.
    /// 2. Meanwhile enforce the rule in the app or with a trigger.
    ///
    /// ## Suppress
    /// `-- migrate:allow add-exclusion-constraint: <reason>` above the statement.
    ADD_EXCLUSION_CONSTRAINT, code = "M214", name = "add-exclusion-constraint", kind = Lock, severity = Error,
    summary = "an exclusion constraint is built under an exclusive lock with no online way", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::AddConstraint {
        table, constraint, ..
    } = &change.kind
    else {
        return;
    };
    if constraint.kind != ConstraintKind::Exclusion || !ctx.postgres() || ctx.is_new_table(table) {
        return;
    }
    ctx.report(
        change.span,
        table,
        format!("adding an exclusion constraint to {table} builds its index and checks every row under an ACCESS EXCLUSIVE lock"),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    const ADD: &str = "ALTER TABLE b ADD CONSTRAINT x EXCLUDE USING gist (room WITH =);";

    #[test]
    fn flags_existing_tables() {
        assert_eq!(
            fires_pg(
                "add-exclusion-constraint",
                &["CREATE TABLE b (room int);", ADD]
            ),
            [(2, 1)]
        );
    }

    #[test]
    fn new_tables_are_fine() {
        let same = format!("CREATE TABLE b (room int);\n{ADD}");
        assert!(fires_pg("add-exclusion-constraint", &[&same]).is_empty());
    }
}
