//! From file text to analysed statements: split, tokenize (positions in file coordinates),
//! parse each statement with sqlparser, lower it to IR, or recognise it from tokens when
//! sqlparser cannot parse it; what neither understands is kept as a parse failure.

use std::panic::{AssertUnwindSafe, catch_unwind};

use sqlparser::dialect::{MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer};

use crate::analyze::ir::{Change, Span};
use crate::analyze::split::{self, DirectiveComment};
use crate::analyze::{lex, lower, recognise};
use crate::dialect::Dialect;
use crate::source::{LineIndex, Pos};

/// sqlparser's nesting limit: deeper input becomes a parse failure, never a stack overflow
/// (parsing runs on threads with [`PARSER_STACK`] bytes of stack).
const RECURSION_LIMIT: usize = 64;

/// Stack size of the threads that run sqlparser: its recursion, bounded by
/// [`RECURSION_LIMIT`], fits with a wide margin.
pub const PARSER_STACK: usize = 32 << 20;

/// Parenthesis depth beyond which a statement is not handed to sqlparser at all: its AST (and
/// dropping it) would recurse that deep on a worker thread's small stack.
const MAX_NESTING: usize = 256;

/// Binary operators beyond which a statement is not handed to sqlparser: a chain of
/// hundreds of thousands of `+` nests its AST (and the recursion that drops it) as deep,
/// whatever the parentheses say. (A bulk `INSERT ... VALUES` is a list, not a chain.)
const MAX_OPERATORS: usize = 100_000;

/// One statement of a file, understood or not.
#[derive(Debug, Clone)]
pub struct ParsedStatement {
    /// Byte offset of its first token.
    pub start: usize,
    /// Byte offset just past it.
    pub end: usize,
    /// From its first token to the end of its last (before the `;`).
    pub span: Span,
    /// What it does; empty when it could not be understood.
    pub changes: Vec<Change>,
    /// Why it could not be understood.
    pub failure: Option<ParseFailure>,
    /// It says `IF EXISTS` or `IF NOT EXISTS` somewhere: it may be a no-op where the object
    /// is missing or present, so the replay cannot be sure it fails.
    pub guarded: bool,
}

/// sqlparser's complaint about a statement no front end understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseFailure {
    /// The parser's message, without its position suffix.
    pub message: String,
    /// Where the parser stopped (the statement start when unknown).
    pub pos: Pos,
}

/// A file split into statements.
#[derive(Debug, Clone)]
pub struct ParsedFile {
    /// Statements in order.
    pub statements: Vec<ParsedStatement>,
    /// `-- migrate:` comments outside strings and bodies.
    pub directives: Vec<DirectiveComment>,
    /// Positions in the file.
    pub lines: LineIndex,
}

/// A file the parser could not handle at all (its thread died): one failed statement.
pub fn failed_file(text: &str) -> ParsedFile {
    let lines = LineIndex::new(text);
    let start = Pos { line: 1, column: 1 };
    ParsedFile {
        statements: vec![ParsedStatement {
            start: 0,
            end: text.len(),
            span: Span { start, end: start },
            changes: Vec::new(),
            guarded: false,
            failure: Some(ParseFailure {
                message: "the parser crashed on this file".into(),
                pos: start,
            }),
        }],
        directives: Vec::new(),
        lines,
    }
}

/// sqlparser's dialect object for ours.
pub fn sqlparser_dialect(dialect: Dialect) -> Box<dyn sqlparser::dialect::Dialect + Send + Sync> {
    match dialect {
        Dialect::Postgres => Box::new(PostgreSqlDialect {}),
        Dialect::Mysql => Box::new(MySqlDialect {}),
        Dialect::Sqlite => Box::new(SQLiteDialect {}),
    }
}

/// Splits and parses a whole file, statement by statement.
pub fn parse_file(text: &str, dialect: Dialect) -> ParsedFile {
    let split = split::split(text, dialect);
    let lines = LineIndex::new(text);
    let sp = sqlparser_dialect(dialect);
    let mut statements = Vec::with_capacity(split.pieces.len());
    for piece in &split.pieces {
        let start = lines.pos(text, piece.start);
        parse_piece(
            &text[piece.start..piece.end],
            piece.start,
            piece.end,
            start,
            dialect,
            sp.as_ref(),
            &mut statements,
        );
    }
    ParsedFile {
        statements,
        directives: split.directives,
        lines,
    }
}

/// Splits a file into statements without parsing them (no changes, no failures): enough to
/// execute or record it, and to place its `migrate:allow` comments.
pub fn split_file(text: &str, dialect: Dialect) -> ParsedFile {
    let split = split::split(text, dialect);
    let lines = LineIndex::new(text);
    let statements = split
        .pieces
        .iter()
        .map(|piece| ParsedStatement {
            start: piece.start,
            end: piece.end,
            span: Span {
                start: lines.pos(text, piece.start),
                end: lines.pos(text, piece.end),
            },
            changes: Vec::new(),
            failure: None,
            guarded: false,
        })
        .collect();
    ParsedFile {
        statements,
        directives: split.directives,
        lines,
    }
}

fn shift(loc: Location, origin: Pos) -> Location {
    if loc.line == 0 {
        return loc;
    }
    if loc.line == 1 {
        Location::new(
            u64::from(origin.line),
            loc.column + u64::from(origin.column) - 1,
        )
    } else {
        Location::new(loc.line + u64::from(origin.line) - 1, loc.column)
    }
}

/// Tokenizes `sql` (one statement) with positions shifted to file coordinates, without
/// whitespace and comments (the parser skips them anyway). Plain SQL takes the fast path
/// ([`lex::tokens`]); the rest goes through sqlparser's tokenizer.
pub fn tokenize(
    sql: &str,
    origin: Pos,
    dialect: &dyn sqlparser::dialect::Dialect,
) -> Result<Vec<TokenWithSpan>, ParseFailure> {
    if let Some(mut tokens) = lex::tokens(sql, dialect) {
        for t in &mut tokens {
            t.span.start = shift(t.span.start, origin);
            t.span.end = shift(t.span.end, origin);
        }
        return Ok(tokens);
    }
    // About one token per six bytes of SQL, whitespace tokens included: sized so that the
    // vector grows at most once or twice instead of a dozen times (a dollar-quoted body is one
    // token, so this rather under- than overestimates).
    let mut tokens = Vec::with_capacity(sql.len() / 6 + 4);
    let result = Tokenizer::new(dialect, sql).tokenize_with_location_into_buf_with_mapper(
        &mut tokens,
        |mut t| {
            t.span.start = shift(t.span.start, origin);
            t.span.end = shift(t.span.end, origin);
            t
        },
    );
    match result {
        Ok(()) => {
            tokens.retain(|t| !matches!(t.token, Token::Whitespace(_)));
            Ok(tokens)
        }
        Err(e) => {
            let at = shift(e.location, origin);
            Err(ParseFailure {
                message: e.message,
                pos: Pos {
                    line: at.line as u32,
                    column: at.column as u32,
                },
            })
        }
    }
}

fn parse_piece(
    sql: &str,
    start: usize,
    end: usize,
    origin: Pos,
    dialect: Dialect,
    sp: &dyn sqlparser::dialect::Dialect,
    out: &mut Vec<ParsedStatement>,
) {
    let mut record = ParsedStatement {
        start,
        end,
        span: Span {
            start: origin,
            end: origin,
        },
        changes: Vec::new(),
        failure: None,
        guarded: false,
    };
    let tokens = match tokenize(sql, origin, sp) {
        Ok(tokens) => tokens,
        Err(failure) => {
            record.span.end = end_of_text(sql, origin);
            record.failure = Some(failure);
            out.push(record);
            return;
        }
    };
    record.guarded = tokens.windows(2).any(|w| {
        use sqlparser::keywords::Keyword;
        let keyword = |t: &TokenWithSpan| match &t.token {
            Token::Word(w) if w.quote_style.is_none() => w.keyword,
            _ => Keyword::NoKeyword,
        };
        keyword(&w[0]) == Keyword::IF && matches!(keyword(&w[1]), Keyword::EXISTS | Keyword::NOT)
    });
    let operators = tokens.iter().filter(|t| is_operator(&t.token)).count();
    if operators > MAX_OPERATORS {
        record.span.end = end_of_text(sql, origin);
        record.failure = Some(ParseFailure {
            message: format!(
                "a statement with {operators} operators is too long to analyse (the limit is {MAX_OPERATORS})"
            ),
            pos: origin,
        });
        out.push(record);
        return;
    }
    if let Some(deep) = too_deep(&tokens) {
        record.span.end = end_of_text(sql, origin);
        record.failure = Some(ParseFailure {
            message: format!("parentheses nest deeper than {MAX_NESTING} levels"),
            pos: deep,
        });
        out.push(record);
        return;
    }
    let Some(last) = tokens
        .iter()
        .rev()
        .find(|t| !matches!(t.token, Token::SemiColon | Token::EOF))
    else {
        return;
    };
    record.span.end = lower::span(last.span).end;
    // Only ALTER TABLE needs its tokens after parsing (for the spans of its clauses); other
    // statements hand theirs to the parser without a copy.
    // A piece may hold several statements (a goose StatementBegin/End block): then each is
    // lowered with its own span and the clause spans need the tokens too.
    let several = tokens
        .iter()
        .filter(|t| t.token == Token::SemiColon)
        .count()
        > 1;
    let kept = if several || is_word(tokens.first(), "ALTER") {
        tokens.clone()
    } else {
        Vec::new()
    };
    match parse_tokens(tokens, sp) {
        Ok(statements) => {
            for stmt in &statements {
                use sqlparser::ast::Spanned;
                let own = lower::span(stmt.span());
                let stmt_span = if statements.len() > 1 && own.start.line > 0 {
                    own
                } else {
                    record.span
                };
                record
                    .changes
                    .extend(lower::lower(stmt, &kept, stmt_span, dialect));
            }
            // Every statement keeps its changes until the replay: no spare capacity.
            record.changes.shrink_to_fit();
        }
        Err(failure) => {
            let tokens = if kept.is_empty() {
                tokenize(sql, origin, sp).unwrap_or_default()
            } else {
                kept
            };
            match recognise::recognise(&tokens, record.span, dialect, sp) {
                Some(changes) => record.changes = changes,
                None => {
                    record.failure = Some(failure.unwrap_or(ParseFailure {
                        message: "the parser failed".into(),
                        pos: origin,
                    }))
                }
            }
        }
    }
    out.push(record);
}

/// Whether `token` joins two operands into one deeper expression.
fn is_operator(token: &Token) -> bool {
    match token {
        Token::Plus
        | Token::Minus
        | Token::Mul
        | Token::Div
        | Token::Mod
        | Token::StringConcat
        | Token::Eq
        | Token::Neq
        | Token::Lt
        | Token::Gt
        | Token::LtEq
        | Token::GtEq
        | Token::Caret
        | Token::Ampersand
        | Token::Pipe => true,
        Token::Word(w) => {
            w.quote_style.is_none()
                && (w.value.eq_ignore_ascii_case("AND") || w.value.eq_ignore_ascii_case("OR"))
        }
        _ => false,
    }
}

fn is_word(token: Option<&TokenWithSpan>, word: &str) -> bool {
    matches!(token.map(|t| &t.token), Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(word))
}

/// Where nesting first exceeds [`MAX_NESTING`], if it does.
fn too_deep(tokens: &[TokenWithSpan]) -> Option<Pos> {
    let mut depth = 0usize;
    for t in tokens {
        match t.token {
            Token::LParen | Token::LBracket | Token::LBrace => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(lower::span(t.span).start);
                }
            }
            Token::RParen | Token::RBracket | Token::RBrace => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

thread_local! {
    /// Set while sqlparser runs: a panic there is caught and reported as a parse failure, so
    /// the panic hook stays quiet about it.
    static PARSING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the current thread is inside sqlparser (its panics are expected and caught).
pub fn inside_parser() -> bool {
    PARSING.with(|p| p.get())
}

/// Parses tokens with sqlparser; a panic inside sqlparser is a failure, not a crash.
pub fn parse_tokens(
    tokens: Vec<TokenWithSpan>,
    sp: &dyn sqlparser::dialect::Dialect,
) -> Result<Vec<sqlparser::ast::Statement>, Option<ParseFailure>> {
    PARSING.with(|p| p.set(true));
    let result = catch_unwind(AssertUnwindSafe(|| {
        Parser::new(sp)
            .with_recursion_limit(RECURSION_LIMIT)
            .with_tokens_with_locations(tokens)
            .parse_statements()
    }));
    PARSING.with(|p| p.set(false));
    match result {
        Ok(Ok(statements)) => Ok(statements),
        Ok(Err(e)) => Err(Some(failure_from(&e.to_string()))),
        Err(_) => Err(Some(ParseFailure {
            message: "the SQL parser panicked on this statement".into(),
            pos: Pos::default(),
        })),
    }
}

/// Parses one statement of `sql` (an app's query) whose first character is at `origin`:
/// tokenized, nesting guarded, parsed. Call it on a thread with [`PARSER_STACK`] of stack.
pub fn parse_statement(
    sql: &str,
    origin: Pos,
    sp: &dyn sqlparser::dialect::Dialect,
) -> Result<Vec<sqlparser::ast::Statement>, ParseFailure> {
    let tokens = tokenize(sql, origin, sp)?;
    if let Some(pos) = too_deep(&tokens) {
        return Err(ParseFailure {
            message: "nested too deeply".into(),
            pos,
        });
    }
    parse_tokens(tokens, sp).map_err(|f| {
        f.unwrap_or(ParseFailure {
            message: "not understood".into(),
            pos: origin,
        })
    })
}

/// Splits sqlparser's `... at Line: 3, Column: 7` into message and position.
fn failure_from(text: &str) -> ParseFailure {
    let text = text.strip_prefix("sql parser error: ").unwrap_or(text);
    if let Some(at) = text.rfind(" at Line: ") {
        let tail = &text[at + " at Line: ".len()..];
        if let Some((line, column)) = tail.split_once(", Column: ")
            && let (Ok(line), Ok(column)) = (line.trim().parse(), column.trim().parse())
        {
            return ParseFailure {
                message: text[..at].to_string(),
                pos: Pos { line, column },
            };
        }
    }
    ParseFailure {
        message: text.to_string(),
        pos: Pos::default(),
    }
}

fn end_of_text(sql: &str, origin: Pos) -> Pos {
    let trimmed = sql.trim_end();
    let lines = trimmed.matches('\n').count() as u32;
    let last = trimmed.rsplit('\n').next().unwrap_or("");
    let column = last.chars().count() as u32 + 1;
    if lines == 0 {
        Pos {
            line: origin.line,
            column: origin.column + column - 1,
        }
    } else {
        Pos {
            line: origin.line + lines,
            column,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::ir::ChangeKind;

    #[test]
    fn positions_are_in_file_coordinates() {
        let text = "CREATE TABLE a (id int);\n\n  ALTER TABLE a\n    DROP COLUMN id;\n";
        let parsed = parse_file(text, Dialect::Postgres);
        assert_eq!(parsed.statements.len(), 2);
        let drop = &parsed.statements[1];
        assert_eq!(drop.span.start, Pos { line: 3, column: 3 });
        assert_eq!(
            drop.span.end,
            Pos {
                line: 4,
                column: 19
            }
        );
        let change = &drop.changes[0];
        assert!(matches!(change.kind, ChangeKind::DropColumn { .. }));
        assert_eq!(change.span.start, Pos { line: 4, column: 5 });
    }

    #[test]
    fn statements_of_one_piece_keep_their_own_positions() {
        let text = "-- +goose StatementBegin\nSELECT 1;\nALTER TABLE a DROP COLUMN x;\n-- +goose StatementEnd\n";
        let parsed = parse_file(text, Dialect::Postgres);
        assert_eq!(parsed.statements.len(), 1);
        let drop = parsed.statements[0]
            .changes
            .iter()
            .find(|c| matches!(c.kind, ChangeKind::DropColumn { .. }))
            .expect("the DROP COLUMN");
        assert_eq!(
            drop.span.start,
            Pos {
                line: 3,
                column: 15
            }
        );
    }

    #[test]
    fn a_bad_statement_does_not_hide_the_next() {
        let text = "CREATE TABLE (;\nDROP TABLE users;";
        let parsed = parse_file(text, Dialect::Postgres);
        assert_eq!(parsed.statements.len(), 2);
        assert!(parsed.statements[0].failure.is_some());
        assert!(matches!(
            parsed.statements[1].changes[0].kind,
            ChangeKind::DropTable { .. }
        ));
    }

    #[test]
    fn nesting_up_to_the_guard_fits_the_parser_stack() {
        // Up to MAX_NESTING the statement reaches sqlparser (whose recursion limit does not
        // count parentheses): on a parser thread's stack that must not overflow.
        let text = format!(
            "ALTER TABLE t ADD CHECK ({}1{});",
            "(".repeat(MAX_NESTING - 1),
            ")".repeat(MAX_NESTING - 1)
        );
        let parsed = std::thread::Builder::new()
            .stack_size(PARSER_STACK)
            .spawn(move || parse_file(&text, Dialect::Postgres))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(parsed.statements.len(), 1);
    }

    #[test]
    fn deep_nesting_is_a_failure_not_a_crash() {
        let text = format!("SELECT {}1{};", "(".repeat(10_000), ")".repeat(10_000));
        let parsed = parse_file(&text, Dialect::Postgres);
        assert_eq!(parsed.statements.len(), 1);
        assert!(parsed.statements[0].failure.is_some());
    }
}
