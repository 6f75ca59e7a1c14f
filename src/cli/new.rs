//! `migrate new DESCRIPTION`: creates `<UTC yyyymmddHHMMSS>_<slug>.sql`, or the next
//! migration in the directory's layout (Flyway's `V<n>__`, diesel's and Prisma's folders,
//! the sectioned tools' Up and Down markers); a directory numbered 1, 2, 3 gets the next
//! number, not a timestamp.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context as _, bail};

use crate::cli::{EXIT_OK, HumanOrJson, ignore_broken_pipe};
use crate::source;
use crate::source::layout::Layout;
use crate::utc::Utc;

/// Arguments of `migrate new`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What the migration does, e.g. "add email to users"
    #[arg(value_name = "DESCRIPTION")]
    pub description: String,
    /// Migration directory [default: `dir` in migrate.toml, else `migrations`]
    #[arg(long, short = 'd', value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Config file [default: migrate.toml found from the working directory upwards]
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub read: crate::cli::ReadArgs,
    /// A contract migration (`-- migrate:contract`): applied by `up --phase contract`, after
    /// the rollout
    #[arg(long, conflicts_with = "backfill")]
    pub contract: bool,
    /// A backfill migration (`-- migrate:backfill`): data changes `up` runs in batches
    #[arg(long)]
    pub backfill: bool,
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value = "human")]
    pub format: HumanOrJson,
}

/// Lowercase ASCII words joined by `_` (other letters transliterated), whole words up to
/// [`SLUG_MAX`] bytes so the file name stays well under file systems' 255.
pub fn slug(description: &str) -> String {
    let mut slug = String::new();
    for word in deunicode::deunicode(description)
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let word = word.to_ascii_lowercase();
        let needed = if slug.is_empty() { 0 } else { 1 } + word.len();
        if slug.len() + needed > SLUG_MAX {
            if slug.is_empty() {
                slug = word[..SLUG_MAX].to_string();
            }
            break;
        }
        if !slug.is_empty() {
            slug.push('_');
        }
        slug.push_str(&word);
    }
    slug
}

/// The longest slug `new` writes, in bytes.
const SLUG_MAX: usize = 80;

/// Creates the file and prints its path.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let options = args.read.load(args.config.as_deref())?;
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
    let discovery = source::discover(&dir, &options.limits)
        .with_context(|| format!("cannot list migrations in {}", dir.display()))?;
    let layout = discovery.layout;
    // Versions only grow: never below an existing one, even with a skewed clock; a directory
    // numbered 1, 2, 3 (not by timestamps) gets the next number.
    let newest = discovery
        .files
        .iter()
        .filter(|f| !f.repeatable)
        .filter_map(|f| f.version)
        .max();
    let now = Utc::now().version();
    let version = match newest {
        Some(n) if n >= now || n < 10_000_000_000 => n + 1,
        _ => now,
    };
    let stamp = version.to_string();
    let diesel_stamp = if stamp.len() == 14 {
        format!(
            "{}-{}-{}-{}",
            &stamp[..4],
            &stamp[4..6],
            &stamp[6..8],
            &stamp[8..]
        )
    } else {
        stamp.clone()
    };
    let (name, down) = match layout {
        Layout::Flyway => (format!("V{stamp}__{slug}.sql"), None),
        Layout::GolangMigrate => (
            format!("{stamp}_{slug}.up.sql"),
            Some(format!("{stamp}_{slug}.down.sql")),
        ),
        Layout::Diesel => (
            format!("{diesel_stamp}_{slug}/up.sql"),
            Some(format!("{diesel_stamp}_{slug}/down.sql")),
        ),
        Layout::Prisma => (format!("{stamp}_{slug}/migration.sql"), None),
        _ => (format!("{stamp}_{slug}.sql"), None),
    };
    let path = dir.join(&name);
    if let Some(folder) = path.parent().filter(|p| *p != dir) {
        std::fs::create_dir(folder)
            .with_context(|| format!("cannot create {}", folder.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    let (directive, guidance) = if args.contract {
        (
            "-- migrate:contract\n",
            "-- Contract: runs after the rollout (`migrate up --phase contract`); drop, rename and tighten only what the previous release used.",
        )
    } else if args.backfill {
        (
            "-- migrate:backfill\n",
            "-- Backfill: only UPDATE, INSERT ... SELECT and DELETE, each a bounded batch its own change takes rows out of; `migrate up` repeats each until it changes no row.",
        )
    } else {
        (
            "",
            "-- Expand-only: the previous release keeps running against this schema (`migrate rule --list`).",
        )
    };
    // In a sectioned layout the statements (and the phase directive, which must lead the
    // text `migrate` reads) go below the tool's Up marker.
    let (up, down_marker) = match layout {
        Layout::Goose => ("-- +goose Up\n", "\n-- +goose Down\n"),
        Layout::Dbmate => ("-- migrate:up\n", "\n-- migrate:down\n"),
        Layout::SqlMigrate => ("-- +migrate Up\n", "\n-- +migrate Down\n"),
        _ => ("", ""),
    };
    let text = if up.is_empty() {
        format!("{directive}-- {}\n{guidance}\n", args.description.trim())
    } else {
        format!(
            "-- {}\n{guidance}\n{up}{directive}{down_marker}",
            args.description.trim()
        )
    };
    writeln!(file, "{text}").with_context(|| format!("cannot write {}", path.display()))?;
    let down = down.map(|down| dir.join(down));
    if let Some(down) = &down {
        std::fs::write(down, "-- rollback; `migrate` never runs this file\n")
            .with_context(|| format!("cannot write {}", down.display()))?;
    }
    let line = match args.format {
        HumanOrJson::Json => serde_json::json!({
            "file": source::display_path(&path),
            "down_file": down.as_deref().map(source::display_path),
            "version": version,
            "layout": layout.name(),
            "phase": if args.contract { "contract" } else if args.backfill { "backfill" } else { "expand" },
        })
        .to_string(),
        HumanOrJson::Human => source::display_path(&path),
    };
    ignore_broken_pipe(writeln!(std::io::stdout(), "{line}"))?;
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs() {
        assert_eq!(super::slug("Add e-mail to Users!"), "add_e_mail_to_users");
        assert_eq!(super::slug("  "), "");
        assert_eq!(super::slug("Ünïcode straße"), "unicode_strasse");
        assert_eq!(super::slug("Добавить users"), "dobavit_users");
        let long = super::slug(&"word ".repeat(100));
        assert!(long.len() <= 80 && long.ends_with("word"), "{long}");
        assert_eq!(super::slug(&"x".repeat(300)).len(), 80);
    }
}
