//! `migrate up`: apply pending migrations (see `engine::up`) and say what happened.

use std::io::Write;

use serde_json::json;

use crate::cli::database::{DbArgs, Session};
use crate::cli::{
    EXIT_ERROR, EXIT_OK, EXIT_VIOLATIONS, HumanOrJson, ignore_broken_pipe, stdout_color,
};
use crate::db::{ApplyError, Cause, Failure};
use crate::engine::{self, Event, Handled, UpOptions, UpResult};
use crate::report::{self, Format};
use crate::source::SourceFile;

/// Arguments of `migrate up`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub db: DbArgs,
    /// Print the plan and the analysis; touch nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Apply pending migrations older than the newest applied one
    #[arg(long)]
    pub allow_out_of_order: bool,
    /// Stop after this version: the pending migrations after it (in apply order) wait
    #[arg(long, value_name = "VERSION", value_parser = crate::source::name::version_key)]
    pub to: Option<u64>,
    /// Deploy phase: `expand` (the pre-deploy step: expand and backfill migrations),
    /// `contract` (the post-deploy step: contract migrations), `all` (every migration in
    /// version order, for a database no release serves yet)
    #[arg(long, value_enum, default_value = "expand")]
    pub phase: PhaseArg,
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value = "human")]
    pub format: HumanOrJson,
}

/// `--phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PhaseArg {
    /// Expand and backfill migrations (before the rollout).
    Expand,
    /// Contract migrations (after the rollout).
    Contract,
    /// Every migration in version order.
    All,
}

impl From<PhaseArg> for crate::history::UpPhase {
    fn from(phase: PhaseArg) -> Self {
        match phase {
            PhaseArg::Expand => crate::history::UpPhase::Expand,
            PhaseArg::Contract => crate::history::UpPhase::Contract,
            PhaseArg::All => crate::history::UpPhase::All,
        }
    }
}

/// Runs `up` and returns the exit code: 0 done, 1 refused (drift or check errors) or a migration failed, 2 could not run.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let session = Session::load(&args.db)?;
    // `--to VERSION` as the file the engine stops after.
    let to = match args.to {
        None => None,
        Some(version) => Some(
            session
                .discovery
                .files
                .iter()
                .position(|f| f.version == Some(version))
                .ok_or_else(|| {
                    anyhow::anyhow!("up --to {version}: no migration file has version {version}")
                })?,
        ),
    };
    // The app's queries (`app_queries`) weigh the gate's compatibility findings; read before
    // any connection, so a bad path stops nothing half-way.
    let mut analysis = session.analysis_options();
    analysis.queries = crate::cli::queries::load(
        &[],
        &session.options,
        None,
        std::path::Path::new("."),
        analysis.dialect,
    )?;
    let mut driver = if args.dry_run {
        session.connect_read_only()?
    } else {
        session.connect()?
    };
    let options = UpOptions {
        dry_run: args.dry_run,
        allow_out_of_order: args.allow_out_of_order,
        to,
        phase: args.phase.into(),
        settings: session.options.settings.clone(),
        analysis,
    };
    let json = args.format == HumanOrJson::Json;
    let sources: Vec<&SourceFile> = session.discovery.files.iter().collect();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let backfills: Vec<u64> = session
        .discovery
        .files
        .iter()
        .filter(|f| f.phase() == crate::source::directive::Phase::Backfill)
        .filter_map(|f| f.version)
        .collect();
    // Warnings of a passed gate are shown before anything is applied.
    let mut shown = false;
    let mut on_event = |event: Event| {
        let line = match event {
            Event::Checked { analysis } => {
                if !json && !analysis.diagnostics.is_empty() {
                    shown = true;
                    let _ =
                        report::render(&mut out, Format::Human, analysis, &sources, stdout_color());
                    let _ = out.flush();
                }
                return;
            }
            Event::Applied {
                version,
                description,
                ms,
                transactional,
                backfill,
            } => {
                if json {
                    return;
                }
                let how = match backfill {
                    Some(p) => format!(
                        ", backfill: {} batches, {} rows, {} rows/s",
                        p.batches,
                        p.rows,
                        p.rows_per_second()
                    ),
                    None if transactional => String::new(),
                    None => ", outside a transaction".to_string(),
                };
                let _ = writeln!(out, "applied {version} {description} ({ms} ms{how})");
                let _ = out.flush();
                return;
            }
            Event::AlreadyApplied {
                version,
                description,
            } => format!("skipped {version} {description}: another deployer applied it first"),
            Event::LockWaiting { holder } => {
                format!("waiting for the migration lock, held by {holder}")
            }
            Event::Retry {
                version,
                statement,
                attempt,
                of,
                delay,
            } => match statement {
                None => format!(
                    "lock timeout applying {version}: rolled back, retry {attempt} of {of} in {} ms",
                    delay.as_millis()
                ),
                Some(i) => format!(
                    "lock timeout on statement {} of {version}: it had no effect, retry {attempt} of {of} in {} ms",
                    i + 1,
                    delay.as_millis()
                ),
            },
            Event::Resumed { version, from, of } if backfills.contains(&version) => format!(
                "resuming {version}, a backfill interrupted earlier, at statement {} of {of}: the batches it committed stay",
                from + 1
            ),
            Event::Resumed { version, from, of } => match from {
                0 => format!(
                    "resuming {version}, interrupted earlier: none of its {of} statements was applied"
                ),
                1 => format!(
                    "resuming {version}, interrupted earlier: statement 1 of {of} was applied"
                ),
                n => format!(
                    "resuming {version}, interrupted earlier: statements 1 to {n} of {of} were applied"
                ),
            },
            Event::Batch {
                version,
                statement,
                of,
                rows,
                progress,
            } => {
                // A terminal sees every batch on one line; a log, each statement's end.
                let line = format!(
                    "backfill {version}: statement {} of {of}, {} batches, {} rows, {} rows/s",
                    statement + 1,
                    progress.batches,
                    progress.rows,
                    progress.rows_per_second()
                );
                if json {
                    return;
                }
                if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                    let end = if rows == 0 && statement + 1 == of {
                        "\n"
                    } else {
                        ""
                    };
                    eprint!("\rmigrate: {line}\x1b[K{end}");
                    return;
                }
                if rows != 0 {
                    return;
                }
                line
            }
            Event::DroppedInvalidIndex {
                version,
                statement,
                index,
            } => format!(
                "dropped the INVALID index {index} that statement {} of {version} left (CREATE INDEX CONCURRENTLY), to build it again",
                statement + 1
            ),
        };
        eprintln!("migrate: {line}");
    };
    let report = engine::up(driver.as_mut(), &session.discovery, &options, &mut on_event)?;
    let dir = session.options.migration_dir(args.db.dir.as_deref());
    if !json
        && let Some(note) = session
            .discovery
            .nothing_found(&dir, session.options.limits.layout)
    {
        eprintln!("migrate: {note}");
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let code = match &report.result {
        UpResult::Done { .. } | UpResult::DryRun { .. } => EXIT_OK,
        UpResult::Refused { .. } | UpResult::Rejected => EXIT_VIOLATIONS,
        // The migration needs attention (its statement failed): 1. The environment stopped
        // it (lock wait, time limit, connection, read-only, another deployer): 2.
        UpResult::Failed { error, .. } => match error.failure().map(|f| f.cause) {
            Some(Cause::Statement | Cause::Check | Cause::TransactionEnded) => EXIT_VIOLATIONS,
            _ => EXIT_ERROR,
        },
    };
    if json {
        let phase_of = |version: &u64| {
            session
                .discovery
                .files
                .iter()
                .find(|f| f.version == Some(*version))
                .map_or("expand", |f| f.phase().as_str())
        };
        ignore_broken_pipe(render_json(&mut out, &report, phase_of))?;
        return Ok(code);
    }
    if let Some(analysis) = &report.analysis
        && !shown
        && !analysis.diagnostics.is_empty()
    {
        ignore_broken_pipe(report::render(
            &mut out,
            Format::Human,
            analysis,
            &sources,
            stdout_color(),
        ))?;
    }
    let backfill = |version: u64| {
        session.discovery.files.iter().any(|f| {
            f.version == Some(version) && f.phase() == crate::source::directive::Phase::Backfill
        })
    };
    ignore_broken_pipe(render_human(&mut out, &report.result, backfill))?;
    if !report.contract_pending.is_empty() {
        let list: Vec<String> = report
            .contract_pending
            .iter()
            .map(|(v, d)| format!("{v} {d}"))
            .collect();
        ignore_broken_pipe(writeln!(
            out,
            "left pending for the post-deploy step: contract migration{} {}; run `migrate up --phase contract` once the new release serves all traffic",
            if list.len() == 1 { "" } else { "s" },
            list.join(", ")
        ))?;
    }
    Ok(code)
}

fn render_human(
    out: &mut impl Write,
    result: &UpResult,
    backfill: impl Fn(u64) -> bool,
) -> std::io::Result<()> {
    match result {
        UpResult::Done { handled, already } => {
            if handled.is_empty() {
                writeln!(out, "database is up to date ({already} migrations applied)")
            } else {
                let ms: u64 = handled.iter().filter_map(|h| h.ms).sum();
                writeln!(
                    out,
                    "{} migration{} applied in {ms} ms ({already} applied before)",
                    handled.len(),
                    if handled.len() == 1 { "" } else { "s" }
                )
            }
        }
        UpResult::DryRun { pending } => {
            for h in pending {
                let how = if h.phase == crate::source::directive::Phase::Backfill {
                    "in batches, each its own transaction, until each statement changes no row"
                } else if h.transactional {
                    "in a transaction"
                } else {
                    "statement by statement, outside a transaction"
                };
                writeln!(out, "would apply {} {} ({how}):", h.version, h.description)?;
                for line in h.sql.as_deref().unwrap_or("").lines() {
                    writeln!(out, "    {line}")?;
                }
            }
            writeln!(
                out,
                "dry run: {} pending migration{}, nothing applied; the check gate passed",
                pending.len(),
                if pending.len() == 1 { "" } else { "s" }
            )
        }
        UpResult::Refused { problems } => {
            for p in problems {
                writeln!(out, "error: {}", p.message())?;
                if let Some(diff) = &p.diff {
                    for line in diff.lines() {
                        writeln!(out, "    {line}")?;
                    }
                }
            }
            writeln!(out, "refused: nothing applied")
        }
        UpResult::Rejected => writeln!(
            out,
            "refused: the pending migrations have errors (above); nothing applied. Fix them, or add a reviewed `-- migrate:allow <rule>: <reason>`"
        ),
        UpResult::Failed {
            handled,
            version,
            description,
            file,
            line,
            transactional: _,
            error,
        } => {
            let at = line
                .map(|l| format!("{file}:{l}"))
                .unwrap_or_else(|| file.clone());
            writeln!(
                out,
                "failed {version} {description} at {at}: {}",
                error.message()
            )?;
            writeln!(out, "{}", next_step(*version, error, backfill(*version)))?;
            writeln!(
                out,
                "{} migration{} applied before the failure",
                handled.len(),
                if handled.len() == 1 { "" } else { "s" }
            )
        }
    }
}

/// What the failure left behind and what to do, worded by what happened and why: only a
/// failure of the migration's own statements says to fix the migration.
fn next_step(version: u64, error: &ApplyError, backfill: bool) -> String {
    match error {
        // Each batch committed or rolled back whole: what stays is whole batches, and running
        // the statement again skips them.
        ApplyError::Stopped { recorded: true, .. } if backfill => format!(
            "recorded as failed in the history: the batches before the failing one stay. Next step: fix the cause, then `migrate resolve {version} --rolled-back` and `migrate up`, which runs the backfill again (its statements' own conditions skip the rows already done)"
        ),
        ApplyError::RolledBack(failure) => {
            let why = match failure.cause {
                Cause::Statement | Cause::Check | Cause::TransactionEnded => {
                    "Fix the migration and run `migrate up` again".to_string()
                }
                Cause::LockTimeout => "Another session held a lock it needed for longer than lock_timeout, through every retry (settings lock_timeout, lock_retries): run `migrate up` again when the database is less busy".to_string(),
                Cause::Timeout => "It ran out of time (above): run `migrate up` again when the database is less busy, or raise the setting".to_string(),
                Cause::ReadOnly => "The database refuses writes (read-only): make it writable, or point migrate at a writable primary, and run `migrate up` again".to_string(),
                Cause::Connection => {
                    return format!(
                        "the connection was lost while applying {version}: it ran in one transaction, so it is either applied with its history row or not at all. Run `migrate up` again once the database is reachable; it applies {version} only if it is not recorded"
                    );
                }
            };
            format!("rolled back: nothing of {version} was applied. {why}")
        }
        ApplyError::Stopped {
            failure:
                Failure {
                    cause: Cause::TransactionEnded,
                    ..
                },
            recorded,
        } => format!(
            "{}: what the file committed stays. Next step: check what took effect, finish or undo it by hand, then `migrate resolve {version} --applied` or `--rolled-back`",
            if *recorded {
                "recorded as failed in the history"
            } else {
                "the failure could not be recorded"
            }
        ),
        ApplyError::Stopped {
            failure:
                Failure {
                    cause: Cause::Connection,
                    ..
                },
            ..
        } => format!(
            "the connection was lost while {version} ran outside a transaction: its history row still says running. Run `migrate up` again once the database is reachable: it resumes {version} where the history and the catalog show it stopped, or says why it cannot"
        ),
        ApplyError::Stopped { recorded: true, .. } => format!(
            "recorded as failed in the history: the statements before it stay applied. Next step: finish or undo them by hand, then `migrate resolve {version} --applied` or `--rolled-back`"
        ),
        ApplyError::Stopped {
            recorded: false, ..
        } => "the failure could not be recorded: check `migrate status` before running `migrate up` again".to_string(),
        ApplyError::Paused(_) => format!(
            "the batch was rolled back; the batches before it stay, and {version}'s history row stays `running` with its progress. It waited longer than the settings allow (above: lock_timeout through lock_retries, statement_timeout or lock_wait): run `migrate up` again when the database is less busy; it resumes {version} at this statement"
        ),
        ApplyError::Claimed { .. } => format!(
            "nothing of {version} was run by this deployer: see `migrate status`, and once no other `migrate up` is running, resolve it"
        ),
    }
}

fn handled_json(h: &Handled, result: &str) -> serde_json::Value {
    json!({
        "version": h.version,
        "description": h.description,
        "result": result,
        "execution_ms": h.ms,
        "transaction": h.transactional,
        "phase": h.phase.as_str(),
        "backfill": h.backfill,
        "sql": h.sql,
    })
}

fn render_json(
    out: &mut impl Write,
    report: &engine::UpReport,
    phase_of: impl Fn(&u64) -> &'static str,
) -> std::io::Result<()> {
    let diagnostics = report
        .analysis
        .as_ref()
        .map(report::json::diagnostics)
        .unwrap_or_default();
    let (status, migrations, problems, error) = match &report.result {
        UpResult::Done { handled, .. } => (
            if handled.is_empty() {
                "up-to-date"
            } else {
                "applied"
            },
            handled.iter().map(|h| handled_json(h, "applied")).collect(),
            Vec::new(),
            None,
        ),
        UpResult::DryRun { pending } => (
            "dry-run",
            pending
                .iter()
                .map(|h| handled_json(h, "would-apply"))
                .collect(),
            Vec::new(),
            None,
        ),
        UpResult::Refused { problems } => (
            "refused",
            Vec::new(),
            problems
                .iter()
                .map(|p| {
                    json!({
                        "version": p.version,
                        "description": p.description,
                        "state": p.state.as_str(),
                        "message": p.message(),
                        "diff": p.diff,
                    })
                })
                .collect(),
            None,
        ),
        UpResult::Rejected => ("rejected", Vec::new(), Vec::new(), None),
        UpResult::Failed {
            handled,
            version,
            description,
            transactional,
            error,
            ..
        } => {
            let mut migrations: Vec<serde_json::Value> =
                handled.iter().map(|h| handled_json(h, "applied")).collect();
            migrations.push(json!({
                "version": version,
                "description": description,
                "result": "failed",
                "execution_ms": null,
                "transaction": transactional,
                "phase": phase_of(version),
                "backfill": null,
                "sql": null,
            }));
            (
                "failed",
                migrations,
                Vec::new(),
                Some(error.message().to_string()),
            )
        }
    };
    let contract_pending: Vec<serde_json::Value> = report
        .contract_pending
        .iter()
        .map(|(version, description)| json!({"version": version, "description": description}))
        .collect();
    let value = json!({
        "status": status,
        "migrations": migrations,
        "contract_pending": contract_pending,
        "problems": problems,
        "diagnostics": diagnostics,
        "error": error,
    });
    serde_json::to_writer(&mut *out, &value).map_err(std::io::Error::other)?;
    writeln!(out)
}
