#!/usr/bin/env python3
"""Rebuilds each shared-corpus folder in the layout its project really uses and runs
`migrate check --dir` on it with the default `layout = "auto"`.

The corpus flattens folders (`<dir>/up.sql` -> `<dir>__up.sql`); this script puts them back:
diesel folders (crates-io, lemmy, vaultwarden), Prisma folders with a migration_lock.toml
(documenso), sqlx directories per crate (atuin's sqlite prefixes), ory/popx and authelia
files as they are. For each folder it prints the layout `auto` chose, the statements read, and
how that compares with the same files passed one by one (scripts/corpus-coverage.py's way),
then exits 1 if a folder crashed, chose a layout other than the expected one, or read a
different number of statements than the files alone.

usage: scripts/corpus-layouts.py [--corpus DIR] [--binary PATH]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

DIALECTS = {"postgres": "postgres", "cockroach": "postgres", "generic": "postgres",
            "mysql": "mysql", "sqlite": "sqlite"}
DIESEL = {"crates-io", "lemmy", "vaultwarden"}
PRISMA = {"documenso"}
# What `auto` must choose. popx (kratos, hydra) and authelia are none of the nine tools:
# their pairs of `.up.sql`/`.down.sql` files read as `migrate`'s own layout.
EXPECTED = {"crates-io": "diesel", "lemmy": "diesel", "vaultwarden": "diesel",
            "documenso": "prisma", "atuin": "migrate", "kratos": "migrate",
            "hydra": "migrate", "authelia": "migrate"}


def rebuild(project, folder, out):
    """Writes the folder's files into `out` (one or more directories); returns them."""
    dirs = {}
    for name in sorted(os.listdir(folder)):
        src = os.path.join(folder, name)
        if project in DIESEL and "__" in name:
            stem, part = name.rsplit("__", 1)
            if stem.startswith("replaceable_schema"):
                target = os.path.join(out, "replaceable_schema", part)
            else:
                target = os.path.join(out, stem, part)
            dirs.setdefault(out, 1)
        elif project in PRISMA and name.endswith("__migration.sql"):
            target = os.path.join(out, name[: -len("__migration.sql")], "migration.sql")
            dirs.setdefault(out, 1)
        elif project == "atuin" and "__" in name:
            prefix, base = name.rsplit("__", 1)
            sub = os.path.join(out, prefix)
            target = os.path.join(sub, base)
            dirs.setdefault(sub, 1)
        else:
            target = os.path.join(out, name)
            dirs.setdefault(out, 1)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(src, target)
    if project in PRISMA:
        with open(os.path.join(out, "migration_lock.toml"), "w") as f:
            f.write('provider = "postgresql"\n')
    return sorted(dirs)


def check(binary, args):
    run = subprocess.run([binary, "check", "--format", "json", *args], capture_output=True, text=True)
    if run.returncode not in (0, 1):
        return None, run.stderr.strip()[:400]
    return json.loads(run.stdout), None


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", default=os.path.join(here, "..", "..", "shared", "corpus"))
    parser.add_argument("--binary", default=os.path.join(here, "..", "target", "release", "migrate"))
    args = parser.parse_args()
    failed = False
    print(f"{'folder':40} {'layout':10} {'files':>6} {'stmts':>7} {'alone':>7} {'names':>6}")
    for project in sorted(os.listdir(args.corpus)):
        pdir = os.path.join(args.corpus, project)
        if not os.path.isdir(pdir):
            continue
        for dialect_dir in sorted(os.listdir(pdir)):
            folder = os.path.join(pdir, dialect_dir)
            dialect = DIALECTS.get(dialect_dir, "postgres")
            with tempfile.TemporaryDirectory() as tmp:
                for d in rebuild(project, folder, tmp):
                    label = f"{project}/{dialect_dir}" + (
                        "/" + os.path.basename(d) if d != tmp else "")
                    report, error = check(args.binary, ["--dialect", dialect, "--dir", d])
                    if report is None:
                        failed = True
                        print(f"{label:40} crashed: {error}")
                        continue
                    s = report["summary"]
                    names = sum(1 for x in report["diagnostics"]
                                if x["rule"] in ("invalid-migration-name", "duplicate-version"))
                    alone_files = []
                    for root, _, files in os.walk(d):
                        for f in files:
                            rel = os.path.relpath(os.path.join(root, f), d)
                            low = rel.lower()
                            if not low.endswith(".sql") or "down.sql" in low:
                                continue
                            if rel.startswith("replaceable_schema"):
                                continue
                            alone_files.append(rel)
                    alone_files.sort(key=lambda r: r.encode())
                    alone, _ = check(args.binary, ["--dialect", dialect,
                                                   *[os.path.join(d, f) for f in alone_files]])
                    alone_stmts = alone["summary"]["statements"] if alone else -1
                    print(f"{label:40} {s['layout']:10} {s['files']:6} {s['statements']:7} "
                          f"{alone_stmts:7} {names:6}")
                    if s["layout"] != EXPECTED.get(project):
                        failed = True
                        print(f"  expected layout {EXPECTED.get(project)}; sign: {s['layout_sign']}")
                    if project not in ("kratos", "hydra", "authelia") and (
                            s["statements"] != alone_stmts or names):
                        failed = True
                        print("  the directory read differs from its files read alone")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
