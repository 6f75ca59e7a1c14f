//! What every database subcommand shares: `--dir`, `--database`, `--config`; finding the URL
//! (flag, then `DATABASE_URL`, then `database_url`), the migrations and the settings.

use std::path::PathBuf;

use anyhow::{Context as _, anyhow};

use crate::analyze;
use crate::config::Options;
use crate::db::{self, Driver, Target};
use crate::engine::Event;
use crate::source::{self, Discovery};

/// Arguments shared by `up`, `status`, `verify`, `resolve` and `baseline`.
#[derive(Debug, Clone, clap::Args)]
pub struct DbArgs {
    /// Migration directory [default: `dir` in migrate.toml, else `migrations`]
    #[arg(long, short = 'd', value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Database URL [default: $DATABASE_URL, else `database_url` in migrate.toml]
    #[arg(long, short = 'D', visible_alias = "database-url", value_name = "URL")]
    pub database: Option<String>,
    #[command(flatten)]
    pub read: crate::cli::ReadArgs,
    /// Config file [default: migrate.toml found from the working directory upwards]
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Everything a database subcommand needs, loaded and validated.
pub struct Session {
    /// The settings.
    pub options: Options,
    /// The database.
    pub target: Target,
    /// The migration directory's files.
    pub discovery: Discovery,
}

/// The database URL and where it came from: `--database`, else `DATABASE_URL` (the
/// process's, then `.env`'s), else `database_url` (`MIGRATE_DATABASE_URL` or migrate.toml).
pub fn database_url(
    flag: Option<&str>,
    options: &crate::config::Options,
) -> anyhow::Result<Option<(String, &'static str)>> {
    if let Some(url) = flag {
        return Ok(Some((url.to_string(), "--database")));
    }
    let from_env = crate::env::var("DATABASE_URL").map_err(|_| {
        anyhow!(
            "DATABASE_URL is not valid UTF-8: set it to a database URL (postgres://, mysql://, sqlite://)"
        )
    })?;
    Ok(match from_env.filter(|u| !u.is_empty()) {
        Some(url) => Some((url, "DATABASE_URL")),
        None => options.database_url.clone().map(|u| (u, "database_url")),
    })
}

/// A `dialect` setting that contradicts the database URL's scheme (`url`, `whence` saying
/// where the URL came from) is an error naming both.
pub fn refuse_contradiction(
    options: &crate::config::Options,
    url: crate::dialect::Dialect,
    whence: &str,
) -> anyhow::Result<()> {
    match options.dialect {
        Some(set) if set != url => anyhow::bail!(
            "dialect = \"{}\" in {} contradicts the database URL's scheme ({}, {whence}): remove one, or make them agree",
            set.name(),
            options
                .path
                .as_deref()
                .map_or("migrate.toml".to_string(), |p| p.display().to_string()),
            url.name()
        ),
        _ => Ok(()),
    }
}

impl Session {
    /// Loads config, migrations and the database URL; nothing touches the database yet.
    pub fn load(args: &DbArgs) -> anyhow::Result<Session> {
        let options = args.read.load(args.config.as_deref())?;
        let (url, _) = database_url(args.database.as_deref(), &options)?.ok_or_else(|| {
            anyhow!("no database: pass --database URL, set DATABASE_URL, or set database_url in migrate.toml")
        })?;
        let target = Target::parse(&url)?;
        refuse_contradiction(&options, target.dialect, &format!("in {}", target.redacted))?;
        // Fault injection for the tests, in debug builds only: a panic whose message holds
        // the raw URL, to prove the panic path scrubs the password.
        #[cfg(debug_assertions)]
        if std::env::var_os("MIGRATE_DEBUG_PANIC_WITH_URL").is_some() {
            panic!("injected panic while holding {url}");
        }
        let dir = options.migration_dir(args.dir.as_deref());
        let discovery =
            source::discover(&dir, &options.limits).context("cannot list migrations")?;
        Ok(Session {
            options,
            target,
            discovery,
        })
    }

    /// Connects to the database.
    pub fn connect(&self) -> anyhow::Result<Box<dyn Driver>> {
        Ok(db::connect(&self.target, &self.options.settings)?)
    }

    /// Connects for a command that records history of a database that must already exist
    /// (`resolve`, `baseline`): a SQLite file that does not exist is "no such database",
    /// not created.
    pub fn connect_existing(&self) -> anyhow::Result<Box<dyn Driver>> {
        self.refuse_missing_file(
            "resolve and baseline record the history of an existing database",
        )?;
        self.connect()
    }

    fn refuse_missing_file(&self, why: &str) -> anyhow::Result<()> {
        if self.target.dialect == crate::dialect::Dialect::Sqlite
            && let Some(file) = crate::db::missing_sqlite_file(&self.target)
        {
            anyhow::bail!(
                "no such database: {} does not exist ({}; {why}, `migrate up` creates it)",
                file.display(),
                self.target.redacted
            );
        }
        Ok(())
    }

    /// Connects for a command that only reads: a SQLite file that does not exist is "no such
    /// database", not created.
    pub fn connect_read_only(&self) -> anyhow::Result<Box<dyn Driver>> {
        self.refuse_missing_file("status, verify and up --dry-run only read")?;
        let settings = crate::db::Settings {
            read_only: true,
            ..self.options.settings.clone()
        };
        Ok(db::connect(&self.target, &settings)?)
    }

    /// Analysis options for the gate: the dialect follows the database.
    pub fn analysis_options(&self) -> analyze::Options {
        self.options.analysis(self.target.dialect, false)
    }
}

/// Tells the user, on stderr, what a command that only takes the lock is waiting for.
pub fn on_lock_event(event: Event) {
    if let Event::LockWaiting { holder } = event {
        eprintln!("migrate: waiting for the migration lock, held by {holder}");
    }
}
