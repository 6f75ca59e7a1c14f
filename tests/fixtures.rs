//! Runs the real binary on every case under `migrations-fixtures/`.
//!
//! A case is a directory with `case.toml` (`dialect`, expected `exit`, optional extra `args`)
//! and `migrations/*.sql`. In the SQL, `-- expect: rule[, rule]` says those rules must fire
//! within the block of lines that follows (up to the next blank line); `-- expect-file: rule`
//! says the rule fires on the file as a whole; `-- accept: rule` marks a neighbouring case
//! where it must not. Every diagnostic must be expected: nothing fires unannounced. The human
//! output of each case is pinned by an insta snapshot (`human.snap` beside `case.toml`).

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use assert_cmd::Command;
use serde::Deserialize;
use support::{Marker, cases, markers};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    dialect: String,
    exit: i32,
    #[serde(default)]
    args: Vec<String>,
    /// `base/` holds the migrations of a base commit: the case runs `check --base HEAD` in a
    /// throwaway git repository with `migrations/` as the working tree on top of it.
    #[serde(default)]
    base: bool,
}

/// A git repository whose HEAD holds `base/` as `migrations/`, and whose working tree holds
/// the case's `migrations/`.
fn git_workspace(case_dir: &Path) -> tempfile::TempDir {
    let repo = tempfile::TempDir::new().unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .current_dir(repo.path())
            .args([
                "-c",
                "user.email=fixtures@example.com",
                "-c",
                "user.name=fixtures",
            ])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let copy = |from: &Path, to: &Path| {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    };
    let migrations = repo.path().join("migrations");
    git(&["init", "-q"]);
    copy(&case_dir.join("base"), &migrations);
    git(&["add", "."]);
    git(&["commit", "-qm", "base"]);
    std::fs::remove_dir_all(&migrations).unwrap();
    copy(&case_dir.join("migrations"), &migrations);
    repo
}

fn run(case_dir: &Path, case: &Case, format: &str) -> (i32, String) {
    let workspace = case.base.then(|| git_workspace(case_dir));
    let cwd = workspace.as_ref().map_or(case_dir, |w| w.path());
    let base: &[&str] = if case.base { &["--base", "HEAD"] } else { &[] };
    let output = Command::cargo_bin("migrate")
        .unwrap()
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_ACTIONS")
        .args([
            "check",
            "--format",
            format,
            "--dir",
            "migrations",
            "--dialect",
        ])
        .arg(&case.dialect)
        .args(&case.args)
        .args(base)
        .output()
        .unwrap();
    assert!(
        output.stderr.is_empty(),
        "{}: stderr: {}",
        case_dir.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
    )
}

fn check_case(case_dir: &Path) -> Vec<String> {
    let name = case_dir.file_name().unwrap().to_string_lossy().to_string();
    let case: Case =
        toml::from_str(&std::fs::read_to_string(case_dir.join("case.toml")).unwrap()).unwrap();
    let mut problems = Vec::new();

    let (code, stdout) = run(case_dir, &case, "json");
    if code != case.exit {
        problems.push(format!("{name}: exit {code}, expected {}", case.exit));
    }
    let report: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{name}: not one JSON object ({e}): {stdout}"));
    let markers = markers(case_dir);
    let expected: Vec<&Marker> = markers.iter().filter(|m| m.fires).collect();
    let mut matched: BTreeSet<usize> = BTreeSet::new();
    for d in report["diagnostics"].as_array().unwrap() {
        let file = d["file"].as_str().unwrap();
        let rule = d["rule"].as_str().unwrap();
        let line = d["line"].as_u64().unwrap() as u32;
        let message = d["message"].as_str().unwrap();
        if !support::lowercase_sentence(message) {
            problems.push(format!(
                "{name}: {rule} message must start lowercase and have no trailing period: {message}"
            ));
        }
        let hit = expected.iter().position(|m| {
            m.file == file
                && m.rule == rule
                && match m.lines {
                    Some((from, to)) => (from..=to).contains(&line),
                    None => line == 1,
                }
        });
        match hit {
            Some(i) => {
                matched.insert(i);
            }
            None => problems.push(format!(
                "{name}: unexpected {rule} at {file}:{line}: {}",
                d["message"]
            )),
        }
    }
    for (i, m) in expected.iter().enumerate() {
        if !matched.contains(&i) {
            problems.push(format!(
                "{name}: expected {} in {} at {:?}",
                m.rule, m.file, m.lines
            ));
        }
    }
    for accept in markers.iter().filter(|m| !m.fires) {
        if markers.iter().any(|m| {
            m.fires && m.rule == accept.rule && m.file == accept.file && m.lines == accept.lines
        }) {
            problems.push(format!(
                "{name}: {} both expected and accepted",
                accept.rule
            ));
        }
    }

    let (human_code, human) = run(case_dir, &case, "human");
    assert_eq!(human_code, code, "{name}: human and json exit codes differ");
    insta::with_settings!({
        snapshot_path => case_dir,
        prepend_module_to_snapshot => false,
        omit_expression => true,
        description => format!("migrate check --dialect {} {}", case.dialect, case.args.join(" ")),
    }, {
        insta::assert_snapshot!("human", human);
    });
    problems
}

#[test]
fn every_fixture_case_behaves_as_annotated() {
    let cases = cases();
    assert!(cases.len() >= 50, "fixture cases went missing");
    let problems: Vec<String> = cases.iter().flat_map(|c| check_case(c)).collect();
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}
