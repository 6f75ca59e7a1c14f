//! Notes `.down.sql` rollback files, which a forward-only tool never runs.

use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Notes a `<version>_<description>.down.sql` file. `migrate` is forward-only: rollback
    /// files are neither checked nor applied.
    ///
    /// ## Why it breaks the running app
    /// It does not; this is information. A rollback in a zero-downtime world is a new forward
    /// migration (or redeploying the previous app version, which expand-only migrations keep
    /// working).
    ///
    /// ## Example
    /// ```text
    /// migrations/20261123101500_add_email.down.sql
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. To undo a change, write a new forward migration.
    /// 2. Delete the `.down.sql` files, or set `down-migration-ignored = "off"` in `[rules]`.
    ///
    /// ## Suppress
    /// `down-migration-ignored = "off"` in `[rules]` of `migrate.toml`.
    DOWN_MIGRATION_IGNORED, code = "M004", name = "down-migration-ignored", kind = File, severity = Info,
    summary = "a .down.sql rollback file is ignored (migrate is forward-only)"
}
