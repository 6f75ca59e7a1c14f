//! One module per rule, each with its documentation, its check and its tests.
//! The list of all rules is `registry::RULES`.

pub mod add_check_without_not_valid;
pub mod add_column_volatile_default;
pub mod add_exclusion_constraint;
pub mod add_foreign_key_without_not_valid;
pub mod add_not_null_column_without_default;
pub mod add_primary_key_without_index;
pub mod add_serial_column;
pub mod add_stored_generated_column;
pub mod add_unique_without_index;
pub mod alter_algorithm_copy;
pub mod alter_domain_constraint;
pub mod alter_lock_blocking;
pub mod backfill_never_shrinks;
pub mod backfill_not_dml;
pub mod change_column_type;
pub mod cluster_table;
pub mod concurrently_in_transaction;
pub mod contract_mixes_expand;
pub mod contract_touches_new_object;
pub mod create_index_not_concurrently;
pub mod delete_without_where;
pub mod deleted_migration;
pub mod detach_partition_not_concurrently;
pub mod down_migration_ignored;
pub mod drop_and_add_column;
pub mod drop_column;
pub mod drop_database;
pub mod drop_default_on_not_null_column;
pub mod drop_function;
pub mod drop_index_not_concurrently;
pub mod drop_materialized_view;
pub mod drop_not_null;
pub mod drop_schema;
pub mod drop_sequence;
pub mod drop_table;
pub mod drop_type;
pub mod drop_view;
pub mod duplicate_version;
pub mod edited_migration;
pub mod invalid_directive;
pub mod invalid_migration_name;
pub mod migrate_sum_mismatch;
pub mod mixed_non_transactional;
pub mod mysql_inline_references;
pub mod opaque_ddl;
pub mod reindex_not_concurrently;
pub mod remove_enum_value;
pub mod rename_column;
pub mod rename_enum_value;
pub mod rename_function;
pub mod rename_schema;
pub mod rename_table;
pub mod rename_type;
pub mod rename_view;
pub mod replace_view_changing_columns;
pub mod replay_fails;
pub mod restrict_old_writes;
pub mod set_not_null;
pub mod set_schema;
pub mod table_rebuild;
pub mod transaction_control;
pub mod truncate_table;
pub mod unbatched_backfill;
pub mod unparsed_statement;
pub mod unused_allow;
pub mod vacuum_full;
pub mod validate_in_same_migration;

use crate::analyze::context::Context;
use crate::analyze::ir::{Change, ChangeKind, ColumnSpec, ObjectKind, QName, Span};
use crate::analyze::schema::Release;
use crate::dialect::Dialect;

/// The dialect runs DDL inside transactions, so a drop and a re-create in one migration file
/// are atomic to other sessions (PostgreSQL, SQLite; not MySQL, which commits each DDL).
pub(crate) fn transactional_ddl(ctx: &Context) -> bool {
    ctx.dialect != Dialect::Mysql
}

/// How to index a partitioned PostgreSQL table without blocking writes (it refuses
/// `CREATE INDEX CONCURRENTLY` on the parent).
pub(crate) const PARTITIONED_INDEX_RECIPE: &str = "1. `CREATE INDEX idx ON ONLY parent (...);` (an invalid index on the parent alone: nothing is built).\n2. For each partition, in its own migration file: `CREATE INDEX CONCURRENTLY idx_part ON partition (...);`\n3. `ALTER INDEX idx ATTACH PARTITION idx_part;` for each: once every partition's index is attached, the parent's index is valid.";

/// The table is a partitioned PostgreSQL table the catalog knows.
pub(crate) fn partitioned(ctx: &Context, table: &QName) -> bool {
    ctx.postgres() && ctx.catalog.table(table).is_some_and(|t| t.partitioned)
}

/// An `ADD COLUMN` on a PostgreSQL table of an earlier release: its inline constraints lock
/// and scan like their `ADD CONSTRAINT` forms.
pub(crate) fn inline_on_old_table<'c>(
    ctx: &Context,
    change: &'c Change,
) -> Option<(&'c QName, &'c ColumnSpec)> {
    match &change.kind {
        ChangeKind::AddColumn { table, column } if ctx.postgres() && !ctx.is_new_table(table) => {
            Some((table, column))
        }
        _ => None,
    }
}

/// A later change of the release creates `name` again as `kind`: the drop is a replacement.
pub(crate) fn recreated_later(ctx: &Context, kind: ObjectKind, name: &QName) -> bool {
    ctx.later_changes().any(|c| match (kind, c) {
        (
            ObjectKind::View,
            ChangeKind::CreateView {
                view, materialized, ..
            },
        ) => view == name && !materialized,
        (
            ObjectKind::MaterializedView,
            ChangeKind::CreateView {
                view, materialized, ..
            },
        ) => view == name && *materialized,
        (ObjectKind::Function, ChangeKind::CreateFunction { name: n, .. }) => n == name,
        (ObjectKind::Type, ChangeKind::CreateType { name: n, .. }) => n == name,
        (ObjectKind::Sequence, ChangeKind::CreateSequence { name: n }) => n == name,
        (ObjectKind::Table, ChangeKind::CreateTable { table, .. }) => table == name,
        _ => false,
    })
}

/// The shared judgement of `DROP <object>`: silent for objects of the release under test and
/// for replacements inside one transactional release; otherwise the old app loses the object.
pub(crate) fn check_drop(
    ctx: &mut Context,
    span: Span,
    kind: ObjectKind,
    name: &QName,
    release: Option<Release>,
) {
    if ctx.is_new_in(release, name.schema.as_deref())
        || (transactional_ddl(ctx) && recreated_later(ctx, kind, name))
    {
        return;
    }
    ctx.report(
        span,
        name,
        format!(
            "dropping {} {name} breaks the previous release, which still uses it",
            kind.noun()
        ),
    );
}

/// The shared judgement of a rename: silent when the object is new in the release.
pub(crate) fn check_rename(
    ctx: &mut Context,
    span: Span,
    kind: &str,
    from: &str,
    to: &str,
    is_new: bool,
) {
    if is_new {
        return;
    }
    ctx.report(
        span,
        from,
        format!("renaming {kind} {from} to {to} breaks the previous release, which still uses the old name"),
    );
}

#[cfg(test)]
pub(crate) mod testing {
    //! Runs the analysis over small in-memory histories for the rules' unit tests.

    use crate::analyze::{Options, Unit, analyze};
    pub use crate::dialect::Dialect;
    use crate::source::SourceFile;

    /// Migration files `1_m.sql`, `2_m.sql`, ... holding `texts`, in order.
    fn sources<'t>(texts: impl Iterator<Item = &'t &'t str>) -> Vec<SourceFile> {
        texts
            .enumerate()
            .map(|(i, text)| SourceFile {
                path: format!("{}_m.sql", i + 1).into(),
                display: format!("{}_m.sql", i + 1),
                version: Some(i as u64 + 1),
                description: "m".into(),
                text: text.to_string(),
                ..Default::default()
            })
            .collect()
    }

    /// Where `rule` fires when `files` are analysed in order, each its own release:
    /// `(file number from 1, line)` pairs.
    pub fn fires_with(rule: &str, options: &Options, files: &[&str]) -> Vec<(usize, u32)> {
        let sources = sources(files.iter());
        let units = Unit::each_own_release(&sources);
        let analysis = analyze(&units, &[], options);
        assert!(
            crate::analyze::registry::find(rule).is_some(),
            "no rule named {rule}"
        );
        analysis
            .diagnostics
            .iter()
            .filter(|d| d.rule.name == rule)
            .map(|d| (d.file_index + 1, d.span.start.line))
            .collect()
    }

    /// Where `rule` fires when `history` is replayed (each file its own release) and then
    /// `release` is judged as one release, as `check --base` and `up` judge their files.
    pub fn fires_in_release(
        rule: &str,
        dialect: Dialect,
        history: &[&str],
        release: &[&str],
    ) -> Vec<(usize, u32)> {
        let sources = sources(history.iter().chain(release));
        let under_test = history.len() as u32 + 1;
        let units: Vec<Unit> = sources
            .iter()
            .enumerate()
            .map(|(i, file)| Unit {
                file,
                release: (i as u32 + 1).min(under_test),
                lint: i >= history.len(),
            })
            .collect();
        let options = Options {
            dialect,
            ..Options::default()
        };
        analyze(&units, &[], &options)
            .diagnostics
            .iter()
            .filter(|d| d.rule.name == rule)
            .map(|d| (d.file_index + 1, d.span.start.line))
            .collect()
    }

    /// [`fires_with`] with default options for `dialect`.
    pub fn fires(rule: &str, dialect: Dialect, files: &[&str]) -> Vec<(usize, u32)> {
        let options = Options {
            dialect,
            ..Options::default()
        };
        fires_with(rule, &options, files)
    }

    /// [`fires`] on PostgreSQL.
    pub fn fires_pg(rule: &str, files: &[&str]) -> Vec<(usize, u32)> {
        fires(rule, Dialect::Postgres, files)
    }
}

#[cfg(test)]
mod phase_tests {
    use super::testing::{Dialect, fires, fires_pg};

    const OLD: &str = "CREATE TABLE users (id bigint PRIMARY KEY, name text, email text, n int);";

    #[test]
    fn a_contract_migration_may_break_the_previous_release_but_not_block_traffic() {
        let expand = [OLD, "ALTER TABLE users DROP COLUMN name;"];
        assert_eq!(fires_pg("drop-column", &expand), [(2, 1)]);
        let contract = [
            OLD,
            "-- migrate:contract\nALTER TABLE users DROP COLUMN name;\nALTER TABLE users RENAME COLUMN email TO mail;\nCREATE INDEX users_n ON users (n);",
        ];
        assert!(fires_pg("drop-column", &contract).is_empty());
        assert!(fires_pg("rename-column", &contract).is_empty());
        // Lock rules still judge it.
        assert_eq!(
            fires_pg("create-index-not-concurrently", &contract),
            [(2, 4)]
        );
        // Rules about both report only the lock part.
        let tighten = [
            OLD,
            "-- migrate:contract\nALTER TABLE users ALTER COLUMN email SET NOT NULL;",
        ];
        assert_eq!(fires_pg("set-not-null", &tighten), [(2, 2)]);
        let checked = [
            OLD,
            "ALTER TABLE users ADD CONSTRAINT email_nn CHECK (email IS NOT NULL) NOT VALID;",
            "ALTER TABLE users VALIDATE CONSTRAINT email_nn;",
            "-- migrate:contract\nALTER TABLE users ALTER COLUMN email SET NOT NULL;",
        ];
        assert!(fires_pg("set-not-null", &checked).is_empty());
        let mysql = [
            OLD,
            "-- migrate:contract\nALTER TABLE users MODIFY email text NOT NULL;",
        ];
        assert!(fires("set-not-null", Dialect::Mysql, &mysql).is_empty());
        let retype = [
            OLD,
            "-- migrate:contract\nALTER TABLE users ALTER COLUMN n TYPE bigint;",
        ];
        assert_eq!(fires_pg("change-column-type", &retype), [(2, 2)]);
        // Removing an enum label copies a MySQL table: the lock part of remove-enum-value.
        let labels = [
            "CREATE TABLE t (id int PRIMARY KEY, s ENUM('a', 'b') NOT NULL);",
            "-- migrate:contract\nALTER TABLE t MODIFY s ENUM('a') NOT NULL;",
        ];
        assert_eq!(
            fires("change-column-type", Dialect::Mysql, &labels),
            [(2, 2)]
        );
        assert!(fires("remove-enum-value", Dialect::Mysql, &labels).is_empty());
        // A unique index is a tightening a contract step may make; a plain one is not.
        let unique = [
            OLD,
            "-- migrate:contract\nCREATE UNIQUE INDEX CONCURRENTLY users_email ON users (email);",
        ];
        assert!(fires_pg("contract-mixes-expand", &unique).is_empty());
    }

    #[test]
    fn near_miss_directives_are_errors_not_comments() {
        for near in [
            "-- Migrate:Backfill",
            "-- migrate backfill",
            "-- MIGRATE:CONTRACT",
            "-- migrate:contract please",
        ] {
            let file = format!("{near}\nUPDATE users SET n = 1 WHERE id = 1;");
            assert_eq!(
                fires_pg("invalid-directive", &[OLD, &file]),
                [(2, 1)],
                "{near}"
            );
        }
        let plain = "-- migrate the users first\nUPDATE users SET n = 1 WHERE id = 1;";
        assert!(fires_pg("invalid-directive", &[OLD, plain]).is_empty());
    }

    #[test]
    fn phase_directives_must_lead_and_agree() {
        let late = [
            OLD,
            "ALTER TABLE users DROP COLUMN name;\n-- migrate:contract\n",
        ];
        assert_eq!(fires_pg("invalid-directive", &late), [(2, 2)]);
        // A misplaced directive declares nothing: the drop is judged as an expand step.
        assert_eq!(fires_pg("drop-column", &late), [(2, 1)]);
        let both = [
            OLD,
            "-- migrate:contract\n-- migrate:backfill\nALTER TABLE users DROP COLUMN name;",
        ];
        assert_eq!(fires_pg("invalid-directive", &both), [(2, 2)]);
        assert!(fires_pg("drop-column", &both).is_empty());
    }
}
