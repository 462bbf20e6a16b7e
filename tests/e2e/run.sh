#!/usr/bin/env bash
# Runs the end-to-end tests (tests/e2e/test_*.sh, or those whose name
# contains the filter) against a local control plane from hack/cluster.sh.
#
#   tests/e2e/run.sh [filter]
#
# Without LIFTOFF_CLUSTER_DIR a private cluster is brought up for the run and
# taken down at the end, whatever happens. With LIFTOFF_CLUSTER_DIR naming a
# running cluster (`hack/cluster.sh up`), that one is used and left running.
# LIFTOFF_POD_STARTUP_MS sets the pod start-up delay of a cluster started here.
# E2E_TEST_TIMEOUT (seconds, default 600) bounds each test file.
# Prints one line per check and ends with "N passed, N failed".
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
filter=${1:-}
test_timeout=${E2E_TEST_TIMEOUT:-600}

tests=()
for f in "$ROOT"/tests/e2e/test_*.sh; do
  [ -e "$f" ] || continue
  name=$(basename "$f" .sh)
  [[ -z "$filter" || "$name" == *"$filter"* ]] && tests+=("$f")
done
if [ ${#tests[@]} -eq 0 ]; then
  echo "e2e: no test matches '$filter'"
  echo "0 passed, 0 failed"
  exit 0
fi

E2E_RESULTS=$(mktemp "${TMPDIR:-/tmp}/liftoff-e2e-results.XXXXXX")
export E2E_RESULTS
own_cluster=0

finish() {
  local rc=$? passed failed
  trap - EXIT
  trap '' INT TERM # a second Ctrl-C must not leave the cluster running
  if [ "$own_cluster" = 1 ]; then
    bash "$ROOT/hack/cluster.sh" down || rc=1
  fi
  passed=$(grep -c '^PASS' "$E2E_RESULTS" || true)
  failed=$(grep -c '^FAIL' "$E2E_RESULTS" || true)
  if [ "$failed" -gt 0 ]; then
    echo
    echo "failed:"
    grep '^FAIL' "$E2E_RESULTS" | sed 's/^FAIL /  /'
  fi
  rm -f "$E2E_RESULTS"
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ] || [ "$rc" -ne 0 ] || rc=1
  exit "$rc"
}
trap finish EXIT
interrupted() { # exit-status
  echo "FAIL e2e: interrupted" >>"$E2E_RESULTS"
  echo "e2e: interrupted" >&2
  exit "$1"
}
trap 'interrupted 130' INT
trap 'interrupted 143' TERM

if [ -n "${LIFTOFF_CLUSTER_DIR:-}" ] && bash "$ROOT/hack/cluster.sh" status >/dev/null 2>&1; then
  echo "e2e: using the running cluster in $LIFTOFF_CLUSTER_DIR"
else
  if [ -z "${LIFTOFF_CLUSTER_DIR:-}" ]; then
    LIFTOFF_CLUSTER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/liftoff-e2e.XXXXXX")
  fi
  export LIFTOFF_CLUSTER_DIR
  own_cluster=1
  if ! bash "$ROOT/hack/cluster.sh" up; then
    echo "FAIL cluster: hack/cluster.sh up" >>"$E2E_RESULTS"
    export LIFTOFF_KEEP_CLUSTER=1 # keep the logs of what did not come up
    exit 1
  fi
fi
export LIFTOFF_CLUSTER_DIR

for t in "${tests[@]}"; do
  name=$(basename "$t" .sh)
  echo "== $name"
  before=$(wc -l <"$E2E_RESULTS")
  rc=0
  timeout --foreground -k 10 "$test_timeout" bash "$t" || rc=$?
  if [ "$rc" -eq 130 ] || [ "$rc" -eq 143 ]; then
    # The test died of Ctrl-C or SIGTERM (its exit trap ran, so bash does not
    # see the signal itself): stop here too.
    interrupted "$rc"
  fi
  if [ "$rc" -ne 0 ]; then
    if [ "$rc" -eq 124 ]; then
      echo "FAIL $name: timed out after ${test_timeout} s" >>"$E2E_RESULTS"
    else
      echo "FAIL $name: exited with status $rc" >>"$E2E_RESULTS"
    fi
    echo "  FAIL  $name exited with status $rc"
  fi
  if [ "$(wc -l <"$E2E_RESULTS")" -eq "$before" ]; then
    echo "FAIL $name: ran no checks" >>"$E2E_RESULTS"
    echo "  FAIL  $name ran no checks"
  fi
done
