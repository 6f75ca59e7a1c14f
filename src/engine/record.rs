//! `baseline` and `resolve`: the two ways of writing history by hand, each under the lock.

use crate::analyze;
use crate::analyze::ir::QName;
use crate::analyze::step::Effect;
use crate::db::{DbError, Driver, Migration, Observed, Resolution, Settings, TableName};
use crate::engine::{Event, migration, with_lock};
use crate::history::adopt::{self, Tool};
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
    /// `baseline --from`: the other tool's history cannot be adopted as it is.
    #[error("{0}")]
    Adopt(String),
    /// `baseline --from`: `--table` is not a table name (exit 2, as a bad flag).
    #[error("{0}")]
    BadTable(String),
    /// `baseline --from`: the other tool's table is not there.
    #[error(
        "no table {table} in the database (the {tool} history table; pass --table if it has another name)"
    )]
    NoTable {
        /// The table looked for.
        table: String,
        /// The tool.
        tool: &'static str,
    },
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
            // A marker row (phase baseline, no file's version) says the history starts here.
            driver.baseline(&Migration::baseline_marker())?;
            return Ok(0);
        }
        let mut count = 0;
        // Up to that file in apply order (dbmate, diesel and Prisma order versions as text).
        let last = files
            .iter()
            .position(|f| f.version == Some(version))
            .unwrap_or(0);
        for file in files[..=last].iter().filter(|f| f.version.is_some()) {
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

/// `baseline --from TOOL`: under the lock, reads `tool`'s history table (`table`, else the
/// tool's default), matches what it applied to the files (checksums compared where the tool
/// kept them) and records exactly those as applied; refuses when any history of ours exists.
/// Returns the versions recorded.
pub fn adopt(
    driver: &mut dyn Driver,
    discovery: &Discovery,
    tool: Tool,
    table: Option<&str>,
    settings: &Settings,
    on_event: &mut dyn FnMut(Event),
) -> Result<Vec<u64>, RecordError> {
    let dialect = driver.target().dialect;
    let name = table.unwrap_or(tool.table());
    let mut parsed = TableName::parse(name)
        .map_err(|e| RecordError::BadTable(format!("--table {name}: {e}")))?;
    let files = &discovery.files;
    let mut refused = None;
    let recorded = with_lock(driver, settings.lock_wait, on_event, |driver, _| {
        // In the history table's schema, by name as the database spells it (whatever the
        // case given); in another schema, exactly as given.
        let found = match &parsed.schema {
            None => {
                // The name as given if the database has it, else the one table that differs
                // only in case (none, or several: not found).
                let tables = driver.user_tables()?;
                if tables.contains(&parsed.name) {
                    Some(parsed.name.clone())
                } else {
                    let mut like = tables
                        .into_iter()
                        .filter(|t| t.eq_ignore_ascii_case(&parsed.name));
                    match (like.next(), like.next()) {
                        (Some(one), None) => Some(one),
                        _ => None,
                    }
                }
            }
            Some(schema) => {
                let table = QName {
                    schema: Some(schema.clone()),
                    name: parsed.name.clone(),
                };
                let probe = Effect::Table {
                    table,
                    exists: true,
                };
                (driver.observe(&probe)? == Observed::Present).then(|| parsed.name.clone())
            }
        };
        let Some(found) = found else {
            refused = Some(RecordError::NoTable {
                table: name.to_string(),
                tool: tool.name(),
            });
            return Ok(Vec::new());
        };
        parsed.name = found;
        // golang-migrate and dbmate both name their table schema_migrations: only
        // golang-migrate's has `dirty`.
        if let Some((other, has_dirty)) = match tool {
            Tool::Dbmate => Some((Tool::GolangMigrate, true)),
            Tool::GolangMigrate => Some((Tool::Dbmate, false)),
            _ => None,
        } {
            let probe = Effect::Column {
                table: QName {
                    schema: parsed.schema.clone(),
                    name: parsed.name.clone(),
                },
                column: "dirty".into(),
                exists: true,
            };
            if (driver.observe(&probe)? == Observed::Present) == has_dirty {
                refused = Some(RecordError::Adopt(format!(
                    "{name} is {other}'s history table, not {tool}'s (golang-migrate's has a `dirty` column, dbmate's has not): run `migrate baseline --from {other}`",
                    other = other.name(),
                    tool = tool.name(),
                )));
                return Ok(Vec::new());
            }
        }
        // Nothing is written (not even the history table) until the history is adopted.
        let rows = driver.history()?.unwrap_or_default();
        if !rows.is_empty() {
            refused = Some(RecordError::HasHistory(rows.len()));
            return Ok(Vec::new());
        }
        let (sql, columns) = tool.select(&parsed.quoted(dialect), dialect);
        let theirs = driver.foreign_rows(&sql, columns)?;
        let applied = match adopt::applied(tool, name, &theirs, files) {
            Ok(applied) => applied,
            Err(message) => {
                refused = Some(RecordError::Adopt(message));
                return Ok(Vec::new());
            }
        };
        driver.ensure_history()?;
        if applied.is_empty() {
            // The other tool applied nothing (an empty table; goose's creation row only):
            // the tables there are not this app's, as with `baseline 0`.
            driver.baseline(&Migration::baseline_marker())?;
        }
        let mut recorded = Vec::new();
        for i in applied {
            let file = &files[i];
            driver.baseline(&migration(file, &analyze::outline(file, dialect)))?;
            recorded.extend(file.version);
        }
        Ok(recorded)
    })?;
    match refused {
        Some(e) => Err(e),
        None => Ok(recorded),
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
