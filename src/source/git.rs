//! The few git facts `check --base` needs, from the `git` command line: the merge-base with a
//! ref, and the migration files as they were in that commit.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A git command failed or git is not usable here.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// `git` could not be started.
    #[error("cannot run git: {0}")]
    Spawn(std::io::Error),
    /// The directory is not inside a git work tree.
    #[error("{} is not inside a git work tree (--base needs one)", .dir.display())]
    NotARepository {
        /// The directory.
        dir: PathBuf,
    },
    /// The ref does not exist.
    #[error("unknown git ref `{reference}`: {message}")]
    UnknownRef {
        /// The ref as given.
        reference: String,
        /// git's message.
        message: String,
    },
    /// Another git failure.
    #[error("git {args} failed: {message}")]
    Failed {
        /// The arguments.
        args: String,
        /// git's message.
        message: String,
    },
}

fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, GitError> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(GitError::Spawn)?;
    if out.status.success() {
        return Ok(out.stdout);
    }
    let message = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if message.contains("not a git repository") {
        return Err(GitError::NotARepository {
            dir: dir.to_path_buf(),
        });
    }
    Err(GitError::Failed {
        args: args.join(" "),
        message,
    })
}

/// The commit where `HEAD` branched from `reference`.
pub fn merge_base(dir: &Path, reference: &str) -> Result<String, GitError> {
    git(dir, &["rev-parse", "--is-inside-work-tree"])?;
    let resolved = git(
        dir,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{reference}^{{commit}}"),
        ],
    );
    if resolved.is_err() {
        return Err(GitError::UnknownRef {
            reference: reference.to_string(),
            message:
                "not a commit in this repository (fetch it first, e.g. `git fetch origin main`)"
                    .into(),
        });
    }
    let base = git(dir, &["merge-base", reference, "HEAD"]).map_err(|e| match e {
        GitError::Failed { message, .. } => GitError::UnknownRef {
            reference: reference.to_string(),
            message: if message.is_empty() {
                "it has no common ancestor with HEAD".into()
            } else {
                message
            },
        },
        other => other,
    })?;
    Ok(String::from_utf8_lossy(&base).trim().to_string())
}

/// The files in `dir` (and its folders) as they were in `commit`: (relative name, content). One
/// `git cat-file --batch` reads them all.
pub fn files_at(dir: &Path, commit: &str) -> Result<Vec<(String, Vec<u8>)>, GitError> {
    // Recursive: diesel's and Prisma's migrations are folders.
    let listing = git(dir, &["ls-tree", "-r", commit, "--", "."])?;
    let mut entries: Vec<(String, String)> = Vec::new();
    for line in String::from_utf8_lossy(&listing).lines() {
        // `<mode> <type> <sha>\t<name>`
        let Some((meta, name)) = line.split_once('\t') else {
            continue;
        };
        let mut meta = meta.split_whitespace();
        let (Some(_mode), Some("blob"), Some(sha)) = (meta.next(), meta.next(), meta.next()) else {
            continue;
        };
        entries.push((name.to_string(), sha.to_string()));
    }
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let mut child = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(GitError::Spawn)?;
    let request: String = entries.iter().map(|(_, sha)| format!("{sha}\n")).collect();
    let mut stdin = child.stdin.take().expect("piped stdin");
    let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
    let out = child.wait_with_output().map_err(GitError::Spawn)?;
    let _ = writer.join();
    let mut rest = out.stdout.as_slice();
    let mut files = Vec::with_capacity(entries.len());
    for (name, _) in entries {
        // `<sha> blob <size>\n<content>\n`
        let header_end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| truncated(&name))?;
        let header = String::from_utf8_lossy(&rest[..header_end]).to_string();
        let size: usize = header
            .rsplit(' ')
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| truncated(&name))?;
        let start = header_end + 1;
        let content = rest
            .get(start..start + size)
            .ok_or_else(|| truncated(&name))?;
        files.push((name, content.to_vec()));
        rest = rest.get(start + size + 1..).unwrap_or(&[]);
    }
    Ok(files)
}

fn truncated(name: &str) -> GitError {
    GitError::Failed {
        args: "cat-file --batch".into(),
        message: format!("unexpected output while reading {name}"),
    }
}
