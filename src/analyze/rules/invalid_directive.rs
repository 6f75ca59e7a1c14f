//! Reports malformed `-- migrate:` comments: an allow without a reason or naming an unknown
//! rule, an unknown directive, a misplaced `no-transaction`.

use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Reports a `-- migrate:` comment that cannot be honoured:
    /// an `allow` without a reason, an `allow` naming a rule that does not exist, a
    /// `no-transaction` directive that is not at the top of the file, or an unknown directive
    /// word (usually a typo).
    ///
    /// ## Why it breaks the running app
    /// A suppression is a reviewed decision; without a reason the reviewer's judgement is lost,
    /// and a typo in a rule name would silently suppress nothing.
    ///
    /// ## Example
    /// ```sql
    /// -- migrate:allow drop-column
    /// ALTER TABLE users DROP COLUMN legacy_name;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Write `-- migrate:allow <rule>[, <rule>]: <why this is safe>` directly above the statement.
    /// 2. Use rule names from `migrate rule --list`.
    /// 3. Put `-- migrate:no-transaction` on the first line of the file.
    ///
    /// ## Suppress
    /// Not suppressible: fix the directive.
    INVALID_DIRECTIVE, code = "M005", name = "invalid-directive", kind = File, severity = Error,
    summary = "a -- migrate: directive is malformed (missing reason, unknown rule or word)"
}
