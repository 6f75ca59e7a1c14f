//! `-- migrate:...` comment directives: `migrate:allow <rule>[, <rule>]: <reason>` above a
//! statement, and `migrate:no-transaction` on a file's first line.

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
    /// `-- migrate:<word>` with a word we do not know (likely a typo).
    Unknown {
        /// The directive word.
        word: String,
    },
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
