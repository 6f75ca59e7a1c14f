//! Renderers: one per output format, each writing to `&mut impl Write`.

pub mod github;
pub mod gitlab;
pub mod human;
pub mod json;
pub mod proof;
pub mod sarif;

use std::io::{self, Write};

use crate::analyze::Analysis;
use crate::source::SourceFile;

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Compiler-style text for people.
    Human,
    /// One JSON object (schema in docs/schemas/check.schema.json).
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// GitHub Actions workflow commands.
    Github,
    /// GitLab Code Quality JSON.
    Gitlab,
}

/// Writes `analysis` in `format`; `sources[i]` is the file of `Diagnostic::file_index == i`.
pub fn render(
    out: &mut impl Write,
    format: Format,
    analysis: &Analysis,
    sources: &[&SourceFile],
    color: bool,
) -> io::Result<()> {
    match format {
        Format::Human => human::render(out, analysis, sources, color),
        Format::Json => json::render(out, analysis),
        Format::Sarif => sarif::render(out, analysis),
        Format::Github => github::render(out, analysis),
        Format::Gitlab => gitlab::render(out, analysis),
    }
}
