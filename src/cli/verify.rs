//! `migrate verify`: a health check; exit 1 on any drift between history and files.

use std::io::Write;

use crate::cli::database::{DbArgs, Session};
use crate::cli::{EXIT_OK, EXIT_VIOLATIONS, ignore_broken_pipe};
use crate::engine;
use crate::history::State;

/// Arguments of `migrate verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub db: DbArgs,
    /// Also exit 1 when migrations are pending (a deploy check: the database is current)
    #[arg(long)]
    pub pending: bool,
}

/// Reports everything that would make `up` refuse (modified, missing, failed, running,
/// out of order, no history on a database with tables), worded as `up` words it; exit 1 when
/// there is any.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let session = Session::load(&args.db)?;
    let mut driver = session.connect_read_only()?;
    let engine::Review { plan, problems, .. } = engine::review(
        driver.as_mut(),
        &session.discovery,
        &session.analysis_options(),
    )?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for problem in &problems {
        ignore_broken_pipe(writeln!(
            out,
            "{} {} {}: {}",
            problem.state.as_str(),
            problem.version,
            problem.description,
            problem.message()
        ))?;
    }
    let count = |s: State| plan.entries.iter().filter(|e| e.state == s).count();
    let pending = count(State::Pending) + count(State::OutOfOrder);
    if problems.is_empty() {
        ignore_broken_pipe(writeln!(
            out,
            "no drift: {} applied, {pending} pending",
            count(State::Applied),
        ))?;
        if args.pending && pending > 0 {
            for e in plan
                .entries
                .iter()
                .filter(|e| matches!(e.state, State::Pending | State::OutOfOrder))
            {
                ignore_broken_pipe(writeln!(out, "pending {} {}", e.version, e.description))?;
            }
            ignore_broken_pipe(writeln!(
                out,
                "not current: {pending} migration{} pending (--pending)",
                if pending == 1 { "" } else { "s" }
            ))?;
            return Ok(EXIT_VIOLATIONS);
        }
        Ok(EXIT_OK)
    } else {
        ignore_broken_pipe(writeln!(
            out,
            "drift: {} migration{} from the history",
            problems.len(),
            if problems.len() == 1 {
                " differs"
            } else {
                "s differ"
            }
        ))?;
        Ok(EXIT_VIOLATIONS)
    }
}
