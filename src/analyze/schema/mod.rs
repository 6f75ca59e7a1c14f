//! The in-memory catalog: every migration replayed in order, each object stamped with the
//! release (migration file) that created it, so rules can ask "does the previous release see
//! this?". Objects the migrations never created (made outside them) are simply unknown, and
//! rules treat unknown objects as old: visible to the running app.

pub(crate) mod hash;
use hash::HashMap;

use crate::analyze::ir::{
    Change, ChangeKind, ColumnSpec, ConstraintKind, ConstraintSpec, ExprInfo, Generated,
    ObjectKind, QName, SqlType, Volatility,
};
use crate::dialect::Dialect;

/// A release: the 1-based index of the migration file that made an object.
/// 0 stands for "before the first migration" (objects known only because a migration touched them).
pub use crate::source::select::Release;

mod objects;
pub use objects::*;
mod build;
use build::*;
mod journal;
use journal::Journal;

/// The schema as replayed so far.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    dialect: Dialect,
    tables: HashMap<QName, Table>,
    views: HashMap<QName, View>,
    indexes: HashMap<QName, Index>,
    types: HashMap<QName, TypeDef>,
    dropped_types: HashMap<QName, DroppedType>,
    dropped_views: HashMap<QName, DroppedView>,
    sequences: HashMap<QName, Release>,
    functions: HashMap<QName, Function>,
    schemas: HashMap<String, Release>,
    next_ident: u32,
    journal: Journal,
    /// Changes applied so far.
    seq: u64,
    /// The last change after which the replay cannot be sure of the schema (opaque DDL, a
    /// statement not understood).
    uncertain_after: u64,
    /// Tables dropped (or renamed away) and not created again, with the change that did it.
    dropped_tables: HashMap<QName, u64>,
}

impl Catalog {
    /// An empty catalog for `dialect`.
    pub fn new(dialect: Dialect) -> Self {
        Catalog {
            dialect,
            ..Catalog::default()
        }
    }

    /// Every table, by name.
    pub fn table_names(&self) -> impl Iterator<Item = &QName> {
        self.tables.keys()
    }

    /// A table.
    pub fn table(&self, name: &QName) -> Option<&Table> {
        self.tables.get(name)
    }

    /// A column of a table.
    pub fn column(&self, table: &QName, column: &str) -> Option<&Column> {
        self.tables.get(table)?.column(column)
    }

    /// A view.
    pub fn view(&self, name: &QName) -> Option<&View> {
        self.views.get(name)
    }

    /// An index by name; `table` scopes it in MySQL.
    pub fn index(&self, name: &QName, table: Option<&QName>) -> Option<&Index> {
        let key = self.index_key(name, table);
        self.indexes.get(&key).or_else(|| {
            if name.schema.is_some() || table.is_some() {
                return None;
            }
            let mut found = self.indexes.iter().filter(|(k, _)| k.name == name.name);
            match (found.next(), found.next()) {
                (Some((_, index)), None) => Some(index),
                _ => None,
            }
        })
    }

    /// A user-defined type.
    pub fn user_type(&self, name: &QName) -> Option<&TypeDef> {
        self.types.get(name)
    }

    /// A type dropped before and not re-created yet.
    pub fn dropped_type(&self, name: &QName) -> Option<&DroppedType> {
        self.dropped_types.get(name)
    }

    /// A view dropped before and not re-created yet.
    pub fn dropped_view(&self, name: &QName) -> Option<&DroppedView> {
        self.dropped_views.get(name)
    }

    /// A sequence's release.
    pub fn sequence(&self, name: &QName) -> Option<Release> {
        self.sequences.get(name).copied()
    }

    /// A function.
    pub fn function(&self, name: &QName) -> Option<&Function> {
        self.functions.get(name)
    }

    /// A schema's release.
    pub fn schema(&self, name: &str) -> Option<Release> {
        self.schemas.get(name).copied()
    }

    /// Release of any object of `kind` named `name`, when known.
    pub fn object_release(&self, kind: ObjectKind, name: &QName) -> Option<Release> {
        match kind {
            ObjectKind::Table => self.tables.get(name).map(|t| t.release),
            ObjectKind::View | ObjectKind::MaterializedView => {
                self.views.get(name).map(|v| v.release)
            }
            ObjectKind::Type => self.types.get(name).map(|t| t.release),
            ObjectKind::Sequence => self.sequence(name),
            ObjectKind::Function => self.functions.get(name).map(|f| f.release),
            ObjectKind::Index => self.index(name, None).map(|i| i.release),
            ObjectKind::Other => None,
        }
    }

    fn index_key(&self, name: &QName, table: Option<&QName>) -> QName {
        match self.dialect {
            Dialect::Mysql => QName {
                schema: table.map(|t| t.to_string()),
                name: name.name.clone(),
            },
            _ => QName {
                schema: name
                    .schema
                    .clone()
                    .or_else(|| table.and_then(|t| t.schema.clone())),
                name: name.name.clone(),
            },
        }
    }

    /// A table of `release` whose columns the catalog does not know (a stub for one only
    /// mentioned, a temporary table), made at this replay step.
    fn columnless_table(&mut self, release: Release) -> Table {
        let ident = self.fresh_ident();
        Table {
            columns: Vec::new(),
            constraints: Vec::new(),
            release,
            renamed_in: None,
            ident,
            made: self.seq,
            complete: false,
            replaced: false,
            partitioned: false,
            partition_of: None,
        }
    }

    fn table_or_stub(&mut self, name: &QName) -> &mut Table {
        if !self.tables.contains_key(name) {
            let stub = self.columnless_table(0);
            self.tables.insert(name.clone(), stub);
        }
        self.tables.get_mut(name).expect("inserted")
    }

    fn schema_name(&self, schema: &str) -> Option<String> {
        let default = match self.dialect {
            Dialect::Postgres => "public",
            Dialect::Sqlite => "main",
            Dialect::Mysql => "",
        };
        (schema != default).then(|| schema.to_string())
    }

    /// Applies one change made by file number `file` of release `release`.
    pub fn apply(&mut self, change: &Change, release: Release, file: u32) {
        self.seq += 1;
        self.record(change, release);
        match &change.kind {
            ChangeKind::Opaque { ddl: Some(_), .. } | ChangeKind::Call { .. } => {
                self.mark_uncertain()
            }
            ChangeKind::CreateTable {
                table,
                columns,
                constraints,
                if_not_exists,
                partitioned,
                partition_of,
            } => {
                if *if_not_exists && self.tables.contains_key(table) {
                    return;
                }
                let mut idents = Vec::with_capacity(columns.len() + 1);
                for _ in 0..=columns.len() {
                    idents.push(self.fresh_ident());
                }
                let mut t = Table {
                    columns: columns
                        .iter()
                        .zip(&idents)
                        .map(|(c, i)| new_column(c, release, *i))
                        .collect(),
                    constraints: constraints
                        .iter()
                        .map(|c| std::sync::Arc::new(new_constraint(c, true, release, file)))
                        .collect(),
                    release,
                    renamed_in: None,
                    ident: idents[columns.len()],
                    made: self.seq,
                    complete: !columns.is_empty(),
                    replaced: self.tables.contains_key(table),
                    partitioned: *partitioned,
                    partition_of: partition_of.as_deref().cloned(),
                };
                self.dropped_tables.remove(table);
                for c in columns {
                    t.constraints.extend(
                        inline_constraints(c, release, file)
                            .into_iter()
                            .map(std::sync::Arc::new),
                    );
                }
                // Only a table that replaces another can leave indexes behind; checking for
                // every new table would make a long history quadratic.
                if self.tables.insert(table.clone(), t).is_some() {
                    self.drop_indexes_of(table);
                }
            }
            ChangeKind::CreateTempTable { table } => {
                let temp = self.columnless_table(release);
                self.tables.insert(table.clone(), temp);
            }
            ChangeKind::DropTable { table } => {
                if self.tables.remove(table).is_some() {
                    self.dropped_tables.insert(table.clone(), self.seq);
                }
                self.drop_indexes_of(table);
            }
            ChangeKind::RenameTable { from, to } => {
                self.dropped_tables.remove(to);
                if let Some(mut t) = self.tables.remove(from) {
                    self.dropped_tables.insert(from.clone(), self.seq);
                    if t.release != release {
                        t.renamed_in = Some(release);
                    }
                    self.tables.insert(to.clone(), t);
                }
                for index in self.indexes.values_mut() {
                    if &index.table == from {
                        index.table = to.clone();
                    }
                }
            }
            ChangeKind::AddColumn { table, column } => {
                let ident = self.fresh_ident();
                let t = self.table_or_stub(table);
                if t.column(&column.name).is_some() {
                    return; // it exists: the statement fails (or IF NOT EXISTS skips it)
                }
                t.columns.retain(|c| c.name != column.name);
                t.columns.push(new_column(column, release, ident));
                let extra = inline_constraints(column, release, file);
                t.constraints
                    .extend(extra.into_iter().map(std::sync::Arc::new));
            }
            ChangeKind::DropColumn { table, column } => {
                if let Some(t) = self.tables.get_mut(table) {
                    t.columns.retain(|c| &c.name != column);
                }
                // PostgreSQL drops the indexes over the column (expression ones included).
                self.unsure_indexes_of(table);
            }
            ChangeKind::RenameColumn { table, from, to } => {
                let own = self.column_ident(table, from);
                if let Some(own) = own {
                    let ident = self.swapped_ident(table, from, to, own);
                    if let Some(c) = self.tables.get_mut(table).and_then(|t| t.column_mut(from)) {
                        c.name = to.clone();
                        c.ident = ident;
                    }
                } else if let Some(v) = self.views.get_mut(table)
                    && let Some(cols) = &mut v.columns
                {
                    for c in cols.iter_mut().filter(|c| *c == from) {
                        *c = to.clone();
                    }
                }
            }
            ChangeKind::AlterColumnType {
                table, column, ty, ..
            } => {
                if let Some(c) = self
                    .tables
                    .get_mut(table)
                    .and_then(|t| t.column_mut(column))
                {
                    c.ty = (**ty).clone();
                }
            }
            ChangeKind::RedefineColumn {
                table,
                from,
                column,
            } => {
                let fresh = self.fresh_ident();
                let own = self.column_ident(table, from).unwrap_or(fresh);
                let ident = if *from == column.name {
                    own
                } else {
                    self.swapped_ident(table, from, &column.name, own)
                };
                let t = self.table_or_stub(table);
                let keep = t.any_column(from).map_or(release, |c| c.release);
                match t.columns.iter_mut().find(|c| c.name == *from) {
                    Some(c) => *c = new_column(column, keep, ident),
                    None => t.columns.push(new_column(column, release, ident)),
                }
            }
            ChangeKind::SetNotNull { table, column } => {
                if let Some(c) = self
                    .tables
                    .get_mut(table)
                    .and_then(|t| t.column_mut(column))
                {
                    c.not_null = true;
                }
            }
            ChangeKind::DropNotNull { table, column } => {
                if let Some(c) = self
                    .tables
                    .get_mut(table)
                    .and_then(|t| t.column_mut(column))
                {
                    c.not_null = false;
                }
            }
            ChangeKind::SetDefault {
                table,
                column,
                default,
            } => {
                if let Some(c) = self
                    .tables
                    .get_mut(table)
                    .and_then(|t| t.column_mut(column))
                {
                    c.default = Some((**default).clone());
                }
            }
            ChangeKind::DropDefault { table, column } => {
                if let Some(c) = self
                    .tables
                    .get_mut(table)
                    .and_then(|t| t.column_mut(column))
                {
                    c.default = None;
                    // A serial column's default is its sequence.
                    if c.generated.is_none() {
                        c.serial = false;
                    }
                }
            }
            ChangeKind::AddIdentity { table, column } => {
                if let Some(c) = self
                    .tables
                    .get_mut(table)
                    .and_then(|t| t.column_mut(column))
                {
                    c.generated = Some(Generated::Identity);
                    c.not_null = true;
                }
            }
            ChangeKind::AddConstraint {
                table,
                constraint,
                not_valid,
            } => {
                if let ConstraintKind::NotNull { column } = &constraint.kind
                    && let Some(c) = self
                        .tables
                        .get_mut(table)
                        .and_then(|t| t.column_mut(column))
                {
                    c.not_null = true;
                }
                if let ConstraintKind::PrimaryKey { columns } = &constraint.kind
                    && let Some(t) = self.tables.get_mut(table)
                {
                    for c in t.columns.iter_mut().filter(|c| columns.contains(&c.name)) {
                        std::sync::Arc::make_mut(c).not_null = true;
                    }
                }
                if let ConstraintKind::PrimaryKey { columns } | ConstraintKind::Unique { columns } =
                    &constraint.kind
                    && columns.is_empty()
                {
                    // USING INDEX: PostgreSQL renames the index to the constraint's name.
                    self.unsure_indexes_of(table);
                }
                let t = self.table_or_stub(table);
                t.constraints.push(std::sync::Arc::new(new_constraint(
                    constraint, !not_valid, release, file,
                )));
            }
            ChangeKind::DropConstraint { table, name } => {
                self.unsure_indexes_of(table);
                if let Some(t) = self.tables.get_mut(table) {
                    t.constraints.retain(|c| {
                        let is_pk = matches!(c.kind, ConstraintKind::PrimaryKey { .. });
                        c.name.as_ref() != Some(name) && !(name == "primary" && is_pk)
                    });
                }
            }
            ChangeKind::ValidateConstraint { table, name } => {
                if let Some(t) = self.tables.get_mut(table) {
                    for c in t
                        .constraints
                        .iter_mut()
                        .filter(|c| c.name.as_ref() == Some(name))
                    {
                        std::sync::Arc::make_mut(c).validated = true;
                    }
                }
            }
            ChangeKind::CreateIndex {
                name,
                table,
                columns,
                name_parts,
                unique,
                concurrently,
                ..
            } => {
                let Some(name) = name
                    .clone()
                    .or_else(|| self.implicit_index_name(table, name_parts))
                else {
                    return;
                };
                let key = self.index_key(&name, Some(table));
                if self.journal.enabled && !self.indexes.contains_key(&key) {
                    self.journal.new_indexes.push(key.clone());
                }
                self.indexes.entry(key).or_insert(Index {
                    table: table.clone(),
                    columns: columns.clone(),
                    unique: *unique,
                    concurrently: *concurrently,
                    release,
                    made: self.seq,
                });
            }
            ChangeKind::DropIndex { name, table, .. } => {
                let key = self.index_key(name, table.as_ref());
                if self.indexes.remove(&key).is_none() && name.schema.is_none() && table.is_none() {
                    let found: Vec<QName> = self
                        .indexes
                        .keys()
                        .filter(|k| k.name == name.name)
                        .cloned()
                        .collect();
                    if let [only] = found.as_slice() {
                        self.indexes.remove(only);
                    }
                }
            }
            ChangeKind::RenameIndex { from, to } => {
                let old_key = self.index_key(from, None);
                let mut removed_key = old_key.clone();
                let index = self.indexes.remove(&old_key).or_else(|| {
                    let found: Vec<QName> = self
                        .indexes
                        .keys()
                        .filter(|k| k.name == from.name)
                        .cloned()
                        .collect();
                    match found.as_slice() {
                        [only] => {
                            removed_key = only.clone();
                            self.indexes.remove(only)
                        }
                        _ => None,
                    }
                });
                if let Some(index) = index {
                    let key = self.index_key(to, Some(&index.table));
                    for k in self
                        .journal
                        .new_indexes
                        .iter_mut()
                        .filter(|k| **k == removed_key)
                    {
                        *k = key.clone();
                    }
                    self.indexes.insert(key, index);
                }
            }
            ChangeKind::CreateView {
                view,
                columns,
                materialized,
                ..
            } => {
                self.dropped_views.remove(view);
                let kept = self.views.get(view).map_or(release, |v| v.release);
                self.views.insert(
                    view.clone(),
                    View {
                        columns: columns.clone(),
                        materialized: *materialized,
                        release: kept,
                    },
                );
            }
            ChangeKind::DropView { view, .. } => {
                if let Some(v) = self.views.remove(view) {
                    self.dropped_views.insert(
                        view.clone(),
                        DroppedView {
                            dropped_in: release,
                            view: v,
                        },
                    );
                }
            }
            ChangeKind::CreateSchema { name } => {
                self.schemas.entry(name.clone()).or_insert(release);
            }
            ChangeKind::DropSchema { name } => {
                self.schemas.remove(name);
                let in_schema = |q: &QName| q.schema.as_deref() == Some(name.as_str());
                self.tables.retain(|q, _| !in_schema(q));
                self.views.retain(|q, _| !in_schema(q));
                self.types.retain(|q, _| !in_schema(q));
            }
            ChangeKind::RenameSchema { from, to } => {
                if let Some(r) = self.schemas.remove(from) {
                    self.schemas.insert(to.clone(), r);
                }
                let moved = |q: &QName| QName {
                    schema: Some(to.clone()),
                    name: q.name.clone(),
                };
                let keys: Vec<QName> = self
                    .tables
                    .keys()
                    .filter(|q| q.schema.as_deref() == Some(from))
                    .cloned()
                    .collect();
                for k in keys {
                    if let Some(t) = self.tables.remove(&k) {
                        self.tables.insert(moved(&k), t);
                    }
                }
            }
            ChangeKind::RenameObject { kind, from, to } => self.move_object(*kind, from, to),
            ChangeKind::SetSchema {
                kind,
                object,
                schema,
            } => {
                let to = QName {
                    schema: self.schema_name(schema),
                    name: object.name.clone(),
                };
                self.move_object(*kind, object, &to);
            }
            ChangeKind::CreateType { name, enum_values } => {
                self.dropped_types.remove(name);
                self.types.insert(
                    name.clone(),
                    TypeDef {
                        enum_values: enum_values.clone(),
                        release,
                    },
                );
            }
            ChangeKind::DropType { name } => {
                if let Some(t) = self.types.remove(name) {
                    self.dropped_types.insert(
                        name.clone(),
                        DroppedType {
                            dropped_in: release,
                            enum_values: t.enum_values,
                            release: t.release,
                        },
                    );
                }
            }
            ChangeKind::AddEnumValue { ty, value } => {
                if let Some(values) = self.types.get_mut(ty).and_then(|t| t.enum_values.as_mut())
                    && !values.contains(value)
                {
                    values.push(value.clone());
                }
            }
            ChangeKind::RenameEnumValue { ty, from, to } => {
                if let Some(values) = self.types.get_mut(ty).and_then(|t| t.enum_values.as_mut()) {
                    for v in values.iter_mut().filter(|v| *v == from) {
                        *v = to.clone();
                    }
                }
            }
            ChangeKind::CreateSequence { name } => {
                self.sequences.entry(name.clone()).or_insert(release);
            }
            ChangeKind::DropSequence { name } => {
                self.sequences.remove(name);
            }
            ChangeKind::CreateFunction { name, volatility } => {
                let kept = self.functions.get(name).map_or(release, |f| f.release);
                self.functions.insert(
                    name.clone(),
                    Function {
                        volatility: *volatility,
                        release: kept,
                    },
                );
            }
            ChangeKind::DropFunction { name } => {
                self.functions.remove(name);
            }
            _ => {}
        }
    }

    /// From here on the replay cannot be sure of the schema (opaque DDL, a statement not
    /// understood): nothing made so far is certain any more.
    pub fn mark_uncertain(&mut self) {
        self.uncertain_after = self.seq;
    }

    /// The replay knows every column of the table for certain: the migrations made it with its
    /// column list and nothing opaque ran since.
    pub fn certain(&self, table: &Table) -> bool {
        table.release > 0 && table.complete && table.made > self.uncertain_after
    }

    /// The migrations dropped (or renamed away) the table for certain and did not make it again.
    pub fn dropped_table(&self, name: &QName) -> bool {
        self.dropped_tables
            .get(name)
            .is_some_and(|at| *at > self.uncertain_after)
            && !self.tables.contains_key(name)
            && !self.views.contains_key(name)
    }

    fn column_ident(&self, table: &QName, column: &str) -> Option<u32> {
        Some(self.tables.get(table)?.any_column(column)?.ident)
    }

    /// The indexes of `table` may have gone or been renamed without the catalog following.
    fn unsure_indexes_of(&mut self, table: &QName) {
        for index in self.indexes.values_mut().filter(|i| &i.table == table) {
            index.made = 0;
        }
    }

    /// The migrations made an index of this name (scoped to `table` on MySQL) for certain and
    /// it is still there: its table is certain, and nothing since could have dropped or
    /// renamed it unseen.
    pub fn certain_index(&self, name: &QName, table: &QName) -> bool {
        self.indexes
            .get(&self.index_key(name, Some(table)))
            .is_some_and(|i| {
                i.made > self.uncertain_after
                    && self.tables.get(&i.table).is_some_and(|t| self.certain(t))
            })
    }

    /// The name the database gives an index created without one: PostgreSQL's
    /// `table_col1_col2_idx` (unique or not), cut to 63 bytes the way PostgreSQL cuts it
    /// and numbered (`_idx1`) past a name a relation already has (tests/truth.rs asks
    /// PostgreSQL). `None` when unknown.
    fn implicit_index_name(&self, table: &QName, parts: &[String]) -> Option<QName> {
        if parts.is_empty() {
            return None;
        }
        match self.dialect {
            Dialect::Postgres => {
                let columns = pg_joined_parts(parts);
                // `_key` is for UNIQUE constraints; a unique index is `_idx` too.
                let label = "idx";
                let taken = |name: &str| {
                    let q = table.with_name(name);
                    self.indexes.contains_key(&self.index_key(&q, Some(table)))
                        || self.tables.contains_key(&q)
                        || self.views.contains_key(&q)
                        || self.sequences.contains_key(&q)
                };
                let mut pass = 0;
                loop {
                    let label = if pass == 0 {
                        label.to_string()
                    } else {
                        format!("{label}{pass}")
                    };
                    let name = pg_object_name(&table.name, &columns, &label);
                    if !taken(&name) {
                        return Some(table.with_name(name));
                    }
                    pass += 1;
                }
            }
            // MySQL and SQLite refuse `CREATE INDEX` without a name.
            Dialect::Mysql | Dialect::Sqlite => None,
        }
    }

    fn drop_indexes_of(&mut self, table: &QName) {
        self.indexes.retain(|_, index| &index.table != table);
    }

    fn move_object(&mut self, kind: ObjectKind, from: &QName, to: &QName) {
        match kind {
            ObjectKind::Table => {
                if let Some(t) = self.tables.remove(from) {
                    self.tables.insert(to.clone(), t);
                }
            }
            ObjectKind::View | ObjectKind::MaterializedView => {
                if let Some(v) = self.views.remove(from) {
                    self.views.insert(to.clone(), v);
                }
            }
            ObjectKind::Type => {
                if let Some(t) = self.types.remove(from) {
                    self.types.insert(to.clone(), t);
                }
            }
            ObjectKind::Sequence => {
                if let Some(s) = self.sequences.remove(from) {
                    self.sequences.insert(to.clone(), s);
                }
            }
            ObjectKind::Function => {
                if let Some(f) = self.functions.remove(from) {
                    self.functions.insert(to.clone(), f);
                }
            }
            ObjectKind::Index | ObjectKind::Other => {}
        }
    }
}

#[cfg(test)]
mod tests;

/// PostgreSQL's `ChooseIndexNameAddition`: the key names joined with `_`, stopping once the
/// text reaches 64 bytes.
fn pg_joined_parts(parts: &[String]) -> String {
    let mut out = String::new();
    for part in parts {
        if !out.is_empty() {
            out.push('_');
        }
        out.push_str(part);
        if out.len() > crate::analyze::names::PG_NAME_BYTES {
            break;
        }
    }
    out
}

/// PostgreSQL's `makeObjectName`: `name1_name2_label` in 63 bytes, cutting the longer of
/// the two names one byte at a time until it fits.
fn pg_object_name(name1: &str, name2: &str, label: &str) -> String {
    use crate::analyze::names::{PG_NAME_BYTES, clip};
    let available = PG_NAME_BYTES.saturating_sub(label.len() + 2);
    let (mut n1, mut n2) = (name1.len(), name2.len());
    while n1 + n2 > available {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    let name1 = clip(name1, n1);
    let name2 = clip(name2, n2);
    format!("{name1}_{name2}_{label}")
}
