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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// `<version>_<description>[.up].sql`, the whole file is the migration.
    #[default]
    Migrate,
    /// goose: `-- +goose Up` / `-- +goose Down` sections, `-- +goose NO TRANSACTION`.
    Goose,
    /// dbmate: `-- migrate:up [transaction:false]` / `-- migrate:down` sections.
    Dbmate,
    /// sql-migrate: `-- +migrate Up [notransaction]` / `-- +migrate Down` sections.
    SqlMigrate,
}

impl Layout {
    /// The name written in `migrate.toml`.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Migrate => "migrate",
            Layout::Goose => "goose",
            Layout::Dbmate => "dbmate",
            Layout::SqlMigrate => "sql-migrate",
        }
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
    let comment = line.trim().strip_prefix("--")?.trim();
    let lower = comment.to_ascii_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let sectioned = |rest: &[&str]| match rest {
        ["up"] => Some(Marker::Up {
            no_transaction: false,
        }),
        ["up", "notransaction"] if layout == Layout::SqlMigrate => Some(Marker::Up {
            no_transaction: true,
        }),
        ["down", ..] => Some(Marker::Down),
        ["no", "transaction"] if layout == Layout::Goose => Some(Marker::NoTransaction),
        ["statementbegin"] | ["statementend"] => Some(Marker::Block),
        _ => Some(Marker::Unsupported),
    };
    match (layout, words.split_first()?) {
        (Layout::Goose, (&"+goose", rest)) | (Layout::SqlMigrate, (&"+migrate", rest)) => {
            sectioned(rest)
        }
        (Layout::Dbmate, (&"migrate:up", rest)) => Some(Marker::Up {
            no_transaction: rest.contains(&"transaction:false"),
        }),
        (Layout::Dbmate, (&"migrate:down", _)) => Some(Marker::Down),
        _ => None,
    }
}

/// Why a file cannot be read in its layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutProblem {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// The file as `migrate` runs it: its Up section, every other line blanked.
pub fn up_section(layout: Layout, text: &str) -> Result<String, LayoutProblem> {
    if layout == Layout::Migrate {
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
    let mut up_line: Option<(usize, usize)> = None; // (line, offset in out)
    let mut no_transaction = false;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let newline = if line.ends_with('\n') { "\n" } else { "" };
        let problem = |message: String| LayoutProblem {
            line: i + 1,
            message,
        };
        match marker(layout, line) {
            Some(Marker::Up {
                no_transaction: off,
            }) => {
                if up_line.is_some() {
                    return Err(problem(format!(
                        "a second Up marker (`{}`): a {} file has one Up section",
                        line.trim(),
                        layout.name()
                    )));
                }
                no_transaction |= off;
                state = State::Up;
                up_line = Some((i + 1, out.len()));
                out.push_str(line);
            }
            Some(Marker::Down) => {
                state = State::Down;
                out.push_str(newline);
            }
            Some(Marker::NoTransaction) => {
                no_transaction = true;
                out.push_str(newline);
            }
            Some(Marker::Unsupported) => {
                return Err(problem(format!(
                    "`{}` is a {} marker `migrate` cannot honour",
                    line.trim(),
                    layout.name()
                )));
            }
            Some(Marker::Block) | None => match state {
                State::Up => out.push_str(line),
                State::Down => out.push_str(newline),
                State::Before => {
                    let t = line.trim();
                    if !t.is_empty() && !t.starts_with("--") {
                        return Err(problem(format!(
                            "SQL before the Up marker: in the {} layout a migration's statements follow its Up marker",
                            layout.name()
                        )));
                    }
                    out.push_str(line);
                }
            },
        }
    }
    let Some((_, at)) = up_line else {
        // A file with nothing but comments is an empty migration; SQL needs an Up marker.
        return Ok(out);
    };
    if no_transaction {
        let end = out[at..].find('\n').map_or(out.len(), |p| at + p);
        out.replace_range(at..end, "-- migrate:no-transaction");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goose_reads_the_up_section_only_with_lines_kept() {
        let text = "-- a comment\n-- +goose Up\nCREATE TABLE a (id int);\n\n-- +goose Down\nDROP TABLE a;\n";
        let up = up_section(Layout::Goose, text).unwrap();
        assert_eq!(
            up,
            "-- a comment\n-- +goose Up\nCREATE TABLE a (id int);\n\n\n\n"
        );
        assert_eq!(up.lines().count(), text.lines().count());
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
            "-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY i ON a (id);\n\n\n"
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
