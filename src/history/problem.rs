//! Why `up` refuses to apply anything, decided and worded once for `up`, `status` and
//! `verify`: a [`Problem`] per blocking entry of the [`Plan`], typed by [`ProblemKind`].

use crate::history::{Entry, HistoryRow, Plan, State};
use crate::source::{SourceFile, checksum};

/// What blocks `up`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProblemKind {
    /// An applied migration's file is gone.
    Missing,
    /// An applied migration's file changed since (`applied` and `now` are the checksums).
    Modified {
        /// The file, as displayed.
        file: String,
        /// Checksum recorded at apply time.
        applied: String,
        /// Checksum of the file now.
        now: String,
    },
    /// A migration failed outside a transaction.
    Failed {
        /// `statements_applied` of `statements_total`.
        progress: (i64, i64),
        /// The recorded error.
        error: Option<String>,
    },
    /// A migration is marked running: interrupted, or in progress elsewhere.
    Running {
        /// `statements_applied` of `statements_total`.
        progress: (i64, i64),
    },
    /// A pending file is older than the newest applied migration.
    OutOfOrder {
        /// The newest applied version.
        newest: u64,
    },
    /// A pending file's version does not fit the history table's BIGINT.
    TooLarge {
        /// The file, as displayed.
        file: String,
    },
    /// The database has tables but no history: it needs a baseline.
    Unbaselined {
        /// Its tables.
        tables: Vec<String>,
    },
}

/// One reason `up` applies nothing, with its message and, for edits, the diff.
#[derive(Debug, Clone)]
pub struct Problem {
    /// Version concerned.
    pub version: u64,
    /// Its description.
    pub description: String,
    /// Its state in the plan.
    pub state: State,
    /// What is wrong.
    pub kind: ProblemKind,
    /// For modified files: the applied SQL against the file.
    pub diff: Option<String>,
}

impl Problem {
    /// What is wrong and the next step.
    pub fn message(&self) -> String {
        let v = self.version;
        let progress =
            |(applied, total): (i64, i64)| format!("{applied} of {total} statements applied");
        match &self.kind {
            ProblemKind::Missing => format!(
                "migration {v} was applied but its file is gone: restore it (applied history is immutable; undo changes with a new migration)"
            ),
            ProblemKind::Modified { file, applied, now } => format!(
                "migration {v} was applied with a different checksum: {file} changed since (applied {applied}, now {now}); restore the applied text and put the change in a new migration"
            ),
            ProblemKind::Failed { progress: p, error } => format!(
                "migration {v} failed outside a transaction ({}): {}. Next step: finish or undo its statements by hand, then run `migrate resolve {v} --applied` or `migrate resolve {v} --rolled-back`",
                progress(*p),
                error.as_deref().unwrap_or("no error recorded")
            ),
            ProblemKind::Running { progress: p } => format!(
                "migration {v} is marked running ({}): a previous `migrate up` was interrupted while applying it outside a transaction. Next step: check which of its statements took effect (e.g. an INVALID index after CREATE INDEX CONCURRENTLY), finish or undo them by hand, then run `migrate resolve {v} --applied` or `migrate resolve {v} --rolled-back`",
                progress(*p)
            ),
            ProblemKind::OutOfOrder { newest } => format!(
                "migration {v} is older than the newest applied migration {newest} (merged out of order): give it a newer version, or apply it with --allow-out-of-order after checking it does not depend on order"
            ),
            ProblemKind::TooLarge { file } => format!(
                "version {v} is larger than the history table's BIGINT can hold: rename {file} with a smaller version"
            ),
            ProblemKind::Unbaselined { tables } => {
                let shown: Vec<&str> = tables.iter().take(5).map(String::as_str).collect();
                let more = if tables.len() > 5 { ", ..." } else { "" };
                format!(
                    "the database already has {} table{} ({}{more}) but no migration history: replaying every migration from the first would collide with them. If the schema matches the migrations up to some version, record them as applied with `migrate baseline VERSION`",
                    tables.len(),
                    if tables.len() == 1 { "" } else { "s" },
                    shown.join(", ")
                )
            }
        }
    }
}

impl Plan {
    /// Everything that must stop `up` before it applies anything: missing, modified, failed
    /// or running rows, out-of-order files unless allowed, versions too large to record, and
    /// a database with tables (`tables`) but no history.
    pub fn problems(
        &self,
        files: &[SourceFile],
        rows: &[HistoryRow],
        tables: &[String],
        allow_out_of_order: bool,
    ) -> Vec<Problem> {
        if rows.is_empty() && !tables.is_empty() && !files.is_empty() {
            return vec![Problem {
                version: files[0].version.unwrap_or(0),
                description: files[0].description.clone(),
                state: State::Pending,
                kind: ProblemKind::Unbaselined {
                    tables: tables.to_vec(),
                },
                diff: None,
            }];
        }
        let mut problems: Vec<Problem> = self
            .blockers(allow_out_of_order)
            .into_iter()
            .map(|e| self.problem(e, files, rows))
            .collect();
        for &i in &self.pending() {
            let file = &files[i];
            let version = file.version.unwrap_or(0);
            if i64::try_from(version).is_err() {
                problems.push(Problem {
                    version,
                    description: file.description.clone(),
                    state: State::Pending,
                    kind: ProblemKind::TooLarge {
                        file: file.display.clone(),
                    },
                    diff: None,
                });
            }
        }
        problems
    }

    fn problem(&self, entry: &Entry, files: &[SourceFile], rows: &[HistoryRow]) -> Problem {
        let row = entry.row.map(|i| &rows[i]);
        let file = entry.file.map(|i| &files[i]);
        let progress = row.map_or((0, 0), |r| (r.statements_applied, r.statements_total));
        let mut diff = None;
        let kind = match entry.state {
            State::Missing => ProblemKind::Missing,
            State::Modified => {
                let (row, file) = (row.expect("row"), file.expect("file"));
                diff = Some(super::diff(&row.sql, &file.text, &file.display, "applied"));
                ProblemKind::Modified {
                    file: file.display.clone(),
                    applied: row.checksum.clone(),
                    now: checksum(&file.text),
                }
            }
            State::Failed => ProblemKind::Failed {
                progress,
                error: row.and_then(|r| r.error.clone()),
            },
            State::Running => ProblemKind::Running { progress },
            State::OutOfOrder | State::Applied | State::Pending => ProblemKind::OutOfOrder {
                newest: self
                    .entries
                    .iter()
                    .filter(|e| e.state == State::Applied)
                    .map(|e| e.version)
                    .max()
                    .unwrap_or(0),
            },
        };
        Problem {
            version: entry.version,
            description: entry.description.clone(),
            state: entry.state,
            kind,
            diff,
        }
    }
}
