#!/usr/bin/env python3
"""Benchmarks of `migrate` against named baselines, measured in one run on one machine.

  1. corpus: `migrate check` over the PostgreSQL part of ../shared/corpus (every project's
     history as its own process, all projects at once) against squawk linting the same files
     the same way: files/s, MB/s, peak RSS, ratio.
  2. growth: `check` of a synthetic history of 1,000 and of 10,000 realistic migrations:
     time, peak RSS, and the ratio between them.
  3. up: `migrate up` of 1,000 small migrations (create table, index, insert) into a fresh
     PostgreSQL database against `psql` running the same files with BEGIN/COMMIT per file in
     one session (the floor); the same on SQLite against `sqlite3`.
  4. start-up: `check` of a one-file directory, wall time.
  5. setup (only when asked: --only setup): a fresh clone of this repository with an empty
     target directory; the README's quickstart command, then its test command, each timed
     (once: a cold build cannot be repeated warm).

Every figure is the median of --repeat runs. Requires the benchmark build (cargo build
--profile dist), squawk (pip install squawk-cli), psql, sqlite3, and PostgreSQL at
127.0.0.1:5432 (and MariaDB at 127.0.0.1:3306 for setup's test command).

usage: scripts/bench.py [--repeat N] [--only corpus,growth,up,startup,setup] [--other-binary PATH]
"""

import argparse
import hashlib
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BINARY = os.path.join(ROOT, "target", "dist", "migrate")
CORPUS = os.path.join(ROOT, "..", "shared", "corpus")


def run_parallel(commands, env=None):
    """Runs the commands all at once; returns (wall seconds, max peak RSS in MB of any one)."""
    start = time.perf_counter()
    procs = []
    for cmd in commands:
        procs.append(subprocess.Popen(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, env=env))
    peak = 0
    for p in procs:
        _, err = p.communicate()
        lines = err.decode().strip().splitlines()
        if lines:
            try:
                peak = max(peak, int(lines[-1]))
            except ValueError:
                pass
    return time.perf_counter() - start, peak / 1024


def timed(cmd, env=None, stdin=None):
    """Runs one command; returns (wall seconds, peak RSS MB)."""
    start = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       env=env, stdin=stdin)
    wall = time.perf_counter() - start
    if p.returncode not in (0, 1):
        raise RuntimeError(f"{cmd[:3]} exited {p.returncode}: {p.stderr.decode()[-500:]}")
    peak = int(p.stderr.decode().strip().splitlines()[-1]) / 1024
    return wall, peak


def median_of(repeat, fn):
    results = [fn() for _ in range(repeat)]
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def paired(repeat, fa, fb):
    """Runs fa and fb alternately (so slow drift of the machine, e.g. its disk, hits both
    alike); returns ((median wall, max peak RSS) of fa, the same of fb)."""
    return interleaved(repeat, fa, fb)


def interleaved(repeat, *fns):
    """Runs every fn once per round, round after round; returns (median wall, max peak RSS)
    of each, in order."""
    return rounds(repeat, *fns)[0]


def rounds(repeat, *fns):
    """Like interleaved, and also the walls of every round: [[wall of fn 0, fn 1, ...], ...]."""
    runs = [[] for _ in fns]
    for _ in range(repeat):
        for fn, results in zip(fns, runs):
            results.append(fn())
    summary = tuple((statistics.median(r[0] for r in results), max(r[1] for r in results)) for results in runs)
    return summary, [[results[i][0] for results in runs] for i in range(repeat)]


def round_ratio(walls, a, b):
    """Median over rounds of wall[a] / wall[b], and its range: the two ran back to back in
    each round, so the ratio cancels the machine's drift better than a ratio of medians."""
    ratios = sorted(w[a] / w[b] for w in walls)
    return statistics.median(ratios), ratios[0], ratios[-1]


def pg_folders():
    folders = []
    for project in sorted(os.listdir(CORPUS)):
        folder = os.path.join(CORPUS, project, "postgres")
        if os.path.isdir(folder):
            files = [os.path.join(folder, f) for f in sorted(os.listdir(folder), key=str.encode)
                     if f.endswith(".sql") and "down.sql" not in f and "__down" not in f]
            folders.append((project, files))
    return folders


def bench_corpus(repeat, other=None):
    squawk = shutil.which("squawk")
    real = subprocess.run(["pyenv", "which", "squawk"], capture_output=True, text=True)
    if real.returncode == 0:
        squawk = real.stdout.strip()  # the binary itself, not pyenv's shell shim
    if not squawk:
        sys.exit("squawk not found: pip install squawk-cli (or run with --only growth,up,startup)")
    folders = pg_folders()
    files = sum(len(f) for _, f in folders)
    size = sum(os.path.getsize(p) for _, fs in folders for p in fs) / 1e6
    mig = [[BINARY, "check", "--format", "json", *fs] for _, fs in folders]
    sq = [[squawk, "--reporter", "gcc", *fs] for _, fs in folders]
    if other:
        old = [[other, "check", "--format", "json", *fs] for _, fs in folders]
        (m_wall, m_rss), (s_wall, s_rss), (o_wall, o_rss) = interleaved(
            repeat, lambda: run_parallel(mig), lambda: run_parallel(sq), lambda: run_parallel(old))
    else:
        (m_wall, m_rss), (s_wall, s_rss) = paired(repeat, lambda: run_parallel(mig), lambda: run_parallel(sq))
    print(f"\n1. corpus: {files} PostgreSQL up-files, {size:.2f} MB, {len(folders)} projects, one process per project, all at once")
    print(f"   migrate check : {m_wall*1000:8.1f} ms  {files/m_wall:8.0f} files/s  {size/m_wall:6.1f} MB/s  peak RSS {m_rss:6.1f} MB")
    print(f"   squawk {squawk_version(squawk):6} : {s_wall*1000:8.1f} ms  {files/s_wall:8.0f} files/s  {size/s_wall:6.1f} MB/s  peak RSS {s_rss:6.1f} MB")
    print(f"   throughput ratio migrate/squawk: {s_wall/m_wall:.2f}x (target >= 2x); peak RSS ratio {m_rss/s_rss:.2f} (target < 1)")
    if other:
        print(f"   other build   : {o_wall*1000:8.1f} ms  peak RSS {o_rss:6.1f} MB; its ratio to squawk {s_wall/o_wall:.2f}x, "
              f"this build's time / other's {m_wall/o_wall:.2f}")
    return {"corpus_ratio": s_wall / m_wall, "rss_ratio": m_rss / s_rss}


def squawk_version(path):
    out = subprocess.run([path, "--version"], capture_output=True, text=True).stdout.split()
    return out[-1] if out else "?"


def synthetic_history(directory, count, seed=7):
    """Realistic migrations: new tables, nullable columns, concurrent indexes (alone in their
    file), defaults, checks added NOT VALID and validated later, views, data backfills."""
    rng = random.Random(seed)
    tables = []
    pending_checks = []
    for i in range(1, count + 1):
        version = 20200101000000 + i
        kind = rng.random()
        path = os.path.join(directory, f"{version}_step_{i}.sql")
        if not tables or kind < 0.25:
            t = f"t{i}"
            tables.append([t, ["id", "name"]])
            body = (f"CREATE TABLE {t} (\n    id bigint PRIMARY KEY,\n    name text NOT NULL,\n"
                    f"    created_at timestamptz NOT NULL DEFAULT now()\n);\n\n"
                    f"CREATE INDEX {t}_name ON {t} (name);\n")
        elif kind < 0.5:
            t = rng.choice(tables)
            c = f"c{i}"
            t[1].append(c)
            body = f"ALTER TABLE {t[0]} ADD COLUMN {c} text;\n\nUPDATE {t[0]} SET {c} = name WHERE {c} IS NULL AND id < 1000;\n"
        elif kind < 0.65:
            t = rng.choice(tables)
            body = f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {t[0]}_idx_{i} ON {t[0]} ({rng.choice(t[1])});\n"
        elif kind < 0.75:
            t = rng.choice(tables)
            name = f"{t[0]}_chk_{i}"
            pending_checks.append((t[0], name))
            body = f"ALTER TABLE {t[0]} ADD CONSTRAINT {name} CHECK (char_length(name) < 500) NOT VALID;\n"
        elif kind < 0.85 and pending_checks:
            t, name = pending_checks.pop(0)
            body = f"ALTER TABLE {t} VALIDATE CONSTRAINT {name};\n"
        elif kind < 0.95:
            t = rng.choice(tables)
            body = (f"CREATE OR REPLACE VIEW v_{t[0]} AS SELECT id, name FROM {t[0]};\n\n"
                    f"COMMENT ON TABLE {t[0]} IS 'step {i}: it''s documented';\n")
        else:
            t = rng.choice(tables)
            body = (f"CREATE FUNCTION f_{i}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
                    f"    NEW.name := trim(NEW.name);\n    RETURN NEW;\nEND;\n$$;\n\n"
                    f"CREATE TRIGGER trg_{i} BEFORE INSERT ON {t[0]} FOR EACH ROW EXECUTE FUNCTION f_{i}();\n")
        with open(path, "w") as f:
            f.write(body)


def bench_growth(repeat):
    results = {}
    for count in (1000, 10000):
        d = tempfile.mkdtemp(prefix=f"bench-growth-{count}-")
        synthetic_history(d, count)
        wall, rss = median_of(repeat, lambda: timed([BINARY, "check", "--format", "json", "--dir", d]))
        results[count] = (wall, rss)
        shutil.rmtree(d)
    (w1, r1), (w10, r10) = results[1000], results[10000]
    print("\n2. growth: check of a synthetic history")
    print(f"   1,000 migrations : {w1*1000:8.1f} ms  peak RSS {r1:6.1f} MB")
    print(f"   10,000 migrations: {w10*1000:8.1f} ms  peak RSS {r10:6.1f} MB")
    print(f"   10x the files costs {w10/w1:.2f}x the time (target <= 11x), {r10/r1:.2f}x the memory")
    return {"growth_ratio": w10 / w1}


def small_migrations(directory, count, sqlite):
    ts = "TEXT DEFAULT CURRENT_TIMESTAMP" if sqlite else "timestamptz DEFAULT now()"
    for i in range(1, count + 1):
        with open(os.path.join(directory, f"{20200101000000 + i}_m{i}.sql"), "w") as f:
            f.write(f"CREATE TABLE t{i} (id bigint PRIMARY KEY, name text NOT NULL, created_at {ts});\n"
                    f"CREATE INDEX t{i}_name ON t{i} (name);\n"
                    f"INSERT INTO t{i} (id, name) VALUES (1, 'a'), (2, 'b');\n")


def history_insert(table, path, version):
    """The row `migrate up` writes for one migration (same columns, same sizes), as an INSERT
    with quoted literals, so a floor script can do the same work."""
    with open(path, "rb") as f:
        body = f.read()
    q = lambda text: "'" + text.replace("'", "''") + "'"
    checksum = "sha256:" + hashlib.sha256(body).hexdigest()
    name = os.path.basename(path)
    values = [str(version), q(name.split("_", 1)[1][:-4]), q(checksum), q("expand"), q(body.decode()),
              q("applied"), "3", "3", q("2026-11-23T00:00:00.000Z"), "1", q("migrate 0.1.0"), q("[]")]
    return f"INSERT INTO {table} VALUES ({', '.join(values)});\n"


HISTORY_TABLE = ("CREATE TABLE floor_history (version BIGINT PRIMARY KEY, description TEXT NOT NULL, "
                 "checksum TEXT NOT NULL, phase TEXT NOT NULL, sql_text TEXT NOT NULL, state TEXT NOT NULL, "
                 "statements_applied BIGINT NOT NULL, statements_total BIGINT NOT NULL, applied_at TEXT, "
                 "execution_ms BIGINT, applied_by TEXT NOT NULL, allows TEXT NOT NULL, error TEXT, "
                 "failed_statement BIGINT);\n")


def psql(*args, db="postgres", stdin=None):
    return subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qAt", "-v", "ON_ERROR_STOP=1", "-d", db, *args],
                          capture_output=True, text=True, check=True, input=stdin)


def bench_up(repeat, other=None, count=1000):
    d = tempfile.mkdtemp(prefix="bench-up-")
    pg_dir, lite_dir = os.path.join(d, "pg"), os.path.join(d, "lite")
    os.makedirs(pg_dir)
    os.makedirs(lite_dir)
    small_migrations(pg_dir, count, sqlite=False)
    small_migrations(lite_dir, count, sqlite=True)
    files_pg = sorted(os.listdir(pg_dir))
    files_lite = sorted(os.listdir(lite_dir))
    version = lambda name: int(name.split("_", 1)[0])
    # The floors, and the floors with the history row migrate writes for each migration
    # (the same insert in the same transaction): what the engine costs apart from that row.
    script, script_h = os.path.join(d, "floor.sql"), os.path.join(d, "floor-history.sql")
    with open(script, "w") as f, open(script_h, "w") as fh:
        fh.write(HISTORY_TABLE)
        for name in files_pg:
            path = os.path.join(pg_dir, name)
            f.write(f"BEGIN;\n\\i {path}\nCOMMIT;\n")
            fh.write(f"BEGIN;\n\\i {path}\n{history_insert('floor_history', path, version(name))}COMMIT;\n")
    lite_script, lite_script_h = os.path.join(d, "floor-sqlite.sql"), os.path.join(d, "floor-sqlite-history.sql")
    with open(lite_script, "w") as f, open(lite_script_h, "w") as fh:
        fh.write(HISTORY_TABLE)
        for name in files_lite:
            path = os.path.join(lite_dir, name)
            body = open(path).read()
            f.write("BEGIN;\n" + body + "COMMIT;\n")
            fh.write("BEGIN;\n" + body + history_insert("floor_history", path, version(name)) + "COMMIT;\n")

    def fresh_pg():
        psql("-c", "DROP DATABASE IF EXISTS bench_up WITH (FORCE)")
        psql("-c", "CREATE DATABASE bench_up")

    def run_migrate_pg(binary=BINARY):
        fresh_pg()
        return timed([binary, "up", "--dir", pg_dir, "--database", "postgres://postgres@127.0.0.1:5432/bench_up"])

    def run_psql(path):
        fresh_pg()
        return timed(["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-v", "ON_ERROR_STOP=1", "-d", "bench_up", "-f", path])

    lite_db = os.path.join(d, "bench.db")

    def run_migrate_lite(binary):
        if os.path.exists(lite_db):
            os.remove(lite_db)
        return timed([binary, "up", "--dir", lite_dir, "--database", f"sqlite://{lite_db}"])

    def run_sqlite3(path):
        if os.path.exists(lite_db):
            os.remove(lite_db)
        with open(path) as stdin:
            return timed(["sqlite3", lite_db], stdin=stdin)

    pg_runs = [run_migrate_pg, lambda: run_psql(script), lambda: run_psql(script_h)]
    lite_runs = [lambda: run_migrate_lite(BINARY), lambda: run_sqlite3(lite_script), lambda: run_sqlite3(lite_script_h)]
    if other:
        pg_runs.append(lambda: run_migrate_pg(other))
        lite_runs.append(lambda: run_migrate_lite(other))
    pg, pg_walls = rounds(repeat, *pg_runs)
    lite, lite_walls = rounds(repeat, *lite_runs)
    psql("-c", "DROP DATABASE IF EXISTS bench_up WITH (FORCE)")
    shutil.rmtree(d)
    print(f"\n3. up: {count} small migrations (create table, index, insert) into a fresh database")
    print("   (ratios: median over rounds of migrate's time / the baseline's in the same round, and their range)")
    results = {}
    for name, floor, summary, walls in [("PostgreSQL", "psql floor", pg, pg_walls), ("SQLite", "sqlite3 floor", lite, lite_walls)]:
        (m, f, fh, *o) = summary
        r, lo, hi = round_ratio(walls, 0, 1)
        rh, lo_h, hi_h = round_ratio(walls, 0, 2)
        print(f"   {name:10}: migrate up {m[0]*1000:8.1f} ms   {floor} {f[0]*1000:8.1f} ms   ratio {r:.3f}x ({lo:.2f}-{hi:.2f}) (target <= 1.05x)")
        print(f"   {'':10}  {floor} with the same history rows {fh[0]*1000:8.1f} ms   ratio {rh:.3f}x ({lo_h:.2f}-{hi_h:.2f})")
        if o:
            ro, lo_o, hi_o = round_ratio(walls, 3, 1)
            print(f"   {'':10}  other binary {o[0][0]*1000:8.1f} ms   ratio {ro:.3f}x ({lo_o:.2f}-{hi_o:.2f}) against the floor")
        results[name] = r
    return {"up_pg_ratio": results["PostgreSQL"], "up_sqlite_ratio": results["SQLite"]}


def bench_startup(repeat):
    d = tempfile.mkdtemp(prefix="bench-startup-")
    with open(os.path.join(d, "20260101000000_init.sql"), "w") as f:
        f.write("CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n")
    walls = []
    for _ in range(max(repeat, 20)):
        start = time.perf_counter()
        subprocess.run([BINARY, "check", "--dir", d], stdout=subprocess.DEVNULL, check=True)
        walls.append(time.perf_counter() - start)
    shutil.rmtree(d)
    wall = statistics.median(walls)
    print(f"\n4. start-up: check of a one-file directory: {wall*1000:.1f} ms median of {len(walls)} (target < 20 ms)")
    return {"startup_ms": wall * 1000}


def readme_commands():
    """The README's two set-up commands (the quickstart and the test command), as written."""
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    block = text.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.strip() for line in block.splitlines() if line.strip() and not line.strip().startswith("#")]
    if len(commands) != 2:
        sys.exit(f"README quick start: expected two commands, found {commands}")
    return commands


def bench_setup(_repeat):
    quickstart, test = readme_commands()
    d = tempfile.mkdtemp(prefix="bench-setup-")
    clone = os.path.join(d, "migrate")
    start = time.perf_counter()
    subprocess.run(["git", "clone", "-q", ROOT, clone], check=True)
    clone_s = time.perf_counter() - start
    env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(clone, "target"), CI="true")
    env.pop("SARIF_MULTITOOL", None)
    # CI=true makes every server test run, and the SARIF test too: install its validator as
    # .ci/run does (npm), timed on its own.
    start = time.perf_counter()
    tool = subprocess.run(["scripts/install-sarif-multitool.sh"], cwd=clone, env=env,
                          capture_output=True, text=True)
    sarif_s = time.perf_counter() - start
    if tool.returncode == 0:
        env["SARIF_MULTITOOL"] = tool.stdout.strip()
    print(f"   SARIF validator for the CI=true test run: {sarif_s:.0f} s"
          f"{'' if tool.returncode == 0 else ', FAILED: ' + tool.stderr.strip()[:200]}")
    figures = {}
    passed = True
    for name, command, goal in [("quickstart", quickstart, 180), ("test", test, 600)]:
        start = time.perf_counter()
        done = subprocess.run(command, shell=True, cwd=clone, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        figures[name] = wall
        verdict = "ok" if done.returncode == 0 else f"FAILED (exit {done.returncode})"
        passed = passed and done.returncode == 0
        print(f"   {name}: `{command}` {wall:.0f} s (goal <= {goal} s), {verdict}")
    shutil.rmtree(d)
    print(f"\n5. setup: fresh clone ({clone_s:.1f} s) to first result {clone_s + figures['quickstart']:.0f} s; "
          f"tests {'passed' if passed else 'FAILED'} {clone_s + figures['quickstart'] + figures['test']:.0f} s "
          f"after the clone began (the SARIF validator's install not counted)")
    return figures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default="corpus,growth,up,startup")
    parser.add_argument("--other-binary", help="another build of migrate to time in the corpus and up "
                        "benchmarks too (e.g. the previous commit's), interleaved with this one")
    args = parser.parse_args()
    if not os.path.exists(BINARY):
        if args.only != "setup":
            sys.exit("build first: cargo build --profile dist")
    print(f"migrate benchmarks, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.machine()}, "
          f"{os.cpu_count()} cores, {platform.processor() or platform.platform()}; median of {args.repeat}")
    only = args.only.split(",")
    for name, fn in [("corpus", bench_corpus), ("growth", bench_growth), ("up", bench_up), ("startup", bench_startup),
                     ("setup", bench_setup)]:
        if name in only:
            if name in ("up", "corpus"):
                fn(args.repeat, args.other_binary)
            else:
                fn(args.repeat)


if __name__ == "__main__":
    main()
