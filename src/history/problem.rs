//! Why `up` refuses to apply anything, decided and worded once for `up`, `status` and
//! `verify`: a [`Problem`] per blocking entry of the [`Plan`], typed by [`ProblemKind`].

use std::collections::HashMap;

use crate::analyze::ir::QName;
use crate::history::{Entry, HistoryRow, Plan, State, Verdict};
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
    /// An applied migration's recorded checksum differs from its file, but the SQL recorded
    /// with it is the file's: the history row was edited by hand.
    ChecksumEdited {
        /// The file, as displayed.
        file: String,
        /// Checksum in the row.
        recorded: String,
        /// Checksum of the file (and of the recorded SQL).
        now: String,
    },
    /// A history row whose version no file can have (negative).
    InvalidVersion {
        /// The row's version.
        version: i64,
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
    /// An interrupted migration's statement is still running in the session that started it.
    StillRunning {
        /// The session.
        session: String,
        /// 0-based statement.
        statement: usize,
        /// Statements in the migration.
        total: i64,
        /// Its line.
        line: Option<usize>,
    },
    /// An interrupted migration's statement may or may not have completed.
    Uncertain {
        /// 0-based statement.
        statement: usize,
        /// Statements in the migration.
        total: i64,
        /// Its line.
        line: Option<usize>,
    },
    /// An interrupted migration's row has progress no run can leave.
    Inconsistent {
        /// `statements_applied` of `statements_total`.
        progress: (i64, i64),
    },
    /// An interrupted migration's file changed since it was started.
    ChangedWhileRunning {
        /// The file, as displayed.
        file: String,
    },
    /// A pending file comes before an applied migration in apply order.
    OutOfOrder {
        /// The last applied migration after it (its file may be gone).
        newest: u64,
        /// That migration's description.
        newest_description: String,
    },
    /// `up --phase contract`: an expand or backfill migration before a pending contract
    /// migration is not applied yet.
    ExpandPending {
        /// `expand` or `backfill`.
        phase: &'static str,
        /// The first pending contract migration after it.
        contract: u64,
    },
    /// A pending file's version does not fit the history table's BIGINT.
    TooLarge {
        /// The file, as displayed.
        file: String,
    },
    /// A pending migration creates, drops or alters a table named like the history table.
    TouchesHistory {
        /// The file, as displayed.
        file: String,
        /// The statement's line.
        line: Option<usize>,
        /// The history table's name.
        table: String,
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
            ProblemKind::Missing if v >= crate::source::name::REPEATABLE_BASE => format!(
                "repeatable migration R__{}.sql was applied but its file is gone: restore it (the SQL it applied is in the history table's sql_text), or change it to drop what it made",
                self.description
            ),
            ProblemKind::Missing => format!(
                "migration {v} ({}) was applied but no file has its version any more: restore its file (the SQL it applied is in the history table's sql_text; applied history is immutable, undo changes with a new migration)",
                self.description
            ),
            ProblemKind::Modified { file, applied, now } => format!(
                "migration {v} was applied with a different checksum: {file} changed since (applied {applied}, now {now}); restore the applied text and put the change in a new migration"
            ),
            ProblemKind::ChecksumEdited {
                file,
                recorded,
                now,
            } => format!(
                "the history row of migration {v} was edited: its checksum {recorded} matches neither {file} nor the SQL recorded with it (both {now}). Restore the checksum in the history table, or find out who changed it"
            ),
            ProblemKind::InvalidVersion { version } => format!(
                "the history table has a row with version {version}, which no migration file can have: it was written by hand or by another tool; delete it after checking what it records"
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
            ProblemKind::StillRunning {
                session,
                statement,
                total,
                line,
            } => format!(
                "migration {v} was interrupted, and its statement {} of {total}{} is still running in session {session} (the server finishes a statement of a killed client): wait for it to end, or cancel it, then run `migrate up` again to resume",
                statement + 1,
                at_line(*line)
            ),
            ProblemKind::Uncertain {
                statement,
                total,
                line,
            } => format!(
                "migration {v} was interrupted while its statement {} of {total}{} ran outside a transaction: it may or may not have taken effect, and the catalog cannot tell. Next step: check by hand; if it took effect, finish the remaining statements and run `migrate resolve {v} --applied`; if not, undo the earlier ones and run `migrate resolve {v} --rolled-back`",
                statement + 1,
                at_line(*line)
            ),
            ProblemKind::Inconsistent {
                progress: (applied, total),
            } => format!(
                "migration {v} is marked running with progress no run leaves ({applied} of {total} statements, or a statement in flight outside them): the history row was edited. Find out what took effect, then run `migrate resolve {v} --applied` or `--rolled-back`"
            ),
            ProblemKind::ChangedWhileRunning { file } => format!(
                "migration {v} was interrupted while running, and {file} changed since: restore the text it was started with, so `migrate up` can resume it"
            ),
            ProblemKind::OutOfOrder {
                newest,
                newest_description,
            } => format!(
                "migration {v} ({}) comes before migration {newest} ({newest_description}), which is already applied (merged out of order): give it a newer version, or apply it with --allow-out-of-order after checking it does not depend on order",
                self.description
            ),
            ProblemKind::ExpandPending { phase, contract } => format!(
                "{phase} migration {v} ({}) is pending and comes before contract migration {contract}: run `migrate up` (the pre-deploy step) first, roll out the release, then `migrate up --phase contract`",
                self.description
            ),
            ProblemKind::TooLarge { file } => format!(
                "version {v} is larger than the history table's BIGINT can hold: rename {file} with a smaller version"
            ),
            ProblemKind::TouchesHistory { file, line, table } => format!(
                "migration {v} ({file}{}) makes or changes a table named {table}, like the history table: the engine's own rows would go to it (a temporary table shadows the history). Rename that table, or set history_table to another name",
                line.map(|l| format!(":{l}")).unwrap_or_default()
            ),
            ProblemKind::Unbaselined { tables } => {
                // Another migration tool's history: adopt what it applied.
                let foreign: Vec<(String, Vec<&str>)> = tables
                    .iter()
                    .filter_map(|t| {
                        let tools: Vec<&str> = super::adopt::Tool::ALL
                            .iter()
                            .filter(|tool| tool.table().eq_ignore_ascii_case(t))
                            .map(|tool| tool.name())
                            .collect();
                        (!tools.is_empty()).then(|| (t.clone(), tools))
                    })
                    .collect();
                if let Some((table, tools)) = foreign.first() {
                    let commands: Vec<String> = tools
                        .iter()
                        .map(|t| format!("`migrate baseline --from {t}`"))
                        .collect();
                    return format!(
                        "the database has {} table{} but no `migrate` history, and {table} is the history table of {}: record what that tool applied with {} (it checks the files against it), then run `migrate up` for the rest",
                        tables.len(),
                        if tables.len() == 1 { "" } else { "s" },
                        tools.join(" or "),
                        commands.join(" or ")
                    );
                }
                let shown: Vec<&str> = tables.iter().take(5).map(String::as_str).collect();
                let more = if tables.len() > 5 { ", ..." } else { "" };
                format!(
                    "the database already has {} table{} ({}{more}) but no migration history: replaying every migration from the first would collide with them. If the schema matches the migrations up to some version, record them as applied with `migrate baseline VERSION`; if those tables are not this app's (another app's, sharing the database), run `migrate baseline 0`",
                    tables.len(),
                    if tables.len() == 1 { "" } else { "s" },
                    shown.join(", ")
                )
            }
        }
    }
}

/// `" (line N)"`, or nothing.
fn at_line(line: Option<usize>) -> String {
    line.map(|l| format!(" (line {l})")).unwrap_or_default()
}

impl Plan {
    /// Everything that must stop `up` before it applies anything: missing, modified, failed
    /// or running rows, out-of-order files unless allowed, versions too large to record, and
    /// a database with tables (`tables`) but no history.
    /// `verdicts` says, by version, what to do with interrupted (`running`) migrations: a
    /// `Resume` is no problem, and a running row without a verdict is one.
    pub fn problems(
        &self,
        files: &[SourceFile],
        rows: &[HistoryRow],
        tables: &[String],
        allow_out_of_order: bool,
        verdicts: &HashMap<u64, Verdict>,
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
            .filter(|e| !matches!(verdicts.get(&e.version), Some(Verdict::Resume { .. })))
            .map(|e| self.problem(e, files, rows, verdicts.get(&e.version)))
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

    /// The interrupted migrations `up` resumes: file index, first statement, an INVALID
    /// index to drop first.
    pub fn resumable<'v>(
        &self,
        verdicts: &'v HashMap<u64, Verdict>,
    ) -> Vec<(usize, usize, Option<&'v QName>)> {
        self.entries
            .iter()
            .filter(|e| e.state == State::Running)
            .filter_map(|e| match (verdicts.get(&e.version), e.file) {
                (Some(Verdict::Resume { from, drop_index }), Some(file)) => {
                    Some((file, *from, drop_index.as_ref()))
                }
                _ => None,
            })
            .collect()
    }

    fn problem(
        &self,
        entry: &Entry,
        files: &[SourceFile],
        rows: &[HistoryRow],
        verdict: Option<&Verdict>,
    ) -> Problem {
        let row = entry.row.map(|i| &rows[i]);
        let file = entry.file.map(|i| &files[i]);
        let progress = row.map_or((0, 0), |r| (r.statements_applied, r.statements_total));
        let mut diff = None;
        let kind = match entry.state {
            State::Missing if row.is_some_and(|r| r.version < 0) => ProblemKind::InvalidVersion {
                version: row.map_or(0, |r| r.version),
            },
            State::Missing => ProblemKind::Missing,
            State::Modified => {
                let (row, file) = (row.expect("row"), file.expect("file"));
                let now = checksum(&file.text);
                if checksum(&row.sql) == now {
                    ProblemKind::ChecksumEdited {
                        file: file.display.clone(),
                        recorded: row.checksum.clone(),
                        now,
                    }
                } else {
                    diff = Some(super::diff(&row.sql, &file.text, &file.display, "applied"));
                    ProblemKind::Modified {
                        file: file.display.clone(),
                        applied: row.checksum.clone(),
                        now,
                    }
                }
            }
            State::Failed => ProblemKind::Failed {
                progress,
                error: row.and_then(|r| r.error.clone()),
            },
            State::Running => {
                let total = progress.1;
                match verdict {
                    Some(Verdict::StillRunning {
                        session,
                        statement,
                        line,
                    }) => ProblemKind::StillRunning {
                        session: session.clone(),
                        statement: *statement,
                        total,
                        line: *line,
                    },
                    Some(Verdict::Uncertain { statement, line }) => ProblemKind::Uncertain {
                        statement: *statement,
                        total,
                        line: *line,
                    },
                    Some(Verdict::Inconsistent) => ProblemKind::Inconsistent { progress },
                    Some(Verdict::Changed) => ProblemKind::ChangedWhileRunning {
                        file: file.map(|f| f.display.clone()).unwrap_or_default(),
                    },
                    _ => ProblemKind::Running { progress },
                }
            }
            State::OutOfOrder | State::Applied | State::Pending => {
                // The last migration after this one in apply order whose row is applied (a
                // file that is gone included; repeatables never make one out of order).
                // A contract migration: the last contract migration after it.
                let at = self.entries.iter().position(|e| std::ptr::eq(e, entry));
                let contract = entry
                    .file
                    .is_some_and(|f| files[f].phase() == crate::source::directive::Phase::Contract);
                let newest = self
                    .entries
                    .iter()
                    .skip(at.map_or(0, |a| a + 1))
                    .rfind(|e| {
                        e.file.is_none_or(|f| !files[f].repeatable)
                            && e.row.is_some_and(|r| {
                                rows[r].state == super::RowState::Applied
                                    && (!contract || rows[r].phase == "contract")
                            })
                    });
                ProblemKind::OutOfOrder {
                    newest: newest.map_or(0, |e| e.version),
                    newest_description: newest.map(|e| e.description.clone()).unwrap_or_default(),
                }
            }
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
