//! The executable truth table: every claim a rule makes about what the database does — the
//! lock a statement takes, whether it rewrites the table, whether it may run in a
//! transaction — asked of the real server. Where the database disagrees with a rule, the
//! rule is wrong.

mod support;

use std::time::{Duration, Instant};

use support::db::{Kind, TestDb};

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
