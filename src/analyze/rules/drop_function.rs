//! Flags `DROP FUNCTION`/`DROP PROCEDURE` of a routine the previous release can see.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ObjectKind};
use crate::analyze::registry::declare_rule;
use crate::analyze::rules::check_drop;

declare_rule! {
    /// ## What it does
    /// Flags `DROP FUNCTION` or `DROP PROCEDURE` of a routine created by an earlier migration.
    /// Dropping and re-creating it in the same PostgreSQL migration is a replacement and free.
    ///
    /// ## Why it breaks the running app
    /// Queries, triggers and defaults of the previous release that call the routine fail.
    ///
    /// ## Example
    /// ```sql
    /// DROP FUNCTION calculate_score(integer);
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. To change a function, use `CREATE OR REPLACE FUNCTION` with a compatible signature.
    /// 2. To remove it, release an app version that no longer calls it, then drop it in a later (contract) migration.
    /// 3. The breaking step, once no release uses the old shape, is a contract migration (`migrate new --contract`, applied by `migrate up --phase contract` after the rollout): docs/recipes.md.
    ///
    /// ## Suppress
    /// `-- migrate:allow drop-function: <reason>` above the statement.
    DROP_FUNCTION, code = "M108", name = "drop-function", kind = Compat, severity = Error,
    summary = "dropping a function breaks callers in the previous release", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::DropFunction { name } = &change.kind else {
        return;
    };
    let release = ctx.catalog.function(name).map(|f| f.release);
    check_drop(ctx, change.span, ObjectKind::Function, name, release);
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    const CREATE: &str = "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;";

    #[test]
    fn flags_old_functions() {
        let files = [CREATE, "DROP FUNCTION f();"];
        assert_eq!(fires_pg("drop-function", &files), [(2, 1)]);
    }

    #[test]
    fn replacement_is_free() {
        let replace = format!("DROP FUNCTION f();\n{CREATE}");
        let files = [CREATE, replace.as_str()];
        assert!(fires_pg("drop-function", &files).is_empty());
    }
}
