//! Flags a validated constraint added to a domain: every table using it is scanned under lock.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, QName};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `ALTER DOMAIN ... ADD CONSTRAINT ... CHECK (...)` without `NOT VALID`, and
    /// `ALTER DOMAIN ... SET NOT NULL`, on a domain of an earlier release. (`NOT VALID` skips
    /// the scan; it still restricts the old app's writes: `restrict-old-writes`.)
    ///
    /// ## Why it breaks the running app
    /// PostgreSQL checks every value of the domain in every table that uses it, holding a
    /// SHARE lock on each of those tables for the whole scan: their inserts, updates and
    /// deletes wait. Afterwards the previous release's writes of values the constraint refuses
    /// (or of NULL) fail.
    ///
    /// ## Example
    /// ```sql
    /// ALTER DOMAIN email ADD CONSTRAINT email_has_at CHECK (VALUE LIKE '%@%');
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Release an app version that only writes values the constraint accepts.
    /// 2. `ALTER DOMAIN email ADD CONSTRAINT email_has_at CHECK (VALUE LIKE '%@%') NOT VALID;` (no scan).
    /// 3. In a later migration: `ALTER DOMAIN email VALIDATE CONSTRAINT email_has_at;` (it scans, but with a lock that lets writes go on).
    /// 4. For NOT NULL, use a `CHECK (VALUE IS NOT NULL)` constraint the same way.
    ///
    /// ## Suppress
    /// `-- migrate:allow alter-domain-constraint: <why the tables are small or idle>` above the statement.
    ALTER_DOMAIN_CONSTRAINT, code = "M131", name = "alter-domain-constraint", kind = Lock, severity = Error,
    summary = "a validated domain constraint scans every table using the domain under a SHARE lock", check
}

/// The columns (as `table.column`) whose type is the domain, in name order.
pub(crate) fn columns_of(ctx: &Context, domain: &QName) -> Vec<String> {
    let mut out: Vec<String> = ctx
        .catalog
        .table_names()
        .filter_map(|t| Some((t, ctx.catalog.table(t)?)))
        .flat_map(|(name, t)| {
            t.columns
                .iter()
                .filter(|c| !c.synthetic && c.ty.name == domain.name)
                .map(move |c| name.column(&c.name))
        })
        .collect();
    out.sort();
    out
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::AlterDomain {
        name,
        not_null,
        not_valid: false,
    } = &change.kind
    else {
        return;
    };
    if !ctx.postgres() || ctx.is_new_object(crate::analyze::ir::ObjectKind::Type, name) {
        return;
    }
    let what = if *not_null {
        "SET NOT NULL"
    } else {
        "a CHECK constraint"
    };
    let columns = columns_of(ctx, name);
    let used = if columns.is_empty() {
        "every table that uses it".to_string()
    } else {
        columns.join(", ")
    };
    ctx.report(
        change.span,
        name,
        format!("{what} on domain {name} checks every value of {used} while a SHARE lock blocks writes to those tables, and makes the previous release's writes it refuses fail"),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    const RULE: &str = "alter-domain-constraint";
    const BASE: &str = "CREATE DOMAIN email AS text;\nCREATE TABLE users (id int, e email);";

    #[test]
    fn flags_validated_constraints_and_not_null() {
        let check = "ALTER DOMAIN email ADD CONSTRAINT has_at CHECK (VALUE LIKE '%@%');";
        assert_eq!(fires_pg(RULE, &[BASE, check]), [(2, 1)]);
        assert_eq!(
            fires_pg(RULE, &[BASE, "ALTER DOMAIN email SET NOT NULL;"]),
            [(2, 1)]
        );
    }

    #[test]
    fn not_valid_and_new_domains_are_not_scanned() {
        let not_valid =
            "ALTER DOMAIN email ADD CONSTRAINT has_at CHECK (VALUE LIKE '%@%') NOT VALID;";
        assert!(fires_pg(RULE, &[BASE, not_valid]).is_empty());
        assert_eq!(
            fires_pg("restrict-old-writes", &[BASE, not_valid]),
            [(2, 1)]
        );
        let new = "CREATE DOMAIN code AS text;\nALTER DOMAIN code SET NOT NULL;";
        assert!(fires_pg(RULE, &[BASE, new]).is_empty());
    }
}
