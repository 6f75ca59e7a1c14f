//! Flags `ALTER TYPE ... RENAME VALUE` on an enum the previous release can see.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ObjectKind};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags renaming a label of an enum type created by an earlier migration.
    ///
    /// ## Why it breaks the running app
    /// The previous release writes and compares the old label: its inserts fail with "invalid
    /// input value for enum" and its reads no longer match.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TYPE order_status RENAME VALUE 'canceled' TO 'cancelled';
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Add the new label (`ALTER TYPE ... ADD VALUE`).
    /// 2. Release an app version that accepts both labels and writes the new one.
    /// 3. Backfill rows from the old label to the new one.
    /// 4. Stop accepting the old label in a later release.
    /// 5. Every file and app release, for PostgreSQL and MySQL: docs/recipes.md, “Replace an enum value”.
    ///
    /// ## Suppress
    /// `-- migrate:allow rename-enum-value: <reason>` above the statement.
    RENAME_ENUM_VALUE, code = "M115", name = "rename-enum-value", kind = Compat, severity = Error,
    summary = "renaming an enum label breaks the previous release, which writes the old one", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::RenameEnumValue { ty, from, to } = &change.kind else {
        return;
    };
    if ctx.is_new_object(ObjectKind::Type, ty) {
        return;
    }
    ctx.report(
        change.span,
        ty,
        format!("renaming label '{from}' of enum {ty} to '{to}' breaks the previous release, which still writes '{from}'"),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn flags_old_enums() {
        let files = [
            "CREATE TYPE s AS ENUM ('a');",
            "ALTER TYPE s RENAME VALUE 'a' TO 'b';",
        ];
        assert_eq!(fires_pg("rename-enum-value", &files), [(2, 1)]);
    }

    #[test]
    fn same_release_is_free() {
        let files = ["CREATE TYPE s AS ENUM ('a');\nALTER TYPE s RENAME VALUE 'a' TO 'b';"];
        assert!(fires_pg("rename-enum-value", &files).is_empty());
    }
}
