//! The only code that takes the migration lock and changes a database's history: `up` (take
//! the lock, compare history with the files, refuse what `history` says blocks, run the
//! `check` gate over all pending migrations as one release, apply them in order), `baseline`
//! and `resolve`, each inside [`with_lock`], which releases the lock on every path. Output is
//! left to the caller through [`Event`]s and returned values.

mod backfill;
mod record;
mod review;
mod stepwise;

pub use record::{RecordError, adopt, baseline, resolve};
use review::touches_history;
pub use review::{Review, review, tables_without_history};
pub use stepwise::verdicts;

use std::time::{Duration, Instant};

use crate::analyze::{self, Analysis};
use crate::db::{ApplyError, DbError, Driver, Migration, Outcome, Settings, backoff};
use crate::history::{self, Problem};
use crate::source::directive::Phase;
use crate::source::{Discovery, SourceFile, checksum, select};

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
    /// Stop after this file (`--to`, an index into the discovery's files, which are in apply
    /// order): the pending migrations after it are neither judged nor applied.
    pub to: Option<usize>,
    /// The deploy phases to apply (`--phase`).
    pub phase: history::UpPhase,
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
        /// A backfill migration's batches, rows and time.
        backfill: Option<history::BackfillProgress>,
    },
    /// Another deployer applied it first.
    AlreadyApplied {
        /// Version.
        version: u64,
        /// Description.
        description: &'a str,
    },
    /// A migration (or, outside a transaction, one of its statements) hit its lock timeout
    /// and will be retried.
    Retry {
        /// Version.
        version: u64,
        /// The 0-based statement, for a migration run statement by statement.
        statement: Option<usize>,
        /// Retry number, from 1.
        attempt: u32,
        /// Retries allowed.
        of: u32,
        /// Wait before it.
        delay: Duration,
    },
    /// An interrupted migration is resumed.
    Resumed {
        /// Version.
        version: u64,
        /// The 0-based statement it resumes at.
        from: usize,
        /// Its statements.
        of: usize,
    },
    /// A batch of a backfill migration committed.
    Batch {
        /// Version.
        version: u64,
        /// The 0-based statement.
        statement: usize,
        /// Its statements.
        of: usize,
        /// Rows this batch changed (0: the statement is done).
        rows: u64,
        /// The migration's progress so far.
        progress: history::BackfillProgress,
    },
    /// An INVALID index a `CREATE INDEX CONCURRENTLY` of the engine left was dropped before
    /// building it again.
    DroppedInvalidIndex {
        /// Version.
        version: u64,
        /// The 0-based statement that builds it.
        statement: usize,
        /// The index.
        index: String,
    },
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
    /// Its deploy phase.
    pub phase: crate::source::directive::Phase,
    /// A backfill migration's batches, rows and time.
    pub backfill: Option<history::BackfillProgress>,
    /// `--dry-run`: the SQL that would run (the file's text as the layout reads it: for
    /// goose, dbmate and sql-migrate, the Up section).
    pub sql: Option<String>,
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
    /// Contract migrations left pending for `up --phase contract` (version, description).
    pub contract_pending: Vec<(u64, String)>,
}

/// Runs `f` holding the migration lock (polled for up to `wait`), and releases it on every
/// path; an error of `f` wins over one of the release.
pub fn with_lock<T>(
    driver: &mut dyn Driver,
    wait: Duration,
    on_event: &mut dyn FnMut(Event),
    f: impl FnOnce(&mut dyn Driver, &mut dyn FnMut(Event)) -> Result<T, DbError>,
) -> Result<T, DbError> {
    driver.lock(wait, &mut |holder| on_event(Event::LockWaiting { holder }))?;
    let result = f(driver, on_event);
    let unlocked = driver.unlock();
    let value = result?;
    unlocked?;
    Ok(value)
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
    with_lock(
        driver,
        options.settings.lock_wait,
        on_event,
        |driver, on_event| locked_up(driver, discovery, options, on_event),
    )
}

fn locked_up(
    driver: &mut dyn Driver,
    discovery: &Discovery,
    options: &UpOptions,
    on_event: &mut dyn FnMut(Event),
) -> Result<UpReport, DbError> {
    let files = &discovery.files;
    // Tables first, then history: a migration's history row commits with its tables, so a
    // deployer that applied migrations in between (SQLite has no global lock) cannot make
    // tables appear without history.
    let tables = if files.is_empty() {
        Vec::new()
    } else {
        tables_without_history(driver, options.analysis.dialect)?
    };
    let rows = driver.history()?.unwrap_or_default();
    let plan = history::plan(files, &rows);
    let verdicts = stepwise::verdicts(driver, &plan, files, &rows, &options.analysis)?;
    let problems = plan.problems(files, &rows, &tables, options.allow_out_of_order, &verdicts);
    if !problems.is_empty() {
        return Ok(UpReport {
            result: UpResult::Refused { problems },
            analysis: None,
            contract_pending: Vec::new(),
        });
    }

    // The gate: every pending migration (with the interrupted ones to resume) is one
    // release, judged against the applied history.
    let resumable = plan.resumable(&verdicts);
    let mut pending = plan.pending();
    pending.extend(resumable.iter().map(|&(i, _, _)| i));
    pending.sort_unstable();
    if let Some(last) = options.to {
        pending.retain(|&i| i <= last);
    }
    let (mut pending, left) = match history::split_by_phase(files, &pending, options.phase) {
        Ok(split) => split,
        Err(problems) => {
            return Ok(UpReport {
                result: UpResult::Refused { problems },
                analysis: None,
                contract_pending: Vec::new(),
            });
        }
    };
    pending.sort_unstable();
    let contract_pending: Vec<(u64, String)> = left
        .iter()
        .map(|&i| (files[i].version.unwrap_or(0), files[i].description.clone()))
        .collect();
    // An interrupted migration passed the gate when it started, and its text is unchanged
    // (checked): it is replayed, not judged again against a history it is half part of.
    let resumed: Vec<usize> = resumable.iter().map(|&(i, _, _)| i).collect();
    let judged: Vec<usize> = pending
        .iter()
        .copied()
        .filter(|i| !resumed.contains(i))
        .collect();
    let units = select::pending_against_applied(files, &judged, discovery.replay_only);
    let already = rows
        .iter()
        .filter(|r| r.state == history::RowState::Applied && !r.is_marker())
        .count();
    // Nothing applied (not even a baseline marker) and no table: no old app, no traffic.
    let nothing_applied = !rows.iter().any(|r| r.state == history::RowState::Applied);
    let gate = analyze::Options {
        fresh_database: nothing_applied && !judged.is_empty() && driver.holds_nothing()?,
        ..options.analysis.clone()
    };
    let analysis = analyze::analyze(&units, &discovery.problems, &gate);
    let touching = touches_history(files, &judged, &analysis, &options.settings);
    if !touching.is_empty() {
        return Ok(UpReport {
            result: UpResult::Refused { problems: touching },
            analysis: None,
            contract_pending: contract_pending.clone(),
        });
    }
    if analysis.has_errors() {
        return Ok(UpReport {
            result: UpResult::Rejected,
            analysis: Some(analysis),
            contract_pending: contract_pending.clone(),
        });
    }
    on_event(Event::Checked {
        analysis: &analysis,
    });
    let dialect = driver.target().dialect;
    let transactional = |i: usize| dialect.transactional_ddl() && !analysis.files[i].no_transaction;
    if options.dry_run {
        let pending = pending
            .iter()
            .map(|&i| Handled {
                version: files[i].version.unwrap_or(0),
                description: files[i].description.clone(),
                phase: files[i].phase(),
                backfill: None,
                ms: None,
                transactional: transactional(i) && files[i].phase() != Phase::Backfill,
                sql: Some(files[i].text.clone()),
            })
            .collect();
        return Ok(UpReport {
            result: UpResult::DryRun { pending },
            analysis: Some(analysis),
            contract_pending: contract_pending.clone(),
        });
    }

    // Only now, with something to record: a refused run leaves no history table behind.
    driver.ensure_history()?;
    let mut handled = Vec::new();
    let mut lock_checked: Option<Instant> = None;
    for &i in &pending {
        if lock_checked.is_none_or(|at| at.elapsed() >= LOCK_CHECK_EVERY) {
            driver.check_lock()?;
            lock_checked = Some(Instant::now());
        }
        let file = &files[i];
        let facts = &analysis.files[i];
        let migration = migration(file, facts);
        // A repeatable migration whose text changed: its old row goes, the new text is applied.
        if file.repeatable
            && let Some(version) = file.version
            && rows.iter().any(|r| r.version == version as i64)
        {
            driver.forget(version as i64)?;
        }
        let resume = resumable.iter().find(|&&(r, _, _)| r == i);
        let batched = file.phase() == Phase::Backfill;
        let in_transaction = transactional(i) && resume.is_none() && !batched;
        let start = || match resume {
            Some(&(_, from, drop_index)) => stepwise::Start::Resume { from, drop_index },
            None => stepwise::Start::Claim,
        };
        let mut backfilled = None;
        let outcome = if batched {
            let row = file
                .version
                .and_then(|v| rows.iter().find(|r| r.version == v as i64));
            let before = match resume {
                Some(_) => history::BackfillProgress::of(row),
                None => history::BackfillProgress::default(),
            };
            backfill::apply(
                driver,
                &migration,
                &facts.steps,
                start(),
                before,
                &options.settings,
                on_event,
            )
            .map(|(outcome, progress)| {
                backfilled = Some(progress);
                outcome
            })
        } else if in_transaction {
            apply_with_retries(driver, &migration, &options.settings, on_event)
        } else {
            let retries = options.settings.lock_retries;
            stepwise::apply(driver, &migration, &facts.steps, start(), retries, on_event)
        };
        // Every migration starts from the session state set up on connecting.
        let changed_session = !in_transaction || facts.steps.iter().any(|s| s.changes_session);
        if outcome.is_ok() && changed_session {
            let temp_tables: Vec<String> = facts
                .steps
                .iter()
                .flat_map(|s| s.temp_tables.iter().cloned())
                .collect();
            driver.reset_session(&migration, &temp_tables)?;
        }
        let version = file.version.unwrap_or(0);
        match outcome {
            Ok(Outcome::Applied { ms }) => {
                on_event(Event::Applied {
                    version,
                    description: &file.description,
                    ms,
                    transactional: in_transaction,
                    backfill: backfilled,
                });
                handled.push(Handled {
                    version,
                    description: file.description.clone(),
                    phase: file.phase(),
                    backfill: backfilled,
                    ms: Some(ms),
                    transactional: in_transaction,
                    sql: None,
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
                        line: error.statement().map(|s| migration.line_of(s)),
                        transactional: in_transaction,
                        error,
                    },
                    analysis: Some(analysis),
                    contract_pending: contract_pending.clone(),
                });
            }
        }
    }
    Ok(UpReport {
        result: UpResult::Done { handled, already },
        analysis: Some(analysis),
        contract_pending,
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
        phase: file.phase(),
    }
}

/// Applies a transactional migration, retrying with backoff and jitter while it fails on its
/// lock timeout (nothing changed: the transaction was rolled back). The time reported counts
/// every try and wait.
fn apply_with_retries(
    driver: &mut dyn Driver,
    migration: &Migration,
    settings: &Settings,
    on_event: &mut dyn FnMut(Event),
) -> Result<Outcome, ApplyError> {
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        match driver.apply_in_transaction(migration) {
            // After retries, the time is the whole wait, not the last try's.
            Ok(Outcome::Applied { .. }) if attempt > 0 => {
                return Ok(Outcome::Applied {
                    ms: started.elapsed().as_millis() as u64,
                });
            }
            Err(e) if e.retryable() && attempt < settings.lock_retries => {
                let delay = backoff(attempt);
                attempt += 1;
                on_event(Event::Retry {
                    version: migration.version.max(0) as u64,
                    statement: None,
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
