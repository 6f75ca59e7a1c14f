//! Flags `DROP VIEW` of a view the previous release can see.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ObjectKind};
use crate::analyze::registry::declare_rule;
use crate::analyze::rules::check_drop;

declare_rule! {
    /// ## What it does
    /// Flags `DROP VIEW` of a view created by an earlier migration. A view created in the same
    /// release is free, and so is a drop followed by a re-create of the same view in the same
    /// migration on PostgreSQL or SQLite (atomic; `replace-view-changing-columns` then compares
    /// the columns).
    ///
    /// ## Why it breaks the running app
    /// Queries of the previous release that read the view fail once it is gone.
    ///
    /// ## Example
    /// ```sql
    /// DROP VIEW active_users;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Release an app version that no longer reads the view.
    /// 2. Drop it in a later (contract) migration.
    /// 3. To change it, use `CREATE OR REPLACE VIEW` and only append columns.
    /// 4. The breaking step, once no release uses the old shape, is a contract migration (`migrate new --contract`, applied by `migrate up --phase contract` after the rollout): docs/recipes.md.
    ///
    /// ## Suppress
    /// `-- migrate:allow drop-view: <reason>` above the statement.
    DROP_VIEW, code = "M103", name = "drop-view", kind = Compat, severity = Error,
    summary = "dropping a view breaks the previous release, which still reads it", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::DropView {
        view,
        materialized: false,
    } = &change.kind
    else {
        return;
    };
    let release = ctx.catalog.view(view).map(|v| v.release);
    check_drop(ctx, change.span, ObjectKind::View, view, release);
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn flags_old_views() {
        let files = ["CREATE VIEW v AS SELECT 1 AS a;", "DROP VIEW v;"];
        assert_eq!(fires_pg("drop-view", &files), [(2, 1)]);
    }

    #[test]
    fn replacement_in_one_migration_is_free() {
        let files = [
            "CREATE VIEW v AS SELECT 1 AS a;",
            "DROP VIEW v;\nCREATE VIEW v AS SELECT 1 AS a, 2 AS b;",
        ];
        assert!(fires_pg("drop-view", &files).is_empty());
    }
}
