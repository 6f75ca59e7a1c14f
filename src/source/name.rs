//! Migration file names: `<version>_<description>.sql`, `<version>_<description>.up.sql`,
//! and `.down.sql` rollbacks, which a forward-only tool ignores; and each other layout's names
//! ([`classify`]), which all come down to an integer version: the history's key.

use super::layout::Layout;

/// What a file name in the migration directory means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileName {
    /// A forward migration.
    Up {
        /// The numeric version (ordering key).
        version: u64,
        /// The description part, as written (underscores kept).
        description: String,
    },
    /// A rollback file; ignored with an info diagnostic.
    Down {
        /// The numeric version.
        version: u64,
    },
    /// A `.sql` file that does not follow the naming scheme.
    Invalid {
        /// Why it does not follow the scheme.
        reason: String,
    },
    /// Not a `.sql` file: not a migration at all (README, `migrate.sum`, ...).
    NotSql,
}

/// Classifies a file name (not a path).
pub fn parse(file_name: &str) -> FileName {
    let lower = file_name.to_ascii_lowercase();
    if !lower.ends_with(".sql") {
        return FileName::NotSql;
    }
    let (stem, down) = if lower.ends_with(".down.sql") {
        (&file_name[..file_name.len() - ".down.sql".len()], true)
    } else if lower.ends_with(".up.sql") {
        (&file_name[..file_name.len() - ".up.sql".len()], false)
    } else {
        (&file_name[..file_name.len() - ".sql".len()], false)
    };
    let Some((version, description)) = stem.split_once('_') else {
        return invalid("expected `<version>_<description>.sql`");
    };
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return invalid("the version before the first `_` must be an unsigned integer");
    }
    let Ok(version) = version.parse::<u64>() else {
        return invalid("the version does not fit in 64 bits");
    };
    if description.is_empty() {
        return invalid("the description after the version is empty");
    }
    if down {
        FileName::Down { version }
    } else {
        FileName::Up {
            version,
            description: description.to_string(),
        }
    }
}

/// Classifies `rel`, a path relative to the migration directory with `/` separators (one
/// level deep for the folder layouts), in `layout` (not `auto`).
pub fn classify(layout: Layout, rel: &str) -> FileName {
    if layout == Layout::Flyway {
        // Flyway reads its locations' subfolders too, by the file's own name.
        let file = last(rel);
        if !file.to_ascii_lowercase().ends_with(".sql") {
            return FileName::NotSql;
        }
        return flyway(file);
    }
    let (folder, file) = match rel.split_once('/') {
        Some((folder, file)) if !file.contains('/') => (Some(folder), file),
        Some(_) => return FileName::NotSql,
        None => (None, rel),
    };
    let lower = file.to_ascii_lowercase();
    if !lower.ends_with(".sql") {
        return FileName::NotSql;
    }
    match (layout, folder) {
        (Layout::Diesel | Layout::Prisma, None) => invalid(if layout == Layout::Diesel {
            "a diesel migration is a folder `<version>_<name>/` holding `up.sql`"
        } else {
            "a Prisma migration is a folder `<timestamp>_<name>/` holding `migration.sql`"
        }),
        (Layout::Diesel, Some(folder)) => match lower.as_str() {
            "up.sql" => folder_name(folder, true),
            "down.sql" => match folder_name(folder, true) {
                FileName::Up { version, .. } => FileName::Down { version },
                other => other,
            },
            _ => FileName::NotSql,
        },
        (Layout::Prisma, Some(folder)) if lower == "migration.sql" => folder_name(folder, false),
        (_, Some(_)) => FileName::NotSql,
        (Layout::GolangMigrate, None)
            if !lower.ends_with(".up.sql") && !lower.ends_with(".down.sql") =>
        {
            invalid("a golang-migrate file ends in `.up.sql` (or `.down.sql`)")
        }
        (Layout::SqlMigrate, None) if lower.ends_with(".down.sql") => invalid(
            "sql-migrate would run a `.down.sql` file as a migration: its rollbacks go below `-- +migrate Down`",
        ),
        (Layout::SqlMigrate, None) => sql_migrate(file),
        _ => parse(file),
    }
}

/// Where `rel` (an Up file of `version`) sorts in `layout`: dbmate, diesel and Prisma apply
/// migrations in the order of their version (Prisma: folder name) as text, so `9_a` after
/// `10_b` and diesel's 14-digit versions before its newer 18-digit ones of an earlier day;
/// the other tools in the order of the numbers.
pub fn order(layout: Layout, rel: &str, version: u64) -> String {
    let first = rel.split('/').next().unwrap_or(rel);
    match layout {
        Layout::Prisma => first.to_string(),
        Layout::Diesel => diesel_version(first),
        Layout::Dbmate => first.split('_').next().unwrap_or(first).to_string(),
        // Repeatable migrations after every versioned one, by description (as Flyway).
        Layout::Flyway if is_repeatable(layout, rel) => format!("~{}", &last(rel)[3..]),
        Layout::Flyway => {
            let first = last(rel);
            let version = first
                .get(1..)
                .and_then(|rest| rest.split_once("__"))
                .map_or(first, |(v, _)| v);
            flyway_order(version)
        }
        _ => format!("{version:020}"),
    }
}

/// diesel's version of a folder name: the part before the first `_`, without dashes (as
/// diesel records it).
pub fn diesel_version(folder: &str) -> String {
    folder.split('_').next().unwrap_or(folder).replace('-', "")
}

/// `migrate`'s integer key for a diesel version (dashes in it or not).
pub fn diesel_key(version: &str) -> Option<u64> {
    let digits: String = version.chars().filter(|c| *c != '-').collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A diesel or Prisma folder name: `<version>_<name>`, the version digits (diesel's may have
/// dashes, `2019-02-26-002946`, which diesel leaves out of the version it records).
fn folder_name(folder: &str, diesel: bool) -> FileName {
    let Some((version, description)) = folder.split_once('_') else {
        return invalid("expected a folder `<version>_<name>`");
    };
    if description.is_empty() {
        return invalid("the name after the version is empty");
    }
    let number = if diesel {
        diesel_key(version).ok_or("the version before the first `_` of the folder must be digits (dashes aside) that fit in 64 bits")
    } else if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        Err("the version before the first `_` of the folder must be digits")
    } else {
        version
            .parse::<u64>()
            .map_err(|_| "the version does not fit in 64 bits")
    };
    match number {
        Ok(version) => FileName::Up {
            version,
            description: description.to_string(),
        },
        Err(reason) => invalid(reason),
    }
}

/// Flyway: `V<version>__<description>.sql`; `U<version>__` undo scripts are ignored like
/// `.down.sql` files.
fn flyway(file: &str) -> FileName {
    let stem = &file[..file.len() - ".sql".len()];
    let (kind, rest) = stem.split_at(stem.chars().next().map_or(0, char::len_utf8));
    let Some((version, description)) = rest.split_once("__") else {
        return invalid("expected `V<version>__<description>.sql`");
    };
    match kind {
        "R" if version.is_empty() && !description.is_empty() => {
            return FileName::Up {
                version: repeatable_key(description),
                description: description.to_string(),
            };
        }
        "R" => return invalid("expected `R__<description>.sql` for a repeatable migration"),
        "V" | "U" => {}
        _ => return invalid("expected `V<version>__<description>.sql`"),
    }
    let number = match flyway_key(version) {
        Ok(number) if number >= REPEATABLE_BASE => {
            return invalid(
                "the version is too large (keys from 2^62 up name repeatable migrations)",
            );
        }
        Ok(number) => number,
        Err(reason) => return invalid(reason),
    };
    if description.is_empty() {
        return invalid("the description after `__` is empty");
    }
    if kind == "U" {
        FileName::Down { version: number }
    } else {
        FileName::Up {
            version: number,
            description: description.to_string(),
        }
    }
}

/// Keys from here up name Flyway's repeatable migrations (`R__<description>.sql`), which have
/// no version: each is keyed by a hash of its description, below `i64::MAX` (the history's
/// BIGINT), far above any version.
pub const REPEATABLE_BASE: u64 = 1 << 62;

/// Whether `rel` is a Flyway repeatable migration (`R__<description>.sql`).
pub fn is_repeatable(layout: Layout, rel: &str) -> bool {
    layout == Layout::Flyway && last(rel).starts_with("R__")
}

/// The file name of `rel` (its last `/`-separated part).
fn last(rel: &str) -> &str {
    rel.rsplit('/').next().unwrap_or(rel)
}

/// The key of the repeatable migration `description`: stable, from its SHA-256.
fn repeatable_key(description: &str) -> u64 {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(description.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    REPEATABLE_BASE + u64::from_be_bytes(first) % REPEATABLE_BASE
}

/// The parts of a Flyway version (`1.2.3`, `1_2_3`), trailing zero parts dropped (Flyway
/// compares versions part by part as numbers: `1.0` is `1`).
fn flyway_parts(version: &str) -> Result<Vec<&str>, &'static str> {
    let mut parts: Vec<&str> = version.split(['.', '_']).collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("the version after `V` must be numbers separated by `.` or `_`");
    }
    let parts_value = |p: &str| p.trim_start_matches('0').to_string();
    while parts.len() > 1 && parts_value(parts[parts.len() - 1]).is_empty() {
        parts.pop();
    }
    Ok(parts)
}

/// `migrate`'s integer key for a Flyway version: the first part, then each further part as
/// three digits (`1.2.3` is 1002003, `2.10` is 2010). Only a key: files apply in Flyway's
/// order ([`order`]), part by part.
/// The key of a version as a user writes it in any layout (`start_after`): a number as it
/// is, a diesel version with its dashes (`2019-02-27-000000`), a Flyway version with its dots
/// or underscores (`1.1`).
pub fn version_key(text: &str) -> Result<u64, String> {
    let text = text.trim();
    if let Ok(n) = text.parse::<u64>() {
        return Ok(n);
    }
    if text.contains('-') {
        return diesel_key(text)
            .ok_or_else(|| format!("`{text}` is not a version (digits, dots or dashes)"));
    }
    flyway_key(text).map_err(|why| format!("`{text}` is not a version: {why}"))
}

/// The layout whose own spelling `text` is (diesel's dashes, Flyway's dots or underscores);
/// `None` for a plain number.
pub fn version_spelling(text: &str) -> Option<Layout> {
    let text = text.trim();
    if text.parse::<u64>().is_ok() {
        None
    } else if text.contains('-') {
        Some(Layout::Diesel)
    } else {
        Some(Layout::Flyway)
    }
}

pub fn flyway_key(version: &str) -> Result<u64, &'static str> {
    let parts = flyway_parts(version)?;
    let mut digits = parts[0].trim_start_matches('0').to_string();
    for part in &parts[1..] {
        let value: u64 = part
            .parse()
            .map_err(|_| "a part of the version is too large")?;
        if value >= 1000 {
            return Err("a part after the first of a dotted Flyway version must be below 1000");
        }
        digits.push_str(&format!("{value:03}"));
    }
    if digits.is_empty() {
        return Ok(0);
    }
    digits
        .parse()
        .map_err(|_| "the version does not fit in 64 bits once its parts are joined")
}

/// Flyway's order of a version: each part as a 20-digit number.
fn flyway_order(version: &str) -> String {
    match flyway_parts(version) {
        Ok(parts) => parts
            .iter()
            .map(|p| format!("{:0>20}", p.trim_start_matches('0')))
            .collect::<Vec<_>>()
            .join("."),
        Err(_) => version.to_string(),
    }
}

/// sql-migrate: any `.sql` name, ordered by its leading number (`1_init.sql`,
/// `20190101-init.sql`); a name without one cannot be given an integer version.
fn sql_migrate(file: &str) -> FileName {
    let stem = &file[..file.len() - ".sql".len()];
    let stem = stem
        .strip_suffix(".up")
        .or_else(|| stem.strip_suffix(".UP"))
        .unwrap_or(stem);
    let digits = stem.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return invalid(
            "the name must start with its number (`1_init.sql`): `migrate` orders and records migrations by it",
        );
    }
    let Ok(version) = stem[..digits].parse::<u64>() else {
        return invalid("the version does not fit in 64 bits");
    };
    let description = stem[digits..].trim_start_matches(['_', '-', '.']);
    if description.is_empty() {
        return invalid("the description after the version is empty");
    }
    FileName::Up {
        version,
        description: description.to_string(),
    }
}

fn invalid(reason: &str) -> FileName {
    FileName::Invalid {
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flyway_versions_key_and_order_part_by_part() {
        assert_eq!(flyway_key("1"), Ok(1));
        assert_eq!(flyway_key("1.2.3"), Ok(1002003));
        assert_eq!(flyway_key("1_2_3"), Ok(1002003));
        assert_eq!(flyway_key("1.0"), flyway_key("1"));
        assert_eq!(flyway_key("2.10"), Ok(2010));
        assert!(flyway_key("1.1000").is_err());
        assert!(flyway_key("1..2").is_err());
        // Flyway's order: 1.2 < 1.10 < 2, unlike their text.
        let order = |v: &str| order(Layout::Flyway, &format!("V{v}__x.sql"), 0);
        assert!(order("1.2") < order("1.10"));
        assert!(order("1.10") < order("2"));
        assert!(order("1") < order("1.1"));
        assert_eq!(
            classify(Layout::Flyway, "V1.2__add_x.sql"),
            FileName::Up {
                version: 1002,
                description: "add_x".into()
            }
        );
        let FileName::Up {
            version,
            description,
        } = classify(Layout::Flyway, "R__views.sql")
        else {
            panic!("R__ is a repeatable migration");
        };
        assert!((REPEATABLE_BASE..=i64::MAX as u64).contains(&version));
        assert_eq!(description, "views");
        // After every versioned migration.
        assert!(order("99999.1") < super::order(Layout::Flyway, "R__views.sql", version));
        assert!(matches!(
            classify(Layout::Flyway, "R1__views.sql"),
            FileName::Invalid { .. }
        ));
        assert_eq!(
            classify(Layout::Flyway, "U3__x.sql"),
            FileName::Down { version: 3 }
        );
    }

    #[test]
    fn accepts_plain_and_up_names() {
        assert_eq!(
            parse("20261123101500_split_name.sql"),
            FileName::Up {
                version: 20261123101500,
                description: "split_name".into()
            }
        );
        assert_eq!(
            parse("0001_init.up.sql"),
            FileName::Up {
                version: 1,
                description: "init".into()
            }
        );
        assert_eq!(parse("7_x.DOWN.SQL"), FileName::Down { version: 7 });
    }

    #[test]
    fn rejects_other_sql_names() {
        for name in [
            "init.sql",
            "V1__init.sql",
            "_x.sql",
            "12_.sql",
            "1a_x.sql",
            "99999999999999999999999_x.sql",
            ".sql",
        ] {
            assert!(
                matches!(parse(name), FileName::Invalid { .. }),
                "{name} should be invalid"
            );
        }
        assert_eq!(parse("README.md"), FileName::NotSql);
        assert_eq!(parse("migrate.sum"), FileName::NotSql);
    }
}
