//! `migrate status`: every migration's state, from files and history, without changing anything.

use std::io::Write;

use serde_json::json;

use crate::cli::database::{DbArgs, Session};
use crate::cli::{EXIT_OK, HumanOrJson, ignore_broken_pipe};
use crate::engine;
use crate::history::State;
use crate::source::checksum;

/// Arguments of `migrate status`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub db: DbArgs,
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value = "human")]
    pub format: HumanOrJson,
}

/// One line of the status table.
struct Line {
    version: u64,
    description: String,
    state: State,
    applied_at: Option<String>,
    execution_ms: Option<i64>,
    checksum: String,
    /// `expand`, `backfill`, `contract` (from the file, else the row), or `baseline`.
    phase: String,
    /// A backfill's recorded progress, and the statement it is at of how many.
    backfill: Option<(crate::history::BackfillProgress, i64, i64)>,
}

/// Prints the status; exit 0 whatever the states (see `verify` for a health check).
pub fn run(args: Args) -> anyhow::Result<u8> {
    let session = Session::load(&args.db)?;
    let mut driver = session.connect_read_only()?;
    let files = &session.discovery.files;
    let engine::Review {
        rows,
        plan,
        problems,
    } = engine::review(
        driver.as_mut(),
        &session.discovery,
        &session.analysis_options(),
    )?;
    let lines: Vec<Line> = plan
        .entries
        .iter()
        .map(|e| {
            let row = e.row.map(|i| &rows[i]);
            Line {
                version: e.version,
                description: e.description.clone(),
                state: e.state,
                applied_at: row.and_then(|r| r.applied_at.clone()),
                execution_ms: row.and_then(|r| r.execution_ms),
                checksum: row.map(|r| r.checksum.clone()).unwrap_or_else(|| {
                    e.file.map(|i| checksum(&files[i].text)).unwrap_or_default()
                }),
                backfill: row.filter(|r| r.progress.is_some()).map(|r| {
                    (
                        crate::history::BackfillProgress::of(Some(r)),
                        r.statements_applied,
                        r.statements_total,
                    )
                }),
                phase: match (e.file, row) {
                    (_, Some(r)) if r.phase == "baseline" => r.phase.clone(),
                    (Some(i), _) => files[i].phase().as_str().to_string(),
                    (None, Some(r)) => r.phase.clone(),
                    (None, None) => "expand".to_string(),
                },
            }
        })
        .collect();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.format == HumanOrJson::Json {
        let migrations: Vec<serde_json::Value> = lines
            .iter()
            .map(|l| {
                json!({
                    "version": l.version,
                    "description": l.description,
                    "state": l.state.as_str(),
                    "applied_at": l.applied_at,
                    "execution_ms": l.execution_ms,
                    "checksum": l.checksum,
                    "phase": l.phase,
                    "backfill": l.backfill.map(|(p, _, _)| p),
                })
            })
            .collect();
        let problems: Vec<serde_json::Value> = problems
            .iter()
            .map(|p| {
                json!({
                    "version": p.version,
                    "state": p.state.as_str(),
                    "message": p.message(),
                })
            })
            .collect();
        let value = json!({ "migrations": migrations, "problems": problems });
        ignore_broken_pipe(writeln!(out, "{value}"))?;
        return Ok(EXIT_OK);
    }
    ignore_broken_pipe(table(&mut out, &lines))?;
    for l in &lines {
        let Some((p, at, total)) = l.backfill else {
            continue;
        };
        let so_far = format!(
            "{} batches, {} rows so far ({} rows/s)",
            p.batches,
            p.rows,
            p.rows_per_second()
        );
        let line = match l.state {
            State::Running => format!(
                "backfill {} is at statement {} of {total}: {so_far}; if no `migrate up` is running it, the next one resumes it there",
                l.version,
                at + 1
            ),
            State::Failed => format!(
                "backfill {} failed at statement {} of {total}: {so_far}; fix the cause, then `migrate resolve {} --rolled-back` and `migrate up` (the statement's own condition skips the rows already done)",
                l.version,
                at + 1,
                l.version
            ),
            _ => continue,
        };
        ignore_broken_pipe(writeln!(out, "{line}"))?;
    }
    let waiting: Vec<String> = lines
        .iter()
        .filter(|l| l.phase == "contract" && matches!(l.state, State::Pending | State::OutOfOrder))
        .map(|l| l.version.to_string())
        .collect();
    if !waiting.is_empty() {
        ignore_broken_pipe(writeln!(
            out,
            "contract migration{} pending for the post-deploy step (`migrate up --phase contract` after the rollout): {}",
            if waiting.len() == 1 { "" } else { "s" },
            waiting.join(", ")
        ))?;
    }
    for problem in &problems {
        ignore_broken_pipe(writeln!(out, "blocks `up`: {}", problem.message()))?;
    }
    Ok(EXIT_OK)
}

fn table(out: &mut impl Write, lines: &[Line]) -> std::io::Result<()> {
    if lines.is_empty() {
        return writeln!(out, "no migrations");
    }
    let rows: Vec<[String; 6]> = lines
        .iter()
        .map(|l| {
            [
                l.version.to_string(),
                l.state.as_str().to_string(),
                l.phase.clone(),
                l.applied_at.clone().unwrap_or_default(),
                l.execution_ms
                    .map(|ms| format!("{ms} ms"))
                    .unwrap_or_default(),
                l.description.clone(),
            ]
        })
        .collect();
    let header = [
        "VERSION",
        "STATE",
        "PHASE",
        "APPLIED AT",
        "TIME",
        "DESCRIPTION",
    ];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let print = |out: &mut dyn Write, cells: [&str; 6]| -> std::io::Result<()> {
        let line = format!(
            "{:w0$}  {:w1$}  {:w2$}  {:w3$}  {:>w4$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            cells[5],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
            w4 = widths[4]
        );
        writeln!(out, "{}", line.trim_end())
    };
    print(out, header)?;
    for row in &rows {
        print(out, [&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]])?;
    }
    Ok(())
}
