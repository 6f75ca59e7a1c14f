//! `migrate check`: analyse the migration directory, the files given, or (with `--base`) the
//! migrations added since a git ref, and report.

use std::path::PathBuf;

use anyhow::Context as _;

use crate::analyze;
use crate::cli::{EXIT_OK, EXIT_VIOLATIONS, ignore_broken_pipe, stdout_color};
use crate::dialect::Dialect;
use crate::report::{self, Format};
use crate::source::select;

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    /// Compiler-style text (plus GitHub annotations when GITHUB_ACTIONS=true)
    Human,
    /// One JSON object (docs/schemas/check.schema.json)
    Json,
    /// SARIF 2.1.0, for GitHub code scanning
    Sarif,
    /// GitHub Actions workflow commands (annotations)
    Github,
    /// GitLab Code Quality JSON
    Gitlab,
}

/// Arguments of `migrate check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Migration directory [default: `dir` in migrate.toml, else `migrations`]. With FILE
    /// arguments, the history the files are checked against
    #[arg(long, short = 'd', value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// SQL dialect [default: `dialect` in migrate.toml, else postgres]
    #[arg(long, value_name = "DIALECT", value_parser = parse_dialect)]
    pub dialect: Option<Dialect>,
    #[command(flatten)]
    pub read: crate::cli::ReadArgs,
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value = "human")]
    pub format: FormatArg,
    /// Treat statements that cannot be parsed as errors
    #[arg(long)]
    pub strict: bool,
    /// Config file [default: migrate.toml found from the working directory upwards]
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Check only the migrations added since the merge-base with this git ref (one release);
    /// edits and deletions of older migrations are errors
    #[arg(long, value_name = "REF", conflicts_with = "files")]
    pub base: Option<String>,
    /// In human format, do not add GitHub annotations when GITHUB_ACTIONS=true
    #[arg(long)]
    pub no_annotations: bool,
    /// The app's queries: a .sqlx directory, a pg_stat_statements export (.csv, .json) or a
    /// .sql file [repeatable; default: `app_queries` in migrate.toml]. A compatibility finding
    /// no query uses becomes a warning; one a query uses quotes it. With --base, the previous
    /// release's queries are read at the merge base
    #[arg(long, value_name = "PATH")]
    pub app_queries: Vec<PathBuf>,
    /// Prove it on a database: replay the history into a shadow database, prepare every
    /// query of the previous release (--app-queries), apply the release under test (with
    /// --base the new files, else the newest migration) and prepare them again. PostgreSQL: a
    /// throwaway server from the machine's initdb; SQLite: a temporary file; MySQL: needs
    /// --shadow-database
    #[arg(long, requires = "app_queries")]
    pub prove: bool,
    /// For --prove: a server where migrate may create (and drops) a scratch database, instead
    /// of a throwaway server
    #[arg(long, value_name = "URL", requires = "prove")]
    pub shadow_database: Option<String>,
    /// Check these files: alone as the whole history, or with --dir against that history
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Read one migration from standard input as if it were the file NAME of the directory
    /// (replacing NAME's text if it exists), judged against the rest of the directory (editors)
    #[arg(long, value_name = "NAME", conflicts_with_all = ["files", "base"])]
    pub stdin_filename: Option<PathBuf>,
}

fn parse_dialect(s: &str) -> Result<Dialect, String> {
    s.parse()
}

/// Runs the check and returns the exit code.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let config = args.read.load(args.config.as_deref())?;
    let dir = config.migration_dir(args.dir.as_deref());
    let limits = &config.limits;
    let selection = if let Some(name) = &args.stdin_filename {
        let text = crate::source::read_stream(name, std::io::stdin().lock(), limits)
            .context("cannot read standard input")?;
        select::text_against_directory(&dir, name, text, limits)?
    } else if let Some(reference) = &args.base {
        select::since_base(&dir, reference, limits)?
    } else if args.files.is_empty() {
        select::whole_directory(&dir, limits).context("cannot list migrations")?
    } else if args.dir.is_some() {
        select::files_against_directory(&dir, &args.files, limits)
            .context("cannot list migrations")?
    } else {
        select::files_alone(&args.files, limits)?
    };
    // The database URL's scheme (DATABASE_URL, else database_url), never connected to.
    let url = crate::cli::database::database_url(None, &config)
        .ok()
        .flatten();
    let url_dialect = url
        .as_ref()
        .and_then(|(u, _)| crate::db::Target::parse(u).ok())
        .map(|t| t.dialect);
    if let (Some(dialect), Some((_, whence))) = (url_dialect, &url) {
        crate::cli::database::refuse_contradiction(&config, dialect, &format!("from {whence}"))?;
    }
    // The flag, the config, what the directory declares (Prisma's migration_lock.toml), then
    // the database URL's scheme.
    let dialect = args
        .dialect
        .or(config.dialect)
        .or(selection.dialect)
        .or(url_dialect)
        .unwrap_or_default();
    if let Some(note) = &selection.nothing_found {
        eprintln!("migrate: {note}");
    }
    let mut options = config.analysis(dialect, args.strict);
    options.queries = crate::cli::queries::load(
        &args.app_queries,
        &config,
        args.base.as_deref(),
        &dir,
        dialect,
    )?;
    if args.prove && !matches!(args.format, FormatArg::Human | FormatArg::Json) {
        anyhow::bail!("--prove reports in the human or json format only");
    }
    let units = selection.units();
    let mut analysis = analyze::analyze(&units, &selection.problems, &options);
    analysis.layout = selection.layout.clone();
    let proof = if args.prove {
        let Some(old) = options.queries.as_ref().and_then(|q| q.old.as_ref()) else {
            anyhow::bail!(
                "--prove needs the previous release's queries, and they are unknown (see the note above)"
            );
        };
        let shadow = crate::prove::server::open(dialect, args.shadow_database.as_deref())?;
        Some(crate::prove::prove(&units, &analysis, old, &shadow)?)
    } else {
        None
    };
    let sources = selection.files();
    let format = match args.format {
        FormatArg::Human => Format::Human,
        FormatArg::Json => Format::Json,
        FormatArg::Sarif => Format::Sarif,
        FormatArg::Github => Format::Github,
        FormatArg::Gitlab => Format::Gitlab,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match (&proof, format) {
        (Some(proof), Format::Json) => ignore_broken_pipe(report::json::render_with(
            &mut out,
            &analysis,
            Some(report::proof::json(proof)),
        ))?,
        _ => ignore_broken_pipe(report::render(
            &mut out,
            format,
            &analysis,
            &sources,
            stdout_color(),
        ))?,
    }
    if let (Some(proof), Format::Human) = (&proof, format) {
        ignore_broken_pipe(report::proof::human(&mut out, proof, stdout_color()))?;
    }
    let on_github = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
    if format == Format::Human && on_github && !args.no_annotations {
        ignore_broken_pipe(report::github::render(&mut out, &analysis))?;
    }
    ignore_broken_pipe(std::io::Write::flush(&mut out))?;
    let broken = proof.as_ref().is_some_and(|p| p.broken() > 0);
    Ok(if analysis.has_errors() || broken {
        EXIT_VIOLATIONS
    } else {
        EXIT_OK
    })
}
