//! `migrate verify`: a health check; exit 1 on any drift between history and files.

use std::io::Write;

use crate::cli::database::{DbArgs, Session};
use crate::cli::{EXIT_OK, EXIT_VIOLATIONS, HumanOrJson, ignore_broken_pipe};
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
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value = "human")]
    pub format: HumanOrJson,
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
    let count = |s: State| plan.entries.iter().filter(|e| e.state == s).count();
    let pending: Vec<_> = plan
        .entries
        .iter()
        .filter(|e| matches!(e.state, State::Pending | State::OutOfOrder | State::Running))
        .collect();
    let fails = !problems.is_empty() || (args.pending && !pending.is_empty());
    if args.format == HumanOrJson::Json {
        let value = serde_json::json!({
            "ok": !fails,
            "applied": count(State::Applied),
            "pending": pending
                .iter()
                .map(|e| serde_json::json!({"version": e.version, "description": e.description}))
                .collect::<Vec<_>>(),
            "problems": problems
                .iter()
                .map(|p| serde_json::json!({
                    "version": p.version,
                    "description": p.description,
                    "state": p.state.as_str(),
                    "message": p.message(),
                }))
                .collect::<Vec<_>>(),
        });
        ignore_broken_pipe(writeln!(out, "{value}"))?;
        return Ok(if fails { EXIT_VIOLATIONS } else { EXIT_OK });
    }
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
    let pending = pending.len();
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
                .filter(|e| matches!(e.state, State::Pending | State::OutOfOrder | State::Running))
            {
                let what = if e.state == State::Running {
                    "interrupted (`migrate up` resumes it)"
                } else {
                    "pending"
                };
                ignore_broken_pipe(writeln!(out, "{what} {} {}", e.version, e.description))?;
            }
            ignore_broken_pipe(writeln!(
                out,
                "not current: {} pending (--pending)",
                crate::cli::migrations(pending)
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
