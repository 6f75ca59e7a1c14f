//! Flags `ALTER ... SET SCHEMA` moving an object the previous release can see.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE|VIEW|TYPE|SEQUENCE|FUNCTION ... SET SCHEMA` of an object created by an
    /// earlier migration.
    ///
    /// ## Why it breaks the running app
    /// Moving an object to another schema is a rename: the previous release finds it under
    /// its old qualified name (or through `search_path`) and fails.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE invoices SET SCHEMA billing;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Move the object and leave a compatibility view (or wrapper) under the old name.
    /// 2. Release an app version that uses the new schema.
    /// 3. Drop the compatibility object in a later (contract) migration.
    /// 4. The breaking step, once no release uses the old shape, is a contract migration (`migrate new --contract`, applied by `migrate up --phase contract` after the rollout): docs/recipes.md.
    ///
    /// ## Suppress
    /// `-- migrate:allow set-schema: <reason>` above the statement.
    SET_SCHEMA, code = "M116", name = "set-schema", kind = Compat, severity = Error,
    summary = "moving an object to another schema breaks the previous release's names", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::SetSchema {
        kind,
        object,
        schema,
    } = &change.kind
    else {
        return;
    };
    if ctx.is_new_object(*kind, object) {
        return;
    }
    ctx.report(
        change.span,
        object,
        format!(
            "moving {} {object} to schema {schema} breaks the previous release, which uses the old name",
            kind.noun()
        ),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn flags_old_objects() {
        let files = [
            "CREATE TABLE t (id int);",
            "ALTER TABLE t SET SCHEMA archive;",
        ];
        assert_eq!(fires_pg("set-schema", &files), [(2, 1)]);
    }

    #[test]
    fn same_release_is_free() {
        let files = ["CREATE TABLE t (id int);\nALTER TABLE t SET SCHEMA archive;"];
        assert!(fires_pg("set-schema", &files).is_empty());
    }
}
