//! A fast path in front of sqlparser's tokenizer for the plain SQL most migrations are made
//! of: ASCII words, numbers, quoted strings and identifiers, comments and common punctuation.
//!
//! sqlparser's tokenizer walks a statement char by char through a peekable iterator and
//! allocates for every comment and space; on real histories it was a third of `check`'s
//! instructions. [`tokens`] produces exactly the tokens (and spans) sqlparser would, without
//! the whitespace, or declines with `None` as soon as it meets anything outside the forms it
//! knows (non-ASCII outside strings, comments and quoted names, `E'...'`, backslashes in
//! MySQL strings, operators beyond the common ones, nested comments, MySQL `/*!` hints,
//! ...): the caller then runs sqlparser's tokenizer on the whole statement. Declining is always safe; a wrong
//! token never is, which is what the equivalence tests below (and over the corpus) check.

use std::sync::OnceLock;

use sqlparser::ast::DollarQuotedString;
use sqlparser::dialect::Dialect;
use sqlparser::keywords::{ALL_KEYWORDS, ALL_KEYWORDS_INDEX, Keyword};
use sqlparser::tokenizer::{Location, Span, Token, TokenWithSpan, Word};

use crate::analyze::schema::hash::HashMap;
use crate::analyze::split::find;

/// The longest keyword sqlparser knows, in bytes.
const LONGEST_KEYWORD: usize = 40;

/// An unquoted word, with its keyword looked up as sqlparser does (case-insensitively) but
/// through a hash map instead of a binary search over a thousand strings.
fn word(text: &str) -> Token {
    static KEYWORDS: OnceLock<HashMap<&'static [u8], Keyword>> = OnceLock::new();
    let keywords = KEYWORDS.get_or_init(|| {
        ALL_KEYWORDS
            .iter()
            .zip(ALL_KEYWORDS_INDEX)
            .filter(|(k, _)| k.len() <= LONGEST_KEYWORD)
            .map(|(k, i)| (k.as_bytes(), *i))
            .collect()
    });
    let keyword = if text.len() <= LONGEST_KEYWORD {
        let mut upper = [0u8; LONGEST_KEYWORD];
        let upper = &mut upper[..text.len()];
        upper.copy_from_slice(text.as_bytes());
        upper.make_ascii_uppercase();
        keywords.get(&*upper).copied().unwrap_or(Keyword::NoKeyword)
    } else {
        Keyword::NoKeyword
    };
    Token::Word(Word {
        value: text.to_string(),
        quote_style: None,
        keyword,
    })
}

/// The statement's tokens without whitespace and comments, positions relative to the
/// statement (line 1, column 1 at its first byte), or `None` where sqlparser must decide.
pub fn tokens(sql: &str, dialect: &dyn Dialect) -> Option<Vec<TokenWithSpan>> {
    let mut lexer = Lexer {
        bytes: sql.as_bytes(),
        at: 0,
        line: 1,
        column: 1,
        dialect,
    };
    let mut out = Vec::with_capacity(sql.len() / 8 + 4);
    while lexer.at < lexer.bytes.len() {
        let start = lexer.location();
        if let Some(token) = lexer.next()? {
            out.push(TokenWithSpan {
                token,
                span: Span::new(start, lexer.location()),
            });
        }
    }
    Some(out)
}

struct Lexer<'a> {
    bytes: &'a [u8],
    at: usize,
    line: u64,
    column: u64,
    dialect: &'a dyn Dialect,
}

impl Lexer<'_> {
    fn location(&self) -> Location {
        Location::new(self.line, self.column)
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.at + ahead).copied()
    }

    /// Moves over `n` bytes, counting lines as sqlparser does (a `\n` starts a new line at
    /// column 1; every other char, `\r` included, is one column: UTF-8 continuation bytes
    /// are not counted). Tokens start and end at ASCII bytes, so `n` ends on a char boundary.
    fn advance(&mut self, n: usize) {
        for &b in &self.bytes[self.at..self.at + n] {
            if b == b'\n' {
                self.line += 1;
                self.column = 1;
            } else if b & 0xc0 != 0x80 {
                self.column += 1;
            }
        }
        self.at += n;
    }

    /// The text between two ASCII positions.
    fn slice(&self, from: usize, to: usize) -> Option<&str> {
        std::str::from_utf8(&self.bytes[from..to]).ok()
    }

    fn text(&self, from: usize) -> &str {
        self.slice(from, self.at).unwrap_or_default()
    }

    fn is_part(&self, b: u8) -> bool {
        self.dialect.is_identifier_part(b as char)
    }

    /// The next token (`Some(None)` for whitespace or a comment), or `None` to decline.
    fn next(&mut self) -> Option<Option<Token>> {
        let b = self.bytes[self.at];
        let next = self.peek(1);
        let token = match b {
            b' ' | b'\t' | b'\n' | b'\r' => {
                let run = self.bytes[self.at..]
                    .iter()
                    .take_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
                    .count();
                self.advance(run);
                return Some(None);
            }
            b'-' if next == Some(b'-') => {
                if self.dialect.requires_single_line_comment_whitespace()
                    && !matches!(self.peek(2), Some(b' ' | b'\t' | b'\n' | b'\r'))
                {
                    return None;
                }
                let len = self.bytes[self.at..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .unwrap_or(self.bytes.len() - self.at);
                self.advance(len);
                return Some(None);
            }
            b'/' if next == Some(b'*') => {
                if next == Some(b'*') && self.peek(2) == Some(b'!') {
                    return None; // a MySQL hint: its text is SQL
                }
                let body = &self.bytes[self.at + 2..];
                let close = find(body, b"*/")?;
                // `/*` inside (up to and including the close, for `/*/`) would nest.
                if body[..close + 2].windows(2).any(|w| w == b"/*") {
                    return None;
                }
                self.advance(close + 4);
                return Some(None);
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                // A prefix letter before a quote is a literal of another kind (B'', E'',
                // N'', X'', U&'', ...).
                if matches!(
                    b.to_ascii_lowercase(),
                    b'b' | b'e' | b'n' | b'q' | b'r' | b'u' | b'x'
                ) && matches!(next, Some(b'\'' | b'"' | b'&'))
                {
                    return None;
                }
                if !self.dialect.is_identifier_start(b as char) {
                    return None;
                }
                let from = self.at;
                let len = 1 + self.bytes[self.at + 1..]
                    .iter()
                    .take_while(|&&b| self.is_part(b))
                    .count();
                self.advance(len);
                word(self.text(from))
            }
            b'0'..=b'9' => {
                let from = self.at;
                let digits = |s: &[u8]| s.iter().take_while(|b| b.is_ascii_digit()).count();
                let mut len = digits(&self.bytes[self.at..]);
                if self.peek(len) == Some(b'.') {
                    len += 1 + digits(&self.bytes[self.at + len + 1..]);
                }
                // Exponents, `0x`, `L`, `1_000`, MySQL's identifiers that start with a digit,
                // `1..2`: all sqlparser's.
                if self.peek(len).is_some_and(|b| b == b'.' || self.is_part(b)) {
                    return None;
                }
                self.advance(len);
                Token::Number(self.text(from).to_string(), false)
            }
            b'.' => {
                if next.is_some_and(|b| b.is_ascii_digit() || b == b'_') {
                    return None;
                }
                self.advance(1);
                Token::Period
            }
            b'\'' => {
                let value = self.quoted(
                    b'\'',
                    self.dialect.supports_string_literal_backslash_escape(),
                )?;
                Token::SingleQuotedString(value)
            }
            b'"' | b'`' | b'[' => {
                if !self.dialect.is_delimited_identifier_start(b as char) {
                    if b == b'[' {
                        self.advance(1);
                        return Some(Some(Token::LBracket));
                    }
                    return None;
                }
                if b == b'[' {
                    return None; // SQLite's [identifier]: its own closing rules
                }
                let value = self.quoted(b, false)?;
                Token::make_word(&value, Some(b as char))
            }
            b'$' if !self.dialect.is_identifier_start('$')
                && !self.dialect.supports_dollar_placeholder() =>
            {
                self.dollar()?
            }
            b'(' => self.single(Token::LParen),
            b')' => self.single(Token::RParen),
            b']' => self.single(Token::RBracket),
            b',' => self.single(Token::Comma),
            b';' => self.single(Token::SemiColon),
            b'+' => self.single(Token::Plus),
            b'*' => self.single(Token::Mul),
            b'/' if next != Some(b'/') => self.single(Token::Div),
            b'=' if !matches!(next, Some(b'>' | b'=')) => self.single(Token::Eq),
            b':' => match next {
                Some(b':') => {
                    self.advance(2);
                    Token::DoubleColon
                }
                Some(b'=') => return None,
                _ => self.single(Token::Colon),
            },
            b'!' if next == Some(b'=') => {
                self.advance(2);
                Token::Neq
            }
            // Operators that a custom operator (PostgreSQL) or a longer one may continue.
            b'-' if next != Some(b'>') => self.operator(1, Token::Minus)?,
            b'<' => match next {
                Some(b'=') if !matches!(self.peek(2), Some(b'>' | b'+' | b'-')) => {
                    self.operator(2, Token::LtEq)?
                }
                Some(b'>') => self.operator(2, Token::Neq)?,
                Some(b'=' | b'<' | b'@' | b'|' | b'-' | b'^' | b'+') => return None,
                _ => self.operator(1, Token::Lt)?,
            },
            b'>' => match next {
                Some(b'=') => self.operator(2, Token::GtEq)?,
                Some(b'>' | b'^') => return None,
                _ => self.operator(1, Token::Gt)?,
            },
            _ => return None,
        };
        Some(Some(token))
    }

    fn single(&mut self, token: Token) -> Token {
        self.advance(1);
        token
    }

    /// An operator of `len` bytes, unless a custom operator continues it.
    fn operator(&mut self, len: usize, token: Token) -> Option<Token> {
        if self
            .peek(len)
            .is_some_and(|b| self.dialect.is_custom_operator_part(b as char))
        {
            return None;
        }
        self.advance(len);
        Some(token)
    }

    /// PostgreSQL's `$$...$$` and `$tag$...$tag$` (the body ends at the first closing
    /// delimiter), or a `$1` placeholder.
    fn dollar(&mut self) -> Option<Token> {
        let tag_len = self.bytes[self.at + 1..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        let after = self.at + 1 + tag_len;
        match self.bytes.get(after) {
            Some(b'$') => {}
            Some(b) if !b.is_ascii() => return None, // a Unicode letter continues the tag
            _ => {
                let token = Token::Placeholder(self.slice(self.at, after)?.to_string());
                self.advance(after - self.at);
                return Some(token);
            }
        }
        let delimiter = &self.bytes[self.at..=after];
        let body = after + 1;
        let close = find(&self.bytes[body..], delimiter)?;
        let tag = if tag_len > 0 {
            Some(self.slice(self.at + 1, after)?.to_string())
        } else {
            None
        };
        let token = Token::DollarQuotedString(DollarQuotedString {
            value: self.slice(body, body + close)?.to_string(),
            tag,
        });
        self.advance(body + close + delimiter.len() - self.at);
        Some(token)
    }

    /// A string or identifier between `quote`s, a doubled quote standing for one; declines
    /// at a backslash where it escapes, and when the quote never closes.
    fn quoted(&mut self, quote: u8, backslash_escapes: bool) -> Option<String> {
        let mut value = String::new();
        let mut i = self.at + 1;
        let mut from = i;
        loop {
            let b = *self.bytes.get(i)?;
            if b == b'\\' && backslash_escapes {
                return None;
            }
            if b == quote {
                value.push_str(self.slice(from, i)?);
                if self.bytes.get(i + 1) == Some(&quote) {
                    value.push(quote as char);
                    i += 2;
                    from = i;
                    continue;
                }
                self.advance(i + 1 - self.at);
                return Some(value);
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::dialect::{MySqlDialect, PostgreSqlDialect, SQLiteDialect};
    use sqlparser::tokenizer::{Tokenizer, Whitespace};

    fn dialects() -> [Box<dyn Dialect>; 3] {
        [
            Box::new(PostgreSqlDialect {}),
            Box::new(MySqlDialect {}),
            Box::new(SQLiteDialect {}),
        ]
    }

    /// sqlparser's tokens for `sql` without whitespace, or `None` where it fails.
    fn reference(sql: &str, dialect: &dyn Dialect) -> Option<Vec<TokenWithSpan>> {
        let mut tokens = Tokenizer::new(dialect, sql).tokenize_with_location().ok()?;
        tokens.retain(|t| !matches!(t.token, Token::Whitespace(_)));
        Some(tokens)
    }

    /// The fast path either declines or agrees with sqlparser, token for token and span
    /// for span; returns whether it took the statement.
    pub fn agrees(sql: &str, dialect: &dyn Dialect) -> bool {
        let Some(fast) = tokens(sql, dialect) else {
            return false;
        };
        let slow = reference(sql, dialect);
        assert_eq!(
            Some(&fast),
            slow.as_ref(),
            "the fast tokenizer disagrees with sqlparser ({dialect:?}) on {sql:?}"
        );
        // Spans are not part of a token's equality: compare them too.
        for (f, s) in fast.iter().zip(slow.iter().flatten()) {
            assert_eq!(
                (f.span.start, f.span.end),
                (s.span.start, s.span.end),
                "spans differ ({dialect:?}) for {:?} in {sql:?}",
                f.token
            );
        }
        true
    }

    #[test]
    fn plain_statements_take_the_fast_path_and_agree() {
        let sql = "CREATE TABLE \"Users\" (id bigint PRIMARY KEY, name text NOT NULL DEFAULT 'it''s',\n\
                   \tscore numeric(10, 2) CHECK (score >= 0.5 AND score <= 100), x int[] -- c\r\n\
                   ) /* note */; ALTER TABLE a.b ADD COLUMN c int DEFAULT -1 != 2;\n\
                   SELECT a::text, b <> c, d < e, f > g, h = i, j / k * l + m FROM t WHERE x:y";
        for d in dialects() {
            if d.is::<MySqlDialect>() {
                continue; // `"Users"` is a string there: declined, not wrong
            }
            // `[` opens an identifier in SQLite: declined there, not wrong.
            let sql = if d.is::<SQLiteDialect>() {
                sql.replace("[]", "")
            } else {
                sql.to_string()
            };
            assert!(agrees(&sql, d.as_ref()), "{d:?} declined a plain statement");
        }
        assert!(agrees(
            "ALTER TABLE `a` ADD COLUMN `b` int NOT NULL DEFAULT 0 -- x\n, ADD INDEX (b);",
            &MySqlDialect {}
        ));
    }

    #[test]
    fn unusual_forms_decline_or_agree() {
        let cases = [
            "SELECT E'a\\nb', B'101', X'ff', N'x', U&'d\\0061t'",
            "SELECT $$body$$, $1, $tag$x$tag$",
            "SELECT 1e5, 0x1f, 1_000, 1.5L, .5, 1..2, 1.e3, 3abc, a._b",
            "SELECT a->>'b', a->'b', a @> b, a <@ b, a #> b, a || b, a ~ b, a !~ b",
            "SELECT a <=> b, a <= -b, a <- b, a +- b, a -* b, a >> b, a << b, a<=b, a>=b",
            "SELECT 'a\\'b', \"a\"\"b\", `a``b`, [a b]",
            "SELECT 1 /* a /* nested */ still */ , 2 /*/ odd */ , 3 /*! 50000 hint */",
            "SELECT 1 --comment\n, 2 --\n, 3 -- x",
            "SELECT 'unterminated",
            "SELECT \"unterminated",
            "SELECT 1 /* unterminated",
            "SELECT a = > b, a == b, a => b, a := b, a::b, a : b, a!=b, a ! b",
            "SELECT @a, @@b, #c, ?d, %e, ^f, &g, |h, {i}, ~j",
            "SELECT résumé FROM café",
            "SELECT 'café' AS \"naïve\" -- é\n/* ü */, 'a''é''b'",
            "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$; $$$$; $$$a$$; $a$ x $a$; $a$$a$",
            "SELECT $1, $12a, $, $_$x$_$, $a$ unterminated, $$ unterminated, $é$x$é$, $1$x$1$",
            "SELECT $tag$ body $ta$ $tag $tag$ after",
            "CREATE TABLE t (x int) -- trailing",
            "",
            "   \n\t ",
            "a.b.c.1 a.1b x.y_z",
        ];
        for sql in cases {
            for d in dialects() {
                agrees(sql, d.as_ref());
            }
        }
    }

    /// Statements made of random fragments: the fast path must never disagree.
    #[test]
    fn random_fragment_soup_never_disagrees() {
        let fragments = [
            "SELECT", " ", "\n", "\t", "\r\n", "a", "_b", "c1", "$", "1", "10", "2.5", "3.", ".",
            ".4", "e", "E", "x", "'", "''", "\"", "`", "[", "]", "(", ")", ",", ";", "+", "-",
            "--", "*", "/", "/*", "*/", "=", "<", ">", "!", ":", "::", "|", "&", "#", "@", "?",
            "%", "^", "~", "{", "}", "\\", "é", "'str'", "\"Id\"", "`q`", "--c\n", "/*c*/", "0x",
            "N", "B", "U&", "L", "_", "DEFAULT", "not", "null", "$$", "$a$", "$1", "'é'", "/*ü*/",
            "--ü\n", "\"ü\"", "\x0c", "\u{a0}", "e'x'", "1e5", "0x1", "$$x$$", "/*/", "*/*", "-->",
            "<=>", "::=", "#>>", "@>", "!~*", "<>", "<=", ">=", "!=", "||", "=>", "==", "\"\"",
            "``", "'\\'",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut random = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut taken = 0;
        // MIGRATE_SOUP=N runs N soups instead (for a long run by hand).
        let rounds = std::env::var("MIGRATE_SOUP")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(50_000);
        for _ in 0..rounds {
            let n = 1 + (random() % 16) as usize;
            let sql: String = (0..n)
                .map(|_| fragments[(random() % fragments.len() as u64) as usize])
                .collect();
            for d in dialects() {
                if agrees(&sql, d.as_ref()) {
                    taken += 1;
                }
            }
        }
        // The soup must exercise the fast path, not only its refusals.
        assert!(
            taken > rounds / 5,
            "the fast path took only {taken} of {rounds} soups"
        );
    }

    fn sql_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                sql_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "sql") {
                out.push(path);
            }
        }
    }

    /// Every statement of the fixtures (and of `../shared/corpus` or `$MIGRATE_CORPUS`, where
    /// present), under every dialect: the fast path agrees wherever it answers, and it
    /// answers for most of them.
    #[test]
    fn real_statements_agree() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        sql_files(&root.join("migrations-fixtures"), &mut files);
        let fixtures = files.len();
        let corpus = std::env::var_os("MIGRATE_CORPUS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| root.join("../shared/corpus"));
        sql_files(&corpus, &mut files);
        assert!(fixtures > 100, "only {fixtures} fixture files found");
        let (mut statements, mut taken) = (0, 0);
        for file in &files {
            let Ok(text) = std::fs::read_to_string(file) else {
                continue;
            };
            for d in dialects() {
                let dialect = if d.is::<MySqlDialect>() {
                    crate::dialect::Dialect::Mysql
                } else if d.is::<SQLiteDialect>() {
                    crate::dialect::Dialect::Sqlite
                } else {
                    crate::dialect::Dialect::Postgres
                };
                for piece in crate::analyze::split::split(&text, dialect).pieces {
                    statements += 1;
                    if agrees(&text[piece.start..piece.end], d.as_ref()) {
                        taken += 1;
                    }
                }
            }
        }
        eprintln!(
            "{} files ({fixtures} fixtures), {statements} statement-dialect pairs, {taken} on the fast path",
            files.len()
        );
        assert!(
            taken * 2 > statements,
            "the fast path took only {taken} of {statements}"
        );
    }

    #[test]
    fn keywords_are_looked_up_as_sqlparser_does() {
        let longest = ALL_KEYWORDS.iter().map(|k| k.len()).max().unwrap();
        assert!(longest <= LONGEST_KEYWORD, "a keyword of {longest} bytes");
        for k in ALL_KEYWORDS {
            for text in [
                k.to_string(),
                k.to_lowercase(),
                format!("{k}x"),
                format!("x{k}"),
            ] {
                assert_eq!(word(&text), Token::make_word(&text, None), "{text}");
            }
        }
        let long = "a".repeat(LONGEST_KEYWORD + 1);
        assert_eq!(word(&long), Token::make_word(&long, None));
    }

    #[test]
    fn whitespace_is_not_a_token() {
        let fast = tokens("a  /* x */ -- y\n b", &PostgreSqlDialect {}).unwrap();
        assert_eq!(fast.len(), 2);
        assert!(
            !fast
                .iter()
                .any(|t| matches!(t.token, Token::Whitespace(Whitespace::Space)))
        );
    }
}
