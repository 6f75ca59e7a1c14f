//! `migrate.toml`: found by walking up from the working directory (or given with `--config`).
//! Unknown keys and rule names are errors that name them, so a typo never silently does
//! nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use std::time::Duration;

use crate::analyze::Level;
use crate::analyze::registry;
use crate::db::{Settings, TableName, parse_duration};
use crate::dialect::Dialect;
use crate::error::ConfigError;

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
    /// Per-rule levels: `"error"`, `"warning"` or `"off"`.
    #[serde(default)]
    pub rules: BTreeMap<String, Level>,
}

/// A config and where it came from.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// The file, when one was found.
    pub path: Option<PathBuf>,
    /// Its settings (defaults when there is no file).
    pub config: Config,
}

impl Loaded {
    /// The migration directory: the flag, else `dir` from the config (relative to the config
    /// file), else `migrations`.
    pub fn migration_dir(&self, flag: Option<&Path>) -> PathBuf {
        match (flag, self.config.dir.as_deref()) {
            (Some(dir), _) => dir.to_path_buf(),
            (None, Some(dir)) => self.resolve(dir),
            (None, None) => PathBuf::from("migrations"),
        }
    }

    /// Resolves a path from the config relative to the config file's directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        match self.path.as_deref().and_then(Path::parent) {
            Some(base) if path.is_relative() && !base.as_os_str().is_empty() => base.join(path),
            _ => path.to_path_buf(),
        }
    }
}

impl Loaded {
    /// The engine settings, validated; errors name the key.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        let c = &self.config;
        let invalid = |message: String| ConfigError::Invalid {
            path: self.path.clone().unwrap_or_else(|| FILE_NAME.into()),
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
        if let Some(table) = &c.history_table {
            settings.history_table =
                TableName::parse(table).map_err(|e| invalid(format!("history_table: {e}")))?;
        }
        if let Some(d) = duration("lock_wait", &c.lock_wait)? {
            settings.lock_wait = d;
        }
        if let Some(d) = duration("lock_timeout", &c.lock_timeout)? {
            settings.lock_timeout = d;
        }
        settings.statement_timeout = duration("statement_timeout", &c.statement_timeout)?;
        if let Some(n) = c.lock_retries {
            settings.lock_retries = n;
        }
        Ok(settings)
    }
}

/// Walks up from `start` to the first directory holding `migrate.toml`.
pub fn find(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|candidate| candidate.is_file())
}

/// Loads `path`, or the file found from the working directory when `path` is `None`.
pub fn load(path: Option<&Path>) -> Result<Loaded, ConfigError> {
    let path = match path {
        Some(p) => Some(p.to_path_buf()),
        None => std::env::current_dir().ok().and_then(|cwd| find(&cwd)),
    };
    let Some(path) = path else {
        return Ok(Loaded::default());
    };
    let text = std::fs::read_to_string(&path).map_err(|error| ConfigError::Read {
        path: path.clone(),
        error,
    })?;
    let config = parse(&text, &path)?;
    let loaded = Loaded {
        path: Some(path),
        config,
    };
    loaded.settings()?;
    Ok(loaded)
}

/// Parses and validates config text.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    let config: Config = toml::from_str(text).map_err(|e| ConfigError::Invalid {
        path: path.to_path_buf(),
        message: e.to_string().trim().replace('\n', " "),
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

#[cfg(test)]
mod tests {
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
        let loaded = |text: &str| Loaded {
            path: Some("migrate.toml".into()),
            config: parse(text, Path::new("migrate.toml")).unwrap(),
        };
        let s = loaded("lock_wait = \"30s\"\nlock_timeout = \"500ms\"\nhistory_table = \"ops.history\"\nlock_retries = 2")
            .settings()
            .unwrap();
        assert_eq!(s.lock_wait, Duration::from_secs(30));
        assert_eq!(s.lock_timeout, Duration::from_millis(500));
        assert_eq!(s.history_table.to_string(), "ops.history");
        assert_eq!(s.lock_retries, 2);
        let err = loaded("lock_timeout = \"soon\"")
            .settings()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("lock_timeout") && err.contains("soon"),
            "{err}"
        );
        let err = loaded("history_table = \"a;b\"")
            .settings()
            .unwrap_err()
            .to_string();
        assert!(err.contains("history_table"), "{err}");
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
