//! How a migration directory is written: `migrate`'s own layout, or one of the tools that keep
//! the Up and Down parts in one file (goose, sql-migrate, dbmate).
//!
//! For those, a file is read as its Up section only: every line outside it (the Down section,
//! and the markers that do not belong to it) is blanked, keeping its newline, so lines and
//! columns stay those of the file and nothing of the Down section is analysed, checksummed or
//! run. A marker that turns the transaction off becomes `-- migrate:no-transaction` on the Up
//! marker's line; `StatementBegin`/`StatementEnd` blocks stay for the splitter, which keeps
//! each one as one statement.

use serde::Deserialize;

/// The layout of the migration files (`layout` in `migrate.toml`, `--layout`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// Decided from the files: markers, name patterns, `migration_lock.toml` ([`super::detect`]).
    #[default]
    Auto,
    /// `<version>_<description>[.up].sql`, the whole file is the migration.
    Migrate,
    /// sqlx: `<version>_<description>[.up].sql`, `-- no-transaction` on the first line.
    Sqlx,
    /// golang-migrate: `<version>_<description>.up.sql` (and `.down.sql`).
    GolangMigrate,
    /// Flyway: `V<version>__<description>.sql`, `.sql.conf` `executeInTransaction=false`.
    Flyway,
    /// goose: `-- +goose Up` / `-- +goose Down` sections, `-- +goose NO TRANSACTION`.
    Goose,
    /// dbmate: `-- migrate:up [transaction:false]` / `-- migrate:down` sections.
    Dbmate,
    /// sql-migrate: `-- +migrate Up [notransaction]` / `-- +migrate Down` sections.
    SqlMigrate,
    /// diesel: folders `<version>_<name>/up.sql`, `metadata.toml` `run_in_transaction = false`.
    Diesel,
    /// Prisma: folders `<timestamp>_<name>/migration.sql`, `migration_lock.toml`.
    Prisma,
}

impl Layout {
    /// Every layout a directory can have (not [`Layout::Auto`]).
    pub const CONCRETE: [Layout; 9] = [
        Layout::Migrate,
        Layout::Sqlx,
        Layout::GolangMigrate,
        Layout::Flyway,
        Layout::Goose,
        Layout::Dbmate,
        Layout::SqlMigrate,
        Layout::Diesel,
        Layout::Prisma,
    ];

    /// The name written in `migrate.toml`.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Auto => "auto",
            Layout::Migrate => "migrate",
            Layout::Sqlx => "sqlx",
            Layout::GolangMigrate => "golang-migrate",
            Layout::Flyway => "flyway",
            Layout::Goose => "goose",
            Layout::Dbmate => "dbmate",
            Layout::SqlMigrate => "sql-migrate",
            Layout::Diesel => "diesel",
            Layout::Prisma => "prisma",
        }
    }

    /// The files this layout applies, for a message about a directory that has none.
    pub fn expects(self) -> &'static str {
        match self {
            Layout::Auto => "files in one of the layouts in docs/check.md",
            Layout::Migrate | Layout::Sqlx => "`<version>_<description>.sql` (or `.up.sql`) files",
            Layout::GolangMigrate => "`<version>_<description>.up.sql` files",
            Layout::Flyway => "`V<version>__<description>.sql` or `R__<description>.sql` files",
            Layout::Goose => "`<version>_<description>.sql` files with `-- +goose Up` sections",
            Layout::Dbmate => "`<version>_<description>.sql` files with `-- migrate:up` sections",
            Layout::SqlMigrate => "`.sql` files with `-- +migrate Up` sections",
            Layout::Diesel => "`<version>_<name>/up.sql` folders",
            Layout::Prisma => "`<timestamp>_<name>/migration.sql` folders",
        }
    }

    /// The layout named `name` (as in `migrate.toml`).
    pub fn from_name(name: &str) -> Option<Layout> {
        Layout::CONCRETE
            .into_iter()
            .chain([Layout::Auto])
            .find(|l| l.name() == name)
    }

    /// Up and Down sections in one file (goose, dbmate, sql-migrate).
    pub fn sectioned(self) -> bool {
        matches!(self, Layout::Goose | Layout::Dbmate | Layout::SqlMigrate)
    }
}

/// What a marker line of a sectioned layout says.
#[derive(Debug, PartialEq, Eq)]
enum Marker {
    Up {
        no_transaction: bool,
    },
    Down,
    NoTransaction,
    /// `StatementBegin`/`StatementEnd`: kept for the splitter.
    Block,
    /// A marker of the tool this layout cannot honour (goose's `ENVSUB`, ...).
    Unsupported,
}

fn marker(layout: Layout, line: &str) -> Option<Marker> {
    use super::marker::Kind;
    let found = super::marker::parse(line.trim().strip_prefix("--")?)?;
    if found.tool != layout {
        return None;
    }
    Some(match found.kind {
        Kind::Up { no_transaction, .. } => Marker::Up { no_transaction },
        Kind::Down => Marker::Down,
        Kind::NoTransaction if layout == Layout::Goose => Marker::NoTransaction,
        Kind::Block { extra: false, .. } => Marker::Block,
        Kind::NoTransaction | Kind::Block { .. } | Kind::Other => Marker::Unsupported,
    })
}

/// Why a file cannot be read in its layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutProblem {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// A construct a line can leave open, for the next lines.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Open {
    No,
    Comment,
    Quote(u8),
    Dollar(Vec<u8>),
}

impl Open {
    fn what(&self) -> &'static str {
        match self {
            Open::No => "",
            Open::Comment => "a /* comment",
            Open::Quote(b'\'') => "a quoted string",
            Open::Quote(_) => "a quoted name",
            Open::Dollar(_) => "a dollar-quoted body",
        }
    }

    /// The state after `line`, from this one. Approximate on purpose where the dialect
    /// matters (no nesting of comments, no backslash escapes): it only decides whether a
    /// marker line sits inside SQL text, where a wrong "open" refuses the file, never runs it.
    fn after(mut self, line: &[u8]) -> Open {
        let mut i = 0;
        while i < line.len() {
            match &self {
                Open::No => match line[i] {
                    b'-' if line.get(i + 1) == Some(&b'-') => return Open::No,
                    b'/' if line.get(i + 1) == Some(&b'*') => {
                        self = Open::Comment;
                        i += 1;
                    }
                    q @ (b'\'' | b'"' | b'`') => self = Open::Quote(q),
                    b'$' if i == 0
                        || !(line[i - 1].is_ascii_alphanumeric() || line[i - 1] == b'_') =>
                    {
                        let tag = line[i + 1..]
                            .iter()
                            .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                            .count();
                        if line.get(i + 1 + tag) == Some(&b'$') {
                            self = Open::Dollar(line[i..=i + 1 + tag].to_vec());
                            i += 1 + tag;
                        }
                    }
                    _ => {}
                },
                Open::Comment => {
                    if line[i] == b'*' && line.get(i + 1) == Some(&b'/') {
                        self = Open::No;
                        i += 1;
                    }
                }
                Open::Quote(q) => {
                    if line[i] == *q {
                        if line.get(i + 1) == Some(q) {
                            i += 1;
                        } else {
                            self = Open::No;
                        }
                    }
                }
                Open::Dollar(tag) => {
                    if line[i..].starts_with(tag) {
                        i += tag.len() - 1;
                        self = Open::No;
                    }
                }
            }
            i += 1;
        }
        self
    }
}

/// The file as `migrate` runs it: its Up section, every other line blanked (trailing blank
/// lines dropped, so the Down section's length does not change the checksum).
pub fn up_section(layout: Layout, text: &str) -> Result<String, LayoutProblem> {
    if layout == Layout::Sqlx {
        return Ok(sqlx_directive(text));
    }
    if !layout.sectioned() {
        return Ok(text.to_string());
    }
    #[derive(PartialEq)]
    enum State {
        Before,
        Up,
        Down,
    }
    let mut state = State::Before;
    let mut out = String::with_capacity(text.len());
    let mut up_at: Option<usize> = None; // offset of the Up marker line in `out`
    let mut down_line: Option<usize> = None;
    let mut no_transaction = false;
    let mut open = Open::No;
    // The open StatementBegin (its line), and whether the block's text so far ends with `;`.
    let mut block: Option<usize> = None;
    let mut block_terminated = true;
    let name = layout.name();
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let newline = if line.ends_with('\n') { "\n" } else { "" };
        let problem = |message: String| LayoutProblem {
            line: i + 1,
            message,
        };
        let found = marker(layout, line);
        if found.is_some() && open != Open::No {
            return Err(problem(format!(
                "`{}` sits inside {} that an earlier line of the section leaves open",
                line.trim(),
                open.what()
            )));
        }
        let leaves_section = matches!(found, Some(Marker::Up { .. } | Marker::Down));
        if leaves_section && let Some(at) = block {
            return Err(problem(format!(
                "the StatementBegin of line {at} has no StatementEnd in its section"
            )));
        }
        match found {
            Some(Marker::Up {
                no_transaction: off,
            }) => {
                if up_at.is_some() {
                    return Err(problem(format!(
                        "a second Up marker (`{}`): a {name} file has one Up section",
                        line.trim()
                    )));
                }
                no_transaction |= off;
                state = State::Up;
                up_at = Some(out.len());
                out.push_str(line);
            }
            Some(Marker::Down) => {
                state = State::Down;
                down_line.get_or_insert(i + 1);
                out.push_str(newline);
            }
            Some(Marker::NoTransaction) => {
                no_transaction = true;
                out.push_str(newline);
            }
            Some(Marker::Unsupported) => {
                return Err(problem(format!(
                    "`{}` is a {name} marker `migrate` cannot honour",
                    line.trim()
                )));
            }
            Some(Marker::Block) => {
                let begins = line.to_ascii_lowercase().contains("statementbegin");
                match (begins, block) {
                    (true, Some(at)) => {
                        return Err(problem(format!(
                            "a StatementBegin inside the block opened on line {at}"
                        )));
                    }
                    (false, None) => {
                        return Err(problem("a StatementEnd without its StatementBegin".into()));
                    }
                    (true, None) => {
                        block = Some(i + 1);
                        block_terminated = true;
                    }
                    (false, Some(_)) => block = None,
                }
                match state {
                    // A block need not end with `;`; a file runs as one batch, so the
                    // block's end gets one (on the marker's line: no statement moves).
                    State::Up if !begins && !block_terminated => {
                        out.push(';');
                        out.push_str(line);
                    }
                    State::Up | State::Before => out.push_str(line),
                    State::Down => out.push_str(newline),
                }
            }
            None => match state {
                State::Up => {
                    out.push_str(line);
                    open = std::mem::replace(&mut open, Open::No).after(line.as_bytes());
                    let t = line.trim();
                    if block.is_some() && !t.is_empty() && !t.starts_with("--") {
                        block_terminated = t.ends_with(';');
                    }
                }
                State::Down => out.push_str(newline),
                State::Before => {
                    let t = line.trim();
                    if !t.is_empty() && !t.starts_with("--") {
                        return Err(problem(format!(
                            "SQL before the Up marker: in the {name} layout a migration's statements follow its Up marker"
                        )));
                    }
                    out.push_str(line);
                }
            },
        }
        if leaves_section {
            open = Open::No;
        }
    }
    let lines = text.split_inclusive('\n').count();
    if let Some(at) = block {
        return Err(LayoutProblem {
            line: lines,
            message: format!("the StatementBegin of line {at} has no StatementEnd"),
        });
    }
    if state == State::Up && open != Open::No {
        return Err(LayoutProblem {
            line: lines,
            message: format!("the Up section ends inside {}", open.what()),
        });
    }
    let Some(at) = up_at else {
        if let Some(line) = down_line {
            return Err(LayoutProblem {
                line,
                message: "a Down section without an Up marker: the file has no migration to run"
                    .into(),
            });
        }
        // Nothing but comments: an empty migration.
        return Ok(out);
    };
    if no_transaction {
        let end = out[at..].find('\n').map_or(out.len(), |p| at + p);
        out.replace_range(at..end, "-- migrate:no-transaction");
    }
    let kept = out.trim_end().len();
    out.truncate(kept);
    out.push('\n');
    Ok(out)
}

/// Whether the settings `layout` keeps beside the file `rel` (relative to the directory) say it
/// runs outside a transaction: diesel's `<folder>/metadata.toml` with `run_in_transaction =
/// false`, Flyway's `<file>.conf` with `executeInTransaction=false`. `read` gives a file's text.
pub fn outside_transaction(
    layout: Layout,
    rel: &str,
    read: impl Fn(&str) -> Option<String>,
) -> Result<bool, ConfError> {
    if layout == Layout::Flyway {
        let conf = format!("{rel}.conf");
        return match read(&conf) {
            Some(text) => flyway_conf(&text).map_err(|(line, message)| ConfError {
                rel: conf,
                line,
                message,
            }),
            None => Ok(false),
        };
    }
    Ok(match layout {
        Layout::Diesel => {
            let Some((folder, _)) = rel.split_once('/') else {
                return Ok(false);
            };
            // As diesel reads it: a metadata.toml that parses without the key means false; one
            // that does not parse (or a value that is not a boolean) is ignored.
            let Some(table) = read(&format!("{folder}/metadata.toml"))
                .and_then(|text| text.parse::<toml::Table>().ok())
            else {
                return Ok(false);
            };
            match table.get("run_in_transaction") {
                None => true,
                Some(value) => value.as_bool() == Some(false),
            }
        }
        _ => false,
    })
}

/// The first Flyway placeholder (`${name}`, `${flyway:user}`) in `text`: 1-based line and
/// the placeholder. Flyway replaces them anywhere in the script.
pub fn flyway_placeholder(text: &str) -> Option<(usize, &str)> {
    let mut from = 0;
    while let Some(at) = text[from..].find("${") {
        let start = from + at;
        let rest = &text[start + 2..];
        let name_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || "_:.-".contains(c)))
            .unwrap_or(rest.len());
        if name_len > 0 && rest[name_len..].starts_with('}') {
            let line = text[..start].matches('\n').count() + 1;
            return Some((line, &text[start..start + 2 + name_len + 1]));
        }
        from = start + 2;
    }
    None
}

/// A Flyway script configuration (`<file>.conf`) `migrate` cannot honour as Flyway would.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfError {
    /// The `.conf` file, relative to the migration directory.
    pub rel: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Whether a Flyway script configuration runs its script outside a transaction: `key=value`
/// lines (`#` comments); `executeInTransaction` true or false, `encoding` UTF-8 only. Any
/// other key, or another value, is an error (Flyway refuses unknown options too; running the
/// script otherwise than its configuration says would be worse).
fn flyway_conf(text: &str) -> Result<bool, (usize, String)> {
    let mut outside = false;
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err((i + 1, format!("`{line}` is not `key=value`")));
        };
        let (key, value) = (key.trim(), value.trim());
        match key {
            "executeInTransaction" if value.eq_ignore_ascii_case("false") => outside = true,
            "executeInTransaction" if value.eq_ignore_ascii_case("true") => outside = false,
            "executeInTransaction" => {
                return Err((
                    i + 1,
                    format!("executeInTransaction={value}: expected true or false"),
                ));
            }
            "encoding"
                if value.eq_ignore_ascii_case("utf-8") || value.eq_ignore_ascii_case("utf8") => {}
            "encoding" => {
                return Err((i + 1, format!("encoding={value}: migrate reads UTF-8 only")));
            }
            _ => {
                return Err((
                    i + 1,
                    format!(
                        "unknown script configuration `{key}` (migrate honours executeInTransaction and encoding)"
                    ),
                ));
            }
        }
    }
    Ok(outside)
}

/// sqlx's `-- no-transaction` (its first line) as `-- migrate:no-transaction`, in place.
fn sqlx_directive(text: &str) -> String {
    let first = text.split('\n').next().unwrap_or("");
    if is_sqlx_no_transaction(first) {
        format!("-- migrate:no-transaction{}", &text[first.len()..])
    } else {
        text.to_string()
    }
}

/// sqlx's marker, which counts on the first line only (as sqlx reads it).
pub fn is_sqlx_no_transaction(first_line: &str) -> bool {
    first_line.starts_with("-- no-transaction")
}

#[cfg(test)]
mod tests {
    #[test]
    fn flyway_script_configuration_and_placeholders() {
        assert_eq!(super::flyway_conf("executeInTransaction=false\n"), Ok(true));
        assert_eq!(
            super::flyway_conf("# c\nexecuteInTransaction = FALSE\n"),
            Ok(true)
        );
        assert_eq!(
            super::flyway_conf("executeInTransaction=true\nencoding=UTF-8\n"),
            Ok(false)
        );
        assert!(super::flyway_conf("executeInTransaction=no\n").is_err());
        assert_eq!(
            super::flyway_conf("\nshouldExecute=false\n").map_err(|e| e.0),
            Err(2)
        );
        assert_eq!(
            super::flyway_placeholder("SELECT 1;\nINSERT INTO t VALUES ('${app_schema}');\n"),
            Some((2, "${app_schema}"))
        );
        assert_eq!(
            super::flyway_placeholder("SELECT '${flyway:user}'"),
            Some((1, "${flyway:user}"))
        );
        assert_eq!(
            super::flyway_placeholder("SELECT '$' || '{x}', '${}'"),
            None
        );
    }

    use super::*;

    #[test]
    fn goose_reads_the_up_section_only_with_lines_kept() {
        let text = "-- a comment\n-- +goose Up\nCREATE TABLE a (id int);\n\n-- +goose Down\nDROP TABLE a;\n";
        let up = up_section(Layout::Goose, text).unwrap();
        assert_eq!(up, "-- a comment\n-- +goose Up\nCREATE TABLE a (id int);\n");
        // The Down section's length does not change the text (nor its checksum).
        let longer = format!("{text}-- more notes\n\n\n");
        assert_eq!(up_section(Layout::Goose, &longer).unwrap(), up);
        // A Down section before the Up section keeps its lines blank: positions hold.
        let first = "-- +goose Down\nDROP TABLE a;\n-- +goose Up\nCREATE TABLE a (id int);\n";
        assert_eq!(
            up_section(Layout::Goose, first).unwrap(),
            "\n\n-- +goose Up\nCREATE TABLE a (id int);\n"
        );
    }

    #[test]
    fn sections_that_would_lose_or_run_the_wrong_sql_are_refused() {
        let refused = [
            // the Up section ends inside a comment, string or body: its tail would be lost
            (
                "-- +goose Up\nCREATE TABLE a (id int);\n/*\n-- +goose Down\n*/\nCREATE TABLE b (id int);\n",
                4,
            ),
            (
                "-- +goose Up\nINSERT INTO a VALUES ('x\n-- +goose Down\n');\n",
                3,
            ),
            (
                "-- +goose Up\nCREATE FUNCTION f() RETURNS int AS $f$\n-- +goose Down\n$f$;\n",
                3,
            ),
            ("-- +goose Up\nSELECT 1; /* never closed\n", 2),
            // a Down section and no Up marker
            ("-- +goose Down\nDROP TABLE x;\n", 1),
            // unpaired blocks
            ("-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n", 3),
            (
                "-- +goose Up\n-- +goose StatementBegin\nSELECT 1;\n-- +goose Down\n-- +goose StatementEnd\n",
                4,
            ),
            ("-- +goose Up\nSELECT 1;\n-- +goose StatementEnd\n", 3),
            (
                "-- +goose Up\n-- +goose StatementBegin\n-- +goose StatementBegin\n",
                3,
            ),
        ];
        for (text, line) in refused {
            let problem = up_section(Layout::Goose, text).unwrap_err();
            assert_eq!(problem.line, line, "{text}: {}", problem.message);
        }
        let dbmate = "-- migrate:down\nDROP TABLE x;\n";
        assert!(up_section(Layout::Dbmate, dbmate).is_err());
        // A closed comment, string and body before the Down marker are fine.
        let fine = "-- +goose Up\n/* a\n b */ SELECT 'it''s\n'; SELECT $$ x\n $$;\n-- +goose Down\nSELECT 1;\n";
        assert!(up_section(Layout::Goose, fine).is_ok());
    }

    #[test]
    fn a_block_without_its_semicolon_gets_one_on_the_end_marker_line() {
        let text = "-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE h (id int)\n-- +goose StatementEnd\n-- +goose StatementBegin\nCREATE TABLE i (id int);\n-- +goose StatementEnd\n";
        assert_eq!(
            up_section(Layout::Goose, text).unwrap(),
            "-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE h (id int)\n;-- +goose StatementEnd\n-- +goose StatementBegin\nCREATE TABLE i (id int);\n-- +goose StatementEnd\n"
        );
    }

    #[test]
    fn transaction_markers_become_the_directive() {
        let goose =
            "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON a (id);\n";
        assert_eq!(
            up_section(Layout::Goose, goose).unwrap(),
            "\n-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY i ON a (id);\n"
        );
        let dbmate = "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON a (id);\n-- migrate:down\nDROP INDEX i;\n";
        assert_eq!(
            up_section(Layout::Dbmate, dbmate).unwrap(),
            "-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY i ON a (id);\n"
        );
        let sql_migrate = "-- +migrate Up notransaction\nCREATE INDEX CONCURRENTLY i ON a (id);\n";
        assert!(
            up_section(Layout::SqlMigrate, sql_migrate)
                .unwrap()
                .starts_with("-- migrate:no-transaction\n")
        );
    }

    #[test]
    fn problems_name_the_line() {
        let before = "CREATE TABLE a (id int);\n-- +goose Up\n";
        assert_eq!(up_section(Layout::Goose, before).unwrap_err().line, 1);
        let twice = "-- +goose Up\nSELECT 1;\n-- +goose Up\n";
        assert_eq!(up_section(Layout::Goose, twice).unwrap_err().line, 3);
        let envsub = "-- +goose ENVSUB ON\n-- +goose Up\nSELECT 1;\n";
        assert_eq!(up_section(Layout::Goose, envsub).unwrap_err().line, 1);
        // Trailing words after a section marker are a comment, as for Down.
        assert!(up_section(Layout::Goose, "-- +goose Up -- first\nSELECT 1;\n").is_ok());
    }

    #[test]
    fn other_tools_markers_and_the_migrate_layout_are_left_alone() {
        let text = "-- +migrate Down\nSELECT 1;\n";
        assert!(up_section(Layout::Goose, text).is_err()); // SQL before goose's Up marker
        assert_eq!(up_section(Layout::Migrate, text).unwrap(), text);
        let blocks =
            "-- +goose Up\n-- +goose StatementBegin\nSELECT 1; SELECT 2;\n-- +goose StatementEnd\n";
        assert_eq!(up_section(Layout::Goose, blocks).unwrap(), blocks);
    }
}
