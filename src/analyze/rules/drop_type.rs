//! Flags `DROP TYPE` of a type the previous release can see.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ObjectKind};
use crate::analyze::registry::declare_rule;
use crate::analyze::rules::check_drop;

declare_rule! {
    /// ## What it does
    /// Flags `DROP TYPE` (and `DROP DOMAIN`) of a type created by an earlier migration. A drop
    /// followed by a re-create in the same PostgreSQL migration is a replacement:
    /// `remove-enum-value` then compares the enum labels.
    ///
    /// ## Why it breaks the running app
    /// Columns of that type are dropped with it (`CASCADE`) or block the drop, and queries of
    /// the previous release that cast to the type (`'x'::mood`, ORMs do this for enums) fail.
    ///
    /// ## Example
    /// ```sql
    /// DROP TYPE mood;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Move every column off the type and release an app version that no longer names it.
    /// 2. Drop the type in a later (contract) migration.
    /// 3. The breaking step, once no release uses the old shape, is a contract migration (`migrate new --contract`, applied by `migrate up --phase contract` after the rollout): docs/recipes.md.
    ///
    /// ## Suppress
    /// `-- migrate:allow drop-type: <reason>` above the statement.
    DROP_TYPE, code = "M106", name = "drop-type", kind = Compat, severity = Error,
    summary = "dropping a type breaks columns and queries of the previous release", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::DropType { name } = &change.kind else {
        return;
    };
    let release = ctx.catalog.user_type(name).map(|t| t.release);
    check_drop(ctx, change.span, ObjectKind::Type, name, release);
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn flags_old_types() {
        let files = ["CREATE TYPE mood AS ENUM ('a');", "DROP TYPE mood;"];
        assert_eq!(fires_pg("drop-type", &files), [(2, 1)]);
    }

    #[test]
    fn flags_old_domains() {
        let files = [
            "CREATE DOMAIN posint AS int CHECK (VALUE > 0);",
            "DROP DOMAIN posint;",
        ];
        assert_eq!(fires_pg("drop-type", &files), [(2, 1)]);
        let same = ["CREATE DOMAIN posint AS int;\nDROP DOMAIN posint;"];
        assert!(fires_pg("drop-type", &same).is_empty());
    }

    #[test]
    fn same_release_is_free() {
        let files = ["CREATE TYPE mood AS ENUM ('a');\nDROP TYPE mood;"];
        assert!(fires_pg("drop-type", &files).is_empty());
    }
}
