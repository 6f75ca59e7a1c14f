//! Flags `VACUUM FULL` (PostgreSQL) and `VACUUM` (SQLite) in migrations.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;
use crate::dialect::Dialect;

declare_rule! {
    /// ## What it does
    /// Flags PostgreSQL `VACUUM FULL` and SQLite `VACUUM` in a migration.
    ///
    /// ## Why it breaks the running app
    /// Both rewrite the table (SQLite: the whole database) under an exclusive lock: every read
    /// and write waits until the rewrite ends.
    ///
    /// ## Example
    /// ```sql
    /// VACUUM FULL orders;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Leave space reclamation to autovacuum, or run plain `VACUUM` from a maintenance job.
    /// 2. To shrink a bloated table online, use a tool such as pg_repack outside the deploy.
    ///
    /// ## Suppress
    /// `-- migrate:allow vacuum-full: <reason>` above the statement.
    VACUUM_FULL, code = "M211", name = "vacuum-full", kind = Lock, severity = Error,
    summary = "VACUUM FULL rewrites the table under an exclusive lock", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::Vacuum { full } = change.kind else {
        return;
    };
    // A database that held nothing before the run has no traffic to block.
    if ctx.fresh {
        return;
    }
    let message = match ctx.dialect {
        Dialect::Postgres if full => {
            "VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock"
        }
        Dialect::Sqlite => "VACUUM rewrites the whole SQLite database under an exclusive lock",
        _ => return,
    };
    ctx.report(change.span, "", message);
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::{Dialect, fires, fires_pg};

    #[test]
    fn flags_full_vacuum() {
        assert_eq!(fires_pg("vacuum-full", &["VACUUM FULL t;"]), [(1, 1)]);
        assert_eq!(
            fires("vacuum-full", Dialect::Sqlite, &["VACUUM;"]),
            [(1, 1)]
        );
    }

    #[test]
    fn plain_vacuum_on_postgres_is_fine() {
        assert!(fires_pg("vacuum-full", &["VACUUM t;"]).is_empty());
    }
}
