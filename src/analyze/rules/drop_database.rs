//! Flags `DROP DATABASE`.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `DROP DATABASE` (MySQL's `DROP SCHEMA` is `drop-schema`), whatever the database.
    ///
    /// ## Why it breaks the running app
    /// Everything in the database goes at once, for every app version that uses it, and no
    /// rollback brings it back. A migration runs against every environment it is deployed
    /// to, so one written for a scratch database drops production's too.
    ///
    /// ## Example
    /// ```sql
    /// DROP DATABASE reporting;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Move every app off the database and release that.
    /// 2. Drop it by hand, outside the migrations, once backups are confirmed.
    ///
    /// ## Suppress
    /// `-- migrate:allow drop-database: <why no app uses it, in every environment>` above
    /// the statement.
    DROP_DATABASE, code = "M127", name = "drop-database", kind = Statement, severity = Error,
    summary = "dropping a database destroys everything in it for every app version", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::DropDatabase { name } = &change.kind else {
        return;
    };
    ctx.report(
        change.span,
        name,
        format!("dropping database {name} destroys everything in it, for every app version and environment"),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    #[test]
    fn flags_every_drop_database() {
        assert_eq!(
            fires_pg("drop-database", &["DROP DATABASE reporting;"]),
            [(1, 1)]
        );
        assert_eq!(
            fires_pg("drop-database", &["DROP DATABASE IF EXISTS scratch;"]),
            [(1, 1)]
        );
    }

    #[test]
    fn other_drops_are_not_it() {
        assert!(fires_pg("drop-database", &["DROP SCHEMA s;", "DROP TABLE t;"]).is_empty());
    }
}
