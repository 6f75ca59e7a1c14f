//! Reading the history without changing it: what `status` and `verify` show, what blocks
//! `up`, and which tables no history accounts for.

use crate::analyze::{self, Analysis};
use crate::db::{DbError, Driver, Settings};
use crate::engine::stepwise;
use crate::history::{self, Problem};
use crate::source::{Discovery, SourceFile};

/// The history compared with the files, as `status` and `verify` show it: the rows, the
/// plan, and what would make `up` refuse (worded as `up` words it).
pub struct Review {
    /// The history rows.
    pub rows: Vec<history::HistoryRow>,
    /// Files and rows compared.
    pub plan: history::Plan,
    /// What `up` would refuse (without `--allow-out-of-order`).
    pub problems: Vec<Problem>,
}

/// Reads the history and decides what `up` would refuse, without the lock and without
/// changing anything.
pub fn review(
    driver: &mut dyn Driver,
    discovery: &Discovery,
    analysis: &analyze::Options,
) -> Result<Review, DbError> {
    let files = &discovery.files;
    let rows = driver.history()?.unwrap_or_default();
    let tables = if rows.is_empty() && !files.is_empty() {
        tables_without_history(driver, analysis.dialect)?
    } else {
        Vec::new()
    };
    let plan = history::plan(files, &rows);
    let verdicts = stepwise::verdicts(driver, &plan, files, &rows, analysis)?;
    let problems = plan.problems(files, &rows, &tables, false, &verdicts);
    Ok(Review {
        rows,
        plan,
        problems,
    })
}

/// A problem for every pending migration that creates, drops or alters a table named like
/// the history table (a temporary one included: on MySQL it would shadow the history even by
/// its qualified name, and on every database the engine's own rows would go astray).
pub(super) fn touches_history(
    files: &[SourceFile],
    pending: &[usize],
    analysis: &Analysis,
    settings: &Settings,
) -> Vec<Problem> {
    use crate::analyze::step::Effect;
    let history = &settings.history_table.name;
    let named = |name: &str| {
        name.eq_ignore_ascii_case(history)
            || name
                .to_ascii_lowercase()
                .ends_with(&format!(".{}", history.to_ascii_lowercase()))
    };
    let mut problems = Vec::new();
    for &i in pending {
        let file = &files[i];
        let facts = &analysis.files[i];
        let hit = facts.steps.iter().position(|step| {
            step.temp_tables.iter().any(|t| named(t))
                || step.effects.iter().any(|e| match e {
                    Effect::Table { table, .. } | Effect::Column { table, .. } => {
                        named(&table.name)
                    }
                    Effect::Index { table, .. } => table.as_ref().is_some_and(|t| named(&t.name)),
                })
        });
        if let Some(statement) = hit {
            let line = facts
                .statements
                .get(statement)
                .map(|&(start, _)| file.text[..start].matches('\n').count() + 1);
            problems.push(Problem {
                version: file.version.unwrap_or(0),
                description: file.description.clone(),
                state: history::State::Pending,
                kind: history::ProblemKind::TouchesHistory {
                    file: file.display.clone(),
                    line,
                    table: history.clone(),
                },
                diff: None,
            });
        }
    }
    problems
}

/// The database's tables that no `migrate` history accounts for: neither another app's
/// history table (two apps with their own history tables share a database) nor a table its
/// applied migrations made.
pub fn tables_without_history(
    driver: &mut dyn Driver,
    dialect: crate::dialect::Dialect,
) -> Result<Vec<String>, DbError> {
    let tables = driver.user_tables()?;
    if tables.is_empty() {
        return Ok(tables);
    }
    let mut owned: Vec<String> = Vec::new();
    for (history, texts) in driver.other_histories()? {
        owned.push(history);
        owned.extend(
            analyze::tables_made(&texts, dialect)
                .into_iter()
                .map(|t| t.name),
        );
    }
    Ok(tables
        .into_iter()
        .filter(|t| !owned.iter().any(|o| o.eq_ignore_ascii_case(t)))
        .collect())
}
