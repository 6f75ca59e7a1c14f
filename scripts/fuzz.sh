#!/usr/bin/env bash
# Runs the cargo-fuzz targets for a given time each and reports executions and crashes.
#   scripts/fuzz.sh [SECONDS per target, default 60] [TARGET...]
# Needs `cargo install cargo-fuzz`. The machine's stable toolchain builds the targets with
# RUSTC_BOOTSTRAP=1 (libFuzzer needs unstable compiler flags). Crashes land in
# fuzz/artifacts/<target>/; turn each into a regression fixture (see docs/reliability.md).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(check names)
export RUSTC_BOOTSTRAP=1
mkdir -p fuzz/corpus/check
# Seed the analysis target with the repository's own fixtures.
cp migrations-fixtures/*/migrations/*.sql fuzz/corpus/check/ 2>/dev/null || true
status=0
for target in "${targets[@]}"; do
    log="target/fuzz-$target.log"
    mkdir -p target
    echo "== $target for ${seconds}s"
    if cargo fuzz run --sanitizer none "$target" -- -max_total_time="$seconds" -rss_limit_mb=4096 >"$log" 2>&1; then
        :
    else
        status=1
    fi
    grep -E "^#[0-9]+.*DONE|stat::number_of_executed_units|Done [0-9]+ runs" "$log" | tail -2 || true
    if grep -q "ERROR: libFuzzer\|panicked at\|deadly signal" "$log"; then
        echo "$target: CRASH, see $log and fuzz/artifacts/$target/"
        status=1
    else
        echo "$target: no crashes"
    fi
done
exit $status
