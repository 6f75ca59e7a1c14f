//! Reports `.sql` files in the migration directory whose names do not follow the scheme.

use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Reports a `.sql` file in the migration directory whose name is not one its layout
    /// applies: in `migrate`'s own layout `<version>_<description>.sql` or
    /// `<version>_<description>.up.sql` (version an unsigned integer, typically a UTC
    /// timestamp); in another tool's layout, that tool's names (Flyway's
    /// `V<version>__<description>.sql`, diesel's `<version>_<name>/up.sql`, ...; the message
    /// says which). Such a file is never applied, so it is never silently skipped either: it
    /// is an error naming the file.
    ///
    /// ## Why it breaks the running app
    /// A migration that is never applied leaves the schema behind what the new release
    /// expects; the deploy "succeeds" and the app fails at run time.
    ///
    /// ## Example
    /// ```text
    /// migrations/20261123101500_users.sql       (fine)
    /// migrations/add_users.sql                  (no version)
    /// migrations/20261123101600-add-users.sql   (no `_` after the version)
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Rename the file as the message says (`migrate new <description>` names one right).
    /// 2. Move files that are not migrations out of the migration directory.
    ///
    /// ## Suppress
    /// Not suppressible per statement; set `invalid-migration-name = "off"` in `[rules]` of
    /// `migrate.toml` if the directory must hold other SQL files.
    INVALID_MIGRATION_NAME, code = "M002", name = "invalid-migration-name", kind = File, severity = Error,
    summary = "a .sql file in the migration directory is not named as its layout expects"
}
