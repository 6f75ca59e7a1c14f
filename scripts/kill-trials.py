#!/usr/bin/env python3
"""SIGKILL `migrate up` at random moments and check what the next run does.

For each trial: a fresh database, `migrate up` started and killed with SIGKILL after a random
delay, then `migrate up` again. Every history holds DML that must run exactly once
(`UPDATE acct SET balance = balance + N`, so a statement applied twice shows in the balance),
in transactional migrations and in migrations run statement by statement (every MariaDB one;
PostgreSQL and SQLite files with CREATE INDEX CONCURRENTLY or `-- migrate:no-transaction`), and
in a backfill migration run in batches (`n = n + 1` with a marker: every row exactly once).
The next run must converge to the schema, data and history of an uninterrupted run, or
refuse with the `migrate resolve` next step having applied nothing twice.

usage: scripts/kill-trials.py [--trials N] [--binary PATH] [--dialect postgres|mariadb|sqlite ...]
"""

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PG_MIGRATIONS = {
    "1_users.sql": "CREATE TABLE users (id INT PRIMARY KEY, email TEXT);\nINSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 20000) g;\nCREATE TABLE acct (id INT PRIMARY KEY, balance INT NOT NULL);\nINSERT INTO acct VALUES (1, 0);\n",
    "2_slow.sql": "CREATE TABLE audit (id INT);\nSELECT pg_sleep(0.4);\nINSERT INTO audit SELECT g FROM generate_series(1, 1000) g;\nUPDATE acct SET balance = balance + 1;\n",
    "3_bio.sql": "ALTER TABLE users ADD COLUMN bio TEXT;\n",
    "4_index.sql": "-- migrate:no-transaction\nUPDATE acct SET balance = balance + 10;\n-- migrate:allow mixed-non-transactional: each statement is recorded, the kill trials prove it\nCREATE INDEX CONCURRENTLY IF NOT EXISTS users_email ON users (email);\nSELECT pg_sleep(0.2);\nUPDATE acct SET balance = balance + 100;\n",
    "5_slow.sql": "SELECT pg_sleep(0.3);\nCREATE TABLE events (id INT, at TIMESTAMPTZ DEFAULT now());\nUPDATE acct SET balance = balance + 1000;\n",
    "6_more.sql": "ALTER TABLE events ADD COLUMN kind TEXT;\n",
    "7_bf.sql": "CREATE TABLE bf (id INT PRIMARY KEY, n INT NOT NULL, done BOOLEAN NOT NULL);\nINSERT INTO bf SELECT g, 0, false FROM generate_series(1, 20000) g;\n",
    "8_fill.sql": "-- migrate:backfill\nUPDATE bf SET n = n + 1, done = true WHERE id IN (SELECT id FROM bf WHERE NOT done LIMIT 500);\n",
}
MARIADB_MIGRATIONS = {
    "1_users.sql": "CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(100));\nINSERT INTO users VALUES (1, 'a'), (2, 'b');\nCREATE TABLE acct (id INT PRIMARY KEY, balance INT NOT NULL);\nINSERT INTO acct VALUES (1, 0);\n",
    "2_slow.sql": "CREATE TABLE audit (id INT);\nUPDATE acct SET balance = balance + 1;\nSELECT SLEEP(0.4);\nALTER TABLE audit ADD COLUMN note TEXT;\nUPDATE acct SET balance = balance + 10;\n",
    "3_bio.sql": "ALTER TABLE users ADD COLUMN bio TEXT;\nUPDATE acct SET balance = balance + 100;\n",
    "4_slow.sql": "SELECT SLEEP(0.3);\nCREATE TABLE events (id INT);\nUPDATE acct SET balance = balance + 1000;\nALTER TABLE users ADD INDEX users_email (email);\n",
    "5_more.sql": "ALTER TABLE events ADD COLUMN kind VARCHAR(20);\nUPDATE acct SET balance = balance + 10000;\n",
    "6_bf.sql": "CREATE TABLE bf (id INT PRIMARY KEY, n INT NOT NULL, done INT NOT NULL);\nINSERT INTO bf SELECT seq, 0, 0 FROM seq_1_to_20000;\n",
    "7_fill.sql": "-- migrate:backfill\nUPDATE bf SET n = n + 1, done = 1 WHERE done = 0 LIMIT 500;\n",
}
SQLITE_MIGRATIONS = {
    "1_users.sql": "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\nINSERT INTO users (email) WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 200000) SELECT 'u' || n FROM c;\nCREATE TABLE acct (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);\nINSERT INTO acct VALUES (1, 0);\n",
    "2_slow.sql": "CREATE TABLE audit (id INTEGER);\nINSERT INTO audit WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 300000) SELECT n FROM c;\nUPDATE acct SET balance = balance + 1;\n",
    "3_bio.sql": "-- migrate:no-transaction\nUPDATE acct SET balance = balance + 10;\nCREATE INDEX users_email ON users (email);\nUPDATE acct SET balance = balance + 100;\n",
    "4_more.sql": "ALTER TABLE users ADD COLUMN bio TEXT;\nUPDATE acct SET balance = balance + 1000;\n",
    "5_bf.sql": "CREATE TABLE bf (id INTEGER PRIMARY KEY, n INTEGER NOT NULL, done INTEGER NOT NULL);\nINSERT INTO bf WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000) SELECT x, 0, 0 FROM c;\n",
    "6_fill.sql": "-- migrate:backfill\nUPDATE bf SET n = n + 1, done = 1 WHERE id IN (SELECT id FROM bf WHERE done = 0 LIMIT 1000);\n",
}


SQLITE_DIR = tempfile.mkdtemp(prefix="kill-trials-sqlite-")


def sql(dialect, db, query):
    if dialect == "postgres":
        cmd = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atq", "-d", db, "-c", query]
    elif dialect == "mariadb":
        cmd = ["mariadb", "-h", "127.0.0.1", "-uroot", "-N", "-B", db, "-e", query]
    else:
        import sqlite3
        con = sqlite3.connect(os.path.join(SQLITE_DIR, db + ".db"))
        try:
            return "\n".join("|".join("" if v is None else str(v) for v in row) for row in con.execute(query)).strip()
        finally:
            con.close()
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


def admin(dialect, query):
    if dialect == "sqlite":
        # DROP/CREATE DATABASE name: remove the file (and its lock file) to start afresh.
        words = query.split()
        if words[0] == "DROP":
            for suffix in (".db", ".db-journal", ".db-wal", ".db-shm", ".db-migrate-lock"):
                try:
                    os.remove(os.path.join(SQLITE_DIR, words[-1] + suffix))
                except FileNotFoundError:
                    pass
        return ""
    return sql(dialect, "postgres" if dialect == "postgres" else "mysql", query)


def snapshot(dialect, db):
    """Schema, data that must change exactly once, and history, comparable across databases."""
    if dialect == "postgres":
        columns = sql(dialect, db, "SELECT table_name || '.' || column_name || ':' || data_type FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1")
        indexes = sql(dialect, db, "SELECT indexname || ':' || (SELECT indisvalid::text FROM pg_index WHERE indexrelid = (schemaname || '.' || indexname)::regclass) FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1")
        rows = sql(dialect, db, "SELECT (SELECT count(*) FROM users)::text || '/' || coalesce((SELECT count(*) FROM audit)::text, '-')")
    elif dialect == "mariadb":
        columns = sql(dialect, db, "SELECT CONCAT(table_name, '.', column_name, ':', data_type) FROM information_schema.columns WHERE table_schema = DATABASE() ORDER BY 1")
        indexes = sql(dialect, db, "SELECT DISTINCT CONCAT(table_name, '.', index_name) FROM information_schema.statistics WHERE table_schema = DATABASE() ORDER BY 1")
        rows = sql(dialect, db, "SELECT COUNT(*) FROM users")
    else:
        columns = sql(dialect, db, "SELECT m.name || '.' || p.name || ':' || p.type FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' ORDER BY 1")
        indexes = sql(dialect, db, "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY 1")
        rows = sql(dialect, db, "SELECT (SELECT count(*) FROM users) || '/' || (SELECT count(*) FROM audit)")
    balance = balance_of(dialect, db)
    # The backfill: every row incremented exactly once.
    backfilled = sql(dialect, db, "SELECT CONCAT((SELECT COUNT(*) FROM bf WHERE n = 1), '/', (SELECT COUNT(*) FROM bf))" if dialect == "mariadb" else "SELECT (SELECT count(*) FROM bf WHERE n = 1) || '/' || (SELECT count(*) FROM bf)")
    rows = f"{rows} bf {backfilled}"
    history = sql(dialect, db, "SELECT version || ':' || state || ':' || checksum FROM migrate_history ORDER BY version" if dialect != "mariadb" else "SELECT CONCAT(version, ':', state, ':', checksum) FROM migrate_history ORDER BY version")
    return (columns, indexes, rows, balance, history)


def balance_of(dialect, db):
    try:
        return sql(dialect, db, "SELECT balance FROM acct")
    except Exception:
        return "-"


def url(dialect, db):
    if dialect == "postgres":
        return f"postgres://postgres@127.0.0.1:5432/{db}"
    if dialect == "sqlite":
        return f"sqlite://{os.path.join(SQLITE_DIR, db + '.db')}"
    return f"mysql://root@127.0.0.1:3306/{db}"


def run_up(binary, directory, dialect, db, timeout=120):
    return subprocess.run([binary, "up", "--dir", directory, "--database", url(dialect, db)],
                          capture_output=True, text=True, timeout=timeout)


def trial(binary, directory, dialect, db, reference, max_delay):
    admin(dialect, f"DROP DATABASE IF EXISTS {db}" + (" WITH (FORCE)" if dialect == "postgres" else ""))
    admin(dialect, f"CREATE DATABASE {db}")
    child = subprocess.Popen([binary, "up", "--dir", directory, "--database", url(dialect, db)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(random.uniform(0, max_delay))
    killed = child.poll() is None
    if killed:
        child.send_signal(signal.SIGKILL)
    child.wait()
    after = run_up(binary, directory, dialect, db)
    if after.returncode == 0:
        state = snapshot(dialect, db)
        if state == reference:
            resumed = "resuming" in after.stderr
            return ("converged (resumed)" if resumed else "converged") if killed else "finished before kill"
        return f"DIVERGED: {state} != {reference}"
    if after.returncode == 1 and "migrate resolve" in after.stdout:
        # Refused: nothing may have run twice (the balance never exceeds the reference).
        balance = balance_of(dialect, db)
        if balance != "-" and int(balance or 0) > int(reference[3]):
            return f"DOUBLE APPLICATION before refusing: balance {balance} > {reference[3]}"
        return "refused with next step"
    return f"FAILED: exit {after.returncode}: {after.stdout.strip()[:300]} {after.stderr.strip()[:300]}"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--binary", default=os.path.join(here, "..", "target", "debug", "migrate"))
    parser.add_argument("--dialect", action="append", choices=["postgres", "mariadb", "sqlite"])
    args = parser.parse_args()
    failures = 0
    for dialect in args.dialect or ["postgres", "mariadb", "sqlite"]:
        migrations = {"postgres": PG_MIGRATIONS, "mariadb": MARIADB_MIGRATIONS, "sqlite": SQLITE_MIGRATIONS}[dialect]
        directory = tempfile.mkdtemp(prefix="kill-trials-")
        for name, text in migrations.items():
            with open(os.path.join(directory, name), "w") as f:
                f.write(text)
        reference_db = f"kill_ref_{os.getpid()}"
        admin(dialect, f"DROP DATABASE IF EXISTS {reference_db}")
        admin(dialect, f"CREATE DATABASE {reference_db}")
        start = time.time()
        first = run_up(args.binary, directory, dialect, reference_db)
        assert first.returncode == 0, first.stdout + first.stderr
        duration = time.time() - start
        reference = snapshot(dialect, reference_db)
        outcomes = {}
        db = f"kill_trial_{os.getpid()}"
        for _ in range(args.trials):
            outcome = trial(args.binary, directory, dialect, db, reference, duration * 1.1)
            key = outcome
            outcomes[key] = outcomes.get(key, 0) + 1
            if outcome.startswith(("DIVERGED", "FAILED", "DOUBLE")):
                failures += 1
                print(f"{dialect}: {outcome}")
        for name in (db, reference_db):
            admin(dialect, f"DROP DATABASE IF EXISTS {name}" + (" WITH (FORCE)" if dialect == "postgres" else ""))
        shutil.rmtree(directory)
        print(f"{dialect}: {args.trials} trials (uninterrupted run {duration:.2f} s): " +
              ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items())))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
