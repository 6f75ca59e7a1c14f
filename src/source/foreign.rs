//! Section markers of other migration tools (goose, sql-migrate, dbmate) in a file `migrate`
//! reads as one migration.
//!
//! Those tools keep the rollback in the same file as the migration, below a `Down` marker:
//! read as one stream of statements, the file would create a table and drop it again, and
//! `check` would judge the rollback as part of the release. Until such a layout is declared
//! (issue: layouts), a marker that changes what the file means is refused when the file is
//! read, before anything is analysed or run: a `Down` section, a statement block
//! (`StatementBegin`/`StatementEnd`, whose semicolons do not end statements), a marker that
//! turns the transaction off. A lone `Up` marker is harmless (the whole file is the Up
//! section) and is read as the comment it is to `migrate`.

/// A marker that makes a file mean something else than its statements read in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignMarker {
    /// 1-based line of the marker.
    pub line: usize,
    /// The marker as written (trimmed).
    pub marker: String,
    /// The tool it belongs to.
    pub tool: &'static str,
    /// What reading the file as one migration would do wrong, and what to do instead.
    pub consequence: &'static str,
}

const DOWN: &str = "its Down section would be analysed and run as part of the migration; move \
    the rollback to a `.down.sql` file (which `migrate` never runs) or delete it";
const BLOCK: &str = "its statement block holds semicolons that do not end statements; remove the \
    markers (`migrate` keeps routine bodies and dollar quotes together by itself)";
const NO_TRANSACTION: &str = "the file must run outside a transaction; write \
    `-- migrate:no-transaction` on its first line instead";
const UNKNOWN: &str = "`migrate` does not know what it changes; remove it";

/// The first marker of another tool in `text` that changes what the file means, if any.
pub fn dangerous_marker(text: &str) -> Option<ForeignMarker> {
    dangerous_markers(text).next()
}

/// Every marker of another tool in `text` that changes what the file means.
pub fn dangerous_markers(text: &str) -> impl Iterator<Item = ForeignMarker> + '_ {
    tool_markers(text).filter_map(|(marker, dangerous)| dangerous.then_some(marker))
}

/// Every marker of another tool in `text`, with whether it changes what the file means (a
/// lone Up marker does not; it is still a sign of the layout, for [`super::detect`]).
pub fn tool_markers(text: &str) -> impl Iterator<Item = (ForeignMarker, bool)> + '_ {
    text.lines().enumerate().filter_map(|(i, line)| {
        let marker = line.trim();
        if i == 0 && super::layout::is_sqlx_no_transaction(line) {
            let found = ForeignMarker {
                line: 1,
                marker: marker.to_string(),
                tool: "sqlx",
                consequence: NO_TRANSACTION,
            };
            return Some((found, true));
        }
        let comment = marker.strip_prefix("--")?.trim_start();
        let (tool, consequence) = judge(comment)?;
        let found = ForeignMarker {
            line: i + 1,
            marker: marker.to_string(),
            tool,
            consequence: consequence.unwrap_or(""),
        };
        Some((found, consequence.is_some()))
    })
}

/// `(tool, consequence)` for a comment (after `--`) that is a tool's marker; the consequence
/// is `None` for a harmless one (a lone Up marker).
fn judge(comment: &str) -> Option<(&'static str, Option<&'static str>)> {
    use super::marker::Kind;
    let found = super::marker::parse(comment)?;
    let consequence = match found.kind {
        Kind::Up {
            no_transaction: false,
            extra: false,
        } => None,
        Kind::Up {
            no_transaction: true,
            ..
        } => Some(NO_TRANSACTION),
        Kind::Up { extra: true, .. } | Kind::Other => Some(UNKNOWN),
        Kind::Down => Some(DOWN),
        Kind::NoTransaction => Some(NO_TRANSACTION),
        Kind::Block { .. } => Some(BLOCK),
    };
    Some((found.tool.name(), consequence))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool_and_line(text: &str) -> Option<(&'static str, usize)> {
        dangerous_marker(text).map(|m| (m.tool, m.line))
    }

    #[test]
    fn down_sections_of_each_tool_are_found() {
        let goose = "-- +goose Up\nCREATE TABLE a (id int);\n\n-- +goose Down\nDROP TABLE a;\n";
        assert_eq!(tool_and_line(goose), Some(("goose", 4)));
        let sql_migrate =
            "-- +migrate Up\nCREATE TABLE a (id int);\n-- +migrate Down\nDROP TABLE a;";
        assert_eq!(tool_and_line(sql_migrate), Some(("sql-migrate", 3)));
        let dbmate = "-- migrate:up\nCREATE TABLE a (id int);\n\n-- migrate:down\nDROP TABLE a;";
        assert_eq!(tool_and_line(dbmate), Some(("dbmate", 4)));
        let spaced = "  --   +GOOSE   down  \nDROP TABLE a;";
        assert_eq!(tool_and_line(spaced), Some(("goose", 1)));
        assert_eq!(dangerous_marker(goose).unwrap().marker, "-- +goose Down");
    }

    #[test]
    fn blocks_and_transaction_markers_are_found() {
        assert_eq!(
            dangerous_marker("-- +goose Up\n-- +goose StatementBegin\nCREATE FUNCTION ...")
                .map(|m| m.consequence),
            Some(BLOCK)
        );
        for text in [
            "-- +goose NO TRANSACTION\n-- +goose Up\nCREATE INDEX CONCURRENTLY i ON t (a);",
            "-- +migrate Up notransaction\nCREATE INDEX CONCURRENTLY i ON t (a);",
            "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);",
        ] {
            assert_eq!(
                dangerous_marker(text).map(|m| m.consequence),
                Some(NO_TRANSACTION),
                "{text}"
            );
        }
        assert_eq!(
            dangerous_marker("-- +goose ENVSUB ON\nSELECT 1;").map(|m| m.consequence),
            Some(UNKNOWN)
        );
        // sqlx reads its marker on the first line only.
        assert_eq!(
            tool_and_line("-- no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);"),
            Some(("sqlx", 1))
        );
    }

    #[test]
    fn harmless_text_is_not_a_marker() {
        for text in [
            "-- +goose Up\nCREATE TABLE a (id int);",
            "-- +migrate Up\n",
            "-- migrate:up\nCREATE TABLE a (id int);",
            "-- migrate:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);",
            "SELECT 1;\n-- no-transaction\n",
            "-- migrate:allow drop-table: unused since v2\nDROP TABLE a;",
            "-- goose down the hill\nSELECT 1;",
            "SELECT '-- +goose Down';",
            "CREATE TABLE downs (id int); -- +goose is mentioned here",
        ] {
            assert_eq!(dangerous_marker(text), None, "{text}");
        }
    }
}
