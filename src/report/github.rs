//! `--format github`: GitHub Actions workflow commands, one annotation per diagnostic:
//! `::error file=…,line=…,col=…,endLine=…,endColumn=…,title=…::message`.

use std::io::{self, Write};

use crate::analyze::Analysis;
use crate::analyze::diagnostic::Severity;

/// Escapes a workflow-command message.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow-command property value.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Writes one workflow command per diagnostic.
pub fn render(out: &mut impl Write, analysis: &Analysis) -> io::Result<()> {
    for d in &analysis.diagnostics {
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let start = d.span.start;
        let end = if d.span.end > start {
            d.span.end
        } else {
            start
        };
        let message = if d.help.is_empty() {
            d.message.clone()
        } else {
            format!("{}\n{}", d.message, d.help)
        };
        writeln!(
            out,
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            property(&d.file),
            start.line.max(1),
            start.column.max(1),
            end.line.max(1),
            end.column.max(1),
            property(&format!("{} {}", d.rule.code, d.rule.name)),
            data(&message)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes() {
        assert_eq!(super::data("50%\nnext"), "50%25%0Anext");
        assert_eq!(super::property("a:b,c"), "a%3Ab%2Cc");
    }
}
