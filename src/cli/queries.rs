//! `--app-queries` and `app_queries`: the app's queries read and parsed once, for the
//! analysis to weigh its compatibility findings with (`analyze::usage`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::analyze::usage::{AppQueries, QuerySet, Shared};
use crate::config::Options;
use crate::dialect::Dialect;
use crate::source::queries;

/// The queries of the flag (else of the config). With `base` (a git ref), the previous
/// release's are the paths as they were at the merge base of `dir`'s repository with it and
/// the new release's are the work tree's; without it, the work tree's are both. `None` when
/// no path is given.
pub fn load(
    flag: &[PathBuf],
    config: &Options,
    base: Option<&str>,
    dir: &Path,
    dialect: Dialect,
) -> anyhow::Result<Option<Shared>> {
    let paths: &[PathBuf] = if flag.is_empty() {
        &config.app_queries
    } else {
        flag
    };
    if paths.is_empty() {
        return Ok(None);
    }
    let now = QuerySet::parse(&queries::read_all(paths)?, dialect);
    let Some(reference) = base else {
        return Ok(Some(Arc::new(AppQueries {
            old: Some(now.clone()),
            new: Some(now),
            notes: Vec::new(),
        })));
    };
    let commit = crate::source::git::merge_base(dir, reference)?;
    let (then, missing) = queries::read_all_at(paths, &commit)?;
    let mut notes = Vec::new();
    let old = if missing.is_empty() {
        Some(QuerySet::parse(&then, dialect))
    } else {
        let names: Vec<String> = missing.iter().map(|p| crate::source::shown(p)).collect();
        notes.push(format!(
            "{} did not exist at the merge base with {reference}: the previous release's queries are unknown, so no finding is proven unused",
            names.join(", ")
        ));
        None
    };
    Ok(Some(Arc::new(AppQueries {
        old,
        new: Some(now),
        notes,
    })))
}
