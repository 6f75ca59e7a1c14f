//! Warns when an existing column becomes nullable.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Warns about `ALTER COLUMN ... DROP NOT NULL` (and a MySQL `MODIFY` that drops
    /// `NOT NULL`) on a column the previous release can see.
    ///
    /// ## Why it breaks the running app
    /// Usually it does not, which is why this is a warning: but readers of the previous
    /// release that assume a value (non-optional fields in typed ORMs) crash on the first NULL
    /// the new release writes.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users ALTER COLUMN phone DROP NOT NULL;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Release an app version whose readers tolerate NULL.
    /// 2. Then drop `NOT NULL`, before any version writes NULLs.
    /// 3. The breaking step, once no release uses the old shape, is a contract migration (`migrate new --contract`, applied by `migrate up --phase contract` after the rollout): docs/recipes.md.
    ///
    /// ## Suppress
    /// `-- migrate:allow drop-not-null: <why old readers tolerate NULL>` above the statement.
    DROP_NOT_NULL, code = "M123", name = "drop-not-null", kind = Compat, severity = Warning,
    summary = "dropping NOT NULL lets NULLs reach old readers that assume a value", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let (table, column) = match &change.kind {
        ChangeKind::DropNotNull { table, column } => (table, column),
        ChangeKind::RedefineColumn {
            table,
            from,
            column,
        } if !column.not_null && ctx.catalog.column(table, from).is_some_and(|c| c.not_null) => {
            (table, from)
        }
        _ => return,
    };
    if ctx.is_new_column(table, column) {
        return;
    }
    ctx.report(
        change.span,
        table.column(column),
        format!(
            "dropping NOT NULL on {} lets NULLs reach readers of the previous release that assume a value",
            table.column(column)
        ),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn warns_on_old_columns() {
        let files = [
            "CREATE TABLE t (a int NOT NULL);",
            "ALTER TABLE t ALTER COLUMN a DROP NOT NULL;",
        ];
        assert_eq!(fires_pg("drop-not-null", &files), [(2, 1)]);
    }

    #[test]
    fn same_release_is_free() {
        let files =
            ["CREATE TABLE t (a int NOT NULL);\nALTER TABLE t ALTER COLUMN a DROP NOT NULL;"];
        assert!(fires_pg("drop-not-null", &files).is_empty());
    }
}
