//! Reports (with `check --base`) migrations that existed at the base and were edited since.

use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// With `migrate check --base REF`, reports a migration file that already existed at the
    /// merge-base with REF and whose text changed since (BOM and line endings aside), with a
    /// unified diff of the change.
    ///
    /// ## Why it breaks the running app
    /// Migrations on the main branch are applied, or about to be: the edit never runs where the
    /// old text already ran, so environments silently diverge, and `migrate up` refuses the
    /// edited history on every database that applied it.
    ///
    /// ## Example
    /// ```diff
    /// -ALTER TABLE users ADD COLUMN nickname text;
    /// +ALTER TABLE users ADD COLUMN nickname varchar(50);
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Restore the file as it is on the base branch.
    /// 2. Put the change in a new migration.
    ///
    /// ## Suppress
    /// Not suppressible: applied history is immutable.
    EDITED_MIGRATION, code = "M012", name = "edited-migration", kind = File, severity = Error,
    summary = "a migration that exists on the base branch was edited"
}
