#!/usr/bin/env python3
"""SIGKILL `migrate up` at random moments and check what the next run does.

For each trial: a fresh database, `migrate up` started and killed with SIGKILL after a random
delay, then `migrate up` again. PostgreSQL (transactional migrations, plus one CREATE INDEX
CONCURRENTLY) must converge to the schema and history of an uninterrupted run. MariaDB commits
DDL implicitly: the next run must either converge the same way or refuse with the recorded
statement count and the `migrate resolve` next step.

usage: scripts/kill-trials.py [--trials N] [--binary PATH] [--dialect postgres|mariadb ...]
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
    "1_users.sql": "CREATE TABLE users (id INT PRIMARY KEY, email TEXT);\nINSERT INTO users SELECT g, 'u' || g FROM generate_series(1, 20000) g;\n",
    "2_slow.sql": "CREATE TABLE audit (id INT);\nSELECT pg_sleep(0.4);\nINSERT INTO audit SELECT g FROM generate_series(1, 1000) g;\n",
    "3_bio.sql": "ALTER TABLE users ADD COLUMN bio TEXT;\n",
    "4_index.sql": "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email ON users (email);\n",
    "5_slow.sql": "SELECT pg_sleep(0.3);\nCREATE TABLE events (id INT, at TIMESTAMPTZ DEFAULT now());\n",
    "6_more.sql": "ALTER TABLE events ADD COLUMN kind TEXT;\n",
}
MARIADB_MIGRATIONS = {
    "1_users.sql": "CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(100));\nINSERT INTO users VALUES (1, 'a'), (2, 'b');\n",
    "2_slow.sql": "CREATE TABLE audit (id INT);\nSELECT SLEEP(0.4);\nALTER TABLE audit ADD COLUMN note TEXT;\n",
    "3_bio.sql": "ALTER TABLE users ADD COLUMN bio TEXT;\n",
    "4_slow.sql": "SELECT SLEEP(0.3);\nCREATE TABLE events (id INT);\n",
    "5_more.sql": "ALTER TABLE events ADD COLUMN kind VARCHAR(20);\n",
}


def sql(dialect, db, query):
    if dialect == "postgres":
        cmd = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-Atq", "-d", db, "-c", query]
    else:
        cmd = ["mariadb", "-h", "127.0.0.1", "-uroot", "-N", "-B", db, "-e", query]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()


def admin(dialect, query):
    return sql(dialect, "postgres" if dialect == "postgres" else "mysql", query)


def snapshot(dialect, db):
    """Schema and history, comparable across databases."""
    if dialect == "postgres":
        columns = sql(dialect, db, "SELECT table_name || '.' || column_name || ':' || data_type FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1")
        indexes = sql(dialect, db, "SELECT indexname || ':' || (SELECT indisvalid::text FROM pg_index WHERE indexrelid = (schemaname || '.' || indexname)::regclass) FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1")
        rows = sql(dialect, db, "SELECT (SELECT count(*) FROM users)::text || '/' || coalesce((SELECT count(*) FROM audit)::text, '-')")
        history = sql(dialect, db, "SELECT version || ':' || state || ':' || checksum FROM migrate_history ORDER BY version")
    else:
        columns = sql(dialect, db, "SELECT CONCAT(table_name, '.', column_name, ':', data_type) FROM information_schema.columns WHERE table_schema = DATABASE() ORDER BY 1")
        indexes = ""
        rows = sql(dialect, db, "SELECT COUNT(*) FROM users")
        history = sql(dialect, db, "SELECT CONCAT(version, ':', state, ':', checksum) FROM migrate_history ORDER BY version")
    return (columns, indexes, rows, history)


def url(dialect, db):
    if dialect == "postgres":
        return f"postgres://postgres@127.0.0.1:5432/{db}"
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
    if dialect == "postgres":
        time.sleep(0.05)
    after = run_up(binary, directory, dialect, db)
    if after.returncode == 0:
        state = snapshot(dialect, db)
        return ("converged" if killed else "finished before kill") if state == reference else f"DIVERGED: {state} != {reference}"
    if dialect == "mariadb" and after.returncode == 1 and "migrate resolve" in after.stdout and "statements applied" in after.stdout:
        return "refused with next step"
    return f"FAILED: exit {after.returncode}: {after.stdout.strip()[:300]} {after.stderr.strip()[:300]}"


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--binary", default=os.path.join(here, "..", "target", "debug", "migrate"))
    parser.add_argument("--dialect", action="append", choices=["postgres", "mariadb"])
    args = parser.parse_args()
    failures = 0
    for dialect in args.dialect or ["postgres", "mariadb"]:
        migrations = PG_MIGRATIONS if dialect == "postgres" else MARIADB_MIGRATIONS
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
            key = outcome if not outcome.startswith(("DIVERGED", "FAILED")) else outcome
            outcomes[key] = outcomes.get(key, 0) + 1
            if outcome.startswith(("DIVERGED", "FAILED")):
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
