#!/usr/bin/env bash
# Runs every test stage of `make test` and sums their closing lines into one
# "N passed, N failed" line. A stage that cannot run (say, it fails to build)
# counts as one failure, so nothing is silently skipped.
#
# LIFTOFF_TEST_STAGES (space separated) picks stages; default: all of them.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

stages=${LIFTOFF_TEST_STAGES:-"build clang unit integration e2e sanitize valgrind lint fuzz"}
jobs=${LIFTOFF_JOBS:-2}
total_pass=0 total_fail=0 total_skip=0
log_dir=$(mktemp -d "${TMPDIR:-/tmp}/liftoff-test.XXXXXX")
summary=()

run_stage() {
  local name=$1; shift
  local log="$log_dir/$name.log" start end rc line p f s lines
  start=$(date +%s)
  echo "=== $name: $*"
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  end=$(date +%s)
  # A stage may run several runners (sanitize runs unit and integration):
  # add up every closing line it printed.
  p=0 f=0 s=0 lines=0
  while IFS= read -r line; do
    lines=$((lines + 1))
    p=$((p + $(sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed.*/\2/' <<<"$line")))
    f=$((f + $(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")))
    if grep -q skipped <<<"$line"; then
      s=$((s + $(sed -E 's/.* ([0-9]+) skipped.*/\1/' <<<"$line")))
    fi
  done < <(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' "$log")
  if [ "$lines" -eq 0 ] && [ "$rc" -eq 0 ]; then
    p=1
  fi
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1
  fi
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f)); total_skip=$((total_skip + s))
  summary+=("$(printf '%-12s %4d passed %3d failed %3d skipped  %4ds  (exit %d)' "$name" "$p" "$f" "$s" $((end - start)) "$rc")")
}

for stage in $stages; do
  case $stage in
    build)       run_stage build make -j"$jobs" all ;;
    clang)       run_stage clang make -j"$jobs" CC=clang O=build-clang BIN=build-clang/bin all ;;
    unit)        run_stage unit make --no-print-directory test-unit ;;
    integration) run_stage integration make --no-print-directory test-integration ;;
    e2e)         run_stage e2e make --no-print-directory test-e2e ;;
    sanitize)    run_stage sanitize make --no-print-directory -j"$jobs" sanitize ;;
    valgrind)    run_stage valgrind make --no-print-directory valgrind ;;
    lint)        run_stage lint make --no-print-directory lint ;;
    fuzz)        run_stage fuzz env FUZZ_BUDGET="${LIFTOFF_FUZZ_BUDGET:-30}" make --no-print-directory fuzz ;;
    *) echo "unknown stage $stage" >&2; total_fail=$((total_fail + 1)) ;;
  esac
done

echo
echo "=== summary"
printf '%s\n' "${summary[@]}"
rm -rf "$log_dir"
if [ "$total_skip" -gt 0 ]; then
  echo "$total_pass passed, $total_fail failed, $total_skip skipped"
else
  echo "$total_pass passed, $total_fail failed"
fi
[ "$total_fail" -eq 0 ]
