//! What bounds a data change and whether running it again changes fewer rows: the facts a
//! backfill (`UPDATE`, `INSERT ... SELECT`, `DELETE` repeated until it changes no row) and
//! `unbatched-backfill` need, read from the statement's `WHERE`, `SET` and `LIMIT`.

use sqlparser::ast::{
    Assignment, AssignmentTarget, BinaryOperator, Expr, Insert, OnConflictAction, OnInsert, Query,
    SetExpr, TableFactor, TableObject, Update, Value,
};

use super::Lower;
use crate::analyze::ir::{QName, Shrink};

/// [`conjuncts`], for callers holding a borrowed condition.
fn conjuncts_of(selection: Option<&Expr>) -> Vec<&Expr> {
    conjuncts(selection)
}

/// The top-level `AND`s of a condition, parentheses removed.
fn conjuncts(selection: Option<&Expr>) -> Vec<&Expr> {
    let mut out = Vec::new();
    let mut stack: Vec<&Expr> = selection.into_iter().collect();
    while let Some(e) = stack.pop() {
        match e {
            Expr::BinaryOp {
                left,
                op: BinaryOperator::And,
                right,
            } => {
                stack.push(right);
                stack.push(left);
            }
            Expr::Nested(inner) => stack.push(inner),
            other => out.push(other),
        }
    }
    out
}

/// A literal value (a negative number too).
fn constant(e: &Expr) -> bool {
    matches!(e, Expr::Value(_))
        || matches!(e, Expr::UnaryOp { expr, .. } if matches!(**expr, Expr::Value(_)))
}

fn is_null_literal(e: &Expr) -> bool {
    matches!(e, Expr::Value(v) if matches!(v.value, Value::Null))
}

/// A batch query that returns the same rows for the same data, and some while any match: no
/// `OFFSET`, no `SKIP LOCKED`, and a `LIMIT` (if any) of a positive number.
fn steady(q: &Query) -> bool {
    let limit_ok = match &q.limit_clause {
        None => true,
        Some(sqlparser::ast::LimitClause::LimitOffset {
            limit, offset: None, ..
        }) => limit.as_ref().is_none_or(|l| {
            matches!(l, Expr::Value(v) if matches!(&v.value, Value::Number(n, _) if n.parse::<u64>().is_ok_and(|n| n > 0)))
        }),
        Some(_) => false,
    };
    limit_ok
        && q.fetch.as_ref().is_none_or(|f| f.quantity.as_ref().is_some_and(|e| matches!(e, Expr::Value(v) if matches!(&v.value, Value::Number(n, _) if n.parse::<u64>().is_ok_and(|n| n > 0)))))
        && !q
            .locks
            .iter()
            .any(|l| matches!(l.nonblock, Some(sqlparser::ast::NonBlock::SkipLocked)))
}

/// A condition that calls `random()`/`rand()`: a batch may come back empty while rows match.
fn random(selection: Option<&Expr>) -> bool {
    selection.is_some_and(|e| {
        let text = e.to_string().to_ascii_lowercase();
        text.contains("random(") || text.contains("rand(")
    })
}

/// A literal's truth: `TRUE`/`FALSE`, `1`/`0`.
fn boolean(e: &Expr) -> Option<bool> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Boolean(b) => Some(*b),
            Value::Number(n, _) if n == "1" => Some(true),
            Value::Number(n, _) if n == "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A `WHERE` that holds a subquery with a `LIMIT` (or `FETCH`), at any depth of `AND`/`OR`,
/// parentheses and `IN`/`EXISTS`/`= (...)`: the statement changes at most that many rows.
fn limited_subquery(expr: &Expr) -> bool {
    // MySQL refuses a LIMIT in an IN subquery; its idiom is a derived table that has one:
    // `id IN (SELECT id FROM (SELECT id FROM t WHERE ... LIMIT n) AS batch)`.
    fn limited(q: &Query) -> bool {
        q.limit_clause.is_some() || q.fetch.is_some() || derived(q).is_some_and(limited)
    }
    match expr {
        Expr::InSubquery { subquery, .. } => limited(subquery),
        Expr::Exists { subquery, .. } | Expr::Subquery(subquery) => limited(subquery),
        Expr::BinaryOp { left, right, .. } => limited_subquery(left) || limited_subquery(right),
        Expr::Nested(inner) | Expr::UnaryOp { expr: inner, .. } => limited_subquery(inner),
        Expr::AnyOp { right, .. } | Expr::AllOp { right, .. } => limited_subquery(right),
        _ => false,
    }
}

/// The query a `SELECT ... FROM (query) AS alias` reads, when that is all it reads.
fn derived(q: &Query) -> Option<&Query> {
    let SetExpr::Select(select) = q.body.as_ref() else {
        return None;
    };
    match select.from.as_slice() {
        [only] if only.joins.is_empty() => match &only.relation {
            TableFactor::Derived { subquery, .. } => Some(subquery),
            _ => None,
        },
        _ => None,
    }
}

/// What a condition says about one column, as far as a `SET` can falsify it.
enum Condition<'e> {
    /// `col IS NULL`.
    IsNull(String),
    /// `col IS NOT NULL`.
    NotNull(String),
    /// `col <op> value`.
    Compare(String, &'e BinaryOperator, &'e Expr),
    /// `col IS DISTINCT FROM value`.
    Distinct(String, &'e Expr),
    /// `col IN (v, ...)`.
    In(String, &'e [Expr]),
    /// `NOT col`, `col IS FALSE`, `col IS NOT TRUE`, `col = false`: a boolean marker not set.
    Falsy(String),
    /// `col`, `col IS TRUE`: a boolean marker set.
    Truthy(String),
}

impl Lower<'_> {
    /// What bounds an `UPDATE` or `DELETE`: whether a `LIMIT` of its own or of a subquery of
    /// its `WHERE` does, and the columns the `WHERE` pins ([`Lower::pinned`]).
    pub(super) fn batch(
        &self,
        limit: Option<&Expr>,
        selection: Option<&Expr>,
    ) -> (bool, Vec<String>) {
        let bounded = limit.is_some() || selection.is_some_and(limited_subquery);
        (bounded, self.pinned(selection))
    }

    /// The columns a `WHERE` pins to constants in its top-level `AND`s: `col = v`,
    /// `col IN (v, ...)`, `col BETWEEN a AND b`, or both a lower and an upper bound.
    fn pinned(&self, selection: Option<&Expr>) -> Vec<String> {
        let column = |e: &Expr| self.column_name(e);
        let (mut pinned, mut lower, mut upper) = (Vec::new(), Vec::new(), Vec::new());
        for e in conjuncts(selection) {
            match e {
                Expr::BinaryOp { left, op, right } => {
                    let (col, flipped) = match (column(left), column(right)) {
                        (Some(c), None) if constant(right) => (c, false),
                        (None, Some(c)) if constant(left) => (c, true),
                        _ => continue,
                    };
                    match (op, flipped) {
                        (BinaryOperator::Eq, _) => pinned.push(col),
                        (BinaryOperator::Gt | BinaryOperator::GtEq, false)
                        | (BinaryOperator::Lt | BinaryOperator::LtEq, true) => lower.push(col),
                        (BinaryOperator::Lt | BinaryOperator::LtEq, false)
                        | (BinaryOperator::Gt | BinaryOperator::GtEq, true) => upper.push(col),
                        _ => {}
                    }
                }
                Expr::InList {
                    expr,
                    list,
                    negated: false,
                } if list.iter().all(constant) => pinned.extend(column(expr)),
                Expr::Between {
                    expr,
                    negated: false,
                    low,
                    high,
                } if constant(low) && constant(high) => pinned.extend(column(expr)),
                _ => {}
            }
        }
        pinned.extend(lower.into_iter().filter(|c| upper.contains(c)));
        pinned
    }

    /// The table a `FROM` item names, when it is a plain table.
    fn factor_table(&self, factor: &TableFactor) -> Option<QName> {
        match factor {
            TableFactor::Table { name, .. } => Some(self.qname(name)),
            _ => None,
        }
    }

    /// The conditions that select a statement's batch, when repeating it until it changes
    /// no row can only end with every row done: with a `key IN (SELECT key FROM <same table>
    /// WHERE ... LIMIT n)` batch (or MySQL's derived-table form), that subquery's conditions,
    /// and nothing else may filter outside it (the rows the batch picks but the statement
    /// skips would fill every later batch); the batch may not skip rows (`OFFSET`, `SKIP
    /// LOCKED`) nor read another table (its rows never leave it). Without a subquery batch,
    /// the `WHERE`'s top-level `AND`s. `None`: the statement may stop with rows left.
    fn work_set<'e>(
        &self,
        table: &QName,
        selection: Option<&'e Expr>,
    ) -> Option<Vec<Condition<'e>>> {
        let all = conjuncts(selection);
        let batch = all
            .iter()
            .find(|e| matches!(e, Expr::InSubquery { negated: false, .. }) && limited_subquery(e));
        let Some(Expr::InSubquery {
            expr: key,
            subquery,
            ..
        }) = batch
        else {
            return Some(all.into_iter().filter_map(|e| self.condition(e)).collect());
        };
        if all.len() > 1 {
            return None;
        }
        let query = derived(subquery).unwrap_or(subquery);
        if !steady(subquery) || !steady(query) {
            return None;
        }
        let SetExpr::Select(select) = query.body.as_ref() else {
            return None;
        };
        let same_table = select.from.len() == 1
            && select.from[0].joins.is_empty()
            && self.factor_table(&select.from[0].relation).as_ref() == Some(table)
            && !matches!(
                &select.from[0].relation,
                TableFactor::Table {
                    sample: Some(_),
                    ..
                }
            );
        // The batch picks rows by the key the statement matches on (`id IN (SELECT id ...)`):
        // another column's values would pick other rows, or the same ones forever.
        let picks_key = |q: &Query| match q.body.as_ref() {
            SetExpr::Select(s) => match s.projection.as_slice() {
                [sqlparser::ast::SelectItem::UnnamedExpr(e)]
                | [sqlparser::ast::SelectItem::ExprWithAlias { expr: e, .. }] => {
                    self.column_name(e).is_some() && self.column_name(e) == self.column_name(key)
                }
                _ => false,
            },
            _ => false,
        };
        if !same_table
            || !picks_key(subquery)
            || !picks_key(query)
            || random(select.selection.as_ref())
        {
            return None;
        }
        Some(
            conjuncts(select.selection.as_ref())
                .into_iter()
                .filter_map(|e| self.condition(e))
                .collect(),
        )
    }

    /// [`ChangeKind::Delete`](crate::analyze::ir::ChangeKind::Delete)'s shrink fact: a
    /// deleted row leaves every batch of its own table.
    pub(super) fn shrink_of_delete(&self, table: &QName, selection: Option<&Expr>) -> Shrink {
        match self.work_set(table, selection) {
            Some(_) => Shrink::Always,
            None => Shrink::Never,
        }
    }

    fn condition<'e>(&self, e: &'e Expr) -> Option<Condition<'e>> {
        Some(match e {
            Expr::UnaryOp {
                op: sqlparser::ast::UnaryOperator::Not,
                expr,
            } => Condition::Falsy(self.column_name(expr)?),
            Expr::IsFalse(inner) | Expr::IsNotTrue(inner) => {
                Condition::Falsy(self.column_name(inner)?)
            }
            Expr::IsTrue(inner) => Condition::Truthy(self.column_name(inner)?),
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
                Condition::Truthy(self.column_name(e)?)
            }
            Expr::IsNull(inner) => Condition::IsNull(self.column_name(inner)?),
            Expr::IsNotNull(inner) => Condition::NotNull(self.column_name(inner)?),
            Expr::IsDistinctFrom(a, b) => match (self.column_name(a), self.column_name(b)) {
                (Some(c), _) => Condition::Distinct(c, b),
                (None, Some(c)) => Condition::Distinct(c, a),
                _ => return None,
            },
            Expr::BinaryOp { left, op, right } => match self.column_name(left) {
                Some(c) => Condition::Compare(c, op, right),
                None => return None,
            },
            Expr::InList {
                expr,
                list,
                negated: false,
            } => Condition::In(self.column_name(expr)?, list),
            _ => return None,
        })
    }

    /// The columns whose being NOT NULL makes `e` not NULL (`Some(vec![])`: never NULL);
    /// `None` when it may be NULL whatever they hold.
    fn not_null_given(&self, e: &Expr, conditions: &[Condition]) -> Option<Vec<String>> {
        match e {
            Expr::Value(v) => (!matches!(v.value, Value::Null)).then(Vec::new),
            Expr::UnaryOp { expr, .. } | Expr::Nested(expr) => {
                self.not_null_given(expr, conditions)
            }
            Expr::Cast { expr, .. } => self.not_null_given(expr, conditions),
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
                let column = self.column_name(e)?;
                let known = conditions
                    .iter()
                    .any(|c| matches!(c, Condition::NotNull(n) if *n == column));
                Some(if known { Vec::new() } else { vec![column] })
            }
            Expr::BinaryOp { left, right, .. } => {
                let mut columns = self.not_null_given(left, conditions)?;
                columns.extend(self.not_null_given(right, conditions)?);
                Some(columns)
            }
            Expr::Function(f) => {
                let name = f.name.to_string().to_ascii_lowercase();
                let args = match &f.args {
                    sqlparser::ast::FunctionArguments::List(list) => list
                        .args
                        .iter()
                        .filter_map(|a| match a {
                            sqlparser::ast::FunctionArg::Unnamed(
                                sqlparser::ast::FunctionArgExpr::Expr(e),
                            ) => Some(e),
                            _ => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                match name.as_str() {
                    // The first argument that is never NULL ends the search.
                    "coalesce" | "ifnull" | "nvl" => {
                        let mut best: Option<Vec<String>> = None;
                        for arg in args {
                            match self.not_null_given(arg, conditions) {
                                Some(c) if c.is_empty() => return Some(c),
                                Some(c) if best.is_none() => best = Some(c),
                                _ => {}
                            }
                        }
                        best
                    }
                    // NULL only when an argument is (MySQL's CONCAT; PostgreSQL's skips
                    // NULLs, so this is the stricter reading).
                    "concat" | "lower" | "upper" | "trim" | "ltrim" | "rtrim" | "md5" | "abs"
                    | "round" | "length" | "char_length" | "substr" | "substring" | "left"
                    | "right" | "replace" | "lpad" | "rpad" => {
                        let mut columns = Vec::new();
                        for arg in args {
                            columns.extend(self.not_null_given(arg, conditions)?);
                        }
                        Some(columns)
                    }
                    "now"
                    | "current_timestamp"
                    | "localtimestamp"
                    | "utc_timestamp"
                    | "gen_random_uuid"
                    | "uuid"
                    | "uuid_generate_v4"
                    | "random"
                    | "rand"
                    | "clock_timestamp"
                    | "statement_timestamp"
                    | "transaction_timestamp"
                    | "current_date"
                    | "curdate"
                    | "sysdate" => Some(Vec::new()),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Whether a changed row stops meeting the statement's conditions: some condition on a
    /// column the `SET` assigns is false for the assigned value.
    fn update_shrink(
        &self,
        table: &QName,
        assignments: &[Assignment],
        selection: Option<&Expr>,
    ) -> Shrink {
        let Some(conditions) = self.work_set(table, selection) else {
            return Shrink::Never;
        };
        let mut best = Shrink::Never;
        for a in assignments {
            let AssignmentTarget::ColumnName(name) = &a.target else {
                continue;
            };
            let Some(column) = name
                .0
                .last()
                .and_then(|p| p.as_ident())
                .map(|i| self.fold(i))
            else {
                continue;
            };
            let value = &a.value;
            let same = |other: &Expr| other.to_string() == value.to_string();
            for condition in &conditions {
                let shrink = match condition {
                    Condition::IsNull(c) if *c == column => {
                        match self.not_null_given(value, &conditions) {
                            Some(columns) if columns.is_empty() => Shrink::Always,
                            Some(columns) => Shrink::IfNotNull(Box::new((table.clone(), columns))),
                            None => continue,
                        }
                    }
                    Condition::NotNull(c) if *c == column && is_null_literal(value) => {
                        Shrink::Always
                    }
                    Condition::Compare(c, op, other) if *c == column => match op {
                        BinaryOperator::NotEq | BinaryOperator::Lt | BinaryOperator::Gt
                            if same(other) =>
                        {
                            Shrink::Always
                        }
                        BinaryOperator::Eq
                            if constant(other)
                                && constant(value)
                                && !is_null_literal(value)
                                && !same(other) =>
                        {
                            Shrink::Always
                        }
                        _ => continue,
                    },
                    Condition::Distinct(c, other) if *c == column && same(other) => Shrink::Always,
                    Condition::Falsy(c) if *c == column && boolean(value) == Some(true) => {
                        Shrink::Always
                    }
                    Condition::Truthy(c) if *c == column && boolean(value) == Some(false) => {
                        Shrink::Always
                    }
                    Condition::In(c, list)
                        if *c == column
                            && constant(value)
                            && !is_null_literal(value)
                            && list.iter().all(|v| constant(v) && !same(v)) =>
                    {
                        Shrink::Always
                    }
                    _ => continue,
                };
                best = best.max(shrink);
            }
        }
        best
    }

    /// [`ChangeKind::Update`](crate::analyze::ir::ChangeKind::Update)'s shrink fact.
    pub(super) fn shrink_of_update(&self, table: &QName, u: &Update) -> Shrink {
        self.update_shrink(table, &u.assignments, u.selection.as_ref())
    }

    /// An expression as compared with another: a column by its name (`id` and `u.id` read
    /// the same column of the source), anything else by its text.
    fn expr_key(&self, e: &Expr) -> String {
        self.column_name(e).unwrap_or_else(|| e.to_string())
    }

    /// `alias.col = expr` (either way round) where `alias` names the target: the expressions
    /// compared, when every conjunct is such an equality with the expression inserted into
    /// that column (`inserted`).
    fn anti_join<'e>(
        &self,
        conjuncts: &[&'e Expr],
        alias: &str,
        inserted: &dyn Fn(&str) -> Option<String>,
    ) -> Option<Vec<&'e Expr>> {
        let mut compared = Vec::new();
        for c in conjuncts {
            let Expr::BinaryOp {
                left,
                op: BinaryOperator::Eq,
                right,
            } = c
            else {
                return None;
            };
            let of_target = |e: &Expr| match e {
                Expr::CompoundIdentifier(parts) if parts.len() == 2 => {
                    (self.fold(&parts[0]) == alias).then(|| self.fold(&parts[1]))
                }
                _ => None,
            };
            let (column, other) = match (of_target(left), of_target(right)) {
                (Some(c), None) => (c, right.as_ref()),
                (None, Some(c)) => (c, left.as_ref()),
                _ => return None,
            };
            // A plain column: an expression may be stored converted (rounded, cast) and
            // never compare equal to what was inserted.
            self.column_name(other)?;
            if inserted(&column)? != self.expr_key(other) {
                return None;
            }
            compared.push(other);
        }
        (!compared.is_empty()).then_some(compared)
    }

    /// Whether an `INSERT` inserts fewer rows when run again: its `SELECT` leaves out the rows
    /// already in the target by comparing, in a `NOT EXISTS (SELECT ... FROM target WHERE
    /// target.col = expr ...)` or a `LEFT JOIN target ON target.col = expr ... WHERE
    /// target.col IS NULL`, each target column with exactly the expression inserted into it
    /// (and nothing else: another condition could keep an inserted row out of the match), the
    /// expressions not NULL; or — without a `LIMIT` — every row conflicts the second time
    /// (`ON CONFLICT DO NOTHING`, `INSERT IGNORE`, on a target with a unique key). With a
    /// `LIMIT` a conflict clause would stop after the first batch, every later run inserting
    /// nothing.
    pub(super) fn shrink_of_insert(&self, insert: &Insert) -> (Option<QName>, bool, Shrink) {
        let TableObject::TableName(name) = &insert.table else {
            return (None, false, Shrink::Never);
        };
        let target = self.qname(name);
        let Some(source) = &insert.source else {
            let ignores = insert.ignore
                || matches!(&insert.on, Some(OnInsert::OnConflict(c)) if matches!(c.action, OnConflictAction::DoNothing));
            let shrink = if ignores {
                Shrink::IfKeyed(target.clone())
            } else {
                Shrink::Never
            };
            return (Some(target), false, shrink);
        };
        let SetExpr::Select(select) = source.body.as_ref() else {
            return (Some(target), false, Shrink::Never);
        };
        // Rows it inserts must not feed its own later batches, and each batch must come back
        // with rows while any are left.
        let reads_target = select.from.iter().any(|f| {
            self.factor_table(&f.relation).as_ref() == Some(&target)
                || f.joins.iter().any(|j| {
                    self.factor_table(&j.relation).as_ref() == Some(&target)
                        && !matches!(
                            j.join_operator,
                            sqlparser::ast::JoinOperator::LeftOuter(_)
                                | sqlparser::ast::JoinOperator::Left(_)
                        )
                })
        });
        if reads_target || !steady(source) || random(select.selection.as_ref()) {
            return (Some(target), true, Shrink::Never);
        }
        // What goes into each target column.
        let items: Vec<&Expr> = select
            .projection
            .iter()
            .filter_map(|item| match item {
                sqlparser::ast::SelectItem::UnnamedExpr(e) => Some(e),
                sqlparser::ast::SelectItem::ExprWithAlias { expr, .. } => Some(expr),
                _ => None,
            })
            .collect();
        let columns: Vec<String> = insert
            .columns
            .iter()
            .filter_map(|c| c.0.last().and_then(|p| p.as_ident()).map(|i| self.fold(i)))
            .collect();
        let inserted = |column: &str| -> Option<&Expr> {
            (columns.len() == items.len() && items.len() == select.projection.len())
                .then(|| columns.iter().position(|c| c == column).map(|i| items[i]))
                .flatten()
        };
        let source_table = select
            .from
            .first()
            .and_then(|f| self.factor_table(&f.relation));
        let inserted_text = |column: &str| inserted(column).map(|e| self.expr_key(e));
        let matched = |conjuncts: &[&'_ Expr], alias: &str| {
            self.anti_join(conjuncts, alias, &inserted_text)
                .map(|exprs| exprs.into_iter().cloned().collect::<Vec<Expr>>())
        };
        let target_alias = |factor: &TableFactor| match factor {
            TableFactor::Table { name, alias, .. } if self.qname(name) == target => Some(
                alias
                    .as_ref()
                    .map_or_else(|| target.name.clone(), |a| self.fold(&a.name)),
            ),
            _ => None,
        };
        let conjuncts = conjuncts(select.selection.as_ref());
        let mut compared: Option<Vec<Expr>> = None;
        for e in &conjuncts {
            let subquery = match e {
                Expr::Exists {
                    subquery,
                    negated: true,
                } => subquery,
                Expr::UnaryOp {
                    op: sqlparser::ast::UnaryOperator::Not,
                    expr,
                } => match expr.as_ref() {
                    Expr::Exists {
                        subquery,
                        negated: false,
                    } => subquery,
                    _ => continue,
                },
                _ => continue,
            };
            let SetExpr::Select(inner) = subquery.body.as_ref() else {
                continue;
            };
            let [only] = inner.from.as_slice() else {
                continue;
            };
            let Some(alias) = target_alias(&only.relation).filter(|_| only.joins.is_empty()) else {
                continue;
            };
            compared = compared.or(matched(&conjuncts_of(inner.selection.as_ref()), &alias));
        }
        for from in &select.from {
            for join in &from.joins {
                let on = match &join.join_operator {
                    sqlparser::ast::JoinOperator::LeftOuter(c)
                    | sqlparser::ast::JoinOperator::Left(c) => c,
                    _ => continue,
                };
                let (Some(alias), sqlparser::ast::JoinConstraint::On(on)) =
                    (target_alias(&join.relation), on)
                else {
                    continue;
                };
                let Some(exprs) = matched(&conjuncts_of(Some(on)), &alias) else {
                    continue;
                };
                // `alias.col IS NULL` on a compared column: no row of the target matched.
                let unmatched = conjuncts.iter().any(|e| match e {
                    Expr::IsNull(inner) => matches!(inner.as_ref(), Expr::CompoundIdentifier(p) if p.len() == 2 && self.fold(&p[0]) == alias),
                    _ => false,
                });
                if unmatched {
                    compared = compared.or(Some(exprs));
                }
            }
        }
        let limited = source.limit_clause.is_some() || source.fetch.is_some();
        let ignores_conflicts = insert.ignore
            || matches!(&insert.on, Some(OnInsert::OnConflict(c)) if matches!(c.action, OnConflictAction::DoNothing));
        let shrink = match compared {
            Some(exprs) => {
                let mut not_null = Vec::new();
                let mut known = true;
                for e in &exprs {
                    match self.not_null_given(e, &[]) {
                        Some(columns) => not_null.extend(columns),
                        None => known = false,
                    }
                }
                match (known, source_table) {
                    (true, _) if not_null.is_empty() => Shrink::Always,
                    (true, Some(table)) => Shrink::IfNotNull(Box::new((table, not_null))),
                    _ => Shrink::Never,
                }
            }
            None if ignores_conflicts && !limited => Shrink::IfKeyed(target.clone()),
            None => Shrink::Never,
        };
        (Some(target), true, shrink)
    }
}
