//! `migrate verify`: a health check; exit 1 on any drift between history and files.

use std::io::Write;

use crate::cli::database::{DbArgs, Session};
use crate::cli::{EXIT_OK, EXIT_VIOLATIONS, ignore_broken_pipe};
use crate::engine;
use crate::history::{self, State};

/// Arguments of `migrate verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub db: DbArgs,
}

/// Reports everything that would make `up` refuse (modified, missing, failed, running,
/// out of order, no history on a database with tables), worded as `up` words it; exit 1 when
/// there is any.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let session = Session::load(&args.db)?;
    let mut driver = session.connect()?;
    let files = &session.discovery.files;
    let rows = driver.history()?.unwrap_or_default();
    let tables = if rows.is_empty() && !files.is_empty() {
        engine::tables_without_history(driver.as_mut(), session.target.dialect)?
    } else {
        Vec::new()
    };
    let plan = history::plan(files, &rows);
    let verdicts = engine::verdicts(
        driver.as_mut(),
        &plan,
        files,
        &rows,
        &session.analysis_options(),
    )?;
    let problems = plan.problems(files, &rows, &tables, false, &verdicts);
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
    if problems.is_empty() {
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
