//! Flags renaming a function or procedure the previous release can see.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ObjectKind};
use crate::analyze::registry::declare_rule;
use crate::analyze::rules::check_rename;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER FUNCTION|PROCEDURE ... RENAME TO` of a routine created by an earlier
    /// migration.
    ///
    /// ## Why it breaks the running app
    /// Calls of the previous release use the old name and fail.
    ///
    /// ## Example
    /// ```sql
    /// ALTER FUNCTION score(integer) RENAME TO user_score;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Create the function under the new name, keeping the old one (it may call the new one).
    /// 2. Release an app version that calls the new name.
    /// 3. Drop the old function in a later (contract) migration.
    /// 4. The breaking step, once no release uses the old shape, is a contract migration (`migrate new --contract`, applied by `migrate up --phase contract` after the rollout): docs/recipes.md.
    ///
    /// ## Suppress
    /// `-- migrate:allow rename-function: <reason>` above the statement.
    RENAME_FUNCTION, code = "M118", name = "rename-function", kind = Compat, severity = Error,
    summary = "renaming a function breaks callers in the previous release", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::RenameObject {
        kind: ObjectKind::Function,
        from,
        to,
    } = &change.kind
    else {
        return;
    };
    let new = ctx.is_new_object(ObjectKind::Function, from);
    check_rename(
        ctx,
        change.span,
        "function",
        &from.to_string(),
        &to.to_string(),
        new,
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    const CREATE: &str = "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;";

    #[test]
    fn flags_old_functions() {
        let files = [CREATE, "ALTER FUNCTION f() RENAME TO g;"];
        assert_eq!(fires_pg("rename-function", &files), [(2, 1)]);
    }

    #[test]
    fn same_release_is_free() {
        let same = format!("{CREATE}\nALTER FUNCTION f() RENAME TO g;");
        assert!(fires_pg("rename-function", &[&same]).is_empty());
    }
}
