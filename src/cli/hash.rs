//! `migrate hash`: write `migrate.sum` beside the migrations after review.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context as _;

use crate::cli::{EXIT_OK, HumanOrJson, ignore_broken_pipe};
use crate::source::{self, sum};

/// Arguments of `migrate hash`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Migration directory [default: `dir` in migrate.toml, else `migrations`]
    #[arg(long, short = 'd', value_name = "DIR")]
    pub dir: Option<PathBuf>,
    #[command(flatten)]
    pub read: crate::cli::ReadArgs,
    /// Config file [default: migrate.toml found from the working directory upwards]
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value = "human")]
    pub format: HumanOrJson,
}

/// Writes `migrate.sum` for the migrations of the directory.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let options = args.read.load(args.config.as_deref())?;
    let dir = options.migration_dir(args.dir.as_deref());
    let discovery = source::discover(&dir, &options.limits).context("cannot list migrations")?;
    // A file the sum would leave out (its version taken by another) is not signed off.
    let duplicates: Vec<String> = discovery
        .problems
        .iter()
        .filter_map(|p| match p {
            source::FileProblem::DuplicateVersion {
                file,
                kept,
                version,
            } => Some(format!(
                "version {version} is used by both {kept} and {file}"
            )),
            _ => None,
        })
        .collect();
    if !duplicates.is_empty() {
        let message = format!(
            "migrate.sum not written: {} (rename one: `migrate check` lists every problem)",
            duplicates.join("; ")
        );
        if args.format == HumanOrJson::Json {
            let value = crate::cli::error_object(&message, crate::cli::EXIT_VIOLATIONS);
            ignore_broken_pipe(writeln!(std::io::stdout(), "{value}"))?;
        }
        eprintln!("migrate: {message}");
        return Ok(crate::cli::EXIT_VIOLATIONS);
    }
    let path = dir.join(sum::FILE_NAME);
    std::fs::write(&path, sum::render(&discovery.files))
        .with_context(|| format!("cannot write {}", path.display()))?;
    let shown = source::display_path(&path);
    let count = discovery.files.len();
    let line = match args.format {
        HumanOrJson::Json => serde_json::json!({"file": shown, "migrations": count}).to_string(),
        HumanOrJson::Human => format!("wrote {shown} ({})", crate::cli::migrations(count)),
    };
    ignore_broken_pipe(writeln!(std::io::stdout(), "{line}"))?;
    Ok(EXIT_OK)
}
