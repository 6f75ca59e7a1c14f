//! `migrate new DESCRIPTION`: creates `<UTC yyyymmddHHMMSS>_<slug>.sql`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context as _, bail};

use crate::cli::{EXIT_OK, ignore_broken_pipe};
use crate::config;
use crate::source::layout::Layout;
use crate::source::{self, FileName};
use crate::utc::Utc;

/// Arguments of `migrate new`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What the migration does, e.g. "add email to users"
    #[arg(value_name = "DESCRIPTION")]
    pub description: String,
    /// Migration directory [default: `dir` in migrate.toml, else `migrations`]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Config file [default: migrate.toml found from the working directory upwards]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// How the files are written [default: `layout` in migrate.toml, else migrate]
    #[arg(long, value_name = "LAYOUT", value_enum)]
    pub layout: Option<Layout>,
}

/// Lowercase words joined by `_`.
pub fn slug(description: &str) -> String {
    description
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("_")
}

/// Creates the file and prints its path.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let options = config::load_with_layout(args.config.as_deref(), args.layout)?;
    let dir = options.migration_dir(args.dir.as_deref());
    let slug = slug(&args.description);
    if slug.is_empty() {
        bail!(
            "the description `{}` has no letters or digits",
            args.description
        );
    }
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create migration directory {}", dir.display()))?;
    // Versions only grow: never below an existing one, even with a skewed clock.
    let newest = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot read migration directory {}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(
            |e| match source::name::parse(&e.file_name().to_string_lossy()) {
                FileName::Up { version, .. } | FileName::Down { version } => Some(version),
                _ => None,
            },
        )
        .max();
    let version = match newest {
        Some(n) if n >= Utc::now().version() => n + 1,
        _ => Utc::now().version(),
    };
    let path = dir.join(format!("{version}_{slug}.sql"));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    // In a sectioned layout the statements go below the tool's Up marker.
    let sections = match options.limits.layout {
        Layout::Migrate => "",
        Layout::Goose => "-- +goose Up\n\n-- +goose Down\n",
        Layout::Dbmate => "-- migrate:up\n\n-- migrate:down\n",
        Layout::SqlMigrate => "-- +migrate Up\n\n-- +migrate Down\n",
    };
    writeln!(
        file,
        "-- {}\n-- Expand-only: the previous release keeps running against this schema (`migrate rule --list`).\n{sections}",
        args.description.trim()
    )
    .with_context(|| format!("cannot write {}", path.display()))?;
    ignore_broken_pipe(writeln!(
        std::io::stdout(),
        "{}",
        source::display_path(&path)
    ))?;
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs() {
        assert_eq!(super::slug("Add e-mail to Users!"), "add_e_mail_to_users");
        assert_eq!(super::slug("  "), "");
    }
}
