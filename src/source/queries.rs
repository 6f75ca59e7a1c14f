//! The app's queries, as the app hands them over (`--app-queries`, `app_queries`): sqlx's
//! offline query files (a `.sqlx` directory of `query-<hash>.json`), a `pg_stat_statements`
//! export (CSV with a header naming a `query` column, or JSON: an array of objects, or one
//! object per line), or a `.sql` file of statements. Read as text with where each came from;
//! parsing and judging are the analysis's (`analyze::usage`).

use std::path::{Path, PathBuf};

/// One query as read, before parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawQuery {
    /// Where it came from.
    pub origin: Origin,
    /// Its SQL text (a `.sql` file: the whole file, split by the analysis).
    pub text: String,
    /// The text is a script of several statements (a `.sql` file).
    pub script: bool,
}

/// Where a query came from: a file, a line in it, and an id when the source gives one (sqlx's
/// hash, `pg_stat_statements`' `queryid`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    /// The file as displayed.
    pub source: String,
    /// 1-based line of the query in the file (0: the file as a whole).
    pub line: u32,
    /// The source's own id for it.
    pub id: Option<String>,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some(id) = &self.id {
            write!(f, " (queryid {id})")?;
        }
        Ok(())
    }
}

/// A query source that cannot be read at all (the check cannot run as asked).
#[derive(Debug, thiserror::Error)]
pub enum QueryFileError {
    /// The path does not exist or cannot be read.
    #[error("--app-queries {}: {error}", crate::source::shown(.path))]
    Read {
        /// The path.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The path is not in a form this reads.
    #[error("--app-queries {}: {message}", crate::source::shown(.path))]
    Format {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Reading the path at a git commit failed.
    #[error("--app-queries {} at {commit}: {message}", crate::source::shown(.path))]
    Git {
        /// The path.
        path: PathBuf,
        /// The commit.
        commit: String,
        /// What git said.
        message: String,
    },
}

/// An entry that was read but holds no query (a sqlx file that is not JSON, a JSON object
/// without `query`): listed as a warning, never fatal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// Where.
    pub origin: Origin,
    /// Why.
    pub message: String,
    /// What it holds (judged by its words).
    pub text: String,
}

/// What one `--app-queries` path held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryFiles {
    /// The queries.
    pub queries: Vec<RawQuery>,
    /// Entries without a query.
    pub unreadable: Vec<Unreadable>,
}

impl QueryFiles {
    fn extend(&mut self, other: QueryFiles) {
        self.queries.extend(other.queries);
        self.unreadable.extend(other.unreadable);
    }
}

/// Reads one path from the work tree.
pub fn read(path: &Path) -> Result<QueryFiles, QueryFileError> {
    let read_error = |error| QueryFileError::Read {
        path: path.to_path_buf(),
        error,
    };
    let meta = std::fs::metadata(path).map_err(read_error)?;
    if meta.is_dir() {
        let mut names: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(read_error)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_sqlx_file(p))
            .collect();
        names.sort();
        let mut files = Vec::with_capacity(names.len());
        for name in names {
            let bytes = std::fs::read(&name).map_err(|error| QueryFileError::Read {
                path: name.clone(),
                error,
            })?;
            files.push((crate::source::shown(&name), bytes));
        }
        return sqlx_directory(path, files);
    }
    if !meta.is_file() {
        return Err(QueryFileError::Format {
            path: path.to_path_buf(),
            message: "not a regular file or a directory".into(),
        });
    }
    let bytes = std::fs::read(path).map_err(read_error)?;
    one_file(path, &crate::source::shown(path), &bytes)
}

/// Reads one path as it was at `commit` of the git repository it is in; `None` when it did
/// not exist there.
pub fn read_at(path: &Path, commit: &str) -> Result<Option<QueryFiles>, QueryFileError> {
    let git_error = |message: String| QueryFileError::Git {
        path: path.to_path_buf(),
        commit: commit.to_string(),
        message,
    };
    let (dir, file) = if path.is_dir() {
        (path.to_path_buf(), None)
    } else {
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        (parent.to_path_buf(), path.file_name().map(|f| f.to_owned()))
    };
    if !dir.is_dir() {
        return Ok(None);
    }
    let files = crate::source::git::files_at(&dir, commit).map_err(|e| git_error(e.to_string()))?;
    match file {
        None => {
            let mut found: Vec<(String, Vec<u8>)> = files
                .into_iter()
                .filter(|(name, _)| !name.contains('/') && is_sqlx_file(Path::new(name)))
                .map(|(name, bytes)| (crate::source::shown(&dir.join(name)), bytes))
                .collect();
            if found.is_empty() {
                return Ok(None);
            }
            found.sort();
            sqlx_directory(path, found).map(Some)
        }
        Some(file) => {
            let wanted = file.to_string_lossy();
            match files.into_iter().find(|(name, _)| *name == wanted) {
                None => Ok(None),
                Some((_, bytes)) => one_file(path, &crate::source::shown(path), &bytes).map(Some),
            }
        }
    }
}

fn is_sqlx_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("query-") && n.ends_with(".json"))
}

/// A `.sqlx` directory: each `query-<hash>.json` holds `query` (and `hash`).
fn sqlx_directory(
    path: &Path,
    files: Vec<(String, Vec<u8>)>,
) -> Result<QueryFiles, QueryFileError> {
    if files.is_empty() {
        return Err(QueryFileError::Format {
            path: path.to_path_buf(),
            message: "a directory without sqlx query files (query-<hash>.json, written by `cargo sqlx prepare`)".into(),
        });
    }
    let mut out = QueryFiles::default();
    for (source, bytes) in files {
        let origin = Origin {
            source,
            line: 0,
            id: None,
        };
        match serde_json::from_slice::<serde_json::Value>(&bytes) {
            Ok(value) => match value.get("query").and_then(|q| q.as_str()) {
                Some(text) => out.queries.push(RawQuery {
                    origin,
                    text: text.to_string(),
                    script: false,
                }),
                None => out.unreadable.push(Unreadable {
                    origin,
                    message: "no `query` string in the file".into(),
                    text: String::from_utf8_lossy(&bytes).into_owned(),
                }),
            },
            Err(e) => out.unreadable.push(Unreadable {
                origin,
                message: format!("not JSON: {e}"),
                text: String::from_utf8_lossy(&bytes).into_owned(),
            }),
        }
    }
    Ok(out)
}

/// A single file, by its extension: `.csv`, `.json`, `.jsonl`/`.ndjson`, `.sql`.
fn one_file(path: &Path, source: &str, bytes: &[u8]) -> Result<QueryFiles, QueryFileError> {
    let format_error = |message: String| QueryFileError::Format {
        path: path.to_path_buf(),
        message,
    };
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
        .map_err(|e| format_error(format!("not UTF-8 ({e})")))?;
    let text = text.replace("\r\n", "\n");
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match extension.as_str() {
        "csv" => csv_export(&text, source).map_err(format_error),
        "json" | "jsonl" | "ndjson" => json_export(&text, source).map_err(format_error),
        "sql" => Ok(QueryFiles {
            queries: vec![RawQuery {
                origin: Origin {
                    source: source.to_string(),
                    line: 0,
                    id: None,
                },
                text,
                script: true,
            }],
            unreadable: Vec::new(),
        }),
        _ => Err(format_error(
            "not a form this reads: a .sqlx directory, a pg_stat_statements export (.csv, .json) or a .sql file".into(),
        )),
    }
}

/// The records of a CSV text (RFC 4180: quoted fields may hold commas, quotes as `""` and
/// line breaks), each with the line it starts on.
fn csv_records(text: &str) -> Result<Vec<(u32, Vec<String>)>, String> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut line = 1u32;
    let mut start = 1u32;
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut any = false;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => {
                    if c == '\n' {
                        line += 1;
                    }
                    field.push(c);
                }
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => {
                quoted = true;
                any = true;
            }
            ',' => {
                fields.push(std::mem::take(&mut field));
                any = true;
            }
            '\n' => {
                line += 1;
                if any || !field.is_empty() {
                    fields.push(std::mem::take(&mut field));
                    records.push((start, std::mem::take(&mut fields)));
                }
                any = false;
                start = line;
            }
            _ => {
                field.push(c);
                any = true;
            }
        }
    }
    if quoted {
        return Err(format!(
            "a quoted field opened on line {start} never closes"
        ));
    }
    if any || !field.is_empty() {
        fields.push(field);
        records.push((start, fields));
    }
    Ok(records)
}

/// A `pg_stat_statements` export as CSV: the header names a `query` column (and maybe
/// `queryid`).
fn csv_export(text: &str, source: &str) -> Result<QueryFiles, String> {
    let records = csv_records(text)?;
    let Some(((_, header), rows)) = records.split_first() else {
        return Err("an empty CSV file".into());
    };
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let Some(query) = column("query") else {
        return Err(
            "the CSV header names no `query` column (export with a header: \\copy (SELECT queryid, query FROM pg_stat_statements) TO 'export.csv' CSV HEADER)".into(),
        );
    };
    let queryid = column("queryid");
    let mut out = QueryFiles::default();
    for (line, row) in rows {
        let origin = Origin {
            source: source.to_string(),
            line: *line,
            id: queryid
                .and_then(|i| row.get(i))
                .filter(|v| !v.is_empty())
                .cloned(),
        };
        match row.get(query) {
            Some(text) if !text.trim().is_empty() => out.queries.push(RawQuery {
                origin,
                text: text.clone(),
                script: false,
            }),
            _ => out.unreadable.push(Unreadable {
                origin,
                message: "the row has no query".into(),
                text: String::new(),
            }),
        }
    }
    Ok(out)
}

/// A `pg_stat_statements` export as JSON: an array of objects with `query` (what
/// `SELECT json_agg(s) FROM pg_stat_statements s` gives), or one such object per line.
fn json_export(text: &str, source: &str) -> Result<QueryFiles, String> {
    let mut out = QueryFiles::default();
    let mut entry = |value: &serde_json::Value, line: u32| {
        let origin = Origin {
            source: source.to_string(),
            line,
            id: value.get("queryid").and_then(|v| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            }),
        };
        match value.get("query").and_then(|q| q.as_str()) {
            Some(q) => out.queries.push(RawQuery {
                origin,
                text: q.to_string(),
                script: false,
            }),
            None => out.unreadable.push(Unreadable {
                origin,
                message: "an entry without a `query` string".into(),
                text: value.to_string(),
            }),
        }
    };
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Array(items)) => {
            for item in &items {
                entry(item, 0);
            }
        }
        Ok(serde_json::Value::Object(map)) if map.contains_key("query") => {
            entry(&serde_json::Value::Object(map), 1);
        }
        Ok(_) => {
            return Err(
                "JSON that is neither an array of objects with `query` nor one object per line"
                    .into(),
            );
        }
        Err(whole) => {
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let value: serde_json::Value = serde_json::from_str(line).map_err(|e| {
                    format!(
                        "not JSON ({whole}), nor one JSON object per line (line {}: {e})",
                        i + 1
                    )
                })?;
                entry(&value, i as u32 + 1);
            }
        }
    }
    Ok(out)
}

/// Reads every path, in order.
pub fn read_all(paths: &[PathBuf]) -> Result<QueryFiles, QueryFileError> {
    let mut out = QueryFiles::default();
    for path in paths {
        out.extend(read(path)?);
    }
    Ok(out)
}

/// Reads every path at `commit`; the paths that did not exist there are returned apart.
pub fn read_all_at(
    paths: &[PathBuf],
    commit: &str,
) -> Result<(QueryFiles, Vec<PathBuf>), QueryFileError> {
    let mut out = QueryFiles::default();
    let mut missing = Vec::new();
    for path in paths {
        match read_at(path, commit)? {
            Some(files) => out.extend(files),
            None => missing.push(path.clone()),
        }
    }
    Ok((out, missing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_hold_commas_quotes_and_line_breaks() {
        let text = "queryid,query,calls\n1,\"SELECT a, b FROM t WHERE c = $1\",3\n2,\"SELECT \"\"x\"\"\nFROM u\",1\n\n3,,0\n";
        let read = csv_export(text, "e.csv").unwrap();
        assert_eq!(read.queries.len(), 2);
        assert_eq!(read.queries[0].text, "SELECT a, b FROM t WHERE c = $1");
        assert_eq!(read.queries[0].origin.line, 2);
        assert_eq!(read.queries[0].origin.id.as_deref(), Some("1"));
        assert_eq!(read.queries[1].text, "SELECT \"x\"\nFROM u");
        assert_eq!(read.queries[1].origin.line, 3);
        assert_eq!(read.unreadable.len(), 1);
        assert_eq!(read.unreadable[0].origin.line, 6);
        assert!(csv_export("a,b\n1,2\n", "e.csv").is_err());
        assert!(csv_records("\"open\n").is_err());
    }

    #[test]
    fn json_exports_are_arrays_or_lines() {
        let array = r#"[{"queryid": 7, "query": "SELECT 1"}, {"calls": 1}]"#;
        let read = json_export(array, "e.json").unwrap();
        assert_eq!(read.queries.len(), 1);
        assert_eq!(read.queries[0].origin.id.as_deref(), Some("7"));
        assert_eq!(read.unreadable.len(), 1);
        let lines = "{\"query\": \"SELECT 1\"}\n\n{\"query\": \"SELECT 2\"}\n";
        let read = json_export(lines, "e.json").unwrap();
        assert_eq!(read.queries.len(), 2);
        assert_eq!(read.queries[1].origin.line, 3);
        assert!(json_export("{not json", "e.json").is_err());
        assert!(json_export("42", "e.json").is_err());
    }

    #[test]
    fn origins_name_file_line_and_id() {
        let o = Origin {
            source: "e.csv".into(),
            line: 4,
            id: Some("99".into()),
        };
        assert_eq!(o.to_string(), "e.csv:4 (queryid 99)");
    }
}
