//! Flags renaming a view or materialized view the previous release can see.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ObjectKind};
use crate::analyze::registry::declare_rule;
use crate::analyze::rules::check_rename;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER [MATERIALIZED] VIEW ... RENAME TO` of a view created by an earlier
    /// migration.
    ///
    /// ## Why it breaks the running app
    /// Queries of the previous release name the old view and fail.
    ///
    /// ## Example
    /// ```sql
    /// ALTER VIEW active_users RENAME TO current_users;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Create the view under the new name (same query) beside the old one.
    /// 2. Release an app version that reads the new name.
    /// 3. Drop the old view in a later (contract) migration.
    /// 4. Every file and app release, for PostgreSQL and MySQL: docs/recipes.md, “Rename a table”.
    ///
    /// ## Suppress
    /// `-- migrate:allow rename-view: <reason>` above the statement.
    RENAME_VIEW, code = "M113", name = "rename-view", kind = Compat, severity = Error,
    summary = "renaming a view breaks the previous release, which uses the old name", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::RenameObject {
        kind: kind @ (ObjectKind::View | ObjectKind::MaterializedView),
        from,
        to,
    } = &change.kind
    else {
        return;
    };
    let new = ctx.is_new_object(*kind, from);
    check_rename(
        ctx,
        change.span,
        kind.noun(),
        &from.to_string(),
        &to.to_string(),
        new,
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn flags_old_views() {
        let files = [
            "CREATE VIEW v AS SELECT 1 AS a;",
            "ALTER VIEW v RENAME TO w;",
        ];
        assert_eq!(fires_pg("rename-view", &files), [(2, 1)]);
    }

    #[test]
    fn same_release_is_free() {
        let files = ["CREATE VIEW v AS SELECT 1 AS a;\nALTER VIEW v RENAME TO w;"];
        assert!(fires_pg("rename-view", &files).is_empty());
    }
}
