//! Flags DDL hidden in `DO` blocks and dynamic SQL, which no parser-based linter can see.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags a PostgreSQL `DO` block, or a MySQL `PREPARE`, whose body contains DDL
    /// (`ALTER TABLE`, `DROP ...`, `CREATE INDEX`, `EXECUTE` of built SQL, ...). The analysis
    /// cannot see what that code does, so it is neither checked nor replayed into the schema
    /// model.
    ///
    /// ## Why it breaks the running app
    /// Whatever the hidden DDL does happens unchecked: a dropped column or a table lock inside a
    /// `DO` block breaks the running app exactly as it would outside one.
    ///
    /// ## Example
    /// ```sql
    /// DO $$ BEGIN
    ///   IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'mood') THEN
    ///     CREATE TYPE mood AS ENUM ('happy', 'sad');
    ///   END IF;
    /// END $$;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Prefer plain statements (`CREATE TYPE`, `ALTER TABLE ... IF NOT EXISTS`) that can be checked.
    /// 2. Otherwise review the block by hand and record why it is safe in an allow.
    ///
    /// ## Suppress
    /// `-- migrate:allow opaque-ddl: <what the block does and why it is safe>`.
    OPAQUE_DDL, code = "M007", name = "opaque-ddl", kind = Statement, severity = Warning,
    summary = "DDL inside a DO block or dynamic SQL cannot be checked", check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::Opaque {
        what,
        ddl: Some(ddl),
    } = &change.kind
    else {
        return;
    };
    ctx.report(
        change.span,
        "",
        format!("{what} runs {ddl}, which the analysis cannot see into"),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::{Dialect, fires, fires_pg};

    #[test]
    fn flags_ddl_in_do_blocks() {
        let sql = "DO $$ BEGIN EXECUTE 'ALTER TABLE t DROP COLUMN x'; END $$;";
        assert_eq!(fires_pg("opaque-ddl", &[sql]), [(1, 1)]);
        assert_eq!(
            fires("opaque-ddl", Dialect::Mysql, &["PREPARE s FROM @sql;"]),
            [(1, 1)]
        );
    }

    #[test]
    fn ignores_data_only_blocks() {
        let sql = "DO $$ BEGIN UPDATE t SET x = 1 WHERE x IS NULL; END $$;";
        assert!(fires_pg("opaque-ddl", &[sql]).is_empty());
    }
}
