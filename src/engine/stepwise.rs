//! Migrations that run statement by statement (MySQL/MariaDB, where DDL commits implicitly;
//! PostgreSQL and SQLite files with statements that cannot run in a transaction): each
//! statement with its progress recorded so that a crash at any moment is either undone or
//! said, lock timeouts retried, and interrupted migrations resumed where the catalog proves
//! what happened.
//!
//! - A statement that can commit with its progress update ([`Step::atomic`]: DML on
//!   MySQL/MariaDB, any transactional statement elsewhere) runs in a transaction with it.
//! - Any other statement is marked in flight first; a crash leaves a row saying it *may*
//!   have completed, and the next `up` reads the catalog for its [`Effect`]s: an index or
//!   column that exists (or is gone) shows it did; one that does not, that it did not; an
//!   INVALID index a `CREATE INDEX CONCURRENTLY` left is dropped and built again. When the
//!   catalog cannot tell, `up` refuses, naming the statement.
//! - A `running` row's session is recorded; while that session is alive on the server (a
//!   killed client's statement runs on), `up` refuses to touch the migration.

use std::collections::HashMap;
use std::time::Instant;

use crate::analyze::ir::QName;
use crate::analyze::step::{Effect, Step};
use crate::analyze::{self, Unit};
use crate::db::{
    ApplyError, Cause, DbError, Driver, Failure, Migration, Observed, Outcome, backoff,
};
use crate::engine::Event;
use crate::history::{self, HistoryRow, InFlight, Observation, Plan, State, Verdict};
use crate::source::SourceFile;

/// What the catalog says about a statement's effects, all together.
fn judge(driver: &mut dyn Driver, step: &Step) -> Result<InFlight, DbError> {
    if step.effects.is_empty() {
        return Ok(if step.idempotent {
            InFlight::NotDone
        } else {
            InFlight::Unknown
        });
    }
    let (mut done, mut not_done) = (0, 0);
    let mut invalid = None;
    for effect in &step.effects {
        let expected = match effect {
            Effect::Table { exists, .. }
            | Effect::Column { exists, .. }
            | Effect::Index { exists, .. } => *exists,
        };
        match (driver.observe(effect)?, expected) {
            (Observed::Present, true) | (Observed::Absent, false) => done += 1,
            (Observed::Absent, true) | (Observed::Present, false) => not_done += 1,
            (Observed::Invalid, _) => match effect {
                Effect::Index { name, .. } => invalid = Some(name.clone()),
                _ => return Ok(InFlight::Unknown),
            },
        }
    }
    let all = step.effects.len();
    Ok(match invalid {
        Some(index) if all == 1 => InFlight::InvalidIndex(index),
        Some(_) => InFlight::Unknown,
        None if done == all => InFlight::Completed,
        None if not_done == all => InFlight::NotDone,
        None => InFlight::Unknown,
    })
}

/// The steps of `file` and the line of each statement, from an analysis of the file alone
/// (a statement's effects depend on its text, not on the history).
fn steps_of(file: &SourceFile, options: &analyze::Options) -> (Vec<Step>, Vec<usize>) {
    let unit = Unit {
        file,
        release: 1,
        lint: false,
    };
    let analysis = analyze::analyze(&[unit], &[], options);
    let result = analysis.files.into_iter().next().unwrap_or_default();
    let lines = result
        .statements
        .iter()
        .map(|&(start, _)| file.text[..start].matches('\n').count() + 1)
        .collect();
    (result.steps, lines)
}

/// Looks at every interrupted (`running`) migration of `plan`: is its session alive, and
/// did the statement in flight complete? What to do with each, by version.
pub fn verdicts(
    driver: &mut dyn Driver,
    plan: &Plan,
    files: &[SourceFile],
    rows: &[HistoryRow],
    options: &analyze::Options,
) -> Result<HashMap<u64, Verdict>, DbError> {
    let mut verdicts = HashMap::new();
    for entry in plan.entries.iter().filter(|e| e.state == State::Running) {
        let (Some(file), Some(row)) = (entry.file.map(|i| &files[i]), entry.row.map(|i| &rows[i]))
        else {
            continue;
        };
        let session_alive = match &row.session {
            Some(session) if session != driver.session() => driver.session_alive(session)?,
            _ => None,
        };
        let (steps, lines) = steps_of(file, options);
        let next =
            history::in_flight_statement(row).unwrap_or(row.statements_applied.max(0) as usize);
        let in_flight = match history::in_flight_statement(row) {
            None => InFlight::None,
            // A live session may still change what the catalog shows: do not look yet.
            Some(_) if session_alive == Some(true) => InFlight::Unknown,
            Some(i) if i >= steps.len() => InFlight::Completed,
            Some(i) => judge(driver, &steps[i])?,
        };
        let observation = Observation {
            session_alive,
            in_flight,
            line: lines.get(next).copied(),
        };
        verdicts.insert(entry.version, history::verdict(row, file, &observation));
    }
    Ok(verdicts)
}

/// Where a statement-by-statement run starts.
pub enum Start<'a> {
    /// A pending migration: claim it.
    Claim,
    /// An interrupted one: take over its row and go on at `from`, after dropping
    /// `drop_index` when there is one.
    Resume {
        /// First statement to run.
        from: usize,
        /// An INVALID index left by the interrupted run.
        drop_index: Option<&'a QName>,
    },
}

/// Applies `m` statement by statement from `start`, retrying lock timeouts with backoff.
pub fn apply(
    driver: &mut dyn Driver,
    m: &Migration,
    steps: &[Step],
    start: Start,
    retries: u32,
    on_event: &mut dyn FnMut(Event),
) -> Result<Outcome, ApplyError> {
    let started = Instant::now();
    let version = m.version.max(0) as u64;
    // An INVALID index that must go before the statement building it runs (again).
    let mut drop_first: Option<QName> = match &start {
        Start::Resume { drop_index, .. } => drop_index.cloned(),
        Start::Claim => None,
    };
    let Some(from) = begin(driver, m, start, on_event)? else {
        return Ok(Outcome::AlreadyApplied);
    };
    for i in from..m.statements.len() {
        let step = steps.get(i).cloned().unwrap_or_default();
        let mut attempt = 0;
        loop {
            let result = match drop_first.take() {
                Some(index) => match driver.drop_invalid_index(&index) {
                    Ok(dropped) => {
                        if dropped {
                            on_event(Event::DroppedInvalidIndex {
                                version,
                                statement: i,
                                index: index.to_string(),
                            });
                        }
                        driver.step(m, i, step.atomic)
                    }
                    Err(failure) => {
                        // DROP INDEX CONCURRENTLY waits for the same transactions.
                        drop_first = Some(index);
                        Err(failure)
                    }
                },
                None => driver.step(m, i, step.atomic),
            };
            let failure = match result {
                Ok(()) => break,
                Err(failure) => failure,
            };
            if failure.cause == Cause::LockTimeout && attempt < retries {
                // The statement waited for a lock and did nothing (a transaction of its
                // own rolled back; MySQL DDL had not started), except that a PostgreSQL
                // CREATE INDEX CONCURRENTLY leaves its INVALID index behind.
                let retry = drop_first.is_some()
                    || match after_lock_timeout(driver, &step)? {
                        Some(index) => {
                            drop_first = index;
                            true
                        }
                        None => false,
                    };
                if retry {
                    let delay = backoff(attempt);
                    attempt += 1;
                    on_event(Event::Retry {
                        version,
                        statement: Some(i),
                        attempt,
                        of: retries,
                        delay,
                    });
                    std::thread::sleep(delay);
                    continue;
                }
            }
            return Err(stop(driver, m, i, &step, failure));
        }
    }
    let ms = finish(driver, m, started)?;
    Ok(Outcome::Applied { ms })
}

/// Marks a claimed migration applied, its time counted from `started`: the milliseconds.
pub(super) fn finish(
    driver: &mut dyn Driver,
    m: &Migration,
    started: Instant,
) -> Result<u64, ApplyError> {
    let ms = started.elapsed().as_millis() as u64;
    driver
        .finish(m, ms)
        .map_err(|failure| ApplyError::Stopped {
            failure,
            recorded: false,
        })?;
    Ok(ms)
}

/// Claims `m` (a pending migration) or takes over its interrupted row: the statement to start
/// at, or `None` when another deployer applied it first.
pub(super) fn begin(
    driver: &mut dyn Driver,
    m: &Migration,
    start: Start,
    on_event: &mut dyn FnMut(Event),
) -> Result<Option<usize>, ApplyError> {
    Ok(Some(match start {
        Start::Claim => match driver.claim(m)? {
            Outcome::AlreadyApplied => return Ok(None),
            Outcome::Applied { .. } => 0,
        },
        Start::Resume { from, .. } => {
            driver
                .take_over(m, from)
                .map_err(|e| rolled_back(e.to_string()))?;
            on_event(Event::Resumed {
                version: m.version.max(0) as u64,
                from,
                of: m.statements.len(),
            });
            from
        }
    }))
}

/// After a lock timeout of a statement: `Some` when running it again is safe, holding the
/// INVALID index to drop first if it left one; `None` when it may have taken effect.
fn after_lock_timeout(
    driver: &mut dyn Driver,
    step: &Step,
) -> Result<Option<Option<QName>>, ApplyError> {
    if step.atomic || step.idempotent {
        return Ok(Some(None));
    }
    if !driver.target().dialect.transactional_ddl() {
        // MySQL/MariaDB: a metadata lock wait ends before the statement changes anything.
        return Ok(Some(None));
    }
    Ok(
        match judge(driver, step).map_err(|e| rolled_back(e.to_string()))? {
            InFlight::NotDone => Some(None),
            InFlight::InvalidIndex(index) => Some(Some(index)),
            InFlight::None | InFlight::Completed | InFlight::Unknown => None,
        },
    )
}

/// Records statement `i` as failed and says what became of the migration.
pub(super) fn stop(
    driver: &mut dyn Driver,
    m: &Migration,
    i: usize,
    step: &Step,
    failure: Failure,
) -> ApplyError {
    let mut failure = Failure {
        statement: Some(i),
        ..failure
    };
    // A failed CREATE INDEX CONCURRENTLY (PostgreSQL) leaves its INVALID index behind, which
    // blocks running the statement again: say so, with the statement that removes it.
    if failure.cause != Cause::Connection
        && driver.target().dialect.transactional_ddl()
        && let Ok(InFlight::InvalidIndex(index)) = judge(driver, step)
    {
        failure.message.push_str(&format!(
            "; it left the INVALID index {index} behind: once the cause is fixed, run `DROP INDEX CONCURRENTLY {index};`, then `migrate resolve {} --rolled-back` and `migrate up`",
            m.version
        ));
    }
    let recorded = failure.cause != Cause::Connection && driver.record_failure(m, i, &failure);
    ApplyError::Stopped { failure, recorded }
}

fn rolled_back(message: String) -> ApplyError {
    ApplyError::RolledBack(Failure {
        cause: Cause::Connection,
        statement: None,
        message,
    })
}
