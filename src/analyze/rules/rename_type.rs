//! Flags renaming a type the previous release can see.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ObjectKind};
use crate::analyze::registry::declare_rule;
use crate::analyze::rules::check_rename;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TYPE ... RENAME TO` of a type created by an earlier migration.
    ///
    /// ## Why it breaks the running app
    /// Queries of the previous release that cast to the type by name (`$1::order_status`;
    /// ORMs do this for enums) fail with "type does not exist".
    ///
    /// ## Example
    /// ```sql
    /// ALTER TYPE order_status RENAME TO order_state;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Keep the type name, or create the new type beside the old one.
    /// 2. Move columns to the new type with the add-column/backfill/switch recipe.
    /// 3. Drop the old type in a later (contract) migration.
    /// 4. The breaking step, once no release uses the old shape, is a contract migration (`migrate new --contract`, applied by `migrate up --phase contract` after the rollout): docs/recipes.md.
    ///
    /// ## Suppress
    /// `-- migrate:allow rename-type: <reason>` above the statement.
    RENAME_TYPE, code = "M117", name = "rename-type", kind = Compat, severity = Error,
    summary = "renaming a type breaks casts in the previous release", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::RenameObject {
        kind: ObjectKind::Type,
        from,
        to,
    } = &change.kind
    else {
        return;
    };
    let new = ctx.is_new_object(ObjectKind::Type, from);
    check_rename(
        ctx,
        change.span,
        "type",
        &from.to_string(),
        &to.to_string(),
        new,
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn flags_old_types() {
        let files = ["CREATE TYPE s AS ENUM ('a');", "ALTER TYPE s RENAME TO t;"];
        assert_eq!(fires_pg("rename-type", &files), [(2, 1)]);
    }

    #[test]
    fn same_release_is_free() {
        let files = ["CREATE TYPE s AS ENUM ('a');\nALTER TYPE s RENAME TO t;"];
        assert!(fires_pg("rename-type", &files).is_empty());
    }
}
