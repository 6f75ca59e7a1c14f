#!/usr/bin/env python3
"""`migrate up` of a complete real history onto an empty PostgreSQL database.

Rebuilds lemmy's and crates.io's diesel folders from the shared corpus (as
scripts/corpus-layouts.py does; lemmy's `replaceable_schema` is left out: lemmy runs it itself,
it is no diesel migration), makes a fresh database for each, and runs the gate
(`up --dry-run --format json`), then the real `up`. On a database that holds nothing there is
no old app and no traffic, so the gate must pass the whole history: exit 1 when it refuses.
A real `up` that stops on a statement the server refuses (lemmy needs PostgreSQL 16 for a
subquery without an alias) is reported, with the server version, but is not the gate's
failure.

usage: scripts/corpus-gate.py [--corpus DIR] [--binary PATH] [--url postgres://...]
"""

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile

PROJECTS = ["crates-io", "lemmy"]


def layouts_module(here):
    spec = importlib.util.spec_from_file_location("corpus_layouts",
                                                  os.path.join(here, "corpus-layouts.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def psql(url, sql):
    subprocess.run(["psql", url, "-qAtc", sql], check=True, capture_output=True, text=True)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default=os.path.join(here, "..", "..", "shared", "corpus"))
    parser.add_argument("--binary", default=os.path.join(here, "..", "target", "debug", "migrate"))
    parser.add_argument("--url", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    layouts = layouts_module(here)
    version = subprocess.run(["psql", args.url + "/postgres", "-qAtc", "SHOW server_version"],
                             capture_output=True, text=True).stdout.strip()
    print(f"PostgreSQL {version}")
    failed = False
    for project in PROJECTS:
        with tempfile.TemporaryDirectory() as tmp:
            layouts.rebuild(project, os.path.join(args.corpus, project, "postgres"), tmp)
            shutil.rmtree(os.path.join(tmp, "replaceable_schema"), ignore_errors=True)
            name = f"corpus_gate_{project.replace('-', '_')}_{os.getpid()}"
            psql(args.url + "/postgres", f"DROP DATABASE IF EXISTS {name}")
            psql(args.url + "/postgres", f"CREATE DATABASE {name}")
            url = f"{args.url}/{name}"
            try:
                gate = subprocess.run([args.binary, "up", "--dry-run", "--format", "json",
                                       "--dir", tmp, "--database", url],
                                      capture_output=True, text=True)
                report = json.loads(gate.stdout)
                errors = [d for d in report["diagnostics"] if d["severity"] == "error"]
                warnings = [d for d in report["diagnostics"] if d["severity"] == "warning"]
                files = len(report["migrations"])
                print(f"{project:10} gate: exit {gate.returncode}, {files} migrations, "
                      f"{len(errors)} errors, {len(warnings)} warnings")
                for d in errors + warnings:
                    print(f"  {d['file']}:{d['line']}: {d['rule']}: {d['message']}")
                if gate.returncode != 0 or errors or report["problems"]:
                    failed = True
                    print(f"  problems: {report['problems']} {report.get('error')}")
                    continue
                up = subprocess.run([args.binary, "up", "--dir", tmp, "--database", url],
                                    capture_output=True, text=True)
                last = (up.stdout.strip().splitlines() or [""])[-1]
                print(f"{project:10} up:   exit {up.returncode}: {last}")
                if up.returncode != 0:
                    failing = [l for l in up.stdout.splitlines() if l.startswith("failed ")]
                    print(f"  {failing[0] if failing else up.stderr.strip()[:300]}")
            finally:
                psql(args.url + "/postgres", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
