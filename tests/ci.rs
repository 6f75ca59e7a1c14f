//! Pull-request CI: `check --base` in throwaway git repositories, `migrate.sum` forcing a
//! linear history through a real merge conflict, SARIF checked by Microsoft's validator,
//! GitHub annotations, GitLab Code Quality fingerprints, and FILE arguments with --dir.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::cmd::{Run, migrate};
use tempfile::TempDir;

struct Repo {
    dir: TempDir,
}

impl Repo {
    fn new() -> Repo {
        let repo = Repo {
            dir: TempDir::new().unwrap(),
        };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) -> Run {
        let out = Command::new("git")
            .current_dir(self.path())
            .args(["-c", "user.email=ci@example.com", "-c", "user.name=ci"])
            .args(args)
            .output()
            .unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn commit(&self, message: &str) {
        assert_eq!(self.git(&["add", "-A"]).code, 0);
        let run = self.git(&["commit", "-qm", message]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    }

    fn write(&self, file: &str, text: &str) {
        let path = self.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn migrate(&self, args: &[&str]) -> Run {
        migrate().cwd(self.path()).args(args).run()
    }
}

const INIT: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text, legacy text);\n";

/// A repository whose main branch has one migration, with a feature branch checked out.
fn repo_with_base() -> Repo {
    let repo = Repo::new();
    repo.write("migrations/20260101000000_init.sql", INIT);
    repo.commit("base");
    assert_eq!(repo.git(&["checkout", "-q", "-b", "feature"]).code, 0);
    repo
}

#[test]
fn base_drop_of_a_base_column_is_rejected() {
    let repo = repo_with_base();
    repo.write(
        "migrations/20260102000000_drop.sql",
        "ALTER TABLE users DROP COLUMN legacy;\n",
    );
    repo.commit("pr");
    let run = repo.migrate(&["check", "--base", "main"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .starts_with("migrations/20260102000000_drop.sql:1:19: error[M102 drop-column]"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("in 1 file"),
        "only the PR's file is linted: {}",
        run.stdout
    );
}

#[test]
fn base_drop_of_a_column_added_earlier_in_the_same_pr_is_accepted() {
    let repo = repo_with_base();
    repo.write(
        "migrations/20260102000000_add.sql",
        "ALTER TABLE users ADD COLUMN scratch text;\n",
    );
    repo.commit("pr 1");
    repo.write(
        "migrations/20260103000000_drop.sql",
        "ALTER TABLE users DROP COLUMN scratch;\n",
    );
    repo.commit("pr 2");
    let run = repo.migrate(&["check", "--base", "main"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""), "{}", run.stderr);
    // Without --base each file is its own release: the drop is a breaking change.
    assert_eq!(repo.migrate(&["check"]).code, 1);
}

#[test]
fn base_edit_and_delete_of_base_files_are_rejected_with_a_diff() {
    let repo = repo_with_base();
    repo.write(
        "migrations/20260101000000_init.sql",
        &INIT.replace("email text", "email varchar(100)"),
    );
    let run = repo.migrate(&["check", "--base", "main"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("error[M012 edited-migration]"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("-CREATE TABLE users (id bigint PRIMARY KEY, email text, legacy text);"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "+CREATE TABLE users (id bigint PRIMARY KEY, email varchar(100), legacy text);"
        ),
        "{}",
        run.stdout
    );
    std::fs::remove_file(repo.path().join("migrations/20260101000000_init.sql")).unwrap();
    let run = repo.migrate(&["check", "--base", "main", "--format", "json"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("\"rule\":\"deleted-migration\""),
        "{}",
        run.stdout
    );
}

#[test]
fn base_outside_git_or_with_an_unknown_ref_exits_2() {
    let repo = repo_with_base();
    let run = repo.migrate(&["check", "--base", "origin/nope"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("unknown git ref `origin/nope`"),
        "{}",
        run.stderr
    );
    let plain = TempDir::new().unwrap();
    std::fs::create_dir_all(plain.path().join("migrations")).unwrap();
    let run = migrate()
        .cwd(plain.path())
        .check()
        .arg("--base")
        .arg("main")
        .run();
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("is not inside a git work tree"),
        "{}",
        run.stderr
    );
}

#[test]
fn migrate_sum_makes_parallel_branches_conflict() {
    let repo = Repo::new();
    repo.write("migrations/20260101000000_init.sql", INIT);
    assert_eq!(repo.migrate(&["hash"]).code, 0);
    repo.commit("base");
    assert_eq!(
        repo.migrate(&["check"]).code,
        0,
        "a matching migrate.sum passes"
    );

    repo.git(&["checkout", "-q", "-b", "a"]);
    repo.write(
        "migrations/20260102000000_a.sql",
        "ALTER TABLE users ADD COLUMN a text;\n",
    );
    let unlisted = repo.migrate(&["check"]);
    assert_eq!(unlisted.code, 1);
    assert!(
        unlisted
            .stdout
            .contains("20260102000000_a.sql is not listed in migrations/migrate.sum"),
        "{}",
        unlisted.stdout
    );
    repo.migrate(&["hash"]);
    repo.commit("a");

    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["checkout", "-q", "-b", "b"]);
    repo.write(
        "migrations/20260103000000_b.sql",
        "ALTER TABLE users ADD COLUMN b text;\n",
    );
    repo.migrate(&["hash"]);
    repo.commit("b");

    repo.git(&["checkout", "-q", "main"]);
    assert_eq!(repo.git(&["merge", "-q", "a"]).code, 0);
    let merge = repo.git(&["merge", "b"]);
    assert_ne!(
        merge.code, 0,
        "branches adding migrations in parallel must conflict"
    );
    let conflicted = repo.git(&["diff", "--name-only", "--diff-filter=U"]);
    assert_eq!(conflicted.stdout.trim(), "migrations/migrate.sum");
    // The conflict markers make the file invalid until it is regenerated after review.
    let run = repo.migrate(&["check"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("migrate-sum-mismatch"),
        "{}",
        run.stdout
    );
    repo.migrate(&["hash"]);
    assert_eq!(repo.migrate(&["check"]).code, 0);
}

fn fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations-fixtures")
        .join(case)
}

fn sarif_multitool() -> Option<PathBuf> {
    let path = std::env::var_os("SARIF_MULTITOOL")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/tools/sarif/node_modules/.bin/sarif-multitool")
        });
    if path.exists() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!(
            "SARIF Multitool not found at {} (scripts/install-sarif-multitool.sh installs it)",
            path.display()
        );
    }
    eprintln!("skipping SARIF validation: run scripts/install-sarif-multitool.sh");
    None
}

#[test]
fn sarif_passes_the_sarif_multitool_validator() {
    let run = migrate()
        .cwd(fixture("table-rebuild"))
        .check()
        .dialect("sqlite")
        .dir("migrations")
        .format("sarif")
        .run();
    assert_eq!(run.code, 1);
    let log: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let driver = &log["runs"][0]["tool"]["driver"];
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), migrate::analyze::registry::RULES.len());
    for rule in rules {
        for key in ["id", "name", "shortDescription", "fullDescription", "help"] {
            assert!(!rule[key].is_null(), "rule without {key}: {rule}");
        }
    }
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "M125");
    let region = &result["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 9);
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "migrations/0002_rebuild.sql"
    );

    let Some(tool) = sarif_multitool() else {
        return;
    };
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("migrate.sarif");
    let output = dir.path().join("validation.sarif");
    std::fs::write(&input, &run.stdout).unwrap();
    let validate = Command::new(&tool)
        .args(["validate"])
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .output()
        .unwrap();
    assert!(
        validate.status.success(),
        "{}",
        String::from_utf8_lossy(&validate.stdout)
    );
    let findings: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    let errors: Vec<&serde_json::Value> = findings["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["level"] == "error")
        .collect();
    assert!(errors.is_empty(), "SARIF validation errors: {errors:#?}");
}

#[test]
fn github_annotations_carry_the_right_lines() {
    let case = fixture("crlf-bom");
    let run = migrate()
        .cwd(&case)
        .check()
        .dir("migrations")
        .format("github")
        .run();
    assert_eq!(run.code, 1);
    let line = run.stdout.lines().next().unwrap();
    assert!(
        line.starts_with("::error file=migrations/0002_drop.sql,line=5,col=5,endLine=5,endColumn=28,title=M102 drop-column::dropping column users.legacy_name breaks the previous release, which still reads it%0A1. Release"),
        "{line}"
    );
    // In human mode on GitHub Actions the annotations follow the human output, unless opted out.
    let run = migrate()
        .cwd(&case)
        .check()
        .dir("migrations")
        .env("GITHUB_ACTIONS", "true")
        .run();
    assert!(
        run.stdout
            .starts_with("migrations/0002_drop.sql:5:5: error[M102 drop-column]"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("\n::error file=migrations/0002_drop.sql,line=5,"),
        "{}",
        run.stdout
    );
    let run = migrate()
        .cwd(&case)
        .check()
        .dir("migrations")
        .arg("--no-annotations")
        .env("GITHUB_ACTIONS", "true")
        .run();
    assert!(!run.stdout.contains("::error"), "{}", run.stdout);
}

#[test]
fn gitlab_fingerprints_are_unique_and_survive_moved_lines() {
    let dir = TempDir::new().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write("1_init.sql", "CREATE TABLE t (a int, b int, c int);\n");
    write(
        "2_drop.sql",
        "ALTER TABLE t DROP COLUMN a;\nALTER TABLE t DROP COLUMN b;\nTRUNCATE t;\nTRUNCATE t;\n",
    );
    let report = |dir: &Path| -> serde_json::Value {
        let run = migrate().cwd(dir).check().dir(".").format("gitlab").run();
        assert_eq!(run.code, 1);
        serde_json::from_str(&run.stdout).unwrap()
    };
    let before = report(dir.path());
    let issues = before.as_array().unwrap();
    assert_eq!(issues.len(), 4);
    let fingerprints: std::collections::BTreeSet<&str> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(fingerprints.len(), 4, "unique even for identical findings");
    assert_eq!(issues[0]["check_name"], "drop-column");
    assert_eq!(issues[0]["severity"], "critical");
    assert_eq!(issues[0]["location"]["path"], "2_drop.sql");
    assert_eq!(issues[0]["location"]["lines"]["begin"], 1);
    write(
        "2_drop.sql",
        "-- moved down\n\nALTER TABLE t DROP COLUMN a;\nALTER TABLE t DROP COLUMN b;\nTRUNCATE t;\nTRUNCATE t;\n",
    );
    let after = report(dir.path());
    let moved: std::collections::BTreeSet<&str> = after
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    assert_eq!(moved, fingerprints);
    assert_eq!(after[0]["location"]["lines"]["begin"], 3);
}

#[test]
fn files_with_dir_are_checked_against_the_rest_of_the_directory() {
    let dir = TempDir::new().unwrap();
    let m = dir.path().join("migrations");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::write(m.join("1_init.sql"), INIT).unwrap();
    std::fs::write(
        m.join("2_drop.sql"),
        "ALTER TABLE users DROP COLUMN legacy;\n",
    )
    .unwrap();
    std::fs::write(
        m.join("3_add.sql"),
        "ALTER TABLE users ADD COLUMN bio text;\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("draft.sql"),
        "ALTER TABLE users DROP COLUMN email;\n",
    )
    .unwrap();
    let run = migrate()
        .cwd(dir.path())
        .check()
        .dir("migrations")
        .arg("migrations/3_add.sql")
        .run();
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, ""),
        "only 3_add is linted: {}",
        run.stderr
    );
    let run = migrate()
        .cwd(dir.path())
        .check()
        .dir("migrations")
        .arg("migrations/2_drop.sql")
        .run();
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("in 1 file"), "{}", run.stdout);
    // A file outside the directory is judged against the whole directory as history.
    let run = migrate()
        .cwd(dir.path())
        .check()
        .dir("migrations")
        .arg("draft.sql")
        .run();
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .starts_with("draft.sql:1:19: error[M102 drop-column]: dropping column users.email"),
        "{}",
        run.stdout
    );
}

#[test]
fn pre_commit_hook_is_declared() {
    let hooks = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    assert!(hooks.contains("- id: migrate-check"));
    assert!(hooks.contains("entry: migrate check"));
    assert!(hooks.contains("files: \\.sql$"));
}
