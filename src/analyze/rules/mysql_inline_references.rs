//! Flags an inline `REFERENCES` on a MySQL column: MySQL ignores it, MariaDB does not.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ColumnSpec, QName};
use crate::analyze::registry::declare_rule;
use crate::dialect::Dialect;

declare_rule! {
    /// ## What it does
    /// Flags `REFERENCES` written on a column (in `CREATE TABLE` or `ADD COLUMN`) in the MySQL
    /// dialect, instead of a `FOREIGN KEY (...) REFERENCES ...` table constraint.
    ///
    /// ## Why it breaks the running app
    /// MySQL parses an inline `REFERENCES` and silently ignores it: no foreign key is made,
    /// so the integrity the migration promises is not enforced. MariaDB 10.5 and later do make
    /// the key, so the same migration gives two different schemas (and, on MariaDB, a foreign
    /// key on an existing table that the old app's writes must satisfy).
    ///
    /// ## Example
    /// ```sql mysql
    /// -- an earlier migration
    /// CREATE TABLE customers (id bigint PRIMARY KEY);
    /// CREATE TABLE orders (id bigint PRIMARY KEY);
    /// ```
    ///
    /// ```sql mysql
    /// -- this migration
    /// ALTER TABLE orders ADD COLUMN customer_id bigint REFERENCES customers (id);
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Add the column without `REFERENCES`.
    /// 2. Add the key as a table constraint: `ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);` (see `add-foreign-key-without-not-valid` for doing it without a copy).
    ///
    /// ## Suppress
    /// `-- migrate:allow mysql-inline-references: <reason>` above the statement.
    MYSQL_INLINE_REFERENCES, code = "M132", name = "mysql-inline-references", kind = Statement, severity = Warning,
    summary = "REFERENCES written on a column is ignored by MySQL (not by MariaDB)", check
}

fn report(ctx: &mut Context, change: &Change, table: &QName, column: &ColumnSpec) {
    let Some(parent) = &column.references else {
        return;
    };
    let object = table.column(&column.name);
    ctx.report(
        column.span.or(change.span),
        &object,
        format!("the inline REFERENCES {parent} on {object} is ignored by MySQL: no foreign key is made there (MariaDB 10.5+ makes one)"),
    );
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    if ctx.dialect != Dialect::Mysql {
        return;
    }
    match &change.kind {
        ChangeKind::AddColumn { table, column } => report(ctx, change, table, column),
        ChangeKind::CreateTable { table, columns, .. } => {
            for column in columns {
                report(ctx, change, table, column);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::{Dialect, fires};

    const RULE: &str = "mysql-inline-references";

    #[test]
    fn flags_inline_references() {
        let files = [
            "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE c (id int, p_id int REFERENCES p (id));",
            "ALTER TABLE c ADD COLUMN p2 int REFERENCES p (id);",
        ];
        assert_eq!(fires(RULE, Dialect::Mysql, &files), [(1, 2), (2, 1)]);
        assert!(fires(RULE, Dialect::Postgres, &files).is_empty());
    }

    #[test]
    fn table_constraints_are_fine() {
        let files = [
            "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE c (id int, p_id int, FOREIGN KEY (p_id) REFERENCES p (id));",
        ];
        assert!(fires(RULE, Dialect::Mysql, &files).is_empty());
    }
}
