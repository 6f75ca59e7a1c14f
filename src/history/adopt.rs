//! `baseline --from <tool>`: another tool's history table, read and matched against the files.
//! No database here: the tables, the queries that read them, and the decision of which files
//! that tool applied, with the checksums it kept (sqlx: SHA-384 of the file; Flyway: CRC32 of
//! its lines; Prisma: SHA-256 of the file) compared with the files here.

use sha2::{Digest, Sha256, Sha384};

use crate::dialect::Dialect;
use crate::source::{SourceFile, name};

/// A tool whose history `baseline --from` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Tool {
    /// `_sqlx_migrations`
    Sqlx,
    /// `flyway_schema_history`
    Flyway,
    /// `schema_migrations` (one row: the current version, and `dirty`)
    GolangMigrate,
    /// `goose_db_version`
    Goose,
    /// `schema_migrations` (one row per applied version)
    Dbmate,
    /// `gorp_migrations`
    SqlMigrate,
    /// `__diesel_schema_migrations`
    Diesel,
    /// `_prisma_migrations`
    Prisma,
}

impl Tool {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Sqlx => "sqlx",
            Tool::Flyway => "flyway",
            Tool::GolangMigrate => "golang-migrate",
            Tool::Goose => "goose",
            Tool::Dbmate => "dbmate",
            Tool::SqlMigrate => "sql-migrate",
            Tool::Diesel => "diesel",
            Tool::Prisma => "prisma",
        }
    }

    /// The tool's default history table.
    pub fn table(self) -> &'static str {
        match self {
            Tool::Sqlx => "_sqlx_migrations",
            Tool::Flyway => "flyway_schema_history",
            Tool::GolangMigrate | Tool::Dbmate => "schema_migrations",
            Tool::Goose => "goose_db_version",
            Tool::SqlMigrate => "gorp_migrations",
            Tool::Diesel => "__diesel_schema_migrations",
            Tool::Prisma => "_prisma_migrations",
        }
    }

    /// Every tool, for `up`'s look for another tool's table.
    pub const ALL: [Tool; 8] = [
        Tool::Sqlx,
        Tool::Flyway,
        Tool::GolangMigrate,
        Tool::Goose,
        Tool::Dbmate,
        Tool::SqlMigrate,
        Tool::Diesel,
        Tool::Prisma,
    ];

    /// The query reading `table` (already quoted), every column as text, and how many.
    pub fn select(self, table: &str, dialect: Dialect) -> (String, usize) {
        let text = |e: &str| match dialect {
            Dialect::Mysql => format!("CAST({e} AS CHAR)"),
            _ => format!("CAST({e} AS TEXT)"),
        };
        let flag = |e: &str| format!("CASE WHEN {e} THEN '1' ELSE '0' END");
        let hex = |e: &str| match dialect {
            Dialect::Postgres => format!("encode({e}, 'hex')"),
            _ => format!("hex({e})"),
        };
        match self {
            Tool::Sqlx => (
                format!(
                    "SELECT {}, {}, {} FROM {table} ORDER BY version",
                    text("version"),
                    hex("checksum"),
                    flag("success")
                ),
                3,
            ),
            Tool::Flyway => (
                format!(
                    "SELECT COALESCE({}, ''), COALESCE({}, ''), {}, {}, {} FROM {table} ORDER BY installed_rank",
                    text("version"),
                    text("checksum"),
                    flag("success"),
                    text("type"),
                    text("script")
                ),
                5,
            ),
            Tool::GolangMigrate => (
                format!("SELECT {}, {} FROM {table}", text("version"), flag("dirty")),
                2,
            ),
            Tool::Goose => (
                format!(
                    "SELECT {}, {} FROM {table} ORDER BY id",
                    text("version_id"),
                    flag("is_applied")
                ),
                2,
            ),
            Tool::Dbmate | Tool::Diesel => (
                format!("SELECT {} FROM {table} ORDER BY version", text("version")),
                1,
            ),
            Tool::SqlMigrate => (format!("SELECT {} FROM {table} ORDER BY id", text("id")), 1),
            Tool::Prisma => (
                format!(
                    "SELECT {}, {}, {}, {} FROM {table} ORDER BY started_at",
                    text("migration_name"),
                    text("checksum"),
                    flag("finished_at IS NOT NULL"),
                    flag("rolled_back_at IS NOT NULL")
                ),
                4,
            ),
        }
    }
}

/// What the other tool applied, matched to the files here: their indexes, in apply order.
pub fn applied(
    tool: Tool,
    table: &str,
    rows: &[Vec<String>],
    files: &[SourceFile],
) -> Result<Vec<usize>, String> {
    let by_version = |v: u64| files.iter().position(|f| f.version == Some(v));
    let no_file = |what: &str| {
        format!(
            "{tool} applied {what} (in {table}), and no migration file here has it: restore the file before adopting the history",
            tool = tool.name()
        )
    };
    let number = |s: &str| -> Result<u64, String> {
        s.trim().parse::<u64>().map_err(|_| {
            format!(
                "{table} holds version `{}`, which is not a number a file here can have",
                s.trim()
            )
        })
    };
    let flyway_number = |s: &str| -> Result<u64, String> {
        name::flyway_key(s.trim())
            .map_err(|why| format!("{table} holds version `{}`: {why}", s.trim()))
    };
    let mut found: Vec<usize> = Vec::new();
    let mut push = |i: usize| {
        if !found.contains(&i) {
            found.push(i);
        }
    };
    match tool {
        Tool::Sqlx => {
            for row in rows {
                let version = number(&row[0])?;
                if row[2] != "1" {
                    return Err(format!(
                        "sqlx left version {version} unfinished (success = false in {table}): finish or undo it by hand, delete that row, and run the baseline again"
                    ));
                }
                let i =
                    by_version(version).ok_or_else(|| no_file(&format!("version {version}")))?;
                let ours = hex(&Sha384::digest(raw(&files[i])?));
                if !ours.eq_ignore_ascii_case(row[1].trim()) {
                    return Err(differs(tool, &files[i], version));
                }
                push(i);
            }
        }
        Tool::Flyway => {
            // The latest row of each version decides (Flyway Teams' undo and `flyway repair`'s
            // DELETE rows take an earlier one back); repeatables by script, likewise.
            let mut versioned: Vec<(u64, Option<(String, String)>)> = Vec::new();
            let mut set = |v: u64, state: Option<(String, String)>| match versioned
                .iter_mut()
                .find(|(k, _)| *k == v)
            {
                Some(entry) => entry.1 = state,
                None => versioned.push((v, state)),
            };
            for row in rows {
                let (version, checksum, success, kind) =
                    (row[0].trim(), row[1].trim(), &row[2], row[3].trim());
                if success != "1" {
                    return Err(format!(
                        "Flyway's migration {} failed (success = false in {table}): repair it (`flyway repair` after fixing the schema by hand) and run the baseline again",
                        if version.is_empty() {
                            row[4].trim()
                        } else {
                            version
                        }
                    ));
                }
                match kind {
                    "SQL" | "SQL_BASELINE" | "JDBC" | "JDBC_BASELINE" | "SCRIPT"
                    | "SCRIPT_BASELINE" => {}
                    // The baseline marker: everything up to its version counts as applied.
                    "BASELINE" => {
                        let v = flyway_number(version)?;
                        let at = by_version(v).ok_or_else(|| no_file(&format!("baseline {v}")))?;
                        (0..=at).for_each(&mut push);
                        continue;
                    }
                    "UNDO_SQL" | "UNDO_JDBC" | "UNDO_SCRIPT" | "DELETE" if !version.is_empty() => {
                        set(flyway_number(version)?, None);
                        continue;
                    }
                    _ => continue,
                }
                if version.is_empty() {
                    // A repeatable migration: its latest row counts; applied again by `up`
                    // when the file changed since (as Flyway would).
                    let script = row[4].trim();
                    let latest = rows
                        .iter()
                        .rev()
                        .find(|r| r[0].trim().is_empty() && r[4].trim() == script)
                        .is_some_and(|r| std::ptr::eq(r, row));
                    if !latest {
                        continue;
                    }
                    let i = files
                        .iter()
                        .position(|f| f.repeatable && is_script(f, script))
                        .ok_or_else(|| no_file(script))?;
                    if checksum.is_empty()
                        || checksum == flyway_checksum(&raw(&files[i])?).to_string()
                    {
                        push(i);
                    }
                    continue;
                }
                set(
                    flyway_number(version)?,
                    Some((version.to_string(), checksum.to_string())),
                );
            }
            for (v, state) in versioned {
                let Some((version, checksum)) = state else {
                    continue;
                };
                let checksum = checksum.as_str();
                let i = by_version(v).ok_or_else(|| no_file(&format!("version {version}")))?;
                if !checksum.is_empty() && checksum != flyway_checksum(&raw(&files[i])?).to_string()
                {
                    return Err(differs(tool, &files[i], v));
                }
                push(i);
            }
        }
        Tool::GolangMigrate => {
            let Some(row) = rows.first() else {
                return Ok(Vec::new());
            };
            if rows.len() > 1 {
                return Err(format!(
                    "{table} holds {} rows; golang-migrate keeps one (its current version): find out which is right, leave only it, and run the baseline again",
                    rows.len()
                ));
            }
            let version = number(&row[0])?;
            if row[1] == "1" {
                return Err(format!(
                    "golang-migrate left version {version} dirty (in {table}): fix the schema by hand, `migrate force` it with golang-migrate, and run the baseline again"
                ));
            }
            let at = by_version(version).ok_or_else(|| no_file(&format!("version {version}")))?;
            (0..=at).for_each(&mut push);
        }
        Tool::Goose => {
            // The latest row of each version says whether it is applied.
            let mut state: Vec<(u64, bool)> = Vec::new();
            for row in rows {
                let version = number(&row[0])?;
                match state.iter_mut().find(|(v, _)| *v == version) {
                    Some(entry) => entry.1 = row[1] == "1",
                    None => state.push((version, row[1] == "1")),
                }
            }
            for (version, on) in state {
                // goose's first row (version 0) marks the table's creation.
                if !on || version == 0 {
                    continue;
                }
                push(by_version(version).ok_or_else(|| no_file(&format!("version {version}")))?);
            }
        }
        Tool::Dbmate => {
            for row in rows {
                let version = number(&row[0])?;
                push(by_version(version).ok_or_else(|| no_file(&format!("version {version}")))?);
            }
        }
        Tool::Diesel => {
            for row in rows {
                let v = row[0].trim();
                // diesel's own setup row is not a file.
                if v == "00000000000000" && by_version(0).is_none() {
                    continue;
                }
                let key = name::diesel_key(v).ok_or_else(|| {
                    format!("{table} holds version `{v}`, which is not a diesel version a folder here can have")
                })?;
                push(by_version(key).ok_or_else(|| no_file(&format!("version {v}")))?);
            }
        }
        Tool::SqlMigrate => {
            for row in rows {
                let id = row[0].trim();
                let i = files
                    .iter()
                    .position(|f| f.path.file_name().is_some_and(|n| n == id))
                    .ok_or_else(|| no_file(id))?;
                push(i);
            }
        }
        Tool::Prisma => {
            for row in rows {
                let (name, checksum, finished, rolled_back) =
                    (row[0].trim(), row[1].trim(), &row[2], &row[3]);
                if rolled_back == "1" {
                    continue;
                }
                if finished != "1" {
                    return Err(format!(
                        "Prisma's migration {name} did not finish (no finished_at in {table}): fix it and mark it with `prisma migrate resolve --applied` or `--rolled-back`, then run the baseline again"
                    ));
                }
                let i = files
                    .iter()
                    .position(|f| folder(f) == Some(name))
                    .ok_or_else(|| no_file(name))?;
                let bytes = raw(&files[i])?;
                let lf = String::from_utf8_lossy(&bytes).replace("\r\n", "\n");
                let matches = |digest: &[u8]| hex(digest).eq_ignore_ascii_case(checksum);
                if !matches(&Sha256::digest(&bytes)) && !matches(&Sha256::digest(lf.as_bytes())) {
                    return Err(differs(tool, &files[i], files[i].version.unwrap_or(0)));
                }
                push(i);
            }
        }
    }
    found.sort_unstable();
    Ok(found)
}

/// Whether Flyway's `script` column names `file`: its name, or a path below the location
/// ending in it (Flyway reads subfolders).
fn is_script(file: &SourceFile, script: &str) -> bool {
    file.path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|name| {
            script == name
                || script
                    .strip_suffix(name)
                    .is_some_and(|dir| dir.ends_with('/') || dir.ends_with('\\'))
        })
}

/// The file's bytes as the other tool read them (no normalising: their checksums are of these).
fn raw(file: &SourceFile) -> Result<Vec<u8>, String> {
    std::fs::read(&file.path).map_err(|e| format!("cannot read {}: {e}", file.display))
}

/// The migration folder of a Prisma file (`<timestamp>_<name>/migration.sql`).
fn folder(file: &SourceFile) -> Option<&str> {
    file.path.parent()?.file_name()?.to_str()
}

fn differs(tool: Tool, file: &SourceFile, version: u64) -> String {
    format!(
        "{} differs from what {} applied as version {version} (its checksum in the history does not match the file): restore the applied text, or adopt the database as it is with `migrate baseline VERSION` after checking the schema by hand",
        file.display,
        tool.name()
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Flyway's checksum: CRC-32 (IEEE) over the file's lines, each without its line ending (and
/// the first without a BOM), as a signed 32-bit number.
pub fn flyway_checksum(bytes: &[u8]) -> i32 {
    let text = String::from_utf8_lossy(bytes);
    let mut crc = Crc32::new();
    let mut first = true;
    let mut rest: &str = &text;
    while !rest.is_empty() {
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let mut line = &rest[..end];
        if first {
            line = line.trim_start_matches('\u{feff}');
            first = false;
        }
        crc.update(line.as_bytes());
        rest = &rest[end..];
        if let Some(r) = rest.strip_prefix("\r\n") {
            rest = r;
        } else if !rest.is_empty() {
            rest = &rest[1..];
        }
    }
    crc.finish() as i32
}

/// CRC-32 with the IEEE polynomial (zlib's, Java's `java.util.zip.CRC32`).
struct Crc32 {
    table: [u32; 256],
    value: u32,
}

impl Crc32 {
    fn new() -> Crc32 {
        let mut table = [0u32; 256];
        for (n, slot) in table.iter_mut().enumerate() {
            let mut c = n as u32;
            for _ in 0..8 {
                c = if c & 1 != 0 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                };
            }
            *slot = c;
        }
        Crc32 {
            table,
            value: 0xFFFF_FFFF,
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.value =
                self.table[((self.value ^ u32::from(b)) & 0xFF) as usize] ^ (self.value >> 8);
        }
    }

    fn finish(&self) -> u32 {
        self.value ^ 0xFFFF_FFFF
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        let mut crc = Crc32::new();
        crc.update(b"123456789");
        assert_eq!(crc.finish(), 0xCBF4_3926);
    }

    #[test]
    fn flyway_checksum_ignores_line_endings_and_a_bom() {
        let lf = flyway_checksum(b"CREATE TABLE a (id int);\nSELECT 1;\n");
        assert_eq!(
            lf,
            flyway_checksum(b"CREATE TABLE a (id int);\r\nSELECT 1;\r\n")
        );
        assert_eq!(
            lf,
            flyway_checksum("\u{feff}CREATE TABLE a (id int);\nSELECT 1;".as_bytes())
        );
        assert_ne!(
            lf,
            flyway_checksum(b"CREATE TABLE a (id int);\nSELECT 2;\n")
        );
    }
}
