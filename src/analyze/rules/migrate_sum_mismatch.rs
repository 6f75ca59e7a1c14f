//! Reports migration files that disagree with `migrate.sum`.

use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// When the migration directory holds a `migrate.sum` (written by `migrate hash`), reports
    /// every migration that was edited since, deleted, or added without being listed, and a
    /// `migrate.sum` that was edited by hand or still holds a merge conflict.
    ///
    /// ## Why it breaks the running app
    /// Applied migrations are immutable: an edited one never runs again, so databases that
    /// applied the old text and new ones that apply the new text silently differ. Two branches
    /// that each add a migration must land in one order; `migrate.sum`'s first line changes with
    /// every addition, so such branches conflict in git instead of merging into an order nobody
    /// reviewed.
    ///
    /// ## Example
    /// ```text
    /// migrations/20261123101500_split_name.sql is not listed in migrations/migrate.sum
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Undo edits to migrations that are already applied anywhere; put changes in a new migration.
    /// 2. After a merge conflict, rebase so the new migrations come after the ones on the main branch (give them newer versions).
    /// 3. Review the migrations, then run `migrate hash` and commit `migrate.sum`.
    ///
    /// ## Suppress
    /// Not suppressible: run `migrate hash` after review, or delete `migrate.sum` to stop using it.
    MIGRATE_SUM_MISMATCH, code = "M011", name = "migrate-sum-mismatch", kind = File, severity = Error,
    summary = "a migration was edited, deleted or added without updating migrate.sum"
}
