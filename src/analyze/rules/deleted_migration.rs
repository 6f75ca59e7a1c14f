//! Reports (with `check --base`) migrations that existed at the base and were deleted since.

use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// With `migrate check --base REF`, reports a migration file that existed at the
    /// merge-base with REF and is gone now.
    ///
    /// ## Why it breaks the running app
    /// Databases that applied it keep its changes while new ones never get them, and
    /// `migrate up` refuses a history whose applied file is missing.
    ///
    /// ## Example
    /// ```text
    /// deleted: migrations/20261101090000_add_index.sql
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Restore the file.
    /// 2. To undo what it did, write a new migration.
    ///
    /// ## Suppress
    /// Not suppressible: applied history is immutable.
    DELETED_MIGRATION, code = "M013", name = "deleted-migration", kind = File, severity = Error,
    summary = "a migration that exists on the base branch was deleted"
}
