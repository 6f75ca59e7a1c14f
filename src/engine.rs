//! The deploy step behind `migrate up`: take the lock, compare history with the files
//! (`history::plan` decides what runs), refuse drift, run the `check` gate over all pending
//! migrations as one release, apply them in order, and release the lock on every path.
//! Output is left to the caller through [`Event`]s and the returned [`UpResult`].

use std::time::{Duration, Instant};

use crate::analyze::{self, Analysis, Unit};
use crate::db::{ApplyError, DbError, Driver, Migration, Outcome, Settings, backoff};
use crate::dialect::Dialect;
use crate::history::{self, Entry, HistoryRow, State};
use crate::source::{Discovery, SourceFile, checksum};

/// How often, at most, `up` asks the database whether it still holds the migration lock
/// (always before the first migration). A lost lock is rare (the lock's connection died);
/// between checks the history table's primary key and the `running` claim rows still stop a
/// second deployer from applying the same migration twice, so the check need not cost a
/// round trip per migration.
const LOCK_CHECK_EVERY: Duration = Duration::from_secs(1);

/// How to run `up`.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// Show the plan and the analysis; touch nothing.
    pub dry_run: bool,
    /// Apply pending migrations older than the newest applied one.
    pub allow_out_of_order: bool,
    /// Engine settings.
    pub settings: Settings,
    /// Analysis options (the dialect follows the database).
    pub analysis: analyze::Options,
}

/// Progress worth telling the user as it happens.
#[derive(Debug)]
pub enum Event<'a> {
    /// The check gate passed (perhaps with warnings); nothing is applied yet.
    Checked {
        /// The analysis of the applied and pending files.
        analysis: &'a Analysis,
    },
    /// Another deployer holds the lock.
    LockWaiting {
        /// Who.
        holder: &'a str,
    },
    /// A migration was applied.
    Applied {
        /// Version.
        version: u64,
        /// Description.
        description: &'a str,
        /// Execution time.
        ms: u64,
        /// Ran in one transaction with its history row.
        transactional: bool,
    },
    /// Another deployer applied it first.
    AlreadyApplied {
        /// Version.
        version: u64,
        /// Description.
        description: &'a str,
    },
    /// A transactional migration hit its lock timeout and will be retried.
    Retry {
        /// Version.
        version: u64,
        /// Retry number, from 1.
        attempt: u32,
        /// Retries allowed.
        of: u32,
        /// Wait before it.
        delay: Duration,
    },
}

/// Why `up` applied nothing: drift between history and files, or the check gate.
#[derive(Debug, Clone)]
pub struct Problem {
    /// Version concerned.
    pub version: u64,
    /// Its description.
    pub description: String,
    /// Its state.
    pub state: State,
    /// What is wrong and the next step.
    pub message: String,
    /// For modified files: the applied SQL against the file.
    pub diff: Option<String>,
}

/// A migration `up` handled.
#[derive(Debug, Clone)]
pub struct Handled {
    /// Version.
    pub version: u64,
    /// Description.
    pub description: String,
    /// `None` when another deployer applied it first.
    pub ms: Option<u64>,
    /// Ran in one transaction.
    pub transactional: bool,
}

/// The outcome of `up`.
#[derive(Debug)]
pub enum UpResult {
    /// Every pending migration was applied (possibly none).
    Done {
        /// What was applied, in order.
        handled: Vec<Handled>,
        /// Migrations applied before this run.
        already: usize,
    },
    /// `--dry-run`: what would be applied.
    DryRun {
        /// Pending migrations in order.
        pending: Vec<Handled>,
    },
    /// Nothing applied: drift or a database that needs a baseline.
    Refused {
        /// What is wrong.
        problems: Vec<Problem>,
    },
    /// Nothing applied: the check gate found errors.
    Rejected,
    /// A migration failed; the ones before it stay applied.
    Failed {
        /// Applied before the failure.
        handled: Vec<Handled>,
        /// The failing migration.
        version: u64,
        /// Its description.
        description: String,
        /// Its file.
        file: String,
        /// 1-based line of the failing statement, when known.
        line: Option<usize>,
        /// It ran in a transaction (so nothing of it remains).
        transactional: bool,
        /// The failure.
        error: ApplyError,
    },
}

/// `up`'s result together with the gate's analysis (for its warnings and errors).
#[derive(Debug)]
pub struct UpReport {
    /// What happened.
    pub result: UpResult,
    /// The check gate over the pending migrations, when it ran.
    pub analysis: Option<Analysis>,
}

/// Runs `up` against `driver`. Database errors (connection, history shape, lock wait) are
/// `Err`; everything else is an [`UpResult`]. The lock is released on every path.
pub fn up(
    driver: &mut dyn Driver,
    discovery: &Discovery,
    options: &UpOptions,
    on_event: &mut dyn FnMut(Event),
) -> Result<UpReport, DbError> {
    if options.dry_run {
        return locked_up(driver, discovery, options, on_event);
    }
    driver.lock(options.settings.lock_wait, &mut |holder| {
        on_event(Event::LockWaiting { holder })
    })?;
    let result = locked_up(driver, discovery, options, on_event);
    let unlocked = driver.unlock();
    let report = result?;
    unlocked?;
    Ok(report)
}

fn locked_up(
    driver: &mut dyn Driver,
    discovery: &Discovery,
    options: &UpOptions,
    on_event: &mut dyn FnMut(Event),
) -> Result<UpReport, DbError> {
    let refused = |problems| UpReport {
        result: UpResult::Refused { problems },
        analysis: None,
    };
    if !options.dry_run {
        driver.ensure_history()?;
    }
    let files = &discovery.files;
    // Tables first, then history: a migration's history row commits with its tables, so a
    // deployer that applied migrations in between (SQLite has no global lock) cannot make
    // tables appear without history.
    let tables = if files.is_empty() {
        Vec::new()
    } else {
        driver.user_tables()?
    };
    let rows = driver.history()?.unwrap_or_default();
    if rows.is_empty() && !tables.is_empty() {
        return Ok(refused(vec![unbaselined(files, &tables)]));
    }
    let plan = history::plan(files, &rows);
    let mut problems: Vec<Problem> = plan
        .blockers(options.allow_out_of_order)
        .into_iter()
        .map(|e| problem(e, files, &rows, &plan))
        .collect();
    let pending = plan.pending();
    for &i in &pending {
        let version = files[i].version.unwrap_or(0);
        if i64::try_from(version).is_err() {
            problems.push(Problem {
                version,
                description: files[i].description.clone(),
                state: State::Pending,
                message: format!(
                    "version {version} is larger than the history table's BIGINT can hold: rename {} with a smaller version",
                    files[i].display
                ),
                diff: None,
            });
        }
    }
    if !problems.is_empty() {
        return Ok(refused(problems));
    }

    // The gate: every pending migration is one release, judged against the applied history.
    let under_test = files.len() as u32 + 1;
    let units: Vec<Unit> = files
        .iter()
        .enumerate()
        .map(|(i, file)| {
            let is_pending = pending.contains(&i);
            Unit {
                file,
                release: if is_pending { under_test } else { i as u32 + 1 },
                lint: is_pending,
            }
        })
        .collect();
    let analysis = analyze::analyze(&units, &discovery.problems, &options.analysis);
    if analysis.has_errors() {
        return Ok(UpReport {
            result: UpResult::Rejected,
            analysis: Some(analysis),
        });
    }
    on_event(Event::Checked {
        analysis: &analysis,
    });
    let dialect = driver.target().dialect;
    let transactional = |i: usize| dialect != Dialect::Mysql && !analysis.files[i].no_transaction;
    if options.dry_run {
        let pending = pending
            .iter()
            .map(|&i| Handled {
                version: files[i].version.unwrap_or(0),
                description: files[i].description.clone(),
                ms: None,
                transactional: transactional(i),
            })
            .collect();
        return Ok(UpReport {
            result: UpResult::DryRun { pending },
            analysis: Some(analysis),
        });
    }

    let mut handled = Vec::new();
    let mut lock_checked: Option<Instant> = None;
    for &i in &pending {
        if lock_checked.is_none_or(|at| at.elapsed() >= LOCK_CHECK_EVERY) {
            driver.check_lock()?;
            lock_checked = Some(Instant::now());
        }
        let file = &files[i];
        let migration = migration(file, &analysis.files[i]);
        let in_transaction = transactional(i);
        let outcome = if in_transaction {
            apply_with_retries(driver, &migration, &options.settings, on_event)
        } else {
            driver.apply_stepwise(&migration)
        };
        let version = file.version.unwrap_or(0);
        match outcome {
            Ok(Outcome::Applied { ms }) => {
                on_event(Event::Applied {
                    version,
                    description: &file.description,
                    ms,
                    transactional: in_transaction,
                });
                handled.push(Handled {
                    version,
                    description: file.description.clone(),
                    ms: Some(ms),
                    transactional: in_transaction,
                });
            }
            Ok(Outcome::AlreadyApplied) => on_event(Event::AlreadyApplied {
                version,
                description: &file.description,
            }),
            Err(error) => {
                return Ok(UpReport {
                    result: UpResult::Failed {
                        handled,
                        version,
                        description: file.description.clone(),
                        file: file.display.clone(),
                        line: error.statement.map(|s| migration.line_of(s)),
                        transactional: in_transaction,
                        error,
                    },
                    analysis: Some(analysis),
                });
            }
        }
    }
    let already = rows
        .iter()
        .filter(|r| r.state == history::RowState::Applied)
        .count();
    Ok(UpReport {
        result: UpResult::Done { handled, already },
        analysis: Some(analysis),
    })
}

/// Builds the [`Migration`] the drivers execute from a file and its analysis.
pub fn migration<'a>(file: &'a SourceFile, analysis: &analyze::FileResult) -> Migration<'a> {
    let allows: Vec<serde_json::Value> = analysis
        .allows
        .iter()
        .map(|a| serde_json::json!({"line": a.line, "rules": a.rules, "reason": a.reason}))
        .collect();
    Migration {
        version: i64::try_from(file.version.unwrap_or(0)).unwrap_or(i64::MAX),
        description: &file.description,
        checksum: checksum(&file.text),
        sql: &file.text,
        statements: analysis
            .statements
            .iter()
            .map(|&(start, end)| &file.text[start..end])
            .collect(),
        offsets: analysis
            .statements
            .iter()
            .map(|&(start, _)| start)
            .collect(),
        allows: serde_json::Value::Array(allows).to_string(),
    }
}

/// Applies a transactional migration, retrying with backoff and jitter while it fails on its
/// lock timeout (nothing changed: the transaction was rolled back).
fn apply_with_retries(
    driver: &mut dyn Driver,
    migration: &Migration,
    settings: &Settings,
    on_event: &mut dyn FnMut(Event),
) -> Result<Outcome, ApplyError> {
    let mut attempt = 0;
    loop {
        match driver.apply_in_transaction(migration) {
            Err(e) if e.lock_timeout && attempt < settings.lock_retries => {
                let delay = backoff(attempt);
                attempt += 1;
                on_event(Event::Retry {
                    version: migration.version.max(0) as u64,
                    attempt,
                    of: settings.lock_retries,
                    delay,
                });
                std::thread::sleep(delay);
            }
            other => return other,
        }
    }
}

fn unbaselined(files: &[SourceFile], tables: &[String]) -> Problem {
    let shown: Vec<&str> = tables.iter().take(5).map(String::as_str).collect();
    let more = if tables.len() > 5 { ", ..." } else { "" };
    Problem {
        version: files[0].version.unwrap_or(0),
        description: files[0].description.clone(),
        state: State::Pending,
        message: format!(
            "the database already has {} table{} ({}{more}) but no migration history: replaying every migration from the first would collide with them. If the schema matches the migrations up to some version, record them as applied with `migrate baseline VERSION`",
            tables.len(),
            if tables.len() == 1 { "" } else { "s" },
            shown.join(", ")
        ),
        diff: None,
    }
}

fn problem(
    entry: &Entry,
    files: &[SourceFile],
    rows: &[HistoryRow],
    plan: &history::Plan,
) -> Problem {
    let row = entry.row.map(|i| &rows[i]);
    let file = entry.file.map(|i| &files[i]);
    let v = entry.version;
    let progress = row
        .map(|r| {
            format!(
                "{} of {} statements applied",
                r.statements_applied, r.statements_total
            )
        })
        .unwrap_or_default();
    let (message, diff) = match entry.state {
        State::Missing => (
            format!(
                "migration {v} was applied but its file is gone: restore it (applied history is immutable; undo changes with a new migration)"
            ),
            None,
        ),
        State::Modified => {
            let (row, file) = (row.expect("row"), file.expect("file"));
            (
                format!(
                    "migration {v} was applied with a different checksum: {} changed since (applied {}, now {}); restore the applied text and put the change in a new migration",
                    file.display,
                    row.checksum,
                    checksum(&file.text)
                ),
                Some(history::diff(
                    &row.sql,
                    &file.text,
                    &file.display,
                    "applied",
                )),
            )
        }
        State::Failed => (
            format!(
                "migration {v} failed outside a transaction ({progress}): {}. Next step: finish or undo its statements by hand, then run `migrate resolve {v} --applied` or `migrate resolve {v} --rolled-back`",
                row.and_then(|r| r.error.clone())
                    .unwrap_or_else(|| "no error recorded".into())
            ),
            None,
        ),
        State::Running => (
            format!(
                "migration {v} is marked running ({progress}): a previous `migrate up` was interrupted while applying it outside a transaction. Next step: check which of its statements took effect (e.g. an INVALID index after CREATE INDEX CONCURRENTLY), finish or undo them by hand, then run `migrate resolve {v} --applied` or `migrate resolve {v} --rolled-back`"
            ),
            None,
        ),
        State::OutOfOrder => {
            let newest = plan
                .entries
                .iter()
                .filter(|e| e.state == State::Applied)
                .map(|e| e.version)
                .max()
                .unwrap_or(0);
            (
                format!(
                    "migration {v} is older than the newest applied migration {newest} (merged out of order): give it a newer version, or apply it with --allow-out-of-order after checking it does not depend on order"
                ),
                None,
            )
        }
        State::Applied | State::Pending => (String::new(), None),
    };
    Problem {
        version: v,
        description: entry.description.clone(),
        state: entry.state,
        message,
        diff,
    }
}
