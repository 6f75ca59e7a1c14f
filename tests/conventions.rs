//! House rules that keep the rule set honest: every rule is documented in its file with the
//! required sections, has a rejecting and an accepted fixture, and has an up-to-date
//! generated page in docs/rules/. Regenerate the pages with `MIGRATE_BLESS=1 cargo test`.

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use migrate::analyze::registry::RULES;

const SECTIONS: [&str; 5] = [
    "What it does",
    "Why it breaks the running app",
    "Example",
    "Safe recipe (expand/contract)",
    "Suppress",
];

#[test]
fn every_rule_has_the_documentation_sections() {
    for rule in RULES {
        for section in SECTIONS {
            let body = rule.section(section);
            assert!(
                body.as_deref().is_some_and(|b| !b.is_empty()),
                "{}: missing or empty section `## {section}`",
                rule.name
            );
        }
        assert!(
            rule.recipe()
                .lines()
                .next()
                .is_some_and(|l| l.starts_with("1. ")),
            "{}: the recipe must be numbered steps",
            rule.name
        );
        assert!(
            support::lowercase_sentence(rule.summary),
            "{}: summary must start lowercase without a trailing period",
            rule.name
        );
    }
}

#[test]
fn names_and_codes_are_unique_well_formed_and_one_file_each() {
    let mut names = BTreeSet::new();
    let mut codes = BTreeSet::new();
    let mut previous = "";
    for rule in RULES {
        assert!(names.insert(rule.name), "duplicate name {}", rule.name);
        assert!(codes.insert(rule.code), "duplicate code {}", rule.code);
        assert!(
            rule.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-')
                && !rule.name.starts_with("ban-")
                && !rule.name.starts_with("prefer-"),
            "{}: names are kebab-case and name the pattern",
            rule.name
        );
        assert!(
            rule.code.len() == 4
                && rule.code.starts_with('M')
                && rule.code[1..].chars().all(|c| c.is_ascii_digit()),
            "{}: code {} is not M + 3 digits",
            rule.name,
            rule.code
        );
        assert!(
            rule.code > previous,
            "RULES must be in code order at {}",
            rule.code
        );
        previous = rule.code;
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("src/analyze/rules")
            .join(format!("{}.rs", rule.name.replace('-', "_")));
        assert!(
            file.is_file(),
            "{}: no rule file {}",
            rule.name,
            file.display()
        );
    }
}

#[test]
fn every_rule_has_a_rejecting_and_an_accepted_fixture() {
    let markers = support::all_markers();
    for rule in RULES {
        let has = |fires: bool| {
            markers
                .iter()
                .any(|(_, r, f)| r == rule.name && *f == fires)
        };
        assert!(
            has(true),
            "{}: no fixture with `-- expect: {}`",
            rule.name,
            rule.name
        );
        assert!(
            has(false),
            "{}: no fixture with `-- accept: {}`",
            rule.name,
            rule.name
        );
    }
    for (dir, rule, _) in &markers {
        assert!(
            RULES.iter().any(|r| r.name == rule),
            "{}: marker names unknown rule {rule}",
            dir.display()
        );
    }
}

#[test]
fn rule_pages_in_docs_are_up_to_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules");
    let bless = std::env::var_os("MIGRATE_BLESS").is_some();
    if bless {
        std::fs::create_dir_all(&dir).unwrap();
    }
    let mut stale = Vec::new();
    for rule in RULES {
        let path = dir.join(format!("{}.md", rule.name));
        let page = rule.page();
        if bless {
            std::fs::write(&path, &page).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(page.as_str()) {
            stale.push(path.display().to_string());
        }
    }
    let index = dir.join("README.md");
    let listing = rules_index();
    if bless {
        std::fs::write(&index, &listing).unwrap();
    } else if std::fs::read_to_string(&index).ok().as_deref() != Some(listing.as_str()) {
        stale.push(index.display().to_string());
    }
    for entry in std::fs::read_dir(&dir).into_iter().flatten() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        let known = name == "README.md" || RULES.iter().any(|r| format!("{}.md", r.name) == name);
        assert!(known, "docs/rules/{name} belongs to no rule: delete it");
    }
    assert!(
        stale.is_empty(),
        "stale rule docs (run `MIGRATE_BLESS=1 cargo test --test conventions`):\n{}",
        stale.join("\n")
    );
}

fn rules_index() -> String {
    let mut out = String::from(
        "# Rules\n\nGenerated from the rules' documentation (`migrate rule --list`, `migrate rule NAME`).\n\n| code | rule | default | summary |\n|---|---|---|---|\n",
    );
    for rule in RULES {
        out.push_str(&format!(
            "| {} | [{}]({}.md) | {} | {} |\n",
            rule.code,
            rule.name,
            rule.name,
            rule.severity.name(),
            rule.summary
        ));
    }
    out
}

/// Every link to the project's repository in the docs and the README is the `repository` of
/// Cargo.toml (the CI recipes install from it).
#[test]
fn repository_urls_in_docs_match_cargo_toml() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let repository = manifest
        .lines()
        .find_map(|l| l.strip_prefix("repository = \""))
        .and_then(|l| l.strip_suffix('"'))
        .expect("Cargo.toml has a repository");
    assert_eq!(repository, env!("CARGO_PKG_REPOSITORY"));
    let mut pages = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    let mut links = 0;
    for page in pages {
        let text = std::fs::read_to_string(&page).unwrap();
        for (at, _) in text.match_indices("https://github.com/") {
            let url: String = text[at..]
                .chars()
                .take_while(|c| !c.is_whitespace() && !"`)\"'>]".contains(*c))
                .collect();
            // Other projects' actions and docs are not ours.
            let project = url.trim_start_matches("https://github.com/");
            if project.starts_with("migrate/") {
                assert_eq!(url, repository, "{}: {url}", page.display());
                links += 1;
            }
        }
    }
    assert!(
        links >= 3,
        "the CI recipes link the repository ({links} links)"
    );
}

/// The schema validator the JSON tests use fails on what a schema forbids.
#[test]
fn the_validator_refuses_what_a_schema_forbids() {
    let schema = serde_json::json!({
        "type": "object", "required": ["a"], "additionalProperties": false,
        "properties": {
            "a": {"type": "integer", "minimum": 0},
            "b": {"type": ["string", "null"]},
            "c": {"type": "array", "items": {"enum": ["x", "y"]}}
        }
    });
    let ok = serde_json::json!({"a": 1, "b": null, "c": ["x"]});
    assert!(support::schema::validate(&ok, &schema, "$").is_ok());
    for bad in [
        serde_json::json!({"b": "s"}),
        serde_json::json!({"a": -1}),
        serde_json::json!({"a": "1"}),
        serde_json::json!({"a": 1, "b": 2}),
        serde_json::json!({"a": 1, "c": ["z"]}),
        serde_json::json!({"a": 1, "d": 0}),
    ] {
        assert!(
            support::schema::validate(&bad, &schema, "$").is_err(),
            "{bad}"
        );
    }
}

/// A code block of a rule page's `## Example`: its info string and its text.
fn example_blocks(rule: &migrate::analyze::registry::Rule) -> Vec<(String, String)> {
    let section = rule.section("Example").unwrap_or_default();
    let mut blocks = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.trim().strip_prefix("```") else {
            continue;
        };
        let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
        blocks.push((info.trim().to_string(), body.join("\n") + "\n"));
    }
    blocks
}

/// Every rule page's example runs through the binary and the rule fires on it, as the page
/// says. A page's ```sql blocks are migrations in order (earlier ones the history the
/// example needs, shown on the page); the last is the one judged. The info string names the
/// dialect when it is not PostgreSQL (```sql mysql), and `release` marks the blocks judged
/// together as one release (```sql release). A ```text block lists files by name (the
/// naming rules); rules whose example needs a git base or a migrate.sum are checked by their
/// fixtures (migrations-fixtures/), listed here by name.
#[test]
fn every_rule_example_fires_through_the_binary() {
    let by_fixture = [
        "edited-migration",
        "deleted-migration",
        "migrate-sum-mismatch",
    ];
    let mut failures = Vec::new();
    for rule in RULES {
        if by_fixture.contains(&rule.name) {
            continue;
        }
        let blocks = example_blocks(rule);
        assert!(!blocks.is_empty(), "{}: no example", rule.name);
        let dir = tempfile::TempDir::new().unwrap();
        let migrations = dir.path().join("migrations");
        std::fs::create_dir_all(&migrations).unwrap();
        let mut dialect = "postgres".to_string();
        let mut last_file = String::new();
        // Blocks marked ```sql release are judged together as one release (as `check FILE...`
        // and `--base` judge them); the others are their history.
        let mut release = Vec::new();
        for (i, (info, text)) in blocks.iter().enumerate() {
            let mut words = info.split_whitespace();
            match words.next() {
                Some("sql") => {
                    last_file = format!("2026010100000{}_example_{i}.sql", i + 1);
                    for word in words {
                        match word {
                            "release" => release.push(migrations.join(&last_file)),
                            d => dialect = d.to_string(),
                        }
                    }
                    std::fs::write(migrations.join(&last_file), text).unwrap();
                }
                Some("text") => {
                    // One path per line, then an optional remark: `migrations/x.sql  (why)`.
                    for line in text.lines().filter(|l| !l.trim().is_empty()) {
                        let name = line.split_whitespace().next().unwrap();
                        let path = dir.path().join(name);
                        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                        std::fs::write(&path, "SELECT 1;\n").unwrap();
                        last_file = name.trim_start_matches("migrations/").to_string();
                    }
                }
                other => panic!("{}: example block {other:?} is not sql or text", rule.name),
            }
        }
        let run = support::cmd::migrate()
            .check()
            .dir(&migrations)
            .dialect(&dialect)
            .format("json")
            .args(release.iter().map(|p| p.to_str().unwrap()))
            .run();
        let report: serde_json::Value = match serde_json::from_str(&run.stdout) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{}: {e}: {}", rule.name, run.stderr));
                continue;
            }
        };
        let fired = report["diagnostics"].as_array().unwrap().iter().any(|d| {
            d["rule"] == rule.name && d["file"].as_str().unwrap_or("").ends_with(&last_file)
        });
        if !fired {
            let got: Vec<String> = report["diagnostics"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| format!("{} {}", d["file"], d["rule"]))
                .collect();
            failures.push(format!(
                "{} ({dialect}) did not fire on {last_file}: {got:?}",
                rule.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every rule that judges against the previous release names where its change is done in
/// steps: a recipe of docs/recipes.md by its title, or the document for a contract step.
#[test]
fn every_compatibility_rule_points_at_the_recipes() {
    use migrate::analyze::registry::Kind;
    let recipes =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/recipes.md")).unwrap();
    let titles: Vec<&str> = recipes
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .collect();
    for rule in RULES
        .iter()
        .filter(|r| matches!(r.kind, Kind::Compat | Kind::Both))
    {
        let recipe = rule.recipe();
        assert!(
            recipe.contains("docs/recipes.md"),
            "{}: its recipe does not name docs/recipes.md",
            rule.name
        );
        for named in recipe
            .split('“')
            .skip(1)
            .filter_map(|s| s.split('”').next())
        {
            assert!(
                titles.contains(&named),
                "{}: names recipe “{named}”, which docs/recipes.md does not have",
                rule.name
            );
        }
    }
}
