//! `migrate baseline VERSION`: adopt an existing database by recording every migration up to
//! VERSION as applied without running it.

use std::io::Write;

use anyhow::bail;

use crate::analyze::{self, Unit};
use crate::cli::database::{DbArgs, Session};
use crate::cli::{EXIT_OK, ignore_broken_pipe};
use crate::engine;

/// Arguments of `migrate baseline`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The newest migration the database's schema already contains
    #[arg(value_name = "VERSION")]
    pub version: u64,
    #[command(flatten)]
    pub db: DbArgs,
}

/// Records the baseline under the migration lock; refuses when any history exists.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let session = Session::load(&args.db)?;
    let mut driver = session.connect()?;
    let files = &session.discovery.files;
    if !files.iter().any(|f| f.version == Some(args.version)) {
        bail!("no migration file with version {}", args.version);
    }
    let units = Unit::each_own_release(files);
    let analysis = analyze::analyze(&units, &[], &session.analysis_options());
    driver.lock(session.settings.lock_wait, &mut |holder| {
        eprintln!("migrate: waiting for the migration lock, held by {holder}")
    })?;
    let result = (|| -> anyhow::Result<usize> {
        driver.ensure_history()?;
        let rows = driver.history()?.unwrap_or_default();
        if !rows.is_empty() {
            bail!(
                "the history table already has {} rows: a baseline only adopts a database without history",
                rows.len()
            );
        }
        let mut count = 0;
        for (i, file) in files.iter().enumerate() {
            if file.version.is_some_and(|v| v <= args.version) {
                driver.baseline(&engine::migration(file, &analysis.files[i]))?;
                count += 1;
            }
        }
        Ok(count)
    })();
    let unlocked = driver.unlock();
    let count = result?;
    unlocked?;
    ignore_broken_pipe(writeln!(
        std::io::stdout(),
        "baseline {}: {count} migrations recorded as applied without running them",
        args.version
    ))?;
    Ok(EXIT_OK)
}
