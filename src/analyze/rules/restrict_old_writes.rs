//! Flags a new constraint or unique index that makes some writes of the previous release fail.

use crate::analyze::compat::{DiffKind, Difference, Restriction};
use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ObjectKind};
use crate::analyze::registry::declare_rule;
use crate::analyze::rules::alter_domain_constraint::columns_of;

declare_rule! {
    /// ## What it does
    /// Flags a new `CHECK`, `UNIQUE` (a constraint, a primary key, or `CREATE UNIQUE INDEX
    /// [CONCURRENTLY]`), `FOREIGN KEY` or `EXCLUDE` constraint on a table of the previous
    /// release that covers columns its app writes: columns it knows, or new columns its
    /// inserts fill with their default. Constraints written inline on `ADD COLUMN` count the
    /// same. A warning, because whether the old app writes values the constraint refuses
    /// depends on its code; where the failure is certain (a new column that must be given a
    /// value, `NOT NULL` on a column the old app may leave NULL) `add-not-null-column-without-default`
    /// and `set-not-null` report errors. `NOT VALID` does not help here: it skips the
    /// existing rows, never new writes. A `NOT VALID` constraint added to a domain counts too
    /// (a validated one is `alter-domain-constraint`).
    ///
    /// ## Why it breaks the running app
    /// Until the new release has rolled out (and after a rollback), the previous release keeps
    /// writing as it always did: an insert or update with a value the check refuses, a
    /// duplicate, a reference to a missing row, or a delete of a row still referenced now
    /// fails with a constraint violation.
    ///
    /// ## Example
    /// ```sql
    /// -- an earlier migration
    /// CREATE TABLE users (id bigint PRIMARY KEY, age int);
    /// ```
    ///
    /// ```sql
    /// -- this migration
    /// ALTER TABLE users ADD CONSTRAINT users_age_check CHECK (age >= 0) NOT VALID;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Release an app version that only writes values the constraint accepts (validate in the app first).
    /// 2. Then add the constraint in a migration of the next release (PostgreSQL: `NOT VALID` plus `VALIDATE CONSTRAINT`, or the index `CONCURRENTLY`).
    /// 3. Every file and app release, for PostgreSQL and MySQL: docs/recipes.md, “Add a foreign key” and “Add a unique constraint”.
    ///
    /// ## Suppress
    /// `-- migrate:allow restrict-old-writes: <why the old app never writes such values>` above the statement.
    RESTRICT_OLD_WRITES, code = "M129", name = "restrict-old-writes", kind = Compat, severity = Warning,
    summary = "a new constraint or unique index can make writes of the previous release fail", check; compat
}

/// A `NOT VALID` domain constraint: no scan (alter-domain-constraint judges the others), but
/// every new write of the domain's columns is checked.
pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::AlterDomain {
        name,
        not_valid: true,
        ..
    } = &change.kind
    else {
        return;
    };
    if ctx.is_new_object(ObjectKind::Type, name) {
        return;
    }
    let columns = columns_of(ctx, name);
    let on = if columns.is_empty() {
        "its columns".to_string()
    } else {
        columns.join(", ")
    };
    ctx.report(
        change.span,
        name,
        format!("the new constraint on domain {name} makes the previous release's writes to {on} with values it refuses fail"),
    );
}

pub(crate) fn compat(ctx: &mut Context, d: &Difference) {
    let (Some(cause), DiffKind::Restricted { what, name }) = (ctx.cause, &d.kind) else {
        return;
    };
    let table = &d.table;
    let named = name.as_deref().map(|n| format!(" {n}")).unwrap_or_default();
    let on = if d.column.is_empty() {
        table.to_string()
    } else {
        format!("{table} ({})", d.column)
    };
    let message = match what {
        Restriction::Check => format!(
            "the new CHECK constraint{named} on {on} makes inserts and updates of the previous release with values it refuses fail"
        ),
        Restriction::Unique => format!(
            "the new uniqueness{named} on {on} makes inserts and updates of the previous release that write a duplicate fail"
        ),
        Restriction::ForeignKey(parent) => format!(
            "the new foreign key{named} on {on} makes the previous release's writes of values missing from {parent} fail, and its deletes of {parent} rows still referenced"
        ),
        Restriction::Exclusion => format!(
            "the new exclusion constraint{named} on {on} makes writes of the previous release that conflict fail"
        ),
    };
    ctx.report(cause.span, table, message);
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::{Dialect, fires, fires_pg};

    const RULE: &str = "restrict-old-writes";

    #[test]
    fn flags_constraints_over_old_columns() {
        let base = "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE t (id int, email text, age int, p_id int);";
        let cases = [
            "ALTER TABLE t ADD CONSTRAINT age_ok CHECK (age >= 0) NOT VALID;",
            "CREATE UNIQUE INDEX CONCURRENTLY t_email ON t (email);",
            "ALTER TABLE t ADD CONSTRAINT t_p FOREIGN KEY (p_id) REFERENCES p (id) NOT VALID;",
            "ALTER TABLE t ADD CONSTRAINT t_email_key UNIQUE (email);",
        ];
        for case in cases {
            assert_eq!(fires_pg(RULE, &[base, case]), [(2, 1)], "{case}");
        }
        let mysql = "ALTER TABLE t ADD UNIQUE KEY t_email (email);";
        assert_eq!(fires(RULE, Dialect::Mysql, &[base, mysql]), [(2, 1)]);
    }

    #[test]
    fn new_columns_without_default_and_new_tables_are_free() {
        let base = "CREATE TABLE p (id int PRIMARY KEY);\nCREATE TABLE t (id int);";
        let free = [
            "ALTER TABLE t ADD COLUMN code text UNIQUE;",
            "ALTER TABLE t ADD COLUMN p_id int REFERENCES p (id);",
            "ALTER TABLE t ADD COLUMN n int CHECK (n > 0);",
            "CREATE TABLE u (id int, email text);\nCREATE UNIQUE INDEX u_email ON u (email);",
        ];
        for case in free {
            assert!(fires_pg(RULE, &[base, case]).is_empty(), "{case}");
        }
        let checked = "ALTER TABLE t ADD COLUMN x int CONSTRAINT c CHECK (x > 0) DEFAULT 5;";
        assert!(fires_pg(RULE, &[base, checked]).is_empty());
        let filled = "ALTER TABLE t ADD COLUMN p_id int DEFAULT 1 REFERENCES p (id);";
        assert_eq!(fires_pg(RULE, &[base, filled]), [(2, 1)]);
    }
}
