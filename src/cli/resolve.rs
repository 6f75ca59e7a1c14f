//! `migrate resolve VERSION --applied|--rolled-back`: after a failed or interrupted
//! non-transactional migration was finished or undone by hand, record that.

use std::io::Write;

use crate::cli::database::{DbArgs, Session, on_lock_event};
use crate::cli::{EXIT_OK, HumanOrJson, ignore_broken_pipe};
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
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value = "human")]
    pub format: HumanOrJson,
}

/// Records the resolution (see `engine::resolve`).
pub fn run(args: Args) -> anyhow::Result<u8> {
    let session = Session::load(&args.db)?;
    let mut driver = session.connect_existing()?;
    let resolution = if args.applied {
        Resolution::Applied
    } else {
        Resolution::RolledBack
    };
    engine::resolve(
        driver.as_mut(),
        &session.discovery,
        args.version,
        resolution,
        &session.options.settings,
        &mut on_lock_event,
    )?;
    let (name, what) = match resolution {
        Resolution::Applied => ("applied", "recorded as applied"),
        Resolution::RolledBack => ("rolled-back", "forgotten: `migrate up` will apply it again"),
    };
    let line = match args.format {
        HumanOrJson::Json => serde_json::json!({
            "version": args.version,
            "resolution": name,
            "message": what,
        })
        .to_string(),
        HumanOrJson::Human => format!("resolved {}: {what}", args.version),
    };
    ignore_broken_pipe(writeln!(std::io::stdout(), "{line}"))?;
    Ok(EXIT_OK)
}
