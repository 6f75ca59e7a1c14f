//! Flags the create-copy-drop-rename rebuild of an existing table.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, QName};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags a table rebuild of a table the previous release can see: either
    /// "create `t_new`, copy, drop `t`, rename `t_new` to `t`" or "rename `t` to `t_old`, create
    /// `t`, copy, drop `t_old`". It is the usual way to change a column in SQLite, and a common
    /// hand-written pattern elsewhere. Reported once, at the drop or the rename of the old
    /// table (`drop-table` and `rename-table` stay quiet for it).
    ///
    /// ## Why it breaks the running app
    /// While the copy runs the old app writes to the old table and those rows are lost; the
    /// table vanishes for a moment outside a transaction; and in SQLite
    /// `PRAGMA foreign_keys = OFF` is a no-op inside a transaction, so a tool that runs
    /// migrations with foreign keys on (sqlx's default) makes the drop of the old table cascade
    /// deletes into every child table (a real data-loss bug). `migrate up` runs SQLite
    /// migrations with foreign keys off and checks them before each commit.
    ///
    /// ## Example
    /// ```sql
    /// CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL);
    /// INSERT INTO users_new SELECT id, email FROM users;
    /// DROP TABLE users;
    /// ALTER TABLE users_new RENAME TO users;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Prefer additive changes: add a new nullable column, backfill it, switch the app, drop the old column later.
    /// 2. If a rebuild is unavoidable, run it in a maintenance window or while writes are paused.
    /// 3. SQLite: child rows survive the rebuild under `migrate up` (foreign keys off, `PRAGMA foreign_key_check` before each commit); under another tool, run it with `PRAGMA foreign_keys = OFF` outside a transaction and `PRAGMA foreign_key_check` before `COMMIT`.
    ///
    /// ## Suppress
    /// `-- migrate:allow table-rebuild: <why writes cannot be lost>` above the drop or rename.
    TABLE_REBUILD, code = "M125", name = "table-rebuild", kind = Lock, severity = Error,
    summary = "rebuilding a table (copy, drop, rename) loses writes and can cascade deletes", check
}

/// `DROP TABLE t` of an old table that a later change of the release replaces by a rename.
pub(crate) fn is_rebuild_drop(ctx: &Context, table: &QName) -> bool {
    !ctx.is_new_table(table)
        && ctx
            .later_changes()
            .any(|c| matches!(c, ChangeKind::RenameTable { to, .. } if to == table))
}

/// `ALTER TABLE t RENAME TO t_old` of an old table whose name is re-created later.
pub(crate) fn is_rebuild_rename(ctx: &Context, from: &QName) -> bool {
    !ctx.is_new_table(from)
        && ctx
            .later_changes()
            .any(|c| matches!(c, ChangeKind::CreateTable { table, .. } if table == from))
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let table = match &change.kind {
        ChangeKind::DropTable { table } if is_rebuild_drop(ctx, table) => table,
        ChangeKind::RenameTable { from, .. } if is_rebuild_rename(ctx, from) => from,
        _ => return,
    };
    ctx.report(
        change.span,
        table,
        format!("table {table} is rebuilt by copying it into a replacement: writes of the running app during the copy are lost"),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::{Dialect, fires, fires_pg};

    const OLD: &str = "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);";

    #[test]
    fn flags_both_rebuild_shapes() {
        let new_then_rename = "CREATE TABLE users_new (id INTEGER PRIMARY KEY, email TEXT NOT NULL);\nINSERT INTO users_new SELECT id, email FROM users;\nDROP TABLE users;\nALTER TABLE users_new RENAME TO users;";
        assert_eq!(
            fires("table-rebuild", Dialect::Sqlite, &[OLD, new_then_rename]),
            [(2, 3)]
        );
        assert!(fires("drop-table", Dialect::Sqlite, &[OLD, new_then_rename]).is_empty());
        let aside_then_create = "ALTER TABLE users RENAME TO users_old;\nCREATE TABLE users (id INTEGER PRIMARY KEY);\nINSERT INTO users SELECT id FROM users_old;\nDROP TABLE users_old;";
        assert_eq!(
            fires_pg("table-rebuild", &[OLD, aside_then_create]),
            [(2, 1)]
        );
        assert!(fires_pg("rename-table", &[OLD, aside_then_create]).is_empty());
        assert!(fires_pg("drop-table", &[OLD, aside_then_create]).is_empty());
    }

    #[test]
    fn rebuilding_a_new_table_is_free() {
        let files = [format!(
            "{OLD}\nCREATE TABLE users_new (id INTEGER);\nDROP TABLE users;\nALTER TABLE users_new RENAME TO users;"
        )];
        let files: Vec<&str> = files.iter().map(String::as_str).collect();
        assert!(fires("table-rebuild", Dialect::Sqlite, &files).is_empty());
    }
}
