//! Turns one sqlparser [`Statement`] into IR [`Change`]s, with the span of each clause.
//!
//! Anything without a schema effect a rule cares about becomes [`ChangeKind::Other`]; every
//! statement kind that can break the old app or block traffic is handled here explicitly.

use sqlparser::ast::{
    AlterColumnOperation, AlterIndexOperation, AlterSchemaOperation, AlterTableOperation,
    AlterTypeOperation, ColumnDef, ColumnOption, DataType, Expr, FromTable, FunctionBehavior,
    GeneratedAs, GeneratedExpressionMode, Ident, IndexColumn, ObjectName, ObjectType, Query,
    RenameTableNameKind, SelectItem, SetExpr, Statement, TableConstraint, TableFactor,
    UserDefinedTypeRepresentation,
};
use sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::analyze::ir::{
    Change, ChangeKind, ColumnSpec, ConstraintKind, ConstraintSpec, Generated, ObjectKind, QName,
    Span, SqlType, TxControl, Volatility,
};
use crate::analyze::names;
use crate::dialect::Dialect;
use crate::source::Pos;

mod batch;
mod table;

/// Converts a sqlparser span to ours (line 0 stays unknown).
pub fn span(s: sqlparser::tokenizer::Span) -> Span {
    Span {
        start: Pos {
            line: s.start.line as u32,
            column: s.start.column as u32,
        },
        end: Pos {
            line: s.end.line as u32,
            column: s.end.column as u32,
        },
    }
}

/// Lowers `stmt`, whose significant tokens are `tokens` and whole extent `stmt_span`.
pub fn lower(
    stmt: &Statement,
    tokens: &[TokenWithSpan],
    stmt_span: Span,
    dialect: Dialect,
) -> Vec<Change> {
    let mut lower = Lower {
        dialect,
        tokens,
        stmt_span,
        out: Vec::new(),
    };
    lower.statement(stmt);
    if lower.out.is_empty() {
        lower.push(stmt_span, ChangeKind::Other);
    }
    lower.out
}

struct Lower<'a> {
    dialect: Dialect,
    tokens: &'a [TokenWithSpan],
    stmt_span: Span,
    out: Vec<Change>,
}

impl Lower<'_> {
    fn push(&mut self, span: Span, kind: ChangeKind) {
        self.out.push(Change {
            span: span.or(self.stmt_span),
            kind,
        });
    }

    /// The column an expression names (`col`, `t.col`), folded.
    fn column_name(&self, expr: &Expr) -> Option<String> {
        match expr {
            Expr::Identifier(i) => Some(self.fold(i)),
            Expr::CompoundIdentifier(parts) => parts.last().map(|i| self.fold(i)),
            _ => None,
        }
    }

    fn fold(&self, ident: &Ident) -> String {
        names::fold(&ident.value, ident.quote_style.is_some(), self.dialect)
    }

    fn qname(&self, name: &ObjectName) -> QName {
        let parts: Vec<String> = name
            .0
            .iter()
            .filter_map(|p| p.as_ident())
            .map(|i| self.fold(i))
            .collect();
        names::qname(&parts, self.dialect)
    }

    fn name_span(&self, name: &ObjectName) -> Span {
        let idents: Vec<&Ident> = name.0.iter().filter_map(|p| p.as_ident()).collect();
        match (idents.first(), idents.last()) {
            (Some(first), Some(last)) => Span {
                start: span(first.span).start,
                end: span(last.span).end,
            },
            _ => Span::default(),
        }
    }

    /// The span of one object in a list: the name when there are several, else the statement.
    fn list_span(&self, name: &ObjectName, count: usize) -> Span {
        if count > 1 {
            self.name_span(name)
        } else {
            self.stmt_span
        }
    }

    fn statement(&mut self, stmt: &Statement) {
        let whole = self.stmt_span;
        match stmt {
            Statement::CreateTable(ct) => {
                let table = self.qname(&ct.name);
                if ct.temporary {
                    self.push(whole, ChangeKind::CreateTempTable { table });
                    return;
                }
                let columns = ct.columns.iter().map(|c| self.column(c)).collect();
                let constraints = ct
                    .constraints
                    .iter()
                    .filter_map(|c| self.constraint(c))
                    .collect();
                self.push(
                    whole,
                    ChangeKind::CreateTable {
                        table,
                        columns,
                        constraints,
                        if_not_exists: ct.if_not_exists,
                        partitioned: ct.partition_by.is_some(),
                        partition_of: ct.partition_of.as_ref().map(|p| Box::new(self.qname(p))),
                    },
                );
            }
            Statement::Drop {
                object_type,
                names,
                table,
                temporary,
                ..
            } => {
                if *temporary {
                    return;
                }
                for name in names {
                    let at = self.list_span(name, names.len());
                    let q = self.qname(name);
                    let kind = match object_type {
                        ObjectType::Table => ChangeKind::DropTable { table: q },
                        ObjectType::View => ChangeKind::DropView {
                            view: q,
                            materialized: false,
                        },
                        ObjectType::MaterializedView => ChangeKind::DropView {
                            view: q,
                            materialized: true,
                        },
                        ObjectType::Index => ChangeKind::DropIndex {
                            name: q,
                            table: table.as_ref().map(|t| self.qname(t)),
                            concurrently: false,
                        },
                        ObjectType::Schema => ChangeKind::DropSchema { name: q.name },
                        ObjectType::Sequence => ChangeKind::DropSequence { name: q },
                        ObjectType::Type => ChangeKind::DropType { name: q },
                        ObjectType::Database => ChangeKind::DropDatabase { name: q.name },
                        _ => ChangeKind::Other,
                    };
                    self.push(at, kind);
                }
            }
            // A domain is a type: dropping it breaks the columns and casts that use it.
            Statement::DropDomain(dd) => {
                let name = self.qname(&dd.name);
                self.push(whole, ChangeKind::DropType { name });
            }
            Statement::DropFunction(df) => {
                for desc in &df.func_desc {
                    let at = self.list_span(&desc.name, df.func_desc.len());
                    let name = self.qname(&desc.name);
                    self.push(at, ChangeKind::DropFunction { name });
                }
            }
            Statement::DropProcedure { proc_desc, .. } => {
                for desc in proc_desc {
                    let name = self.qname(&desc.name);
                    self.push(whole, ChangeKind::DropFunction { name });
                }
            }
            Statement::AlterTable(at) => self.alter_table(at),
            Statement::RenameTable(renames) => {
                for r in renames {
                    let from = self.qname(&r.old_name);
                    let to = self.qname(&r.new_name);
                    let at = if renames.len() > 1 {
                        self.name_span(&r.old_name)
                    } else {
                        whole
                    };
                    self.push(at, ChangeKind::RenameTable { from, to });
                }
            }
            Statement::CreateIndex(ci) => {
                let table = self.qname(&ci.table_name);
                let name = ci.name.as_ref().map(|n| self.qname(n));
                let columns = self.index_columns(&ci.columns);
                let name_parts = self.index_name_parts(&ci.columns, &ci.include).into();
                self.push(
                    whole,
                    ChangeKind::CreateIndex {
                        name,
                        table: table.clone(),
                        columns,
                        name_parts,
                        unique: ci.unique,
                        concurrently: ci.concurrently,
                        only: false,
                    },
                );
                self.alter_options(&table, &ci.alter_options);
            }
            Statement::AlterIndex { name, operation } => match operation {
                AlterIndexOperation::RenameIndex { index_name } => {
                    let from = self.qname(name);
                    let to = from.with_name(self.qname(index_name).name);
                    self.push(whole, ChangeKind::RenameIndex { from, to });
                }
            },
            Statement::CreateView(cv) => {
                let columns = if cv.columns.is_empty() {
                    self.query_columns(&cv.query)
                } else {
                    Some(cv.columns.iter().map(|c| self.fold(&c.name)).collect())
                };
                let view = self.qname(&cv.name);
                self.push(
                    whole,
                    ChangeKind::CreateView {
                        view,
                        columns,
                        materialized: cv.materialized,
                        or_replace: cv.or_replace || cv.or_alter,
                    },
                );
            }
            Statement::AlterView {
                name,
                columns,
                query,
                ..
            } => {
                let columns = if columns.is_empty() {
                    self.query_columns(query)
                } else {
                    Some(columns.iter().map(|c| self.fold(c)).collect())
                };
                let view = self.qname(name);
                self.push(
                    whole,
                    ChangeKind::CreateView {
                        view,
                        columns,
                        materialized: false,
                        or_replace: true,
                    },
                );
            }
            Statement::CreateSchema { schema_name, .. } => {
                let name = match schema_name {
                    sqlparser::ast::SchemaName::Simple(n)
                    | sqlparser::ast::SchemaName::NamedAuthorization(n, _) => self.qname(n).name,
                    sqlparser::ast::SchemaName::UnnamedAuthorization(i) => self.fold(i),
                };
                self.push(whole, ChangeKind::CreateSchema { name });
            }
            Statement::AlterSchema(a) => {
                for op in &a.operations {
                    if let AlterSchemaOperation::Rename { name } = op {
                        let from = self.qname(&a.name).name;
                        let to = self.qname(name).name;
                        self.push(whole, ChangeKind::RenameSchema { from, to });
                    }
                }
            }
            Statement::CreateType {
                name,
                representation,
            } => {
                let enum_values = match representation {
                    Some(UserDefinedTypeRepresentation::Enum { labels }) => {
                        Some(labels.iter().map(|l| l.value.clone()).collect())
                    }
                    _ => None,
                };
                let name = self.qname(name);
                self.push(whole, ChangeKind::CreateType { name, enum_values });
            }
            Statement::AlterType(at) => {
                let ty = self.qname(&at.name);
                let kind = match &at.operation {
                    AlterTypeOperation::Rename(r) => ChangeKind::RenameObject {
                        kind: ObjectKind::Type,
                        to: ty.with_name(self.fold(&r.new_name)),
                        from: ty,
                    },
                    AlterTypeOperation::AddValue(v) => ChangeKind::AddEnumValue {
                        ty,
                        value: v.value.value.clone(),
                    },
                    AlterTypeOperation::RenameValue(v) => ChangeKind::RenameEnumValue {
                        ty,
                        from: v.from.value.clone(),
                        to: v.to.value.clone(),
                    },
                };
                self.push(whole, kind);
            }
            Statement::CreateDomain(cd) => {
                let name = self.qname(&cd.name);
                self.push(
                    whole,
                    ChangeKind::CreateType {
                        name,
                        enum_values: None,
                    },
                );
            }
            Statement::CreateSequence { name, .. } => {
                let name = self.qname(name);
                self.push(whole, ChangeKind::CreateSequence { name });
            }
            Statement::CreateFunction(cf) => {
                let name = self.qname(&cf.name);
                let volatility = cf.behavior.as_ref().map(|b| match b {
                    FunctionBehavior::Immutable => Volatility::Immutable,
                    FunctionBehavior::Stable => Volatility::Stable,
                    FunctionBehavior::Volatile => Volatility::Volatile,
                });
                self.push(whole, ChangeKind::CreateFunction { name, volatility });
            }
            Statement::CreateProcedure { name, .. } => {
                let name = self.qname(name);
                self.push(
                    whole,
                    ChangeKind::CreateFunction {
                        name,
                        volatility: None,
                    },
                );
            }
            Statement::AlterFunction(af) => {
                use sqlparser::ast::AlterFunctionOperation as Op;
                let from = self.qname(&af.function.name);
                match &af.operation {
                    Op::RenameTo { new_name } => {
                        let to = from.with_name(self.fold(new_name));
                        self.push(
                            whole,
                            ChangeKind::RenameObject {
                                kind: ObjectKind::Function,
                                from,
                                to,
                            },
                        );
                    }
                    Op::SetSchema { schema_name } => {
                        let schema = self.qname(schema_name).name;
                        self.push(
                            whole,
                            ChangeKind::SetSchema {
                                kind: ObjectKind::Function,
                                object: from,
                                schema,
                            },
                        );
                    }
                    _ => {}
                }
            }
            Statement::Truncate(t) => {
                for target in &t.table_names {
                    let at = self.list_span(&target.name, t.table_names.len());
                    let table = self.qname(&target.name);
                    self.push(at, ChangeKind::Truncate { table });
                }
            }
            Statement::Delete(d) => {
                let relation = match &d.from {
                    FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from) => {
                        from.first().map(|t| &t.relation)
                    }
                };
                let table = match (d.tables.first(), relation) {
                    (Some(name), _) => Some(self.qname(name)),
                    (None, Some(TableFactor::Table { name, .. })) => Some(self.qname(name)),
                    _ => None,
                };
                if let Some(table) = table {
                    let restricted = d.selection.is_some() || d.limit.is_some();
                    let (bounded, pinned) = self.batch(d.limit.as_ref(), d.selection.as_ref());
                    let shrink = self.shrink_of_delete(&table, d.selection.as_ref());
                    self.push(
                        whole,
                        ChangeKind::Delete {
                            table,
                            restricted,
                            bounded,
                            pinned,
                            shrink,
                        },
                    );
                }
            }
            Statement::Update(u) => {
                if let TableFactor::Table { name, .. } = &u.table.relation {
                    let table = self.qname(name);
                    let (bounded, pinned) = self.batch(u.limit.as_ref(), u.selection.as_ref());
                    let shrink = self.shrink_of_update(&table, u);
                    self.push(
                        whole,
                        ChangeKind::Update {
                            table,
                            bounded,
                            pinned,
                            shrink,
                        },
                    );
                }
            }
            Statement::Insert(insert) => {
                if let (Some(table), from_select, shrink) = self.shrink_of_insert(insert) {
                    self.push(
                        whole,
                        ChangeKind::Insert {
                            table,
                            from_select,
                            shrink,
                        },
                    );
                }
            }
            Statement::Vacuum(v) => self.push(whole, ChangeKind::Vacuum { full: v.full }),
            Statement::StartTransaction { .. } => {
                self.push(whole, ChangeKind::Transaction(TxControl::Begin))
            }
            Statement::Commit { .. } => {
                self.push(whole, ChangeKind::Transaction(TxControl::Commit))
            }
            Statement::Rollback { savepoint, .. } => {
                let tx = if savepoint.is_some() {
                    TxControl::Savepoint
                } else {
                    TxControl::Rollback
                };
                self.push(whole, ChangeKind::Transaction(tx));
            }
            Statement::Savepoint { .. } | Statement::ReleaseSavepoint { .. } => {
                self.push(whole, ChangeKind::Transaction(TxControl::Savepoint))
            }
            Statement::CreateDatabase { .. } => self.push(
                whole,
                ChangeKind::NonTransactionalCommand {
                    what: "CREATE DATABASE".into(),
                },
            ),
            Statement::Set(_) | Statement::Reset(_) => self.push(whole, ChangeKind::SessionSetting),
            Statement::Prepare { statement, .. } => {
                let ddl = ddl_keyword_of(statement);
                self.push(
                    whole,
                    ChangeKind::Opaque {
                        what: "PREPARE".into(),
                        ddl,
                    },
                );
            }
            Statement::Call(function) => {
                let routine = self.qname(&function.name);
                self.push(whole, ChangeKind::Call { routine });
            }
            Statement::Execute { .. } => self.push(
                whole,
                ChangeKind::Opaque {
                    what: "EXECUTE".into(),
                    ddl: None,
                },
            ),
            _ => {}
        }
    }

    /// Output column names of a view's query, when every one can be named.
    fn query_columns(&self, query: &Query) -> Option<Vec<String>> {
        self.set_expr_columns(&query.body)
    }

    fn set_expr_columns(&self, body: &SetExpr) -> Option<Vec<String>> {
        match body {
            SetExpr::Select(select) => select
                .projection
                .iter()
                .map(|item| match item {
                    SelectItem::UnnamedExpr(e) => self.expr_name(e),
                    SelectItem::ExprWithAlias { alias, .. } => Some(self.fold(alias)),
                    _ => None,
                })
                .collect(),
            SetExpr::SetOperation { left, .. } => self.set_expr_columns(left),
            SetExpr::Query(q) => self.query_columns(q),
            _ => None,
        }
    }

    fn expr_name(&self, e: &Expr) -> Option<String> {
        if let Some(column) = self.column_name(e) {
            return Some(column);
        }
        match e {
            Expr::Cast { expr, .. } | Expr::Nested(expr) => self.expr_name(expr),
            Expr::Function(f) => f
                .name
                .0
                .last()
                .and_then(|p| p.as_ident())
                .map(|i| i.value.to_lowercase()),
            _ => None,
        }
    }
}

/// Spans of the depth-0 comma-separated clauses of `tokens` that start at or after `after`,
/// up to the statement's end.
pub fn comma_segments(tokens: &[TokenWithSpan], after: Pos) -> Vec<Span> {
    let Some(from) = tokens.iter().position(|t| span(t.span).start >= after) else {
        return Vec::new();
    };
    let mut segments = Vec::new();
    let mut depth = 0i32;
    let mut seg_start: Option<Span> = None;
    let mut last: Option<Span> = None;
    for t in &tokens[from..] {
        let s = span(t.span);
        match t.token {
            Token::SemiColon | Token::EOF if depth == 0 => break,
            Token::Comma if depth == 0 => {
                if let (Some(a), Some(b)) = (seg_start.take(), last) {
                    segments.push(Span {
                        start: a.start,
                        end: b.end,
                    });
                }
                continue;
            }
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket => depth -= 1,
            _ => {}
        }
        if seg_start.is_none() {
            seg_start = Some(s);
        }
        last = Some(s);
    }
    if let (Some(a), Some(b)) = (seg_start, last) {
        segments.push(Span {
            start: a.start,
            end: b.end,
        });
    }
    segments
}

/// The first DDL keyword of a prepared statement's body, when it is DDL.
fn ddl_keyword_of(stmt: &Statement) -> Option<String> {
    match stmt {
        Statement::Query(_) | Statement::Insert(_) | Statement::Update(_) => None,
        Statement::Delete(_) => None,
        other => {
            let text = other.to_string();
            let word = text.split_whitespace().next().unwrap_or("").to_uppercase();
            Some(word)
        }
    }
}
