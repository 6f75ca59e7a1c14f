//! The objects of the catalog, each stamped with the release that made it.

use super::*;

/// A table column.
#[derive(Debug, Clone)]
pub struct Column {
    /// Folded name.
    pub name: String,
    /// Type.
    pub ty: SqlType,
    /// `NOT NULL`.
    pub not_null: bool,
    /// Default expression.
    pub default: Option<ExprInfo>,
    /// Generated or identity.
    pub generated: Option<Generated>,
    /// Release that added it.
    pub release: Release,
    /// Filled from a sequence (`serial`, `AUTO_INCREMENT`, identity).
    pub serial: bool,
    /// Identity: the same column keeps it through renames and redefinitions; a column dropped
    /// and added again under its name gets a new one.
    pub ident: u32,
    /// Not made by any migration: known only because a statement named it (created outside
    /// the migrations, or by opaque DDL). Hidden from [`Table::column`].
    pub synthetic: bool,
}

/// A table constraint.
#[derive(Debug, Clone)]
pub struct Constraint {
    /// Folded name, when known.
    pub name: Option<String>,
    /// What it is.
    pub kind: ConstraintKind,
    /// Existing rows were checked (`false` after `NOT VALID` until `VALIDATE`).
    pub validated: bool,
    /// Release that added it.
    pub release: Release,
    /// Number of the file that added it (its transaction).
    pub file: u32,
}

/// A table.
#[derive(Debug, Clone)]
pub struct Table {
    /// Columns in order, each shared with the copies the journal keeps (a change copies only
    /// the column it changes).
    pub columns: Vec<std::sync::Arc<Column>>,
    /// Constraints.
    pub constraints: Vec<std::sync::Arc<Constraint>>,
    /// Release that created it (0 when it predates the migrations).
    pub release: Release,
    /// Release in which it was renamed from an older name, if any.
    pub renamed_in: Option<Release>,
    /// Identity: kept through renames; a table created again under its name gets a new one.
    pub ident: u32,
    /// Replay step that created it (see [`Catalog::certain`]).
    pub made: u64,
    /// Created by a `CREATE TABLE` while a table of its name was still there (one only
    /// mentioned before, or one the statement fails on): not comparable with what was there.
    pub replaced: bool,
    /// Partitioned (`PARTITION BY`): its rows live in its partitions.
    pub partitioned: bool,
    /// The partitioned table it is a partition of.
    pub partition_of: Option<QName>,
    /// Created with its column list (not `AS SELECT`, not a stub): the catalog knows every
    /// column it has.
    pub complete: bool,
}

impl Table {
    /// A column by folded name (columns only named by a statement excluded).
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| c.name == name && !c.synthetic)
            .map(|c| &**c)
    }

    /// A column by folded name, including those only named by a statement.
    pub fn any_column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name).map(|c| &**c)
    }

    pub(super) fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns
            .iter_mut()
            .find(|c| c.name == name)
            .map(std::sync::Arc::make_mut)
    }
}

/// An index.
#[derive(Debug, Clone)]
pub struct Index {
    /// The indexed table.
    pub table: QName,
    /// Indexed columns.
    pub columns: Vec<String>,
    /// `UNIQUE`.
    pub unique: bool,
    /// Built with `CONCURRENTLY` (may be left INVALID if the build failed).
    pub concurrently: bool,
    /// Release that created it.
    pub release: Release,
    /// Replay step that created it; 0 once a change may have dropped or renamed it without the
    /// catalog following (a column or constraint of its table dropped, a constraint built
    /// `USING INDEX`): see [`super::Catalog::certain_index`].
    pub made: u64,
}

/// A view or materialized view.
#[derive(Debug, Clone)]
pub struct View {
    /// Output columns, when known.
    pub columns: Option<Vec<String>>,
    /// Materialized.
    pub materialized: bool,
    /// Release that created it.
    pub release: Release,
}

/// A user-defined type.
#[derive(Debug, Clone)]
pub struct TypeDef {
    /// Enum labels, for enums.
    pub enum_values: Option<Vec<String>>,
    /// Release that created it.
    pub release: Release,
}

/// A function or procedure.
#[derive(Debug, Clone)]
pub struct Function {
    /// Declared volatility.
    pub volatility: Option<Volatility>,
    /// Release that created it.
    pub release: Release,
}

/// A type dropped earlier in the current release (to compare a re-created enum).
#[derive(Debug, Clone)]
pub struct DroppedType {
    /// Release in which it was dropped.
    pub dropped_in: Release,
    /// Its labels before the drop.
    pub enum_values: Option<Vec<String>>,
    /// Release that had created it.
    pub release: Release,
}

/// A view dropped earlier in the current release (to compare a re-created view).
#[derive(Debug, Clone)]
pub struct DroppedView {
    /// Release in which it was dropped.
    pub dropped_in: Release,
    /// The view before the drop.
    pub view: View,
}
