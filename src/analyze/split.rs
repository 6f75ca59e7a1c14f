//! A lexer-aware statement splitter that never fails.
//!
//! sqlparser is given one statement at a time (a whole large file in one call costs gigabytes),
//! and a statement it cannot parse must not hide the ones after it. So statements are found
//! here first: `;` ends a statement except inside strings, quoted identifiers, `--`/`#`/`/* */`
//! comments, dollar quotes and `BEGIN ... END` bodies of routines and triggers; MySQL client
//! `DELIMITER` lines are honoured. `-- migrate:` comments are collected on the way, so a
//! directive inside a string or a function body is never mistaken for one.

use crate::dialect::Dialect;

/// One statement's byte range in the file: from its first token to just after its terminator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// Offset of the first byte of the statement's first token.
    pub start: usize,
    /// Offset just past the statement (after `;` when present).
    pub end: usize,
}

/// A `-- migrate:...` line comment found outside strings and bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectiveComment {
    /// Offset of the `--`.
    pub start: usize,
    /// Offset just past the comment text (at the newline or end of file).
    pub end: usize,
}

/// The statements and directive comments of one file.
#[derive(Debug, Clone, Default)]
pub struct Split {
    /// Statements in file order.
    pub pieces: Vec<Piece>,
    /// Directive comments in file order.
    pub directives: Vec<DirectiveComment>,
}

/// Splits `text` into statements.
pub fn split(text: &str, dialect: Dialect) -> Split {
    Splitter {
        b: text.as_bytes(),
        dialect,
        out: Split::default(),
    }
    .run()
}

struct Splitter<'a> {
    b: &'a [u8],
    dialect: Dialect,
    out: Split,
}

/// What the statement being scanned has shown so far, to recognise routine bodies.
#[derive(Default)]
struct Statement {
    words: u8,
    starts_with_create: bool,
    routine: bool,
    body_depth: u32,
}

impl Statement {
    /// Takes the next word of the statement; `next` finds the one after it (only an `END`
    /// in a routine body needs it).
    fn word<'a>(&mut self, word: &[u8], next: impl FnOnce() -> &'a [u8]) {
        if self.words < 8 {
            if self.words == 0 {
                self.starts_with_create = word.eq_ignore_ascii_case(b"CREATE");
            } else if self.starts_with_create
                && [&b"TRIGGER"[..], b"FUNCTION", b"PROCEDURE", b"EVENT"]
                    .iter()
                    .any(|k| word.eq_ignore_ascii_case(k))
            {
                self.routine = true;
            }
            self.words += 1;
        }
        if !self.routine {
            return;
        }
        let opens_block = word.eq_ignore_ascii_case(b"BEGIN")
            || (word.eq_ignore_ascii_case(b"CASE") && self.body_depth > 0);
        if opens_block {
            self.body_depth += 1;
        } else if word.eq_ignore_ascii_case(b"END") && {
            let next = next();
            ![&b"IF"[..], b"LOOP", b"WHILE", b"REPEAT"]
                .iter()
                .any(|k| next.eq_ignore_ascii_case(k))
        } {
            self.body_depth = self.body_depth.saturating_sub(1);
        }
    }
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c >= 0x80
}

fn is_ident_char(c: u8) -> bool {
    is_ident_start(c) || c.is_ascii_digit() || c == b'$'
}

impl Splitter<'_> {
    fn run(mut self) -> Split {
        let b = self.b;
        let n = b.len();
        let mysql = self.dialect == Dialect::Mysql;
        let pg = self.dialect == Dialect::Postgres;
        let mut i = 0;
        let mut start: Option<usize> = None;
        let mut stmt = Statement::default();
        let mut delimiter: Vec<u8> = b";".to_vec();
        // A `DELIMITER` other than `;` is in force.
        let mut custom = false;
        while i < n {
            if custom && b[i..].starts_with(&delimiter) {
                if let Some(s) = start.take() {
                    self.out.pieces.push(Piece { start: s, end: i });
                }
                stmt = Statement::default();
                i += delimiter.len();
                continue;
            }
            let c = b[i];
            match c {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0c => i += 1,
                b'-' if b.get(i + 1) == Some(&b'-') => {
                    let end = line_end(b, i);
                    let body = &b[i + 2..end];
                    if let Some((last, after)) = statement_block(b, body, end) {
                        // goose's and sql-migrate's StatementBegin ... StatementEnd: one
                        // statement, however many semicolons.
                        if let Some(s) = start.take() {
                            self.out.pieces.push(Piece { start: s, end: i });
                        }
                        let first = end
                            + b[end..last]
                                .iter()
                                .take_while(|c| c.is_ascii_whitespace())
                                .count();
                        if first < last {
                            self.out.pieces.push(Piece {
                                start: first,
                                end: last,
                            });
                        }
                        stmt = Statement::default();
                        i = after;
                        continue;
                    }
                    // Also near misses (`Migrate:Backfill`, `migrate backfill`), which the
                    // analysis reports rather than reading as plain comments.
                    let word = body.trim_ascii_start();
                    if word.len() > 7
                        && word[..7].eq_ignore_ascii_case(b"migrate")
                        && matches!(word[7], b':' | b' ' | b'-' | b'_')
                    {
                        self.out.directives.push(DirectiveComment { start: i, end });
                    }
                    i = end;
                }
                b'#' if mysql => i = line_end(b, i),
                b'/' if b.get(i + 1) == Some(&b'*') => {
                    if mysql && b.get(i + 2) == Some(&b'!') {
                        // `/*! ... */` is executable in MySQL: part of the statement.
                        start.get_or_insert(i);
                    }
                    i = skip_block_comment(b, i, pg);
                }
                b'\'' => {
                    start.get_or_insert(i);
                    let escapes = mysql
                        || (pg
                            && i > 0
                            && (b[i - 1] == b'e' || b[i - 1] == b'E')
                            && (i < 2 || !is_ident_char(b[i - 2])));
                    i = skip_quoted(b, i, b'\'', escapes);
                }
                b'"' => {
                    start.get_or_insert(i);
                    i = skip_quoted(b, i, b'"', mysql);
                }
                b'`' if !pg => {
                    start.get_or_insert(i);
                    i = skip_quoted(b, i, b'`', false);
                }
                b'[' if self.dialect == Dialect::Sqlite => {
                    start.get_or_insert(i);
                    i = b[i..]
                        .iter()
                        .position(|&c| c == b']')
                        .map_or(n, |p| i + p + 1);
                }
                b'$' if pg && (i == 0 || !is_ident_char(b[i - 1])) => {
                    start.get_or_insert(i);
                    i = dollar_quote_end(b, i).unwrap_or(i + 1);
                }
                b';' if !custom => {
                    if stmt.body_depth > 0 {
                        i += 1;
                        continue;
                    }
                    if let Some(s) = start.take() {
                        self.out.pieces.push(Piece {
                            start: s,
                            end: i + 1,
                        });
                    }
                    stmt = Statement::default();
                    i += 1;
                }
                c if is_ident_start(c) => {
                    let word_start = i;
                    // A custom delimiter ends a word too (`END$$`: `$` is an identifier
                    // character, `$$` the delimiter).
                    while i < n
                        && is_ident_char(b[i])
                        && !(custom && b[i..].starts_with(&delimiter))
                    {
                        i += 1;
                    }
                    let word = &b[word_start..i];
                    if start.is_none() && mysql && word.eq_ignore_ascii_case(b"DELIMITER") {
                        let end = line_end(b, i);
                        let new = b[i..end].trim_ascii();
                        if !new.is_empty() {
                            delimiter = new.to_vec();
                            custom = delimiter != b";";
                        }
                        i = end;
                        continue;
                    }
                    start.get_or_insert(word_start);
                    stmt.word(word, || next_word(b, i));
                }
                _ => {
                    start.get_or_insert(i);
                    i += 1;
                }
            }
        }
        if let Some(s) = start {
            self.out.pieces.push(Piece { start: s, end: n });
        }
        self.out
    }
}

/// goose's or sql-migrate's `StatementBegin`/`StatementEnd` (alone on its line): the tool, and
/// whether it begins a block.
fn block_marker(body: &[u8]) -> Option<(crate::source::layout::Layout, bool)> {
    use crate::source::{layout::Layout, marker};
    let found = marker::parse(std::str::from_utf8(body).ok()?)?;
    match found.kind {
        marker::Kind::Block {
            begin,
            extra: false,
        } if matches!(found.tool, Layout::Goose | Layout::SqlMigrate) => Some((found.tool, begin)),
        _ => None,
    }
}

/// If `body` (a comment ending at `end`) opens a statement block, the end of the block's
/// text (before its `StatementEnd` line, trailing blanks left out) and the offset after that
/// line.
fn statement_block(b: &[u8], body: &[u8], end: usize) -> Option<(usize, usize)> {
    let (tool, begins) = block_marker(body)?;
    if !begins {
        return None;
    }
    let mut at = end;
    while at < b.len() {
        let line_start = at + 1;
        let line_stop = line_end(b, line_start.min(b.len()));
        let line = b.get(line_start..line_stop)?.trim_ascii();
        // The layout may have put the `;` a block lacked on its end marker's line.
        let line = line.strip_prefix(b";").unwrap_or(line).trim_ascii_start();
        if let Some(rest) = line.strip_prefix(b"--")
            && let Some((t, false)) = block_marker(rest)
            && t == tool
        {
            let content = &b[end..line_start];
            let last = end + content.len()
                - content
                    .iter()
                    .rev()
                    .take_while(|c| c.is_ascii_whitespace())
                    .count();
            return Some((last, line_stop));
        }
        at = line_stop;
    }
    None
}

fn line_end(b: &[u8], from: usize) -> usize {
    b[from..]
        .iter()
        .position(|&c| c == b'\n')
        .map_or(b.len(), |p| from + p)
}

fn next_word(b: &[u8], mut i: usize) -> &[u8] {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    let start = i;
    while i < b.len() && is_ident_char(b[i]) {
        i += 1;
    }
    &b[start..i]
}

/// Skips `/* ... */` starting at `i`; PostgreSQL nests them.
fn skip_block_comment(b: &[u8], mut i: usize, nested: bool) -> usize {
    let mut depth = 0usize;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            if depth == 0 || nested {
                depth += 1;
            }
            i += 2;
        } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// Skips a quoted string or identifier opened at `i`: a doubled quote stands for itself and,
/// with `escapes`, a backslash escapes the next byte. Unterminated quotes run to the end.
fn skip_quoted(b: &[u8], mut i: usize, quote: u8, escapes: bool) -> usize {
    i += 1;
    while i < b.len() {
        let c = b[i];
        if escapes && c == b'\\' {
            i += 2;
        } else if c == quote {
            if b.get(i + 1) == Some(&quote) {
                i += 2;
            } else {
                return i + 1;
            }
        } else {
            i += 1;
        }
    }
    b.len()
}

/// If a dollar quote (`$$` or `$tag$`) opens at `i`, the offset just past its closing tag.
fn dollar_quote_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    if j < b.len() && (is_ident_start(b[j])) {
        j += 1;
        while j < b.len() && (is_ident_start(b[j]) || b[j].is_ascii_digit()) {
            j += 1;
        }
    }
    if b.get(j) != Some(&b'$') {
        return None;
    }
    let tag = &b[i..=j];
    let body = j + 1;
    Some(find(&b[body..], tag).map_or(b.len(), |p| body + p + tag.len()))
}

/// Where `needle` (not empty) first occurs in `hay`: a scan for its first byte, then a
/// comparison there (a comparison at every offset was a tenth of the splitter's time on
/// function bodies).
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut from = 0;
    while let Some(p) = hay[from..].iter().position(|&c| c == first) {
        let at = from + p;
        if hay[at + 1..].starts_with(rest) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_blocks_are_one_statement() {
        let sql = "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose StatementBegin\nCREATE FUNCTION f() RETURNS int AS 'SELECT 1; SELECT 2' LANGUAGE sql;\nSELECT 3;\n  -- +goose StatementEnd  \nCREATE TABLE b (id int);\n";
        assert_eq!(
            texts(sql, Dialect::Postgres),
            [
                "CREATE TABLE a (id int);",
                "CREATE FUNCTION f() RETURNS int AS 'SELECT 1; SELECT 2' LANGUAGE sql;\nSELECT 3;",
                "CREATE TABLE b (id int);"
            ]
        );
        let mysql = "-- +migrate StatementBegin\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END;\n-- +migrate StatementEnd\n";
        assert_eq!(
            texts(mysql, Dialect::Mysql),
            ["CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END;"]
        );
        let terminated =
            "-- +goose StatementBegin\nCREATE TABLE h (id int)\n;-- +goose StatementEnd\nSELECT 1;";
        assert_eq!(
            texts(terminated, Dialect::Postgres),
            ["CREATE TABLE h (id int)", "SELECT 1;"]
        );
        // Without its end, or with another tool's end, the marker is a comment.
        let open = "-- +goose StatementBegin\nSELECT 1; SELECT 2;\n-- +migrate StatementEnd\n";
        assert_eq!(texts(open, Dialect::Postgres), ["SELECT 1;", "SELECT 2;"]);
    }

    #[test]
    fn find_is_the_first_occurrence() {
        assert_eq!(find(b"abc", b"c"), Some(2));
        assert_eq!(find(b"a$$b$$", b"$$"), Some(1));
        assert_eq!(find(b"$a$ $a$a$", b"$a$a$"), Some(4));
        assert_eq!(find(b"$", b"$$"), None);
        assert_eq!(find(b"", b"*/"), None);
        assert_eq!(find(b"x", b""), None);
    }

    fn texts(sql: &str, dialect: Dialect) -> Vec<&str> {
        split(sql, dialect)
            .pieces
            .iter()
            .map(|p| &sql[p.start..p.end])
            .collect()
    }

    #[test]
    fn splits_on_semicolons_outside_strings_and_comments() {
        let sql =
            "INSERT INTO t VALUES (';'); -- a;b\n/* c; /* d; */ e; */ SELECT \"x;y\";\nSELECT 1";
        assert_eq!(
            texts(sql, Dialect::Postgres),
            ["INSERT INTO t VALUES (';');", "SELECT \"x;y\";", "SELECT 1"]
        );
    }

    #[test]
    fn dollar_quotes_and_escape_strings() {
        let sql = "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $$ x $$; $body$ LANGUAGE sql;\nSELECT E'it\\'s;';\nSELECT $1;";
        assert_eq!(texts(sql, Dialect::Postgres).len(), 3);
    }

    #[test]
    fn routine_bodies_keep_their_semicolons() {
        let sql = "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE b SET x = CASE WHEN 1 THEN 2 END; DELETE FROM c; END;\nSELECT 1;";
        assert_eq!(texts(sql, Dialect::Sqlite).len(), 2);
        let sql =
            "CREATE PROCEDURE p() BEGIN IF 1 THEN SELECT 1; END IF; SELECT 2; END;\nSELECT 3;";
        assert_eq!(texts(sql, Dialect::Mysql).len(), 2);
    }

    #[test]
    fn mysql_delimiter_that_identifiers_may_contain() {
        let sql = "DELIMITER $$\nCREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\nEND$$\nDELIMITER ;\nALTER TABLE t DROP COLUMN x;\n";
        let split = split(sql, Dialect::Mysql);
        let texts: Vec<&str> = split.pieces.iter().map(|p| &sql[p.start..p.end]).collect();
        assert_eq!(
            texts,
            [
                "CREATE PROCEDURE p()\nBEGIN\n  SELECT 1;\nEND",
                "ALTER TABLE t DROP COLUMN x;"
            ]
        );
    }

    #[test]
    fn mysql_delimiter_lines() {
        let sql =
            "DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END//\nDELIMITER ;\nSELECT 2;";
        assert_eq!(
            texts(sql, Dialect::Mysql),
            ["CREATE PROCEDURE p() BEGIN SELECT 1; END", "SELECT 2;"]
        );
    }

    #[test]
    fn directives_only_outside_strings() {
        let sql =
            "-- migrate:allow drop-table: x\nDROP TABLE t;\nSELECT '\n-- migrate:allow y: z\n';";
        let split = split(sql, Dialect::Postgres);
        assert_eq!(split.directives.len(), 1);
        assert_eq!(split.pieces.len(), 2);
    }

    #[test]
    fn unterminated_input_runs_to_the_end() {
        for sql in ["SELECT 'abc", "SELECT $$ x", "/* x", "SELECT \"x"] {
            let split = split(sql, Dialect::Postgres);
            assert!(split.pieces.len() <= 1, "{sql}");
        }
    }
}
