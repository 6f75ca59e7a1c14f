//! Flags `DROP SEQUENCE` of a sequence the previous release can see.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ObjectKind};
use crate::analyze::registry::declare_rule;
use crate::analyze::rules::check_drop;

declare_rule! {
    /// ## What it does
    /// Flags `DROP SEQUENCE` of a sequence created by an earlier migration.
    ///
    /// ## Why it breaks the running app
    /// Column defaults (`nextval(...)`) and queries of the previous release that use the
    /// sequence fail, so inserts stop working.
    ///
    /// ## Example
    /// ```sql
    /// DROP SEQUENCE invoice_numbers;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Remove every default and query that uses the sequence and release that.
    /// 2. Drop the sequence in a later (contract) migration.
    /// 3. The breaking step, once no release uses the old shape, is a contract migration (`migrate new --contract`, applied by `migrate up --phase contract` after the rollout): docs/recipes.md.
    ///
    /// ## Suppress
    /// `-- migrate:allow drop-sequence: <reason>` above the statement.
    DROP_SEQUENCE, code = "M107", name = "drop-sequence", kind = Compat, severity = Error,
    summary = "dropping a sequence breaks defaults and queries of the previous release", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::DropSequence { name } = &change.kind else {
        return;
    };
    let release = ctx.catalog.sequence(name);
    check_drop(ctx, change.span, ObjectKind::Sequence, name, release);
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn flags_old_sequences() {
        let files = ["CREATE SEQUENCE s;", "DROP SEQUENCE s;"];
        assert_eq!(fires_pg("drop-sequence", &files), [(2, 1)]);
    }

    #[test]
    fn same_release_is_free() {
        assert!(fires_pg("drop-sequence", &["CREATE SEQUENCE s;\nDROP SEQUENCE s;"]).is_empty());
    }
}
