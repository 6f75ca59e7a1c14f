//! The history table's SQL for each dialect, written once: statement texts with the dialect's
//! placeholders, and decoding of rows. Values are always bound, never pasted; only the
//! validated, quoted table name is part of the text.

use sqlx::{ColumnIndex, Decode, Row, Type};

use crate::db::Migration;
use crate::db::settings::TableName;
use crate::dialect::Dialect;
use crate::history::{HistoryRow, RowState};

/// The statements the drivers run against the history table.
pub struct HistorySql {
    /// `CREATE TABLE IF NOT EXISTS`.
    pub create: String,
    /// All rows in version order.
    pub select: String,
    /// One row's state: bind version.
    pub select_state: String,
    /// Insert a row: bind version, description, checksum, phase, sql_text, state,
    /// statements_applied, statements_total, applied_at, execution_ms, applied_by, allows.
    pub insert: String,
    /// Progress of a running row: bind statements_applied, version.
    pub progress: String,
    /// Mark applied: bind applied_at, execution_ms, version.
    pub applied: String,
    /// Mark failed: bind error, failed_statement, version.
    pub failed: String,
    /// Resolve as applied: bind applied_at, checksum, sql_text, applied_by, version.
    pub resolve_applied: String,
    /// Resolve as rolled back: bind version.
    pub resolve_rolled_back: String,
}

impl HistorySql {
    /// The statements for `table` in `dialect`.
    pub fn new(dialect: Dialect, table: &TableName) -> Self {
        let t = table.quoted(dialect);
        let p = |n: usize| match dialect {
            Dialect::Postgres => format!("${n}"),
            _ => "?".to_string(),
        };
        let (text, long_text, key_text) = match dialect {
            Dialect::Mysql => ("TEXT", "LONGTEXT", "VARCHAR(100)"),
            _ => ("TEXT", "TEXT", "TEXT"),
        };
        let int = match dialect {
            Dialect::Sqlite => "INTEGER",
            _ => "BIGINT",
        };
        let create = format!(
            "CREATE TABLE IF NOT EXISTS {t} (\n  version {int} NOT NULL PRIMARY KEY,\n  description {text} NOT NULL,\n  checksum {key_text} NOT NULL,\n  phase {key_text} NOT NULL,\n  sql_text {long_text} NOT NULL,\n  state {key_text} NOT NULL,\n  statements_applied {int} NOT NULL,\n  statements_total {int} NOT NULL,\n  applied_at {key_text},\n  execution_ms {int},\n  applied_by {key_text} NOT NULL,\n  allows {long_text} NOT NULL,\n  error {long_text},\n  failed_statement {int}\n)"
        );
        let placeholders: Vec<String> = (1..=12).map(p).collect();
        HistorySql {
            create,
            select: format!(
                "SELECT version, description, checksum, sql_text, state, statements_applied, statements_total, applied_at, execution_ms, error FROM {t} ORDER BY version"
            ),
            select_state: format!("SELECT state FROM {t} WHERE version = {}", p(1)),
            insert: format!(
                "INSERT INTO {t} (version, description, checksum, phase, sql_text, state, statements_applied, statements_total, applied_at, execution_ms, applied_by, allows) VALUES ({})",
                placeholders.join(", ")
            ),
            progress: format!(
                "UPDATE {t} SET statements_applied = {} WHERE version = {}",
                p(1),
                p(2)
            ),
            applied: format!(
                "UPDATE {t} SET state = 'applied', statements_applied = statements_total, applied_at = {}, execution_ms = {} WHERE version = {}",
                p(1),
                p(2),
                p(3)
            ),
            failed: format!(
                "UPDATE {t} SET state = 'failed', error = {}, failed_statement = {} WHERE version = {}",
                p(1),
                p(2),
                p(3)
            ),
            resolve_applied: format!(
                "UPDATE {t} SET state = 'applied', statements_applied = statements_total, applied_at = {}, checksum = {}, sql_text = {}, applied_by = {}, error = NULL, failed_statement = NULL WHERE version = {} AND state IN ('failed', 'running')",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5)
            ),
            resolve_rolled_back: format!(
                "DELETE FROM {t} WHERE version = {} AND state IN ('failed', 'running')",
                p(1)
            ),
        }
    }
}

/// Decodes one row of [`HistorySql::select`]; an error text names the bad column.
pub fn decode<R>(row: &R) -> Result<HistoryRow, String>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
{
    let text = |c: &'static str| -> Result<String, String> {
        row.try_get::<String, _>(c)
            .map_err(|e| format!("has an unreadable `{c}`: {e}"))
    };
    let opt_text = |c: &'static str| -> Result<Option<String>, String> {
        row.try_get::<Option<String>, _>(c)
            .map_err(|e| format!("has an unreadable `{c}`: {e}"))
    };
    let int = |c: &'static str| -> Result<i64, String> {
        row.try_get::<i64, _>(c)
            .map_err(|e| format!("has an unreadable `{c}`: {e}"))
    };
    let state = text("state")?;
    Ok(HistoryRow {
        version: int("version")?,
        description: text("description")?,
        checksum: text("checksum")?,
        sql: text("sql_text")?,
        state: RowState::parse(&state)
            .ok_or_else(|| format!("has a row in unknown state `{state}`"))?,
        statements_applied: int("statements_applied")?,
        statements_total: int("statements_total")?,
        applied_at: opt_text("applied_at")?,
        execution_ms: row
            .try_get::<Option<i64>, _>("execution_ms")
            .map_err(|e| format!("has an unreadable `execution_ms`: {e}"))?,
        error: opt_text("error")?,
    })
}

/// What goes into a new history row besides the migration itself.
pub struct NewRow<'a> {
    /// The migration.
    pub migration: &'a Migration<'a>,
    /// `applied` or `running`.
    pub state: RowState,
    /// `expand`, or `baseline` for adopted history.
    pub phase: &'static str,
    /// Statements applied so far.
    pub statements_applied: i64,
    /// When it was applied.
    pub applied_at: Option<String>,
    /// How long it took.
    pub execution_ms: Option<i64>,
    /// Tool and version.
    pub applied_by: String,
}

/// One value bound to a history statement; `None` is a typed NULL.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An integer column.
    Int(Option<i64>),
    /// A text column.
    Text(Option<String>),
}

impl<'a> NewRow<'a> {
    /// The values of [`HistorySql::insert`], in placeholder order.
    pub fn values(self) -> [Value; 12] {
        let m = self.migration;
        [
            Value::Int(Some(m.version)),
            Value::Text(Some(m.description.to_string())),
            Value::Text(Some(m.checksum.clone())),
            Value::Text(Some(self.phase.to_string())),
            Value::Text(Some(m.sql.to_string())),
            Value::Text(Some(self.state.as_str().to_string())),
            Value::Int(Some(self.statements_applied)),
            Value::Int(Some(m.statements.len() as i64)),
            Value::Text(self.applied_at),
            Value::Int(self.execution_ms),
            Value::Text(Some(self.applied_by)),
            Value::Text(Some(m.allows.clone())),
        ]
    }

    /// A row recording `migration` as applied just now, in `ms` milliseconds.
    pub fn applied(migration: &'a Migration<'a>, ms: u64) -> Self {
        NewRow {
            migration,
            state: RowState::Applied,
            phase: "expand",
            statements_applied: migration.statements.len() as i64,
            applied_at: Some(crate::utc::Utc::now().iso8601()),
            execution_ms: Some(ms as i64),
            applied_by: crate::db::applied_by(),
        }
    }

    /// A row recording `migration` as applied without running it.
    pub fn baseline(migration: &'a Migration<'a>) -> Self {
        NewRow {
            migration,
            state: RowState::Applied,
            phase: "baseline",
            statements_applied: migration.statements.len() as i64,
            applied_at: Some(crate::utc::Utc::now().iso8601()),
            execution_ms: Some(0),
            applied_by: format!("{} (baseline)", crate::db::applied_by()),
        }
    }
}

/// The column list every dialect's history table has, in order.
pub const HISTORY_COLUMNS: [&str; 14] = [
    "version",
    "description",
    "checksum",
    "phase",
    "sql_text",
    "state",
    "statements_applied",
    "statements_total",
    "applied_at",
    "execution_ms",
    "applied_by",
    "allows",
    "error",
    "failed_statement",
];

/// Checks the columns found in the history table against [`HISTORY_COLUMNS`]; `columns` are
/// `(name, type)` pairs as the catalog reports them. The error says what is wrong.
pub fn check_shape(columns: &[(String, String)]) -> Result<(), String> {
    for wanted in HISTORY_COLUMNS {
        if !columns.iter().any(|(n, _)| n.eq_ignore_ascii_case(wanted)) {
            return Err(format!("has no column `{wanted}`"));
        }
    }
    for int_column in [
        "version",
        "statements_applied",
        "statements_total",
        "execution_ms",
    ] {
        if let Some((_, ty)) = columns
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(int_column))
        {
            if !ty.to_ascii_lowercase().contains("int") {
                return Err(format!(
                    "has column `{int_column}` of type {ty}, expected an integer type"
                ));
            }
        }
    }
    Ok(())
}
