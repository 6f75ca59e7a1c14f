//! `migrate rule NAME` and `migrate rule --list`.

use std::io::Write;

use anyhow::bail;

use crate::analyze::registry::{self, RULES};
use crate::cli::{EXIT_OK, ignore_broken_pipe};

/// Arguments of `migrate rule`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rule name or code, e.g. `drop-column` or `M102`
    #[arg(value_name = "NAME", required_unless_present = "list")]
    pub name: Option<String>,
    /// List every rule with its code, default severity and summary
    #[arg(long, conflicts_with = "name")]
    pub list: bool,
}

/// Prints a rule's documentation or the list of rules.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.list {
        let width = RULES.iter().map(|r| r.name.len()).max().unwrap_or(0);
        for rule in RULES {
            ignore_broken_pipe(writeln!(
                out,
                "{}  {:width$}  {:7}  {}",
                rule.code,
                rule.name,
                rule.severity.name(),
                rule.summary
            ))?;
        }
        return Ok(EXIT_OK);
    }
    let name = args.name.unwrap_or_default();
    let Some(rule) = registry::find(&name) else {
        bail!("unknown rule `{name}` (see `migrate rule --list`)");
    };
    ignore_broken_pipe(write!(out, "{}", rule.page()))?;
    Ok(EXIT_OK)
}
