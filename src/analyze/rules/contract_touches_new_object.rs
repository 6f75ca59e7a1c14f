//! Flags a contract migration that drops, renames or retypes what its own release made.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ObjectKind, QName};
use crate::analyze::registry::declare_rule;
use crate::analyze::schema::Release;

declare_rule! {
    /// ## What it does
    /// In a contract migration (`-- migrate:contract`), flags a drop, rename, type change or
    /// move to another schema of a table, column or view made by an expand migration of the
    /// same release: the files `check --base` judges together, or `up`'s pending files.
    /// (`check` without `--base` makes each file its own release, and cannot tell which
    /// release's rollout a contract migration follows.) Tightening a new column (`SET NOT
    /// NULL`, a constraint) is what a contract step is for, and is not flagged; nor is dropping
    /// a function, trigger, type or sequence, which an expand step often makes only to bridge
    /// the two releases (a trigger that fills the old column). Not on a database that held
    /// nothing (`up` there has no app to break).
    ///
    /// ## Why it breaks the running app
    /// A contract migration runs against the release that has just rolled out, and that
    /// release was written for what its own expand migrations made: dropping or renaming it
    /// breaks the app that is serving traffic now, not the one that is gone.
    ///
    /// ## Example
    /// ```sql
    /// -- an earlier release
    /// CREATE TABLE users (id bigint PRIMARY KEY, name text);
    /// ```
    ///
    /// ```sql release
    /// -- this release: expand
    /// ALTER TABLE users ADD COLUMN full_name text;
    /// ```
    ///
    /// ```sql release
    /// -- migrate:contract
    /// ALTER TABLE users DROP COLUMN full_name;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Drop or rename only what the previous release used and the new one no longer does (in the example, `name`).
    /// 2. To undo an addition of this release, release an app that stops using it first; drop it in the next release's contract migration.
    ///
    /// ## Suppress
    /// `-- migrate:allow contract-touches-new-object: <why the new release does not use it>` above the statement.
    CONTRACT_TOUCHES_NEW_OBJECT, code = "M015", name = "contract-touches-new-object",
    kind = Statement, severity = Error,
    summary = "a contract migration drops or renames what its own release made, which the new app uses",
    check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    if !ctx.contract() || ctx.fresh {
        return;
    }
    let table_release = |t: &QName| {
        ctx.catalog
            .table(t)
            .map(|t| t.release)
            .or_else(|| ctx.catalog.view(t).map(|v| v.release))
    };
    let column_release =
        |t: &QName, c: &str| table_release(t).max(ctx.catalog.column(t, c).map(|c| c.release));
    let (release, what): (Option<Release>, String) = match &change.kind {
        ChangeKind::DropTable { table } => (table_release(table), format!("drops table {table}")),
        ChangeKind::RenameTable { from, .. } => {
            (table_release(from), format!("renames table {from}"))
        }
        ChangeKind::DropColumn { table, column } => (
            column_release(table, column),
            format!("drops column {}", table.column(column)),
        ),
        ChangeKind::RenameColumn { table, from, .. } => (
            column_release(table, from),
            format!("renames column {}", table.column(from)),
        ),
        ChangeKind::AlterColumnType { table, column, .. } => (
            column_release(table, column),
            format!("changes the type of {}", table.column(column)),
        ),
        ChangeKind::RedefineColumn {
            table,
            from,
            column,
        } if *from != column.name => (
            column_release(table, from),
            format!("renames column {}", table.column(from)),
        ),
        ChangeKind::DropView { view, .. } => (
            ctx.catalog.view(view).map(|v| v.release),
            format!("drops view {view}"),
        ),
        ChangeKind::RenameObject { kind, from, .. }
        | ChangeKind::SetSchema {
            kind, object: from, ..
        } if matches!(
            kind,
            ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView
        ) =>
        {
            (
                table_release(from),
                format!("renames or moves {} {from}", kind.noun()),
            )
        }
        _ => return,
    };
    // Made by this release: `Context::is_new` says no (the object is live after the rollout).
    if release != Some(ctx.release) {
        return;
    }
    ctx.report(
        change.span,
        "",
        format!("this contract migration {what}, which its own release made: the release now serving traffic uses it"),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::{Dialect, fires_in_release, fires_pg};

    const USERS: &str = "CREATE TABLE users (id bigint PRIMARY KEY, name text);";

    #[test]
    fn flags_what_the_same_release_made() {
        let release = [
            "ALTER TABLE users ADD COLUMN full_name text;\nCREATE TABLE audit (id int);\nCREATE FUNCTION sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;",
            "-- migrate:contract\nALTER TABLE users DROP COLUMN full_name;\nDROP TABLE audit;\nALTER TABLE users DROP COLUMN name;\nALTER TABLE users ALTER COLUMN full_name SET NOT NULL;\nDROP FUNCTION sync();",
        ];
        assert_eq!(
            fires_in_release(
                "contract-touches-new-object",
                Dialect::Postgres,
                &[USERS],
                &release
            ),
            [(3, 2), (3, 3)]
        );
    }

    #[test]
    fn older_objects_are_what_a_contract_is_for() {
        let files = [
            USERS,
            "ALTER TABLE users ADD COLUMN full_name text;",
            "-- migrate:contract\nALTER TABLE users DROP COLUMN name;\nALTER TABLE users DROP COLUMN full_name;",
        ];
        // Each file its own release (no --base): the contract migration is judged alone.
        assert!(fires_pg("contract-touches-new-object", &files).is_empty());
    }
}
