//! What a statement says about the objects it makes: columns, constraints, object kinds, volatility and transaction control.

use super::*;

/// A column as a statement defines it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ColumnSpec {
    /// Folded column name.
    pub name: String,
    /// Where the definition is.
    pub span: Span,
    /// Its type.
    pub ty: SqlType,
    /// `NOT NULL` (or implied by `PRIMARY KEY`).
    pub not_null: bool,
    /// `DEFAULT ...`.
    pub default: Option<ExprInfo>,
    /// Generated, stored or identity.
    pub generated: Option<Generated>,
    /// `serial` types, `AUTO_INCREMENT`, identity: values filled from a sequence.
    pub serial: bool,
    /// Inline `PRIMARY KEY`.
    pub primary_key: bool,
    /// Inline `UNIQUE`.
    pub unique: bool,
    /// Inline `REFERENCES`.
    pub references: Option<QName>,
    /// Inline `CHECK (col IS NOT NULL)`.
    pub check_not_null: bool,
    /// Inline `CHECK (...)` of any form: the words of its expressions (see
    /// [`ConstraintKind::Check`]).
    pub check: Option<Vec<String>>,
}

/// What a table constraint is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConstraintKind {
    /// `PRIMARY KEY (cols)`.
    PrimaryKey {
        /// Key columns.
        columns: Vec<String>,
    },
    /// `UNIQUE (cols)`.
    Unique {
        /// Key columns.
        columns: Vec<String>,
    },
    /// `FOREIGN KEY (cols) REFERENCES t`.
    ForeignKey {
        /// Referencing columns.
        columns: Vec<String>,
        /// Referenced table.
        references: QName,
    },
    /// `CHECK (...)`; `not_null_column` when it is `col IS NOT NULL` (alone or ANDed with more).
    Check {
        /// The column the check proves non-null, if that is all it says.
        not_null_column: Option<String>,
        /// Lowercase identifier words of the expression (outside string literals): a superset
        /// of the columns it reads, to tell which columns it restricts.
        words: Vec<String>,
    },
    /// `EXCLUDE USING ...`.
    Exclusion,
    /// A named `NOT NULL col` constraint (PostgreSQL 18 dump style): a `SET NOT NULL`.
    NotNull {
        /// The column.
        column: String,
    },
    /// MySQL `KEY`/`INDEX`/`FULLTEXT` inside `CREATE TABLE` or `ADD INDEX`.
    Index {
        /// Indexed columns.
        columns: Vec<String>,
        /// `UNIQUE KEY`.
        unique: bool,
    },
}

/// A table constraint as a statement defines it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConstraintSpec {
    /// Folded name, when given.
    pub name: Option<String>,
    /// What it is.
    pub kind: ConstraintKind,
    /// `... USING INDEX idx`: built from an existing index, no new index build.
    pub using_index: Option<String>,
}

/// Object kinds, for renames and schema moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A table.
    Table,
    /// A view.
    View,
    /// A materialized view.
    MaterializedView,
    /// A type.
    Type,
    /// A sequence.
    Sequence,
    /// A function or procedure.
    Function,
    /// An index.
    Index,
    /// Anything else.
    Other,
}

impl ObjectKind {
    /// Lowercase noun for messages.
    pub fn noun(self) -> &'static str {
        match self {
            ObjectKind::Table => "table",
            ObjectKind::View => "view",
            ObjectKind::MaterializedView => "materialized view",
            ObjectKind::Type => "type",
            ObjectKind::Sequence => "sequence",
            ObjectKind::Function => "function",
            ObjectKind::Index => "index",
            ObjectKind::Other => "object",
        }
    }
}

/// Function volatility, as declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Volatility {
    /// Same result for the same arguments forever.
    Immutable,
    /// Same result within one statement.
    Stable,
    /// May change between calls (the PostgreSQL default for functions).
    Volatile,
}

/// Transaction control written in a migration file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxControl {
    /// `BEGIN` / `START TRANSACTION`.
    Begin,
    /// `COMMIT` / `END`.
    Commit,
    /// `ROLLBACK`.
    Rollback,
    /// `SAVEPOINT` / `RELEASE`.
    Savepoint,
}
