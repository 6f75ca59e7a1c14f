//! Flags an expand statement (something new for the next app) inside a contract migration.

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ConstraintKind, ObjectKind};
use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// In a contract migration (`-- migrate:contract`), flags a statement that adds
    /// something: a table, a column, an index, a view, schema, type, enum value, sequence or
    /// function that did not exist (`CREATE OR REPLACE` of an existing view or function is a
    /// redefinition, not an addition; a unique index restricts writes, a tightening a
    /// contract step may make).
    ///
    /// ## Why it breaks the running app
    /// A contract migration runs after the rollout (`migrate up --phase contract`), so what it
    /// adds is not there while the new release starts and serves its first requests, and is
    /// missing if the contract step is delayed or skipped. Additions belong in an expand
    /// migration, which `up` applies before the rollout; mixing the two also makes one file
    /// both unsafe to run early and unsafe to run late.
    ///
    /// ## Example
    /// ```sql
    /// -- an earlier migration
    /// CREATE TABLE users (id bigint PRIMARY KEY, name text, full_name text);
    /// ```
    ///
    /// ```sql
    /// -- migrate:contract
    /// ALTER TABLE users DROP COLUMN name;
    /// ALTER TABLE users ADD COLUMN nickname text;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Split the file: the additions go to an expand migration (`migrate new DESCRIPTION`), applied by `migrate up` before the rollout.
    /// 2. Keep only drops, renames and tightenings in the contract migration (`migrate new --contract DESCRIPTION`).
    ///
    /// ## Suppress
    /// `-- migrate:allow contract-mixes-expand: <why it may wait for the contract step>` above the statement.
    CONTRACT_MIXES_EXPAND, code = "M014", name = "contract-mixes-expand", kind = Statement,
    severity = Error,
    summary = "a contract migration adds something new; additions belong in an expand migration",
    check
}

pub(crate) fn check(ctx: &mut Context, change: &Change) {
    if !ctx.contract() {
        return;
    }
    let what = match &change.kind {
        ChangeKind::CreateTable { table, .. } => format!("creates table {table}"),
        ChangeKind::AddColumn { table, column } => {
            format!("adds column {}", table.column(&column.name))
        }
        // A unique index restricts writes: a tightening, which a contract step may make.
        ChangeKind::CreateIndex {
            name,
            table,
            unique: false,
            ..
        } => match name {
            Some(name) => format!("creates index {name} on {table}"),
            None => format!("creates an index on {table}"),
        },
        // MySQL `ALTER TABLE t ADD INDEX i (...)`.
        ChangeKind::AddConstraint {
            table, constraint, ..
        } if matches!(constraint.kind, ConstraintKind::Index { unique: false, .. }) => {
            match &constraint.name {
                Some(name) => format!("adds index {name} to {table}"),
                None => format!("adds an index to {table}"),
            }
        }
        ChangeKind::CreateView { view, .. } if ctx.catalog.view(view).is_none() => {
            format!("creates view {view}")
        }
        ChangeKind::CreateSchema { name } => format!("creates schema {name}"),
        ChangeKind::CreateType { name, .. } => format!("creates type {name}"),
        ChangeKind::AddEnumValue { ty, value } => format!("adds value '{value}' to {ty}"),
        ChangeKind::CreateSequence { name } => format!("creates sequence {name}"),
        ChangeKind::CreateFunction { name, .. }
            if ctx
                .catalog
                .object_release(ObjectKind::Function, name)
                .is_none() =>
        {
            format!("creates function {name}")
        }
        _ => return,
    };
    ctx.report(
        change.span,
        "",
        format!("this contract migration {what}: additions belong in an expand migration, applied before the rollout"),
    );
}

#[cfg(test)]
mod tests {
    use crate::analyze::rules::testing::fires_pg;

    const USERS: &str = "CREATE TABLE users (id bigint PRIMARY KEY, name text);";

    #[test]
    fn flags_additions_in_contract_files() {
        let files = [
            USERS,
            "-- migrate:contract\nALTER TABLE users DROP COLUMN name;\nALTER TABLE users ADD COLUMN nick text;\nCREATE INDEX users_nick ON users (nick);\nCREATE TABLE t (id int);",
        ];
        assert_eq!(
            fires_pg("contract-mixes-expand", &files),
            [(2, 3), (2, 4), (2, 5)]
        );
        let mysql = [
            USERS,
            "-- migrate:contract\nALTER TABLE users ADD INDEX users_name (name), ALGORITHM=INPLACE, LOCK=NONE;\nALTER TABLE users ADD UNIQUE INDEX users_name_key (name);",
        ];
        assert_eq!(
            crate::analyze::rules::testing::fires(
                "contract-mixes-expand",
                crate::dialect::Dialect::Mysql,
                &mysql
            ),
            [(2, 2)]
        );
    }

    #[test]
    fn expand_files_and_redefinitions_are_fine() {
        let files = [USERS, "ALTER TABLE users ADD COLUMN nick text;"];
        assert!(fires_pg("contract-mixes-expand", &files).is_empty());
        let files = [
            "CREATE TABLE users (id bigint PRIMARY KEY, name text, nick text);\nCREATE VIEW v AS SELECT id, name FROM users;",
            "-- migrate:contract\nCREATE OR REPLACE VIEW v AS SELECT id, name, nick FROM users;",
        ];
        assert!(fires_pg("contract-mixes-expand", &files).is_empty());
    }
}
