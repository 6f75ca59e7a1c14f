//! `migrate.sum`: an integrity file beside the migrations that forces a linear history.
//!
//! ```text
//! migrate.sum v1 sha256:<hash of every line below>
//! 20260101000000_init.sql sha256:<chained hash>
//! 20260102000000_users.sql sha256:<chained hash>
//! ```
//!
//! Each file's line carries a hash chained over its own normalised checksum and every earlier
//! line: `chain[i] = sha256(chain[i-1] "\n" name "\n" checksum)`, with `chain[-1]` empty. The
//! first line hashes the whole list, so two branches that each add a migration both change it
//! (and both append at the same place): git reports a conflict and the branches must be rebased
//! into one order, then `migrate hash` run again after review.

use sha2::{Digest, Sha256};

use crate::source::{FileProblem, SourceFile, checksum};

/// The file name.
pub const FILE_NAME: &str = "migrate.sum";

const HEADER: &str = "migrate.sum v1";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn chain(previous: &str, name: &str, file_checksum: &str) -> String {
    let mut h = Sha256::new();
    h.update(previous.as_bytes());
    h.update(b"\n");
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update(file_checksum.as_bytes());
    format!("sha256:{}", hex(&h.finalize()))
}

fn file_name(file: &SourceFile) -> String {
    file.path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.display.clone())
}

/// The text of `migrate.sum` for `files` (in migration order).
pub fn render(files: &[SourceFile]) -> String {
    let mut lines = Vec::with_capacity(files.len());
    let mut previous = String::new();
    for file in files {
        let name = file_name(file);
        let hash = chain(&previous, &name, &checksum(&file.text));
        lines.push(format!("{name} {hash}"));
        previous = hash;
    }
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let total = format!("sha256:{}", hex(&Sha256::digest(body.as_bytes())));
    format!("{HEADER} {total}\n{body}")
}

/// Compares `files` with the text of an existing `migrate.sum` (`sum_display` names it).
pub fn verify(files: &[SourceFile], text: &str, sum_display: &str) -> Vec<FileProblem> {
    let mut problems = Vec::new();
    let problem = |file: &str, reason: String| FileProblem::SumMismatch {
        file: file.to_string(),
        reason,
    };
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("");
    let Some(total) = header.strip_prefix(HEADER).map(str::trim) else {
        return vec![problem(
            sum_display,
            format!(
                "{sum_display} does not start with `{HEADER}`: it is not a migrate.sum file, or was edited by hand"
            ),
        )];
    };
    let body: Vec<&str> = lines.collect();
    let mut listed: Vec<(&str, &str)> = Vec::new();
    for (i, line) in body.iter().enumerate() {
        match line.rsplit_once(' ') {
            Some((name, hash)) if hash.starts_with("sha256:") => listed.push((name, hash)),
            _ => {
                return vec![problem(
                    sum_display,
                    format!(
                        "line {} of {sum_display} is not `<file> sha256:<hash>` (a merge conflict left in it?)",
                        i + 2
                    ),
                )];
            }
        }
    }
    let mut previous = "";
    for (name, hash) in &listed {
        match files.iter().find(|f| file_name(f) == *name) {
            None => problems.push(problem(
                name,
                format!("{name} is listed in {sum_display} but its file is gone"),
            )),
            Some(file) => {
                if chain(previous, name, &checksum(&file.text)) != *hash {
                    problems.push(problem(
                        &file.display,
                        format!("{} changed since {sum_display} was written", file.display),
                    ));
                }
            }
        }
        previous = hash;
    }
    for file in files {
        let name = file_name(file);
        if !listed.iter().any(|(n, _)| *n == name) {
            problems.push(problem(
                &file.display,
                format!("{} is not listed in {sum_display}", file.display),
            ));
        }
    }
    let body_text: String = body.iter().map(|l| format!("{l}\n")).collect();
    let actual_total = format!("sha256:{}", hex(&Sha256::digest(body_text.as_bytes())));
    if problems.is_empty() && actual_total != total {
        problems.push(problem(
            sum_display,
            format!("the first line of {sum_display} does not match the lines below it (edited by hand?)"),
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> SourceFile {
        SourceFile {
            path: format!("migrations/{name}").into(),
            display: format!("migrations/{name}"),
            version: None,
            description: String::new(),
            text: text.into(),
            ..Default::default()
        }
    }

    #[test]
    fn round_trips_and_pinpoints_changes() {
        let files = vec![
            file("1_a.sql", "a"),
            file("2_b.sql", "b"),
            file("3_c.sql", "c"),
        ];
        let sum = render(&files);
        assert!(sum.starts_with("migrate.sum v1 sha256:"));
        assert_eq!(sum.lines().count(), 4);
        assert!(verify(&files, &sum, "migrate.sum").is_empty());

        let mut edited = files.clone();
        edited[1].text = "b2".into();
        let problems = verify(&edited, &sum, "migrate.sum");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            matches!(&problems[0], FileProblem::SumMismatch { file, .. } if file == "migrations/2_b.sql")
        );

        let mut added = files.clone();
        added.push(file("4_d.sql", "d"));
        let problems = verify(&added, &sum, "migrate.sum");
        assert!(
            matches!(&problems[..], [FileProblem::SumMismatch { reason, .. }] if reason.contains("not listed"))
        );

        let removed = vec![files[0].clone(), files[2].clone()];
        let problems = verify(&removed, &sum, "migrate.sum");
        assert!(problems.iter().any(
            |p| matches!(p, FileProblem::SumMismatch { reason, .. } if reason.contains("gone"))
        ));
    }

    #[test]
    fn line_endings_do_not_matter_but_hand_edits_do() {
        let files = vec![file("1_a.sql", "a\n")];
        let sum = render(&files);
        let crlf = vec![file("1_a.sql", &crate::source::normalise_str("a\r\n"))];
        assert!(verify(&crlf, &sum, "migrate.sum").is_empty());
        let tampered = sum.replacen("sha256:", "sha256:0", 1);
        assert_eq!(verify(&files, &tampered, "migrate.sum").len(), 1);
        let conflict = format!("{sum}<<<<<<< HEAD\n");
        assert_eq!(verify(&files, &conflict, "migrate.sum").len(), 1);
    }
}
