//! Lowering of tables: `ALTER TABLE` clause by clause, column definitions and their
//! options, types, table constraints.

use super::*;

impl Lower<'_> {
    pub(super) fn alter_table(&mut self, at: &sqlparser::ast::AlterTable) {
        let table = self.qname(&at.name);
        let segments = self.segments_after(self.name_span(&at.name).end);
        let spans: Vec<Span> = if segments.len() == at.operations.len() {
            segments
        } else {
            vec![self.stmt_span; at.operations.len()]
        };
        let mut algorithm = None;
        let mut lock = None;
        let mut options_span = Span::default();
        for (op, &at_span) in at.operations.iter().zip(&spans) {
            let t = table.clone();
            let kind = match op {
                AlterTableOperation::AddColumn { column_def, .. } => ChangeKind::AddColumn {
                    table: t,
                    column: Box::new(self.column(column_def)),
                },
                AlterTableOperation::DropColumn { column_names, .. } => {
                    for c in column_names {
                        let column = self.fold(c);
                        self.push(
                            at_span,
                            ChangeKind::DropColumn {
                                table: table.clone(),
                                column,
                            },
                        );
                    }
                    continue;
                }
                AlterTableOperation::RenameColumn {
                    old_column_name,
                    new_column_name,
                } => ChangeKind::RenameColumn {
                    table: t,
                    from: self.fold(old_column_name),
                    to: self.fold(new_column_name),
                },
                AlterTableOperation::RenameTable { table_name } => {
                    let (RenameTableNameKind::As(n) | RenameTableNameKind::To(n)) = table_name;
                    let new = self.qname(n);
                    let to = if new.schema.is_none() {
                        table.with_name(new.name)
                    } else {
                        new
                    };
                    ChangeKind::RenameTable { from: t, to }
                }
                AlterTableOperation::ChangeColumn {
                    old_name,
                    new_name,
                    data_type,
                    options,
                    ..
                } => ChangeKind::RedefineColumn {
                    table: t,
                    from: self.fold(old_name),
                    column: Box::new(self.column_parts(new_name, data_type, options.iter())),
                },
                AlterTableOperation::ModifyColumn {
                    col_name,
                    data_type,
                    options,
                    ..
                } => ChangeKind::RedefineColumn {
                    table: t,
                    from: self.fold(col_name),
                    column: Box::new(self.column_parts(col_name, data_type, options.iter())),
                },
                AlterTableOperation::AlterColumn { column_name, op } => {
                    let column = self.fold(column_name);
                    match op {
                        AlterColumnOperation::SetNotNull => {
                            ChangeKind::SetNotNull { table: t, column }
                        }
                        AlterColumnOperation::DropNotNull => {
                            ChangeKind::DropNotNull { table: t, column }
                        }
                        AlterColumnOperation::SetDefault { value } => ChangeKind::SetDefault {
                            table: t,
                            column,
                            default: Box::new(names::expr_info(&value.to_string())),
                        },
                        AlterColumnOperation::DropDefault => {
                            ChangeKind::DropDefault { table: t, column }
                        }
                        AlterColumnOperation::SetDataType {
                            data_type, using, ..
                        } => ChangeKind::AlterColumnType {
                            table: t,
                            column,
                            ty: Box::new(self.sql_type(data_type)),
                            using: using.is_some(),
                        },
                        AlterColumnOperation::AddGenerated { .. } => {
                            ChangeKind::AddIdentity { table: t, column }
                        }
                    }
                }
                AlterTableOperation::AddConstraint {
                    constraint,
                    not_valid,
                } => match self.constraint(constraint) {
                    Some(constraint) => ChangeKind::AddConstraint {
                        table: t,
                        constraint: Box::new(constraint),
                        not_valid: *not_valid,
                    },
                    None => ChangeKind::Other,
                },
                AlterTableOperation::DropConstraint { name, .. } => ChangeKind::DropConstraint {
                    table: t,
                    name: self.fold(name),
                },
                AlterTableOperation::DropPrimaryKey { .. } => ChangeKind::DropConstraint {
                    table: t,
                    name: "primary".into(),
                },
                AlterTableOperation::DropForeignKey { name, .. } => ChangeKind::DropConstraint {
                    table: t,
                    name: self.fold(name),
                },
                AlterTableOperation::DropIndex { name } => ChangeKind::DropIndex {
                    name: QName::new(self.fold(name)),
                    table: Some(t),
                    concurrently: false,
                },
                AlterTableOperation::ValidateConstraint { name } => {
                    ChangeKind::ValidateConstraint {
                        table: t,
                        name: self.fold(name),
                    }
                }
                AlterTableOperation::Algorithm { algorithm: a, .. } => {
                    algorithm = Some(a.to_string());
                    options_span = at_span;
                    continue;
                }
                AlterTableOperation::Lock { lock: l, .. } => {
                    lock = Some(l.to_string());
                    if !options_span.is_known() {
                        options_span = at_span;
                    }
                    continue;
                }
                _ => ChangeKind::Other,
            };
            self.push(at_span, kind);
        }
        if algorithm.is_some() || lock.is_some() {
            self.push(
                options_span,
                ChangeKind::AlterOptions {
                    table,
                    algorithm,
                    lock,
                },
            );
        }
    }

    /// `ALGORITHM=`/`LOCK=` options of a MySQL `CREATE INDEX`.
    pub(super) fn alter_options(&mut self, table: &QName, ops: &[AlterTableOperation]) {
        let mut algorithm = None;
        let mut lock = None;
        for op in ops {
            match op {
                AlterTableOperation::Algorithm { algorithm: a, .. } => {
                    algorithm = Some(a.to_string())
                }
                AlterTableOperation::Lock { lock: l, .. } => lock = Some(l.to_string()),
                _ => {}
            }
        }
        if algorithm.is_some() || lock.is_some() {
            self.push(
                self.stmt_span,
                ChangeKind::AlterOptions {
                    table: table.clone(),
                    algorithm,
                    lock,
                },
            );
        }
    }

    /// Spans of the comma-separated clauses that follow position `after` at nesting depth 0.
    pub(super) fn segments_after(&self, after: Pos) -> Vec<Span> {
        comma_segments(self.tokens, after)
    }

    pub(super) fn column(&self, def: &ColumnDef) -> ColumnSpec {
        let mut spec = self.column_parts(
            &def.name,
            &def.data_type,
            def.options.iter().map(|o| &o.option),
        );
        spec.span = span(def.name.span);
        spec
    }

    pub(super) fn column_parts<'o>(
        &self,
        name: &Ident,
        data_type: &DataType,
        options: impl Iterator<Item = &'o ColumnOption>,
    ) -> ColumnSpec {
        let folded = self.fold(name);
        let mut ty = self.sql_type(data_type);
        let serial = names::is_serial_type(&ty.text.to_ascii_lowercase());
        let mut spec = ColumnSpec {
            span: span(name.span),
            serial,
            not_null: serial,
            ..ColumnSpec::default()
        };
        for option in options {
            match option {
                ColumnOption::Null => spec.not_null = false,
                ColumnOption::NotNull => spec.not_null = true,
                ColumnOption::Default(e) => spec.default = Some(names::expr_info(&e.to_string())),
                ColumnOption::PrimaryKey(_) => {
                    spec.primary_key = true;
                    spec.not_null = true;
                }
                ColumnOption::Unique(_) => spec.unique = true,
                ColumnOption::ForeignKey(fk) => {
                    spec.references = Some(self.qname(&fk.foreign_table))
                }
                ColumnOption::Check(c) => {
                    spec.check_not_null |= self.not_null_check(&c.expr).as_deref() == Some(&folded);
                    spec.check
                        .get_or_insert_with(Vec::new)
                        .extend(names::expr_words(&c.expr.to_string()));
                }
                ColumnOption::Generated {
                    generated_as,
                    generation_expr,
                    generation_expr_mode,
                    ..
                } => {
                    spec.generated = Some(if generation_expr.is_none() {
                        spec.serial = true;
                        Generated::Identity
                    } else if matches!(generation_expr_mode, Some(GeneratedExpressionMode::Stored))
                        || matches!(generated_as, GeneratedAs::ExpStored)
                    {
                        Generated::Stored
                    } else if matches!(generation_expr_mode, Some(GeneratedExpressionMode::Virtual))
                    {
                        Generated::Virtual
                    } else if self.dialect == Dialect::Postgres {
                        Generated::Stored
                    } else {
                        Generated::Virtual
                    });
                }
                ColumnOption::Identity(_) => spec.serial = true,
                ColumnOption::DialectSpecific(tokens)
                    if tokens.iter().any(|t| {
                        matches!(t, Token::Word(w) if w.value.eq_ignore_ascii_case("AUTO_INCREMENT")
                            || w.value.eq_ignore_ascii_case("AUTOINCREMENT"))
                    }) =>
                {
                    spec.serial = true;
                }
                ColumnOption::CharacterSet(cs) => {
                    ty.charset = Some(cs.to_string().to_ascii_lowercase())
                }
                _ => {}
            }
        }
        spec.name = folded;
        spec.ty = ty;
        spec
    }

    pub(super) fn sql_type(&self, dt: &DataType) -> SqlType {
        match dt {
            DataType::Enum(members, _) => {
                let mut ty = names::sql_type("enum", self.dialect);
                ty.text = dt.to_string();
                ty.enum_values = Some(
                    members
                        .iter()
                        .map(|m| match m {
                            sqlparser::ast::EnumMember::Name(n)
                            | sqlparser::ast::EnumMember::NamedValue(n, _) => n.clone(),
                        })
                        .collect(),
                );
                ty
            }
            DataType::Set(values) => {
                let mut ty = names::sql_type("set", self.dialect);
                ty.text = dt.to_string();
                ty.enum_values = Some(values.clone());
                ty
            }
            DataType::Custom(name, modifiers) if modifiers.is_empty() => {
                let mut ty = names::sql_type(&self.qname(name).to_string(), self.dialect);
                ty.text = dt.to_string();
                ty
            }
            _ => names::sql_type(&dt.to_string(), self.dialect),
        }
    }

    pub(super) fn constraint(&self, c: &TableConstraint) -> Option<ConstraintSpec> {
        let (name, kind, using_index) = match c {
            TableConstraint::Unique(u) => (
                u.name.as_ref(),
                ConstraintKind::Unique {
                    columns: self.index_columns(&u.columns),
                },
                None,
            ),
            TableConstraint::PrimaryKey(p) => (
                p.name.as_ref(),
                ConstraintKind::PrimaryKey {
                    columns: self.index_columns(&p.columns),
                },
                None,
            ),
            TableConstraint::ForeignKey(f) => (
                f.name.as_ref(),
                ConstraintKind::ForeignKey {
                    columns: f.columns.iter().map(|c| self.fold(c)).collect(),
                    references: self.qname(&f.foreign_table),
                },
                None,
            ),
            TableConstraint::Check(ch) => (
                ch.name.as_ref(),
                ConstraintKind::Check {
                    not_null_column: self.not_null_check(&ch.expr),
                    words: names::expr_words(&ch.expr.to_string()),
                },
                None,
            ),
            TableConstraint::Index(i) => (
                i.name.as_ref(),
                ConstraintKind::Index {
                    columns: self.index_columns(&i.columns),
                    unique: false,
                },
                None,
            ),
            TableConstraint::FulltextOrSpatial(f) => (
                f.opt_index_name.as_ref(),
                ConstraintKind::Index {
                    columns: self.index_columns(&f.columns),
                    unique: false,
                },
                None,
            ),
            TableConstraint::PrimaryKeyUsingIndex(u) => (
                u.name.as_ref(),
                ConstraintKind::PrimaryKey {
                    columns: Vec::new(),
                },
                Some(self.fold(&u.index_name)),
            ),
            TableConstraint::UniqueUsingIndex(u) => (
                u.name.as_ref(),
                ConstraintKind::Unique {
                    columns: Vec::new(),
                },
                Some(self.fold(&u.index_name)),
            ),
            TableConstraint::Exclude(e) => (e.name.as_ref(), ConstraintKind::Exclusion, None),
        };
        Some(ConstraintSpec {
            name: name.map(|n| self.fold(n)),
            kind,
            using_index,
        })
    }

    pub(super) fn index_columns(&self, columns: &[IndexColumn]) -> Vec<String> {
        columns
            .iter()
            .filter_map(|c| self.column_name(&c.column.expr))
            .collect()
    }

    /// The name of each key as PostgreSQL names an unnamed index after it
    /// (`FigureIndexColname`): a column's name, a function's name, a cast's operand's name or
    /// else its type's, `case`, or `expr`, then the INCLUDE columns; a repeated name gets a
    /// number (`expr1`).
    pub(super) fn index_name_parts(
        &self,
        columns: &[IndexColumn],
        include: &[Ident],
    ) -> Vec<String> {
        let mut parts: Vec<String> = Vec::new();
        let keys = columns.iter().map(|c| {
            self.key_name(&c.column.expr)
                .unwrap_or_else(|| "expr".into())
        });
        // INCLUDE columns count in the name too (`t_a_b_idx`).
        let included = include.iter().map(|i| self.fold(i));
        for base in keys.chain(included) {
            let mut name = base.clone();
            let mut n = 1;
            while parts.contains(&name) {
                name = format!("{base}{n}");
                n += 1;
            }
            parts.push(name);
        }
        parts
    }

    fn key_name(&self, expr: &Expr) -> Option<String> {
        if let Some(column) = self.column_name(expr) {
            return Some(column);
        }
        match expr {
            Expr::Nested(inner) => self.key_name(inner),
            Expr::Function(f) => f
                .name
                .0
                .last()
                .and_then(|p| p.as_ident())
                .map(|i| self.fold(i)),
            Expr::Cast {
                expr, data_type, ..
            } => self
                .key_name(expr)
                .or_else(|| Some(pg_internal_type(&data_type.to_string()))),
            Expr::Case { .. } => Some("case".into()),
            // Forms PostgreSQL turns into function calls, named after the function.
            Expr::Extract { .. } => Some("extract".into()),
            Expr::AtTimeZone { .. } => Some("timezone".into()),
            Expr::Substring { .. } => Some("substring".into()),
            Expr::Trim { trim_where, .. } => Some(
                match trim_where {
                    Some(sqlparser::ast::TrimWhereField::Leading) => "ltrim",
                    Some(sqlparser::ast::TrimWhereField::Trailing) => "rtrim",
                    _ => "btrim",
                }
                .into(),
            ),
            Expr::Array(_) => Some("array".into()),
            Expr::Collate { expr, .. } => self.key_name(expr),
            Expr::CompoundFieldAccess { root, .. } => self.key_name(root),
            _ => None,
        }
    }

    /// `col IS NOT NULL` (in any parentheses) names `col`.
    /// The column a CHECK requires to be non-NULL: `col IS NOT NULL`, alone or as a conjunct
    /// of a top-level `AND` (a NULL there makes the whole check false, and PostgreSQL's
    /// SET NOT NULL uses such a check to skip its scan: tests/truth.rs).
    pub(super) fn not_null_check(&self, expr: &Expr) -> Option<String> {
        match expr {
            Expr::Nested(inner) => self.not_null_check(inner),
            Expr::BinaryOp {
                left,
                op: sqlparser::ast::BinaryOperator::And,
                right,
            } => self
                .not_null_check(left)
                .or_else(|| self.not_null_check(right)),
            Expr::IsNotNull(inner) => match inner.as_ref() {
                Expr::Nested(e) => match e.as_ref() {
                    Expr::Identifier(i) => Some(self.fold(i)),
                    _ => None,
                },
                other => self.column_name(other),
            },
            _ => None,
        }
    }
}

/// The name PostgreSQL keeps for a type as written (`int` is `int4`, `double precision`
/// `float8`, `char(3)` `bpchar`): what it names an index key cast to it after.
fn pg_internal_type(written: &str) -> String {
    let text = written.to_lowercase();
    let base = text.split(['(', '[']).next().unwrap_or_default().trim();
    let base = base.rsplit('.').next().unwrap_or(base);
    let base = base.split_whitespace().collect::<Vec<_>>().join(" ");
    match base.as_str() {
        "int" | "integer" | "int4" => "int4",
        "bigint" | "int8" => "int8",
        "smallint" | "int2" => "int2",
        "double precision" | "float8" | "float" => "float8",
        "real" | "float4" => "float4",
        "boolean" | "bool" => "bool",
        "char" | "character" | "bpchar" => "bpchar",
        "varchar" | "character varying" => "varchar",
        "decimal" | "numeric" => "numeric",
        "timestamp" | "timestamp without time zone" => "timestamp",
        "timestamptz" | "timestamp with time zone" => "timestamptz",
        "timetz" | "time with time zone" => "timetz",
        "time without time zone" => "time",
        other => return other.to_string(),
    }
    .to_string()
}
