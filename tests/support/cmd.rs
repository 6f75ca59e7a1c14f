//! One way to run the binary in the tests: a builder that reads like the command line,
//! `migrate().up().dir(..).database(..).run()`, with a clean environment (no colour, no
//! `DATABASE_URL`, no CI annotations inherited from the runner).

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// What a finished run printed and returned.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// A `migrate` invocation being built.
pub struct Migrate {
    cmd: Command,
}

/// A `migrate` command with no arguments yet.
pub fn migrate() -> Migrate {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("migrate"));
    cmd.env("NO_COLOR", "1")
        .env_remove("DATABASE_URL")
        .env_remove("GITHUB_ACTIONS");
    Migrate { cmd }
}

impl Migrate {
    /// Adds one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.cmd.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.cmd.args(args);
        self
    }

    pub fn check(self) -> Self {
        self.arg("check")
    }

    pub fn up(self) -> Self {
        self.arg("up")
    }

    pub fn status(self) -> Self {
        self.arg("status")
    }

    pub fn verify(self) -> Self {
        self.arg("verify")
    }

    pub fn hash(self) -> Self {
        self.arg("hash")
    }

    /// `--dir DIR`.
    pub fn dir(self, dir: impl AsRef<OsStr>) -> Self {
        self.arg("--dir").arg(dir)
    }

    /// `--database URL`.
    pub fn database(self, url: impl AsRef<OsStr>) -> Self {
        self.arg("--database").arg(url)
    }

    /// `--format FORMAT`.
    pub fn format(self, format: &str) -> Self {
        self.arg("--format").arg(format)
    }

    /// `--dialect DIALECT`.
    pub fn dialect(self, dialect: &str) -> Self {
        self.arg("--dialect").arg(dialect)
    }

    /// Runs in `dir`.
    pub fn cwd(mut self, dir: impl AsRef<Path>) -> Self {
        self.cmd.current_dir(dir);
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    /// Runs to completion.
    pub fn run(mut self) -> Run {
        Run::from(self.cmd.output().unwrap())
    }

    /// Starts it with stdout and stderr piped.
    pub fn spawn(mut self) -> Child {
        self.cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

/// Waits for `child`, killing it (and failing the test) after `limit`.
pub fn finish(mut child: Child, limit: Duration) -> Run {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("migrate did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Run::from(child.wait_with_output().unwrap())
}
