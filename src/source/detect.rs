//! `layout = "auto"`: which tool's layout a directory is written in, from its files.
//!
//! Structure decides first (diesel's `<version>_<name>/up.sql` folders, Prisma's
//! `migration.sql` folders and `migration_lock.toml`, Flyway's `V<version>__` names and
//! `.sql.conf` files); then the markers inside flat files (goose's, dbmate's and sql-migrate's
//! sections, sqlx's `-- no-transaction` first line). A lone Up marker only counts when no file
//! is named `.up.sql`/`.down.sql` (ory's popx files carry one now and then). Nothing of the sort
//! is `migrate`'s own layout (which reads sqlx's and golang-migrate's names too). Signals of two
//! layouts are an error listing one example of each: guessing would run the wrong text.

use super::layout::Layout;
use super::{FileName, foreign, name};

/// What made `auto` choose a layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    /// The layout chosen.
    pub layout: Layout,
    /// The first sign of it (`migrations/1_a.sql:1 -- +goose Up`), or `None` when nothing
    /// pointed elsewhere than `migrate`'s own layout.
    pub because: Option<String>,
}

/// One sign of a layout, for the mixed-signals error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal {
    /// The layout it points to.
    pub layout: Layout,
    /// Where and what (`migrations/1_a.sql:4 -- +goose Down`).
    pub what: String,
}

/// Signs of several layouts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mixed(pub Vec<Signal>);

impl std::fmt::Display for Mixed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list: Vec<String> = self
            .0
            .iter()
            .map(|s| format!("{} ({})", s.layout.name(), s.what))
            .collect();
        write!(f, "{}", list.join(", "))
    }
}

/// The structure's sign of a layout for one entry (`rel` relative to the directory).
fn structure(rel: &str) -> Option<Layout> {
    let lower = rel.to_ascii_lowercase();
    match lower.split_once('/') {
        Some((_, "up.sql")) => Some(Layout::Diesel),
        Some((_, "migration.sql")) => Some(Layout::Prisma),
        // Flyway's subfolders: a name only Flyway gives (`V1__x.sql` in `2024/`).
        Some(_) => {
            let file = rel.rsplit('/').next().unwrap_or(rel);
            (file.to_ascii_lowercase().ends_with(".sql")
                && (file.starts_with("R__") || file.starts_with('V') && file.contains("__"))
                && matches!(name::classify(Layout::Flyway, file), FileName::Up { .. }))
            .then_some(Layout::Flyway)
        }
        None if lower == "migration_lock.toml" => Some(Layout::Prisma),
        None if lower.ends_with(".sql.conf") => Some(Layout::Flyway),
        None if lower.ends_with(".sql") && (rel.starts_with(['V', 'R', 'U'])) => {
            let flyway = matches!(
                name::classify(Layout::Flyway, rel),
                FileName::Up { .. } | FileName::Down { .. }
            ) || rel.starts_with("R__")
                || (rel.starts_with('V') && rel.contains("__"));
            flyway.then_some(Layout::Flyway)
        }
        None => None,
    }
}

/// The dialect of Prisma's `migration_lock.toml` (`provider = "postgresql"`); a provider
/// `migrate` cannot check is an error naming it.
pub fn prisma_dialect(
    path: &std::path::Path,
    text: &str,
) -> Result<Option<crate::dialect::Dialect>, crate::error::SourceError> {
    use crate::dialect::Dialect;
    let bad = |message: String| crate::error::SourceError::Layout {
        path: path.to_path_buf(),
        line: 1,
        layout: "prisma",
        message,
    };
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| bad(format!("not TOML: {}", e.message())))?;
    let Some(provider) = table.get("provider") else {
        return Ok(None);
    };
    match provider.as_str() {
        Some("postgresql" | "postgres" | "cockroachdb") => Ok(Some(Dialect::Postgres)),
        Some("mysql") => Ok(Some(Dialect::Mysql)),
        Some("sqlite") => Ok(Some(Dialect::Sqlite)),
        Some(other) => Err(bad(format!(
            "provider `{other}`: `migrate` checks postgresql, mysql and sqlite migrations"
        ))),
        None => Err(bad("provider is not a string".into())),
    }
}

/// Whether the structure alone decides (no file needs reading for its markers).
pub fn by_structure(rels: &[String]) -> bool {
    rels.iter().any(|r| structure(r).is_some())
}

/// Decides the layout of a directory whose entries are `rels` (relative, `/`-separated, one
/// level of folders), shown as `shown(rel)`; `texts` gives each flat `.sql` file's text.
pub fn detect<'t>(
    rels: &[String],
    shown: impl Fn(&str) -> String,
    texts: impl IntoIterator<Item = (&'t str, &'t str)>,
) -> Result<Detected, Mixed> {
    let mut found: Vec<Signal> = Vec::new();
    let note = |found: &mut Vec<Signal>, layout: Layout, what: String| {
        if !found.iter().any(|s| s.layout == layout) {
            found.push(Signal { layout, what });
        }
    };
    for rel in rels {
        if let Some(layout) = structure(rel) {
            note(&mut found, layout, shown(rel));
        }
    }
    if found.is_empty() {
        let paired = rels.iter().any(|r| {
            let lower = r.to_ascii_lowercase();
            lower.ends_with(".up.sql") || lower.ends_with(".down.sql")
        });
        let mut weak: Vec<Signal> = Vec::new();
        for (rel, text) in texts {
            for (marker, dangerous) in foreign::tool_markers(text) {
                let Some(layout) = Layout::from_name(marker.tool) else {
                    continue;
                };
                let what = format!("{}:{} {}", shown(rel), marker.line, marker.marker);
                if dangerous {
                    note(&mut found, layout, what);
                } else if !paired {
                    note(&mut weak, layout, what);
                }
            }
        }
        if found.is_empty() {
            found = weak;
        }
    }
    match found.len() {
        0 => Ok(Detected {
            layout: Layout::Migrate,
            because: None,
        }),
        1 => {
            let signal = found.remove(0);
            Ok(Detected {
                layout: signal.layout,
                because: Some(signal.what),
            })
        }
        _ => Err(Mixed(found)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rels: &[&str], texts: &[(&str, &str)]) -> Result<Layout, Vec<Layout>> {
        let rels: Vec<String> = rels.iter().map(|r| r.to_string()).collect();
        detect(&rels, |r| r.to_string(), texts.iter().copied())
            .map(|d| d.layout)
            .map_err(|m| m.0.iter().map(|s| s.layout).collect())
    }

    #[test]
    fn structure_decides() {
        assert_eq!(
            run(
                &["2019-01-01-000000_a/up.sql", "2019-01-01-000000_a/down.sql"],
                &[]
            ),
            Ok(Layout::Diesel)
        );
        assert_eq!(
            run(
                &["migration_lock.toml", "20230101000000_a/migration.sql"],
                &[]
            ),
            Ok(Layout::Prisma)
        );
        assert_eq!(
            run(&["V1__init.sql", "V2__more.sql"], &[]),
            Ok(Layout::Flyway)
        );
        assert_eq!(run(&["V1.1__init.sql"], &[]), Ok(Layout::Flyway));
        assert_eq!(
            run(&["1_a.sql", "2_b.up.sql", "2_b.down.sql"], &[]),
            Ok(Layout::Migrate)
        );
        assert_eq!(run(&[], &[]), Ok(Layout::Migrate));
    }

    #[test]
    fn markers_decide_flat_directories() {
        let goose = "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n";
        assert_eq!(run(&["1_a.sql"], &[("1_a.sql", goose)]), Ok(Layout::Goose));
        let dbmate = "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\n";
        assert_eq!(
            run(&["1_a.sql"], &[("1_a.sql", dbmate)]),
            Ok(Layout::Dbmate)
        );
        let sqlx = "-- no-transaction\nCREATE INDEX CONCURRENTLY i ON a (id);\n";
        assert_eq!(run(&["1_a.sql"], &[("1_a.sql", sqlx)]), Ok(Layout::Sqlx));
        // A lone Up marker decides alone, not next to .up.sql/.down.sql pairs.
        let lone = "-- +migrate Up\nCREATE TABLE a (id int);\n";
        assert_eq!(
            run(&["1_a.sql"], &[("1_a.sql", lone)]),
            Ok(Layout::SqlMigrate)
        );
        assert_eq!(
            run(&["1_a.up.sql", "1_a.down.sql"], &[("1_a.up.sql", lone)]),
            Ok(Layout::Migrate)
        );
    }

    #[test]
    fn mixed_signals_are_listed() {
        let goose = "-- +goose Up\nSELECT 1;\n-- +goose Down\n";
        let dbmate = "-- migrate:up\nSELECT 1;\n-- migrate:down\n";
        assert_eq!(
            run(
                &["1_a.sql", "2_b.sql"],
                &[("1_a.sql", goose), ("2_b.sql", dbmate)]
            ),
            Err(vec![Layout::Goose, Layout::Dbmate])
        );
        assert_eq!(
            run(&["V1__a.sql", "2019-01-01-000000_a/up.sql"], &[]),
            Err(vec![Layout::Flyway, Layout::Diesel])
        );
    }
}
