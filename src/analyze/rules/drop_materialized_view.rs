//! Flags `DROP MATERIALIZED VIEW` of a view the previous release can see.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ObjectKind};
use crate::analyze::registry::declare_rule;
use crate::analyze::rules::check_drop;

declare_rule! {
    /// ## What it does
    /// Flags `DROP MATERIALIZED VIEW` of a materialized view created by an earlier migration.
    /// Same-release views and drop-and-re-create in one PostgreSQL migration are free.
    ///
    /// ## Why it breaks the running app
    /// Queries of the previous release that read the materialized view fail once it is gone,
    /// and a re-created one is empty until refreshed.
    ///
    /// ## Example
    /// ```sql
    /// DROP MATERIALIZED VIEW daily_stats;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Create the new materialized view under a new name and refresh it.
    /// 2. Release an app version that reads the new one.
    /// 3. Drop the old one in a later (contract) migration.
    /// 4. The breaking step, once no release uses the old shape, is a contract migration (`migrate new --contract`, applied by `migrate up --phase contract` after the rollout): docs/recipes.md.
    ///
    /// ## Suppress
    /// `-- migrate:allow drop-materialized-view: <reason>` above the statement.
    DROP_MATERIALIZED_VIEW, code = "M104", name = "drop-materialized-view", kind = Compat, severity = Error,
    summary = "dropping a materialized view breaks the previous release, which still reads it", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::DropView {
        view,
        materialized: true,
    } = &change.kind
    else {
        return;
    };
    let release = ctx.catalog.view(view).map(|v| v.release);
    check_drop(
        ctx,
        change.span,
        ObjectKind::MaterializedView,
        view,
        release,
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn flags_old_materialized_views() {
        let files = [
            "CREATE MATERIALIZED VIEW m AS SELECT 1 AS a;",
            "DROP MATERIALIZED VIEW m;",
        ];
        assert_eq!(fires_pg("drop-materialized-view", &files), [(2, 1)]);
    }

    #[test]
    fn same_release_is_free() {
        let files = ["CREATE MATERIALIZED VIEW m AS SELECT 1 AS a;\nDROP MATERIALIZED VIEW m;"];
        assert!(fires_pg("drop-materialized-view", &files).is_empty());
    }
}
