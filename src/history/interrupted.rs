//! Interrupted migrations: a `running` row left by a deployer that stopped while applying a
//! migration statement by statement. From what the engine observed (is that deployer's
//! session still alive? did the statement that was in flight take effect?) this decides
//! whether `up` can resume it, and where, or must refuse and why.

use crate::analyze::ir::QName;
use crate::history::{HistoryRow, RowState};
use crate::source::{SourceFile, checksum};

/// What the engine found out about the statement a `running` row says was in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InFlight {
    /// No statement was in flight: the recorded progress is exact.
    None,
    /// The catalog shows it completed.
    Completed,
    /// The catalog shows it did not take effect (or running it again is harmless).
    NotDone,
    /// It is a `CREATE INDEX CONCURRENTLY` that left this index INVALID.
    InvalidIndex(QName),
    /// Its effect cannot be read from the catalog.
    Unknown,
}

/// What the engine observed about one interrupted migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    /// Whether the session that wrote the row is still alive (`None`: cannot tell).
    pub session_alive: Option<bool>,
    /// The statement in flight, when there was one, and what became of it.
    pub in_flight: InFlight,
    /// 1-based line of the statement in flight (or of the next one), for messages.
    pub line: Option<usize>,
}

/// What to do with an interrupted migration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Resume it at statement `from` (0-based), after dropping `drop_index` (an INVALID
    /// index the interrupted `CREATE INDEX CONCURRENTLY` left) when there is one.
    Resume {
        /// First statement to run.
        from: usize,
        /// An INVALID index to drop first.
        drop_index: Option<QName>,
    },
    /// Its session is still running statement `statement` (0-based).
    StillRunning {
        /// The session.
        session: String,
        /// The statement it runs.
        statement: usize,
        /// Its line.
        line: Option<usize>,
    },
    /// Statement `statement` (0-based) may or may not have completed, and the catalog
    /// cannot tell.
    Uncertain {
        /// The statement.
        statement: usize,
        /// Its line.
        line: Option<usize>,
    },
    /// The file changed since the migration was started.
    Changed,
    /// The row's progress cannot be right (edited by hand?).
    Inconsistent,
}

/// The statement of `row` that may have been in flight when its deployer stopped: the one
/// the row names, or for rows written before `in_flight` existed (no session recorded) the
/// one after the recorded progress.
pub fn in_flight_statement(row: &HistoryRow) -> Option<usize> {
    if row.state != RowState::Running {
        return None;
    }
    match (row.in_flight, &row.session) {
        (Some(i), _) => usize::try_from(i).ok(),
        (None, None) if row.statements_applied < row.statements_total => {
            usize::try_from(row.statements_applied).ok()
        }
        (None, _) => None,
    }
}

/// Decides what to do with the interrupted migration `row` (whose file is `file`).
pub fn verdict(row: &HistoryRow, file: &SourceFile, observation: &Observation) -> Verdict {
    if checksum(&file.text) != row.checksum {
        return Verdict::Changed;
    }
    let total = row.statements_total;
    let consistent = (0..=total).contains(&row.statements_applied)
        && row
            .in_flight
            .is_none_or(|i| i >= row.statements_applied && i < total);
    if !consistent {
        return Verdict::Inconsistent;
    }
    let applied = usize::try_from(row.statements_applied).unwrap_or(0);
    let in_flight = in_flight_statement(row);
    if observation.session_alive == Some(true) {
        return Verdict::StillRunning {
            session: row.session.clone().unwrap_or_default(),
            statement: in_flight.unwrap_or(applied),
            line: observation.line,
        };
    }
    let Some(statement) = in_flight else {
        return Verdict::Resume {
            from: applied,
            drop_index: None,
        };
    };
    match &observation.in_flight {
        InFlight::None | InFlight::NotDone => Verdict::Resume {
            from: statement,
            drop_index: None,
        },
        InFlight::Completed => Verdict::Resume {
            from: statement + 1,
            drop_index: None,
        },
        InFlight::InvalidIndex(index) => Verdict::Resume {
            from: statement,
            drop_index: Some(index.clone()),
        },
        InFlight::Unknown => Verdict::Uncertain {
            statement,
            line: observation.line,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(applied: i64, in_flight: Option<i64>, session: Option<&str>) -> HistoryRow {
        HistoryRow {
            version: 2,
            description: "m".into(),
            phase: "expand".into(),
            checksum: checksum("a;\nb;\nc;\n"),
            sql: "a;\nb;\nc;\n".into(),
            state: RowState::Running,
            statements_applied: applied,
            statements_total: 3,
            applied_at: None,
            execution_ms: None,
            error: None,
            failed_statement: None,
            session: session.map(String::from),
            in_flight,
            progress: None,
        }
    }

    fn file(text: &str) -> SourceFile {
        SourceFile {
            path: "2_m.sql".into(),
            display: "2_m.sql".into(),
            version: Some(2),
            description: "m".into(),
            text: text.into(),
            ..Default::default()
        }
    }

    fn seen(in_flight: InFlight) -> Observation {
        Observation {
            session_alive: Some(false),
            in_flight,
            line: None,
        }
    }

    #[test]
    fn exact_progress_resumes_after_it() {
        let r = row(1, None, Some("7"));
        assert_eq!(in_flight_statement(&r), None);
        assert_eq!(
            verdict(&r, &file("a;\nb;\nc;\n"), &seen(InFlight::None)),
            Verdict::Resume {
                from: 1,
                drop_index: None
            }
        );
    }

    #[test]
    fn a_statement_in_flight_resumes_by_what_the_catalog_says() {
        let r = row(1, Some(1), Some("7"));
        let f = file("a;\nb;\nc;\n");
        assert_eq!(
            verdict(&r, &f, &seen(InFlight::Completed)),
            Verdict::Resume {
                from: 2,
                drop_index: None
            }
        );
        assert_eq!(
            verdict(&r, &f, &seen(InFlight::NotDone)),
            Verdict::Resume {
                from: 1,
                drop_index: None
            }
        );
        let index = QName::new("users_email");
        assert_eq!(
            verdict(&r, &f, &seen(InFlight::InvalidIndex(index.clone()))),
            Verdict::Resume {
                from: 1,
                drop_index: Some(index)
            }
        );
        assert_eq!(
            verdict(&r, &f, &seen(InFlight::Unknown)),
            Verdict::Uncertain {
                statement: 1,
                line: None
            }
        );
    }

    #[test]
    fn a_live_session_an_edited_file_and_legacy_rows() {
        let r = row(1, Some(1), Some("7"));
        let alive = Observation {
            session_alive: Some(true),
            in_flight: InFlight::Unknown,
            line: None,
        };
        assert_eq!(
            verdict(&r, &file("a;\nb;\nc;\n"), &alive),
            Verdict::StillRunning {
                session: "7".into(),
                statement: 1,
                line: None
            }
        );
        assert_eq!(
            verdict(&r, &file("a;\nB;\nc;\n"), &seen(InFlight::None)),
            Verdict::Changed
        );
        // Before `in_flight` existed, progress was recorded after each statement: the next
        // one may have run.
        assert_eq!(in_flight_statement(&row(1, None, None)), Some(1));
        // Progress no run can leave.
        for (applied, in_flight) in [(4, None), (-1, None), (1, Some(3)), (2, Some(1))] {
            assert_eq!(
                verdict(
                    &row(applied, in_flight, Some("7")),
                    &file("a;\nb;\nc;\n"),
                    &seen(InFlight::None)
                ),
                Verdict::Inconsistent,
                "{applied} {in_flight:?}"
            );
        }
    }
}
