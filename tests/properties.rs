//! Properties checked on generated input (proptest): the statement splitter never splits
//! inside strings, comments, quoted identifiers or dollar quotes; checksum normalisation is
//! idempotent and independent of line endings and a BOM.

use migrate::analyze::split::split;
use migrate::dialect::Dialect;
use migrate::source::{checksum, normalise, normalise_str};
use proptest::prelude::*;

/// Text that may hold anything a lexer must skip over: `;`, quotes, comment markers.
fn hostile() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            Just(";".to_string()),
            Just("--".to_string()),
            Just("/*".to_string()),
            Just("*/".to_string()),
            Just("$$".to_string()),
            Just("\"".to_string()),
            Just("'".to_string()),
            Just("`".to_string()),
            Just("\n".to_string()),
            Just("BEGIN".to_string()),
            Just("END".to_string()),
            "[a-z ]{1,6}",
        ],
        0..8,
    )
    .prop_map(|parts| parts.concat())
}

/// One SQL token that hides `inner` from the splitter, for `dialect`.
fn shielded(inner: String, kind: u8, dialect: Dialect) -> String {
    match (kind % 5, dialect) {
        (0, _) => format!("'{}'", inner.replace('\'', "''").replace('\\', "")),
        (1, Dialect::Mysql) => format!("`{}`", inner.replace('`', "``")),
        (1, _) => format!("\"{}\"", inner.replace('"', "\"\"")),
        (2, _) => format!("/* {} */", inner.replace("*/", "* /").replace("/*", "/ *")),
        (3, _) => format!("-- {}\n", inner.replace('\n', " ")),
        (_, Dialect::Postgres) => format!("$tag${}$tag$", inner.replace("$tag$", "")),
        (_, _) => format!("'{}'", inner.replace('\'', "''").replace('\\', "")),
    }
}

fn statement(dialect: Dialect) -> impl Strategy<Value = String> {
    prop::collection::vec((hostile(), any::<u8>()), 1..5).prop_map(move |tokens| {
        let body: Vec<String> = tokens
            .into_iter()
            .map(|(inner, kind)| shielded(inner, kind, dialect))
            .collect();
        format!("SELECT {}", body.join(" , "))
    })
}

fn dialect() -> impl Strategy<Value = Dialect> {
    prop_oneof![
        Just(Dialect::Postgres),
        Just(Dialect::Mysql),
        Just(Dialect::Sqlite)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn splitter_never_splits_inside_strings_comments_identifiers_or_dollar_quotes(
        (dialect, statements) in dialect().prop_flat_map(|d| (Just(d), prop::collection::vec(statement(d), 1..6)))
    ) {
        let text: String = statements.iter().map(|s| format!("{s};\n")).collect();
        let pieces = split(&text, dialect).pieces;
        let found: Vec<&str> = pieces.iter().map(|p| &text[p.start..p.end]).collect();
        let expected: Vec<String> = statements.iter().map(|s| format!("{s};")).collect();
        prop_assert_eq!(found, expected);
    }

    #[test]
    fn normalisation_is_idempotent_and_line_ending_independent(lines in prop::collection::vec("[^\r\n]{0,20}", 0..10)) {
        let lf = lines.join("\n");
        let crlf = lines.join("\r\n");
        let cr = lines.join("\r");
        let once = normalise_str(&lf);
        prop_assert_eq!(normalise_str(&once), once.clone());
        prop_assert_eq!(normalise(crlf.clone().into_bytes()).unwrap(), once.clone());
        prop_assert_eq!(normalise(format!("\u{feff}{cr}").into_bytes()).unwrap(), once.clone());
        prop_assert_eq!(checksum(&normalise_str(&crlf)), checksum(&once));
    }

    #[test]
    fn checksums_see_every_other_change(a in "[ -~]{0,40}", b in "[ -~]{0,40}") {
        prop_assume!(a != b);
        prop_assert_ne!(checksum(&normalise_str(&a)), checksum(&normalise_str(&b)));
    }
}
