//! Reports statements that neither sqlparser nor the fallback recogniser understands.

use crate::analyze::registry::declare_rule;

declare_rule! {
    /// ## What it does
    /// Reports a statement that `migrate` could not parse, with the parser's message. The
    /// analysis goes on with the next statement; the statement itself is not judged and does
    /// not change the schema model.
    ///
    /// ## Why it breaks the running app
    /// It may not: but nothing was checked. A statement the linter cannot read could drop a
    /// column or lock a table, and a green check would be a false promise. With `--strict`
    /// this is an error, so CI fails until a human has looked.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users FROBNICATE COLUMN email;
    /// ```
    ///
    /// ## Safe recipe (expand/contract)
    /// 1. Check that the statement is valid for your database and version.
    /// 2. If it is, review it by hand and add `-- migrate:allow unparsed-statement: <what it does>` above it.
    /// 3. Report the statement to the migrate project so it can be understood.
    ///
    /// ## Suppress
    /// `-- migrate:allow unparsed-statement: <reason>` on the line above the statement.
    UNPARSED_STATEMENT, code = "M001", name = "unparsed-statement", kind = Statement, severity = Warning,
    summary = "a statement could not be parsed, so it was not checked"
}
