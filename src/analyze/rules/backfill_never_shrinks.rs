//! Flags a backfill statement that would change rows forever when repeated.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, Shrink};
use crate::analyze::registry::declare_rule;
use crate::source::directive::Phase;

declare_rule! {
    /// ## What it does
    /// In a backfill migration (`-- migrate:backfill`), flags an `UPDATE` or `INSERT` whose
    /// own change does not take a row out of the rows it selects, so that repeating it — which
    /// is how `up` runs a backfill, until a run changes no row — would never end:
    ///
    /// - an `UPDATE` must assign a column its `WHERE` (or the `WHERE` of its
    ///   `id IN (SELECT id FROM same_table WHERE ... LIMIT n)` batch) tests so that the test
    ///   fails afterwards: `SET c = 1 WHERE c IS NULL`, `SET c = 'b' WHERE c = 'a'`,
    ///   `SET c = x WHERE c <> x` (or `IS DISTINCT FROM x`). `SET c = other_column WHERE c IS
    ///   NULL` counts only when `other_column` is NOT NULL (declared, or tested in the
    ///   `WHERE`): otherwise the rows where it is NULL are updated forever;
    /// - an `INSERT ... SELECT` must leave out the rows it already inserted: `WHERE NOT
    ///   EXISTS (SELECT 1 FROM target ...)`, `NOT IN (SELECT ... FROM target)`, or a `LEFT
    ///   JOIN target ... WHERE target.key IS NULL`; `ON CONFLICT DO NOTHING` or `INSERT IGNORE`
    ///   count only without a `LIMIT` (with one, the second run selects the same rows, inserts
    ///   nothing and ends the backfill after one batch);
    /// - a `DELETE` always shrinks its own work set.
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
        _ => return,
    };
    let message = match shrink {
        Shrink::Always => return,
        Shrink::IfNotNull(columns) => {
            let nullable: Vec<&String> = columns
                .iter()
                .filter(|c| !ctx.catalog.column(table, c).is_some_and(|c| c.not_null))
                .collect();
            if nullable.is_empty() {
                return;
            }
            let list: Vec<String> = nullable.iter().map(|c| table.column(c)).collect();
            format!(
                "this {verb} repeats forever on the rows where {} is NULL: they still match its WHERE after the change (test `{} IS NOT NULL` in the WHERE)",
                list.join(" or "),
                nullable[0]
            )
        }
        Shrink::Never if verb == "INSERT" => format!(
            "this INSERT into {table} inserts again on every run: a backfill repeats it until it inserts no row, so its SELECT must leave out the rows already in {table} (NOT EXISTS)"
        ),
        Shrink::Never => format!(
            "this UPDATE of {table} does not make its own WHERE false for the rows it changes: a backfill repeats it until it changes no row, which never happens"
        ),
    };
    ctx.report(change.span, table, message);
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::{Dialect, fires, fires_pg};

    const USERS: &str = "CREATE TABLE users (id bigint PRIMARY KEY, org_id bigint, legacy bigint, done bigint NOT NULL DEFAULT 0, status text);\nCREATE TABLE copy (id bigint PRIMARY KEY);";

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
