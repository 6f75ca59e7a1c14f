//! `migrate verify`: a health check; exit 1 on any drift between history and files.

use std::io::Write;

use crate::cli::database::{DbArgs, Session};
use crate::cli::{EXIT_OK, EXIT_VIOLATIONS, ignore_broken_pipe};
use crate::history::{self, State};

/// Arguments of `migrate verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub db: DbArgs,
}

/// Reports modified, missing, failed and running migrations; exit 1 when there is any.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let session = Session::load(&args.db)?;
    let mut driver = session.connect()?;
    let rows = driver.history()?.unwrap_or_default();
    let plan = history::plan(&session.discovery.files, &rows);
    let drift = plan.drift();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for entry in &drift {
        let what = match entry.state {
            State::Modified => "applied, but the file changed since",
            State::Missing => "applied, but the file is gone",
            State::Failed => "failed midway: needs `migrate resolve`",
            State::Running => "marked running: interrupted, or in progress elsewhere",
            _ => "",
        };
        ignore_broken_pipe(writeln!(
            out,
            "{} {} {}: {what}",
            entry.state.as_str(),
            entry.version,
            entry.description
        ))?;
    }
    let count = |s: State| plan.entries.iter().filter(|e| e.state == s).count();
    if drift.is_empty() {
        ignore_broken_pipe(writeln!(
            out,
            "no drift: {} applied, {} pending",
            count(State::Applied),
            count(State::Pending) + count(State::OutOfOrder)
        ))?;
        Ok(EXIT_OK)
    } else {
        ignore_broken_pipe(writeln!(
            out,
            "drift: {} migration{} from the history",
            drift.len(),
            if drift.len() == 1 {
                " differs"
            } else {
                "s differ"
            }
        ))?;
        Ok(EXIT_VIOLATIONS)
    }
}
