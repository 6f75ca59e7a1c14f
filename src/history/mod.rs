//! Pure logic of `up`, `status` and `verify`: history rows against the files on disk give a
//! [`Plan`] — what is applied, pending, modified, missing, failed or out of order. No database
//! here, so every pitfall of this comparison is unit-tested.

mod interrupted;
mod problem;

use std::collections::HashMap;

pub mod adopt;

pub use interrupted::{InFlight, Observation, Verdict, in_flight_statement, verdict};
pub use problem::{Problem, ProblemKind};

use crate::source::directive::Phase;
use crate::source::{SourceFile, checksum};

/// A history row's own state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowState {
    /// Fully applied.
    Applied,
    /// Claimed and being applied outside a transaction (or interrupted while so).
    Running,
    /// Failed midway outside a transaction; needs `migrate resolve`.
    Failed,
}

impl RowState {
    /// The value stored in the history table.
    pub fn as_str(self) -> &'static str {
        match self {
            RowState::Applied => "applied",
            RowState::Running => "running",
            RowState::Failed => "failed",
        }
    }

    /// Parses a stored value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "applied" => Some(RowState::Applied),
            "running" => Some(RowState::Running),
            "failed" => Some(RowState::Failed),
            _ => None,
        }
    }
}

/// One row of the history table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// Version (primary key).
    pub version: i64,
    /// Description from the file name.
    pub description: String,
    /// `expand`, `backfill`, `contract`, or `baseline` for adopted history.
    pub phase: String,
    /// `sha256:<hex>` of the normalised file.
    pub checksum: String,
    /// The migration's SQL as applied (to show edits as a diff).
    pub sql: String,
    /// Row state.
    pub state: RowState,
    /// Statements applied so far.
    pub statements_applied: i64,
    /// Statements in the migration.
    pub statements_total: i64,
    /// When it was applied (ISO 8601 UTC).
    pub applied_at: Option<String>,
    /// How long it took.
    pub execution_ms: Option<i64>,
    /// The failing statement and error, for failed rows.
    pub error: Option<String>,
    /// 0-based index of the failing statement, for failed rows.
    pub failed_statement: Option<i64>,
    /// The database session of the deployer that wrote a `running` row.
    pub session: Option<String>,
    /// For `running` rows: the 0-based statement that was started and may have completed
    /// without its progress being recorded (`None`: progress is exact).
    pub in_flight: Option<i64>,
    /// A backfill migration's progress ([`BackfillProgress`] as JSON).
    pub progress: Option<String>,
}

/// How far a backfill migration got: recorded with every batch, in the same transaction, so
/// a killed backfill resumes with its counts and `status` shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BackfillProgress {
    /// Batches run (those that changed rows and the last one of each statement, which
    /// changed none).
    pub batches: u64,
    /// Rows changed.
    pub rows: u64,
    /// Milliseconds spent in batches (pauses not counted).
    pub ms: u64,
}

impl BackfillProgress {
    /// From a history row's `progress` (nothing or unreadable: zero).
    pub fn of(row: Option<&HistoryRow>) -> BackfillProgress {
        row.and_then(|r| r.progress.as_deref())
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_default()
    }

    /// The JSON the history row keeps.
    pub fn to_json(self) -> String {
        serde_json::to_string(&self).unwrap_or_default()
    }

    /// Rows per second over the batches' time.
    pub fn rows_per_second(self) -> u64 {
        (self.rows * 1000).checked_div(self.ms).unwrap_or(self.rows)
    }
}

impl HistoryRow {
    /// The marker row of `baseline 0`: no migration, the history starts here.
    pub fn is_marker(&self) -> bool {
        self.phase == "baseline"
            && self.checksum == "baseline"
            && (self.version == crate::db::MARKER_VERSION || self.version == 0)
    }
}

/// A migration's state as `status` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Applied, file unchanged.
    Applied,
    /// Not applied yet.
    Pending,
    /// Failed midway; needs `migrate resolve`.
    Failed,
    /// Marked running: in progress elsewhere, or interrupted.
    Running,
    /// Applied, and the file changed since.
    Modified,
    /// Applied, and the file is gone.
    Missing,
    /// Pending, but before the newest applied migration in apply order.
    OutOfOrder,
}

impl State {
    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Applied => "applied",
            State::Pending => "pending",
            State::Failed => "failed",
            State::Running => "running",
            State::Modified => "modified",
            State::Missing => "missing",
            State::OutOfOrder => "out-of-order",
        }
    }
}

/// One version in the plan.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The version.
    pub version: u64,
    /// Description (from the file, else the row).
    pub description: String,
    /// Its state.
    pub state: State,
    /// Index into the files, when there is a file.
    pub file: Option<usize>,
    /// Index into the rows, when there is a row.
    pub row: Option<usize>,
}

/// Files and history compared.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Every version of files and rows, in apply order.
    pub entries: Vec<Entry>,
}

impl Plan {
    /// Entries that must stop `up` before anything is applied: missing, modified, failed or
    /// running rows, and out-of-order files unless allowed.
    pub fn blockers(&self, allow_out_of_order: bool) -> Vec<&Entry> {
        self.entries
            .iter()
            .filter(|e| match e.state {
                State::Missing | State::Modified | State::Failed | State::Running => true,
                State::OutOfOrder => !allow_out_of_order,
                State::Applied | State::Pending => false,
            })
            .collect()
    }

    /// Files to apply, in version order (out-of-order ones included: callers check blockers).
    pub fn pending(&self) -> Vec<usize> {
        self.entries
            .iter()
            .filter(|e| matches!(e.state, State::Pending | State::OutOfOrder))
            .filter_map(|e| e.file)
            .collect()
    }
}

/// Which deploy phases an `up` applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UpPhase {
    /// The pre-deploy step: expand and backfill migrations; contract migrations wait.
    #[default]
    Expand,
    /// The post-deploy step (`--phase contract`): contract migrations, once every migration
    /// before them is applied.
    Contract,
    /// Every phase in version order (a database no release serves yet: development, CI).
    All,
}

/// The phase's name for `--phase`, messages and JSON.
impl UpPhase {
    /// `expand`, `contract` or `all`.
    pub fn as_str(self) -> &'static str {
        match self {
            UpPhase::Expand => "expand",
            UpPhase::Contract => "contract",
            UpPhase::All => "all",
        }
    }
}

/// Splits the migrations `up` would apply (`pending`, file indices in apply order) by
/// `phase`: those to apply now, and the contract migrations left for the post-deploy step.
/// `--phase contract` is refused while an expand or backfill migration before a pending
/// contract migration is still pending: the contract step may only drop what the rolled-out
/// release no longer needs, and that release's expand step has not run.
pub fn split_by_phase(
    files: &[SourceFile],
    pending: &[usize],
    phase: UpPhase,
) -> Result<(Vec<usize>, Vec<usize>), Vec<Problem>> {
    let (contracts, others): (Vec<usize>, Vec<usize>) = pending
        .iter()
        .partition(|&&i| files[i].phase() == Phase::Contract);
    match phase {
        UpPhase::All => Ok((pending.to_vec(), Vec::new())),
        UpPhase::Expand => Ok((others, contracts)),
        UpPhase::Contract => {
            let Some(&last) = contracts.last() else {
                return Ok((Vec::new(), Vec::new()));
            };
            let problems: Vec<Problem> = others
                .iter()
                .filter(|&&i| i < last)
                .map(|&i| {
                    let first_after = contracts.iter().copied().find(|&c| c > i).unwrap_or(last);
                    Problem {
                        version: files[i].version.unwrap_or(0),
                        description: files[i].description.clone(),
                        state: State::Pending,
                        kind: ProblemKind::ExpandPending {
                            phase: files[i].phase().as_str(),
                            contract: files[first_after].version.unwrap_or(0),
                        },
                        diff: None,
                    }
                })
                .collect();
            if problems.is_empty() {
                Ok((contracts, Vec::new()))
            } else {
                Err(problems)
            }
        }
    }
}

/// Compares `files` (each with a version, in the order their layout applies them) with the
/// history `rows`. Entries follow the files' order; a row without a file sits before the first
/// file of a greater version.
pub fn plan(files: &[SourceFile], rows: &[HistoryRow]) -> Plan {
    let mut row_of: HashMap<u64, usize> = HashMap::new();
    let versions: std::collections::HashSet<u64> = files.iter().filter_map(|f| f.version).collect();
    let has_file = |v: u64| versions.contains(&v);
    // Rows with a version no file can have stay apart (they are never one migration).
    let mut negative: Vec<usize> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        // `baseline 0` leaves a marker row, not a migration (version -1; before, version 0,
        // unless a file has version 0).
        let marker = r.is_marker() && (r.version < 0 || !has_file(0));
        if marker {
            continue;
        }
        if r.version < 0 {
            negative.push(i);
        } else {
            row_of.insert(r.version as u64, i);
        }
    }
    let applied = |v: u64| {
        row_of
            .get(&v)
            .is_some_and(|&r| rows[r].state == RowState::Applied)
    };
    // Out of order: before the last applied file in apply order, or below an applied row
    // whose file is gone. A contract migration waits for `up --phase contract` while later
    // expand migrations are applied: it is out of order only before a later contract one.
    let contract = |f: &SourceFile| f.phase() == Phase::Contract;
    let last_applied = |only_contracts: bool| {
        files.iter().rposition(|f| {
            !f.repeatable && f.version.is_some_and(applied) && (!only_contracts || contract(f))
        })
    };
    let (last_applied_file, last_applied_contract) = (last_applied(false), last_applied(true));
    let newest_fileless = |only_contracts: bool| {
        rows.iter()
            .filter(|r| {
                r.state == RowState::Applied
                    && r.version >= 0
                    && !has_file(r.version as u64)
                    && (!only_contracts || Phase::from_history(&r.phase) == Phase::Contract)
            })
            .map(|r| r.version as u64)
            .max()
    };
    let (newest_fileless_any, newest_fileless_contract) =
        (newest_fileless(false), newest_fileless(true));
    let mut entries: Vec<Entry> = Vec::with_capacity(files.len() + rows.len());
    let mut seen: HashMap<u64, ()> = HashMap::new();
    for (i, f) in files.iter().enumerate() {
        let Some(version) = f.version else { continue };
        if seen.insert(version, ()).is_some() {
            continue;
        }
        let r = row_of.get(&version).map(|&r| &rows[r]);
        let state = match r {
            Some(r) if r.state == RowState::Failed => State::Failed,
            Some(r) if r.state == RowState::Running => State::Running,
            Some(r) if checksum(&f.text) == r.checksum => State::Applied,
            // A repeatable migration whose text changed is applied again.
            Some(_) if f.repeatable => State::Pending,
            Some(_) => State::Modified,
            None if {
                let (last, fileless) = if contract(f) {
                    (last_applied_contract, newest_fileless_contract)
                } else {
                    (last_applied_file, newest_fileless_any)
                };
                !f.repeatable && last.is_some_and(|last| i < last)
                    || fileless.is_some_and(|n| version < n)
            } =>
            {
                State::OutOfOrder
            }
            None => State::Pending,
        };
        entries.push(Entry {
            version,
            description: f.description.clone(),
            state,
            file: Some(i),
            row: row_of.get(&version).copied(),
        });
    }
    let mut fileless: Vec<(u64, usize)> = row_of
        .iter()
        .filter(|(v, _)| !seen.contains_key(v))
        .map(|(v, r)| (*v, *r))
        .collect();
    fileless.sort();
    for (version, r) in fileless {
        let row = &rows[r];
        let state = match row.state {
            RowState::Failed => State::Failed,
            RowState::Running => State::Running,
            _ => State::Missing,
        };
        let at = entries
            .iter()
            .position(|e| e.version > version)
            .unwrap_or(entries.len());
        entries.insert(
            at,
            Entry {
                version,
                description: row.description.clone(),
                state,
                file: None,
                row: Some(r),
            },
        );
    }
    // Negative versions first, in row order: they sort before every real version.
    let mut all: Vec<Entry> = negative
        .into_iter()
        .map(|i| Entry {
            version: 0,
            description: rows[i].description.clone(),
            state: State::Missing,
            file: None,
            row: Some(i),
        })
        .collect();
    all.extend(entries);
    Plan { entries: all }
}

/// A unified diff of an earlier text of a migration (`was`: `applied`, `base`) against the
/// file now.
pub fn diff(earlier: &str, file_text: &str, file_name: &str, was: &str) -> String {
    similar::TextDiff::from_lines(earlier, file_text)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("{file_name} ({was})"),
            &format!("{file_name} (now)"),
        )
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(version: u64, text: &str) -> SourceFile {
        SourceFile {
            path: format!("{version}_m.sql").into(),
            display: format!("{version}_m.sql"),
            version: Some(version),
            description: "m".into(),
            text: text.into(),
            ..Default::default()
        }
    }

    const CONTRACT: &str = "-- migrate:contract\nALTER TABLE t DROP COLUMN c;";

    #[test]
    fn a_contract_left_behind_later_expands_is_not_out_of_order() {
        let files = [file(1, "A;"), file(2, CONTRACT), file(3, "B;")];
        let rows = [
            row(1, "A;", RowState::Applied),
            row(3, "B;", RowState::Applied),
        ];
        let plan = plan(&files, &rows);
        assert_eq!(plan.entries[1].state, State::Pending);
        // An expand migration behind an applied one still is.
        let files = [file(1, "A;"), file(2, "C;"), file(3, "B;")];
        assert_eq!(
            super::plan(&files, &rows).entries[1].state,
            State::OutOfOrder
        );
        // And a contract migration behind an applied contract migration.
        let later = "-- migrate:contract\nDROP TABLE u;";
        let files = [file(1, "A;"), file(2, CONTRACT), file(3, later)];
        let mut applied = row(3, later, RowState::Applied);
        applied.phase = "contract".into();
        let rows = [row(1, "A;", RowState::Applied), applied];
        let plan = super::plan(&files, &rows);
        assert_eq!(plan.entries[1].state, State::OutOfOrder);
        let problems = plan.problems(&files, &rows, &[], false, &Default::default());
        assert!(
            problems[0].message().contains("before migration 3"),
            "{}",
            problems[0].message()
        );
    }

    #[test]
    fn phases_split_what_up_applies() {
        let files = [
            file(1, "A;"),
            file(2, CONTRACT),
            file(3, "B;"),
            file(4, CONTRACT),
        ];
        let all = [0, 1, 2, 3];
        assert_eq!(
            split_by_phase(&files, &all, UpPhase::Expand).unwrap(),
            (vec![0, 2], vec![1, 3])
        );
        assert_eq!(
            split_by_phase(&files, &all, UpPhase::All).unwrap(),
            (all.to_vec(), vec![])
        );
        // Contract step with expands still pending before a contract: refused, naming them.
        let refused = split_by_phase(&files, &all, UpPhase::Contract).unwrap_err();
        let versions: Vec<u64> = refused.iter().map(|p| p.version).collect();
        assert_eq!(versions, [1, 3]);
        assert!(refused[0].message().contains("before contract migration 2"));
        // Once they are applied, only the contracts run; a later expand waits for `up`.
        assert_eq!(
            split_by_phase(&files, &[1, 3], UpPhase::Contract).unwrap(),
            (vec![1, 3], vec![])
        );
        let files = [file(1, CONTRACT), file(2, "B;")];
        assert_eq!(
            split_by_phase(&files, &[0, 1], UpPhase::Contract).unwrap(),
            (vec![0], vec![])
        );
    }

    fn row(version: i64, text: &str, state: RowState) -> HistoryRow {
        HistoryRow {
            version,
            description: "m".into(),
            phase: "expand".into(),
            checksum: checksum(text),
            sql: text.into(),
            state,
            statements_applied: 1,
            statements_total: 1,
            applied_at: None,
            execution_ms: None,
            error: None,
            failed_statement: None,
            session: None,
            in_flight: None,
            progress: None,
        }
    }

    fn states(p: &Plan) -> Vec<(u64, State)> {
        p.entries.iter().map(|e| (e.version, e.state)).collect()
    }

    #[test]
    fn applied_pending_modified_missing() {
        let files = [file(1, "a"), file(2, "b edited"), file(4, "d")];
        let rows = [
            row(1, "a", RowState::Applied),
            row(2, "b", RowState::Applied),
            row(3, "c", RowState::Applied),
        ];
        let p = plan(&files, &rows);
        assert_eq!(
            states(&p),
            [
                (1, State::Applied),
                (2, State::Modified),
                (3, State::Missing),
                (4, State::Pending)
            ]
        );
        assert_eq!(p.pending(), [2]);
        assert_eq!(p.blockers(false).len(), 2);
        assert_eq!(
            p.problems(&files, &rows, &[], false, &Default::default())
                .len(),
            2
        );
    }

    #[test]
    fn out_of_order_is_a_blocker_unless_allowed() {
        let files = [file(1, "a"), file(2, "b"), file(3, "c")];
        let rows = [
            row(1, "a", RowState::Applied),
            row(3, "c", RowState::Applied),
        ];
        let p = plan(&files, &rows);
        assert_eq!(p.entries[1].state, State::OutOfOrder);
        assert_eq!(p.blockers(false).len(), 1);
        assert!(p.blockers(true).is_empty());
        assert_eq!(p.pending(), [1]);
    }

    #[test]
    fn failed_and_running_rows_block_and_are_drift() {
        let files = [file(1, "a"), file(2, "b")];
        let rows = [
            row(1, "a", RowState::Failed),
            row(2, "b", RowState::Running),
        ];
        let p = plan(&files, &rows);
        assert_eq!(states(&p), [(1, State::Failed), (2, State::Running)]);
        assert!(p.pending().is_empty());
        assert_eq!(p.blockers(true).len(), 2);
    }

    #[test]
    fn crlf_copy_of_an_applied_file_is_not_a_change() {
        let lf = "CREATE TABLE t (id int);\n";
        let crlf =
            crate::source::normalise(b"\xEF\xBB\xBFCREATE TABLE t (id int);\r\n".to_vec()).unwrap();
        let p = plan(&[file(1, &crlf)], &[row(1, lf, RowState::Applied)]);
        assert_eq!(states(&p), [(1, State::Applied)]);
    }

    #[test]
    fn diff_shows_the_edit() {
        let d = diff("a\nb\n", "a\nc\n", "1_m.sql", "applied");
        assert!(d.contains("-b\n+c\n"), "{d}");
        assert!(d.contains("1_m.sql (applied)"), "{d}");
    }
}
