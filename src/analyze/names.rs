//! Identifier folding, qualified names, type and expression facts shared by both front ends.
//!
//! PostgreSQL folds unquoted identifiers to lower case and keeps quoted ones; MySQL and SQLite
//! compare table and column names case-insensitively in practice, so both are lower-cased.

use crate::analyze::ir::{ExprInfo, QName, SqlType};
use crate::dialect::Dialect;

/// Folds one identifier the way the dialect compares it (PostgreSQL: ASCII letters only, as
/// in a UTF-8 database). PostgreSQL also cuts a name to
/// [`PG_NAME_BYTES`] (it says so in a NOTICE and keeps the cut name: tests/truth.rs).
pub fn fold(value: &str, quoted: bool, dialect: Dialect) -> String {
    if dialect == Dialect::Postgres {
        // PostgreSQL lowercases A-Z only in a UTF-8 database (`Ärger` stays `Ärger`).
        let mut folded = if quoted {
            value.to_string()
        } else {
            value.to_ascii_lowercase()
        };
        if folded.len() > PG_NAME_BYTES {
            let end = clip(&folded, PG_NAME_BYTES).len();
            folded.truncate(end);
        }
        folded
    } else {
        value.to_lowercase()
    }
}

/// The longest name PostgreSQL keeps, in bytes (`NAMEDATALEN - 1`).
pub const PG_NAME_BYTES: usize = 63;

/// `text` cut to at most `bytes` bytes, at a character boundary.
pub fn clip(text: &str, bytes: usize) -> &str {
    if text.len() <= bytes {
        return text;
    }
    let mut end = bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Builds a qualified name from folded parts (`[catalog.]schema.name`), dropping the dialect's
/// default schema so `public.users` and `users` are one table.
pub fn qname(parts: &[String], dialect: Dialect) -> QName {
    let name = parts.last().cloned().unwrap_or_default();
    let schema = if parts.len() >= 2 {
        Some(parts[parts.len() - 2].clone())
    } else {
        None
    };
    let default = match dialect {
        Dialect::Postgres => "public",
        Dialect::Sqlite => "main",
        Dialect::Mysql => "",
    };
    QName {
        schema: schema.filter(|s| s != default),
        name,
    }
}

/// Canonicalises a type written as text (`CHARACTER VARYING(255)`, `int4`, `TIMESTAMP(3) WITH
/// TIME ZONE`, `INT(11) UNSIGNED`, `text[]`) so old and new definitions compare.
pub fn sql_type(text: &str, dialect: Dialect) -> SqlType {
    let written = text.trim();
    let mut rest = written;
    let mut array = false;
    while let Some(stripped) = rest.strip_suffix("[]") {
        array = true;
        rest = stripped.trim_end();
    }
    let (base, args, after) = match rest.find('(') {
        Some(open) => {
            let close = rest[open..].find(')').map_or(rest.len(), |c| open + c);
            let args = rest[open + 1..close]
                .split(',')
                .filter_map(|a| a.trim().parse::<u64>().ok())
                .collect();
            (&rest[..open], args, rest.get(close + 1..).unwrap_or(""))
        }
        None => (rest, Vec::new(), ""),
    };
    let mut name = format!("{base} {after}")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    if name.starts_with('"') || name.starts_with('`') {
        name = name.replace(['"', '`'], "");
    }
    let mut ty = SqlType {
        name: canonical_type_name(&name, dialect).to_string(),
        args,
        array,
        enum_values: None,
        charset: None,
        text: written.to_string(),
    };
    let integer = matches!(
        ty.name.split(' ').next().unwrap_or(""),
        "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint"
    );
    if dialect == Dialect::Mysql && integer {
        // `INT(11)` is a display width, not a size: `INT(11)` and `INT` are one type.
        ty.args.clear();
    }
    ty
}

/// Whether a type name is a PostgreSQL `serial` pseudo-type.
pub fn is_serial_type(name: &str) -> bool {
    matches!(
        name,
        "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2"
    )
}

fn canonical_type_name(name: &str, dialect: Dialect) -> &str {
    match dialect {
        Dialect::Postgres => match name {
            "int" | "int4" | "integer" | "serial" | "serial4" => "integer",
            "int8" | "bigint" | "bigserial" | "serial8" => "bigint",
            "int2" | "smallint" | "smallserial" | "serial2" => "smallint",
            "varchar" | "character varying" => "varchar",
            "char" | "character" | "bpchar" => "char",
            "bool" | "boolean" => "boolean",
            "float8" | "double precision" | "double" | "float" => "double precision",
            "float4" | "real" => "real",
            "decimal" | "numeric" => "numeric",
            "timestamp" | "timestamp without time zone" => "timestamp",
            "timestamptz" | "timestamp with time zone" => "timestamptz",
            "time" | "time without time zone" => "time",
            "timetz" | "time with time zone" => "timetz",
            "varbit" | "bit varying" => "varbit",
            other => other,
        },
        Dialect::Mysql => match name {
            "integer" => "int",
            "integer unsigned" => "int unsigned",
            "bool" | "boolean" => "tinyint",
            "numeric" | "dec" | "fixed" => "decimal",
            "double precision" | "real" => "double",
            "character varying" => "varchar",
            "character" => "char",
            other => other,
        },
        Dialect::Sqlite => match name {
            "int" => "integer",
            other => other,
        },
    }
}

/// The identifier-like words of an expression, lowercased, outside string literals (quoted
/// identifiers keep their case): a superset of the columns it reads.
pub fn expr_words(text: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\'' {
            i += 1;
            while i < b.len() && b[i] != b'\'' {
                i += 1;
            }
            i += 1;
        } else if c == b'"' || c == b'`' {
            let start = i + 1;
            i += 1;
            while i < b.len() && b[i] != c {
                i += 1;
            }
            words.push(text[start..i.min(b.len())].to_string());
            i += 1;
        } else if c.is_ascii_alphabetic() || c == b'_' || !c.is_ascii() {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || !b[i].is_ascii())
            {
                i += 1;
            }
            words.push(text[start..i].to_lowercase());
        } else {
            i += 1;
        }
    }
    words.sort();
    words.dedup();
    words
}

/// Facts about an expression from its text: the functions it calls, whether it is `NULL`.
pub fn expr_info(text: &str) -> ExprInfo {
    let mut functions = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\'' || c == b'"' || c == b'`' {
            i += 1;
            while i < b.len() && b[i] != c {
                i += 1;
            }
            i += 1;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'.') {
                i += 1;
            }
            let mut j = i;
            while j < b.len() && b[j] == b' ' {
                j += 1;
            }
            if b.get(j) == Some(&b'(') {
                let word = &text[start..i];
                let name = word.rsplit('.').next().unwrap_or(word);
                functions.push(name.to_ascii_lowercase());
            }
        } else {
            i += 1;
        }
    }
    ExprInfo {
        is_null: text.trim().eq_ignore_ascii_case("null"),
        text: text.to_string(),
        functions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_types() {
        let t = sql_type("CHARACTER VARYING(255)", Dialect::Postgres);
        assert_eq!(
            (t.name.as_str(), t.args.as_slice()),
            ("varchar", &[255][..])
        );
        let t = sql_type("TIMESTAMP(3) WITH TIME ZONE", Dialect::Postgres);
        assert_eq!(
            (t.name.as_str(), t.args.as_slice()),
            ("timestamptz", &[3][..])
        );
        let t = sql_type("INT(11) UNSIGNED", Dialect::Mysql);
        assert_eq!((t.name.as_str(), t.args.len()), ("int unsigned", 0));
        let t = sql_type("text[]", Dialect::Postgres);
        assert!(t.array && t.name == "text");
        assert_eq!(sql_type("int4", Dialect::Postgres).name, "integer");
        assert_eq!(sql_type("NUMERIC(10,2)", Dialect::Postgres).args, [10, 2]);
    }

    #[test]
    fn qualified_names_drop_default_schema() {
        let parts = ["public".to_string(), "users".to_string()];
        assert_eq!(qname(&parts, Dialect::Postgres), QName::new("users"));
        let parts = ["auth".to_string(), "users".to_string()];
        assert_eq!(
            qname(&parts, Dialect::Postgres).to_string(),
            "auth.users".to_string()
        );
    }

    #[test]
    fn expression_functions() {
        let info = expr_info("gen_random_uuid()");
        assert_eq!(info.functions, ["gen_random_uuid"]);
        let info = expr_info("nextval('a(b)'::regclass) + pg_catalog.now ()");
        assert_eq!(info.functions, ["nextval", "now"]);
        assert!(expr_info("NULL").is_null);
    }
}
