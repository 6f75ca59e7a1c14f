//! The environment as `migrate` reads it: the process's variables, then a `.env` file in the
//! working directory (as sqlx-cli and dbmate read one; `--no-dotenv` skips it). A variable set
//! in the process wins over the file; the file never changes the process's environment.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

/// The `.env` file's variables, once loaded (empty when skipped or absent).
static DOTENV: OnceLock<HashMap<String, String>> = OnceLock::new();

/// The name of the file read.
pub const FILE: &str = ".env";

/// Reads `.env` from the working directory unless `skip`; an unreadable or malformed file is
/// an error naming the file and line. Called once, before any command reads a variable.
pub fn init(skip: bool) -> Result<(), String> {
    let vars = if skip {
        HashMap::new()
    } else {
        match std::fs::read_to_string(FILE) {
            Ok(text) => parse(&text).map_err(|(line, why)| format!("{FILE}:{line}: {why}"))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
            Err(e) if Path::new(FILE).is_dir() => {
                return Err(format!("{FILE} is a directory: {e}"));
            }
            Err(e) => return Err(format!("cannot read {FILE}: {e}")),
        }
    };
    let _ = DOTENV.set(vars);
    Ok(())
}

/// A variable: the process's, else `.env`'s. `Err` when the process's value is not UTF-8.
pub fn var(name: &str) -> Result<Option<String>, std::env::VarError> {
    match std::env::var(name) {
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(DOTENV.get().and_then(|v| v.get(name).cloned())),
        Err(e) => Err(e),
    }
}

/// `KEY=VALUE` lines; `#` comments, blank lines and an `export ` prefix allowed; a value may
/// be in single quotes (taken as written) or double quotes (`\n`, `\"`, `\\` escapes), else
/// it ends at ` #`. 1-based line and reason on error.
pub fn parse(text: &str) -> Result<HashMap<String, String>, (usize, String)> {
    let mut vars = HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some((key, value)) = line.split_once('=') else {
            // Quoted only as the URL redaction shows it: the line may hold a password.
            let shown = crate::db::redact(line);
            let why = if shown.starts_with("(not shown") {
                "the line is not KEY=VALUE (not quoted: it may hold a password)".to_string()
            } else {
                format!("`{shown}` is not KEY=VALUE")
            };
            return Err((i + 1, why));
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err((i + 1, format!("`{key}` is not a variable name")));
        }
        let value = value.trim();
        let value = if let Some(rest) = value.strip_prefix('\'') {
            rest.strip_suffix('\'')
                .ok_or((i + 1, "unclosed single quote".to_string()))?
                .to_string()
        } else if let Some(rest) = value.strip_prefix('"') {
            let inner = rest
                .strip_suffix('"')
                .ok_or((i + 1, "unclosed double quote".to_string()))?;
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c != '\\' {
                    out.push(c);
                    continue;
                }
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some(other) => out.push(other),
                    None => out.push('\\'),
                }
            }
            out
        } else {
            value
                .split(" #")
                .next()
                .unwrap_or("")
                .trim_end()
                .to_string()
        };
        vars.insert(key.to_string(), value);
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    #[test]
    fn dotenv_lines() {
        let vars = super::parse(
            "# comment\n\nDATABASE_URL=postgres://u:p@h/db # trailing\nexport MIGRATE_LAYOUT='goose'\nQ=\"a\\\"b\\nc\"\nEMPTY=\n",
        )
        .unwrap();
        assert_eq!(vars["DATABASE_URL"], "postgres://u:p@h/db");
        assert_eq!(vars["MIGRATE_LAYOUT"], "goose");
        assert_eq!(vars["Q"], "a\"b\nc");
        assert_eq!(vars["EMPTY"], "");
        assert_eq!(super::parse("A=1\nnot a line\n").unwrap_err().0, 2);
        assert_eq!(super::parse("A='open\n").unwrap_err().0, 1);
    }
}
