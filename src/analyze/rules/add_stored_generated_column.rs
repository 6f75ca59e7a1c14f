//! Flags adding a stored generated column to an existing table.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, Generated};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `ADD COLUMN ... GENERATED ALWAYS AS (...) STORED` on a table created by an
    /// earlier migration.
    ///
    /// ## Why it breaks the running app
    /// Every existing row must be computed and written: PostgreSQL rewrites the table under an
    /// ACCESS EXCLUSIVE lock, MySQL and MariaDB copy it (they refuse `ALGORITHM=INPLACE`). The
    /// table is unavailable for the duration. SQLite refuses the statement outright on a table
    /// that has rows ("cannot add a STORED column"), so the migration fails in production
    /// after passing on an empty development database.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users ADD COLUMN email_lower text GENERATED ALWAYS AS (lower(email)) STORED;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Add a plain nullable column.
    /// 2. Fill new rows with a trigger (or the app) and backfill old rows in batches.
    /// 3. MySQL: or, instead, add it `VIRTUAL` (`ADD COLUMN ... AS (...) VIRTUAL, ALGORITHM=INPLACE, LOCK=NONE`): computed on read, added in place.
    /// 4. SQLite: or, instead, add it `VIRTUAL`, which SQLite adds to a table with rows.
    ///
    /// ## Suppress
    /// `-- migrate:allow add-stored-generated-column: <reason>` above the statement.
    ADD_STORED_GENERATED_COLUMN, code = "M209", name = "add-stored-generated-column", kind = Lock,
    severity = Error,
    summary = "a stored generated column rewrites the table under lock", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::AddColumn { table, column } = &change.kind else {
        return;
    };
    if column.generated != Some(Generated::Stored) || ctx.is_new_table(table) {
        return;
    }
    let object = table.column(&column.name);
    let message = if ctx.dialect == crate::dialect::Dialect::Sqlite {
        format!(
            "adding stored generated column {object} fails on SQLite once {table} has rows (cannot add a STORED column)"
        )
    } else {
        format!(
            "adding stored generated column {object} rewrites every row of {table} under an exclusive lock"
        )
    };
    ctx.report(change.span, &object, message);
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn flags_stored_columns() {
        let files = [
            "CREATE TABLE t (a text);",
            "ALTER TABLE t ADD COLUMN b text GENERATED ALWAYS AS (lower(a)) STORED;",
        ];
        assert_eq!(fires_pg("add-stored-generated-column", &files), [(2, 1)]);
    }

    #[test]
    fn new_tables_are_fine() {
        let files = ["CREATE TABLE t (a text, b text GENERATED ALWAYS AS (lower(a)) STORED);"];
        assert!(fires_pg("add-stored-generated-column", &files).is_empty());
    }
}
