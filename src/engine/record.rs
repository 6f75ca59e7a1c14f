//! `baseline` and `resolve`: the two ways of writing history by hand, each under the lock.

use crate::analyze;
use crate::db::{DbError, Driver, Migration, Resolution, Settings};
use crate::engine::{Event, migration, with_lock};
use crate::source::Discovery;

/// Why `baseline` or `resolve` refused.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The database layer failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// No file has the version.
    #[error("no migration file with version {version}{why}")]
    NoFile {
        /// The version asked for.
        version: u64,
        /// Why a file is needed.
        why: &'static str,
    },
    /// The version does not fit the history table.
    #[error("version {0} is too large")]
    TooLarge(u64),
    /// A baseline only adopts a database without history.
    #[error(
        "the history table already has {0} rows: a baseline only adopts a database without history"
    )]
    HasHistory(usize),
}

/// `baseline VERSION`: under the lock, records every migration up to `version` as applied
/// without running it; refuses when any history exists. Returns how many were recorded.
pub fn baseline(
    driver: &mut dyn Driver,
    discovery: &Discovery,
    version: u64,
    settings: &Settings,
    on_event: &mut dyn FnMut(Event),
) -> Result<usize, RecordError> {
    let files = &discovery.files;
    if version != 0 && !files.iter().any(|f| f.version == Some(version)) {
        return Err(RecordError::NoFile { version, why: "" });
    }
    let dialect = driver.target().dialect;
    let mut refused = None;
    let count = with_lock(driver, settings.lock_wait, on_event, |driver, _| {
        driver.ensure_history()?;
        let rows = driver.history()?.unwrap_or_default();
        if !rows.is_empty() {
            refused = Some(RecordError::HasHistory(rows.len()));
            return Ok(0);
        }
        if version == 0 {
            // Nothing of this app is applied: the tables there belong to something else.
            // A marker row (version 0, phase baseline) says the history starts here.
            driver.baseline(&Migration::baseline_marker())?;
            return Ok(0);
        }
        let mut count = 0;
        for file in files
            .iter()
            .filter(|f| f.version.is_some_and(|v| v <= version))
        {
            driver.baseline(&migration(file, &analyze::outline(file, dialect)))?;
            count += 1;
        }
        Ok(count)
    })?;
    match refused {
        Some(e) => Err(e),
        None => Ok(count),
    }
}

/// `resolve VERSION`: under the lock, records how a failed or interrupted migration was
/// fixed by hand (`Applied` records the file as it is now).
pub fn resolve(
    driver: &mut dyn Driver,
    discovery: &Discovery,
    version: u64,
    resolution: Resolution,
    settings: &Settings,
    on_event: &mut dyn FnMut(Event),
) -> Result<(), RecordError> {
    let recorded = i64::try_from(version).map_err(|_| RecordError::TooLarge(version))?;
    let file = discovery.files.iter().find(|f| f.version == Some(version));
    if resolution == Resolution::Applied && file.is_none() {
        return Err(RecordError::NoFile {
            version,
            why: " in the migration directory: `--applied` records the file as applied",
        });
    }
    let dialect = driver.target().dialect;
    let outline = file.map(|f| analyze::outline(f, dialect));
    let migration = file.zip(outline.as_ref()).map(|(f, o)| migration(f, o));
    with_lock(driver, settings.lock_wait, on_event, |driver, _| {
        driver.resolve(recorded, resolution, migration.as_ref())
    })?;
    Ok(())
}
