//! Flags making an existing column NOT NULL.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ConstraintKind, QName};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER COLUMN ... SET NOT NULL` (also a PostgreSQL 18 named `NOT NULL`
    /// constraint, and a MySQL `MODIFY` that adds `NOT NULL`) on a column the previous release
    /// can see. On PostgreSQL 12+ it is fine when a validated `CHECK (col IS NOT NULL)` (alone
    /// or ANDed with other conditions) already exists: then PostgreSQL skips the scan and the
    /// old app already writes no NULLs. A `NOT VALID` check, or one that ORs, does not count.
    /// A primary key over nullable columns (`ADD PRIMARY KEY`, `PRIMARY KEY USING INDEX`) sets
    /// them NOT NULL the same way, and is flagged the same.
    ///
    /// ## Why it breaks the running app
    /// Inserts and updates of the previous release that leave the column NULL start failing.
    /// PostgreSQL scans the whole table under an ACCESS EXCLUSIVE lock to verify, blocking all
    /// reads and writes; MySQL rebuilds the table.
    ///
    /// In a contract migration (run after the rollout, when no old app writes NULLs) only the
    /// lock is flagged: PostgreSQL's scan unless a validated CHECK lets 12+ skip it; MySQL and
    /// MariaDB rebuild in place with writes allowed.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users ALTER COLUMN email SET NOT NULL;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Release an app version that always writes the column; backfill NULLs in batches.
    /// 2. PostgreSQL: `ALTER TABLE t ADD CONSTRAINT t_col_not_null CHECK (col IS NOT NULL) NOT VALID;`
    /// 3. PostgreSQL: in a later migration, `ALTER TABLE t VALIDATE CONSTRAINT t_col_not_null;` (no write lock).
    /// 4. PostgreSQL: then `SET NOT NULL` (12+ uses the check, no scan) and drop the CHECK.
    /// 5. MySQL: then `ALTER TABLE t MODIFY col <type> NOT NULL, ALGORITHM=INPLACE, LOCK=NONE` (rebuilds in place with writes allowed; refused rather than locking if it cannot).
    /// 6. SQLite: then rebuild the table with the column `NOT NULL` (SQLite cannot change a column).
    /// 7. Every file and app release, for PostgreSQL and MySQL: docs/recipes.md, “Make a column NOT NULL”.
    ///
    /// ## Suppress
    /// `-- migrate:allow set-not-null: <reason>` above the statement.
    SET_NOT_NULL, code = "M121", name = "set-not-null", kind = Both, severity = Error,
    summary = "SET NOT NULL breaks old inserts of NULL and scans the table under lock", check
}

/// (any CHECK (col IS NOT NULL), a validated one)
fn not_null_checks(ctx: &Context, table: &QName, column: &str) -> (bool, bool) {
    let Some(t) = ctx.catalog.table(table) else {
        return (false, false);
    };
    let checks = t.constraints.iter().filter(|c| {
        matches!(&c.kind, ConstraintKind::Check { not_null_column: Some(col), .. } if col == column)
    });
    checks.fold((false, false), |(_, valid), c| (true, valid || c.validated))
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    match &change.kind {
        ChangeKind::SetNotNull { table, column } => {
            if ctx.is_new_column(table, column)
                || ctx
                    .catalog
                    .column(table, column)
                    .is_some_and(|c| c.not_null)
            {
                return;
            }
            let (any_check, validated) = not_null_checks(ctx, table, column);
            let object = table.column(column);
            let message = if ctx.contract() && !ctx.postgres() {
                // After the rollout only the lock matters: MySQL/MariaDB rebuild in place
                // with writes allowed.
                return;
            } else if ctx.contract() && !(validated && ctx.pg_version >= 12) {
                format!(
                    "setting NOT NULL on {object} scans the whole table under an ACCESS EXCLUSIVE lock, blocking the new release's reads and writes"
                )
            } else if !ctx.postgres() {
                format!(
                    "setting NOT NULL on {object} makes writes of NULL by the previous release fail and rebuilds the table"
                )
            } else if validated && ctx.pg_version >= 12 {
                return;
            } else if validated {
                format!(
                    "setting NOT NULL on {object} scans the whole table under an ACCESS EXCLUSIVE lock: PostgreSQL {} cannot use the CHECK constraint (12+ can)",
                    ctx.pg_version
                )
            } else if any_check {
                format!(
                    "setting NOT NULL on {object} scans the whole table under an ACCESS EXCLUSIVE lock: its CHECK (IS NOT NULL) constraint is not validated yet"
                )
            } else {
                format!(
                    "setting NOT NULL on {object} makes writes of NULL by the previous release fail and scans the table under an ACCESS EXCLUSIVE lock"
                )
            };
            ctx.report(change.span, object, message);
        }
        ChangeKind::AddConstraint {
            table, constraint, ..
        } => {
            let ConstraintKind::PrimaryKey { columns } = &constraint.kind else {
                return;
            };
            let columns = match &constraint.using_index {
                Some(index) => {
                    let name = QName {
                        schema: table.schema.clone(),
                        name: index.clone(),
                    };
                    ctx.catalog
                        .index(&name, Some(table))
                        .map(|i| i.columns.clone())
                        .unwrap_or_default()
                }
                None => columns.clone(),
            };
            for column in &columns {
                let nullable = ctx
                    .catalog
                    .column(table, column)
                    .is_some_and(|c| !c.not_null);
                let (_, validated) = not_null_checks(ctx, table, column);
                if !nullable
                    || ctx.is_new_column(table, column)
                    || (validated && ctx.pg_version >= 12)
                {
                    continue;
                }
                let object = table.column(column);
                let message = if ctx.contract() && ctx.postgres() {
                    format!(
                        "the primary key sets nullable {object} NOT NULL: the table is scanned under an ACCESS EXCLUSIVE lock"
                    )
                } else if ctx.contract() {
                    continue;
                } else if ctx.postgres() {
                    format!(
                        "the primary key sets nullable {object} NOT NULL: the table is scanned under an ACCESS EXCLUSIVE lock and writes of NULL by the previous release fail"
                    )
                } else {
                    format!(
                        "the primary key sets nullable {object} NOT NULL: writes of NULL by the previous release fail"
                    )
                };
                ctx.report(change.span, &object, message);
            }
        }
        ChangeKind::RedefineColumn {
            table,
            from,
            column,
        } => {
            let Some(old) = ctx.catalog.column(table, from) else {
                return;
            };
            if old.not_null || !column.not_null || ctx.is_new_column(table, from) || ctx.contract()
            {
                return;
            }
            let object = table.column(from);
            ctx.report(
                change.span,
                &object,
                format!("making {object} NOT NULL makes writes of NULL by the previous release fail and rebuilds the table"),
            );
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::{Dialect, fires, fires_pg};

    #[test]
    fn flags_set_not_null() {
        let files = [
            "CREATE TABLE t (a int);",
            "ALTER TABLE t ALTER COLUMN a SET NOT NULL;",
        ];
        assert_eq!(fires_pg("set-not-null", &files), [(2, 1)]);
        let files = [
            "CREATE TABLE t (a int NULL);",
            "ALTER TABLE t MODIFY a int NOT NULL;",
        ];
        assert_eq!(fires("set-not-null", Dialect::Mysql, &files), [(2, 1)]);
    }

    #[test]
    fn primary_key_over_nullable_columns() {
        let base = "CREATE TABLE t (a int, b int NOT NULL);\nCREATE UNIQUE INDEX t_a ON t (a);";
        let using = "ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_a;";
        assert_eq!(fires_pg("set-not-null", &[base, using]), [(2, 1)]);
        assert_eq!(
            fires_pg(
                "set-not-null",
                &[base, "ALTER TABLE t ADD PRIMARY KEY (a);"]
            ),
            [(2, 1)]
        );
        assert!(
            fires_pg(
                "set-not-null",
                &[base, "ALTER TABLE t ADD PRIMARY KEY (b);"]
            )
            .is_empty()
        );
    }

    #[test]
    fn validated_check_makes_it_safe() {
        let files = [
            "CREATE TABLE t (a int);",
            "ALTER TABLE t ADD CONSTRAINT a_nn CHECK (a IS NOT NULL) NOT VALID;",
            "ALTER TABLE t VALIDATE CONSTRAINT a_nn;",
            "ALTER TABLE t ALTER COLUMN a SET NOT NULL;",
        ];
        assert!(fires_pg("set-not-null", &files).is_empty());
        let unvalidated = [files[0], files[1], files[3]];
        assert_eq!(fires_pg("set-not-null", &unvalidated), [(3, 1)]);
    }
}
