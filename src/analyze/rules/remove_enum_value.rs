//! Flags removing labels from an enum the previous release can see.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags an enum that loses labels: a PostgreSQL enum dropped and re-created in the same
    /// release with fewer labels, or a MySQL `ENUM`/`SET` column redefined without some of its
    /// labels.
    ///
    /// ## Why it breaks the running app
    /// The previous release still writes the removed label; its writes fail (PostgreSQL) or
    /// store an empty string (MySQL in non-strict mode), and rows holding it block the change
    /// or lose their value.
    ///
    /// ## Example
    /// ```sql mysql
    /// -- an earlier migration
    /// CREATE TABLE orders (id bigint PRIMARY KEY, status ENUM('new', 'paid', 'cancelled'));
    /// ```
    ///
    /// ```sql mysql
    /// -- this migration
    /// ALTER TABLE orders MODIFY status ENUM('new', 'paid');  -- 'cancelled' removed
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Release an app version that no longer writes the label; migrate rows off it.
    /// 2. Remove the label in a later (contract) migration.
    /// 3. Every file and app release, for PostgreSQL and MySQL: docs/recipes.md, “Replace an enum value”.
    ///
    /// ## Suppress
    /// `-- migrate:allow remove-enum-value: <reason>` above the statement.
    REMOVE_ENUM_VALUE, code = "M126", name = "remove-enum-value", kind = Compat, severity = Error,
    summary = "removing an enum label breaks the previous release, which still writes it", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let (object, old, new) = match &change.kind {
        ChangeKind::CreateType {
            name,
            enum_values: Some(new),
        } => {
            let Some(dropped) = ctx.catalog.dropped_type(name) else {
                return;
            };
            if dropped.dropped_in != ctx.release || ctx.is_new(Some(dropped.release)) {
                return;
            }
            let Some(old) = dropped.enum_values.clone() else {
                return;
            };
            (name.to_string(), old, new.clone())
        }
        ChangeKind::RedefineColumn {
            table,
            from,
            column,
        } => {
            // The labels the previous release knows, however the release redefined the column.
            let Some(old) = ctx
                .catalog
                .previous_table(table)
                .and_then(|t| t.column(from))
            else {
                return;
            };
            match (&old.ty.enum_values, &column.ty.enum_values) {
                (Some(o), Some(n)) => (table.column(from), o.clone(), n.clone()),
                _ => return,
            }
        }
        _ => return,
    };
    let gone: Vec<&String> = old.iter().filter(|v| !new.contains(v)).collect();
    let removed: Vec<String> = gone.iter().map(|v| format!("'{v}'")).collect();
    if removed.is_empty() {
        return;
    }
    let subject = crate::analyze::usage::Subject::AnyOf(
        gone.iter()
            .map(|v| crate::analyze::usage::Subject::Label(v.to_string()))
            .collect(),
    );
    ctx.report_on(
        subject,
        change.span,
        &object,
        format!(
            "removing {} from enum {object} breaks the previous release, which may still write {}",
            removed.join(", "),
            if removed.len() == 1 { "it" } else { "them" }
        ),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::{Dialect, fires, fires_pg};

    #[test]
    fn flags_removed_labels() {
        let files = [
            "CREATE TYPE s AS ENUM ('a', 'b');",
            "DROP TYPE s;\nCREATE TYPE s AS ENUM ('a');",
        ];
        assert_eq!(fires_pg("remove-enum-value", &files), [(2, 2)]);
        let files = [
            "CREATE TABLE t (s ENUM('a','b'));",
            "ALTER TABLE t MODIFY s ENUM('a');",
        ];
        assert_eq!(fires("remove-enum-value", Dialect::Mysql, &files), [(2, 1)]);
    }

    #[test]
    fn judged_against_the_previous_release() {
        let files = [
            "CREATE TABLE t (s ENUM('a','b'));",
            "ALTER TABLE t MODIFY s ENUM('a','b','c');\nALTER TABLE t MODIFY s ENUM('a','b');",
        ];
        assert!(fires("remove-enum-value", Dialect::Mysql, &files).is_empty());
        let new_column = [
            "CREATE TABLE t (id int);",
            "ALTER TABLE t ADD COLUMN s ENUM('a','b');\nALTER TABLE t MODIFY s ENUM('a');",
        ];
        assert!(fires("remove-enum-value", Dialect::Mysql, &new_column).is_empty());
    }

    #[test]
    fn adding_labels_is_fine() {
        let files = [
            "CREATE TYPE s AS ENUM ('a');",
            "DROP TYPE s;\nCREATE TYPE s AS ENUM ('a', 'b');",
        ];
        assert!(fires_pg("remove-enum-value", &files).is_empty());
    }
}
