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

/// Changes for a statement sqlparser refused, or `None` when it is not understood.
pub fn recognise(
    tokens: &[TokenWithSpan],
    stmt_span: Span,
    dialect: Dialect,
    sp: &dyn sqlparser::dialect::Dialect,
) -> Option<Vec<Change>> {
    if let Some(repaired) = repair(tokens, dialect) {
        if let Ok(statements) = parse_tokens(repaired.clone(), sp) {
            let significant: Vec<TokenWithSpan> = repaired;
            return Some(
                statements
                    .iter()
                    .flat_map(|s| lower::lower(s, &significant, stmt_span, dialect))
                    .collect(),
            );
        }
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
            c.skip_parens();
            c.any_word();
            let concurrently = c.kw("CONCURRENTLY");
            let target = c.rest_text();
            one(ChangeKind::Reindex {
                target,
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
        "VACUUM" => one(ChangeKind::Vacuum {
            full: tokens.iter().any(|t| is_word(&t.token, "FULL")),
        }),
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
            one(ChangeKind::Delete { table, restricted })
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

struct Cursor<'a> {
    t: &'a [TokenWithSpan],
    i: usize,
    dialect: Dialect,
}

fn is_word(token: &Token, k: &str) -> bool {
    matches!(token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k))
}

fn string_value(token: &Token) -> Option<String> {
    match token {
        Token::DollarQuotedString(s) => Some(s.value.clone()),
        Token::SingleQuotedString(s)
        | Token::EscapedStringLiteral(s)
        | Token::DoubleQuotedString(s) => Some(s.clone()),
        _ => None,
    }
}

impl Cursor<'_> {
    fn peek(&self) -> Option<&Token> {
        self.t
            .get(self.i)
            .map(|t| &t.token)
            .filter(|t| !matches!(t, Token::SemiColon | Token::EOF))
    }

    fn is_kw(&self, k: &str) -> bool {
        self.peek().is_some_and(|t| is_word(t, k))
    }

    fn kw(&mut self, k: &str) -> bool {
        if self.is_kw(k) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Consumes the whole keyword sequence or nothing.
    fn kws(&mut self, ks: &[&str]) -> bool {
        let save = self.i;
        for k in ks {
            if !self.kw(k) {
                self.i = save;
                return false;
            }
        }
        true
    }

    fn punct(&mut self, p: &Token) -> bool {
        if self.peek() == Some(p) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn any_word(&mut self) -> Option<String> {
        match self.peek() {
            Some(Token::Word(w)) => {
                let v = w.value.clone();
                self.i += 1;
                Some(v)
            }
            _ => None,
        }
    }

    fn ident(&mut self) -> Option<String> {
        match self.peek() {
            Some(Token::Word(Word {
                value, quote_style, ..
            })) => {
                let v = names::fold(value, quote_style.is_some(), self.dialect);
                self.i += 1;
                Some(v)
            }
            _ => None,
        }
    }

    fn name(&mut self) -> Option<QName> {
        let mut parts = vec![self.ident()?];
        while self.punct(&Token::Period) {
            parts.push(self.ident()?);
        }
        Some(names::qname(&parts, self.dialect))
    }

    /// A string literal or an identifier, as a plain value (enum labels).
    fn label(&mut self) -> Option<String> {
        let v = string_value(self.peek()?)?;
        self.i += 1;
        Some(v)
    }

    fn skip_parens(&mut self) {
        if self.peek() != Some(&Token::LParen) {
            return;
        }
        let mut depth = 0;
        while let Some(t) = self.peek() {
            match t {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                _ => {}
            }
            self.i += 1;
            if depth == 0 {
                break;
            }
        }
    }

    fn rest_text(&self) -> String {
        self.t[self.i.min(self.t.len())..]
            .iter()
            .take_while(|t| !matches!(t.token, Token::SemiColon | Token::EOF))
            .map(|t| t.token.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn rest_has_word_at_depth0(&self, words: &[&str]) -> bool {
        let mut depth = 0;
        for t in &self.t[self.i.min(self.t.len())..] {
            match &t.token {
                Token::LParen => depth += 1,
                Token::RParen => depth -= 1,
                tok if depth == 0 && words.iter().any(|w| is_word(tok, w)) => return true,
                _ => {}
            }
        }
        false
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
        c.kw("ONLY");
        let table = c.name()?;
        if c.kw("USING") {
            c.any_word();
        }
        let columns = paren_idents(c);
        return one(ChangeKind::CreateIndex {
            name,
            table,
            columns,
            unique,
            concurrently,
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

fn alter(
    c: &mut Cursor,
    stmt_span: Span,
    sp: &dyn sqlparser::dialect::Dialect,
) -> Option<Vec<Change>> {
    let one = |kind| {
        Some(vec![Change {
            span: stmt_span,
            kind,
        }])
    };
    if c.kw("TABLE") {
        return alter_table(c, stmt_span, sp);
    }
    let kind = if c.kw("INDEX") {
        ObjectKind::Index
    } else if c.kw("SEQUENCE") {
        ObjectKind::Sequence
    } else if c.kw("VIEW") {
        ObjectKind::View
    } else if c.kws(&["MATERIALIZED", "VIEW"]) {
        ObjectKind::MaterializedView
    } else if c.kw("TYPE") || c.kw("DOMAIN") {
        ObjectKind::Type
    } else if c.kw("FUNCTION") || c.kw("PROCEDURE") || c.kw("ROUTINE") {
        ObjectKind::Function
    } else if c.kw("SCHEMA") {
        let from = c.ident()?;
        if c.kws(&["RENAME", "TO"]) {
            let to = c.ident()?;
            return one(ChangeKind::RenameSchema { from, to });
        }
        return one(ChangeKind::Other);
    } else if c.kw("SYSTEM") {
        return one(ChangeKind::NonTransactionalCommand {
            what: "ALTER SYSTEM".into(),
        });
    } else if [
        "TRIGGER",
        "EXTENSION",
        "DEFAULT",
        "ROLE",
        "USER",
        "POLICY",
        "DATABASE",
        "STATISTICS",
        "PUBLICATION",
        "SUBSCRIPTION",
        "AGGREGATE",
        "OPERATOR",
        "COLLATION",
        "TEXT",
        "SERVER",
        "FOREIGN",
        "EVENT",
        "LARGE",
        "LANGUAGE",
        "TABLESPACE",
        "CONVERSION",
        "RULE",
    ]
    .iter()
    .any(|k| c.is_kw(k))
    {
        return one(ChangeKind::Other);
    } else {
        return None;
    };
    c.kws(&["IF", "EXISTS"]);
    let from = c.name()?;
    c.skip_parens();
    if c.kws(&["RENAME", "TO"]) {
        let to = from.with_name(c.ident()?);
        return one(match kind {
            ObjectKind::Index => ChangeKind::RenameIndex { from, to },
            _ => ChangeKind::RenameObject { kind, from, to },
        });
    }
    if c.kws(&["SET", "SCHEMA"]) {
        let schema = c.ident()?;
        return one(ChangeKind::SetSchema {
            kind,
            object: from,
            schema,
        });
    }
    match kind {
        ObjectKind::Sequence => one(ChangeKind::AlterSequence { name: from }),
        ObjectKind::View | ObjectKind::MaterializedView if c.kw("RENAME") => {
            c.kw("COLUMN");
            let old = c.ident()?;
            c.kw("TO").then_some(())?;
            let new = c.ident()?;
            one(ChangeKind::RenameColumn {
                table: from,
                from: old,
                to: new,
            })
        }
        ObjectKind::Type if c.kws(&["RENAME", "VALUE"]) => {
            let old = c.label()?;
            c.kw("TO").then_some(())?;
            let new = c.label()?;
            one(ChangeKind::RenameEnumValue {
                ty: from,
                from: old,
                to: new,
            })
        }
        ObjectKind::Type if c.kws(&["ADD", "VALUE"]) => {
            c.kws(&["IF", "NOT", "EXISTS"]);
            let value = c.label()?;
            one(ChangeKind::AddEnumValue { ty: from, value })
        }
        _ => one(ChangeKind::Other),
    }
}

/// `ALTER TABLE` that sqlparser refused as a whole: parse each clause on its own, and
/// recognise the clauses it still refuses.
fn alter_table(
    c: &mut Cursor,
    stmt_span: Span,
    sp: &dyn sqlparser::dialect::Dialect,
) -> Option<Vec<Change>> {
    c.kws(&["IF", "EXISTS"]);
    c.kw("ONLY");
    let table = c.name()?;
    c.punct(&Token::Mul);
    let head = &c.t[..c.i];
    let after = span(c.t.get(c.i)?.span).start;
    let mut out = Vec::new();
    for segment in comma_segments(c.t, after) {
        let seg_tokens: Vec<TokenWithSpan> =
            c.t.iter()
                .filter(|t| {
                    let s = span(t.span);
                    s.start >= segment.start && s.end <= segment.end
                })
                .cloned()
                .collect();
        let mut tokens = head.to_vec();
        tokens.extend(seg_tokens.iter().cloned());
        if let Ok(statements) = parse_tokens(tokens.clone(), sp) {
            for stmt in &statements {
                out.extend(lower::lower(stmt, &tokens, segment, c.dialect));
            }
            continue;
        }
        let mut seg = Cursor {
            t: &seg_tokens,
            i: 0,
            dialect: c.dialect,
        };
        let kind = table_clause(&mut seg, &table)?;
        out.push(Change {
            span: segment,
            kind,
        });
    }
    if out.is_empty() {
        out.push(Change {
            span: stmt_span,
            kind: ChangeKind::Other,
        });
    }
    Some(out)
}

fn table_clause(c: &mut Cursor, table: &QName) -> Option<ChangeKind> {
    let t = table.clone();
    if c.kw("ADD") {
        if c.kw("CONSTRAINT") {
            let name = c.ident()?;
            if c.kws(&["NOT", "NULL"]) {
                let column = c.ident()?;
                if c.kws(&["NOT", "VALID"]) {
                    return Some(ChangeKind::Other);
                }
                let _ = name;
                return Some(ChangeKind::SetNotNull { table: t, column });
            }
            return None;
        }
        let unique = c.kw("UNIQUE");
        let fulltext = c.kw("FULLTEXT") || c.kw("SPATIAL");
        if c.kw("INDEX") || c.kw("KEY") || fulltext {
            c.kw("INDEX");
            c.kw("KEY");
            let name = if c.peek() == Some(&Token::LParen) {
                None
            } else {
                c.ident()
            };
            let columns = paren_idents(c);
            return Some(ChangeKind::AddConstraint {
                table: t,
                constraint: Box::new(ConstraintSpec {
                    name,
                    kind: ConstraintKind::Index { columns, unique },
                    using_index: None,
                }),
                not_valid: false,
            });
        }
        return None;
    }
    if c.kw("DETACH") {
        c.kw("PARTITION").then_some(())?;
        c.name()?;
        let concurrently = c.kw("CONCURRENTLY");
        return Some(ChangeKind::DetachPartition {
            table: t,
            concurrently,
        });
    }
    if c.kws(&["SET", "SCHEMA"]) {
        let schema = c.ident()?;
        return Some(ChangeKind::SetSchema {
            kind: ObjectKind::Table,
            object: t,
            schema,
        });
    }
    if c.kw("RENAME") {
        if c.kw("INDEX") || c.kw("KEY") {
            let from = c.ident()?;
            c.kw("TO").then_some(())?;
            let to = c.ident()?;
            return Some(ChangeKind::RenameIndex {
                from: QName::new(from),
                to: QName::new(to),
            });
        }
        if c.is_kw("COLUMN") || c.is_kw("CONSTRAINT") {
            return None;
        }
        let _ = c.kw("TO") || c.kw("AS");
        let to = c.name()?;
        return Some(ChangeKind::RenameTable { from: t, to });
    }
    if c.kws(&["CONVERT", "TO"]) {
        return Some(ChangeKind::ConvertCharset { table: t });
    }
    if c.kw("DROP") && (c.kw("KEY") || c.kw("INDEX")) {
        let name = c.ident()?;
        return Some(ChangeKind::DropIndex {
            name: QName::new(name),
            table: Some(t),
            concurrently: false,
        });
    }
    if c.kws(&["VALIDATE", "CONSTRAINT"]) {
        let name = c.ident()?;
        return Some(ChangeKind::ValidateConstraint { table: t, name });
    }
    if c.kw("ALTER") {
        if c.kw("CONSTRAINT") {
            return Some(ChangeKind::Other);
        }
        c.kw("COLUMN");
        let column = c.ident()?;
        let type_change = c.kws(&["SET", "DATA", "TYPE"]) || c.kw("TYPE");
        if type_change {
            let start = c.i;
            while c.peek().is_some() && !c.is_kw("USING") && !c.is_kw("COLLATE") {
                c.i += 1;
            }
            let text: String = c.t[start..c.i]
                .iter()
                .map(|t| t.token.to_string())
                .collect::<Vec<_>>()
                .join(" ")
                .replace(" (", "(")
                .replace("( ", "(")
                .replace(" )", ")")
                .replace(" ,", ",");
            let using = c.rest_has_word_at_depth0(&["USING"]);
            return Some(ChangeKind::AlterColumnType {
                table: t,
                column,
                ty: Box::new(names::sql_type(&text, c.dialect)),
                using,
            });
        }
        let harmless = [
            ["SET", "STATISTICS"],
            ["SET", "STORAGE"],
            ["SET", "COMPRESSION"],
            ["DROP", "IDENTITY"],
            ["SET", "GENERATED"],
            ["DROP", "EXPRESSION"],
            ["SET", "INCREMENT"],
        ];
        if harmless.iter().any(|ks| c.kws(ks))
            || c.kw("RESTART")
            || (c.is_kw("SET") || c.is_kw("RESET"))
                && c.t.get(c.i + 1).map(|t| &t.token) == Some(&Token::LParen)
        {
            return Some(ChangeKind::Other);
        }
        return None;
    }
    let harmless: &[&[&str]] = &[
        &["ENGINE"],
        &["DEFAULT", "CHARSET"],
        &["DEFAULT", "CHARACTER"],
        &["DEFAULT", "COLLATE"],
        &["CHARSET"],
        &["CHARACTER", "SET"],
        &["COLLATE"],
        &["ROW_FORMAT"],
        &["AUTO_INCREMENT"],
        &["COMMENT"],
        &["KEY_BLOCK_SIZE"],
        &["ATTACH", "PARTITION"],
        &["OWNER", "TO"],
        &["SET", "TABLESPACE"],
        &["SET", "WITHOUT"],
        &["SET", "ACCESS"],
        &["CLUSTER", "ON"],
        &["INHERIT"],
        &["NO", "INHERIT"],
        &["REPLICA", "IDENTITY"],
        &["ENABLE"],
        &["DISABLE"],
        &["FORCE"],
        &["NO", "FORCE"],
        &["OF"],
        &["NOT", "OF"],
    ];
    if harmless.iter().any(|ks| c.kws(ks)) {
        return Some(ChangeKind::Other);
    }
    if (c.is_kw("SET") || c.is_kw("RESET"))
        && c.t.get(c.i + 1).map(|t| &t.token) == Some(&Token::LParen)
    {
        return Some(ChangeKind::Other);
    }
    None
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
mod tests {
    use super::*;
    use crate::analyze::parse::parse_file;

    fn kinds(sql: &str, dialect: Dialect) -> Vec<ChangeKind> {
        let parsed = parse_file(sql, dialect);
        assert_eq!(parsed.statements.len(), 1, "{sql}");
        let stmt = &parsed.statements[0];
        assert!(stmt.failure.is_none(), "{sql}: {:?}", stmt.failure);
        stmt.changes.iter().map(|c| c.kind.clone()).collect()
    }

    #[test]
    fn drop_index_concurrently() {
        assert_eq!(
            kinds(
                "DROP INDEX CONCURRENTLY IF EXISTS a, s.b;",
                Dialect::Postgres
            ),
            [
                ChangeKind::DropIndex {
                    name: QName::new("a"),
                    table: None,
                    concurrently: true
                },
                ChangeKind::DropIndex {
                    name: QName {
                        schema: Some("s".into()),
                        name: "b".into()
                    },
                    table: None,
                    concurrently: true
                }
            ]
        );
    }

    #[test]
    fn reindex_and_sequences() {
        assert_eq!(
            kinds("REINDEX INDEX CONCURRENTLY idx;", Dialect::Postgres),
            [ChangeKind::Reindex {
                target: "idx".into(),
                concurrently: true
            }]
        );
        assert_eq!(
            kinds("ALTER SEQUENCE s AS bigint;", Dialect::Postgres),
            [ChangeKind::AlterSequence {
                name: QName::new("s")
            }]
        );
    }

    #[test]
    fn do_block_ddl_is_seen() {
        let k = kinds(
            "DO $$ BEGIN ALTER TABLE t ADD COLUMN x int; END $$;",
            Dialect::Postgres,
        );
        assert_eq!(
            k,
            [ChangeKind::Opaque {
                what: "DO block".into(),
                ddl: Some("ALTER TABLE".into())
            }]
        );
    }

    #[test]
    fn named_not_null_constraint_is_set_not_null() {
        let k = kinds(
            "ALTER TABLE t ADD CONSTRAINT t_x_nn NOT NULL x, ADD COLUMN y int;",
            Dialect::Postgres,
        );
        assert!(matches!(&k[0], ChangeKind::SetNotNull { column, .. } if column == "x"));
        assert!(matches!(&k[1], ChangeKind::AddColumn { .. }));
    }

    #[test]
    fn mysql_repairs() {
        let k = kinds(
            "ALTER TABLE t MODIFY name VARCHAR(255) BINARY NOT NULL;",
            Dialect::Mysql,
        );
        assert!(matches!(&k[0], ChangeKind::RedefineColumn { .. }));
        let k = kinds("ALTER TABLE a RENAME b;", Dialect::Mysql);
        assert!(matches!(&k[0], ChangeKind::RenameTable { .. }));
    }

    #[test]
    fn unknown_statements_stay_unparsed() {
        let parsed = parse_file("FROBNICATE TABLE x;", Dialect::Postgres);
        assert!(parsed.statements[0].failure.is_some());
    }
}
