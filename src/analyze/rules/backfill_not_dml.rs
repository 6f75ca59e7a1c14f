//! Flags a statement in a backfill migration that is not a data change.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;
use crate::source::directive::Phase;

declare_rule! {
    /// ## What it does
    /// In a backfill migration (`-- migrate:backfill`), flags every statement that is not an
    /// `UPDATE`, an `INSERT` or a `DELETE`: schema changes, session settings, transaction
    /// control, code the analysis cannot see into.
    ///
    /// ## Why it breaks the running app
    /// `migrate up` runs each statement of a backfill again and again, each run its own short
    /// transaction, until it changes no row. A schema change would run once and then fail or
    /// repeat, a `SET` would leak into the batches' session, and a `BEGIN` would fight the
    /// batch transactions; none of them changes rows in bounded batches.
    ///
    /// ## Example
    /// ```sql
    /// -- migrate:backfill
    /// ALTER TABLE users ADD COLUMN org_id bigint;
    /// UPDATE users SET org_id = 1 WHERE id IN (SELECT id FROM users WHERE org_id IS NULL LIMIT 5000);
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Put the schema change in an expand migration before the backfill (`migrate new DESCRIPTION`).
    /// 2. Keep only the batched `UPDATE`, `INSERT ... SELECT` and `DELETE` statements in the backfill migration.
    ///
    /// ## Suppress
    /// Not suppressible in effect: the statement would still be repeated. Move it to another migration.
    BACKFILL_NOT_DML, code = "M016", name = "backfill-not-dml", kind = Statement,
    severity = Error,
    summary = "a backfill migration holds a statement that is not UPDATE, INSERT or DELETE",
    check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    if ctx.phase() != Phase::Backfill
        || matches!(
            change.kind,
            ChangeKind::Update { .. } | ChangeKind::Insert { .. } | ChangeKind::Delete { .. }
        )
    {
        return;
    }
    ctx.report(
        change.span,
        "",
        "a backfill migration holds only UPDATE, INSERT and DELETE statements, each repeated in batches: move this statement to an expand or contract migration",
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn only_data_changes_in_a_backfill() {
        let files = [
            "CREATE TABLE users (id bigint PRIMARY KEY, org_id bigint);",
            "-- migrate:backfill\nUPDATE users SET org_id = 1 WHERE id IN (SELECT id FROM users WHERE org_id IS NULL LIMIT 10);\nSET lock_timeout = '1s';\nCREATE INDEX i ON users (org_id);\nDELETE FROM users WHERE id IN (SELECT id FROM users WHERE org_id = 0 LIMIT 10);",
        ];
        assert_eq!(fires_pg("backfill-not-dml", &files), [(2, 3), (2, 4)]);
        let expand = ["CREATE TABLE t (id int);\nCREATE INDEX i ON t (id);"];
        assert!(fires_pg("backfill-not-dml", &expand).is_empty());
    }
}
