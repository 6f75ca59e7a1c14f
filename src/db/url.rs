//! Database URLs: the dialect from the scheme, the form sqlx expects, and the one redaction
//! mechanism of the tool.
//!
//! Redaction never depends on the URL being well formed: every password-like part of the raw
//! input (the userinfo password of a URL, whatever characters it holds, and the value of a
//! `password=`-like keyword in a query string or a libpq keyword string) is found by position,
//! replaced by `***` in the redacted form, and remembered process-wide, so that [`scrub`] can
//! take it (raw or percent-decoded) out of any text that leaves the process: error chains,
//! JSON output, panic messages.

use std::fmt;
use std::ops::Range;
use std::sync::Mutex;

use crate::db::DbError;
use crate::dialect::Dialect;

/// A database the CLI was pointed at.
#[derive(Clone)]
pub struct Target {
    /// The URL as given (may hold a password: never print it).
    url: String,
    /// Its dialect.
    pub dialect: Dialect,
    /// The URL with every password replaced by `***`: the only form ever shown.
    pub redacted: String,
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Target({})", self.redacted)
    }
}

impl Target {
    /// Parses a database URL: `postgres://`, `postgresql://`, `mysql://`, `mariadb://`,
    /// `sqlite://PATH`. Its secrets are remembered for [`scrub`] before anything can fail.
    pub fn parse(url: &str) -> Result<Target, DbError> {
        let redacted = redact(url);
        remember(url, &redacted);
        for secret in secrets(url) {
            remember(&secret, "***");
        }
        // `sqlite://PATH` and sqlx's short forms `sqlite:app.db`, `sqlite::memory:`.
        if sqlite_rest(url).is_some() {
            return Ok(Target {
                url: url.to_string(),
                dialect: Dialect::Sqlite,
                redacted,
            });
        }
        let Some((scheme, _)) = url.split_once("://") else {
            let looks_like_keywords = url.contains('=');
            return Err(DbError::InvalidUrl {
                url: redacted,
                message: if looks_like_keywords {
                    "keyword strings (host=... dbname=...) are not supported: use a URL, <scheme>://user:password@host/database".into()
                } else {
                    "expected <scheme>://...".into()
                },
            });
        };
        let dialect = match scheme.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Dialect::Postgres,
            "mysql" | "mariadb" => Dialect::Mysql,
            "sqlite" => Dialect::Sqlite,
            other => {
                return Err(DbError::UnknownScheme {
                    scheme: other.to_string(),
                    url: redacted,
                });
            }
        };
        Ok(Target {
            url: url.to_string(),
            dialect,
            redacted,
        })
    }

    /// The URL for sqlx (MariaDB's scheme spelled the way sqlx expects).
    pub fn sqlx_url(&self) -> String {
        match self.url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("mariadb") => {
                format!("mysql://{rest}")
            }
            _ => self.url.clone(),
        }
    }
}

/// What follows the scheme of a SQLite URL (`sqlite://PATH`, or sqlx's `sqlite:PATH` and
/// `sqlite::memory:`); `None` for another URL or an empty path.
pub fn sqlite_rest(url: &str) -> Option<&str> {
    let scheme = url.get(..7)?;
    if !scheme.eq_ignore_ascii_case("sqlite:") {
        return None;
    }
    let rest = &url[7..];
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    (!rest.is_empty()).then_some(rest)
}

/// Every secret and raw URL seen by [`Target::parse`], longest first, with its replacement.
static SECRETS: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());

/// Replaces every remembered secret in `text`: raw URLs by their redacted form, passwords
/// (raw and percent-decoded) by `***`.
pub fn scrub(text: &str) -> String {
    let mut text = text.to_string();
    if let Ok(secrets) = SECRETS.lock() {
        for (secret, replacement) in secrets.iter() {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), replacement);
            }
        }
    }
    text
}

/// Remembers `secret` for [`scrub`]. Secrets shorter than 3 bytes are not remembered (they
/// would mangle every message); the redacted URL hides them by position.
fn remember(secret: &str, replacement: &str) {
    if secret.len() < 3 || secret == replacement {
        return;
    }
    if let Ok(mut secrets) = SECRETS.lock() {
        if secrets.iter().any(|(s, _)| s == secret) {
            return;
        }
        secrets.push((secret.to_string(), replacement.to_string()));
        // Longest first, so a URL is replaced before the password inside it.
        secrets.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
    }
}

/// The input with every secret (see [`secrets`]) replaced by `***`. Text without a
/// `<scheme>://`, a `sqlite:` prefix or a `key=value` could itself be a password: it is not
/// shown at all.
pub fn redact(input: &str) -> String {
    if !input.contains("://") && !input.contains('=') && sqlite_rest(input).is_none() {
        return "(not shown: no <scheme>://, so it may be a password)".to_string();
    }
    let mut out = String::with_capacity(input.len());
    let mut at = 0;
    for range in secret_ranges(input) {
        out.push_str(&input[at..range.start]);
        out.push_str("***");
        at = range.end;
    }
    out.push_str(&input[at..]);
    // Secrets only the percent-decoded input shows (`options=-c%20password%3D...`).
    for secret in secrets(input) {
        if secret.len() >= 3 && out.contains(&secret) {
            out = out.replace(&secret, "***");
        }
    }
    out
}

/// Every secret of `input`, as written and percent-decoded, and those that only its
/// percent-decoded form shows.
fn secrets(input: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut add = |s: &str| {
        if !s.is_empty() && !found.iter().any(|f| f == s) {
            found.push(s.to_string());
        }
    };
    for range in secret_ranges(input) {
        add(&input[range.clone()]);
        if let Some(decoded) = percent_decoded(&input[range]) {
            add(&decoded);
        }
    }
    if let Some(decoded) = percent_decoded(input) {
        for range in secret_ranges(&decoded) {
            add(&decoded[range]);
        }
    }
    found
}

/// Keywords whose value is a secret, in a query string or a libpq keyword string.
const SECRET_KEYS: [&str; 4] = ["password", "sslpassword", "pass", "pwd"];

/// Byte ranges of the secrets in `input`, ascending and disjoint: the password of a URL's
/// userinfo (from the first `:` after the user to the last `@`, so `/`, `?`, `@` and `:`
/// inside it are covered), and the value of every `password=`-like keyword.
fn secret_ranges(input: &str) -> Vec<Range<usize>> {
    let mut ranges: Vec<Range<usize>> = Vec::new();
    let mut keywords_from = 0;
    if let Some(scheme_end) = input.find("://") {
        let rest_start = scheme_end + 3;
        let rest = &input[rest_start..];
        if let Some(at) = rest.rfind('@') {
            let userinfo = &rest[..at];
            if let Some(colon) = userinfo.find(':')
                && colon + 1 < at
            {
                ranges.push(rest_start + colon + 1..rest_start + at);
            }
            keywords_from = rest_start + at;
        }
    }
    let bytes = input.as_bytes();
    let lower = input.to_ascii_lowercase();
    for key in SECRET_KEYS {
        let pattern = format!("{key}=");
        let mut from = keywords_from;
        while let Some(found) = lower[from..].find(&pattern) {
            let start = from + found;
            from = start + pattern.len();
            let boundary =
                start == 0 || matches!(bytes[start - 1], b'?' | b'&' | b';' | b' ' | b'\t' | b'\n');
            if !boundary {
                continue;
            }
            let value_start = start + pattern.len();
            let value_end = if bytes.get(value_start) == Some(&b'\'') {
                // libpq: a quoted value, with \' and \\ escapes.
                let mut i = value_start + 1;
                while i < bytes.len() && bytes[i] != b'\'' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                (i + 1).min(bytes.len())
            } else {
                input[value_start..]
                    .find(['&', ' ', '\t', '\n', ';'])
                    .map_or(input.len(), |end| value_start + end)
            };
            if value_end > value_start {
                ranges.push(value_start..value_end);
            }
        }
    }
    ranges.sort_by_key(|r| r.start);
    let mut disjoint: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for range in ranges {
        match disjoint.last_mut() {
            Some(last) if range.start <= last.end => last.end = last.end.max(range.end),
            _ => disjoint.push(range),
        }
    }
    disjoint
}

/// `text` with `%XX` escapes decoded, when it has any and decodes to UTF-8.
fn percent_decoded(text: &str) -> Option<String> {
    if !text.contains('%') {
        return None;
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h)? * 16 + hex(l)?) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok().filter(|d| d != text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_everywhere() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/prod?sslmode=require"),
            "postgres://app:***@db:5432/prod?sslmode=require"
        );
        assert_eq!(
            redact("mysql://root@localhost/x?password=s3cret&a=b"),
            "mysql://root@localhost/x?password=***&a=b"
        );
        assert_eq!(redact("sqlite://app.db"), "sqlite://app.db");
        assert_eq!(redact("sqlite:app.db"), "sqlite:app.db");
        assert_eq!(redact("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(redact("postgres://u:p@ss:w@h/db"), "postgres://u:***@h/db");
        assert_eq!(
            redact("postgres://u:Zq9/SECRET@host/db"),
            "postgres://u:***@host/db"
        );
        assert_eq!(
            redact("postgres://u:a?b#c@host/db"),
            "postgres://u:***@host/db"
        );
        assert_eq!(
            redact("host=db user=app password=hunter22 dbname=x"),
            "host=db user=app password=*** dbname=x"
        );
        assert_eq!(
            redact("host=db password='with space' dbname=x"),
            "host=db password=*** dbname=x"
        );
        assert_eq!(
            redact("postgres://h/db?PassWord=abc&sslpassword=def"),
            "postgres://h/db?PassWord=***&sslpassword=***"
        );
        // A word ending in a key is not the key.
        assert_eq!(
            redact("postgres://h/db?nopass=1"),
            "postgres://h/db?nopass=1"
        );
    }

    #[test]
    fn scrubs_raw_and_decoded_secrets() {
        let t = Target::parse("postgres://app:s%40cr3t-x@db/prod").unwrap();
        assert_eq!(t.redacted, "postgres://app:***@db/prod");
        assert!(!format!("{t:?}").contains("cr3t"));
        assert_eq!(scrub("auth failed for s@cr3t-x"), "auth failed for ***");
        assert_eq!(
            scrub("panicked near postgres://app:s%40cr3t-x@db/prod"),
            "panicked near postgres://app:***@db/prod"
        );
        let err = Target::parse("host=db password=Kw0rdSecret")
            .unwrap_err()
            .to_string();
        assert!(
            !err.contains("Kw0rdSecret") && err.contains("keyword"),
            "{err}"
        );
        assert_eq!(scrub("x Kw0rdSecret y"), "x *** y");
    }

    #[test]
    fn schemes() {
        assert_eq!(
            Target::parse("mariadb://r@h/d").unwrap().dialect,
            Dialect::Mysql
        );
        assert_eq!(
            Target::parse("mariadb://r@h/d").unwrap().sqlx_url(),
            "mysql://r@h/d"
        );
        let err = Target::parse("oracle://u:pw@h/d").unwrap_err().to_string();
        assert!(err.contains("oracle") && !err.contains("pw@"), "{err}");
        assert!(Target::parse("nonsense").is_err());
    }
}
