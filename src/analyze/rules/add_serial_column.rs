//! Flags adding a serial, identity or auto-increment column to an existing table.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;
use crate::dialect::Dialect;

declare_rule! {
    /// ## What it does
    /// Flags `ADD COLUMN` of a `serial`/`bigserial`, `GENERATED ... AS IDENTITY` or MySQL
    /// `AUTO_INCREMENT` column on a table created by an earlier migration.
    ///
    /// ## Why it breaks the running app
    /// Every existing row needs its own value: PostgreSQL rewrites the table under an ACCESS
    /// EXCLUSIVE lock; MySQL and MariaDB build it with writes blocked (at best `LOCK=SHARED`).
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE events ADD COLUMN seq bigserial;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. PostgreSQL: add a plain nullable `bigint` column and a sequence.
    /// 2. PostgreSQL: set the default to `nextval(...)` with `ALTER COLUMN ... SET DEFAULT` (new rows only).
    /// 3. MySQL: add a plain nullable `BIGINT` column and fill it for new rows from the app or a trigger: `AUTO_INCREMENT` cannot be added to a table with rows without blocking writes (MariaDB refuses `LOCK=NONE`, "requires a lock").
    /// 4. Backfill existing rows in batches, then add constraints safely.
    ///
    /// ## Suppress
    /// `-- migrate:allow add-serial-column: <reason>` above the statement.
    ADD_SERIAL_COLUMN, code = "M210", name = "add-serial-column", kind = Lock, severity = Error,
    summary = "a serial/identity/auto-increment column rewrites the table under lock", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::AddColumn { table, column } = &change.kind else {
        return;
    };
    if !column.serial || ctx.dialect == Dialect::Sqlite || ctx.is_new_table(table) {
        return;
    }
    let object = table.column(&column.name);
    ctx.report(
        change.span,
        &object,
        format!("adding auto-numbered column {object} writes a value into every row of {table} under an exclusive lock"),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::{Dialect, fires, fires_pg};

    #[test]
    fn flags_serial_and_identity() {
        let files = [
            "CREATE TABLE t (a text);",
            "ALTER TABLE t ADD COLUMN id bigserial;\nALTER TABLE t ADD COLUMN n int GENERATED ALWAYS AS IDENTITY;",
        ];
        assert_eq!(fires_pg("add-serial-column", &files), [(2, 1), (2, 2)]);
        let files = [
            "CREATE TABLE t (a text);",
            "ALTER TABLE t ADD COLUMN id INT AUTO_INCREMENT;",
        ];
        assert_eq!(fires("add-serial-column", Dialect::Mysql, &files), [(2, 1)]);
    }

    #[test]
    fn plain_columns_are_fine() {
        let files = [
            "CREATE TABLE t (a text);",
            "ALTER TABLE t ADD COLUMN id bigint;",
        ];
        assert!(fires_pg("add-serial-column", &files).is_empty());
    }
}
