//! Reports `-- migrate:allow` lines that suppress nothing.

use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Reports a `-- migrate:allow` that suppressed no diagnostic: the rule did not fire on the
    /// statement directly below, or the comment is not directly above a statement.
    ///
    /// ## Why it breaks the running app
    /// A stale suppression is a trap: the next edit to the statement below may introduce exactly
    /// the hazard the allow was written for, and nobody will see it.
    ///
    /// ## Example
    /// ```sql
    /// -- migrate:allow drop-column: legacy column unused since v2.3
    /// ALTER TABLE users ADD COLUMN nickname text;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Delete the allow, or move it directly above the statement it is meant for.
    ///
    /// ## Suppress
    /// `unused-allow = "off"` in `[rules]` of `migrate.toml`.
    UNUSED_ALLOW, code = "M006", name = "unused-allow", kind = File, severity = Warning,
    summary = "a migrate:allow suppresses nothing"
}
