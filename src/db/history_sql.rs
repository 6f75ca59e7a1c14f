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
    /// `ALTER TABLE ... ADD COLUMN` for each of [`ADDED_COLUMNS`], in order.
    pub add_columns: Vec<String>,
    /// All rows in version order, without the columns of [`ADDED_COLUMNS`] (see
    /// [`HistorySql::select`]).
    select_base: String,
    /// ` FROM <table> ORDER BY version`.
    select_from: String,
    /// One row's state: bind version.
    pub select_state: String,
    /// Insert a row: bind version, description, checksum, phase, sql_text, state,
    /// statements_applied, statements_total, applied_at, execution_ms, applied_by, allows,
    /// session.
    pub insert: String,
    /// [`HistorySql::insert`] that inserts nothing unless the migration's own transaction is
    /// still open (PostgreSQL: the `migrate.tx` setting made `SET LOCAL` after `BEGIN`).
    pub insert_guarded: Option<String>,
    /// Statement `in_flight` of a running row was started (it may complete without the
    /// progress update): bind in_flight, version.
    pub in_flight: String,
    /// Progress of a running row: bind statements_applied, version.
    pub progress: String,
    /// A backfill batch's progress: bind statements_applied, progress, version.
    pub batch: String,
    /// A running row taken over to resume it: bind session, statements_applied, version.
    pub take_over: String,
    /// Mark applied: bind applied_at, execution_ms, version.
    pub applied: String,
    /// Mark failed: bind error, failed_statement, version.
    pub failed: String,
    /// Resolve as applied: bind applied_at, checksum, sql_text, applied_by, version.
    pub resolve_applied: String,
    /// Resolve as rolled back: bind version.
    pub resolve_rolled_back: String,
    /// Forget an applied row (a repeatable migration about to be applied again): bind version.
    pub forget: String,
}

/// The `SET LOCAL` that marks a migration's own transaction on PostgreSQL; a `COMMIT` or
/// `ROLLBACK` inside the file resets it, and [`HistorySql::insert_guarded`] then inserts no
/// row.
pub const PG_TRANSACTION_MARK: &str = "SET LOCAL migrate.tx = 'open'";

/// Columns added to the history table after its first release: `ensure_history` adds them
/// to older tables. `session`: the deployer's database session (to say who was running a
/// migration); `in_flight`: the 0-based statement of a running row that was started and may
/// have completed without its progress update; `progress`: a backfill migration's batches,
/// rows and time so far ([`crate::history::BackfillProgress`], JSON).
pub const ADDED_COLUMNS: [&str; 3] = ["session", "in_flight", "progress"];

impl HistorySql {
    /// All rows in version order; each column of [`ADDED_COLUMNS`] the table does not have
    /// yet (`present`, in that order: read-only commands do not upgrade the table) reads as
    /// NULL.
    pub fn select(&self, present: &[bool]) -> String {
        let mut sql = self.select_base.clone();
        for (i, column) in ADDED_COLUMNS.iter().enumerate() {
            if present.get(i).copied().unwrap_or(false) {
                sql.push_str(&format!(", {column}"));
            } else {
                sql.push_str(&format!(", NULL AS {column}"));
            }
        }
        sql.push_str(&self.select_from);
        sql
    }

    /// Puts `prefix` before the writes made after a migration's statements (claimed or
    /// inserted, in flight, progress, applied, failed, taken over): see [`crate::db::backend::Backend::bookkeeping_prefix`].
    pub fn exempt(&mut self, prefix: &str) {
        for statement in [
            &mut self.insert,
            &mut self.in_flight,
            &mut self.progress,
            &mut self.batch,
            &mut self.take_over,
            &mut self.applied,
            &mut self.failed,
        ] {
            statement.insert_str(0, prefix);
        }
    }

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
        // The history's progress updates commit with a migration's DML: a transactional
        // engine whatever the server's default_storage_engine.
        let engine = if dialect == Dialect::Mysql {
            " ENGINE=InnoDB"
        } else {
            ""
        };
        let create = format!(
            "CREATE TABLE IF NOT EXISTS {t} (\n  version {int} NOT NULL PRIMARY KEY,\n  description {text} NOT NULL,\n  checksum {key_text} NOT NULL,\n  phase {key_text} NOT NULL,\n  sql_text {long_text} NOT NULL,\n  state {key_text} NOT NULL,\n  statements_applied {int} NOT NULL,\n  statements_total {int} NOT NULL,\n  applied_at {key_text},\n  execution_ms {int},\n  applied_by {key_text} NOT NULL,\n  allows {long_text} NOT NULL,\n  error {long_text},\n  failed_statement {int},\n  session {key_text},\n  in_flight {int},\n  progress {long_text}\n){engine}"
        );
        // In the order of ADDED_COLUMNS.
        let add_columns = vec![
            format!("ALTER TABLE {t} ADD COLUMN session {key_text}"),
            format!("ALTER TABLE {t} ADD COLUMN in_flight {int}"),
            format!("ALTER TABLE {t} ADD COLUMN progress {long_text}"),
        ];
        let columns = "version, description, checksum, phase, sql_text, state, statements_applied, statements_total, applied_at, execution_ms, applied_by, allows, session";
        let placeholders: Vec<String> = (1..=13).map(p).collect();
        let read = "version, description, checksum, phase, sql_text, state, statements_applied, statements_total, applied_at, execution_ms, error, failed_statement";
        HistorySql {
            create,
            add_columns,
            select_base: format!("SELECT {read}"),
            select_from: format!(" FROM {t} ORDER BY version"),
            select_state: format!("SELECT state FROM {t} WHERE version = {}", p(1)),
            insert: format!(
                "INSERT INTO {t} ({columns}) VALUES ({})",
                placeholders.join(", ")
            ),
            insert_guarded: (dialect == Dialect::Postgres).then(|| {
                format!(
                    "INSERT INTO {t} ({columns}) SELECT {} WHERE current_setting('migrate.tx', true) = 'open'",
                    placeholders.join(", ")
                )
            }),
            in_flight: format!(
                "UPDATE {t} SET in_flight = {} WHERE version = {}",
                p(1),
                p(2)
            ),
            progress: format!(
                "UPDATE {t} SET statements_applied = {}, in_flight = NULL WHERE version = {}",
                p(1),
                p(2)
            ),
            batch: format!(
                "UPDATE {t} SET statements_applied = {}, progress = {}, in_flight = NULL WHERE version = {}",
                p(1),
                p(2),
                p(3)
            ),
            take_over: format!(
                "UPDATE {t} SET session = {}, statements_applied = {}, in_flight = NULL WHERE version = {} AND state = 'running'",
                p(1),
                p(2),
                p(3)
            ),
            applied: format!(
                "UPDATE {t} SET state = 'applied', statements_applied = statements_total, applied_at = {}, execution_ms = {}, in_flight = NULL WHERE version = {}",
                p(1),
                p(2),
                p(3)
            ),
            failed: format!(
                "UPDATE {t} SET state = 'failed', error = {}, failed_statement = {}, in_flight = NULL WHERE version = {}",
                p(1),
                p(2),
                p(3)
            ),
            resolve_applied: format!(
                "UPDATE {t} SET state = 'applied', statements_applied = statements_total, applied_at = {}, checksum = {}, sql_text = {}, applied_by = {}, error = NULL, failed_statement = NULL, in_flight = NULL WHERE version = {} AND state IN ('failed', 'running')",
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
            forget: format!(
                "DELETE FROM {t} WHERE version = {} AND state = 'applied'",
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
    let opt_int = |c: &'static str| -> Result<Option<i64>, String> {
        row.try_get::<Option<i64>, _>(c)
            .map_err(|e| format!("has an unreadable `{c}`: {e}"))
    };
    let state = text("state")?;
    Ok(HistoryRow {
        version: int("version")?,
        description: text("description")?,
        phase: text("phase")?,
        checksum: text("checksum")?,
        sql: text("sql_text")?,
        state: RowState::parse(&state)
            .ok_or_else(|| format!("has a row in unknown state `{state}`"))?,
        statements_applied: int("statements_applied")?,
        statements_total: int("statements_total")?,
        applied_at: opt_text("applied_at")?,
        execution_ms: opt_int("execution_ms")?,
        error: opt_text("error")?,
        failed_statement: opt_int("failed_statement")?,
        session: opt_text("session")?,
        in_flight: opt_int("in_flight")?,
        progress: opt_text("progress")?,
    })
}

/// What goes into a new history row besides the migration itself.
pub struct NewRow<'a> {
    /// The migration.
    pub migration: &'a Migration<'a>,
    /// `applied` or `running`.
    pub state: RowState,
    /// The migration's phase (`expand`, `backfill`, `contract`), or `baseline` for adopted
    /// history.
    pub phase: &'static str,
    /// Statements applied so far.
    pub statements_applied: i64,
    /// When it was applied.
    pub applied_at: Option<String>,
    /// How long it took.
    pub execution_ms: Option<i64>,
    /// Tool and version.
    pub applied_by: String,
    /// The deployer's database session, for `running` rows.
    pub session: Option<String>,
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
    pub fn values(self) -> [Value; 13] {
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
            Value::Text(self.session),
        ]
    }

    /// A row recording `migration` as applied just now, in `ms` milliseconds.
    pub fn applied(migration: &'a Migration<'a>, ms: u64) -> Self {
        NewRow {
            migration,
            state: RowState::Applied,
            phase: migration.phase.as_str(),
            statements_applied: migration.statements.len() as i64,
            applied_at: Some(crate::utc::Utc::now().iso8601()),
            execution_ms: Some(ms as i64),
            applied_by: crate::db::applied_by(),
            session: None,
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
            session: None,
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
            && !ty.to_ascii_lowercase().contains("int")
        {
            return Err(format!(
                "has column `{int_column}` of type {ty}, expected an integer type"
            ));
        }
    }
    Ok(())
}
