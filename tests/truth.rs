//! The executable truth table: every claim a rule makes about what the database does — the
//! lock a statement takes, whether it rewrites the table, whether it may run in a
//! transaction — asked of the real server. Where the database disagrees with a rule, the
//! rule is wrong.

mod support;

use std::time::{Duration, Instant};

use support::db::{Kind, TestDb};

/// `migrate check --format json` over the test's migrations in `dialect`: the report.
fn check_report(db: &TestDb, dialect: &str) -> serde_json::Value {
    let run = support::cmd::migrate()
        .check()
        .dir(db.migrations())
        .dialect(dialect)
        .format("json")
        .run();
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {} {}", run.stdout, run.stderr))
}

/// The table's storage file: a rewrite gives it a new one.
fn relfilenode(db: &TestDb, table: &str) -> String {
    db.strings(&format!(
        "SELECT relfilenode::text FROM pg_class WHERE relname = '{table}'"
    ))
    .remove(0)
}

/// Waits until the session running `statement_start` holds or waits for a relation lock on
/// `table`; the lock's mode and whether it is granted.
fn lock_of(db: &TestDb, statement_start: &str, table: &str) -> (String, bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = db.strings(&format!(
            "SELECT l.mode || ':' || l.granted::text FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE a.query LIKE '{statement_start}%' AND l.locktype = 'relation' AND l.relation = '{table}'::regclass \
             ORDER BY l.granted"
        ));
        if let Some(first) = found.first() {
            let (mode, granted) = first.split_once(':').unwrap();
            return (mode.to_string(), granted == "true");
        }
        assert!(
            Instant::now() < deadline,
            "no lock of `{statement_start}` on {table}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `VACUUM (FULL FALSE)` is a plain VACUUM (no rewrite); `VACUUM (FULL)` rewrites, like
/// `VACUUM FULL`. So `vacuum-full` fires on the second only.
#[test]
fn vacuum_option_lists_rewrite_only_when_full_is_on() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    db.exec("CREATE TABLE t (id INT); INSERT INTO t SELECT generate_series(1, 1000)");
    let before = relfilenode(&db, "t");
    db.exec("VACUUM (FULL FALSE, ANALYZE) t");
    assert_eq!(
        relfilenode(&db, "t"),
        before,
        "VACUUM (FULL FALSE) rewrote t"
    );
    db.exec("VACUUM (FULL) t");
    assert_ne!(
        relfilenode(&db, "t"),
        before,
        "VACUUM (FULL) did not rewrite t"
    );
}

/// `REINDEX (CONCURRENTLY)` is the concurrent form: refused in a transaction block like
/// `REINDEX INDEX CONCURRENTLY`, and holding only SHARE UPDATE EXCLUSIVE on the table (the
/// old app's writes go on) while it waits for an old snapshot. Plain `REINDEX (VERBOSE)`
/// asks for SHARE, which a writer blocks and which blocks writers.
#[test]
fn reindex_option_list_concurrently_is_the_concurrent_form() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    db.exec("CREATE TABLE t (id INT); INSERT INTO t SELECT generate_series(1, 1000); CREATE INDEX t_id ON t (id)");
    let mut session = db.hold("");
    let refused = session.try_exec("BEGIN; REINDEX (CONCURRENTLY) INDEX t_id");
    let message = refused.unwrap_err().to_string();
    assert!(
        message.contains("cannot run inside a transaction block"),
        "{message}"
    );
    session.exec("ROLLBACK");

    // An old snapshot makes the concurrent rebuild wait, with its lock held.
    let mut snapshot = db.hold("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1");
    let url = db.url.clone();
    let concurrent = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            use sqlx::Connection;
            let mut c = sqlx::postgres::PgConnection::connect(&url).await.unwrap();
            sqlx::raw_sql("REINDEX (CONCURRENTLY) INDEX t_id")
                .execute(&mut c)
                .await
                .map(|_| ())
        })
    });
    let (mode, granted) = lock_of(&db, "REINDEX (CONCURRENTLY)", "t");
    assert_eq!((mode.as_str(), granted), ("ShareUpdateExclusiveLock", true));
    snapshot.exec("COMMIT");
    concurrent.join().unwrap().unwrap();

    // A writer in an open transaction: plain REINDEX waits for SHARE behind it.
    let mut writer = db.hold("BEGIN; INSERT INTO t VALUES (0)");
    let url = db.url.clone();
    let plain = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            use sqlx::Connection;
            let mut c = sqlx::postgres::PgConnection::connect(&url).await.unwrap();
            sqlx::raw_sql("REINDEX (VERBOSE) INDEX t_id")
                .execute(&mut c)
                .await
                .map(|_| ())
        })
    });
    let (mode, granted) = lock_of(&db, "REINDEX (VERBOSE)", "t");
    assert_eq!((mode.as_str(), granted), ("ShareLock", false));
    writer.exec("COMMIT");
    plain.join().unwrap().unwrap();
}

/// Scans of `table` by `statement`, counted inside its own transaction, and the relation locks
/// a second session sees the transaction hold on `tables` while it is open.
fn scans_and_locks(
    db: &TestDb,
    table: &str,
    statement: &str,
    tables: &[&str],
) -> (i64, Vec<String>) {
    let count = format!("SELECT pg_stat_get_xact_numscans('{table}'::regclass)::text");
    let mut session = db.hold("BEGIN");
    let before: i64 = session.string(&count).parse().unwrap();
    session.exec(statement);
    let after: i64 = session.string(&count).parse().unwrap();
    let names = tables
        .iter()
        .map(|t| format!("'{t}'::regclass"))
        .collect::<Vec<_>>()
        .join(", ");
    let locks = db.strings(&format!(
        "SELECT c.relname || ':' || l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
         WHERE l.locktype = 'relation' AND l.granted AND l.relation IN ({names}) \
         AND l.pid <> pg_backend_pid() ORDER BY 1"
    ));
    session.exec("ROLLBACK");
    (after - before, locks)
}

/// Inline constraints on `ADD COLUMN` lock and scan like their `ADD CONSTRAINT` forms: an
/// inline CHECK or UNIQUE reads every row under ACCESS EXCLUSIVE (so add-check-without-not-valid
/// and add-unique-without-index fire); an inline REFERENCES is checked row by row only when
/// the column has a default (add-foreign-key-without-not-valid fires on that form only).
#[test]
fn inline_constraints_on_add_column_scan_like_their_add_constraint_forms() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    db.exec(
        "CREATE TABLE p (id int PRIMARY KEY); INSERT INTO p VALUES (1); \
         CREATE TABLE c (id int); INSERT INTO c SELECT generate_series(1, 1000)",
    );
    let exclusive = vec!["c:AccessExclusiveLock".to_string()];
    let plain = scans_and_locks(&db, "c", "ALTER TABLE c ADD COLUMN n int", &["c"]);
    assert_eq!(plain, (0, exclusive.clone()), "plain ADD COLUMN");
    let check = scans_and_locks(
        &db,
        "c",
        "ALTER TABLE c ADD COLUMN n int CHECK (n > 0)",
        &["c"],
    );
    assert_eq!(check, (1, exclusive.clone()), "inline CHECK");
    let unique = scans_and_locks(&db, "c", "ALTER TABLE c ADD COLUMN u int UNIQUE", &["c"]);
    assert_eq!(unique.0, 1, "inline UNIQUE");
    assert!(unique.1.contains(&exclusive[0]), "{:?}", unique.1);
    let fk = scans_and_locks(
        &db,
        "c",
        "ALTER TABLE c ADD COLUMN p_id int REFERENCES p (id)",
        &["c", "p"],
    );
    assert_eq!(fk.0, 0, "inline REFERENCES without a default scanned c");
    let fk_default = scans_and_locks(
        &db,
        "c",
        "ALTER TABLE c ADD COLUMN p_id int DEFAULT 1 REFERENCES p (id)",
        &["c", "p"],
    );
    assert_eq!(
        fk_default.0, 1,
        "inline REFERENCES with a default did not check the rows"
    );
    assert!(
        fk_default
            .1
            .contains(&"p:ShareRowExclusiveLock".to_string()),
        "{:?}",
        fk_default.1
    );
}

/// The old app inserts naming only the columns it knows. Each case is a release applied in one
/// transaction, then the old app's INSERT: it fails exactly where `check` reports an error.
#[test]
fn old_app_inserts_fail_where_check_says_so() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    let base = "CREATE TABLE users (id int PRIMARY KEY, name text, role text NOT NULL DEFAULT 'member', nickname text);";
    let cases: &[(&str, &str, bool)] = &[
        (
            "org",
            "ALTER TABLE users ADD COLUMN org_id bigint;\nUPDATE users SET org_id = 1;\nALTER TABLE users ALTER COLUMN org_id SET NOT NULL;",
            false,
        ),
        (
            "flag",
            "ALTER TABLE users ADD COLUMN flag int NOT NULL DEFAULT 10;\nALTER TABLE users ALTER COLUMN flag DROP DEFAULT;",
            false,
        ),
        (
            "inline_check",
            "ALTER TABLE users ADD COLUMN x text CHECK (x IS NOT NULL);",
            false,
        ),
        (
            "not_valid",
            "ALTER TABLE users ADD COLUMN y text;\nALTER TABLE users ADD CONSTRAINT y_nn CHECK (y IS NOT NULL) NOT VALID;",
            false,
        ),
        (
            "check_and",
            "ALTER TABLE users ADD COLUMN w text CHECK (w IS NOT NULL AND length(w) > 0);",
            false,
        ),
        (
            "check_and_not_valid",
            "ALTER TABLE users ADD COLUMN v text;\nALTER TABLE users ADD CONSTRAINT v_ok CHECK (length(v) < 100 AND (v IS NOT NULL)) NOT VALID;",
            false,
        ),
        (
            "default_reset",
            "ALTER TABLE users ALTER COLUMN role DROP DEFAULT;\nALTER TABLE users ALTER COLUMN role SET DEFAULT 'guest';",
            true,
        ),
        (
            "rename_back",
            "ALTER TABLE users RENAME COLUMN name TO full_name;\nALTER TABLE users RENAME COLUMN full_name TO name;",
            true,
        ),
        (
            "refilled",
            "ALTER TABLE users ADD COLUMN z text;\nALTER TABLE users ALTER COLUMN z SET DEFAULT 'z';\nALTER TABLE users ALTER COLUMN z SET NOT NULL;",
            true,
        ),
    ];
    for (i, (name, release, works)) in cases.iter().enumerate() {
        let table = format!("users_{i}");
        let base = base.replace("users", &table);
        let release = release.replace("users", &table);
        db.exec(&base);
        db.write(&format!("{:04}_base_{name}.sql", 2 * i + 1), &base);
        db.write(&format!("{:04}_{name}.sql", 2 * i + 2), &release);
        db.exec(&format!("BEGIN; {release}; COMMIT"));
        let mut old_app = db.hold("");
        let insert = old_app.try_exec(&format!("INSERT INTO {table} (id, name) VALUES (1, 'a')"));
        let read = old_app.try_exec(&format!("SELECT id, name, role, nickname FROM {table}"));
        assert_eq!(
            insert.is_ok() && read.is_ok(),
            *works,
            "{name}: {insert:?} {read:?}"
        );
    }
    // check, over the same files: an error on exactly the breaking releases.
    let report = check_report(&db, "postgres");
    for (i, (name, _, works)) in cases.iter().enumerate() {
        let file = format!("{:04}_{name}.sql", 2 * i + 2);
        let errors = report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["file"].as_str().unwrap().ends_with(&file) && d["severity"] == "error")
            .count();
        assert_eq!(errors == 0, *works, "{name}: {errors} errors\n{report:#}");
    }
}

/// SET NOT NULL reads every row unless a validated CHECK proves the column has no NULL, alone
/// or as a conjunct of an AND (set-not-null accepts exactly those); a NOT VALID one does not
/// count, and neither does a disjunction.
#[test]
fn set_not_null_skips_its_scan_only_for_a_validated_check_that_implies_it() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    let cases: &[(&str, &str, i64)] = &[
        ("none", "", 1),
        ("plain", "CHECK (x IS NOT NULL)", 0),
        ("conjunct", "CHECK (length(x) > 0 AND x IS NOT NULL)", 0),
        ("not_valid", "CHECK (x IS NOT NULL) NOT VALID", 1),
        ("disjunct", "CHECK (x IS NOT NULL OR id < 0)", 1),
    ];
    for (i, (name, check, scans)) in cases.iter().enumerate() {
        let table = format!("t_{i}");
        db.exec(&format!(
            "CREATE TABLE {table} (id int, x text); INSERT INTO {table} SELECT g, 'a' FROM generate_series(1, 100) g"
        ));
        if !check.is_empty() {
            db.exec(&format!(
                "ALTER TABLE {table} ADD CONSTRAINT {table}_c {check}"
            ));
        }
        let (seen, _) = scans_and_locks(
            &db,
            &table,
            &format!("ALTER TABLE {table} ALTER COLUMN x SET NOT NULL"),
            &[&table],
        );
        assert_eq!(seen, *scans, "{name}: {check}");
        db.write(
            &format!("{:04}_{name}.sql", 2 * i + 1),
            format!(
                "CREATE TABLE {table} (id int, x text);\n{}",
                if check.is_empty() {
                    String::new()
                } else {
                    format!("ALTER TABLE {table} ADD CONSTRAINT {table}_c {check};\n")
                }
            ),
        );
        db.write(
            &format!("{:04}_{name}_set.sql", 2 * i + 2),
            format!("ALTER TABLE {table} ALTER COLUMN x SET NOT NULL;\n"),
        );
    }
    let report = check_report(&db, "postgres");
    for (i, (name, _, scans)) in cases.iter().enumerate() {
        let file = format!("{:04}_{name}_set.sql", 2 * i + 2);
        let flagged =
            report["diagnostics"].as_array().unwrap().iter().any(|d| {
                d["file"].as_str().unwrap().ends_with(&file) && d["rule"] == "set-not-null"
            });
        assert_eq!(flagged, *scans == 1, "{name}\n{report:#}");
    }
}

/// MariaDB commits every DDL statement on its own, even inside an explicit transaction, so
/// the old app sees the state between two statements of a file: a default dropped and set
/// again breaks its inserts in between (drop-default-on-not-null-column fires on MySQL and
/// not on PostgreSQL).
#[test]
fn mariadb_shows_the_state_between_ddl_statements() {
    let Some(db) = TestDb::new(Kind::Mariadb) else {
        return;
    };
    db.exec("CREATE TABLE users (id int PRIMARY KEY, name varchar(20), role varchar(20) NOT NULL DEFAULT 'member')");
    let mut deployer = db.hold("START TRANSACTION");
    deployer.exec("ALTER TABLE users ALTER COLUMN role DROP DEFAULT");
    // The deployer's transaction was committed by the ALTER: a ROLLBACK does not undo it.
    deployer.exec("ROLLBACK");
    let mut old_app = db.hold("");
    let insert = old_app.try_exec("INSERT INTO users (id, name) VALUES (1, 'a')");
    assert!(
        insert.is_err(),
        "the old app's insert worked between the statements"
    );
    deployer.exec("ALTER TABLE users ALTER COLUMN role SET DEFAULT 'guest'");
    old_app.exec("INSERT INTO users (id, name) VALUES (2, 'b')");
}

/// `PRIMARY KEY USING INDEX` over a nullable column sets it NOT NULL: PostgreSQL scans the
/// table under ACCESS EXCLUSIVE (no scan once the column is NOT NULL), and the old app's
/// NULL writes then fail. So set-not-null fires on a primary key over nullable columns.
#[test]
fn primary_key_using_index_over_a_nullable_column_scans_and_refuses_nulls() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    db.exec(
        "CREATE TABLE k (id int, v int); INSERT INTO k SELECT g, g FROM generate_series(1, 1000) g; \
         CREATE UNIQUE INDEX k_id ON k (id); CREATE TABLE n (id int NOT NULL); \
         INSERT INTO n SELECT generate_series(1, 1000); CREATE UNIQUE INDEX n_id ON n (id)",
    );
    let nullable = scans_and_locks(
        &db,
        "k",
        "ALTER TABLE k ADD CONSTRAINT k_pkey PRIMARY KEY USING INDEX k_id",
        &["k"],
    );
    assert_eq!(nullable.0, 1, "no scan for the implicit SET NOT NULL");
    assert!(
        nullable.1.contains(&"k:AccessExclusiveLock".to_string()),
        "{:?}",
        nullable.1
    );
    let not_null = scans_and_locks(
        &db,
        "n",
        "ALTER TABLE n ADD CONSTRAINT n_pkey PRIMARY KEY USING INDEX n_id",
        &["n"],
    );
    assert_eq!(not_null.0, 0, "a NOT NULL column was scanned");
    db.exec("ALTER TABLE k ADD CONSTRAINT k_pkey PRIMARY KEY USING INDEX k_id");
    let mut old_app = db.hold("");
    assert!(
        old_app
            .try_exec("INSERT INTO k (id, v) VALUES (NULL, 1)")
            .is_err()
    );
}

/// A statement the replay knows fails (replay-fails): on MariaDB the DDL before it in the
/// same transaction stays applied (the file half-applies); on PostgreSQL it all rolls back.
#[test]
fn a_failing_statement_half_applies_a_file_on_mariadb_only() {
    let file = "START TRANSACTION; ALTER TABLE users ADD COLUMN nickname varchar(100); ALTER TABLE users ADD COLUMN email varchar(255)";
    let Some(maria) = TestDb::new(Kind::Mariadb) else {
        return;
    };
    maria.exec("CREATE TABLE users (id bigint PRIMARY KEY, email varchar(255))");
    let mut deployer = maria.hold("");
    assert!(
        deployer.try_exec(file).is_err(),
        "adding an existing column worked"
    );
    deployer.exec("ROLLBACK");
    let columns = maria.columns("users");
    assert!(columns.contains(&"nickname".to_string()), "{columns:?}");

    let Some(pg) = TestDb::new(Kind::Postgres) else {
        return;
    };
    pg.exec("CREATE TABLE users (id bigint PRIMARY KEY, email varchar(255))");
    let mut deployer = pg.hold("");
    assert!(
        deployer
            .try_exec(&file.replace("START TRANSACTION", "BEGIN"))
            .is_err()
    );
    deployer.exec("ROLLBACK");
    let columns = pg.columns("users");
    assert!(!columns.contains(&"nickname".to_string()), "{columns:?}");
}

/// On a partitioned table PostgreSQL refuses `CREATE INDEX CONCURRENTLY` (replay-fails), a
/// plain `CREATE INDEX` holds SHARE on every partition (writes wait: create-index-not-
/// concurrently), and the recipe the rules give instead works: `ON ONLY` the parent (nothing
/// built), `CONCURRENTLY` on each partition, `ATTACH PARTITION`, after which the parent's index
/// is valid.
#[test]
fn partitioned_tables_refuse_concurrent_indexes_and_the_recipe_works() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    db.exec(
        "CREATE TABLE ev (id int, at int) PARTITION BY RANGE (at); \
         CREATE TABLE ev1 PARTITION OF ev FOR VALUES FROM (0) TO (10); \
         CREATE TABLE ev2 PARTITION OF ev FOR VALUES FROM (10) TO (20); \
         INSERT INTO ev SELECT g, g % 20 FROM generate_series(1, 1000) g",
    );
    let mut session = db.hold("");
    let refused = session
        .try_exec("CREATE INDEX CONCURRENTLY ev_id ON ev (id)")
        .unwrap_err()
        .to_string();
    assert!(refused.contains("partitioned table"), "{refused}");
    let (_, locks) = scans_and_locks(&db, "ev1", "CREATE INDEX ev_at ON ev (at)", &["ev1", "ev2"]);
    assert_eq!(locks, ["ev1:ShareLock", "ev2:ShareLock"]);
    db.exec("CREATE INDEX ev_id ON ONLY ev (id)");
    let valid = |db: &TestDb| {
        db.strings("SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'ev_id'::regclass")
            .remove(0)
    };
    assert_eq!(valid(&db), "false");
    for part in ["ev1", "ev2"] {
        db.exec(&format!(
            "CREATE INDEX CONCURRENTLY {part}_id ON {part} (id)"
        ));
        db.exec(&format!("ALTER INDEX ev_id ATTACH PARTITION {part}_id"));
    }
    assert_eq!(valid(&db), "true");
}

/// `DETACH PARTITION ... FINALIZE` (completing an interrupted concurrent detach) holds only
/// SHARE UPDATE EXCLUSIVE on the parent, so the parent's reads and writes go on; a plain
/// `DETACH PARTITION` holds ACCESS EXCLUSIVE on it. So detach-partition-not-concurrently
/// passes FINALIZE. The detach-pending state is made the way production makes it: a
/// concurrent detach waiting for an old snapshot, cancelled.
#[test]
fn detach_partition_finalize_does_not_lock_the_parent() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    db.exec(
        "CREATE TABLE ev (id int, at int) PARTITION BY RANGE (at); \
         CREATE TABLE ev1 PARTITION OF ev FOR VALUES FROM (0) TO (10); \
         CREATE TABLE ev2 PARTITION OF ev FOR VALUES FROM (10) TO (20)",
    );
    let mut snapshot = db.hold("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM ev");
    let url = db.url.clone();
    let detach = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            use sqlx::Connection;
            let mut c = sqlx::postgres::PgConnection::connect(&url).await.unwrap();
            sqlx::raw_sql("ALTER TABLE ev DETACH PARTITION ev1 CONCURRENTLY")
                .execute(&mut c)
                .await
                .map(|_| ())
        })
    });
    // Wait until the detach waits for the old snapshot, then cancel it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while db
        .strings("SELECT count(*)::text FROM pg_stat_activity WHERE query LIKE 'ALTER TABLE ev DETACH%' AND wait_event_type = 'Lock'")
        .remove(0)
        == "0"
    {
        assert!(Instant::now() < deadline, "the concurrent detach never waited");
        std::thread::sleep(Duration::from_millis(20));
    }
    db.exec("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'ALTER TABLE ev DETACH%'");
    assert!(
        detach.join().unwrap().is_err(),
        "the detach was not cancelled"
    );
    snapshot.exec("COMMIT");
    let pending = db
        .strings("SELECT inhdetachpending::text FROM pg_inherits WHERE inhrelid = 'ev1'::regclass");
    assert_eq!(pending, ["true"]);
    let (_, locks) = scans_and_locks(
        &db,
        "ev",
        "ALTER TABLE ev DETACH PARTITION ev1 FINALIZE",
        &["ev", "ev1"],
    );
    assert_eq!(
        locks,
        ["ev1:AccessExclusiveLock", "ev:ShareUpdateExclusiveLock"]
    );
    let (_, plain) = scans_and_locks(&db, "ev", "ALTER TABLE ev DETACH PARTITION ev2", &["ev"]);
    assert_eq!(plain, ["ev:AccessExclusiveLock"]);
}

/// A validated domain constraint (`ADD CONSTRAINT ... CHECK`, `SET NOT NULL`) scans every table
/// using the domain under SHARE (writes wait): alter-domain-constraint. `NOT VALID` scans
/// nothing and locks no table, but the old app's writes it refuses then fail:
/// restrict-old-writes.
#[test]
fn domain_constraints_scan_the_tables_using_the_domain() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    db.exec(
        "CREATE DOMAIN email AS text; CREATE TABLE users (id int, e email); \
         INSERT INTO users SELECT g, g || '@x' FROM generate_series(1, 100) g",
    );
    let share = vec!["users:ShareLock".to_string()];
    let check = scans_and_locks(
        &db,
        "users",
        "ALTER DOMAIN email ADD CONSTRAINT has_at CHECK (VALUE LIKE '%@%')",
        &["users"],
    );
    assert_eq!(check, (1, share.clone()), "CHECK");
    let not_null = scans_and_locks(&db, "users", "ALTER DOMAIN email SET NOT NULL", &["users"]);
    assert_eq!(not_null, (1, share), "SET NOT NULL");
    let not_valid = scans_and_locks(
        &db,
        "users",
        "ALTER DOMAIN email ADD CONSTRAINT short CHECK (length(VALUE) < 5) NOT VALID",
        &["users"],
    );
    assert_eq!(not_valid, (0, Vec::<String>::new()), "NOT VALID");
    db.exec("ALTER DOMAIN email ADD CONSTRAINT short CHECK (length(VALUE) < 5) NOT VALID");
    let mut old_app = db.hold("");
    assert!(
        old_app
            .try_exec("INSERT INTO users VALUES (1, 'long@example.com')")
            .is_err()
    );
}

/// MariaDB adds a foreign key to an existing table in place only while foreign_key_checks is
/// off: with it on, `ALGORITHM=INPLACE` is refused (so the key copies the table:
/// add-foreign-key-without-not-valid fires on MySQL unless the file turned the checks off).
/// And MariaDB makes a foreign key from an inline `REFERENCES` (MySQL ignores it, which this
/// machine cannot show: mysql-inline-references warns that the two servers differ).
#[test]
fn mariadb_adds_foreign_keys_in_place_only_with_checks_off() {
    let Some(db) = TestDb::new(Kind::Mariadb) else {
        return;
    };
    db.exec("CREATE TABLE p (id int PRIMARY KEY); CREATE TABLE c (id int PRIMARY KEY, p_id int)");
    let add = "ALTER TABLE c ADD CONSTRAINT c_p FOREIGN KEY (p_id) REFERENCES p (id), ALGORITHM=INPLACE, LOCK=NONE";
    let mut session = db.hold("");
    let refused = session.try_exec(add).unwrap_err().to_string();
    assert!(refused.contains("foreign_key_checks"), "{refused}");
    session.exec("SET foreign_key_checks = 0");
    session.exec(add);
    db.exec("ALTER TABLE c ADD COLUMN p2 int REFERENCES p (id)");
    let keys = db.strings(
        "SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS \
         WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 'c' ORDER BY 1",
    );
    assert_eq!(keys.len(), 2, "{keys:?}");
}

/// replay-fails on CREATE INDEX: PostgreSQL refuses an index name that exists anywhere in the
/// schema, and drops an index with a column it covers (so the name is free again: the
/// replay stops being sure of a table's indexes once a column of it is dropped); MariaDB
/// scopes index names to their table.
#[test]
fn index_names_collide_as_replay_fails_says() {
    if let Some(db) = TestDb::new(Kind::Postgres) {
        db.exec("CREATE TABLE a (id int, x int); CREATE TABLE b (id int); CREATE INDEX i ON a (x)");
        let mut s = db.hold("");
        assert!(
            s.try_exec("CREATE INDEX i ON a (id)").is_err(),
            "same table"
        );
        assert!(
            s.try_exec("CREATE INDEX i ON b (id)").is_err(),
            "another table"
        );
        s.exec("ALTER TABLE a DROP COLUMN x");
        assert!(
            s.try_exec("CREATE INDEX i ON b (id)").is_ok(),
            "dropped with its column"
        );
    }
    if let Some(db) = TestDb::new(Kind::Mariadb) {
        db.exec("CREATE TABLE a (id int, x int); CREATE TABLE b (id int); CREATE INDEX i ON a (x)");
        let mut s = db.hold("");
        assert!(
            s.try_exec("CREATE INDEX i ON a (id)").is_err(),
            "same table"
        );
        assert!(
            s.try_exec("CREATE INDEX i ON b (id)").is_ok(),
            "another table"
        );
    }
}

/// The MySQL step of set-not-null's recipe, asked of MariaDB: `MODIFY ... NOT NULL,
/// ALGORITHM=INPLACE, LOCK=NONE` is accepted (the server refuses LOCK=NONE for a change that
/// would block writes, as it does for a type change: that refusal is the server's own
/// guarantee that the accepted form lets writes through).
#[test]
fn mariadb_makes_a_column_not_null_in_place_without_locking_writes() {
    let Some(db) = TestDb::new(Kind::Mariadb) else {
        return;
    };
    db.exec("CREATE TABLE t (id int PRIMARY KEY, c int NULL, s varchar(10))");
    db.exec("INSERT INTO t VALUES (1, 1, 'a')");
    db.exec("ALTER TABLE t MODIFY c int NOT NULL, ALGORITHM=INPLACE, LOCK=NONE");
    assert_eq!(
        db.strings("SELECT IS_NULLABLE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 't' AND COLUMN_NAME = 'c'"),
        ["NO"]
    );
    // The same server refuses LOCK=NONE where it would block writes: the check can fail.
    let mut session = db.hold("");
    assert!(
        session
            .try_exec("ALTER TABLE t MODIFY s int, ALGORITHM=INPLACE, LOCK=NONE")
            .is_err(),
        "a type change is not in place"
    );
}

/// The names PostgreSQL gives indexes created without one (`table_cols_idx`, unique or not,
/// numbered past a taken name, cut to 63 bytes, expressions named after their
/// function), and its 63-byte cut of long names: the replay must know each index by the
/// name the server chose, or a later `DROP INDEX` of it reads as an old index and a
/// re-creation of the name is not seen to fail.
#[test]
fn unnamed_indexes_get_the_names_postgresql_gives_them() {
    let Some(db) = TestDb::new(Kind::Postgres) else {
        return;
    };
    let long_table = "t".repeat(40) + "_with_a_long_name_that_goes_on";
    let long_column = "c".repeat(30) + "_long";
    let long_index = "i".repeat(70);
    let setup = format!(
        "CREATE TABLE users (email text, gh_login text, a int, b int);\n\
         CREATE TABLE other (x int);\n\
         CREATE TABLE {long_table} ({long_column} int);\n\
         CREATE INDEX ON users (lower(gh_login));\n\
         CREATE UNIQUE INDEX ON users (email);\n\
         CREATE INDEX ON users (email);\n\
         CREATE INDEX ON users (email);\n\
         CREATE INDEX ON users (a, b);\n\
         CREATE INDEX ON users ((a + b));\n\
         CREATE INDEX ON users (a, (a + 1), (b + 1));\n\
         CREATE INDEX ON users ((gh_login::varchar));\n\
         CREATE INDEX ON {long_table} ({long_column});\n\
         CREATE INDEX {long_index} ON other (x);\n\
         CREATE TABLE k (a int, b int, s text, ts timestamptz, t timestamp, arr int[]);\n\
         CREATE INDEX ON k (a) INCLUDE (b);\n\
         CREATE INDEX ON k ((s::int));\n\
         CREATE INDEX ON k (((a + 1)::bigint));\n\
         CREATE INDEX ON k (((a + 1)::smallint));\n\
         CREATE INDEX ON k (((a + 1)::double precision));\n\
         CREATE INDEX ON k (((a + 1)::real));\n\
         CREATE INDEX ON k (((a > 1)::boolean));\n\
         CREATE INDEX ON k (((s || 'x')::char(3)));\n\
         CREATE INDEX ON k ((ARRAY[a]::text[]));\n\
         CREATE INDEX ON k ((extract(year from t)));\n\
         CREATE INDEX ON k ((ts AT TIME ZONE 'UTC'));\n\
         CREATE INDEX ON k ((substring(s from 1 for 2)));\n\
         CREATE INDEX ON k ((trim(s)));\n\
         CREATE INDEX ON k ((arr[1]));\n\
         CREATE INDEX ON k ((s COLLATE \"C\"));\n\
         CREATE TABLE Ärger (Öl int);\n\
         CREATE INDEX ON Ärger (Öl);\n"
    );
    db.exec(&setup);
    let names =
        db.strings("SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1");
    assert_eq!(names.len(), 26, "{names:?}");
    for name in &names {
        let refused = db
            .hold("")
            .try_exec(&format!("CREATE INDEX \"{name}\" ON other (x)"));
        assert!(refused.is_err(), "PostgreSQL took {name} twice");
    }
    // Dropped in the release that made them: known, and new, so quiet.
    let drops: String = names
        .iter()
        .map(|n| format!("DROP INDEX \"{n}\";\n"))
        .collect();
    db.write("0001_made_and_dropped.sql", format!("{setup}{drops}"));
    let report = check_report(&db, "postgres");
    let drop_warnings: Vec<&serde_json::Value> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "drop-index-not-concurrently")
        .collect();
    assert!(drop_warnings.is_empty(), "{drop_warnings:#?}");
    // Made again under the same name later: the replay knows the name is taken.
    db.remove("0001_made_and_dropped.sql");
    db.write("0001_made.sql", &setup);
    let again: String = names
        .iter()
        .map(|n| format!("CREATE INDEX CONCURRENTLY \"{n}\" ON other (x);\n"))
        .collect();
    db.write("0002_again.sql", again);
    let report = check_report(&db, "postgres");
    let mut taken: Vec<String> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == "replay-fails")
        .map(|d| d["object"].as_str().unwrap_or_default().to_string())
        .collect();
    taken.sort();
    assert_eq!(taken, names, "{report:#}");
}

/// add-stored-generated-column's claims per database: MariaDB refuses to add a STORED
/// generated column in place (it copies the table) but adds a VIRTUAL one with
/// `ALGORITHM=INPLACE, LOCK=NONE`; SQLite refuses a STORED one on a table with rows and adds
/// a VIRTUAL one. The rule fires on both dialects and names SQLite's refusal there.
#[test]
fn stored_generated_columns_copy_on_mariadb_and_fail_on_sqlite_with_rows() {
    if let Some(db) = TestDb::new(Kind::Mariadb) {
        db.exec("CREATE TABLE t (id int PRIMARY KEY, a int); INSERT INTO t VALUES (1, 1)");
        let mut s = db.hold("");
        assert!(
            s.try_exec(
                "ALTER TABLE t ADD COLUMN v int AS (a + 1) VIRTUAL, ALGORITHM=INPLACE, LOCK=NONE"
            )
            .is_ok(),
            "virtual in place"
        );
        assert!(
            s.try_exec(
                "ALTER TABLE t ADD COLUMN s int AS (a + 1) STORED, ALGORITHM=INPLACE, LOCK=NONE"
            )
            .is_err(),
            "stored is not in place"
        );
    }
    if let Some(db) = TestDb::new(Kind::Sqlite) {
        db.exec("CREATE TABLE t (id int PRIMARY KEY, a int); INSERT INTO t VALUES (1, 1)");
        let mut s = db.hold("");
        let refused = s
            .try_exec("ALTER TABLE t ADD COLUMN s int GENERATED ALWAYS AS (a + 1) STORED")
            .unwrap_err()
            .to_string();
        assert!(refused.contains("cannot add a STORED column"), "{refused}");
        s.exec("ALTER TABLE t ADD COLUMN v int GENERATED ALWAYS AS (a + 1) VIRTUAL");
        db.write("1_t.sql", "CREATE TABLE t (id int PRIMARY KEY, a int);\n");
        db.write(
            "2_s.sql",
            "ALTER TABLE t ADD COLUMN s int GENERATED ALWAYS AS (a + 1) STORED;\n",
        );
        let run = support::cmd::migrate()
            .check()
            .dir(db.migrations())
            .dialect("sqlite")
            .run();
        assert!(
            run.stdout.contains("add-stored-generated-column")
                && run.stdout.contains("fails on SQLite")
                && run.stdout.contains("3. Or, instead, add it `VIRTUAL`")
                && !run.stdout.contains("MySQL:"),
            "{}",
            run.stdout
        );
    }
}

/// add-serial-column on MariaDB: an AUTO_INCREMENT column added to a table with rows is
/// refused with LOCK=NONE ("requires a lock") and accepted with LOCK=SHARED, which blocks
/// writes: the rule's claim, and why its MySQL recipe avoids AUTO_INCREMENT.
#[test]
fn mariadb_adds_an_auto_increment_column_only_with_writes_blocked() {
    let Some(db) = TestDb::new(Kind::Mariadb) else {
        return;
    };
    db.exec("CREATE TABLE t (id int PRIMARY KEY, a int); INSERT INTO t VALUES (1, 1), (2, 2)");
    let mut s = db.hold("");
    let refused = s
        .try_exec("ALTER TABLE t ADD COLUMN seq bigint AUTO_INCREMENT UNIQUE, ALGORITHM=INPLACE, LOCK=NONE")
        .unwrap_err()
        .to_string();
    assert!(refused.contains("requires a lock"), "{refused}");
    s.exec(
        "ALTER TABLE t ADD COLUMN seq bigint AUTO_INCREMENT UNIQUE, ALGORITHM=INPLACE, LOCK=SHARED",
    );
    s.exec("ALTER TABLE t ADD COLUMN plain bigint NULL, ALGORITHM=INSTANT");
}

/// unbatched-backfill's claim, asked of both servers: inside a migration's transaction an
/// UPDATE of the whole table holds a lock on every row until commit, so the old app's write
/// to any row waits past its lock timeout; a bounded batch (`WHERE id IN (SELECT ... LIMIT
/// n)`) locks only its batch, and a write to another row goes through at once.
#[test]
fn an_unbounded_update_locks_every_row_until_commit_and_a_batch_only_its_own() {
    let cases = [
        (
            Kind::Postgres,
            "SET lock_timeout = '300ms'",
            "UPDATE t SET org = 1 WHERE id IN (SELECT id FROM t WHERE org IS NULL ORDER BY id LIMIT 10)",
        ),
        (
            Kind::Mariadb,
            "SET innodb_lock_wait_timeout = 1",
            "UPDATE t SET org = 1 WHERE org IS NULL ORDER BY id LIMIT 10",
        ),
    ];
    for (kind, timeout, batch) in cases {
        let Some(db) = TestDb::new(kind) else {
            continue;
        };
        db.exec("CREATE TABLE t (id int PRIMARY KEY, org int, name varchar(20))");
        let values: Vec<String> = (1..=1000).map(|i| format!("({i}, NULL, 'x')")).collect();
        db.exec(&format!("INSERT INTO t VALUES {}", values.join(", ")));
        let mut migration = db.hold("");
        migration.exec("BEGIN");
        migration.exec("UPDATE t SET org = 1 WHERE org IS NULL");
        let mut old_app = db.hold("");
        old_app.exec(timeout);
        let waited = old_app.try_exec("UPDATE t SET name = 'y' WHERE id = 999");
        assert!(
            waited.is_err(),
            "{kind:?}: the old app's write went through"
        );
        migration.exec("ROLLBACK");
        migration.exec("BEGIN");
        migration.exec(batch);
        assert!(
            old_app
                .try_exec("UPDATE t SET name = 'y' WHERE id = 999")
                .is_ok(),
            "{kind:?}: a row outside the batch waited"
        );
        assert!(
            old_app
                .try_exec("UPDATE t SET name = 'y' WHERE id = 5")
                .is_err(),
            "{kind:?}: a row of the batch did not wait"
        );
        migration.exec("ROLLBACK");
    }
}
