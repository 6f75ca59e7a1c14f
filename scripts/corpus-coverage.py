#!/usr/bin/env python3
"""Runs `migrate check` over every project and dialect folder of the shared corpus.

Each folder's up-migrations (down files excluded), in byte-wise name order, are passed as FILE
arguments: the whole folder is one history. Prints, per folder, the statements analysed (not
`unparsed-statement`), the share, and the diagnostics by rule; exits 1 if any run crashed
(exit code other than 0 or 1) or printed something other than one JSON object.

usage: scripts/corpus-coverage.py [--corpus DIR] [--binary PATH] [--rules] [--unparsed N]
"""

import argparse
import collections
import json
import os
import subprocess
import sys

DIALECTS = {"postgres": "postgres", "cockroach": "postgres", "generic": "postgres",
            "mysql": "mysql", "sqlite": "sqlite"}


def up_files(folder):
    names = sorted(os.listdir(folder), key=lambda n: n.encode())
    return [os.path.join(folder, n) for n in names
            if n.endswith(".sql") and "down.sql" not in n and "__down" not in n]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default=os.path.join(here, "..", "..", "shared", "corpus"))
    parser.add_argument("--binary", default=os.path.join(here, "..", "target", "release", "migrate"))
    parser.add_argument("--rules", action="store_true", help="print diagnostics by rule")
    parser.add_argument("--unparsed", type=int, default=0, help="print N unparsed messages per folder")
    args = parser.parse_args()

    crashed = False
    totals = collections.Counter()
    print(f"{'project/dialect':28} {'files':>6} {'stmts':>7} {'unparsed':>8} {'analysed':>9} {'errors':>7} {'warn':>6}")
    for project in sorted(os.listdir(args.corpus)):
        pdir = os.path.join(args.corpus, project)
        if not os.path.isdir(pdir):
            continue
        for dialect_dir in sorted(os.listdir(pdir)):
            folder = os.path.join(pdir, dialect_dir)
            files = up_files(folder)
            if not files:
                continue
            dialect = DIALECTS.get(dialect_dir, "postgres")
            run = subprocess.run([args.binary, "check", "--format", "json", "--dialect", dialect, *files],
                                 capture_output=True, text=True)
            name = f"{project}/{dialect_dir}"
            if run.returncode not in (0, 1):
                crashed = True
                print(f"{name}: exit {run.returncode}: {run.stderr.strip()[:500]}")
                continue
            try:
                report = json.loads(run.stdout)
            except json.JSONDecodeError as e:
                crashed = True
                print(f"{name}: output is not one JSON object: {e}")
                continue
            s = report["summary"]
            share = 100.0 * (s["statements"] - s["unparsed"]) / max(s["statements"], 1)
            print(f"{name:28} {s['files']:>6} {s['statements']:>7} {s['unparsed']:>8} {share:>8.2f}% {s['errors']:>7} {s['warnings']:>6}")
            totals[dialect] += 0
            totals[(dialect, "stmts")] += s["statements"]
            totals[(dialect, "unparsed")] += s["unparsed"]
            if args.rules:
                by_rule = collections.Counter(d["rule"] for d in report["diagnostics"])
                for rule, n in by_rule.most_common():
                    print(f"    {rule:40} {n}")
            if args.unparsed:
                shown = [d for d in report["diagnostics"] if d["rule"] == "unparsed-statement"][:args.unparsed]
                for d in shown:
                    print(f"    {d['file']}:{d['line']}:{d['column']}: {d['message'][:160]}")
    for dialect in ("postgres", "mysql", "sqlite"):
        stmts, unparsed = totals[(dialect, "stmts")], totals[(dialect, "unparsed")]
        if stmts:
            print(f"total {dialect:22} {stmts:>14} {unparsed:>8} {100.0 * (stmts - unparsed) / stmts:>8.2f}%")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
