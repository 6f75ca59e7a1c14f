//! What the analysis reports: a rule, a severity, a place, a message, the recipe, the object.

use std::fmt;

use crate::analyze::ir::Span;
use crate::analyze::registry::Rule;

/// How serious a diagnostic is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// For information only.
    Info,
    /// Worth a look; does not fail `check`.
    Warning,
    /// Fails `check` (exit 1) and blocks `up`.
    Error,
}

impl Severity {
    /// Lowercase name used in output and config.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One finding, ready to render.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// The file as displayed (relative to the working directory).
    pub file: String,
    /// Index of the file in the analysed list (for ordering and source lookup).
    pub file_index: usize,
    /// Where; line 0 means "the file as a whole".
    pub span: Span,
    /// The rule that fired.
    pub rule: &'static Rule,
    /// Effective severity (after config and `--strict`).
    pub severity: Severity,
    /// Lowercase, names the object, no trailing period.
    pub message: String,
    /// The safe recipe, one step per line.
    pub help: String,
    /// The object concerned (`users.email`), when there is one.
    pub object: Option<String>,
    /// What the app's queries say of it (`--app-queries`), for compatibility findings.
    pub evidence: Option<crate::analyze::usage::Evidence>,
}
