//! The command line as users meet it: usage errors, exit codes, every format, configuration
//! and bad input. Each test works in its own temporary directory.

mod support;

use std::io::Read;
use std::path::Path;
use std::process::Stdio;

use assert_cmd::Command;
use tempfile::TempDir;

fn migrate(cwd: &Path) -> Command {
    let mut cmd = Command::cargo_bin("migrate").unwrap();
    cmd.current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("DATABASE_URL");
    cmd
}

fn write(dir: &Path, name: &str, content: impl AsRef<[u8]>) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A project with a history whose second migration drops a column.
fn project() -> TempDir {
    let dir = TempDir::new().unwrap();
    write(
        dir.path(),
        "migrations/20260101000000_init.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, email text, legacy text);\n",
    );
    write(
        dir.path(),
        "migrations/20260102000000_drop_legacy.sql",
        "ALTER TABLE users DROP COLUMN legacy;\n",
    );
    dir
}

/// `project()` whose second migration passes the check: a history `up` applies.
fn clean_project() -> TempDir {
    let dir = project();
    write_clean_second_migration(dir.path());
    dir
}

fn write_clean_second_migration(dir: &Path) {
    write(
        dir,
        "migrations/20260102000000_drop_legacy.sql",
        "CREATE TABLE t (id INT);\n",
    );
}

#[test]
fn violations_exit_1_with_file_line_and_recipe() {
    let dir = project();
    let r = run(migrate(dir.path()).arg("check"));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.starts_with(
        "migrations/20260102000000_drop_legacy.sql:1:19: error[M102 drop-column]: dropping column users.legacy"
    ), "{}", r.stdout);
    assert!(r.stdout.contains("  help: 1. "), "{}", r.stdout);
    assert!(r.stdout.trim_end().ends_with(
        "1 error, 0 warnings in 2 files (2 statements, 0 unparsed; layout migrate (auto))"
    ));
    assert!(!r.stdout.contains('\x1b'), "no colour when piped");
}

#[test]
fn a_clean_history_passes_silently() {
    let dir = TempDir::new().unwrap();
    write(
        dir.path(),
        "migrations/1_init.sql",
        "CREATE TABLE t (id int);\n",
    );
    write(dir.path(), "migrations/2_empty.sql", "");
    write(
        dir.path(),
        "migrations/3_comments.sql",
        "-- only a comment\n/* and another */\n",
    );
    let r = run(migrate(dir.path()).arg("check"));
    assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (0, "", ""));
}

#[test]
fn json_output_follows_the_documented_schema() {
    let dir = project();
    let r = run(migrate(dir.path()).args(["check", "--format", "json"]));
    assert_eq!(r.code, 1);
    assert_eq!(r.stdout.lines().count(), 1, "exactly one JSON object");
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schemas/check.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_keys(&report, &schema);
    let summary = &schema["properties"]["summary"];
    assert_keys(&report["summary"], summary);
    let item = &schema["properties"]["diagnostics"]["items"];
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1);
    for d in diagnostics {
        assert_keys(d, item);
    }
    let d = &diagnostics[0];
    assert_eq!(d["file"], "migrations/20260102000000_drop_legacy.sql");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(1), Some(19))
    );
    assert_eq!(
        (d["end_line"].as_u64(), d["end_column"].as_u64()),
        (Some(1), Some(37))
    );
    assert_eq!(d["rule"], "drop-column");
    assert_eq!(d["code"], "M102");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["object"], "users.legacy");
    assert_eq!(report["summary"]["files"], 2);
    assert_eq!(report["summary"]["errors"], 1);
}

/// The object has exactly the schema's required keys, and only known ones.
fn assert_keys(value: &serde_json::Value, schema: &serde_json::Value) {
    let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
    let properties = schema["properties"].as_object().unwrap();
    for key in &keys {
        assert!(properties.contains_key(*key), "undocumented key {key}");
    }
    for required in schema["required"].as_array().unwrap() {
        assert!(
            keys.iter().any(|k| *k == required.as_str().unwrap()),
            "missing key {required}"
        );
    }
}

#[test]
fn file_arguments_are_the_whole_history_in_the_given_order() {
    let dir = TempDir::new().unwrap();
    write(dir.path(), "b.sql", "CREATE TABLE t (id int, x int);\n");
    write(dir.path(), "a.sql", "ALTER TABLE t DROP COLUMN x;\n");
    let r = run(migrate(dir.path()).args(["check", "b.sql", "a.sql"]));
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.starts_with("a.sql:1:15: error[M102 drop-column]"),
        "{}",
        r.stdout
    );
    let r = run(migrate(dir.path()).args(["check", "a.sql", "b.sql"]));
    assert_eq!(r.code, 1, "t unknown in a.sql: judged as an existing table");
}

#[test]
fn usage_errors_exit_2() {
    let dir = project();
    for args in [
        vec!["check", "--format", "xml"],
        vec!["check", "--dialect", "oracle"],
        vec!["check", "--bogus"],
        vec!["frobnicate"],
        vec![],
    ] {
        let r = run(migrate(dir.path()).args(&args));
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(!r.stderr.is_empty(), "{args:?} says why");
    }
    let r = run(migrate(dir.path()).args(["check", "--dialect", "oracle"]));
    assert!(r.stderr.contains("oracle"), "{}", r.stderr);
    let r = run(migrate(dir.path()).arg("--help"));
    assert_eq!(r.code, 0);
}

#[test]
fn unreadable_input_exits_2_naming_it() {
    let dir = project();
    let r = run(migrate(dir.path()).args(["check", "--dir", "nope"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("migration directory nope does not exist"),
        "{}",
        r.stderr
    );

    write(
        dir.path(),
        "migrations/20260103000000_bad.sql",
        b"SELECT 1;\n\xff\xfe;\n",
    );
    let r = run(migrate(dir.path()).arg("check"));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("20260103000000_bad.sql is not valid UTF-8 (line 2"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty());

    let r = run(migrate(dir.path()).args(["check", "migrations"]));
    assert_eq!(r.code, 2, "a directory as FILE: {}", r.stderr);
    assert!(
        r.stderr
            .starts_with("migrate: migrations is a directory, not a migration file"),
        "{}",
        r.stderr
    );
}

#[test]
fn config_is_found_upwards_and_overridden_by_flags() {
    let dir = TempDir::new().unwrap();
    write(
        dir.path(),
        "migrate.toml",
        "dir = \"db/migrations\"\ndialect = \"mysql\"\n[rules]\ndrop-column = \"warning\"\n",
    );
    write(
        dir.path(),
        "db/migrations/1_init.sql",
        "CREATE TABLE t (id INT, x INT);\n",
    );
    write(
        dir.path(),
        "db/migrations/2_drop.sql",
        "ALTER TABLE t DROP COLUMN x;\n",
    );
    std::fs::create_dir_all(dir.path().join("src/deep")).unwrap();
    let r = run(migrate(&dir.path().join("src/deep")).args(["check", "--format", "json"]));
    assert_eq!(r.code, 0, "drop-column is a warning here: {}", r.stderr);
    assert!(
        r.stdout.contains("\"severity\":\"warning\""),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("\"file\":\"../../db/migrations/2_drop.sql\"")
            || r.stdout.contains("db/migrations/2_drop.sql")
    );

    write(dir.path(), "off.toml", "[rules]\ndrop-column = \"off\"\n");
    let r =
        run(migrate(dir.path()).args(["check", "--config", "off.toml", "--dir", "db/migrations"]));
    assert_eq!((r.code, r.stdout.as_str()), (0, ""), "{}", r.stderr);
}

#[test]
fn bad_config_exits_2_naming_the_setting() {
    let dir = project();
    for (content, needle) in [
        ("dirr = \"x\"\n", "dirr"),
        ("[rules]\ndrop-colum = \"off\"\n", "drop-colum"),
        ("[rules]\ndrop-column = \"loud\"\n", "loud"),
        ("dialect = \"oracle\"\n", "oracle"),
        ("dir = [unclosed\n", "migrate.toml"),
    ] {
        write(dir.path(), "migrate.toml", content);
        let r = run(migrate(dir.path()).arg("check"));
        assert_eq!(r.code, 2, "{content}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{content}: {}", r.stderr);
        assert!(
            r.stderr.contains("migrate.toml"),
            "names the file: {}",
            r.stderr
        );
    }
    let r = run(migrate(dir.path()).args(["check", "--config", "missing.toml"]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("missing.toml"), "{}", r.stderr);
}

#[test]
fn hostile_input_is_a_diagnostic_not_a_crash() {
    let dir = TempDir::new().unwrap();
    let deep = format!("SELECT {}1{};\n", "(".repeat(10_000), ")".repeat(10_000));
    write(dir.path(), "migrations/1_deep.sql", deep);
    write(
        dir.path(),
        "migrations/2_garbage.sql",
        "\u{1}\u{2} ;;; ' unterminated \n $$ \" ` /* ",
    );
    write(
        dir.path(),
        "migrations/3_ok.sql",
        "CREATE TABLE t (id int);\n",
    );
    let r = run(migrate(dir.path()).args(["check", "--format", "json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["summary"]["files"], 3);
    assert!(report["summary"]["unparsed"].as_u64().unwrap() >= 2);
    let r = run(migrate(dir.path()).args(["check", "--strict"]));
    assert_eq!(r.code, 1, "--strict makes unparsed statements errors");
}

#[test]
fn rule_docs_and_listing() {
    let dir = TempDir::new().unwrap();
    let r = run(migrate(dir.path()).args(["rule", "drop-column"]));
    assert_eq!(r.code, 0);
    assert!(r.stdout.starts_with("# drop-column (M102)"), "{}", r.stdout);
    assert!(r.stdout.contains("## Safe recipe (expand/contract)"));
    let by_code = run(migrate(dir.path()).args(["rule", "m102"]));
    assert_eq!(by_code.stdout, r.stdout);
    let r = run(migrate(dir.path()).args(["rule", "--list"]));
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stdout.lines().count(),
        migrate::analyze::registry::RULES.len()
    );
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("M102  drop-column ")),
        "{}",
        r.stdout
    );
    let r = run(migrate(dir.path()).args(["rule", "nope"]));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("unknown rule `nope`"), "{}", r.stderr);
}

#[test]
fn a_closed_pipe_ends_output_quietly() {
    let dir = TempDir::new().unwrap();
    let mut history = String::from("CREATE TABLE t (id int);\n");
    write(dir.path(), "migrations/1_init.sql", &history);
    history.clear();
    for i in 0..3000 {
        history.push_str(&format!("TRUNCATE t;\n-- {i}\n"));
    }
    write(dir.path(), "migrations/2_many.sql", history);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("migrate"))
        .current_dir(dir.path())
        .arg("check")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{stderr}"
    );
    assert!(status.code().is_some(), "not killed by a signal");
}

#[test]
fn new_creates_a_timestamped_file_with_a_slug() {
    let dir = TempDir::new().unwrap();
    let r = run(migrate(dir.path()).args(["new", "Add e-mail to Users"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let path = r.stdout.trim().to_string();
    let name = path.strip_prefix("migrations/").unwrap();
    let (version, rest) = name.split_once('_').unwrap();
    assert_eq!(version.len(), 14, "yyyymmddHHMMSS: {name}");
    assert!(version.starts_with("20"), "{name}");
    assert_eq!(rest, "add_e_mail_to_users.sql");
    assert!(dir.path().join(&path).is_file());
    // Created within the same second: the version still grows.
    let second = run(migrate(dir.path()).args(["new", "second"]));
    let second_version: u64 = second.stdout.trim()["migrations/".len()..][..14]
        .parse()
        .unwrap();
    assert!(second_version > version.parse::<u64>().unwrap());
    let r = run(migrate(dir.path()).args(["new", "!!!"]));
    assert_eq!(r.code, 2);
    let r = run(migrate(dir.path()).arg("check"));
    assert_eq!(
        r.code, 0,
        "new files are valid, empty migrations: {}",
        r.stdout
    );
}

#[test]
fn new_writes_contract_and_backfill_migrations() {
    let dir = TempDir::new().unwrap();
    std::fs::create_dir(dir.path().join("migrations")).unwrap();
    write(
        &dir.path().join("migrations"),
        "20260101000000_users.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, legacy text, org_id bigint);\n",
    );
    write(
        &dir.path().join("migrations"),
        "20260102000000_nick.sql",
        "ALTER TABLE users ADD COLUMN nick text;\n",
    );
    let r = run(migrate(dir.path()).args(["new", "--contract", "drop legacy", "-f", "json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let value = support::schema::parse_valid(&r.stdout, "new.schema.json");
    assert_eq!(value["phase"], "contract");
    let contract = dir.path().join(value["file"].as_str().unwrap());
    let r = run(migrate(dir.path()).args(["new", "--backfill", "fill org"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let backfill = dir.path().join(r.stdout.trim());
    assert!(
        std::fs::read_to_string(&backfill)
            .unwrap()
            .starts_with("-- migrate:backfill\n")
    );
    let both = run(migrate(dir.path()).args(["new", "--contract", "--backfill", "x"]));
    assert_eq!(both.code, 2, "{}", both.stderr);
    // The files declare their phase: what check allows in them follows.
    let mut text = std::fs::read_to_string(&contract).unwrap();
    text.push_str("ALTER TABLE users DROP COLUMN legacy;\n");
    std::fs::write(&contract, text).unwrap();
    let mut text = std::fs::read_to_string(&backfill).unwrap();
    text.push_str("UPDATE users SET org_id = 1 WHERE id IN (SELECT id FROM users WHERE org_id IS NULL LIMIT 100);\nCREATE INDEX users_org ON users (org_id);\n");
    std::fs::write(&backfill, text).unwrap();
    let r = run(migrate(dir.path()).args(["check", "--dialect", "postgres", "-f", "json"]));
    let value = support::schema::parse_valid(&r.stdout, "check.schema.json");
    let rules: Vec<&str> = value["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        ["backfill-not-dml", "create-index-not-concurrently"],
        "{value}"
    );
    // Outside a contract migration the drop breaks the previous release.
    let text = std::fs::read_to_string(&contract).unwrap();
    std::fs::write(&contract, text.replace("-- migrate:contract\n", "")).unwrap();
    let r = run(migrate(dir.path()).args(["check", "--dialect", "postgres"]));
    assert!(r.stdout.contains("drop-column"), "{}", r.stdout);
}

#[test]
fn database_commands_need_a_database() {
    let dir = project();
    let r = run(migrate(dir.path()).arg("up"));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("no database: pass --database URL, set DATABASE_URL"),
        "{}",
        r.stderr
    );
}

/// sqlx-cli's names: `--database-url` and `-D` are `--database`; short flags for the common
/// options (`-d` dir, `-f` format, `-c` config).
#[test]
fn database_url_aliases_and_short_flags() {
    let dir = project();
    let db = dir.path().join("app.db");
    let url = format!("sqlite://{}", db.display());
    let long = run(migrate(dir.path()).args(["up", "--database-url", &url]));
    assert_eq!(long.code, 0, "{}{}", long.stdout, long.stderr);
    assert!(
        long.stdout.contains("2 migrations applied"),
        "{}",
        long.stdout
    );
    let short =
        run(migrate(dir.path()).args(["status", "-D", &url, "-d", "migrations", "-f", "json"]));
    assert_eq!(short.code, 0, "{}{}", short.stdout, short.stderr);
    let report: serde_json::Value = serde_json::from_str(&short.stdout).unwrap();
    assert_eq!(
        report["migrations"].as_array().unwrap().len(),
        2,
        "{}",
        short.stdout
    );
    write(dir.path(), "other.toml", "dir = \"nowhere\"\n");
    let config = run(migrate(dir.path()).args(["check", "-c", "other.toml"]));
    assert_eq!(config.code, 2, "{}{}", config.stdout, config.stderr);
    assert!(config.stderr.contains("nowhere"), "{}", config.stderr);
}

/// `migrate completions SHELL` prints a completion script that knows the subcommands and
/// flags; an unknown shell is a usage error (exit 2).
#[test]
fn completions_for_each_shell() {
    let dir = TempDir::new().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = run(migrate(dir.path()).args(["completions", shell]));
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        for word in ["baseline", "start-after", "database-url"] {
            assert!(out.stdout.contains(word), "{shell} lacks {word}");
        }
    }
    let bash = run(migrate(dir.path()).args(["completions", "bash"]));
    let status = std::process::Command::new("bash")
        .arg("-n")
        .stdin(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(bash.stdout.as_bytes())?;
            child.wait()
        })
        .unwrap();
    assert!(status.success(), "bash -n accepts the script");
    assert_eq!(
        run(migrate(dir.path()).args(["completions", "tcsh"])).code,
        2
    );
}

/// Read-only commands never create a database: a missing SQLite file is "no such database"
/// (exit 2) for status, verify and up --dry-run (and for resolve and baseline, which record
/// history of an existing database), and nothing appears on disk, the URL shown as given. sqlx's short
/// forms `sqlite:FILE` and `sqlite::memory:` work (and the in-memory one leaves no lock file).
#[test]
fn read_only_commands_create_nothing_and_sqlx_sqlite_urls() {
    let dir = clean_project();
    for args in [
        vec!["status", "-D", "sqlite://missing.db"],
        vec!["verify", "-D", "sqlite://missing.db"],
        vec!["up", "--dry-run", "-D", "sqlite:missing.db"],
        // These write history, but only of a database that exists.
        vec!["resolve", "1", "--rolled-back", "-D", "sqlite:missing.db"],
        vec!["baseline", "1", "-D", "sqlite:missing.db"],
    ] {
        let out = run(migrate(dir.path()).args(&args));
        assert_eq!(out.code, 2, "{args:?}: {}{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains("no such database") && out.stderr.contains("missing.db;"),
            "{args:?}: {}",
            out.stderr
        );
    }
    let files = |d: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(files(dir.path()), ["migrations"]);
    let memory = run(migrate(dir.path()).args(["up", "-D", "sqlite::memory:"]));
    assert_eq!(memory.code, 0, "{}{}", memory.stdout, memory.stderr);
    assert_eq!(
        files(dir.path()),
        ["migrations"],
        "no file for an in-memory database"
    );
    let short = run(migrate(dir.path()).args(["up", "-D", "sqlite:app.db"]));
    assert_eq!(short.code, 0, "{}{}", short.stdout, short.stderr);
    assert!(dir.path().join("app.db").is_file());
    let status = run(migrate(dir.path()).args(["status", "-D", "sqlite:app.db"]));
    assert_eq!(status.code, 0, "{}{}", status.stdout, status.stderr);
}

/// A SQLite path in migrate.toml is relative to that file, as `dir` is: the same database
/// from the project's root and from a subfolder.
#[test]
fn a_sqlite_path_in_the_config_is_relative_to_it() {
    let dir = clean_project();
    write(
        dir.path(),
        "migrate.toml",
        "dir = \"migrations\"\ndatabase_url = \"sqlite://data/app.db\"\n",
    );
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::create_dir_all(dir.path().join("src/deep")).unwrap();
    let up = run(migrate(&dir.path().join("src/deep")).arg("up"));
    assert_eq!(up.code, 0, "{}{}", up.stdout, up.stderr);
    assert!(dir.path().join("data/app.db").is_file());
    assert!(!dir.path().join("src/deep/data").exists());
    let again = run(migrate(dir.path()).arg("up"));
    assert!(
        again.stdout.contains("up to date"),
        "{}{}",
        again.stdout,
        again.stderr
    );
}

/// `check` takes its dialect from the database URL when none is set (a MySQL-only statement
/// parses under DATABASE_URL=mysql://...), and a `dialect` that contradicts the URL's scheme
/// is an error naming both, for check and for the database commands.
#[test]
fn check_takes_the_dialect_from_the_url_and_refuses_a_contradiction() {
    let dir = project();
    write(
        dir.path(),
        "migrations/20260102000000_drop_legacy.sql",
        "ALTER TABLE users ADD COLUMN nick TEXT AFTER email;\n",
    );
    let postgres = run(migrate(dir.path()).arg("check"));
    assert!(
        postgres.stdout.contains("unparsed-statement"),
        "{}",
        postgres.stdout
    );
    let mysql = run(migrate(dir.path())
        .arg("check")
        .env("DATABASE_URL", "mysql://app:hunter22@127.0.0.1/app"));
    assert_eq!(mysql.code, 0, "{}{}", mysql.stdout, mysql.stderr);
    assert!(!mysql.stdout.contains("unparsed"), "{}", mysql.stdout);
    write(dir.path(), "migrate.toml", "dialect = \"sqlite\"\n");
    let contradiction = run(migrate(dir.path())
        .arg("check")
        .env("DATABASE_URL", "mysql://app:hunter22@127.0.0.1/app"));
    assert_eq!(contradiction.code, 2);
    assert!(
        contradiction.stderr.contains("dialect = \"sqlite\"")
            && contradiction.stderr.contains("(mysql, from DATABASE_URL)")
            && !contradiction.stderr.contains("hunter22"),
        "{}",
        contradiction.stderr
    );
    let status =
        run(migrate(dir.path()).args(["status", "-D", "postgres://app:hunter22@127.0.0.1:1/x"]));
    assert_eq!(status.code, 2);
    assert!(
        status.stderr.contains("contradicts") && !status.stderr.contains("hunter22"),
        "{}",
        status.stderr
    );
}

/// Settings from the environment: `MIGRATE_<KEY>` for every migrate.toml key, flag >
/// environment > file > default; a bad value names the variable. A `.env` file in the working
/// directory is read (the process's variables win over it), `--no-dotenv` skips it, and a
/// malformed one is an error naming its line.
#[test]
fn settings_from_the_environment_and_dotenv() {
    let dir = project();
    // The file says goose (which the plain files break), the environment says migrate.
    write(dir.path(), "migrate.toml", "layout = \"goose\"\n");
    let file = run(migrate(dir.path()).arg("check"));
    assert_eq!(file.code, 2, "the file's layout: {}", file.stderr);
    let env = run(migrate(dir.path())
        .arg("check")
        .env("MIGRATE_LAYOUT", "migrate"));
    assert_eq!(
        env.code, 1,
        "the environment's layout: {}{}",
        env.stdout, env.stderr
    );
    let flag = run(migrate(dir.path())
        .args(["check", "--layout", "goose"])
        .env("MIGRATE_LAYOUT", "migrate"));
    assert_eq!(flag.code, 2, "the flag's layout: {}", flag.stderr);
    let bad = run(migrate(dir.path())
        .arg("check")
        .env("MIGRATE_LOCK_WAIT", "soon"));
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("MIGRATE_LOCK_WAIT"), "{}", bad.stderr);
    std::fs::remove_file(dir.path().join("migrate.toml")).unwrap();
    write_clean_second_migration(dir.path());
    write(
        dir.path(),
        ".env",
        "# local settings\nDATABASE_URL=sqlite://dotenv.db\nexport MIGRATE_HISTORY_TABLE=\"from_dotenv\"\n",
    );
    let up = run(migrate(dir.path()).arg("up"));
    assert_eq!(up.code, 0, "{}{}", up.stdout, up.stderr);
    assert!(dir.path().join("dotenv.db").is_file());
    // The process's variable wins over .env's.
    let status = run(migrate(dir.path())
        .arg("status")
        .env("DATABASE_URL", "sqlite://other.db"));
    assert_eq!(status.code, 2, "other.db does not exist: {}", status.stderr);
    let skipped = run(migrate(dir.path()).args(["status", "--no-dotenv"]));
    assert_eq!(skipped.code, 2);
    assert!(skipped.stderr.contains("no database"), "{}", skipped.stderr);
    let conn = sqlite_tables(&dir.path().join("dotenv.db"));
    assert!(conn.contains(&"from_dotenv".to_string()), "{conn:?}");
    write(
        dir.path(),
        ".env",
        "DATABASE_URL=sqlite://dotenv.db\nnot a setting\n",
    );
    let broken = run(migrate(dir.path()).arg("status"));
    assert_eq!(broken.code, 2);
    assert!(broken.stderr.contains(".env:2"), "{}", broken.stderr);
    // A malformed line never shows its password, and JSON callers get the error object.
    for line in [
        "DATABASE_URL postgres://app:s3cr3tpw@db/prod",
        "PGPASSWORD s3cr3tpw",
    ] {
        write(dir.path(), ".env", format!("{line}\n"));
        let broken = run(migrate(dir.path()).args(["status", "-f", "json"]));
        assert_eq!(broken.code, 2);
        assert!(
            !broken.stdout.contains("s3cr3tpw") && !broken.stderr.contains("s3cr3tpw"),
            "{}{}",
            broken.stdout,
            broken.stderr
        );
        let error = support::schema::parse_valid(&broken.stdout, "error.schema.json");
        assert!(
            error["error"].as_str().unwrap().contains(".env:1"),
            "{error}"
        );
    }
}

/// The tables of a SQLite file as the sqlite3 shell lists them (an oracle apart from the code
/// under test).
fn sqlite_tables(path: &Path) -> Vec<String> {
    let out = std::process::Command::new("sqlite3")
        .arg(path)
        .arg("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1")
        .output()
        .expect("sqlite3 is installed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// A TOML error keeps toml's own layout: the line quoted on a line of its own, a caret line
/// under the bad value.
#[test]
fn toml_errors_keep_their_caret_layout() {
    let dir = project();
    write(
        dir.path(),
        "migrate.toml",
        "dir = \"migrations\"\nlock_wait = 5s\n",
    );
    let out = run(migrate(dir.path()).arg("check"));
    assert_eq!(out.code, 2);
    let lines: Vec<&str> = out.stderr.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.ends_with("| lock_wait = 5s"))
        .unwrap_or_else(|| panic!("the line quoted: {}", out.stderr));
    assert!(
        lines
            .get(at + 1)
            .is_some_and(|l| l.trim_end().ends_with("^^")),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("line 2"), "{}", out.stderr);
}

/// `new`, `hash` and `rule` print one object by their schemas with `--format json`, and an
/// unknown rule prints the error object (exit 2).
#[test]
fn new_hash_and_rule_print_json_by_their_schemas() {
    let dir = TempDir::new().unwrap();
    let r = run(migrate(dir.path()).args(["new", "add email", "--format", "json"]));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let made = support::schema::parse_valid(&r.stdout, "new.schema.json");
    let file = made["file"].as_str().unwrap();
    assert!(dir.path().join(file).is_file(), "{file}");
    assert_eq!(made["layout"], "migrate");
    assert!(
        file.ends_with(&format!("{}_add_email.sql", made["version"])),
        "{made}"
    );
    let r = run(migrate(dir.path()).args(["hash", "-f", "json"]));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let hashed = support::schema::parse_valid(&r.stdout, "hash.schema.json");
    assert_eq!(hashed["migrations"], 1);
    assert!(dir.path().join(hashed["file"].as_str().unwrap()).is_file());
    // Two files sharing a version: the sum would leave one out, so it is not written.
    write(dir.path(), "migrations/1_a.sql", "SELECT 1;\n");
    write(dir.path(), "migrations/1_b.sql", "SELECT 2;\n");
    std::fs::remove_file(dir.path().join("migrations/migrate.sum")).unwrap();
    let r = run(migrate(dir.path()).args(["hash", "-f", "json"]));
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    support::schema::parse_valid(&r.stdout, "error.schema.json");
    assert!(!dir.path().join("migrations/migrate.sum").exists());
    let r = run(migrate(dir.path()).args(["rule", "--list", "-f", "json"]));
    let list = support::schema::parse_valid(&r.stdout, "rule.schema.json");
    assert_eq!(
        list["rules"].as_array().unwrap().len(),
        migrate::analyze::registry::RULES.len()
    );
    let r = run(migrate(dir.path()).args(["rule", "M102", "-f", "json"]));
    let one = support::schema::parse_valid(&r.stdout, "rule.schema.json");
    assert_eq!(one["rules"][0]["name"], "drop-column");
    assert!(
        one["rules"][0]["recipe"]
            .as_str()
            .unwrap()
            .starts_with("1. "),
        "{one}"
    );
    let r = run(migrate(dir.path()).args(["rule", "no-such-rule", "-f", "json"]));
    assert_eq!(r.code, 2);
    let error = support::schema::parse_valid(&r.stdout, "error.schema.json");
    assert_eq!(error["exit_code"], 2);
    // A diesel directory: the folder and its down.sql.
    let diesel = TempDir::new().unwrap();
    std::fs::create_dir_all(diesel.path().join("migrations/2024-01-01-000000_init")).unwrap();
    write(
        diesel.path(),
        "migrations/2024-01-01-000000_init/up.sql",
        "CREATE TABLE t (id int);\n",
    );
    write(
        diesel.path(),
        "migrations/2024-01-01-000000_init/down.sql",
        "DROP TABLE t;\n",
    );
    let r = run(migrate(diesel.path()).args(["new", "add x", "-f", "json"]));
    let made = support::schema::parse_valid(&r.stdout, "new.schema.json");
    assert_eq!(made["layout"], "diesel", "{made}");
    assert!(
        made["down_file"]
            .as_str()
            .unwrap()
            .ends_with("_add_x/down.sql"),
        "{made}"
    );
}

/// `check --stdin-filename NAME` judges standard input as the file NAME of the directory,
/// against the rest as history: it replaces NAME's text on disk (the editor's unsaved
/// buffer wins), takes its place in apply order when new, and gets the name problems the
/// saved file would (a bad name, a taken version). Nothing is written.
#[test]
fn stdin_filename_judges_the_buffer_against_the_directory() {
    let dir = project();
    let second = "migrations/20260102000000_drop_legacy.sql";
    let check = |name: &str, text: &str| {
        run(migrate(dir.path())
            .args(["check", "--format", "json", "--stdin-filename", name])
            .write_stdin(text))
    };
    let report = |r: &Run| -> Vec<(String, String)> {
        let value = support::schema::parse_valid(&r.stdout, "check.schema.json");
        value["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["file"].as_str().unwrap().to_string(),
                    d["rule"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    // The buffer fixes the file on disk: clean, though the saved file drops a column.
    let fixed = check(second, "ALTER TABLE users ADD COLUMN bio text;\n");
    assert_eq!(
        (fixed.code, report(&fixed)),
        (0, vec![]),
        "{}",
        fixed.stderr
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join(second)).unwrap(),
        "ALTER TABLE users DROP COLUMN legacy;\n"
    );
    // A new file after the history: the table its first migration made is known (old).
    let new = check(
        "migrations/20260103000000_more.sql",
        "ALTER TABLE users DROP COLUMN email;\n",
    );
    assert_eq!(new.code, 1);
    assert_eq!(
        report(&new),
        [(
            "migrations/20260103000000_more.sql".into(),
            "drop-column".into()
        )]
    );
    // Only the buffer is judged: the saved second file's drop-column is history here.
    let bad = check("migrations/more.sql", "SELECT 1;\n");
    assert_eq!(
        report(&bad),
        [(
            "migrations/more.sql".into(),
            "invalid-migration-name".into()
        )]
    );
    let taken = check("migrations/20260101000000_again.sql", "SELECT 1;\n");
    assert!(
        report(&taken)
            .iter()
            .any(|(_, rule)| rule == "duplicate-version"),
        "{}",
        taken.stdout
    );
    // Read as the saved file would be: a bad name is only its problem.
    let bad = check(
        "migrations/more.sql",
        "ALTER TABLE users DROP COLUMN email;\n",
    );
    assert_eq!(
        report(&bad),
        [(
            "migrations/more.sql".into(),
            "invalid-migration-name".into()
        )]
    );
    let other = check(
        "migrations/notes.txt",
        "ALTER TABLE users DROP COLUMN email;\n",
    );
    assert_eq!((other.code, report(&other)), (0, vec![]));
    // A name the saved file could not have: could not run.
    for name in [
        "../elsewhere/20260104000000_x.sql",
        "migrations/../20260104000000_x.sql",
        "migrations",
        ".",
    ] {
        let r = check(name, "SELECT 1;\n");
        assert_eq!(r.code, 2, "{name}: {}{}", r.stdout, r.stderr);
        support::schema::parse_valid(&r.stdout, "error.schema.json");
    }
    assert_eq!(
        std::fs::read_dir(dir.path().join("migrations"))
            .unwrap()
            .count(),
        2,
        "nothing written"
    );
}

/// migrate.toml found in a folder above the working directory: the default `migrations`
/// directory is the one beside it (as a `dir` key would be), not one under the working
/// directory.
#[test]
fn default_dir_is_beside_the_config_file() {
    let dir = project();
    write(dir.path(), "migrate.toml", "dialect = \"postgres\"\n");
    let deep = dir.path().join("app/src");
    std::fs::create_dir_all(&deep).unwrap();
    let r = run(migrate(&deep).args(["check", "-f", "json"]));
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let report: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(report["summary"]["files"], 2, "{report}");
    assert!(!deep.join("migrations").exists());
}

/// Notes repeat per file (every diesel folder has a down.sql): human output shows the first
/// three of a rule and counts the rest in one line; JSON lists every one.
#[test]
fn repeated_notes_are_counted_not_repeated() {
    let dir = TempDir::new().unwrap();
    for i in 1..=5 {
        write(
            dir.path(),
            &format!("migrations/{i}_t{i}.up.sql"),
            format!("CREATE TABLE t{i} (id int);\n"),
        );
        write(
            dir.path(),
            &format!("migrations/{i}_t{i}.down.sql"),
            format!("DROP TABLE t{i};\n"),
        );
    }
    let human = run(migrate(dir.path()).arg("check"));
    assert_eq!(human.code, 0, "{}{}", human.stdout, human.stderr);
    assert_eq!(
        human
            .stdout
            .matches("note[M004 down-migration-ignored]: rollback file")
            .count(),
        3,
        "{}",
        human.stdout
    );
    assert!(
        human
            .stdout
            .contains("note[M004 down-migration-ignored]: 2 more like these"),
        "{}",
        human.stdout
    );
    assert!(human.stdout.contains("5 notes"), "{}", human.stdout);
    let json = run(migrate(dir.path()).args(["check", "-f", "json"]));
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["diagnostics"].as_array().unwrap().len(), 5);
}

/// A usage error of a command asked for JSON still prints the error object (exit 2).
#[test]
fn usage_errors_print_the_error_object_when_json_is_asked() {
    let dir = TempDir::new().unwrap();
    for args in [
        vec!["rule", "-f", "json"],
        vec!["resolve", "1", "--format=json"],
        vec!["check", "--bogus", "--format", "json"],
    ] {
        let r = run(migrate(dir.path()).args(&args));
        assert_eq!(r.code, 2, "{args:?}");
        let error = support::schema::parse_valid(&r.stdout, "error.schema.json");
        assert!(!error["error"].as_str().unwrap().is_empty(), "{args:?}");
    }
    let human = run(migrate(dir.path()).args(["check", "--bogus"]));
    assert_eq!((human.code, human.stdout.as_str()), (2, ""));
}
