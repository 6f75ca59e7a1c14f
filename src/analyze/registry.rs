//! The one list of every rule. Dispatch, `migrate rule`, config validation and the generated
//! `docs/rules/*.md` all read [`RULES`]; nothing else lists rule names.

use crate::analyze::compat::Difference;
use crate::analyze::context::Context;
use crate::analyze::diagnostic::Severity;
use crate::analyze::ir::Change;
use crate::analyze::rules;

/// What a rule is about, which decides where it applies: a contract migration (run after the
/// rollout) may break the previous release on purpose, so compatibility rules do not judge it;
/// lock, statement and file rules judge every migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The previous release breaks (drops, renames, tightenings): expand and backfill
    /// migrations only.
    Compat,
    /// Both: the previous release breaks, and the statement locks, scans or rewrites. In a
    /// contract migration the rule reports only the lock part ([`Context::phase`]).
    Both,
    /// A lock, scan or rewrite that stalls traffic, whatever the phase.
    Lock,
    /// A statement that fails, misleads or destroys data whatever the phase.
    Statement,
    /// About the file, its name or its directives.
    File,
}

impl Kind {
    /// The word in `migrate rule` and the rule pages.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Compat => "compatibility",
            Kind::Both => "compatibility and locking",
            Kind::Lock => "locking",
            Kind::Statement => "statement",
            Kind::File => "file",
        }
    }

    /// The identifier in `migrate rule --format json`.
    pub fn id(self) -> &'static str {
        match self {
            Kind::Compat => "compat",
            Kind::Both => "compat+lock",
            Kind::Lock => "lock",
            Kind::Statement => "statement",
            Kind::File => "file",
        }
    }

    /// What it means for the phases, for the rule's page.
    pub fn phases(self) -> &'static str {
        match self {
            Kind::Compat => {
                "judges expand and backfill migrations, not contract migrations (which run after the rollout)"
            }
            Kind::Both => "judges every migration; in a contract migration only the lock part",
            _ => "judges every migration, whatever its phase",
        }
    }

    /// Whether the rule judges a migration of `phase`.
    pub fn judges(self, phase: crate::source::directive::Phase) -> bool {
        self != Kind::Compat || phase != crate::source::directive::Phase::Contract
    }
}

/// A rule: identity, default severity, documentation, and its check (none for rules the
/// engine itself reports, such as `unparsed-statement`).
#[derive(Debug)]
pub struct Rule {
    /// Stable code, never reused (`M102`).
    pub code: &'static str,
    /// Kebab-case name of the flagged pattern (`drop-column`).
    pub name: &'static str,
    /// What it is about (where it applies).
    pub kind: Kind,
    /// Severity unless configured otherwise.
    pub severity: Severity,
    /// One line for `migrate rule --list`.
    pub summary: &'static str,
    /// Markdown documentation from the rule's doc comment.
    pub docs: &'static str,
    /// Called for every change of every linted statement (lock and statement rules).
    pub check: Option<fn(&mut Context, &Change)>,
    /// Called for every difference from the previous release found in a state the old app can
    /// see (compatibility rules, [`crate::analyze::compat`]).
    pub compat: Option<fn(&mut Context, &Difference)>,
    /// The recipe, extracted from `docs` once.
    pub recipe_cache: std::sync::OnceLock<String>,
}

impl Rule {
    /// The documentation with the doc-comment indentation removed.
    pub fn markdown(&self) -> String {
        self.docs
            .lines()
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n")
            .trim()
            .to_string()
    }

    /// The body of one `## Title` section of the documentation.
    pub fn section(&self, title: &str) -> Option<String> {
        let markdown = self.markdown();
        let mut lines = markdown.lines();
        lines.find(|l| l.trim() == format!("## {title}"))?;
        let body: Vec<&str> = lines.take_while(|l| !l.starts_with("## ")).collect();
        Some(body.join("\n").trim().to_string())
    }

    /// The safe recipe for `dialect`, the `help` of the rule's diagnostics: a step that
    /// starts `PostgreSQL:`, `MySQL:` or `SQLite:` is kept only for that dialect (the steps
    /// numbered again, the step's tag dropped), and a `(PostgreSQL: ...)` aside only for it
    /// (kept whole: its version numbers need the name).
    pub fn recipe_for(&self, dialect: crate::dialect::Dialect) -> String {
        recipe_for(&self.recipe(), dialect)
    }

    /// The safe recipe, every dialect's steps (the rule's page).
    pub fn recipe(&self) -> String {
        self.recipe_cache
            .get_or_init(|| {
                self.section("Safe recipe (expand/contract)")
                    .unwrap_or_default()
            })
            .clone()
    }
}

const DIALECT_TAGS: [(&str, crate::dialect::Dialect); 3] = [
    ("PostgreSQL", crate::dialect::Dialect::Postgres),
    ("MySQL", crate::dialect::Dialect::Mysql),
    ("SQLite", crate::dialect::Dialect::Sqlite),
];

/// See [`Rule::recipe_for`].
fn recipe_for(recipe: &str, dialect: crate::dialect::Dialect) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut number = 0;
    for line in recipe.lines() {
        let (numbered, body) = match line.split_once(". ") {
            Some((n, body)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                (true, body)
            }
            _ => (false, line),
        };
        let tagged = DIALECT_TAGS
            .iter()
            .find(|(tag, _)| body.starts_with(&format!("{tag}: ")));
        let mut body = match tagged {
            Some((_, d)) if *d != dialect => continue,
            // The reader's own dialect goes without saying: the tag is dropped.
            Some((tag, _)) => capitalised(&body[tag.len() + 2..]),
            None => body.to_string(),
        };
        for (tag, d) in DIALECT_TAGS {
            if d == dialect {
                continue;
            }
            while let Some(at) = body.find(&format!(" ({tag}: ")) {
                // The aside's own closing parenthesis (balanced; code spans skipped).
                let (mut depth, mut code, mut end) = (0usize, false, body.len());
                for (k, c) in body[at + 1..].char_indices() {
                    match c {
                        '`' => code = !code,
                        '(' if !code => depth += 1,
                        ')' if !code => {
                            depth -= 1;
                            if depth == 0 {
                                end = at + 1 + k + 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                body.replace_range(at..end, "");
            }
        }
        if numbered {
            number += 1;
            out.push(format!("{number}. {body}"));
        } else {
            out.push(body);
        }
    }
    out.join("\n")
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Declares a rule's static [`Rule`] from its doc comment and attributes. With `check` the
/// rule module's `check` function is dispatched for every change, with `; compat` its `compat`
/// function for every difference from the previous release; rules the engine reports itself
/// omit both.
macro_rules! declare_rule {
    ($(#[doc = $doc:literal])* $ident:ident, code = $code:literal, name = $name:literal,
     kind = $kind:ident, severity = $severity:ident, summary = $summary:literal $(, $check:ident)?
     $(; $compat:ident)? $(,)?) => {
        $(#[doc = $doc])*
        pub static $ident: $crate::analyze::registry::Rule = $crate::analyze::registry::Rule {
            code: $code,
            name: $name,
            kind: $crate::analyze::registry::Kind::$kind,
            severity: $crate::analyze::diagnostic::Severity::$severity,
            summary: $summary,
            docs: concat!($($doc, "\n"),*),
            check: declare_rule!(@check $($check)?),
            compat: declare_rule!(@compat $($compat)?),
            recipe_cache: std::sync::OnceLock::new(),
        };
    };
    (@check check) => { Some(check) };
    (@check) => { None };
    (@compat compat) => { Some(compat) };
    (@compat) => { None };
}
pub(crate) use declare_rule;

/// Every rule, in code order.
pub static RULES: &[&Rule] = &[
    &rules::unparsed_statement::UNPARSED_STATEMENT,
    &rules::invalid_migration_name::INVALID_MIGRATION_NAME,
    &rules::duplicate_version::DUPLICATE_VERSION,
    &rules::down_migration_ignored::DOWN_MIGRATION_IGNORED,
    &rules::invalid_directive::INVALID_DIRECTIVE,
    &rules::unused_allow::UNUSED_ALLOW,
    &rules::opaque_ddl::OPAQUE_DDL,
    &rules::transaction_control::TRANSACTION_CONTROL,
    &rules::mixed_non_transactional::MIXED_NON_TRANSACTIONAL,
    &rules::concurrently_in_transaction::CONCURRENTLY_IN_TRANSACTION,
    &rules::migrate_sum_mismatch::MIGRATE_SUM_MISMATCH,
    &rules::edited_migration::EDITED_MIGRATION,
    &rules::deleted_migration::DELETED_MIGRATION,
    &rules::contract_mixes_expand::CONTRACT_MIXES_EXPAND,
    &rules::contract_touches_new_object::CONTRACT_TOUCHES_NEW_OBJECT,
    &rules::backfill_not_dml::BACKFILL_NOT_DML,
    &rules::backfill_never_shrinks::BACKFILL_NEVER_SHRINKS,
    &rules::drop_table::DROP_TABLE,
    &rules::drop_column::DROP_COLUMN,
    &rules::drop_view::DROP_VIEW,
    &rules::drop_materialized_view::DROP_MATERIALIZED_VIEW,
    &rules::drop_schema::DROP_SCHEMA,
    &rules::drop_type::DROP_TYPE,
    &rules::drop_sequence::DROP_SEQUENCE,
    &rules::drop_function::DROP_FUNCTION,
    &rules::truncate_table::TRUNCATE_TABLE,
    &rules::delete_without_where::DELETE_WITHOUT_WHERE,
    &rules::rename_table::RENAME_TABLE,
    &rules::rename_column::RENAME_COLUMN,
    &rules::rename_view::RENAME_VIEW,
    &rules::rename_schema::RENAME_SCHEMA,
    &rules::rename_enum_value::RENAME_ENUM_VALUE,
    &rules::set_schema::SET_SCHEMA,
    &rules::rename_type::RENAME_TYPE,
    &rules::rename_function::RENAME_FUNCTION,
    &rules::change_column_type::CHANGE_COLUMN_TYPE,
    &rules::add_not_null_column_without_default::ADD_NOT_NULL_COLUMN_WITHOUT_DEFAULT,
    &rules::set_not_null::SET_NOT_NULL,
    &rules::drop_default_on_not_null_column::DROP_DEFAULT_ON_NOT_NULL_COLUMN,
    &rules::drop_not_null::DROP_NOT_NULL,
    &rules::replace_view_changing_columns::REPLACE_VIEW_CHANGING_COLUMNS,
    &rules::table_rebuild::TABLE_REBUILD,
    &rules::remove_enum_value::REMOVE_ENUM_VALUE,
    &rules::drop_database::DROP_DATABASE,
    &rules::drop_and_add_column::DROP_AND_ADD_COLUMN,
    &rules::restrict_old_writes::RESTRICT_OLD_WRITES,
    &rules::replay_fails::REPLAY_FAILS,
    &rules::alter_domain_constraint::ALTER_DOMAIN_CONSTRAINT,
    &rules::mysql_inline_references::MYSQL_INLINE_REFERENCES,
    &rules::create_index_not_concurrently::CREATE_INDEX_NOT_CONCURRENTLY,
    &rules::reindex_not_concurrently::REINDEX_NOT_CONCURRENTLY,
    &rules::drop_index_not_concurrently::DROP_INDEX_NOT_CONCURRENTLY,
    &rules::add_foreign_key_without_not_valid::ADD_FOREIGN_KEY_WITHOUT_NOT_VALID,
    &rules::add_check_without_not_valid::ADD_CHECK_WITHOUT_NOT_VALID,
    &rules::add_unique_without_index::ADD_UNIQUE_WITHOUT_INDEX,
    &rules::add_primary_key_without_index::ADD_PRIMARY_KEY_WITHOUT_INDEX,
    &rules::add_column_volatile_default::ADD_COLUMN_VOLATILE_DEFAULT,
    &rules::add_stored_generated_column::ADD_STORED_GENERATED_COLUMN,
    &rules::add_serial_column::ADD_SERIAL_COLUMN,
    &rules::vacuum_full::VACUUM_FULL,
    &rules::cluster_table::CLUSTER_TABLE,
    &rules::validate_in_same_migration::VALIDATE_IN_SAME_MIGRATION,
    &rules::add_exclusion_constraint::ADD_EXCLUSION_CONSTRAINT,
    &rules::detach_partition_not_concurrently::DETACH_PARTITION_NOT_CONCURRENTLY,
    &rules::unbatched_backfill::UNBATCHED_BACKFILL,
    &rules::alter_algorithm_copy::ALTER_ALGORITHM_COPY,
    &rules::alter_lock_blocking::ALTER_LOCK_BLOCKING,
];

/// A rule by name or code (case-insensitive code).
pub fn find(name_or_code: &str) -> Option<&'static Rule> {
    RULES
        .iter()
        .copied()
        .find(|r| r.name == name_or_code || r.code.eq_ignore_ascii_case(name_or_code))
}

impl Rule {
    /// The rule's documentation page (`migrate rule NAME`, `docs/rules/NAME.md`).
    pub fn page(&self) -> String {
        format!(
            "# {} ({})\n\nDefault severity: {}. Kind: {} ({}). {}.\n\n{}\n",
            self.name,
            self.code,
            self.severity.name(),
            self.kind.as_str(),
            self.kind.phases(),
            capitalize(self.summary),
            self.markdown()
        )
    }
}

fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn recipes_per_dialect() {
        use crate::dialect::Dialect;
        let recipe = "1. Release.\n2. PostgreSQL: `NOT VALID` first.\n3. MySQL: `LOCK=NONE`.\n4. Then add it (PostgreSQL: `CHECK (x)` or (y)) later.";
        assert_eq!(
            super::recipe_for(recipe, Dialect::Mysql),
            "1. Release.\n2. `LOCK=NONE`.\n3. Then add it later."
        );
        assert_eq!(
            super::recipe_for(recipe, Dialect::Postgres),
            "1. Release.\n2. `NOT VALID` first.\n3. Then add it (PostgreSQL: `CHECK (x)` or (y)) later."
        );
    }
}
