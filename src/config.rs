//! `migrate.toml`: found by walking up from the working directory (or given with `--config`).
//! Unknown keys and rule names are errors that name them, so a typo never silently does
//! nothing.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::analyze::{self, Level, registry};
use crate::db::{Settings, TableName, parse_duration};
use crate::dialect::Dialect;
use crate::error::ConfigError;
use crate::source::Limits;

/// The file name looked for.
pub const FILE_NAME: &str = "migrate.toml";

/// The settings of `migrate.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Migration directory, relative to the config file.
    pub dir: Option<PathBuf>,
    /// SQL dialect.
    pub dialect: Option<Dialect>,
    /// PostgreSQL major version the rules assume.
    pub pg_version: Option<u32>,
    /// Database URL (after `--database` and `DATABASE_URL`).
    pub database_url: Option<String>,
    /// History table name, optionally schema-qualified.
    pub history_table: Option<String>,
    /// How long to wait for another deployer's lock (`10m`).
    pub lock_wait: Option<String>,
    /// Lock timeout of migration statements (`5s`).
    pub lock_timeout: Option<String>,
    /// Statement timeout of migration statements (none by default).
    pub statement_timeout: Option<String>,
    /// Retries of a transactional migration that hit its lock timeout (5).
    pub lock_retries: Option<u32>,
    /// Pause between two batches of a backfill migration (`0ms`).
    pub backfill_pause: Option<String>,
    /// Largest migration file read (`16MiB`; bytes, or with KiB/MiB/GiB).
    pub max_file_size: Option<toml::Value>,
    /// How the migration files are written (`auto`, `migrate`, `sqlx`, `flyway`, ...).
    pub layout: Option<crate::source::layout::Layout>,
    /// Replay the migrations up to this version without judging them (adoption): a number,
    /// or a layout's version as text (`"1.1"`, `"2019-02-27-000000"`).
    pub start_after: Option<toml::Value>,
    /// The app's queries (a `.sqlx` directory, a `pg_stat_statements` export, a `.sql`
    /// file), relative to the config file.
    pub app_queries: Option<Vec<PathBuf>>,
    /// Per-rule levels: `"error"`, `"warning"` or `"off"`.
    #[serde(default)]
    pub rules: BTreeMap<String, Level>,
}

/// Every setting, parsed once into typed values. Each default is said once: here for the
/// directory, in [`Settings::default`] for the engine, in [`analyze::Options::default`] for
/// the analysis.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The config file, when one was found.
    pub path: Option<PathBuf>,
    /// Migration directory from the file, or the default beside it (already relative to the
    /// file's directory).
    pub dir: Option<PathBuf>,
    /// SQL dialect for `check` (the database's URL decides for `up`).
    pub dialect: Option<Dialect>,
    /// PostgreSQL major version the rules assume.
    pub pg_version: u32,
    /// Database URL (after `--database` and `DATABASE_URL`).
    pub database_url: Option<String>,
    /// Engine settings.
    pub settings: Settings,
    /// Per-rule levels, by rule name.
    pub levels: HashMap<String, Level>,
    /// What is read.
    pub limits: Limits,
    /// The app's queries (`app_queries`), already relative to the config file's directory.
    pub app_queries: Vec<PathBuf>,
}

/// The migration directory when neither the flag nor the config names one.
pub const DEFAULT_DIR: &str = "migrations";

impl Options {
    /// Validates and types `config`, read from `path`; errors name the key.
    pub fn from_config(config: Config, path: Option<PathBuf>) -> Result<Options, ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.clone().unwrap_or_else(|| FILE_NAME.into()),
            message,
        };
        let duration =
            |key: &str, value: &Option<String>| -> Result<Option<Duration>, ConfigError> {
                value
                    .as_deref()
                    .map(|v| parse_duration(v).map_err(|e| invalid(format!("{key}: {e}"))))
                    .transpose()
            };
        let mut settings = Settings::default();
        if let Some(table) = &config.history_table {
            settings.history_table =
                TableName::parse(table).map_err(|e| invalid(format!("history_table: {e}")))?;
        }
        if let Some(d) = duration("lock_wait", &config.lock_wait)? {
            settings.lock_wait = d;
        }
        if let Some(d) = duration("lock_timeout", &config.lock_timeout)? {
            settings.lock_timeout = d;
        }
        settings.statement_timeout = duration("statement_timeout", &config.statement_timeout)?;
        if let Some(n) = config.lock_retries {
            settings.lock_retries = n;
        }
        if let Some(d) = duration("backfill_pause", &config.backfill_pause)? {
            settings.backfill_pause = d;
        }
        let mut limits = Limits::default();
        if let Some(layout) = config.layout {
            limits.layout = layout;
        }
        limits.start_after = match &config.start_after {
            None => None,
            Some(toml::Value::Integer(n)) => Some(
                u64::try_from(*n)
                    .map_err(|_| invalid(format!("start_after: {n} is not a version")))?,
            ),
            Some(toml::Value::String(s)) => {
                limits.start_after_spelling = crate::source::name::version_spelling(s);
                Some(
                    crate::source::name::version_key(s)
                        .map_err(|e| invalid(format!("start_after: {e}")))?,
                )
            }
            Some(other) => {
                return Err(invalid(format!(
                    "start_after: expected a version, found {}",
                    other.type_str()
                )));
            }
        };
        if let Some(size) = &config.max_file_size {
            limits.max_file_size =
                parse_size(size).map_err(|e| invalid(format!("max_file_size: {e}")))?;
        }
        let base = path
            .as_deref()
            .and_then(Path::parent)
            .filter(|b| !b.as_os_str().is_empty());
        // Relative to migrate.toml, found maybe in a folder above: so is the default.
        let dir = match config.dir {
            Some(dir) => Some(match base {
                Some(base) if dir.is_relative() => base.join(dir),
                _ => dir,
            }),
            None => base.map(|base| base.join(DEFAULT_DIR)),
        };
        let app_queries = config
            .app_queries
            .unwrap_or_default()
            .into_iter()
            .map(|p| match base {
                Some(base) if p.is_relative() => base.join(p),
                _ => p,
            })
            .collect();
        Ok(Options {
            app_queries,
            dir,
            dialect: config.dialect,
            pg_version: config
                .pg_version
                .unwrap_or(analyze::Options::default().pg_version),
            // A SQLite file named relative to migrate.toml is found from it, as `dir` is.
            database_url: config
                .database_url
                .map(|url| base.map_or(url.clone(), |b| sqlite_relative_to(&url, b))),
            settings,
            levels: config.rules.into_iter().collect(),
            limits,
            path,
        })
    }

    /// The migration directory: the flag, else `dir` from the config, else [`DEFAULT_DIR`]
    /// beside the config file (in the working directory when there is none).
    pub fn migration_dir(&self, flag: Option<&Path>) -> PathBuf {
        flag.map(Path::to_path_buf)
            .or_else(|| self.dir.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DIR))
    }

    /// The analysis options for `dialect`.
    pub fn analysis(&self, dialect: Dialect, strict: bool) -> analyze::Options {
        analyze::Options {
            dialect,
            pg_version: self.pg_version,
            strict,
            levels: self.levels.clone(),
            fresh_database: false,
            queries: None,
        }
    }
}

/// `message` (a TOML error, which quotes the offending line) with every line of `text`
/// that may hold a password shown redacted: a broken `database_url` line must not print it.
fn without_secrets(text: &str, message: &str) -> String {
    let mut message = message.to_string();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let redacted = crate::db::redact(line);
        if redacted != line {
            message = message.replace(line, &redacted);
        }
    }
    message
}

/// Parses a size: a number of bytes, or a string such as `16MiB`, `512KiB`, `1GiB` (also
/// `K`, `M`, `G`, `KB`, `MB`, `GB`, all powers of 1024).
fn parse_size(value: &toml::Value) -> Result<u64, String> {
    let text = match value {
        toml::Value::Integer(n) if *n >= 0 => return Ok(*n as u64),
        toml::Value::String(s) => s.trim(),
        other => return Err(format!("`{other}` is not a size (e.g. 16MiB)")),
    };
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size (e.g. 16MiB)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => {
            return Err(format!(
                "`{text}` has an unknown unit (use KiB, MiB or GiB)"
            ));
        }
    };
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))
}

/// Walks up from `start` to the first directory holding `migrate.toml`.
pub fn find(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|candidate| candidate.is_file())
}

/// Loads `path`, or the file found from the working directory when `path` is `None`, into
/// typed [`Options`] (defaults when there is no file).
pub fn load(path: Option<&Path>) -> Result<Options, ConfigError> {
    let path = match path {
        Some(p) => Some(p.to_path_buf()),
        None => std::env::current_dir().ok().and_then(|cwd| find(&cwd)),
    };
    let (file, text) = match &path {
        None => (Config::default(), String::new()),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|error| ConfigError::Read {
                path: path.clone(),
                error,
            })?;
            (parse(&text, path)?, text)
        }
    };
    let overlay = from_environment()?;
    if overlay.is_empty() {
        return Options::from_config(file, path);
    }
    // MIGRATE_<KEY> over the file's key: the file's table (valid: parsed above) with the
    // variables' values in it.
    let mut merged = text.parse::<toml::Table>().unwrap_or_default();
    let mut dir = None;
    let mut url = None;
    for (key, value) in overlay {
        match key {
            // From the working directory, not from the config file.
            "dir" => dir = value.as_str().map(PathBuf::from),
            "database_url" => url = value.as_str().map(str::to_string),
            _ => {
                merged.insert(key.to_string(), value);
            }
        }
    }
    let config: Config = toml::Value::Table(merged)
        .try_into()
        .map_err(|e: toml::de::Error| ConfigError::Invalid {
            path: path.clone().unwrap_or_else(|| FILE_NAME.into()),
            message: e.to_string().trim().replace('\n', " "),
        })?;
    let mut options = Options::from_config(config, path)?;
    if dir.is_some() {
        options.dir = dir;
    }
    if url.is_some() {
        options.database_url = url;
    }
    Ok(options)
}

/// The settings `MIGRATE_<KEY>` variables give (process, then `.env`): each key of
/// `migrate.toml` but `[rules]`, typed as the file would hold it; a bad value is an error
/// naming the variable.
fn from_environment() -> Result<Vec<(&'static str, toml::Value)>, ConfigError> {
    const KEYS: [&str; 13] = [
        "dir",
        "dialect",
        "pg_version",
        "database_url",
        "history_table",
        "lock_wait",
        "lock_timeout",
        "statement_timeout",
        "lock_retries",
        "backfill_pause",
        "max_file_size",
        "layout",
        "start_after",
    ];
    let mut found = Vec::new();
    for key in KEYS {
        let name = format!("MIGRATE_{}", key.to_ascii_uppercase());
        let invalid = |message: String| ConfigError::Invalid {
            path: PathBuf::from(format!("environment variable {name}")),
            message,
        };
        let value = crate::env::var(&name).map_err(|_| invalid("not valid UTF-8".into()))?;
        let Some(value) = value else { continue };
        let typed = match key {
            "pg_version" | "lock_retries" => toml::Value::Integer(
                value
                    .trim()
                    .parse()
                    .map_err(|_| invalid(format!("`{value}` is not a whole number")))?,
            ),
            "max_file_size" | "start_after" => match value.trim().parse::<i64>() {
                Ok(n) => toml::Value::Integer(n),
                Err(_) => toml::Value::String(value.clone()),
            },
            _ => toml::Value::String(value.clone()),
        };
        // Checked alone first, so that an error names the variable, not the file.
        let mut alone = toml::Table::new();
        alone.insert(key.to_string(), typed.clone());
        let config: Config =
            toml::Value::Table(alone)
                .try_into()
                .map_err(|e: toml::de::Error| {
                    let message = e.to_string();
                    let message = if key == "database_url" {
                        without_secrets(&value, message.trim())
                    } else {
                        message.trim().to_string()
                    };
                    invalid(message.replace('\n', " "))
                })?;
        Options::from_config(
            config,
            Some(PathBuf::from(format!("environment variable {name}"))),
        )?;
        found.push((key, typed));
    }
    Ok(found)
}

/// Parses and validates config text.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let config: Config = toml::from_str(text).map_err(|e| ConfigError::Invalid {
        path: path.to_path_buf(),
        // toml's own layout (the line quoted, a caret under the value) kept.
        message: without_secrets(text, e.to_string().trim()),
    })?;
    if let Some(rule) = config
        .rules
        .keys()
        .find(|name| registry::find(name).is_none_or(|r| r.name != name.as_str()))
    {
        return Err(ConfigError::UnknownRule {
            path: path.to_path_buf(),
            rule: rule.clone(),
        });
    }
    Ok(config)
}

/// `url` with a relative SQLite path made relative to `base` (the config file's folder);
/// other URLs, absolute paths and in-memory databases unchanged.
fn sqlite_relative_to(url: &str, base: &Path) -> String {
    let Some(rest) = crate::db::sqlite_rest(url) else {
        return url.to_string();
    };
    let (path, query) = match rest.split_once('?') {
        Some((path, query)) => (path, format!("?{query}")),
        None => (rest, String::new()),
    };
    if path.is_empty()
        || path.starts_with(':')
        || path.starts_with("file:")
        || Path::new(path).is_absolute()
    {
        return url.to_string();
    }
    format!("sqlite://{}{query}", base.join(path).display())
}

#[cfg(test)]
mod tests {
    #[test]
    fn sqlite_paths_are_relative_to_the_config_file() {
        let base = Path::new("/srv/app");
        assert_eq!(
            super::sqlite_relative_to("sqlite://app.db", base),
            "sqlite:///srv/app/app.db"
        );
        assert_eq!(
            super::sqlite_relative_to("sqlite:data/app.db?mode=rwc", base),
            "sqlite:///srv/app/data/app.db?mode=rwc"
        );
        for same in [
            "sqlite:///abs.db",
            "sqlite::memory:",
            "postgres://h/db",
            "sqlite://",
        ] {
            assert_eq!(super::sqlite_relative_to(same, base), same);
        }
    }

    use super::*;

    #[test]
    fn parses_known_keys() {
        let c = parse(
            "dir = \"db\"\ndialect = \"mysql\"\npg_version = 13\n[rules]\ndrop-column = \"warning\"\n",
            Path::new("migrate.toml"),
        )
        .unwrap();
        assert_eq!(c.dialect, Some(Dialect::Mysql));
        assert_eq!(c.rules.get("drop-column"), Some(&Level::Warning));
    }

    #[test]
    fn engine_settings_are_validated() {
        let loaded = |text: &str| {
            Options::from_config(
                parse(text, Path::new("migrate.toml")).unwrap(),
                Some("conf/migrate.toml".into()),
            )
        };
        let o = loaded("lock_wait = \"30s\"\nlock_timeout = \"500ms\"\nhistory_table = \"ops.history\"\nlock_retries = 2\ndir = \"db\"")
            .unwrap();
        assert_eq!(o.migration_dir(None), Path::new("conf/db"));
        assert_eq!(o.migration_dir(Some(Path::new("x"))), Path::new("x"));
        assert_eq!(o.pg_version, 15);
        let s = o.settings;
        assert_eq!(s.lock_wait, Duration::from_secs(30));
        assert_eq!(s.lock_timeout, Duration::from_millis(500));
        assert_eq!(s.history_table.to_string(), "ops.history");
        assert_eq!(s.lock_retries, 2);
        assert_eq!(
            loaded("max_file_size = \"64MiB\"")
                .unwrap()
                .limits
                .max_file_size,
            64 << 20
        );
        assert_eq!(
            loaded("max_file_size = 1000").unwrap().limits.max_file_size,
            1000
        );
        assert!(
            loaded("max_file_size = \"lots\"")
                .unwrap_err()
                .to_string()
                .contains("max_file_size")
        );
        let err = loaded("lock_timeout = \"soon\"").unwrap_err().to_string();
        assert!(
            err.contains("lock_timeout") && err.contains("soon"),
            "{err}"
        );
        let err = loaded("history_table = \"a;b\"").unwrap_err().to_string();
        assert!(err.contains("history_table"), "{err}");
    }

    #[test]
    fn a_broken_database_url_line_is_quoted_without_its_password() {
        let err = parse(
            "database_url = 'postgres://app:Sk9secretPW@db/x' trailing\n",
            Path::new("m.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            !err.contains("Sk9secretPW") && err.contains("app:***@db"),
            "{err}"
        );
    }

    #[test]
    fn rejects_unknown_keys_and_rules() {
        let err = parse("dirr = \"x\"", Path::new("m.toml")).unwrap_err();
        assert!(err.to_string().contains("dirr"), "{err}");
        let err = parse("[rules]\ndrop-colum = \"off\"", Path::new("m.toml")).unwrap_err();
        assert!(err.to_string().contains("drop-colum"), "{err}");
        let err = parse("[rules]\ndrop-column = \"loud\"", Path::new("m.toml")).unwrap_err();
        assert!(err.to_string().contains("loud"), "{err}");
    }
}
