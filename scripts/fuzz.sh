#!/usr/bin/env bash
# Bounded fuzzing: builds the cargo-fuzz targets in fuzz/ and runs each for FUZZ_SECONDS
# (default 20). Any panic, crash or leak fails it; libFuzzer writes the input that broke
# a target to fuzz/artifacts/<target>/ and the script names it.
#
#   scripts/fuzz.sh                          every target, 20 s each
#   FUZZ_SECONDS=600 scripts/fuzz.sh phone   one target, ten minutes
#
# The pinned stable toolchain runs cargo-fuzz with RUSTC_BOOTSTRAP=1 (it needs nightly
# flags) and without a sanitizer (-s none), in development mode (--dev: a shorter build;
# overflow checks and debug assertions stay on). Prints one line per target and a closing
# "N passed, N failed" line.

set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../fuzz" || exit 1

SECONDS_EACH=${FUZZ_SECONDS:-20}
export RUSTC_BOOTSTRAP=1
# The fuzz crate has its own target folder; the workspace's CARGO_TARGET_DIR is not for it.
unset CARGO_TARGET_DIR

command -v cargo-fuzz >/dev/null || { echo "fuzz: cargo-fuzz is not installed (cargo install cargo-fuzz --locked)" >&2; exit 2; }

if (( $# > 0 )); then TARGETS=("$@"); else mapfile -t TARGETS < <(cargo fuzz list); fi
echo "==> cargo fuzz build (${#TARGETS[@]} targets)"
cargo fuzz build --dev -s none || { echo "fuzz: 0 passed, ${#TARGETS[@]} failed (build)"; exit 1; }

PASSED=0 FAILED=0
for target in "${TARGETS[@]}"; do
  log=$(mktemp)
  cargo fuzz run --dev -s none "$target" -- -max_total_time="$SECONDS_EACH" -print_final_stats=1 >"$log" 2>&1
  rc=$?
  runs=$(grep -oE 'Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' || echo 0)
  if (( rc == 0 )); then
    PASSED=$((PASSED + 1)); echo "fuzz [$target]: PASS, $runs runs in ${SECONDS_EACH}s"
  else
    FAILED=$((FAILED + 1)); echo "fuzz [$target]: FAIL, exit $rc"
    grep -E 'panicked|ERROR|SUMMARY|Test unit written|artifact_prefix' "$log" | head -n 10
  fi
  rm -f "$log"
done
echo "fuzz: $PASSED passed, $FAILED failed"
(( FAILED == 0 ))
