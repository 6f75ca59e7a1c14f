//! Flags column type changes, except widenings the database does in place and the old app
//! cannot notice.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, SqlType};
use crate::analyze::registry::declare_rule;
use crate::dialect::Dialect;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER COLUMN ... TYPE` (PostgreSQL), `MODIFY`/`CHANGE` with a different type
    /// (MySQL) and MySQL `CONVERT TO CHARACTER SET` on columns an earlier migration created.
    /// Allowed, because the database does them without a rewrite and the old app reads the
    /// same values: PostgreSQL `varchar(n)` → `varchar(m ≥ n)` or unbounded `varchar`,
    /// `varchar`/`char`/`text` → `text`, `numeric(p,s)` → `numeric(q ≥ p,s)`; MySQL `VARCHAR`
    /// widening within the same length-prefix size (both ≤ 255 bytes or both above) and
    /// `ENUM`/`SET` labels appended at the end. In a contract migration (after the rollout)
    /// the rewrite is still flagged; the previous release's reads no longer matter.
    ///
    /// ## Why it breaks the running app
    /// Most type changes rewrite the whole table under an ACCESS EXCLUSIVE lock (PostgreSQL)
    /// or copy it (MySQL), blocking reads and writes for minutes on a large table; and the
    /// previous release decodes the old type (an `int` → `bigint` change overflows its integer
    /// fields, a narrowed `varchar` rejects its writes).
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ALTER COLUMN total TYPE numeric(12,2);
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Add a new column of the new type (nullable).
    /// 2. Keep it in sync with a trigger and backfill it in batches.
    /// 3. Release an app version that reads the new column.
    /// 4. Drop the old column in a later (contract) migration (optionally rename the new one then, with a compatibility view).
    /// 5. Every file and app release, for PostgreSQL and MySQL: docs/recipes.md, “Change a column's type”.
    ///
    /// ## Suppress
    /// `-- migrate:allow change-column-type: <why the table is small or the change is safe>` above the statement.
    CHANGE_COLUMN_TYPE, code = "M119", name = "change-column-type", kind = Both, severity = Error,
    summary = "changing a column's type rewrites the table and breaks the previous release's reads", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    match &change.kind {
        ChangeKind::AlterColumnType {
            table,
            column,
            ty,
            using,
        } => {
            if ctx.is_new_column(table, column) {
                return;
            }
            let old = ctx.catalog.column(table, column).map(|c| c.ty.clone());
            if let Some(old) = &old
                && !*using
                && safe_change(ctx.dialect, old, ty)
            {
                return;
            }
            let from = old.map_or_else(
                || "a type the migrations do not show".to_string(),
                |t| t.text,
            );
            ctx.report(
                change.span,
                table.column(column),
                format!(
                    "changing the type of {} from {from} to {ty} rewrites the table under an exclusive lock{}",
                    table.column(column),
                    reads(ctx)
                ),
            );
        }
        ChangeKind::RedefineColumn {
            table,
            from,
            column,
        } => {
            if ctx.is_new_column(table, from) {
                return;
            }
            let Some(old) = ctx.catalog.column(table, from).map(|c| c.ty.clone()) else {
                return;
            };
            let new = &column.ty;
            if let (Some(old_values), Some(new_values)) = (&old.enum_values, &new.enum_values) {
                if old.name == new.name {
                    // Reported by remove-enum-value, except in a contract migration, where
                    // only the copy of the table matters.
                    if old_values.iter().any(|v| !new_values.contains(v)) && !ctx.contract() {
                        return;
                    }
                    if new_values.starts_with(old_values)
                        && enum_storage(&old.name, old_values.len())
                            == enum_storage(&new.name, new_values.len())
                    {
                        return;
                    }
                }
            } else if safe_change(ctx.dialect, &old, new) {
                return;
            }
            ctx.report(
                change.span,
                table.column(from),
                format!(
                    "changing the type of {} from {old} to {new} copies the table{}",
                    table.column(from),
                    reads(ctx)
                ),
            );
        }
        ChangeKind::ConvertCharset { table } => {
            if ctx.is_new_table(table) {
                return;
            }
            ctx.report(
                change.span,
                table,
                format!("converting the character set of {table} changes every text column and copies the table"),
            );
        }
        _ => {}
    }
}

/// Bytes MySQL stores an `ENUM` or `SET` value in: changing it copies the table.
/// What the change does to the previous release, unless it is gone (a contract migration).
fn reads(ctx: &Context) -> &'static str {
    if ctx.contract() {
        ""
    } else {
        " and changes what the previous release reads"
    }
}

fn enum_storage(name: &str, count: usize) -> usize {
    if name == "set" {
        count.div_ceil(8).max(1)
    } else if count <= 255 {
        1
    } else {
        2
    }
}

/// Bytes per character of a MySQL character set (`utf8mb4` unless the column says otherwise).
fn bytes_per_char(ty: &SqlType) -> u64 {
    match ty.charset.as_deref() {
        Some("latin1" | "ascii" | "binary" | "latin2") => 1,
        Some("utf8" | "utf8mb3") => 3,
        _ => 4,
    }
}

/// Whether changing `old` to `new` is a widening the database does in place and the previous
/// release cannot notice.
pub(crate) fn safe_change(dialect: Dialect, old: &SqlType, new: &SqlType) -> bool {
    if old.array != new.array {
        return false;
    }
    if old.name == new.name
        && old.args == new.args
        && old.enum_values == new.enum_values
        && old.charset == new.charset
    {
        return true;
    }
    let widened = |i: usize| match (old.args.get(i), new.args.get(i)) {
        (Some(o), Some(n)) => n >= o,
        (_, None) => true,
        (None, Some(_)) => false,
    };
    match dialect {
        Dialect::Postgres => match (old.name.as_str(), new.name.as_str()) {
            ("varchar", "varchar") | ("varbit", "varbit") => new.args.is_empty() || widened(0),
            ("varchar" | "char" | "text", "text") => true,
            ("text", "varchar") => new.args.is_empty(),
            ("numeric", "numeric") => {
                new.args.is_empty()
                    || (widened(0)
                        && old.args.get(1).unwrap_or(&0) == new.args.get(1).unwrap_or(&0))
            }
            ("cidr", "inet") => true,
            _ => false,
        },
        Dialect::Mysql => match (old.name.as_str(), new.name.as_str()) {
            ("varchar", "varchar") if old.charset == new.charset => {
                let (Some(&o), Some(&n)) = (old.args.first(), new.args.first()) else {
                    return false;
                };
                let bytes = bytes_per_char(old);
                n >= o && (o * bytes <= 255) == (n * bytes <= 255)
            }
            _ => false,
        },
        Dialect::Sqlite => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::{Dialect, fires, fires_pg};

    #[test]
    fn flags_rewriting_changes() {
        let files = [
            "CREATE TABLE t (a int, b varchar(10));",
            "ALTER TABLE t ALTER COLUMN a TYPE bigint;",
        ];
        assert_eq!(fires_pg("change-column-type", &files), [(2, 1)]);
        let files = [
            "CREATE TABLE t (b varchar(10));",
            "ALTER TABLE t ALTER COLUMN b TYPE varchar(5);",
        ];
        assert_eq!(fires_pg("change-column-type", &files), [(2, 1)]);
        let files = [
            "CREATE TABLE t (b VARCHAR(50));",
            "ALTER TABLE t MODIFY b VARCHAR(100);",
        ];
        assert_eq!(
            fires("change-column-type", Dialect::Mysql, &files),
            [(2, 1)]
        );
    }

    #[test]
    fn allows_in_place_widenings() {
        for new in ["varchar(20)", "varchar", "text", "character varying(10)"] {
            let alter = format!("ALTER TABLE t ALTER COLUMN b TYPE {new};");
            let files = ["CREATE TABLE t (b varchar(10));", alter.as_str()];
            assert!(fires_pg("change-column-type", &files).is_empty(), "{new}");
        }
        let files = [
            "CREATE TABLE t (n numeric(10,2));",
            "ALTER TABLE t ALTER COLUMN n TYPE numeric(12,2);",
        ];
        assert!(fires_pg("change-column-type", &files).is_empty());
        let files = [
            "CREATE TABLE t (b VARCHAR(20));",
            "ALTER TABLE t MODIFY b VARCHAR(60) NULL;",
        ];
        assert!(fires("change-column-type", Dialect::Mysql, &files).is_empty());
        let files = [
            "CREATE TABLE t (s ENUM('a','b'));",
            "ALTER TABLE t MODIFY s ENUM('a','b','c');",
        ];
        assert!(fires("change-column-type", Dialect::Mysql, &files).is_empty());
    }
}
