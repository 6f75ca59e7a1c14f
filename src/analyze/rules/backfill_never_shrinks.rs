//! Flags a backfill statement that would change rows forever when repeated.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ConstraintKind, Shrink};
use crate::analyze::registry::declare_rule;
use crate::source::directive::Phase;

declare_rule! {
    /// ## What it does
    /// In a backfill migration (`-- migrate:backfill`), flags a statement that `up`'s way of
    /// running it — again and again, until a run changes no row — would never end, or would
    /// end with rows left:
    ///
    /// - an `UPDATE` must assign a column that the conditions selecting its batch test, so
    ///   that the test fails afterwards: `SET c = 1 WHERE c IS NULL`, `SET c = 'b' WHERE c =
    ///   'a'`, `SET c = x WHERE c <> x` (or `IS DISTINCT FROM x`), `SET done = true WHERE NOT
    ///   done`. `SET c = other_column WHERE c IS NULL` counts only when `other_column` is NOT
    ///   NULL (declared, or tested in the condition): otherwise the rows where it is NULL are
    ///   updated forever;
    /// - a batch written `key IN (SELECT key FROM same_table WHERE ... LIMIT n)` (or MySQL's
    ///   `key IN (SELECT key FROM (SELECT ... LIMIT n) AS batch)`) must be the whole `WHERE`
    ///   and select the key it is matched on from the same table, with a positive number as
    ///   its `LIMIT`: a filter outside it, another column, `OFFSET`, `SKIP LOCKED`, `LIMIT 0`,
    ///   `random()`, `TABLESAMPLE` or a batch read from another table lets a run change
    ///   nothing while rows are left (ending the backfill early) or the same rows forever;
    /// - an `INSERT ... SELECT` must leave out the rows it already inserted: `WHERE NOT EXISTS
    ///   (SELECT 1 FROM target t WHERE t.col = <the expression inserted into col> ...)` or `LEFT
    ///   JOIN target t ON t.col = <that expression> ... WHERE t.col IS NULL`, nothing but such
    ///   equalities in the match, the expressions plain NOT NULL columns (a computed value
    ///   may be stored converted and never match), the `SELECT` not reading the target
    ///   (its own rows would feed later batches) and its `LIMIT` steady as above.
    ///   `ON CONFLICT DO NOTHING` or `INSERT
    ///   IGNORE` count only without a `LIMIT` and on a target with a unique key (with a
    ///   `LIMIT`, the second run selects the same rows, inserts nothing and ends the backfill
    ///   after one batch);
    /// - a `DELETE` shrinks its own work set when its batch (if any) reads its own table.
    ///
    /// ## Why it breaks the running app
    /// The deploy never finishes: every batch changes rows again, each holding row locks the
    /// running app waits for, until someone kills it.
    ///
    /// ## Example
    /// ```sql
    /// -- an earlier migration
    /// CREATE TABLE users (id bigint PRIMARY KEY, score int);
    /// ```
    ///
    /// ```sql
    /// -- migrate:backfill
    /// UPDATE users SET score = score + 1 WHERE id IN (SELECT id FROM users LIMIT 5000);
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Give the statement a condition its own change makes false, tested in the batch it selects.
    /// 2. PostgreSQL: `UPDATE users SET org_id = 1 WHERE id IN (SELECT id FROM users WHERE org_id IS NULL LIMIT 5000)`.
    /// 3. MySQL: `UPDATE users SET org_id = 1 WHERE org_id IS NULL LIMIT 5000`.
    /// 4. A change that cannot be made idempotent (an increment) needs a marker column set in the same statement: `SET score = score + 1, migrated = true WHERE NOT migrated`.
    ///
    /// ## Suppress
    /// `-- migrate:allow backfill-never-shrinks: <why a repeated run changes no row>` above the statement.
    BACKFILL_NEVER_SHRINKS, code = "M017", name = "backfill-never-shrinks", kind = Statement,
    severity = Error,
    summary = "a backfill statement whose change does not shrink its own work set would repeat forever",
    check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    if ctx.phase() != Phase::Backfill {
        return;
    }
    let (table, shrink, verb) = match &change.kind {
        ChangeKind::Update { table, shrink, .. } => (table, shrink, "UPDATE"),
        ChangeKind::Insert { table, shrink, .. } => (table, shrink, "INSERT"),
        ChangeKind::Delete { table, shrink, .. } => (table, shrink, "DELETE"),
        _ => return,
    };
    let message = match shrink {
        Shrink::Always => return,
        Shrink::IfNotNull(given) => {
            let (source, columns) = given.as_ref();
            let nullable: Vec<&String> = columns
                .iter()
                .filter(|c| !ctx.catalog.column(source, c).is_some_and(|c| c.not_null))
                .collect();
            if nullable.is_empty() {
                return;
            }
            let list: Vec<String> = nullable.iter().map(|c| source.column(c)).collect();
            format!(
                "this {verb} repeats forever on the rows where {} is NULL: they still match its condition after the change (test `{} IS NOT NULL` in it)",
                list.join(" or "),
                nullable[0]
            )
        }
        Shrink::IfKeyed(target) => {
            let keyed = ctx.catalog.table(target).is_some_and(|t| {
                t.constraints.iter().any(|c| {
                    matches!(
                        c.kind,
                        ConstraintKind::PrimaryKey { .. } | ConstraintKind::Unique { .. }
                    )
                })
            });
            if keyed {
                return;
            }
            format!(
                "this INSERT into {target} inserts the same rows again on every run: its conflict clause skips nothing, since {target} has no primary key or unique constraint the migrations show"
            )
        }
        Shrink::Never if verb == "INSERT" => format!(
            "this INSERT into {table} inserts again on every run: a backfill repeats it until it inserts no row, so its SELECT must leave out the rows already in {table} (NOT EXISTS)"
        ),
        Shrink::Never if verb == "DELETE" => format!(
            "this DELETE from {table} can stop before every row it selects is gone: its batch must come from {table} itself (`id IN (SELECT id FROM {table} WHERE ... LIMIT n)`, nothing filtering outside it, no OFFSET or SKIP LOCKED)"
        ),
        Shrink::Never => format!(
            "this UPDATE of {table} can repeat forever or stop with rows left: its batch must select by a condition its own SET makes false, from {table} itself (`id IN (SELECT id FROM {table} WHERE <that condition> LIMIT n)`, nothing filtering outside it, no OFFSET or SKIP LOCKED)"
        ),
    };
    ctx.report(change.span, table, message);
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::{Dialect, fires, fires_pg};

    const USERS: &str = "CREATE TABLE users (id bigint PRIMARY KEY, org_id bigint, legacy bigint, done bigint NOT NULL DEFAULT 0, status text, score int, migrated boolean NOT NULL DEFAULT false);\nCREATE TABLE copy (id bigint PRIMARY KEY);\nCREATE TABLE nokey (id bigint);";

    fn backfill(sql: &str) -> String {
        format!("-- migrate:backfill\n{sql}")
    }

    #[test]
    fn statements_that_falsify_their_where_pass() {
        for sql in [
            "UPDATE users SET org_id = 1 WHERE id IN (SELECT id FROM users WHERE org_id IS NULL LIMIT 10);",
            "UPDATE users SET org_id = legacy WHERE id IN (SELECT id FROM users WHERE org_id IS NULL AND legacy IS NOT NULL LIMIT 10);",
            "UPDATE users SET org_id = done WHERE id IN (SELECT id FROM users WHERE org_id IS NULL LIMIT 10);",
            "UPDATE users SET org_id = COALESCE(legacy, 0) WHERE id IN (SELECT id FROM users WHERE org_id IS NULL LIMIT 10);",
            "UPDATE users SET status = CONCAT('x-', id) WHERE id IN (SELECT id FROM users WHERE status IS NULL LIMIT 10);",
            "UPDATE users SET status = 'b' WHERE id IN (SELECT id FROM users WHERE status = 'a' LIMIT 10);",
            "UPDATE users SET status = 'c' WHERE id IN (SELECT id FROM users WHERE status IN ('a', 'b') LIMIT 10);",
            "UPDATE users SET org_id = legacy WHERE id IN (SELECT id FROM users WHERE org_id IS DISTINCT FROM legacy LIMIT 10);",
            "INSERT INTO copy (id) SELECT id FROM users u WHERE NOT EXISTS (SELECT 1 FROM copy c WHERE c.id = u.id) LIMIT 10;",
            "INSERT INTO copy (id) SELECT u.id FROM users u LEFT JOIN copy c ON c.id = u.id WHERE c.id IS NULL LIMIT 10;",
            "INSERT INTO copy (id) SELECT id FROM users ON CONFLICT DO NOTHING;",
            "DELETE FROM users WHERE id IN (SELECT id FROM users WHERE status = 'x' LIMIT 10);",
            // The marker column of this rule's own recipe.
            "UPDATE users SET score = score + 1, migrated = true WHERE id IN (SELECT id FROM users WHERE NOT migrated LIMIT 10);",
            "UPDATE users SET score = score + 1, migrated = true WHERE id IN (SELECT id FROM users WHERE migrated IS NOT TRUE LIMIT 10);",
        ] {
            let files = [USERS.to_string(), backfill(sql)];
            let files: Vec<&str> = files.iter().map(String::as_str).collect();
            assert!(
                fires_pg("backfill-never-shrinks", &files).is_empty(),
                "{sql}"
            );
        }
        let mysql = [
            USERS.to_string(),
            backfill("UPDATE users SET org_id = 1 WHERE org_id IS NULL LIMIT 100;"),
        ];
        let mysql: Vec<&str> = mysql.iter().map(String::as_str).collect();
        assert!(fires("backfill-never-shrinks", Dialect::Mysql, &mysql).is_empty());
    }

    #[test]
    fn statements_that_repeat_forever_are_flagged() {
        for sql in [
            "UPDATE users SET done = done + 1 WHERE id IN (SELECT id FROM users LIMIT 10);",
            "UPDATE users SET org_id = legacy WHERE id IN (SELECT id FROM users WHERE org_id IS NULL LIMIT 10);",
            "UPDATE users SET status = 'a' WHERE id IN (SELECT id FROM users WHERE status = 'a' LIMIT 10);",
            "UPDATE users SET org_id = NULL WHERE id IN (SELECT id FROM users WHERE org_id IS NULL LIMIT 10);",
            "UPDATE users SET status = CONCAT('x-', legacy) WHERE id IN (SELECT id FROM users WHERE status IS NULL LIMIT 10);",
            "INSERT INTO copy (id) SELECT id FROM users LIMIT 10;",
            "INSERT INTO copy (id) SELECT id FROM users LIMIT 10 ON CONFLICT DO NOTHING;",
            "INSERT INTO copy (id) VALUES (1);",
            // The anti-join compares a NULL key, or not what it inserts.
            "INSERT INTO copy (id) SELECT legacy FROM users u WHERE NOT EXISTS (SELECT 1 FROM copy c WHERE c.id = u.legacy) LIMIT 10;",
            "INSERT INTO copy (id) SELECT id + 1000 FROM users u WHERE NOT EXISTS (SELECT 1 FROM copy c WHERE c.id = u.id) LIMIT 10;",
            "INSERT INTO copy (id) SELECT id FROM users u WHERE NOT EXISTS (SELECT 1 FROM copy c WHERE c.id = u.id + 1) LIMIT 10;",
            "INSERT INTO nokey (id) SELECT id FROM users ON CONFLICT DO NOTHING;",
            // Batches that stop with rows left: a filter outside the batch, a batch of all
            // rows, OFFSET, SKIP LOCKED, another table's rows.
            "UPDATE users SET org_id = 1 WHERE org_id IS NULL AND id IN (SELECT id FROM users ORDER BY id LIMIT 10);",
            "UPDATE users SET org_id = 1 WHERE id IN (SELECT id FROM users WHERE org_id IS NULL LIMIT 10) AND id % 2 = 0;",
            "UPDATE users SET org_id = 1 WHERE id IN (SELECT id FROM users WHERE org_id IS NULL LIMIT 10 OFFSET 10);",
            "UPDATE users SET org_id = 1 WHERE id IN (SELECT id FROM users WHERE org_id IS NULL LIMIT 10 FOR UPDATE SKIP LOCKED);",
            "DELETE FROM users WHERE id IN (SELECT id FROM copy LIMIT 10);",
            // The batch picks another column, no row, or random rows.
            "UPDATE users SET migrated = true WHERE id IN (SELECT score FROM users WHERE NOT migrated LIMIT 10);",
            "UPDATE users SET migrated = true WHERE id IN (SELECT id FROM users WHERE NOT migrated LIMIT 0);",
            "UPDATE users SET migrated = true WHERE id IN (SELECT id FROM users WHERE NOT migrated AND random() < 0.5 LIMIT 10);",
            "UPDATE users SET migrated = true WHERE id IN (SELECT id FROM users WHERE NOT migrated LIMIT (SELECT count(*) FROM copy));",
            // An INSERT that skips rows or feeds itself, or compares a converted value.
            "INSERT INTO copy (id) SELECT u.id FROM users u WHERE NOT EXISTS (SELECT 1 FROM copy c WHERE c.id = u.id) LIMIT 10 OFFSET 5;",
            "INSERT INTO users (id) SELECT u.id + 100000 FROM users u WHERE NOT EXISTS (SELECT 1 FROM users t2 WHERE t2.id = u.id + 100000) LIMIT 10;",
            "INSERT INTO copy (id) SELECT u.id / 2.0 FROM users u WHERE NOT EXISTS (SELECT 1 FROM copy c WHERE c.id = u.id / 2.0) LIMIT 10;",
        ] {
            let files = [USERS.to_string(), backfill(sql)];
            let files: Vec<&str> = files.iter().map(String::as_str).collect();
            assert_eq!(
                fires_pg("backfill-never-shrinks", &files),
                [(2, 2)],
                "{sql}"
            );
        }
        // Outside a backfill migration the statement runs once: not this rule's business.
        let once = [USERS, "UPDATE users SET done = done + 1 WHERE id = 1;"];
        assert!(fires_pg("backfill-never-shrinks", &once).is_empty());
    }
}
