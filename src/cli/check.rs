//! `migrate check`: analyse the migration directory, the files given, or (with `--base`) the
//! migrations added since a git ref, and report.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::analyze::schema::Release;
use crate::analyze::{self, Options, Unit};
use crate::cli::{EXIT_OK, EXIT_VIOLATIONS, ignore_broken_pipe, stdout_color};
use crate::config;
use crate::dialect::Dialect;
use crate::report::{self, Format};
use crate::source::{self, FileName, FileProblem, SourceFile, git};

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
    /// Check only the migrations added since the merge-base with this git ref (one release);
    /// edits and deletions of older migrations are errors
    #[arg(long, value_name = "REF", conflicts_with = "files")]
    pub base: Option<String>,
    /// In human format, do not add GitHub annotations when GITHUB_ACTIONS=true
    #[arg(long)]
    pub no_annotations: bool,
    /// Check these files: alone as the whole history, or with --dir against that history
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

fn parse_dialect(s: &str) -> Result<Dialect, String> {
    s.parse()
}

/// One file to analyse: its release and whether it is under test.
struct Input {
    file: SourceFile,
    release: Release,
    lint: bool,
}

/// The files to analyse, plus the directory's problems.
#[derive(Default)]
struct Inputs {
    entries: Vec<Input>,
    problems: Vec<FileProblem>,
}

impl Inputs {
    fn push(&mut self, file: SourceFile, release: Release, lint: bool) {
        self.entries.push(Input {
            file,
            release,
            lint,
        });
    }

    /// Orders the files by version (files without one keep their place, at the end).
    fn sort_by_version(&mut self) {
        self.entries
            .sort_by_key(|e| (e.file.version.is_none(), e.file.version));
    }

    fn units(&self) -> Vec<Unit<'_>> {
        self.entries
            .iter()
            .map(|e| Unit {
                file: &e.file,
                release: e.release,
                lint: e.lint,
            })
            .collect()
    }
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
    let dir = loaded.migration_dir(args.dir.as_deref());
    let inputs = if let Some(reference) = &args.base {
        since_base(&dir, reference)?
    } else if args.files.is_empty() {
        whole_directory(&dir)?
    } else if args.dir.is_some() {
        files_against_directory(&dir, &args.files)?
    } else {
        files_alone(&args.files)?
    };
    let analysis = analyze::analyze(&inputs.units(), &inputs.problems, &options);
    let sources: Vec<&SourceFile> = inputs.entries.iter().map(|e| &e.file).collect();
    let format = match args.format {
        FormatArg::Human => Format::Human,
        FormatArg::Json => Format::Json,
        FormatArg::Sarif => Format::Sarif,
        FormatArg::Github => Format::Github,
        FormatArg::Gitlab => Format::Gitlab,
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
    let on_github = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
    if format == Format::Human && on_github && !args.no_annotations {
        ignore_broken_pipe(report::github::render(&mut out, &analysis))?;
    }
    ignore_broken_pipe(std::io::Write::flush(&mut out))?;
    Ok(if analysis.has_errors() {
        EXIT_VIOLATIONS
    } else {
        EXIT_OK
    })
}

/// Every migration of the directory, each its own release.
fn whole_directory(dir: &Path) -> anyhow::Result<Inputs> {
    let discovery = source::discover(dir).context("cannot list migrations")?;
    let mut inputs = Inputs {
        problems: discovery.problems,
        ..Inputs::default()
    };
    for (i, file) in discovery.files.into_iter().enumerate() {
        inputs.push(file, i as Release + 1, true);
    }
    Ok(inputs)
}

/// Exactly the files given, in the order given, as the whole history.
fn files_alone(paths: &[PathBuf]) -> anyhow::Result<Inputs> {
    let mut inputs = Inputs::default();
    for (i, path) in paths.iter().enumerate() {
        inputs.push(source::read_named(path)?, i as Release + 1, true);
    }
    Ok(inputs)
}

/// The files given, as one release, against the rest of the directory as history (editors and
/// pre-commit hooks lint just the files they touch, with their real context).
fn files_against_directory(dir: &Path, paths: &[PathBuf]) -> anyhow::Result<Inputs> {
    let discovery = source::discover(dir).context("cannot list migrations")?;
    let canonical = |p: &Path| std::fs::canonicalize(p).ok();
    let wanted: Vec<Option<PathBuf>> = paths.iter().map(|p| canonical(p)).collect();
    let under_test = discovery.files.len() as Release + paths.len() as Release + 1;
    let mut inputs = Inputs {
        problems: discovery.problems,
        ..Inputs::default()
    };
    let mut found = vec![false; paths.len()];
    for (i, file) in discovery.files.into_iter().enumerate() {
        let position =
            canonical(&file.path).and_then(|c| wanted.iter().position(|w| w.as_ref() == Some(&c)));
        match position {
            Some(p) => {
                found[p] = true;
                inputs.push(file, under_test, true);
            }
            None => inputs.push(file, i as Release + 1, false),
        }
    }
    for (path, _) in paths.iter().zip(&found).filter(|(_, found)| !**found) {
        inputs.push(source::read_named(path)?, under_test, true);
    }
    inputs.sort_by_version();
    Ok(inputs)
}

/// `--base REF`: migrations at the merge-base are history; the ones added since are one
/// release under test; edits and deletions of base migrations are errors.
fn since_base(dir: &Path, reference: &str) -> anyhow::Result<Inputs> {
    let base = git::merge_base(dir, reference)?;
    let current = source::discover(dir).context("cannot list migrations")?;
    let mut at_base: Vec<SourceFile> = Vec::new();
    for (name, bytes) in git::files_at(dir, &base)? {
        let FileName::Up {
            version,
            description,
        } = source::name::parse(&name)
        else {
            continue;
        };
        let path = dir.join(&name);
        let text = source::normalise(bytes).map_err(|at| {
            anyhow::anyhow!(
                "{} at {base} is not valid UTF-8 (line {})",
                path.display(),
                at.line + 1
            )
        })?;
        at_base.push(SourceFile {
            display: source::display_path(&path),
            path,
            version: Some(version),
            description,
            text,
        });
    }
    let name_of = |f: &SourceFile| f.path.file_name().map(|n| n.to_os_string());
    let mut inputs = Inputs {
        problems: current.problems,
        ..Inputs::default()
    };
    let under_test = (at_base.len() + current.files.len()) as Release + 1;
    for (i, old) in at_base.iter().enumerate() {
        match current.files.iter().find(|f| name_of(f) == name_of(old)) {
            None => inputs.problems.push(FileProblem::DeletedSinceBase {
                file: old.display.clone(),
            }),
            Some(now) if now.text != old.text => {
                inputs.problems.push(FileProblem::EditedSinceBase {
                    file: now.display.clone(),
                    diff: crate::history::diff(&old.text, &now.text, &now.display, "base"),
                })
            }
            Some(_) => {}
        }
        inputs.push(old.clone(), i as Release + 1, false);
    }
    for file in current.files {
        if !at_base.iter().any(|old| name_of(old) == name_of(&file)) {
            inputs.push(file, under_test, true);
        }
    }
    if inputs.entries.is_empty() && !dir.is_dir() {
        bail!("migration directory {} does not exist", dir.display());
    }
    inputs.sort_by_version();
    Ok(inputs)
}
