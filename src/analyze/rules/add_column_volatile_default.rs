//! Flags adding a column whose default forces PostgreSQL to rewrite the table.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ExprInfo, QName, Volatility};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Flags `ADD COLUMN ... DEFAULT <expr>` on an existing PostgreSQL table when the default is
    /// volatile (`random()`, `gen_random_uuid()`, `clock_timestamp()`, `nextval()`, a user
    /// function not declared `STABLE` or `IMMUTABLE`), or when any default is used before
    /// PostgreSQL 11 (`pg_version`). `now()` and constants are fine on 11+: stored in the
    /// catalog, no rewrite.
    ///
    /// ## Why it breaks the running app
    /// A volatile default must be computed per row, so PostgreSQL rewrites the whole table under
    /// an ACCESS EXCLUSIVE lock: no reads or writes until it finishes.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Add the column without a default.
    /// 2. `ALTER TABLE ... ALTER COLUMN ... SET DEFAULT <expr>` (applies to new rows only, no rewrite).
    /// 3. Backfill existing rows in batches.
    ///
    /// ## Suppress
    /// `-- migrate:allow add-column-volatile-default: <reason>` above the statement.
    ADD_COLUMN_VOLATILE_DEFAULT, code = "M208", name = "add-column-volatile-default", kind = Lock,
    severity = Error,
    summary = "a volatile default (any default before PG 11) rewrites the table under lock", check
}

const VOLATILE: &[&str] = &[
    "random",
    "random_normal",
    "gen_random_uuid",
    "gen_random_bytes",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "uuid_generate_v7",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "setval",
    "txid_current",
    "pg_current_xact_id",
];

const NOT_VOLATILE: &[&str] = &[
    "now",
    "current_timestamp",
    "current_date",
    "current_time",
    "localtimestamp",
    "localtime",
    "transaction_timestamp",
    "statement_timestamp",
    "timezone",
    "date_trunc",
    "to_char",
    "to_timestamp",
    "to_date",
    "make_interval",
    "make_date",
    "lower",
    "upper",
    "coalesce",
    "nullif",
    "greatest",
    "least",
    "concat",
    "length",
    "md5",
    "encode",
    "decode",
    "replace",
    "substring",
    "trim",
    "btrim",
    "json_build_object",
    "jsonb_build_object",
    "json_build_array",
    "jsonb_build_array",
    "to_json",
    "to_jsonb",
    "array_fill",
    "current_setting",
    "current_user",
    "session_user",
    "uuid_nil",
    "interval",
    "cast",
    "array",
];

/// The first function that makes `expr` volatile, if any.
fn volatile_function(ctx: &Context, expr: &ExprInfo) -> Option<String> {
    expr.functions
        .iter()
        .find(|f| {
            if VOLATILE.contains(&f.as_str()) {
                return true;
            }
            if NOT_VOLATILE.contains(&f.as_str()) {
                return false;
            }
            match ctx.catalog.function(&QName::new(f.as_str())) {
                Some(function) => !matches!(
                    function.volatility,
                    Some(Volatility::Immutable | Volatility::Stable)
                ),
                // Unknown functions are volatile unless declared otherwise, as in PostgreSQL.
                None => true,
            }
        })
        .cloned()
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    let ChangeKind::AddColumn { table, column } = &change.kind else {
        return;
    };
    let Some(default) = column.default.as_ref().filter(|d| !d.is_null) else {
        return;
    };
    if !ctx.postgres() || ctx.is_new_table(table) || column.generated.is_some() {
        return;
    }
    let object = table.column(&column.name);
    let message = if ctx.pg_version < 11 {
        format!(
            "adding column {object} with a default rewrites the whole table under an ACCESS EXCLUSIVE lock before PostgreSQL 11 (pg_version = {})",
            ctx.pg_version
        )
    } else if let Some(function) = volatile_function(ctx, default) {
        format!(
            "adding column {object} with volatile default {function}() rewrites the whole table under an ACCESS EXCLUSIVE lock"
        )
    } else {
        return;
    };
    ctx.report(change.span, object, message);
}

#[cfg(test)]
mod tests {
    use crate::analyze::Options;
    use crate::analyze::rules::testing::{fires_pg, fires_with};

    const TABLE: &str = "CREATE TABLE t (id int);";

    #[test]
    fn flags_volatile_defaults() {
        let files = [
            TABLE,
            "ALTER TABLE t ADD COLUMN u uuid DEFAULT gen_random_uuid();",
        ];
        assert_eq!(fires_pg("add-column-volatile-default", &files), [(2, 1)]);
        let old_pg = Options {
            pg_version: 10,
            ..Options::default()
        };
        let files = [TABLE, "ALTER TABLE t ADD COLUMN n int DEFAULT 0;"];
        assert_eq!(
            fires_with("add-column-volatile-default", &old_pg, &files),
            [(2, 1)]
        );
    }

    #[test]
    fn stable_defaults_are_fine() {
        let files = [
            TABLE,
            "ALTER TABLE t ADD COLUMN c timestamptz DEFAULT now();\nALTER TABLE t ADD COLUMN n int DEFAULT 0;",
        ];
        assert!(fires_pg("add-column-volatile-default", &files).is_empty());
    }
}
