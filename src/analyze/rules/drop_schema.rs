//! Flags `DROP SCHEMA` of a schema the previous release can see.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `DROP SCHEMA` (`DROP DATABASE`-like in effect with `CASCADE`) of a schema created
    /// by an earlier migration or outside the migrations.
    ///
    /// ## Why it breaks the running app
    /// Every table, view, type and function in the schema the previous release uses disappears
    /// with it (with `CASCADE`, silently).
    ///
    /// ## Example
    /// ```sql
    /// DROP SCHEMA reporting CASCADE;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Move the app off every object in the schema and release it.
    /// 2. Drop the schema in a later (contract) migration.
    /// 3. The breaking step, once no release uses the old shape, is a contract migration (`migrate new --contract`, applied by `migrate up --phase contract` after the rollout): docs/recipes.md.
    ///
    /// ## Suppress
    /// `-- migrate:allow drop-schema: <reason>` above the statement.
    DROP_SCHEMA, code = "M105", name = "drop-schema", kind = Compat, severity = Error,
    summary = "dropping a schema drops everything the previous release uses in it", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::DropSchema { name } = &change.kind else {
        return;
    };
    if ctx.is_new_in(ctx.catalog.schema(name), Some(name)) {
        return;
    }
    ctx.report(
        change.span,
        name,
        format!("dropping schema {name} breaks the previous release, which still uses its objects"),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn flags_old_schemas() {
        let files = ["CREATE SCHEMA s;", "DROP SCHEMA s CASCADE;"];
        assert_eq!(fires_pg("drop-schema", &files), [(2, 1)]);
    }

    #[test]
    fn same_release_is_free() {
        assert!(fires_pg("drop-schema", &["CREATE SCHEMA s;\nDROP SCHEMA s;"]).is_empty());
    }
}
