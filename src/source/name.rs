//! Migration file names: `<version>_<description>.sql`, `<version>_<description>.up.sql`,
//! and `.down.sql` rollbacks, which a forward-only tool ignores.

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

fn invalid(reason: &str) -> FileName {
    FileName::Invalid {
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
