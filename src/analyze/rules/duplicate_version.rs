//! Reports two migration files that share one version.

use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Reports two files with the same version number (`001_a.sql` and `1_b.sql` count as one
    /// version). The first in name order is analysed; the other is named in the error.
    ///
    /// ## Why it breaks the running app
    /// The version is the key of the history table: only one of the two can ever be recorded
    /// as applied, so the other is silently lost, or applied on one server and not another.
    ///
    /// ## Example
    /// ```text
    /// migrations/20261123101500_add_email.sql
    /// migrations/20261123101500_add_phone.sql
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Give the newer file a new version (`migrate new` uses the current UTC time).
    /// 2. Rebase branches so versions stay unique and increasing.
    ///
    /// ## Suppress
    /// Not suppressible: rename one of the files.
    DUPLICATE_VERSION, code = "M003", name = "duplicate-version", kind = File, severity = Error,
    summary = "two migration files share one version"
}
