//! The command line: clap definitions, one module per subcommand, exit codes.
//!
//! Exit codes: 0 ok, 1 violations found, 2 could not run. Errors go to stderr as
//! `migrate: <error chain>`; a broken pipe ends output quietly.

pub mod baseline;
pub mod check;
pub mod database;
pub mod hash;
pub mod init;
pub mod new;
pub mod queries;
pub mod resolve;
pub mod rule;
pub mod status;
pub mod up;
pub mod verify;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// `1 migration`, `2 migrations`.
pub fn migrations(n: usize) -> String {
    format!("{n} migration{}", if n == 1 { "" } else { "s" })
}

/// Exit code: nothing wrong.
pub const EXIT_OK: u8 = 0;
/// Exit code: violations found.
pub const EXIT_VIOLATIONS: u8 = 1;
/// Exit code: could not run.
pub const EXIT_ERROR: u8 = 2;

/// Schema migrations for zero-downtime deploys: lint expand-only migrations, apply them safely.
#[derive(Debug, Parser)]
#[command(name = "migrate", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Do not read a .env file in the working directory (read by default, as sqlx-cli and
    /// dbmate do; the process's variables win over it)
    #[arg(long, global = true)]
    no_dotenv: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check migrations for changes that break the running app or block traffic.
    Check(check::Args),
    /// Apply pending migrations (after the same checks), recording each in the history.
    Up(up::Args),
    /// Show every migration's state: applied, pending, failed, modified, missing, out-of-order.
    Status(status::Args),
    /// Exit 1 if the history drifted from the files (modified, missing, failed, running).
    Verify(verify::Args),
    /// Write a migrate.toml for an existing migration directory (layout, dialect, history).
    Init(init::Args),
    /// Create a new migration file named after the current UTC time.
    New(new::Args),
    /// Write migrate.sum, the integrity file that keeps the history linear.
    Hash(hash::Args),
    /// Record a failed non-transactional migration as fixed by hand.
    Resolve(resolve::Args),
    /// Adopt an existing database: record migrations up to VERSION as applied.
    Baseline(baseline::Args),
    /// Show a rule's documentation, or list every rule.
    Rule(rule::Args),
    /// Print a shell completion script (e.g. `migrate completions bash > /etc/bash_completion.d/migrate`).
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Reports a panic on one line, with every known password scrubbed from it; panics inside
/// sqlparser are caught by the parser and stay quiet.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        if crate::analyze::parse::inside_parser() {
            return;
        }
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!(
            "migrate: internal error (a bug: please report it): {}{at}",
            crate::db::scrub(&payload)
        );
    }));
}

/// Parses the command line, runs it and returns the process exit code.
pub fn main() -> ExitCode {
    install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            if !e.use_stderr() {
                return ExitCode::from(EXIT_OK);
            }
            // A usage error of a command asked for JSON: the object still comes out.
            if asked_for_json(std::env::args().skip(1)) {
                // clap's first paragraph, on one line.
                let rendered = e.to_string();
                let paragraph: Vec<&str> = rendered
                    .lines()
                    .take_while(|l| !l.trim().is_empty())
                    .map(str::trim)
                    .collect();
                let message = paragraph
                    .join(" ")
                    .trim_start_matches("error: ")
                    .to_string();
                println!("{}", error_object(&crate::db::scrub(&message), EXIT_ERROR));
            }
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let json = cli.command.json();
    if let Err(e) = crate::env::init(cli.no_dotenv) {
        let message = format!("{e} (pass --no-dotenv to skip it)");
        eprintln!("migrate: {message}");
        if json {
            println!("{}", error_object(&message, EXIT_ERROR));
        }
        return ExitCode::from(EXIT_ERROR);
    }
    // A panic is a bug; the hook has reported it. Exit 2 ("could not run"), never 101.
    let outcome = std::panic::catch_unwind(|| run(cli));
    let Ok(result) = outcome else {
        return ExitCode::from(EXIT_ERROR);
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::from(EXIT_OK);
            }
            let message = crate::db::scrub(&format!("{e:#}"));
            eprintln!("migrate: {message}");
            if json {
                println!("{}", error_object(&message, EXIT_ERROR));
            }
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Whether the command line asks for JSON (`--format json`, `--format=json`, `-f json`,
/// `-fjson`), read from the raw arguments when clap could not parse them.
fn asked_for_json(args: impl Iterator<Item = String>) -> bool {
    let mut previous_is_flag = false;
    for arg in args {
        if previous_is_flag && arg == "json" {
            return true;
        }
        if arg == "--format=json" || arg == "-fjson" {
            return true;
        }
        previous_is_flag = arg == "--format" || arg == "-f";
    }
    false
}

/// What stdout holds when a command asked for JSON cannot run (exit 2), or refuses (exit 1:
/// a baseline, a hash): docs/schemas/error.schema.json.
pub(crate) fn error_object(message: &str, exit_code: u8) -> serde_json::Value {
    serde_json::json!({"error": message, "exit_code": exit_code})
}

impl Command {
    /// Whether the command was asked for JSON on stdout.
    fn json(&self) -> bool {
        match self {
            Command::Check(a) => a.format == check::FormatArg::Json,
            Command::Up(a) => a.format == HumanOrJson::Json,
            Command::Status(a) => a.format == HumanOrJson::Json,
            Command::Verify(a) => a.format == HumanOrJson::Json,
            Command::Baseline(a) => a.format == HumanOrJson::Json,
            Command::Hash(a) => a.format == HumanOrJson::Json,
            Command::New(a) => a.format == HumanOrJson::Json,
            Command::Resolve(a) => a.format == HumanOrJson::Json,
            Command::Rule(a) => a.format == HumanOrJson::Json,
            Command::Init(_) | Command::Completions { .. } => false,
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Check(args) => check::run(args),
        Command::Up(args) => up::run(args),
        Command::Status(args) => status::run(args),
        Command::Verify(args) => verify::run(args),
        Command::Init(args) => init::run(args),
        Command::New(args) => new::run(args),
        Command::Hash(args) => hash::run(args),
        Command::Resolve(args) => resolve::run(args),
        Command::Baseline(args) => baseline::run(args),
        Command::Rule(args) => rule::run(args),
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut out = std::io::stdout();
            clap_complete::generate(shell, &mut command, "migrate", &mut out);
            Ok(EXIT_OK)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Output formats of the database commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HumanOrJson {
    /// Text for people
    Human,
    /// One JSON object
    Json,
}

/// Colour on stdout: only on a terminal, never with `NO_COLOR` set.
pub fn stdout_color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

/// Writes to stdout, treating a closed pipe as the end of output rather than an error.
pub fn ignore_broken_pipe(result: std::io::Result<()>) -> std::io::Result<()> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// How the migration files are read: shared by every command that reads them.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ReadArgs {
    /// How the files are written [default: `layout` in migrate.toml, else auto]
    #[arg(long, value_name = "LAYOUT", value_enum)]
    pub layout: Option<crate::source::layout::Layout>,
    /// Replay the migrations up to this version (in apply order) without judging them: an
    /// adopted project's history [default: `start_after` in migrate.toml]
    #[arg(long, value_name = "VERSION", value_parser = start_after)]
    pub start_after: Option<(u64, Option<crate::source::layout::Layout>)>,
}

/// `--start-after`: the version's key and the layout it is spelled in.
fn start_after(text: &str) -> Result<(u64, Option<crate::source::layout::Layout>), String> {
    let key = crate::source::name::version_key(text)?;
    Ok((key, crate::source::name::version_spelling(text)))
}

impl ReadArgs {
    /// The config (found or given) with these flags over its settings.
    pub fn load(
        &self,
        config: Option<&std::path::Path>,
    ) -> Result<crate::config::Options, crate::error::ConfigError> {
        let mut options = crate::config::load(config)?;
        if let Some(layout) = self.layout {
            options.limits.layout = layout;
        }
        if let Some((version, spelling)) = self.start_after {
            options.limits.start_after = Some(version);
            options.limits.start_after_spelling = spelling;
        }
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks (no two arguments share a flag, short or alias).
    #[test]
    fn the_command_line_is_consistent() {
        <super::Cli as clap::CommandFactory>::command().debug_assert();
    }
}
