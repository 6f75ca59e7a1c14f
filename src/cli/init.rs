//! `migrate init`: looks at a project's migration directory and writes a `migrate.toml` for it
//! (layout, dialect, directory, and `start_after` set to the newest migration, so the history
//! that was right at the time is replayed, not judged). Never overwrites; never asks.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::analyze;
use crate::cli::{EXIT_OK, ignore_broken_pipe, migrations};
use crate::dialect::Dialect;
use crate::source::layout::Layout;
use crate::source::{self, Limits, select::Unit};

/// Arguments of `migrate init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Migration directory [default: the first of migrations, db/migrations, prisma/migrations,
    /// src/main/resources/db/migration, db/migrate that exists]
    #[arg(long, short = 'd', value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// SQL dialect [default: Prisma's migration_lock.toml, else DATABASE_URL's scheme, else the
    /// dialect under which the most statements parse]
    #[arg(long, value_name = "DIALECT", value_parser = |s: &str| s.parse::<Dialect>())]
    pub dialect: Option<Dialect>,
    /// The file to write
    #[arg(long, value_name = "FILE", default_value = crate::config::FILE_NAME)]
    pub config: PathBuf,
    /// How the files are written [default: detected from them]
    #[arg(long, value_name = "LAYOUT", value_enum)]
    pub layout: Option<source::layout::Layout>,
}

/// Where projects keep their migrations, most common first.
const CANDIDATES: [&str; 5] = [
    "migrations",
    "db/migrations",
    "prisma/migrations",
    "src/main/resources/db/migration",
    "db/migrate",
];

/// Writes the config and says what it found.
pub fn run(args: Args) -> anyhow::Result<u8> {
    if args.config.exists() {
        bail!(
            "{} already exists; `migrate init` does not overwrite it (remove it, or pass --config to write another file)",
            args.config.display()
        );
    }
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => CANDIDATES
            .iter()
            .map(PathBuf::from)
            .find(|d| d.is_dir())
            .with_context(|| {
                format!(
                    "no migration directory found (looked for {}); pass --dir",
                    CANDIDATES.join(", ")
                )
            })?,
    };
    let limits = Limits {
        layout: args.layout.unwrap_or_default(),
        ..Limits::default()
    };
    let discovery = source::discover(&dir, &limits)
        .with_context(|| format!("cannot read the migrations in {}", dir.display()))?;
    let used = discovery.layout_used();
    if discovery.files.is_empty()
        && let Some(source::FileProblem::InvalidName { file, reason }) = discovery
            .problems
            .iter()
            .find(|p| matches!(p, source::FileProblem::InvalidName { .. }))
    {
        bail!(
            "no file in {} is a migration of the {} layout (e.g. {file}: {reason}); nothing written: pass the layout the files follow, or none to detect it",
            source::display_path(&dir),
            used.layout.name()
        );
    }
    let (dialect, how) = match (args.dialect, discovery.dialect) {
        (Some(d), _) => (d, "--dialect".to_string()),
        (None, Some(d)) => (d, "Prisma's migration_lock.toml".to_string()),
        (None, None) => match url_dialect() {
            Some(d) => (d, "DATABASE_URL".to_string()),
            None => parsed_best(&discovery.files),
        },
    };
    // The newest versioned migration (Flyway's repeatable ones come last but have no version).
    let newest = discovery
        .files
        .iter()
        .rev()
        .find(|f| !f.repeatable)
        .and_then(|f| f.version);
    let mut text = String::from(
        "# Written by `migrate init`. Every setting: docs/up.md (Settings) and docs/check.md.\n",
    );
    text.push_str(&format!(
        "dir = {}\n",
        toml_string(&dir_for(&args.config, &dir))
    ));
    text.push_str(&format!("layout = \"{}\"\n", used.layout.name()));
    text.push_str(&format!("dialect = \"{}\"\n", dialect.name()));
    if let Some(version) = newest {
        text.push_str(&format!(
            "# The newest migration when `migrate init` ran: it and the older ones are replayed\n\
             # into the schema model but not judged (they were right at the time).\n\
             start_after = {version}\n"
        ));
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&args.config)
        .with_context(|| format!("cannot create {}", args.config.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", args.config.display()))?;

    let mut out = String::new();
    out.push_str(&format!(
        "found {} in {}\n",
        migrations(discovery.files.len()),
        source::display_path(&dir)
    ));
    out.push_str(&format!(
        "layout {}{}\n",
        used.layout.name(),
        match &used.sign {
            _ if args.layout.is_some() => " (--layout)".to_string(),
            Some(sign) => format!(" (from {sign})"),
            None => " (no other tool's markers or names)".to_string(),
        }
    ));
    out.push_str(&format!("dialect {} (from {how})\n", dialect.name()));
    match newest {
        Some(v) => {
            let repeatable = discovery.files.iter().filter(|f| f.repeatable).count();
            out.push_str(&format!(
                "start_after {v}: the {} up to it are history, not judged{}\n",
                migrations(discovery.files.len() - repeatable),
                if repeatable > 0 {
                    " (repeatable migrations are judged whenever they change)"
                } else {
                    ""
                }
            ))
        }
        None => out.push_str("no migrations yet: nothing to adopt\n"),
    }
    out.push_str(&format!(
        "wrote {}\n\nnext:\n  migrate check\n",
        args.config.display()
    ));
    let from = from_tool(used.layout);
    match (newest, from) {
        (Some(_), Some(tool)) => out.push_str(&format!(
            "  migrate baseline --from {tool}   # once per database {tool} manages: records what it applied\n"
        )),
        (Some(v), None) => out.push_str(&format!(
            "  migrate baseline {v}   # once per existing database whose schema has these migrations\n"
        )),
        (None, _) => {}
    }
    out.push_str("  migrate up\n");
    ignore_broken_pipe(std::io::stdout().write_all(out.as_bytes()))?;
    Ok(EXIT_OK)
}

/// The tool whose history `baseline --from` reads for a layout.
fn from_tool(layout: Layout) -> Option<&'static str> {
    match layout {
        Layout::Migrate | Layout::Auto => None,
        other => Some(other.name()),
    }
}

/// The dialect of `DATABASE_URL`, when it is set and parses.
fn url_dialect() -> Option<Dialect> {
    let url = crate::env::var("DATABASE_URL").ok()??;
    crate::db::Target::parse(&url).ok().map(|t| t.dialect)
}

/// The dialect under which the fewest statements fail to parse (PostgreSQL on a tie).
fn parsed_best(files: &[source::SourceFile]) -> (Dialect, String) {
    let units: Vec<Unit<'_>> = Unit::each_own_release(files);
    let mut best: Option<(usize, Dialect)> = None;
    let mut counts = Vec::new();
    for dialect in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
        let options = analyze::Options {
            dialect,
            ..analyze::Options::default()
        };
        let unparsed = analyze::analyze(&units, &[], &options).summary.unparsed;
        counts.push(format!("{} {unparsed}", dialect.name()));
        if best.is_none_or(|(n, _)| unparsed < n) {
            best = Some((unparsed, dialect));
        }
    }
    let dialect = best.map_or(Dialect::Postgres, |(_, d)| d);
    (
        dialect,
        format!(
            "the statements: unparsed under each dialect: {}",
            counts.join(", ")
        ),
    )
}

/// The directory as the config file will see it: relative to the file's folder when the file
/// is written in the working directory, else absolute.
fn dir_for(config: &Path, dir: &Path) -> String {
    let here = config
        .parent()
        .is_none_or(|p| p.as_os_str().is_empty() || p == Path::new("."));
    if here || dir.is_absolute() {
        dir.display().to_string()
    } else {
        std::fs::canonicalize(dir)
            .unwrap_or_else(|_| dir.to_path_buf())
            .display()
            .to_string()
    }
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
