//! Flags replacing a view in a way that removes, renames or reorders its columns.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `CREATE OR REPLACE VIEW` (or a drop and re-create of the view in one migration)
    /// whose column list no longer starts with the old one: a column removed, renamed or moved.
    /// Appending columns at the end is fine. Views whose columns cannot be known (`SELECT *`,
    /// unnamed expressions) are not judged. No other linter checks this.
    ///
    /// ## Why it breaks the running app
    /// The previous release reads the view's columns by name (or position): a removed or
    /// renamed column makes its queries fail. PostgreSQL itself only allows appending in
    /// `CREATE OR REPLACE VIEW`, so a drop-and-create is the usual way this slips through.
    ///
    /// ## Example
    /// ```sql
    /// -- an earlier migration
    /// CREATE TABLE users (id bigint PRIMARY KEY, email text);
    /// CREATE VIEW active_users AS SELECT id, email FROM users;
    /// ```
    ///
    /// ```sql
    /// -- this migration
    /// CREATE OR REPLACE VIEW active_users AS SELECT id, email AS login FROM users;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Only append columns to the existing view.
    /// 2. For other changes, create a view with a new name and release an app version that reads it.
    /// 3. Drop the old view in a later (contract) migration.
    /// 4. Every file and app release, for PostgreSQL and MySQL: docs/recipes.md, “Rename a column”.
    ///
    /// ## Suppress
    /// `-- migrate:allow replace-view-changing-columns: <reason>` above the statement.
    REPLACE_VIEW_CHANGING_COLUMNS, code = "M124", name = "replace-view-changing-columns", kind = Compat,
    severity = Error,
    summary = "replacing a view removes, renames or reorders columns old readers use", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::CreateView {
        view,
        columns: Some(new),
        or_replace,
        ..
    } = &change.kind
    else {
        return;
    };
    // Compared with the view the previous release reads, however often the release replaced it.
    let Some(old) = ctx.catalog.previous_view(view) else {
        return;
    };
    if !*or_replace && ctx.catalog.view(view).is_some() {
        return; // CREATE VIEW over a view: it fails, it replaces nothing
    }
    let Some(old_columns) = &old.columns else {
        return;
    };
    if new.starts_with(old_columns) {
        return;
    }
    let removed: Vec<&str> = old_columns
        .iter()
        .filter(|c| !new.contains(c))
        .map(String::as_str)
        .collect();
    let what = if removed.is_empty() {
        "reorders its columns".to_string()
    } else {
        format!("removes or renames {}", removed.join(", "))
    };
    ctx.report(
        change.span,
        view,
        format!("replacing view {view} {what}, which the previous release still reads"),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    const OLD: &str = "CREATE VIEW v AS SELECT id, email FROM users;";

    #[test]
    fn flags_removed_and_reordered_columns() {
        let files = [
            OLD,
            "CREATE OR REPLACE VIEW v AS SELECT id, email AS login FROM users;",
        ];
        assert_eq!(fires_pg("replace-view-changing-columns", &files), [(2, 1)]);
        let files = [
            OLD,
            "DROP VIEW v;\nCREATE VIEW v AS SELECT email, id FROM users;",
        ];
        assert_eq!(fires_pg("replace-view-changing-columns", &files), [(2, 2)]);
    }

    #[test]
    fn judged_against_the_previous_release_not_the_last_replacement() {
        let files = [
            OLD,
            "CREATE OR REPLACE VIEW v AS SELECT id, email, name FROM users;\nCREATE OR REPLACE VIEW v AS SELECT id, email FROM users;",
        ];
        assert!(fires_pg("replace-view-changing-columns", &files).is_empty());
        let new_view = [
            "CREATE TABLE users (id int);",
            "CREATE VIEW w AS SELECT id, 1 AS n FROM users;\nCREATE OR REPLACE VIEW w AS SELECT id FROM users;",
        ];
        assert!(fires_pg("replace-view-changing-columns", &new_view).is_empty());
    }

    #[test]
    fn appending_is_fine() {
        let files = [
            OLD,
            "CREATE OR REPLACE VIEW v AS SELECT id, email, name FROM users;",
        ];
        assert!(fires_pg("replace-view-changing-columns", &files).is_empty());
    }
}
