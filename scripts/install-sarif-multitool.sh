#!/usr/bin/env bash
# Installs Microsoft's SARIF Multitool (npm @microsoft/sarif-multitool) under target/tools/sarif
# for the SARIF validation test, and prints the path of its binary. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="target/tools/sarif"
bin="$prefix/node_modules/.bin/sarif-multitool"
if [ ! -x "$bin" ]; then
    mkdir -p "$prefix"
    npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error @microsoft/sarif-multitool@5 >&2
fi
# npm may skip the package's postinstall script, which makes the native binary executable.
chmod u+x "$prefix"/node_modules/@microsoft/sarif-multitool-*/Sarif.Multitool 2>/dev/null || true
echo "$PWD/$bin"
