//! The schema changes a statement makes, independent of sqlparser's AST.
//!
//! Two front ends produce these: `lower` (from sqlparser's AST) and `recognise` (from tokens,
//! for statements sqlparser cannot parse). The catalog replays them and the rules judge them,
//! so both front ends get the same analysis, and a change in sqlparser's AST touches one file.

use std::fmt;

use crate::source::Pos;

mod spec;
pub use spec::*;

/// A source range: `start` is the first character, `end` the position just past the last.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    /// First character.
    pub start: Pos,
    /// Just past the last character.
    pub end: Pos,
}

impl Span {
    /// Whether the span carries a real position.
    pub fn is_known(&self) -> bool {
        self.start.line > 0
    }

    /// `self` when known, else `fallback`.
    pub fn or(self, fallback: Span) -> Span {
        if self.is_known() { self } else { fallback }
    }
}

/// A schema-qualified object name, folded the way the dialect folds identifiers.
/// `schema` is `None` for the default schema (`public`, `main`, the current database).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QName {
    /// Explicit non-default schema.
    pub schema: Option<String>,
    /// Object name.
    pub name: String,
}

impl QName {
    /// A name in the default schema.
    pub fn new(name: impl Into<String>) -> Self {
        QName {
            schema: None,
            name: name.into(),
        }
    }

    /// The same schema with another name (renames keep the schema).
    pub fn with_name(&self, name: impl Into<String>) -> Self {
        QName {
            schema: self.schema.clone(),
            name: name.into(),
        }
    }

    /// `table.column`, for diagnostics.
    pub fn column(&self, column: &str) -> String {
        format!("{self}.{column}")
    }
}

impl fmt::Display for QName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// A column type, canonicalised enough to compare old and new definitions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SqlType {
    /// Canonical lowercase base name (`varchar`, `integer`, `timestamptz`, a user type name).
    pub name: String,
    /// Numeric modifiers: length, precision and scale.
    pub args: Vec<u64>,
    /// Array of the base type.
    pub array: bool,
    /// Enum labels, for MySQL inline `ENUM(...)`/`SET(...)`.
    pub enum_values: Option<Vec<String>>,
    /// Character set named on the column (MySQL).
    pub charset: Option<String>,
    /// The type as written (for messages).
    pub text: String,
}

impl fmt::Display for SqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Facts about an expression that rules need (defaults, generated columns).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExprInfo {
    /// The expression as written by sqlparser.
    pub text: String,
    /// Lowercase names of the functions it calls.
    pub functions: Vec<String>,
    /// `NULL` literal.
    pub is_null: bool,
}

/// How a column is generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generated {
    /// `GENERATED ALWAYS AS (...) STORED`: computed and written on every row.
    Stored,
    /// Computed on read.
    Virtual,
    /// `GENERATED ... AS IDENTITY`.
    Identity,
}

/// One schema-relevant action of a statement, with the clause it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The clause (or whole statement) to point at.
    pub span: Span,
    /// What it does.
    pub kind: ChangeKind,
}

/// Whether a data change, run again, changes fewer rows: what lets a backfill repeat it until
/// it changes none. Ordered from worst to best.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Shrink {
    /// Nothing the statement does takes a row out of its own work set: repeated, it may
    /// change rows forever.
    Never,
    /// A changed row leaves the work set provided these columns of this table are NOT NULL
    /// (`SET a = b WHERE a IS NULL` loops on rows where `b` is NULL; an anti-join on a NULL
    /// key never matches the row it inserted).
    IfNotNull(Box<(QName, Vec<String>)>),
    /// The second run conflicts on every row provided this table has a unique key
    /// (`INSERT ... ON CONFLICT DO NOTHING`, `INSERT IGNORE` without a `LIMIT`).
    IfKeyed(QName),
    /// A changed row no longer meets the statement's condition.
    Always,
}

/// What a change does.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeKind {
    /// `CREATE TABLE`.
    CreateTable {
        /// The table.
        table: QName,
        /// Its columns.
        columns: Vec<ColumnSpec>,
        /// Its table constraints.
        constraints: Vec<ConstraintSpec>,
        /// `IF NOT EXISTS`.
        if_not_exists: bool,
        /// `PARTITION BY ...`: a partitioned table (its rows live in its partitions).
        partitioned: bool,
        /// `PARTITION OF parent`.
        partition_of: Option<Box<QName>>,
    },
    /// `CREATE TEMP[ORARY] TABLE`: seen by the migration's own session only.
    CreateTempTable {
        /// The table.
        table: QName,
    },
    /// `DROP TABLE`.
    DropTable {
        /// The table.
        table: QName,
    },
    /// `ALTER TABLE ... RENAME TO`, MySQL `RENAME TABLE`.
    RenameTable {
        /// Old name.
        from: QName,
        /// New name.
        to: QName,
    },
    /// `ADD COLUMN`.
    AddColumn {
        /// The table.
        table: QName,
        /// The new column (boxed: it is the largest payload, and changes are many).
        column: Box<ColumnSpec>,
    },
    /// `DROP COLUMN`.
    DropColumn {
        /// The table.
        table: QName,
        /// The column.
        column: String,
    },
    /// `RENAME COLUMN`.
    RenameColumn {
        /// The table.
        table: QName,
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// `ALTER COLUMN ... TYPE`.
    AlterColumnType {
        /// The table.
        table: QName,
        /// The column.
        column: String,
        /// New type.
        ty: Box<SqlType>,
        /// A `USING` expression was given (always rewrites).
        using: bool,
    },
    /// MySQL `MODIFY`/`CHANGE`: the column is redefined as a whole (possibly renamed).
    RedefineColumn {
        /// The table.
        table: QName,
        /// The column's current name.
        from: String,
        /// The full new definition.
        column: Box<ColumnSpec>,
    },
    /// `ALTER COLUMN ... SET NOT NULL` (or a named `NOT NULL` constraint).
    SetNotNull {
        /// The table.
        table: QName,
        /// The column.
        column: String,
    },
    /// `ALTER COLUMN ... DROP NOT NULL`.
    DropNotNull {
        /// The table.
        table: QName,
        /// The column.
        column: String,
    },
    /// `ALTER COLUMN ... SET DEFAULT`.
    SetDefault {
        /// The table.
        table: QName,
        /// The column.
        column: String,
        /// The new default.
        default: Box<ExprInfo>,
    },
    /// `ALTER COLUMN ... DROP DEFAULT`.
    DropDefault {
        /// The table.
        table: QName,
        /// The column.
        column: String,
    },
    /// `ALTER COLUMN ... ADD GENERATED ... AS IDENTITY`.
    AddIdentity {
        /// The table.
        table: QName,
        /// The column.
        column: String,
    },
    /// `ADD CONSTRAINT` (also MySQL `ADD INDEX`).
    AddConstraint {
        /// The table.
        table: QName,
        /// The constraint.
        constraint: Box<ConstraintSpec>,
        /// `NOT VALID`: existing rows are not checked now.
        not_valid: bool,
    },
    /// `DROP CONSTRAINT`, MySQL `DROP PRIMARY KEY`/`DROP FOREIGN KEY`.
    DropConstraint {
        /// The table.
        table: QName,
        /// The constraint name (`PRIMARY` for a primary key).
        name: String,
    },
    /// `VALIDATE CONSTRAINT`.
    ValidateConstraint {
        /// The table.
        table: QName,
        /// The constraint.
        name: String,
    },
    /// MySQL `ALGORITHM=`/`LOCK=` clauses of `ALTER TABLE` or `CREATE INDEX`.
    AlterOptions {
        /// The table.
        table: QName,
        /// `ALGORITHM` value, uppercase.
        algorithm: Option<String>,
        /// `LOCK` value, uppercase.
        lock: Option<String>,
    },
    /// MySQL `CONVERT TO CHARACTER SET`: every text column changes type.
    ConvertCharset {
        /// The table.
        table: QName,
    },
    /// `CREATE INDEX`.
    CreateIndex {
        /// The index name, when given.
        name: Option<QName>,
        /// The table.
        table: QName,
        /// Indexed column names (expressions are skipped).
        columns: Vec<String>,
        /// What the database names an unnamed index after, one per key: the column, or the
        /// name PostgreSQL gives its expression (`lower(email)`: `lower`; otherwise `expr`).
        /// Empty when unknown.
        name_parts: Box<[String]>,
        /// `UNIQUE`.
        unique: bool,
        /// `CONCURRENTLY`.
        concurrently: bool,
        /// `ON ONLY parent`: an index on a partitioned table alone, built for no partition.
        only: bool,
    },
    /// `DROP INDEX`.
    DropIndex {
        /// The index.
        name: QName,
        /// MySQL `DROP INDEX i ON t`, `ALTER TABLE t DROP INDEX i`.
        table: Option<QName>,
        /// `CONCURRENTLY`.
        concurrently: bool,
    },
    /// `ALTER INDEX ... RENAME TO`.
    RenameIndex {
        /// Old name.
        from: QName,
        /// New name.
        to: QName,
    },
    /// `REINDEX`.
    Reindex {
        /// What is reindexed, as written.
        target: String,
        /// `INDEX`, `TABLE`, `SCHEMA`, `DATABASE` or `SYSTEM`, upper-case.
        kind: String,
        /// The index, table or schema named.
        name: Option<QName>,
        /// `CONCURRENTLY`.
        concurrently: bool,
    },
    /// `CREATE [OR REPLACE] [MATERIALIZED] VIEW`.
    CreateView {
        /// The view.
        view: QName,
        /// Output column names when they can be known (`None` with `*` or unnamed expressions).
        columns: Option<Vec<String>>,
        /// Materialized.
        materialized: bool,
        /// `OR REPLACE`.
        or_replace: bool,
    },
    /// `DROP [MATERIALIZED] VIEW`.
    DropView {
        /// The view.
        view: QName,
        /// Materialized.
        materialized: bool,
    },
    /// `CREATE SCHEMA`.
    CreateSchema {
        /// The schema.
        name: String,
    },
    /// `DROP SCHEMA`.
    DropSchema {
        /// The schema.
        name: String,
    },
    /// `ALTER SCHEMA ... RENAME TO`.
    RenameSchema {
        /// Old name.
        from: String,
        /// New name.
        to: String,
    },
    /// `ALTER ... RENAME TO` for views, types, sequences, functions.
    RenameObject {
        /// Kind of object.
        kind: ObjectKind,
        /// Old name.
        from: QName,
        /// New name.
        to: QName,
    },
    /// `ALTER ... SET SCHEMA`.
    SetSchema {
        /// Kind of object.
        kind: ObjectKind,
        /// The object.
        object: QName,
        /// The new schema.
        schema: String,
    },
    /// `CREATE TYPE` (enum labels when it is an enum).
    CreateType {
        /// The type.
        name: QName,
        /// Enum labels.
        enum_values: Option<Vec<String>>,
    },
    /// `DROP TYPE`.
    DropType {
        /// The type.
        name: QName,
    },
    /// `ALTER TYPE ... ADD VALUE`.
    AddEnumValue {
        /// The enum type.
        ty: QName,
        /// The label.
        value: String,
    },
    /// `ALTER TYPE ... RENAME VALUE`.
    RenameEnumValue {
        /// The enum type.
        ty: QName,
        /// Old label.
        from: String,
        /// New label.
        to: String,
    },
    /// `CREATE SEQUENCE`.
    CreateSequence {
        /// The sequence.
        name: QName,
    },
    /// `DROP SEQUENCE`.
    DropSequence {
        /// The sequence.
        name: QName,
    },
    /// `ALTER SEQUENCE` (not a rename).
    AlterSequence {
        /// The sequence.
        name: QName,
    },
    /// `CREATE FUNCTION`/`PROCEDURE`.
    CreateFunction {
        /// The function.
        name: QName,
        /// Declared volatility (PostgreSQL defaults to volatile).
        volatility: Option<Volatility>,
    },
    /// `DROP FUNCTION`/`PROCEDURE`.
    DropFunction {
        /// The function.
        name: QName,
    },
    /// `TRUNCATE`.
    Truncate {
        /// The table.
        table: QName,
    },
    /// `DELETE`.
    Delete {
        /// The table.
        table: QName,
        /// Has a `WHERE` (or a `LIMIT`/`USING` that restricts it).
        restricted: bool,
        /// Changes a bounded batch: a `LIMIT` of its own or in a subquery of its `WHERE`.
        bounded: bool,
        /// Columns its `WHERE` pins to constants (`=`, `IN (...)`, `BETWEEN`, `>= a AND < b`):
        /// on a key, a bounded set of rows.
        pinned: Vec<String>,
        /// Whether repeating it until it deletes nothing deletes every row it selects (its
        /// batch, if any, reads the same table and nothing filters outside it).
        shrink: Shrink,
    },
    /// `UPDATE`.
    Update {
        /// The table.
        table: QName,
        /// Changes a bounded batch: a `LIMIT` of its own or in a subquery of its `WHERE`.
        bounded: bool,
        /// Columns its `WHERE` pins to constants (as for `Delete`).
        pinned: Vec<String>,
        /// Whether a row it changed stops meeting its `WHERE` (a backfill repeats it until
        /// it changes no row).
        shrink: Shrink,
    },
    /// `INSERT` (`REPLACE`).
    Insert {
        /// The table.
        table: QName,
        /// Its rows come from a `SELECT`.
        from_select: bool,
        /// Whether running it again inserts fewer rows.
        shrink: Shrink,
    },
    /// `VACUUM`.
    Vacuum {
        /// `FULL`.
        full: bool,
    },
    /// `CLUSTER`.
    Cluster,
    /// `ALTER TABLE ... DETACH PARTITION`.
    DetachPartition {
        /// The parent table.
        table: QName,
        /// `CONCURRENTLY`.
        concurrently: bool,
        /// `FINALIZE`: completes an interrupted concurrent detach.
        finalize: bool,
    },
    /// `ALTER DOMAIN ... ADD CONSTRAINT ... CHECK` or `SET NOT NULL`: a constraint on every
    /// column of the domain's type, in every table.
    AlterDomain {
        /// The domain.
        name: QName,
        /// `SET NOT NULL` rather than a `CHECK`.
        not_null: bool,
        /// `NOT VALID`: existing values are not checked.
        not_valid: bool,
    },
    /// Transaction control in the file.
    Transaction(TxControl),
    /// Code the analysis cannot see into: a `DO` block or dynamic SQL.
    Opaque {
        /// What it is (`DO block`, `PREPARE`, ...).
        what: String,
        /// First DDL keyword found in its text, if any.
        ddl: Option<String>,
    },
    /// `CALL routine(...)`: whatever the routine does is not seen (it may run DDL), so the
    /// replay is no longer certain of the schema.
    Call {
        /// The routine called.
        routine: QName,
    },
    /// `DROP DATABASE` (refused inside a transaction by PostgreSQL).
    DropDatabase {
        /// The database.
        name: String,
    },
    /// `CREATE DATABASE`, `ALTER SYSTEM`: refused inside a transaction by PostgreSQL.
    NonTransactionalCommand {
        /// The command as a short phrase.
        what: String,
    },
    /// `SET`/`RESET`: session settings.
    SessionSetting,
    /// Anything without a schema effect a rule cares about.
    Other,
}

#[cfg(test)]
mod tests {
    /// Statements are many and each keeps its changes until the replay: keep the IR small.
    #[test]
    fn changes_stay_small() {
        assert!(
            std::mem::size_of::<super::Change>() <= 160,
            "{}",
            std::mem::size_of::<super::Change>()
        );
    }
}
