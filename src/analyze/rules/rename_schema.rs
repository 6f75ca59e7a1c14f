//! Flags renaming a schema the previous release can see.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;
use crate::analyze::rules::check_rename;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER SCHEMA ... RENAME TO` of a schema created by an earlier migration or
    /// outside the migrations.
    ///
    /// ## Why it breaks the running app
    /// Every qualified name (`billing.invoices`) and `search_path` setting of the previous
    /// release points at a schema that no longer exists.
    ///
    /// ## Example
    /// ```sql
    /// ALTER SCHEMA billing RENAME TO invoicing;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Create the new schema and move objects one at a time with compatibility views.
    /// 2. Release an app version that uses the new names.
    /// 3. Drop the old schema in a later (contract) migration.
    /// 4. The breaking step, once no release uses the old shape, is a contract migration (`migrate new --contract`, applied by `migrate up --phase contract` after the rollout): docs/recipes.md.
    ///
    /// ## Suppress
    /// `-- migrate:allow rename-schema: <reason>` above the statement.
    RENAME_SCHEMA, code = "M114", name = "rename-schema", kind = Compat, severity = Error,
    summary = "renaming a schema breaks every qualified name of the previous release", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::RenameSchema { from, to } = &change.kind else {
        return;
    };
    let new = ctx.is_new_in(ctx.catalog.schema(from), Some(from));
    check_rename(ctx, change.span, "schema", from, to, new);
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn flags_old_schemas() {
        let files = ["CREATE SCHEMA a;", "ALTER SCHEMA a RENAME TO b;"];
        assert_eq!(fires_pg("rename-schema", &files), [(2, 1)]);
    }

    #[test]
    fn same_release_is_free() {
        assert!(
            fires_pg(
                "rename-schema",
                &["CREATE SCHEMA a;\nALTER SCHEMA a RENAME TO b;"]
            )
            .is_empty()
        );
    }
}
