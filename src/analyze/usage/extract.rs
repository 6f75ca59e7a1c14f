//! What one parsed query names: its relations per scope (with aliases; CTEs and derived
//! tables apart), its column references (qualified or not) and `*`s per scope, its INSERT
//! targets with their column lists, the columns its UPDATEs set, the functions it calls, the
//! types it casts to and its string literals. Names only: resolving them against a catalog is
//! [`super::Query::uses`]'s.

use std::ops::ControlFlow;

use sqlparser::ast::{
    AssignmentTarget, ConflictTarget, DataType, Expr, Ident, ObjectName, OnConflictAction,
    OnInsert, Query, Select, SelectItem, SelectItemQualifiedWildcardKind, Statement, TableFactor,
    TableObject, Value, Visit, Visitor,
};

use crate::analyze::ir::QName;
use crate::analyze::names;
use crate::dialect::Dialect;

/// A relation a scope reads from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rel {
    /// The table or view, `None` for a CTE, a derived table or a table function (their
    /// columns are not a table's).
    pub name: Option<QName>,
    /// The name was written with a schema.
    pub qualified: bool,
    /// What the query calls it (its alias, else its name).
    pub alias: String,
}

/// One level of name resolution: a query or subquery.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// The enclosing scope.
    pub parent: Option<usize>,
    /// Its relations.
    pub rels: Vec<Rel>,
    /// Column references: (qualifier, column).
    pub columns: Vec<(Option<String>, String)>,
    /// `*` (`None`) and `x.*` (`Some(x)`).
    pub stars: Vec<Option<String>>,
    /// CTE names it defines.
    ctes: Vec<String>,
}

/// An INSERT (or MySQL REPLACE) target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insert {
    /// The table.
    pub table: QName,
    /// Written with a schema.
    pub qualified: bool,
    /// The columns it names (`None`: no column list, every column by position).
    pub columns: Option<Vec<String>>,
}

/// Everything one query names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    /// Scopes; the first is the statement's own.
    pub scopes: Vec<Scope>,
    /// INSERT targets.
    pub inserts: Vec<Insert>,
    /// UPDATE targets (their alias or name) with the columns they set.
    pub updates: Vec<(String, Vec<String>)>,
    /// Functions called.
    pub functions: Vec<QName>,
    /// Types cast to.
    pub types: Vec<QName>,
    /// String literals.
    pub strings: Vec<String>,
}

/// The names `statement` uses.
pub fn names(statement: &Statement, dialect: Dialect) -> Names {
    let mut walker = Walker {
        dialect,
        out: Names {
            scopes: vec![Scope::default()],
            ..Names::default()
        },
        stack: vec![0],
    };
    walker.statement(statement);
    let _ = statement.visit(&mut walker);
    walker.out
}

struct Walker {
    dialect: Dialect,
    out: Names,
    stack: Vec<usize>,
}

impl Walker {
    fn fold(&self, ident: &Ident) -> String {
        names::fold(&ident.value, ident.quote_style.is_some(), self.dialect)
    }

    fn parts(&self, name: &ObjectName) -> Vec<String> {
        name.0
            .iter()
            .filter_map(|p| p.as_ident())
            .map(|i| self.fold(i))
            .collect()
    }

    fn qname(&self, name: &ObjectName) -> (QName, bool) {
        let parts = self.parts(name);
        (names::qname(&parts, self.dialect), parts.len() > 1)
    }

    fn scope(&mut self) -> &mut Scope {
        let at = *self.stack.last().expect("a scope");
        &mut self.out.scopes[at]
    }

    /// A CTE of this scope or an enclosing one is called `name`.
    fn is_cte(&self, name: &str) -> bool {
        let mut at = self.stack.last().copied();
        while let Some(i) = at {
            if self.out.scopes[i].ctes.iter().any(|c| c == name) {
                return true;
            }
            at = self.out.scopes[i].parent;
        }
        false
    }

    fn column_of(&self, name: &ObjectName) -> Option<String> {
        self.parts(name).pop()
    }

    fn star_items(&mut self, items: &[SelectItem]) {
        for item in items {
            match item {
                SelectItem::Wildcard(_) => self.scope().stars.push(None),
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(n),
                    _,
                ) => {
                    let qualifier = self.parts(n).pop();
                    self.scope().stars.push(qualifier);
                }
                _ => {}
            }
        }
    }

    /// What the statement itself targets; its expressions and FROM items are the visitor's.
    fn statement(&mut self, statement: &Statement) {
        match statement {
            Statement::Insert(insert) => {
                if let TableObject::TableName(name) = &insert.table {
                    let (table, qualified) = self.qname(name);
                    let mut columns: Vec<String> = insert
                        .columns
                        .iter()
                        .filter_map(|c| self.column_of(c))
                        .collect();
                    columns.extend(
                        insert
                            .assignments
                            .iter()
                            .flat_map(|a| self.targets(&a.target)),
                    );
                    let listed = !insert.columns.is_empty() || !insert.assignments.is_empty();
                    let alias = insert
                        .table_alias
                        .as_ref()
                        .map(|a| self.fold(&a.alias))
                        .unwrap_or_else(|| table.name.clone());
                    self.scope().rels.push(Rel {
                        name: Some(table.clone()),
                        qualified,
                        alias: alias.clone(),
                    });
                    self.out.inserts.push(Insert {
                        table,
                        qualified,
                        columns: listed.then_some(columns),
                    });
                    let mut set = Vec::new();
                    match &insert.on {
                        Some(OnInsert::DuplicateKeyUpdate(assignments)) => {
                            set.extend(assignments.iter().flat_map(|a| self.targets(&a.target)));
                        }
                        Some(OnInsert::OnConflict(on)) => {
                            if let Some(ConflictTarget::Columns(cols)) = &on.conflict_target {
                                for c in cols {
                                    let c = self.fold(c);
                                    self.scope().columns.push((None, c));
                                }
                            }
                            if let OnConflictAction::DoUpdate(update) = &on.action {
                                set.extend(
                                    update
                                        .assignments
                                        .iter()
                                        .flat_map(|a| self.targets(&a.target)),
                                );
                            }
                        }
                        _ => {}
                    }
                    if !set.is_empty() {
                        self.out.updates.push((alias, set));
                    }
                }
                if let Some(returning) = &insert.returning {
                    self.star_items(returning);
                }
            }
            Statement::Update(update) => {
                let target = match &update.table.relation {
                    TableFactor::Table { name, alias, .. } => alias
                        .as_ref()
                        .map(|a| self.fold(&a.name))
                        .or_else(|| self.parts(name).pop()),
                    _ => None,
                };
                let set: Vec<String> = update
                    .assignments
                    .iter()
                    .flat_map(|a| self.targets(&a.target))
                    .collect();
                if let Some(target) = target {
                    self.out.updates.push((target, set));
                }
                if let Some(returning) = &update.returning {
                    self.star_items(returning);
                }
            }
            Statement::Delete(delete) => {
                if let Some(returning) = &delete.returning {
                    self.star_items(returning);
                }
            }
            _ => {}
        }
    }

    fn targets(&self, target: &AssignmentTarget) -> Vec<String> {
        match target {
            AssignmentTarget::ColumnName(n) => self.column_of(n).into_iter().collect(),
            AssignmentTarget::Tuple(ns) => ns.iter().filter_map(|n| self.column_of(n)).collect(),
        }
    }
}

impl Visitor for Walker {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        let parent = self.stack.last().copied();
        let ctes = query
            .with
            .iter()
            .flat_map(|w| w.cte_tables.iter())
            .map(|c| self.fold(&c.alias.name))
            .collect();
        self.out.scopes.push(Scope {
            parent,
            ctes,
            ..Scope::default()
        });
        self.stack.push(self.out.scopes.len() - 1);
        ControlFlow::Continue(())
    }

    fn post_visit_query(&mut self, _: &Query) -> ControlFlow<()> {
        self.stack.pop();
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, select: &Select) -> ControlFlow<()> {
        self.star_items(&select.projection);
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        let rel = match factor {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                let (qname, qualified) = self.qname(name);
                let alias = alias
                    .as_ref()
                    .map(|a| self.fold(&a.name))
                    .unwrap_or_else(|| qname.name.clone());
                if args.is_some() {
                    self.out.functions.push(qname);
                    Rel {
                        name: None,
                        qualified,
                        alias,
                    }
                } else if !qualified && self.is_cte(&qname.name) {
                    Rel {
                        name: None,
                        qualified,
                        alias,
                    }
                } else {
                    Rel {
                        name: Some(qname),
                        qualified,
                        alias,
                    }
                }
            }
            TableFactor::Derived { alias, .. }
            | TableFactor::UNNEST { alias, .. }
            | TableFactor::TableFunction { alias, .. }
            | TableFactor::Function { alias, .. }
            | TableFactor::JsonTable { alias, .. } => Rel {
                name: None,
                qualified: false,
                alias: alias
                    .as_ref()
                    .map(|a| self.fold(&a.name))
                    .unwrap_or_default(),
            },
            _ => return ControlFlow::Continue(()),
        };
        self.scope().rels.push(rel);
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<()> {
        match expr {
            Expr::Identifier(ident) => {
                let c = self.fold(ident);
                self.scope().columns.push((None, c));
            }
            Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                let folded: Vec<String> = parts.iter().map(|p| self.fold(p)).collect();
                let column = folded[folded.len() - 1].clone();
                let qualifier = folded[folded.len() - 2].clone();
                // `composite.field` reads as `qualifier.column` too; the qualifier is also a
                // column name then.
                let scope = self.scope();
                scope.columns.push((Some(qualifier.clone()), column));
                if folded.len() == 2 {
                    scope.columns.push((None, qualifier));
                }
            }
            Expr::Function(f) => {
                let (name, _) = self.qname(&f.name);
                self.out.functions.push(name);
            }
            Expr::Cast { data_type, .. } => self.data_type(data_type),
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_value(&mut self, value: &sqlparser::ast::ValueWithSpan) -> ControlFlow<()> {
        let text = match &value.value {
            Value::SingleQuotedString(s)
            | Value::DoubleQuotedString(s)
            | Value::EscapedStringLiteral(s)
            | Value::NationalStringLiteral(s) => Some(s.clone()),
            Value::DollarQuotedString(d) => Some(d.value.clone()),
            _ => None,
        };
        if let Some(text) = text {
            self.out.strings.push(text);
        }
        ControlFlow::Continue(())
    }
}

impl Walker {
    fn data_type(&mut self, ty: &DataType) {
        match ty {
            DataType::Custom(name, _) => {
                let (name, _) = self.qname(name);
                self.out.types.push(name);
            }
            DataType::Array(sqlparser::ast::ArrayElemTypeDef::SquareBracket(inner, _))
            | DataType::Array(sqlparser::ast::ArrayElemTypeDef::AngleBracket(inner))
            | DataType::Array(sqlparser::ast::ArrayElemTypeDef::Parenthesis(inner)) => {
                self.data_type(inner)
            }
            _ => {}
        }
    }
}
