//! Understands, from tokens, the statements sqlparser cannot parse but this tool must not skip:
//! `DROP INDEX CONCURRENTLY`, `REINDEX`, `ALTER SEQUENCE`, `DO` blocks, `VACUUM`, `CLUSTER`,
//! PostgreSQL 18 named `NOT NULL` constraints, `DETACH PARTITION ... CONCURRENTLY`, MySQL
//! `ALTER TABLE a RENAME b`, `CONVERT TO CHARACTER SET`, `VARCHAR(n) BINARY`, `DROP KEY`,
//! `CREATE FULLTEXT INDEX`, routines with bodies, and statements without schema effect.
//!
//! It works in three steps: repair tokens sqlparser trips on and parse again; parse an
//! `ALTER TABLE` clause by clause and recognise the clauses sqlparser refuses; match known
//! statement shapes. Anything else stays unparsed and is reported: never silently skipped.

use sqlparser::tokenizer::{Token, TokenWithSpan, Word};

use crate::analyze::ir::{
    Change, ChangeKind, ConstraintKind, ConstraintSpec, ObjectKind, QName, Span, TxControl,
    Volatility,
};
use crate::analyze::lower::{self, comma_segments, span};
use crate::analyze::names;
use crate::analyze::parse::parse_tokens;
use crate::dialect::Dialect;

mod cursor;
use cursor::*;
mod alter;
use alter::*;

/// Changes for a statement sqlparser refused, or `None` when it is not understood.
pub fn recognise(
    tokens: &[TokenWithSpan],
    stmt_span: Span,
    dialect: Dialect,
    sp: &dyn sqlparser::dialect::Dialect,
) -> Option<Vec<Change>> {
    if let Some(repaired) = repair(tokens, dialect)
        && let Ok(statements) = parse_tokens(repaired.clone(), sp)
    {
        let significant: Vec<TokenWithSpan> = repaired;
        return Some(
            statements
                .iter()
                .flat_map(|s| lower::lower(s, &significant, stmt_span, dialect))
                .collect(),
        );
    }
    let mut c = Cursor {
        t: tokens,
        i: 0,
        dialect,
    };
    let one = |kind| {
        Some(vec![Change {
            span: stmt_span,
            kind,
        }])
    };
    let first = c.any_word()?.to_ascii_uppercase();
    match first.as_str() {
        "DROP" => drop(&mut c, stmt_span),
        "CREATE" => create(&mut c, stmt_span),
        "ALTER" => alter(&mut c, stmt_span, sp),
        "REINDEX" => {
            // `REINDEX (CONCURRENTLY) INDEX i` (PostgreSQL 14+) says it in the option list.
            let listed = c
                .options()
                .iter()
                .any(|(name, on)| name == "CONCURRENTLY" && *on);
            let kind = c.any_word().unwrap_or_default().to_ascii_uppercase();
            let concurrently = c.kw("CONCURRENTLY") || listed;
            let target = c.rest_text();
            let name = c.name();
            one(ChangeKind::Reindex {
                target,
                kind,
                name,
                concurrently,
            })
        }
        "DO" => {
            let body = tokens.iter().find_map(|t| string_value(&t.token))?;
            one(ChangeKind::Opaque {
                what: "DO block".into(),
                ddl: ddl_keyword(&body),
            })
        }
        "VACUUM" => {
            // `VACUUM (FULL FALSE) t` is a plain VACUUM: the option list decides; the old
            // syntax says FULL right after VACUUM.
            let listed = c.options();
            let full = if listed.is_empty() {
                c.is_kw("FULL")
            } else {
                listed.iter().any(|(name, on)| name == "FULL" && *on)
            };
            one(ChangeKind::Vacuum { full })
        }
        "CLUSTER" => one(ChangeKind::Cluster),
        "PREPARE" => one(ChangeKind::Opaque {
            what: "PREPARE".into(),
            // `PREPARE s FROM @var`: the statement text is built at run time.
            ddl: match tokens.iter().find_map(|t| string_value(&t.token)) {
                Some(literal) => ddl_keyword(&literal),
                None => Some("dynamic SQL".into()),
            },
        }),
        "EXECUTE" => one(ChangeKind::Opaque {
            what: "EXECUTE".into(),
            ddl: None,
        }),
        "DELETE" => {
            c.kw("FROM");
            let table = c.name()?;
            let restricted = c.rest_has_word_at_depth0(&["WHERE", "LIMIT"]);
            // Unparsed: whether a subquery bounds it is not known; a LIMIT of its own is.
            let bounded = c.rest_has_word_at_depth0(&["LIMIT"]);
            one(ChangeKind::Delete {
                table,
                restricted,
                bounded,
                pinned: Vec::new(),
                // Repeated, a DELETE only with its own LIMIT is known to reach every row.
                shrink: if bounded {
                    crate::analyze::ir::Shrink::Always
                } else {
                    crate::analyze::ir::Shrink::Never
                },
            })
        }
        "TRUNCATE" => {
            c.kw("TABLE");
            c.kw("ONLY");
            let mut out = Vec::new();
            loop {
                let table = c.name()?;
                out.push(Change {
                    span: stmt_span,
                    kind: ChangeKind::Truncate { table },
                });
                if !c.punct(&Token::Comma) {
                    break;
                }
            }
            Some(out)
        }
        "BEGIN" | "START" => one(ChangeKind::Transaction(TxControl::Begin)),
        "COMMIT" | "END" => one(ChangeKind::Transaction(TxControl::Commit)),
        "ROLLBACK" | "ABORT" => one(ChangeKind::Transaction(TxControl::Rollback)),
        "SAVEPOINT" | "RELEASE" => one(ChangeKind::Transaction(TxControl::Savepoint)),
        "SET" | "RESET" | "USE" => one(ChangeKind::SessionSetting),
        "REFRESH" | "ANALYZE" | "ANALYSE" | "COMMENT" | "GRANT" | "REVOKE" | "SECURITY"
        | "NOTIFY" | "LISTEN" | "UNLISTEN" | "LOCK" | "CALL" | "SELECT" | "INSERT" | "UPDATE"
        | "WITH" | "VALUES" | "PRAGMA" | "CHECKPOINT" | "LOAD" | "DISCARD" | "DEALLOCATE"
        | "IMPORT" | "COPY" | "REPLACE" | "OPTIMIZE" | "FLUSH" | "SHOW" | "DECLARE" | "UNLOCK" => {
            one(ChangeKind::Other)
        }
        _ => None,
    }
}

fn drop(c: &mut Cursor, stmt_span: Span) -> Option<Vec<Change>> {
    let mut kinds: Vec<ChangeKind> = Vec::new();
    let names = |c: &mut Cursor, make: &dyn Fn(QName) -> ChangeKind| -> Option<Vec<ChangeKind>> {
        c.kws(&["IF", "EXISTS"]);
        let mut out = Vec::new();
        loop {
            out.push(make(c.name()?));
            c.skip_parens();
            if !c.punct(&Token::Comma) {
                break;
            }
        }
        Some(out)
    };
    if c.kw("INDEX") {
        let concurrently = c.kw("CONCURRENTLY");
        kinds = names(c, &|name| ChangeKind::DropIndex {
            name,
            table: None,
            concurrently,
        })?;
    } else if c.kw("FUNCTION") || c.kw("PROCEDURE") || c.kw("ROUTINE") {
        kinds = names(c, &|name| ChangeKind::DropFunction { name })?;
    } else if c.kw("TYPE") || c.kw("DOMAIN") {
        kinds = names(c, &|name| ChangeKind::DropType { name })?;
    } else if c.kw("SEQUENCE") {
        kinds = names(c, &|name| ChangeKind::DropSequence { name })?;
    } else if c.kw("VIEW") {
        kinds = names(c, &|view| ChangeKind::DropView {
            view,
            materialized: false,
        })?;
    } else if c.kws(&["MATERIALIZED", "VIEW"]) {
        kinds = names(c, &|view| ChangeKind::DropView {
            view,
            materialized: true,
        })?;
    } else if c.kw("TABLE") {
        kinds = names(c, &|table| ChangeKind::DropTable { table })?;
    } else if c.kw("SCHEMA") {
        kinds = names(c, &|n| ChangeKind::DropSchema { name: n.name })?;
    } else if [
        "TRIGGER",
        "STATISTICS",
        "EXTENSION",
        "POLICY",
        "RULE",
        "PUBLICATION",
        "SUBSCRIPTION",
        "OWNED",
        "ROLE",
        "USER",
        "AGGREGATE",
        "OPERATOR",
        "CAST",
        "COLLATION",
        "TEXT",
        "EVENT",
        "SERVER",
        "FOREIGN",
        "LANGUAGE",
        "CONVERSION",
        "TRANSFORM",
        "ACCESS",
    ]
    .iter()
    .any(|k| c.is_kw(k))
    {
        kinds.push(ChangeKind::Other);
    } else {
        return None;
    }
    Some(
        kinds
            .into_iter()
            .map(|kind| Change {
                span: stmt_span,
                kind,
            })
            .collect(),
    )
}

fn create(c: &mut Cursor, stmt_span: Span) -> Option<Vec<Change>> {
    let one = |kind| {
        Some(vec![Change {
            span: stmt_span,
            kind,
        }])
    };
    let or_replace = c.kws(&["OR", "REPLACE"]);
    if c.kw("DEFINER") {
        // MySQL `CREATE DEFINER=user@host TRIGGER|PROCEDURE|FUNCTION|VIEW|EVENT ...`.
        while c.peek().is_some()
            && !["TRIGGER", "PROCEDURE", "FUNCTION", "VIEW", "EVENT"]
                .iter()
                .any(|k| c.is_kw(k))
        {
            c.i += 1;
        }
    }
    if c.kw("TEMP") || c.kw("TEMPORARY") {
        return one(ChangeKind::Other);
    }
    c.kw("UNLOGGED");
    let unique = c.kw("UNIQUE");
    if c.kw("INDEX") {
        let concurrently = c.kw("CONCURRENTLY");
        c.kws(&["IF", "NOT", "EXISTS"]);
        let name = if c.is_kw("ON") { None } else { c.name() };
        if !c.kw("ON") {
            return None;
        }
        let only = c.kw("ONLY");
        let table = c.name()?;
        if c.kw("USING") {
            c.any_word();
        }
        let columns = paren_idents(c);
        return one(ChangeKind::CreateIndex {
            name,
            table,
            columns,
            // Keys may be expressions this reader skips: the implicit name is unknown.
            name_parts: Box::default(),
            unique,
            concurrently,
            only,
        });
    }
    if unique {
        return None;
    }
    if c.kw("FUNCTION") || c.kw("PROCEDURE") {
        let name = c.name()?;
        let mut volatility = None;
        for t in &c.t[c.i..] {
            for (word, v) in [
                ("IMMUTABLE", Volatility::Immutable),
                ("STABLE", Volatility::Stable),
                ("VOLATILE", Volatility::Volatile),
            ] {
                if is_word(&t.token, word) {
                    volatility = Some(v);
                }
            }
        }
        return one(ChangeKind::CreateFunction { name, volatility });
    }
    if c.kw("TYPE") {
        let name = c.name()?;
        let mut enum_values = None;
        if c.kws(&["AS", "ENUM"]) && c.punct(&Token::LParen) {
            let mut values = Vec::new();
            while let Some(v) = c.label() {
                values.push(v);
                if !c.punct(&Token::Comma) {
                    break;
                }
            }
            enum_values = Some(values);
        }
        return one(ChangeKind::CreateType { name, enum_values });
    }
    if c.kw("DOMAIN") {
        let name = c.name()?;
        return one(ChangeKind::CreateType {
            name,
            enum_values: None,
        });
    }
    if c.kw("SEQUENCE") {
        c.kws(&["IF", "NOT", "EXISTS"]);
        let name = c.name()?;
        return one(ChangeKind::CreateSequence { name });
    }
    if c.kw("SCHEMA") {
        c.kws(&["IF", "NOT", "EXISTS"]);
        let name = c.ident()?;
        return one(ChangeKind::CreateSchema { name });
    }
    if c.kw("DATABASE") {
        return one(ChangeKind::NonTransactionalCommand {
            what: "CREATE DATABASE".into(),
        });
    }
    let materialized = c.kw("MATERIALIZED");
    c.kw("RECURSIVE");
    if c.kw("VIEW") {
        c.kws(&["IF", "NOT", "EXISTS"]);
        let view = c.name()?;
        return one(ChangeKind::CreateView {
            view,
            columns: None,
            materialized,
            or_replace,
        });
    }
    if materialized {
        return None;
    }
    c.kw("CONSTRAINT");
    c.kw("TRUSTED");
    c.kw("PROCEDURAL");
    let no_effect = [
        "TRIGGER",
        "STATISTICS",
        "EXTENSION",
        "POLICY",
        "RULE",
        "AGGREGATE",
        "OPERATOR",
        "CAST",
        "COLLATION",
        "TEXT",
        "PUBLICATION",
        "SUBSCRIPTION",
        "ROLE",
        "USER",
        "EVENT",
        "SERVER",
        "FOREIGN",
        "TRANSFORM",
        "ACCESS",
        "CONVERSION",
        "LANGUAGE",
        "TABLESPACE",
    ];
    if no_effect.iter().any(|k| c.is_kw(k)) {
        return one(ChangeKind::Other);
    }
    None
}

/// Plain column names inside the next parenthesised list (expressions are skipped).
fn paren_idents(c: &mut Cursor) -> Vec<String> {
    let mut columns = Vec::new();
    if !c.punct(&Token::LParen) {
        return columns;
    }
    let mut depth = 1;
    let mut element_start = true;
    while let Some(t) = c.peek().cloned() {
        c.i += 1;
        match t {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            Token::Comma if depth == 1 => {
                element_start = true;
                continue;
            }
            Token::Word(w) if depth == 1 && element_start => {
                columns.push(names::fold(&w.value, w.quote_style.is_some(), c.dialect));
            }
            _ => {}
        }
        element_start = false;
    }
    columns
}

/// Rewrites tokens sqlparser trips on into an equivalent it parses; `None` when nothing
/// needed repair. Never used to build SQL to execute: only to understand the statement.
fn repair(tokens: &[TokenWithSpan], dialect: Dialect) -> Option<Vec<TokenWithSpan>> {
    if dialect != Dialect::Mysql {
        return None;
    }
    let mut out: Vec<TokenWithSpan> = Vec::with_capacity(tokens.len());
    let mut changed = false;
    for (i, t) in tokens.iter().enumerate() {
        let prev = out.last().map(|p| &p.token);
        // `VARCHAR(255) BINARY`: a collation shorthand, irrelevant to the analysis.
        if is_word(&t.token, "BINARY") && prev == Some(&Token::RParen) {
            changed = true;
            continue;
        }
        // `CREATE FULLTEXT INDEX` / `CREATE SPATIAL INDEX`: an online index like any other.
        if (is_word(&t.token, "FULLTEXT") || is_word(&t.token, "SPATIAL"))
            && prev.is_some_and(|p| is_word(p, "CREATE"))
        {
            changed = true;
            continue;
        }
        // `DROP KEY k` is `DROP INDEX k`.
        if is_word(&t.token, "KEY")
            && prev.is_some_and(|p| is_word(p, "DROP"))
            && i + 1 < tokens.len()
        {
            changed = true;
            out.push(TokenWithSpan::new(Token::make_keyword("INDEX"), t.span));
            continue;
        }
        out.push(t.clone());
    }
    changed.then_some(out)
}

/// The first DDL keyword (with its object word) in code the analysis cannot see into.
pub fn ddl_keyword(body: &str) -> Option<String> {
    let upper = body.to_ascii_uppercase();
    let words: Vec<&str> = upper
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        if matches!(
            *w,
            "ALTER" | "CREATE" | "DROP" | "TRUNCATE" | "RENAME" | "EXECUTE"
        ) {
            if *w == "EXECUTE" {
                return Some("dynamic SQL (EXECUTE)".to_string());
            }
            let next = words.get(i + 1).copied().unwrap_or("");
            let is_ddl = *w == "TRUNCATE"
                || matches!(
                    next,
                    "TABLE"
                        | "INDEX"
                        | "UNIQUE"
                        | "VIEW"
                        | "MATERIALIZED"
                        | "TYPE"
                        | "SCHEMA"
                        | "SEQUENCE"
                        | "COLUMN"
                        | "FUNCTION"
                        | "TRIGGER"
                        | "DOMAIN"
                        | "CONSTRAINT"
                        | "EXTENSION"
                        | "POLICY"
                        | "OR"
                );
            if is_ddl {
                return Some(format!("{w} {next}").trim().to_string());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests;
