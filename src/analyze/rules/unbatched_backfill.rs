//! Flags an `UPDATE` or `DELETE` without a bound on a table the previous release uses.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ConstraintKind};
use crate::analyze::registry::declare_rule;
use crate::dialect::Dialect;

declare_rule! {
    /// ## What it does
    /// Flags an `UPDATE`, or a `DELETE` with a `WHERE`, on a table created by an earlier
    /// migration when nothing bounds how many rows it changes: no `LIMIT` of its own (MySQL),
    /// no subquery with a `LIMIT` in its `WHERE`, and no key (the first column of the primary
    /// key or of a unique constraint) pinned to a value, a list or a range (`id = 5`,
    /// `id BETWEEN 1 AND 5000`). A `DELETE` without any `WHERE` is
    /// `delete-without-where`. Not on SQLite, where every migration holds the whole
    /// database's write lock anyway.
    ///
    /// A warning: the harm grows with the table's size, which `check` cannot know. Set it to
    /// `error` in `[rules]` to require batches.
    ///
    /// ## Why it breaks the running app
    /// On PostgreSQL and MySQL/MariaDB the statement locks every row it changes until the
    /// migration commits, and the migration commits only at its end: every write of the
    /// running app to one of those rows waits, and fails once its lock timeout runs out
    /// (tests/truth.rs asks both servers). On a large table that is the whole backfill's
    /// duration.
    ///
    /// ## Example
    /// ```sql
    /// -- an earlier migration
    /// CREATE TABLE users (id bigint PRIMARY KEY, org_id bigint);
    /// ```
    ///
    /// ```sql
    /// -- this migration
    /// UPDATE users SET org_id = 1 WHERE org_id IS NULL;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Keep the schema change in the expand migration; move the data change to a backfill migration (`migrate new --backfill DESCRIPTION`, first line `-- migrate:backfill`).
    /// 2. Write it as a bounded batch whose change makes its own condition false; `migrate up` repeats it, each batch its own short transaction, until it changes no row.
    /// 3. PostgreSQL: `UPDATE users SET org_id = 1 WHERE id IN (SELECT id FROM users WHERE org_id IS NULL LIMIT 5000)`.
    /// 4. MySQL: `UPDATE users SET org_id = 1 WHERE org_id IS NULL LIMIT 5000`.
    ///
    /// ## Suppress
    /// `-- migrate:allow unbatched-backfill: <why the table is small or idle>` above the statement.
    UNBATCHED_BACKFILL, code = "M216", name = "unbatched-backfill", kind = Lock, severity = Warning,
    summary = "an UPDATE or DELETE without a bound locks every row it changes until the migration commits",
    check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let (table, pinned, verb) = match &change.kind {
        ChangeKind::Update {
            table,
            bounded: false,
            pinned,
            ..
        } => (table, pinned, "updating"),
        ChangeKind::Delete {
            table,
            restricted: true,
            bounded: false,
            pinned,
            ..
        } => (table, pinned, "deleting from"),
        _ => return,
    };
    if ctx.dialect == Dialect::Sqlite || ctx.is_new_table(table) || system_catalog(ctx, table) {
        return;
    }
    // A key pinned to a value or a range (`id = 5`, `id BETWEEN 1 AND 5000`) bounds it.
    let key = |column: &String| {
        ctx.catalog.table(table).is_some_and(|t| {
            t.constraints.iter().any(|c| match &c.kind {
                ConstraintKind::PrimaryKey { columns } | ConstraintKind::Unique { columns } => {
                    columns.first() == Some(column)
                }
                _ => false,
            })
        })
    };
    if pinned.iter().any(key) {
        return;
    }
    if ctx.phase() == crate::source::directive::Phase::Backfill {
        // Already a backfill: each run is its own transaction, but an unbounded one is a
        // single batch over the whole table.
        ctx.report_with_help(
            change.span,
            table,
            format!("{verb} {table} without a bound is one batch over the whole table: it locks every row it changes until that batch commits"),
            if ctx.dialect == Dialect::Mysql {
                "1. Bound the batch: `... WHERE <a condition the change makes false> LIMIT 5000`."
            } else {
                "1. Bound the batch: `... WHERE id IN (SELECT id FROM t WHERE <a condition the change makes false> LIMIT 5000)`."
            },
        );
        return;
    }
    ctx.report(
        change.span,
        table,
        format!("{verb} {table} without a bound locks every row it changes until the migration commits: the running app's writes to them wait"),
    );
}

/// A PostgreSQL system catalog (`UPDATE pg_index SET indisvalid ...`): no app writes its rows.
fn system_catalog(ctx: &Context, table: &crate::analyze::ir::QName) -> bool {
    ctx.postgres()
        && match table.schema.as_deref() {
            Some(schema) => schema == "pg_catalog" || schema == "information_schema",
            None => {
                table.name.starts_with("pg_")
                    && ctx.catalog.table(table).is_none_or(|t| t.release == 0)
            }
        }
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::{Dialect, fires, fires_pg};

    const USERS: &str = "CREATE TABLE users (id bigint PRIMARY KEY, org_id bigint);";

    #[test]
    fn flags_unbounded_changes_of_old_tables() {
        let files = [
            USERS,
            "UPDATE users SET org_id = 1 WHERE org_id IS NULL;\nDELETE FROM users WHERE org_id = 2;\nUPDATE users SET org_id = 3;",
        ];
        assert_eq!(
            fires_pg("unbatched-backfill", &files),
            [(2, 1), (2, 2), (2, 3)]
        );
    }

    #[test]
    fn bounded_batches_new_tables_and_sqlite_are_fine() {
        let bounded = [
            USERS,
            "UPDATE users SET org_id = 1 WHERE id IN (SELECT id FROM users WHERE org_id IS NULL LIMIT 5000);\nDELETE FROM users WHERE id IN (SELECT id FROM users LIMIT 10);",
        ];
        assert!(fires_pg("unbatched-backfill", &bounded).is_empty());
        let mysql = [
            USERS,
            "UPDATE users SET org_id = 1 WHERE org_id IS NULL LIMIT 5000;\nUPDATE users SET org_id = 1 WHERE id IN (SELECT id FROM (SELECT id FROM users WHERE org_id IS NULL LIMIT 5000) AS batch);",
        ];
        assert!(fires("unbatched-backfill", Dialect::Mysql, &mysql).is_empty());
        let keyed = [
            USERS,
            "UPDATE users SET org_id = 1 WHERE id = 5;\nUPDATE users SET org_id = 1 WHERE id BETWEEN 1 AND 5000;\nDELETE FROM users WHERE id >= 1 AND id < 100;\nUPDATE users SET org_id = 1 WHERE id IN (1, 2, 3) AND org_id IS NULL;",
        ];
        assert!(fires_pg("unbatched-backfill", &keyed).is_empty());
        // Not a key, or only one side of a range: unbounded.
        let loose = [
            USERS,
            "UPDATE users SET org_id = 1 WHERE org_id = 5;\nUPDATE users SET org_id = 1 WHERE id > 5;",
        ];
        assert_eq!(fires_pg("unbatched-backfill", &loose), [(2, 1), (2, 2)]);
        let new = [&format!("{USERS}\nUPDATE users SET org_id = 1;")[..]];
        assert!(fires_pg("unbatched-backfill", &new).is_empty());
        let sqlite = [USERS, "UPDATE users SET org_id = 1;"];
        assert!(fires("unbatched-backfill", Dialect::Sqlite, &sqlite).is_empty());
        let catalog = [
            "UPDATE pg_index SET indisvalid = true WHERE indrelid = 5;\nUPDATE pg_catalog.pg_class SET relhasindex = true;",
        ];
        assert!(fires_pg("unbatched-backfill", &catalog).is_empty());
        // DELETE without WHERE is delete-without-where's.
        assert!(fires_pg("unbatched-backfill", &[USERS, "DELETE FROM users;"]).is_empty());
    }
}
