//! `migrate baseline VERSION`: adopt an existing database by recording every migration up to
//! VERSION as applied without running it.

use std::io::Write;

use crate::cli::database::{DbArgs, Session, on_lock_event};
use crate::cli::{EXIT_OK, ignore_broken_pipe};
use crate::engine;

/// Arguments of `migrate baseline`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The newest migration the database's schema already contains (0: none of them; the
    /// tables there belong to something else)
    #[arg(value_name = "VERSION")]
    pub version: u64,
    #[command(flatten)]
    pub db: DbArgs,
}

/// Records the baseline (see `engine::baseline`).
pub fn run(args: Args) -> anyhow::Result<u8> {
    let session = Session::load(&args.db)?;
    let mut driver = session.connect()?;
    let count = engine::baseline(
        driver.as_mut(),
        &session.discovery,
        args.version,
        &session.options.settings,
        &mut on_lock_event,
    )?;
    ignore_broken_pipe(writeln!(
        std::io::stdout(),
        "baseline {}: {count} migrations recorded as applied without running them",
        args.version
    ))?;
    Ok(EXIT_OK)
}
