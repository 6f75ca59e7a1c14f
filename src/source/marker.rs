//! The one parser of other tools' marker comments (goose's `-- +goose ...`, sql-migrate's
//! `-- +migrate ...`, dbmate's `-- migrate:up|down ...`). What a marker means is decided by
//! its readers: refused in `migrate`'s layout ([`super::foreign`]), obeyed in the tool's own
//! ([`super::layout`]), a statement block for the splitter (`analyze::split`).

use super::layout::Layout;

/// What a marker says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The Up section starts.
    Up {
        /// It runs outside a transaction (sql-migrate's `notransaction`, dbmate's
        /// `transaction:false`).
        no_transaction: bool,
        /// goose or sql-migrate words after `Up` that are not an option of the tool.
        extra: bool,
    },
    /// The Down section starts.
    Down,
    /// goose's `NO TRANSACTION` (also read from sql-migrate's prefix, which has no such
    /// marker: its layout refuses it).
    NoTransaction,
    /// `StatementBegin` / `StatementEnd`.
    Block {
        /// `StatementBegin`.
        begin: bool,
        /// Words after it.
        extra: bool,
    },
    /// Any other word after the tool's prefix (goose's `ENVSUB`, a typo).
    Other,
}

/// A marker and the tool it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    /// goose, sql-migrate or dbmate.
    pub tool: Layout,
    /// What it says.
    pub kind: Kind,
}

/// Parses the body of a `--` comment (the text after `--`); `None` when it is no tool's
/// marker. Case does not matter; words are separated by whitespace.
pub fn parse(body: &str) -> Option<Marker> {
    let body = body.trim();
    // Most comments are prose: only `+goose`, `+migrate` and `migrate:` can be markers.
    let head = body.as_bytes();
    let marker_like = head.first() == Some(&b'+')
        || head
            .get(..8)
            .is_some_and(|h| h.eq_ignore_ascii_case(b"migrate:"));
    if !marker_like {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let (first, rest) = words.split_first()?;
    let tool = match *first {
        "+goose" => Layout::Goose,
        "+migrate" => Layout::SqlMigrate,
        // dbmate shares the `migrate:` prefix with `migrate`'s own directives: only its
        // section words are its markers; its options are `key:value` words.
        "migrate:up" => {
            return Some(Marker {
                tool: Layout::Dbmate,
                kind: Kind::Up {
                    // As dbmate compares it: exactly `false` (`transaction:FALSE` is true).
                    no_transaction: body.split_whitespace().any(|w| w == "transaction:false"),
                    extra: false,
                },
            });
        }
        "migrate:down" => {
            return Some(Marker {
                tool: Layout::Dbmate,
                kind: Kind::Down,
            });
        }
        _ => return None,
    };
    let kind = match rest {
        ["up", more @ ..] => {
            let no_transaction =
                tool == Layout::SqlMigrate && more.first() == Some(&"notransaction");
            Kind::Up {
                no_transaction,
                extra: more.len() > usize::from(no_transaction),
            }
        }
        ["down", ..] => Kind::Down,
        ["no", "transaction", ..] => Kind::NoTransaction,
        [word @ ("statementbegin" | "statementend"), more @ ..] => Kind::Block {
            begin: *word == "statementbegin",
            extra: !more.is_empty(),
        },
        _ => Kind::Other,
    };
    Some(Marker { tool, kind })
}

#[cfg(test)]
mod tests {
    #[test]
    fn dbmate_transaction_option_is_exactly_false() {
        let up = |body| match parse(body).map(|m| m.kind) {
            Some(Kind::Up { no_transaction, .. }) => no_transaction,
            other => panic!("{other:?}"),
        };
        assert!(up(" migrate:up transaction:false"));
        assert!(!up(" migrate:up transaction:FALSE"));
    }

    use super::*;

    fn kind(body: &str) -> Option<(Layout, Kind)> {
        parse(body).map(|m| (m.tool, m.kind))
    }

    #[test]
    fn each_tools_markers() {
        let up = |no_transaction, extra| Kind::Up {
            no_transaction,
            extra,
        };
        assert_eq!(kind(" +goose Up"), Some((Layout::Goose, up(false, false))));
        assert_eq!(
            kind(" +GOOSE   up -- first"),
            Some((Layout::Goose, up(false, true)))
        );
        assert_eq!(
            kind(" +migrate Up notransaction"),
            Some((Layout::SqlMigrate, up(true, false)))
        );
        assert_eq!(
            kind(" +goose Up notransaction"),
            Some((Layout::Goose, up(false, true)))
        );
        assert_eq!(
            kind(" migrate:up transaction:false"),
            Some((Layout::Dbmate, up(true, false)))
        );
        assert_eq!(kind(" migrate:down"), Some((Layout::Dbmate, Kind::Down)));
        assert_eq!(
            kind(" +goose NO TRANSACTION"),
            Some((Layout::Goose, Kind::NoTransaction))
        );
        assert_eq!(
            kind(" +migrate StatementEnd"),
            Some((
                Layout::SqlMigrate,
                Kind::Block {
                    begin: false,
                    extra: false
                }
            ))
        );
        assert_eq!(
            kind(" +goose ENVSUB ON"),
            Some((Layout::Goose, Kind::Other))
        );
    }

    #[test]
    fn prose_and_directives_are_not_markers() {
        for body in [
            " migrate:no-transaction",
            " migrate:allow drop-table: unused",
            " goose down the hill",
            " +1 to this",
            "",
        ] {
            assert!(parse(body).is_none_or(|m| m.kind == Kind::Other), "{body}");
        }
        assert_eq!(parse(" migrate:no-transaction"), None);
    }
}
