//! Engine settings: the history table's name, timeouts and retries, each default said once
//! (in [`Settings::default`]), and the duration syntax of `migrate.toml`.

use std::fmt;
use std::time::Duration;

use crate::dialect::Dialect;

/// A validated history-table name, optionally schema-qualified (`ops.migrate_history`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    /// Schema, when qualified.
    pub schema: Option<String>,
    /// Table.
    pub name: String,
}

impl TableName {
    /// Validates `value` as `[schema.]table`, each an identifier of letters, digits and `_`.
    pub fn parse(value: &str) -> Result<TableName, String> {
        let parts: Vec<&str> = value.split('.').collect();
        let valid = |p: &str| {
            !p.is_empty()
                && p.len() <= 63
                && p.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        match parts.as_slice() {
            [name] if valid(name) => Ok(TableName {
                schema: None,
                name: name.to_string(),
            }),
            [schema, name] if valid(schema) && valid(name) => Ok(TableName {
                schema: Some(schema.to_string()),
                name: name.to_string(),
            }),
            _ => Err(format!(
                "`{value}` is not a valid table name (letters, digits and _, optionally schema.table)"
            )),
        }
    }

    /// The name quoted for `dialect`.
    pub fn quoted(&self, dialect: Dialect) -> String {
        let q = |s: &str| match dialect {
            Dialect::Mysql => format!("`{s}`"),
            _ => format!("\"{s}\""),
        };
        match &self.schema {
            Some(schema) => format!("{}.{}", q(schema), q(&self.name)),
            None => q(&self.name),
        }
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(s) => write!(f, "{s}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// Engine settings from `migrate.toml`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// History table.
    pub history_table: TableName,
    /// How long to wait for another deployer's lock.
    pub lock_wait: Duration,
    /// Lock timeout of migration statements (PostgreSQL `lock_timeout`, MySQL `lock_wait_timeout`).
    pub lock_timeout: Duration,
    /// Optional statement timeout (PostgreSQL `statement_timeout`, MySQL `max_statement_time`).
    pub statement_timeout: Option<Duration>,
    /// Retries of a transactional migration that hit its lock timeout.
    pub lock_retries: u32,
    /// Pause between two batches of a backfill migration, to let traffic through.
    pub backfill_pause: Duration,
    /// A command that only reads (`status`, `verify`, `up --dry-run`): a missing SQLite file
    /// is an error, never created.
    pub read_only: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            history_table: TableName {
                schema: None,
                name: "migrate_history".into(),
            },
            lock_wait: Duration::from_secs(600),
            lock_timeout: Duration::from_secs(5),
            statement_timeout: None,
            lock_retries: 5,
            backfill_pause: Duration::ZERO,
            read_only: false,
        }
    }
}

/// Parses `500ms`, `5s`, `10m`, `1h` (a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (e.g. 500ms, 5s, 10m)"))?;
    // Longer than a year is a typo, and more than some drivers take (SQLite's busy timeout
    // is a C int of milliseconds).
    const LONGEST: Duration = Duration::from_secs(366 * 24 * 3600);
    let too_long = || format!("`{text}` is too long a duration (at most a year)");
    let seconds = |per: u64| n.checked_mul(per).map(Duration::from_secs);
    let d = match unit.trim() {
        "ms" => Some(Duration::from_millis(n)),
        "" | "s" => seconds(1),
        "m" | "min" => seconds(60),
        "h" => seconds(3600),
        _ => return Err(format!("`{text}` has an unknown unit (use ms, s, m or h)")),
    };
    d.filter(|d| *d <= LONGEST).ok_or_else(too_long)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_identifiers() {
        assert_eq!(
            TableName::parse("ops.history")
                .unwrap()
                .quoted(Dialect::Mysql),
            "`ops`.`history`"
        );
        for bad in ["", "a b", "x;drop table y", "a.b.c", "1abc", "a\"b"] {
            assert!(TableName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("7").unwrap(), Duration::from_secs(7));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("18446744073709551615h").is_err());
        assert!(parse_duration("99999999999999h").is_err());
        assert!(parse_duration("8784h").is_ok());
    }
}
