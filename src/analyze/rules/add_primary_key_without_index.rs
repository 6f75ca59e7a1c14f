//! Flags `ADD PRIMARY KEY` that builds its index under lock on an existing PostgreSQL table.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ConstraintKind};
use crate::analyze::registry::declare_rule;
use crate::analyze::rules::inline_on_old_table;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER TABLE ... ADD [CONSTRAINT ...] PRIMARY KEY (...)` on a PostgreSQL table
    /// created by an earlier migration, unless it is `PRIMARY KEY USING INDEX`.
    ///
    /// An inline `PRIMARY KEY` on `ADD COLUMN` is judged the same.
    ///
    /// ## Why it breaks the running app
    /// The index is built under an ACCESS EXCLUSIVE lock, and nullable key columns get an
    /// implicit `SET NOT NULL`, a full scan under the same lock: the table is unusable meanwhile.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE events ADD PRIMARY KEY (id);
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Make the columns NOT NULL safely (see `set-not-null`).
    /// 2. `CREATE UNIQUE INDEX CONCURRENTLY events_pkey ON events (id);` alone in its own migration.
    /// 3. In a later migration: `ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY USING INDEX events_pkey;`
    ///
    /// ## Suppress
    /// `-- migrate:allow add-primary-key-without-index: <reason>` above the statement.
    ADD_PRIMARY_KEY_WITHOUT_INDEX, code = "M207", name = "add-primary-key-without-index", kind = Lock,
    severity = Error,
    summary = "ADD PRIMARY KEY builds its index under an exclusive lock; use USING INDEX", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    if let Some((table, column)) = inline_on_old_table(ctx, change) {
        if column.primary_key {
            let object = table.column(&column.name);
            ctx.report(
                change.span,
                table,
                format!("adding {object} as an inline PRIMARY KEY builds its index over every row of {table} under an ACCESS EXCLUSIVE lock"),
            );
        }
        return;
    }
    let ChangeKind::AddConstraint {
        table, constraint, ..
    } = &change.kind
    else {
        return;
    };
    let is_pk = matches!(constraint.kind, ConstraintKind::PrimaryKey { .. });
    if !is_pk || constraint.using_index.is_some() || !ctx.postgres() || ctx.is_new_table(table) {
        return;
    }
    ctx.report(
        change.span,
        table,
        format!("adding a primary key to {table} builds its index under an ACCESS EXCLUSIVE lock"),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn flags_plain_primary_key() {
        let files = [
            "CREATE TABLE t (a int);",
            "ALTER TABLE t ADD PRIMARY KEY (a);",
        ];
        assert_eq!(fires_pg("add-primary-key-without-index", &files), [(2, 1)]);
    }

    #[test]
    fn using_index_and_new_tables_are_fine() {
        let files = [
            "CREATE TABLE t (a int);",
            "ALTER TABLE t ADD CONSTRAINT pk PRIMARY KEY USING INDEX i;",
        ];
        assert!(fires_pg("add-primary-key-without-index", &files).is_empty());
        let files = ["CREATE TABLE t (a int);\nALTER TABLE t ADD PRIMARY KEY (a);"];
        assert!(fires_pg("add-primary-key-without-index", &files).is_empty());
    }

    #[test]
    fn inline_form_on_add_column() {
        let base = "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE t (a int);";
        assert_eq!(
            crate::analyze::rules::testing::fires_pg(
                "add-primary-key-without-index",
                &[base, "ALTER TABLE t ADD COLUMN id2 bigserial PRIMARY KEY;"]
            ),
            [(2, 1)]
        );
        assert!(
            crate::analyze::rules::testing::fires_pg(
                "add-primary-key-without-index",
                &[base, "ALTER TABLE t ADD COLUMN id2 bigserial;"]
            )
            .is_empty()
        );
        let new_table =
            "CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN id2 bigserial PRIMARY KEY;";
        assert!(
            crate::analyze::rules::testing::fires_pg(
                "add-primary-key-without-index",
                &["CREATE TABLE p (id int PRIMARY KEY);", new_table]
            )
            .is_empty()
        );
    }
}
