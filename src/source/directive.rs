//! `-- migrate:...` comment directives: `migrate:allow <rule>[, <rule>]: <reason>` above a
//! statement; `migrate:no-transaction`, `migrate:contract` and `migrate:backfill` among a
//! file's leading comment lines.

/// The deploy phase a migration belongs to: when `up` runs it and what `check` judges it
/// against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Phase {
    /// Before the rollout, while the previous release serves traffic: only changes the old
    /// app survives (the default).
    #[default]
    Expand,
    /// Data changes in bounded batches, each its own short transaction, while both releases
    /// run (`-- migrate:backfill`).
    Backfill,
    /// After the rollout (`up --phase contract`): drops, renames and tightenings of what only
    /// the previous release used (`-- migrate:contract`).
    Contract,
}

impl Phase {
    /// The name in history rows, `--phase`, JSON and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Expand => "expand",
            Phase::Backfill => "backfill",
            Phase::Contract => "contract",
        }
    }

    /// The phase a history row's `phase` records (`baseline` and unknown words: expand).
    pub fn from_history(word: &str) -> Phase {
        match word {
            "backfill" => Phase::Backfill,
            "contract" => Phase::Contract,
            _ => Phase::Expand,
        }
    }
}

/// A file's leading comment lines: from the top, while each line is blank or a `--` comment.
pub fn leading_comments(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .take_while(|l| l.is_empty() || l.starts_with("--"))
        .filter_map(|l| l.strip_prefix("--"))
}

/// The phase a file's leading comment lines declare (the first `migrate:contract` or
/// `migrate:backfill`; expand without one).
pub fn phase_of(text: &str) -> Phase {
    leading_comments(text)
        .find_map(|c| match parse(c) {
            Some(Directive::Phase(phase)) => Some(phase),
            _ => None,
        })
        .unwrap_or_default()
}

/// A parsed `-- migrate:` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Directive {
    /// Suppresses the named rules on the statement directly below.
    Allow {
        /// Rule names (or codes) as written.
        rules: Vec<String>,
        /// The mandatory justification; `None` when missing or empty.
        reason: Option<String>,
    },
    /// Run this file outside a transaction, statement by statement.
    NoTransaction,
    /// The file belongs to a deploy phase other than expand.
    Phase(Phase),
    /// `-- migrate:<word> ...` for a directive that takes nothing after its word.
    Arguments {
        /// The directive word.
        word: String,
    },
    /// `-- migrate:<word>` with a word we do not know (likely a typo).
    Unknown {
        /// The directive word.
        word: String,
    },
}

/// A comment that looks meant as a directive but is not one (`Migrate:Backfill`,
/// `migrate backfill`, `MIGRATE:CONTRACT`): the directive it was likely meant as.
pub fn near_miss(comment: &str) -> Option<String> {
    let text = comment.trim();
    if text.len() < 8 || !text[..7].eq_ignore_ascii_case("migrate") {
        return None;
    }
    let rest = text[7..].trim_start_matches([':', ' ', '-', '_']);
    let word_end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(rest.len());
    let word = rest[..word_end].to_ascii_lowercase();
    let known = ["allow", "no-transaction", "contract", "backfill"];
    let meant = known.iter().find(|k| **k == word)?;
    let exact = format!("migrate:{meant}");
    (!text.starts_with(&exact)).then(|| format!("{exact}{}", &rest[word_end..]))
}

/// Parses the text of a `--` comment (without the `--`); `None` when it is not a directive.
pub fn parse(comment: &str) -> Option<Directive> {
    let rest = comment.trim_start().strip_prefix("migrate:")?;
    let word_end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(rest.len());
    let (word, args) = rest.split_at(word_end);
    match word {
        "allow" => {
            let (list, reason) = match args.split_once(':') {
                Some((list, reason)) => (list, Some(reason.trim())),
                None => (args, None),
            };
            let rules = list
                .split(',')
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .collect();
            Some(Directive::Allow {
                rules,
                reason: reason.filter(|r| !r.is_empty()).map(str::to_string),
            })
        }
        "no-transaction" if args.trim().is_empty() => Some(Directive::NoTransaction),
        "contract" if args.trim().is_empty() => Some(Directive::Phase(Phase::Contract)),
        "backfill" if args.trim().is_empty() => Some(Directive::Phase(Phase::Backfill)),
        "no-transaction" | "contract" | "backfill" => Some(Directive::Arguments {
            word: word.to_string(),
        }),
        // dbmate's section markers, not directives: a file with `migrate:down` (or
        // `migrate:up transaction:false`) is refused when it is read (source::foreign), and a
        // lone `migrate:up` heads a file that is all Up section.
        "up" | "down" => None,
        _ => Some(Directive::Unknown {
            word: word.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_allow_with_reason() {
        assert_eq!(
            parse(" migrate:allow drop-column, rename-table: column unused since v2.3"),
            Some(Directive::Allow {
                rules: vec!["drop-column".into(), "rename-table".into()],
                reason: Some("column unused since v2.3".into())
            })
        );
    }

    #[test]
    fn allow_without_reason_has_none() {
        for text in [
            " migrate:allow drop-column",
            " migrate:allow drop-column:   ",
        ] {
            assert_eq!(
                parse(text),
                Some(Directive::Allow {
                    rules: vec!["drop-column".into()],
                    reason: None
                })
            );
        }
    }

    #[test]
    fn phase_comes_from_leading_comments_only() {
        assert_eq!(
            phase_of("-- migrate:contract\nALTER TABLE t DROP COLUMN c;"),
            Phase::Contract
        );
        assert_eq!(
            phase_of("-- owner: billing\n\n-- migrate:backfill\nUPDATE t SET a = 1;"),
            Phase::Backfill
        );
        assert_eq!(phase_of("SELECT 1;\n-- migrate:contract\n"), Phase::Expand);
        assert_eq!(phase_of("-- migrate:contract please\n"), Phase::Expand);
        assert_eq!(phase_of(""), Phase::Expand);
    }

    #[test]
    fn near_misses_name_the_directive_meant() {
        for (comment, meant) in [
            (" Migrate:Backfill", "migrate:backfill"),
            (" MIGRATE:CONTRACT", "migrate:contract"),
            (" migrate backfill", "migrate:backfill"),
            (" migrate-contract", "migrate:contract"),
            (" migrate :no-transaction", "migrate:no-transaction"),
        ] {
            assert_eq!(near_miss(comment).as_deref(), Some(meant), "{comment}");
        }
        for plain in [
            " migrate the data first",
            " migrate:backfill",
            " migrations below",
            " migrate",
        ] {
            assert_eq!(near_miss(plain), None, "{plain}");
        }
    }

    #[test]
    fn other_comments_are_not_directives() {
        assert_eq!(parse(" just a comment"), None);
        assert_eq!(
            parse(" migrate:no-transaction"),
            Some(Directive::NoTransaction)
        );
        assert_eq!(
            parse(" migrate:alow x: y"),
            Some(Directive::Unknown {
                word: "alow".into()
            })
        );
    }
}
