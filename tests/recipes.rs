//! docs/recipes.md, executed. Every recipe's files pass `migrate check` release by release,
//! and every recipe holds under live traffic on real PostgreSQL and MariaDB servers: over
//! 200,000 rows, the previous release's queries run on several connections while `migrate up`
//! applies release 1, the new release's queries while `migrate up` and `migrate up --phase
//! contract` apply release 2; no query may fail or wait longer than the lock timeout plus
//! 100 ms. The unsafe one-step version of each change, run under the previous release's
//! queries, must break or block them: the harness can fail.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use support::db::{Kind, TestDb};

/// One recipe for one dialect: its code blocks by role, in order.
struct Recipe {
    title: String,
    kind: Kind,
    blocks: Vec<(String, String)>,
}

impl Recipe {
    fn all(&self, role: &str) -> Vec<&str> {
        self.blocks
            .iter()
            .filter(|(r, _)| r == role)
            .map(|(_, text)| text.as_str())
            .collect()
    }

    fn one(&self, role: &str) -> &str {
        let found = self.all(role);
        assert_eq!(found.len(), 1, "{}: one ```sql {role} block", self.name());
        found[0]
    }

    /// The block's queries, one per line, and the error codes its `-- retry: CODE` lines
    /// say the app retries once.
    fn queries(&self, role: &str) -> (Vec<String>, Vec<String>) {
        let (mut queries, mut retry) = (Vec::new(), Vec::new());
        for line in self.one(role).lines().filter(|l| !l.trim().is_empty()) {
            match line.strip_prefix("-- retry:") {
                Some(codes) => retry.extend(codes.split_whitespace().map(str::to_string)),
                None => queries.push(line.to_string()),
            }
        }
        (queries, retry)
    }

    fn name(&self) -> String {
        format!("{} ({:?})", self.title, self.kind)
    }

    fn dialect(&self) -> &'static str {
        match self.kind {
            Kind::Postgres => "postgres",
            _ => "mysql",
        }
    }
}

/// The recipes of docs/recipes.md: `## Title`, `### PostgreSQL` / `### MySQL`, and ```sql ROLE
/// blocks (before, seed, release-1, release-2, previous-release, new-release, unsafe).
fn recipes() -> Vec<Recipe> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/recipes.md");
    let text = std::fs::read_to_string(path).unwrap();
    let mut recipes: Vec<Recipe> = Vec::new();
    let mut title = String::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some(t) = line.strip_prefix("## ") {
            title = t.to_string();
        } else if let Some(d) = line.strip_prefix("### ") {
            let kind = match d {
                "PostgreSQL" => Kind::Postgres,
                "MySQL" => Kind::Mariadb,
                other => panic!("docs/recipes.md: unknown dialect heading {other}"),
            };
            recipes.push(Recipe {
                title: title.clone(),
                kind,
                blocks: Vec::new(),
            });
        } else if let Some(info) = line.strip_prefix("```sql ") {
            let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
            let recipe = recipes.last_mut().expect("a block under a dialect heading");
            recipe
                .blocks
                .push((info.trim().to_string(), body.join("\n") + "\n"));
        }
    }
    recipes
}

#[test]
fn the_recipes_cover_every_change_for_both_dialects() {
    let recipes = recipes();
    let titles: std::collections::BTreeSet<&str> =
        recipes.iter().map(|r| r.title.as_str()).collect();
    assert_eq!(titles.len(), 8, "{titles:?}");
    for title in &titles {
        for kind in [Kind::Postgres, Kind::Mariadb] {
            let recipe = recipes.iter().find(|r| r.title == *title && r.kind == kind);
            let recipe = recipe.unwrap_or_else(|| panic!("{title}: no {kind:?} recipe"));
            for role in [
                "before",
                "seed",
                "previous-release",
                "new-release",
                "unsafe",
            ] {
                recipe.one(role);
            }
            assert!(
                !recipe.all("release-1").is_empty() || !recipe.all("release-2").is_empty(),
                "{}: no files",
                recipe.name()
            );
        }
    }
}

/// Writes the recipe's files for `release` after `first` (the version of the first), returns
/// their paths.
fn write_release(
    dir: &std::path::Path,
    recipe: &Recipe,
    release: &str,
    first: usize,
) -> Vec<std::path::PathBuf> {
    recipe
        .all(release)
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let path = dir.join(format!("{}_{release}_{i}.sql", first + i));
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect()
}

#[test]
fn every_recipe_passes_check_release_by_release() {
    let mut failures = Vec::new();
    for recipe in recipes() {
        let dir = tempfile::TempDir::new().unwrap();
        let migrations = dir.path().join("migrations");
        std::fs::create_dir_all(&migrations).unwrap();
        std::fs::write(migrations.join("1_before.sql"), recipe.one("before")).unwrap();
        let mut next = 2;
        for release in ["release-1", "release-2"] {
            let files = write_release(&migrations, &recipe, release, next);
            next += files.len();
            if files.is_empty() {
                continue;
            }
            let run = support::cmd::migrate()
                .check()
                .dir(&migrations)
                .dialect(recipe.dialect())
                .format("json")
                .args(files.iter().map(|p| p.to_str().unwrap()))
                .run();
            let report: serde_json::Value = serde_json::from_str(&run.stdout)
                .unwrap_or_else(|e| panic!("{}: {e}: {}", recipe.name(), run.stderr));
            let diagnostics = report["diagnostics"].as_array().unwrap();
            if run.code != 0 || !diagnostics.is_empty() {
                failures.push(format!(
                    "{} {release}: exit {}: {}",
                    recipe.name(),
                    run.code,
                    serde_json::to_string_pretty(diagnostics).unwrap()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What a workload saw.
#[derive(Debug, Default)]
struct Seen {
    queries: u64,
    failures: Vec<String>,
    longest: Duration,
}

/// Several connections running `queries` in a loop until stopped.
struct Traffic {
    stop: Arc<AtomicBool>,
    workers: Vec<std::thread::JoinHandle<Seen>>,
}

const WORKERS: u64 = 4;
const ROWS: u64 = 200_000;

impl Traffic {
    /// Starts the workload; `round` keeps new keys of successive workloads apart.
    fn start(db: &TestDb, (queries, retry): (Vec<String>, Vec<String>), round: u64) -> Traffic {
        let stop = Arc::new(AtomicBool::new(false));
        let workers = (0..WORKERS)
            .map(|w| {
                let mut conn = db.hold("");
                let stop = stop.clone();
                let queries = queries.clone();
                let retry = retry.clone();
                std::thread::spawn(move || {
                    let mut seen = Seen::default();
                    let mut random = 0x9E37_79B9_7F4A_7C15_u64 ^ (w + 1);
                    let mut key = 10_000_000 + round * 1_000_000 + w * 100_000;
                    while !stop.load(Ordering::Relaxed) {
                        for query in &queries {
                            random ^= random << 13;
                            random ^= random >> 7;
                            random ^= random << 17;
                            key += 1;
                            let sql = query
                                .replace("{id}", &key.to_string())
                                .replace("{n}", &(random % ROWS + 1).to_string());
                            let started = Instant::now();
                            let mut result = conn.try_exec(&sql);
                            if let Err(e) = &result
                                && retry
                                    .iter()
                                    .any(|code| e.to_string().contains(code.as_str()))
                            {
                                result = conn.try_exec(&sql);
                            }
                            seen.longest = seen.longest.max(started.elapsed());
                            seen.queries += 1;
                            if let Err(e) = result
                                && seen.failures.len() < 5
                            {
                                seen.failures.push(format!("{sql}: {e}"));
                            }
                        }
                    }
                    seen
                })
            })
            .collect();
        Traffic { stop, workers }
    }

    fn stop(self) -> Seen {
        self.stop.store(true, Ordering::Relaxed);
        let mut all = Seen::default();
        for worker in self.workers {
            let seen = worker.join().unwrap();
            all.queries += seen.queries;
            all.longest = all.longest.max(seen.longest);
            all.failures.extend(seen.failures);
        }
        all
    }
}

/// Samples, from a session of its own, how long app queries wait on a lock another session
/// holds (PostgreSQL: `pg_blocking_pids`; MariaDB: metadata lock waits and InnoDB lock
/// waits in the test's database): the database says whether the change blocked traffic,
/// however briefly a small table keeps it.
struct Blocked {
    stop: Arc<AtomicBool>,
    sampler: std::thread::JoinHandle<Duration>,
}

const SAMPLE: Duration = Duration::from_millis(5);

impl Blocked {
    fn start(db: &TestDb) -> Blocked {
        let stop = Arc::new(AtomicBool::new(false));
        let mut conn = db.hold("");
        let query = match db.kind {
            Kind::Postgres => "SELECT CAST(COUNT(*) AS TEXT) FROM pg_stat_activity WHERE datname = current_database() AND cardinality(pg_blocking_pids(pid)) > 0".to_string(),
            _ => format!(
                "SELECT CAST((SELECT COUNT(*) FROM information_schema.processlist WHERE db = '{0}' AND state LIKE 'Waiting for%lock%') + (SELECT COUNT(*) FROM information_schema.innodb_trx t JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id WHERE t.trx_state = 'LOCK WAIT' AND p.db = '{0}') AS CHAR)",
                db.name
            ),
        };
        let flag = stop.clone();
        let sampler = std::thread::spawn(move || {
            let mut blocked = Duration::ZERO;
            while !flag.load(Ordering::Relaxed) {
                let started = Instant::now();
                if conn.string(&query) != "0" {
                    blocked += SAMPLE.max(started.elapsed());
                }
                std::thread::sleep(SAMPLE);
            }
            blocked
        });
        Blocked { stop, sampler }
    }

    fn stop(self) -> Duration {
        self.stop.store(true, Ordering::Relaxed);
        self.sampler.join().unwrap()
    }
}

/// How long an unsafe change must keep app queries waiting on its locks to count as blocking
/// traffic, when none failed and none waited past [`LONGEST_OK`].
const BLOCKING: Duration = Duration::from_millis(40);

/// The lock timeout the recipes run with, and the longest wait a query may see.
const LOCK_TIMEOUT_MS: u64 = 1000;
const LONGEST_OK: Duration = Duration::from_millis(LOCK_TIMEOUT_MS + 100);

/// A `migrate` run of the recipe that must have succeeded.
fn applied(recipe: &Recipe, run: &support::db::Run) {
    assert_eq!(
        run.code,
        0,
        "{}: {}{}",
        recipe.name(),
        run.stdout,
        run.stderr
    );
}

fn seeded(kind: Kind, recipe: &Recipe) -> Option<TestDb> {
    let db = TestDb::new(kind)?;
    db.config(&format!("lock_timeout = \"{LOCK_TIMEOUT_MS}ms\"\n"));
    db.write("1_before.sql", recipe.one("before"));
    let run = db.migrate("up", &[]);
    applied(recipe, &run);
    db.exec(recipe.one("seed"));
    Some(db)
}

fn live_traffic(kind: Kind) {
    let mut report = Vec::new();
    let mut failures = Vec::new();
    for recipe in recipes().into_iter().filter(|r| r.kind == kind) {
        let Some(db) = seeded(kind, &recipe) else {
            return;
        };
        let migrations = db.migrations();
        // Release 1 under the previous release's queries.
        let first = write_release(&migrations, &recipe, "release-1", 2);
        let traffic = Traffic::start(&db, recipe.queries("previous-release"), 1);
        let started = Instant::now();
        let run = db.migrate("up", &[]);
        let expand_ms = started.elapsed().as_millis();
        let old = traffic.stop();
        applied(&recipe, &run);
        // Release 2 under the new release's queries: its pre-deploy files, then the
        // contract step.
        write_release(&migrations, &recipe, "release-2", 2 + first.len());
        let traffic = Traffic::start(&db, recipe.queries("new-release"), 2);
        let started = Instant::now();
        let run = db.migrate("up", &[]);
        applied(&recipe, &run);
        let contract = db.migrate("up", &["--phase", "contract"]);
        let contract_ms = started.elapsed().as_millis();
        let new = traffic.stop();
        applied(&recipe, &contract);
        let history = db.history();
        assert!(
            history.iter().all(|h| h.ends_with(":applied")),
            "{}: {history:?}",
            recipe.name()
        );
        let status = db.migrate("status", &["--format", "json"]);
        let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
        let batches: u64 = status["migrations"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["backfill"]["batches"].as_u64())
            .sum();
        for (phase, seen) in [("expand and backfill", &old), ("contract", &new)] {
            if !seen.failures.is_empty() || seen.longest > LONGEST_OK {
                failures.push(format!(
                    "{}: during {phase}, {} failed queries of {}, longest wait {:?}: {:?}",
                    recipe.name(),
                    seen.failures.len(),
                    seen.queries,
                    seen.longest,
                    seen.failures
                ));
            }
        }
        // The unsafe one-step change under the previous release's queries.
        let Some(unsafe_db) = seeded(kind, &recipe) else {
            return;
        };
        let traffic = Traffic::start(&unsafe_db, recipe.queries("previous-release"), 3);
        std::thread::sleep(Duration::from_millis(200));
        let mut change = unsafe_db.hold("");
        let blocked = Blocked::start(&unsafe_db);
        // Under traffic a one-step change may also fail itself (rows the app wrote meanwhile
        // violate it): a failed deploy is a break too.
        let applied = change.try_exec(recipe.one("unsafe"));
        std::thread::sleep(Duration::from_millis(300));
        let blocked = blocked.stop();
        let broken = traffic.stop();
        let harm = match &applied {
            Err(e) => Some(format!("the change itself failed: {e}")),
            Ok(()) if !broken.failures.is_empty() => Some(format!(
                "{} of {} queries failed: {}",
                broken.failures.len(),
                broken.queries,
                broken.failures[0]
            )),
            Ok(()) if broken.longest > LONGEST_OK => {
                Some(format!("a query waited {:?}", broken.longest))
            }
            Ok(()) if blocked >= BLOCKING => {
                Some(format!("queries waited on its locks for {blocked:?}"))
            }
            Ok(()) => None,
        };
        if harm.is_none() {
            failures.push(format!(
                "{}: the unsafe change broke nothing ({} queries, longest wait {:?}, blocked {blocked:?}): the harness cannot tell",
                recipe.name(),
                broken.queries,
                broken.longest
            ));
        }
        report.push(format!(
            "| {} | {batches} | {expand_ms} ms, {} queries, {} failed, longest {} ms | {contract_ms} ms, {} queries, {} failed, longest {} ms | {} |",
            recipe.title,
            old.queries,
            old.failures.len(),
            old.longest.as_millis(),
            new.queries,
            new.failures.len(),
            new.longest.as_millis(),
            harm.unwrap_or_else(|| "nothing".into())
        ));
    }
    eprintln!("{kind:?}, {ROWS} rows, {WORKERS} connections, lock_timeout {LOCK_TIMEOUT_MS} ms:");
    eprintln!(
        "| recipe | batches | release 1 (previous release's queries) | release 2 and contract (new release's queries) | unsafe one-step version |"
    );
    for line in &report {
        eprintln!("  {line}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn recipes_hold_under_live_traffic_on_postgres() {
    live_traffic(Kind::Postgres);
}

#[test]
fn recipes_hold_under_live_traffic_on_mariadb() {
    live_traffic(Kind::Mariadb);
}
