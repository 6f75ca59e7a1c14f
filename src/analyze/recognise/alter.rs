//! `ALTER` statements the recogniser understands: `ALTER TABLE` clause by clause (the clauses sqlparser refuses), sequences, indexes, types and the rest.

use super::*;

pub(super) fn alter(
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
    } else if c.kw("DOMAIN") {
        return alter_domain(c).map(|kind| {
            vec![Change {
                span: stmt_span,
                kind,
            }]
        });
    } else if c.kw("TYPE") {
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

/// `ALTER DOMAIN name ...`: constraints added to it; renames and moves as for types.
fn alter_domain(c: &mut Cursor) -> Option<ChangeKind> {
    c.kws(&["IF", "EXISTS"]);
    let name = c.name()?;
    if c.kws(&["RENAME", "TO"]) {
        let to = name.with_name(c.ident()?);
        return Some(ChangeKind::RenameObject {
            kind: ObjectKind::Type,
            from: name,
            to,
        });
    }
    if c.kws(&["SET", "SCHEMA"]) {
        let schema = c.ident()?;
        return Some(ChangeKind::SetSchema {
            kind: ObjectKind::Type,
            object: name,
            schema,
        });
    }
    if c.kws(&["SET", "NOT", "NULL"]) {
        return Some(ChangeKind::AlterDomain {
            name,
            not_null: true,
            not_valid: false,
        });
    }
    if c.kw("ADD") {
        if c.kw("CONSTRAINT") {
            c.ident()?;
        }
        let not_null = c.kws(&["NOT", "NULL"]);
        if !not_null && !c.kw("CHECK") {
            return Some(ChangeKind::Other);
        }
        let not_valid = c.t[c.i..]
            .windows(2)
            .any(|w| is_word(&w[0].token, "NOT") && is_word(&w[1].token, "VALID"));
        return Some(ChangeKind::AlterDomain {
            name,
            not_null,
            not_valid,
        });
    }
    Some(ChangeKind::Other)
}

/// `ALTER TABLE` that sqlparser refused as a whole: parse each clause on its own, and
/// recognise the clauses it still refuses.
pub(super) fn alter_table(
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

pub(super) fn table_clause(c: &mut Cursor, table: &QName) -> Option<ChangeKind> {
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
        let finalize = !concurrently && c.kw("FINALIZE");
        return Some(ChangeKind::DetachPartition {
            table: t,
            concurrently,
            finalize,
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
