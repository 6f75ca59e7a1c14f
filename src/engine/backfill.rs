//! Backfill migrations (`-- migrate:backfill`): each statement run again and again, each run
//! one short transaction together with the history row's progress, until a run changes no
//! row; a pause between batches lets traffic through. A killed backfill leaves a `running`
//! row whose `statements_applied` names the statement to go on with and whose `progress`
//! holds the counts: the next `up` resumes there, and the statement's own condition skips
//! the rows already done.

use std::time::Instant;

use crate::db::{ApplyError, Cause, Driver, Failure, Migration, Outcome, Settings, backoff};
use crate::engine::Event;
use crate::engine::stepwise::{Start, stop};
use crate::history::BackfillProgress;

/// Applies backfill migration `m` from `start`, its earlier progress `before` (a resumed
/// run's counts go on).
pub fn apply(
    driver: &mut dyn Driver,
    m: &Migration,
    steps: &[crate::analyze::step::Step],
    start: Start,
    before: BackfillProgress,
    settings: &Settings,
    on_event: &mut dyn FnMut(Event),
) -> Result<(Outcome, BackfillProgress), ApplyError> {
    let started = Instant::now();
    let version = m.version.max(0) as u64;
    let from = match super::stepwise::begin(driver, m, start, on_event)? {
        Some(from) => from,
        None => return Ok((Outcome::AlreadyApplied, before)),
    };
    let mut progress = before;
    for i in from..m.statements.len() {
        // Only a data change can shrink to no row; anything else `check` let through (an
        // allowed backfill-not-dml) runs once.
        let once = !steps.get(i).is_some_and(|s| s.data_change);
        let mut attempt = 0;
        loop {
            match driver.batch(m, i, progress, once) {
                Ok((rows, recorded)) => {
                    progress = recorded;
                    attempt = 0;
                    on_event(Event::Batch {
                        version,
                        statement: i,
                        of: m.statements.len(),
                        rows,
                        progress,
                    });
                    if rows == 0 || once {
                        break;
                    }
                    if !settings.backfill_pause.is_zero() {
                        std::thread::sleep(settings.backfill_pause);
                    }
                }
                // The batch waited for a row lock the app held and was rolled back: nothing
                // of it stays, so it is run again after a pause.
                Err(failure)
                    if failure.cause == Cause::LockTimeout && attempt < settings.lock_retries =>
                {
                    let delay = backoff(attempt);
                    attempt += 1;
                    on_event(Event::Retry {
                        version,
                        statement: Some(i),
                        attempt,
                        of: settings.lock_retries,
                        delay,
                    });
                    std::thread::sleep(delay);
                }
                // Rolled back like every batch that waits too long (a lock timeout through its
                // retries, a statement timeout, SQLite's busy timeout): nothing of it stays,
                // the row is still `running` at this statement, and the next `up` resumes it.
                Err(failure) if matches!(failure.cause, Cause::LockTimeout | Cause::Timeout) => {
                    return Err(ApplyError::Paused(Failure {
                        statement: Some(i),
                        ..failure
                    }));
                }
                Err(failure) => {
                    return Err(stop(driver, m, i, &Default::default(), failure));
                }
            }
        }
    }
    let ms = super::stepwise::finish(driver, m, started)?;
    Ok((Outcome::Applied { ms }, progress))
}
