//! `migrate check`: analyse the migration directory (or the files given) and report.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::analyze::{self, Options, Unit};
use crate::cli::{EXIT_OK, EXIT_VIOLATIONS, ignore_broken_pipe, stdout_color};
use crate::config;
use crate::dialect::Dialect;
use crate::report::{self, Format};
use crate::source::{self, SourceFile};

/// Output format names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// Compiler-style text.
    Human,
    /// One JSON object.
    Json,
}

/// Arguments of `migrate check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Migration directory [default: `dir` in migrate.toml, else `migrations`]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// SQL dialect [default: `dialect` in migrate.toml, else postgres]
    #[arg(long, value_name = "DIALECT", value_parser = parse_dialect)]
    pub dialect: Option<Dialect>,
    /// Output format
    #[arg(long, value_enum, default_value = "human")]
    pub format: FormatArg,
    /// Treat statements that cannot be parsed as errors
    #[arg(long)]
    pub strict: bool,
    /// Config file [default: migrate.toml found from the working directory upwards]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Check exactly these files, in this order, as the whole history
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

fn parse_dialect(s: &str) -> Result<Dialect, String> {
    s.parse()
}

/// Runs the check and returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let loaded = config::load(args.config.as_deref())?;
    let cfg = &loaded.config;
    let options = Options {
        dialect: args.dialect.or(cfg.dialect).unwrap_or_default(),
        pg_version: cfg.pg_version.unwrap_or(15),
        strict: args.strict,
        levels: cfg.rules.iter().map(|(k, v)| (k.clone(), *v)).collect(),
    };
    let (files, problems) = if args.files.is_empty() {
        let dir = match &args.dir {
            Some(dir) => dir.clone(),
            None => cfg
                .dir
                .as_deref()
                .map(|d| loaded.resolve(d))
                .unwrap_or_else(|| PathBuf::from("migrations")),
        };
        let discovery = source::discover(&dir).context("cannot list migrations")?;
        (discovery.files, discovery.problems)
    } else {
        let files = args
            .files
            .iter()
            .map(|p| source::read_named(p))
            .collect::<Result<Vec<SourceFile>, _>>()?;
        (files, Vec::new())
    };
    let units = Unit::each_own_release(&files);
    let analysis = analyze::analyze(&units, &problems, &options);
    let sources: Vec<&SourceFile> = files.iter().collect();
    let format = match args.format {
        FormatArg::Human => Format::Human,
        FormatArg::Json => Format::Json,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    ignore_broken_pipe(report::render(
        &mut out,
        format,
        &analysis,
        &sources,
        stdout_color(),
    ))?;
    ignore_broken_pipe(std::io::Write::flush(&mut out))?;
    Ok(if analysis.has_errors() {
        EXIT_VIOLATIONS
    } else {
        EXIT_OK
    })
}
