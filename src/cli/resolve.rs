//! `migrate resolve VERSION --applied|--rolled-back`: after a failed or interrupted
//! non-transactional migration was finished or undone by hand, record that.

use std::io::Write;

use anyhow::bail;

use crate::analyze::{self, Unit};
use crate::cli::database::{DbArgs, Session};
use crate::cli::{EXIT_OK, ignore_broken_pipe};
use crate::db::Resolution;
use crate::engine;

/// Arguments of `migrate resolve`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("resolution").required(true).args(["applied", "rolled_back"])))]
pub struct Args {
    /// The failed migration's version
    #[arg(value_name = "VERSION")]
    pub version: u64,
    /// Its remaining statements were applied by hand: record it as applied
    #[arg(long)]
    pub applied: bool,
    /// Its partial changes were undone by hand: forget it, so `up` runs it again
    #[arg(long)]
    pub rolled_back: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

/// Records the resolution under the migration lock.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let session = Session::load(&args.db)?;
    let mut driver = session.connect()?;
    let Ok(version) = i64::try_from(args.version) else {
        bail!("version {} is too large", args.version);
    };
    let resolution = if args.applied {
        Resolution::Applied
    } else {
        Resolution::RolledBack
    };
    let files = &session.discovery.files;
    let file = files.iter().find(|f| f.version == Some(args.version));
    if resolution == Resolution::Applied && file.is_none() {
        bail!(
            "no migration file with version {} in the migration directory: `--applied` records the file as applied",
            args.version
        );
    }
    let units = Unit::each_own_release(files);
    let analysis = analyze::analyze(&units, &[], &session.analysis_options());
    let migration = file.map(|f| {
        let index = files.iter().position(|g| std::ptr::eq(f, g)).unwrap_or(0);
        engine::migration(f, &analysis.files[index])
    });
    driver.lock(session.settings.lock_wait, &mut |holder| {
        eprintln!("migrate: waiting for the migration lock, held by {holder}")
    })?;
    let result = driver.resolve(version, resolution, migration.as_ref());
    let unlocked = driver.unlock();
    result?;
    unlocked?;
    let what = match resolution {
        Resolution::Applied => "recorded as applied",
        Resolution::RolledBack => "forgotten: `migrate up` will apply it again",
    };
    ignore_broken_pipe(writeln!(
        std::io::stdout(),
        "resolved {}: {what}",
        args.version
    ))?;
    Ok(EXIT_OK)
}
