//! `migrate baseline VERSION`: adopt an existing database by recording every migration up to
//! VERSION as applied without running it.

use std::io::Write;

use crate::cli::database::{DbArgs, Session, on_lock_event};
use crate::cli::{EXIT_OK, EXIT_VIOLATIONS, ignore_broken_pipe, migrations};
use crate::engine::{self, RecordError};

/// Arguments of `migrate baseline`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The newest migration the database's schema already contains (0: none of them; the
    /// tables there belong to something else)
    #[arg(
        value_name = "VERSION",
        required_unless_present = "from",
        conflicts_with = "from"
    )]
    pub version: Option<u64>,
    /// Adopt the history another tool kept in this database: record exactly the migrations it
    /// applied (their checksums compared where it kept them)
    #[arg(long, value_name = "TOOL", value_enum)]
    pub from: Option<crate::history::adopt::Tool>,
    /// That tool's history table [default: the tool's own name for it]
    #[arg(long, value_name = "TABLE", requires = "from")]
    pub table: Option<String>,
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value = "human")]
    pub format: crate::cli::HumanOrJson,
    #[command(flatten)]
    pub db: DbArgs,
}

/// Records the baseline (see `engine::baseline`).
pub fn run(args: Args) -> anyhow::Result<u8> {
    let session = Session::load(&args.db)?;
    let mut driver = session.connect_existing()?;
    if let Some(tool) = args.from {
        let json = args.format == crate::cli::HumanOrJson::Json;
        let recorded = refusal(
            json,
            engine::adopt(
                driver.as_mut(),
                &session.discovery,
                tool,
                args.table.as_deref(),
                &session.options.settings,
                &mut on_lock_event,
            ),
        )?;
        let Some(recorded) = recorded else {
            return Ok(EXIT_VIOLATIONS);
        };
        let pending = session.discovery.files.len() - recorded.len();
        if json {
            let value = serde_json::json!({
                "from": tool.name(),
                "recorded": recorded,
                "pending": pending,
            });
            ignore_broken_pipe(writeln!(std::io::stdout(), "{value}"))?;
            return Ok(EXIT_OK);
        }
        ignore_broken_pipe(writeln!(
            std::io::stdout(),
            "baseline from {}: {} recorded as applied without running them{}; {pending} left for `migrate up`",
            tool.name(),
            migrations(recorded.len()),
            recorded
                .last()
                .map(|v| format!(" (newest {v})"))
                .unwrap_or_default()
        ))?;
        return Ok(EXIT_OK);
    }
    let version = args.version.unwrap_or(0);
    let json = args.format == crate::cli::HumanOrJson::Json;
    let count = refusal(
        json,
        engine::baseline(
            driver.as_mut(),
            &session.discovery,
            version,
            &session.options.settings,
            &mut on_lock_event,
        ),
    )?;
    let Some(count) = count else {
        return Ok(EXIT_VIOLATIONS);
    };
    if json {
        let value = serde_json::json!({"from": null, "version": version, "count": count});
        ignore_broken_pipe(writeln!(std::io::stdout(), "{value}"))?;
        return Ok(EXIT_OK);
    }
    ignore_broken_pipe(writeln!(
        std::io::stdout(),
        "baseline {version}: {} recorded as applied without running them",
        migrations(count)
    ))?;
    Ok(EXIT_OK)
}

/// A refusal (the history there differs from the files, or ours exists already) is said on
/// stderr and becomes `None` (exit 1, as `up`'s refusals); what stops the command from
/// running (connection, lock wait, no such table) stays an error (exit 2).
fn refusal<T>(json: bool, result: Result<T, RecordError>) -> anyhow::Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(
            e @ (RecordError::Adopt(_) | RecordError::HasHistory(_) | RecordError::NoFile { .. }),
        ) => {
            let message = crate::db::scrub(&e.to_string());
            eprintln!("migrate: {message}");
            if json {
                let value = crate::cli::error_object(&message, EXIT_VIOLATIONS);
                ignore_broken_pipe(writeln!(std::io::stdout(), "{value}"))?;
            }
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}
