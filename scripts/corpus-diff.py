#!/usr/bin/env python3
"""Compares two `migrate` builds over the shared corpus, diagnostic by diagnostic.

Runs `migrate check` (JSON) with each binary over every project and dialect folder, as
scripts/corpus-coverage.py does, and prints per rule the error and warning counts of the old
and the new build, then a sample of the diagnostics that appeared or disappeared (file, line,
rule, message) to read by hand. Exits 1 if either build crashed on a folder.

usage: scripts/corpus-diff.py --old PATH [--new PATH] [--corpus DIR] [--sample N]
"""

import argparse
import collections
import importlib.util
import json
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("coverage", os.path.join(HERE, "corpus-coverage.py"))
coverage = importlib.util.module_from_spec(spec)
spec.loader.exec_module(coverage)


def diagnostics(binary, corpus):
    """Every diagnostic of `binary` over the corpus as (folder, file, line, rule, severity, message)."""
    out, crashed = [], False
    for project in sorted(os.listdir(corpus)):
        pdir = os.path.join(corpus, project)
        if not os.path.isdir(pdir):
            continue
        for dialect_dir in sorted(os.listdir(pdir)):
            files = coverage.up_files(os.path.join(pdir, dialect_dir))
            if not files:
                continue
            dialect = coverage.DIALECTS.get(dialect_dir, "postgres")
            run = subprocess.run([binary, "check", "--format", "json", "--dialect", dialect, *files],
                                 capture_output=True, text=True)
            folder = f"{project}/{dialect_dir}"
            if run.returncode not in (0, 1):
                print(f"{binary}: {folder}: exit {run.returncode}: {run.stderr.strip()[:300]}")
                crashed = True
                continue
            for d in json.loads(run.stdout)["diagnostics"]:
                out.append((folder, os.path.basename(d["file"]), d["line"], d["rule"], d["severity"], d["message"]))
    return out, crashed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--old", required=True)
    parser.add_argument("--new", default=os.path.join(HERE, "..", "target", "release", "migrate"))
    parser.add_argument("--corpus", default=os.path.join(HERE, "..", "..", "shared", "corpus"))
    parser.add_argument("--sample", type=int, default=40)
    args = parser.parse_args()
    old, old_crashed = diagnostics(args.old, args.corpus)
    new, new_crashed = diagnostics(args.new, args.corpus)
    count = lambda ds: collections.Counter((d[3], d[4]) for d in ds)
    before, after = count(old), count(new)
    rules = sorted({r for r, _ in before} | {r for r, _ in after})
    print(f"{'rule':40} {'errors':>15} {'warnings':>15}")
    for rule in rules:
        e = f"{before[(rule, 'error')]} -> {after[(rule, 'error')]}"
        w = f"{before[(rule, 'warning')]} -> {after[(rule, 'warning')]}"
        print(f"{rule:40} {e:>15} {w:>15}")
    total = lambda c, s: sum(n for (_, sev), n in c.items() if sev == s)
    print(f"{'total':40} {total(before, 'error'):>6} -> {total(after, 'error'):<6} {total(before, 'warning'):>6} -> {total(after, 'warning'):<6}")
    key = lambda d: d[:5]
    old_keys, new_keys = {key(d) for d in old}, {key(d) for d in new}
    gone = [d for d in old if key(d) not in new_keys]
    came = [d for d in new if key(d) not in old_keys]
    rng = random.Random(12)
    for title, ds in (("disappeared", gone), ("appeared", came)):
        print(f"\n{title}: {len(ds)}")
        for d in sorted(rng.sample(ds, min(args.sample, len(ds)))):
            print(f"  {d[0]}/{d[1]}:{d[2]} {d[4]} {d[3]}: {d[5][:200]}")
    return 1 if old_crashed or new_crashed else 0


if __name__ == "__main__":
    sys.exit(main())
