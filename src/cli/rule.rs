//! `migrate rule NAME` and `migrate rule --list`.

use std::io::Write;

use anyhow::bail;

use crate::analyze::registry::{self, RULES, Rule};
use crate::cli::{EXIT_OK, HumanOrJson, ignore_broken_pipe};

/// Arguments of `migrate rule`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rule name or code, e.g. `drop-column` or `M102`
    #[arg(value_name = "NAME", required_unless_present = "list")]
    pub name: Option<String>,
    /// List every rule with its code, default severity and summary
    #[arg(long, conflicts_with = "name")]
    pub list: bool,
    /// Output format
    #[arg(long, short = 'f', value_enum, default_value = "human")]
    pub format: HumanOrJson,
}

/// Prints a rule's documentation or the list of rules.
pub fn run(args: Args) -> anyhow::Result<u8> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if args.format == HumanOrJson::Json {
        let rules: Vec<&Rule> = if args.list {
            RULES.to_vec()
        } else {
            vec![find(args.name.as_deref().unwrap_or_default())?]
        };
        let rules: Vec<serde_json::Value> = rules
            .into_iter()
            .map(|rule| {
                let mut value = serde_json::json!({
                    "code": rule.code,
                    "name": rule.name,
                    "severity": rule.severity.name(),
                    "kind": rule.kind.id(),
                    "summary": rule.summary,
                });
                if !args.list {
                    value["page"] = rule.page().into();
                    value["recipe"] = rule.recipe().into();
                }
                value
            })
            .collect();
        ignore_broken_pipe(writeln!(out, "{}", serde_json::json!({ "rules": rules })))?;
        return Ok(EXIT_OK);
    }
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
    let rule = find(args.name.as_deref().unwrap_or_default())?;
    ignore_broken_pipe(write!(out, "{}", rule.page()))?;
    Ok(EXIT_OK)
}

fn find(name: &str) -> anyhow::Result<&'static Rule> {
    match registry::find(name) {
        Some(rule) => Ok(rule),
        None => bail!("unknown rule `{name}` (see `migrate rule --list`)"),
    }
}
