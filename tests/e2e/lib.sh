# shellcheck shell=bash
# Helpers for the end-to-end tests, sourced by tests/e2e/test_*.sh.
#
# Checks count: each prints "ok"/"FAIL" and appends a line to $E2E_RESULTS
# (set by run.sh; a test run on its own prints its own summary on exit).
#   check DESC CMD...            passes if CMD succeeds
#   check_fails DESC CMD...      passes if CMD fails
#   check_eq DESC EXPECTED ACTUAL
#   check_match DESC REGEX ACTUAL        (bash =~, extended regex)
#   check_contains DESC NEEDLE HAYSTACK
#   check_eventually DESC SECONDS CMD... passes once CMD succeeds within SECONDS
# Not counted:
#   wait_for SECONDS CMD...      polls CMD every 0.2 s; returns 1 after SECONDS
#   kubectl / helm               the cluster's own binaries and kubeconfig
#   e2e_namespace                creates a fresh namespace in $E2E_NS (deleted on exit)
#   on_exit CMD...               runs CMD when the test ends, last registered first
#   cluster_setting KEY          a value from the running cluster's cluster.env
#   now_ms                       monotonic-enough wall clock in milliseconds

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck disable=SC2034 # used by the tests
E2E_DATA="$E2E_ROOT/tests/e2e/testdata"
E2E_TEST=$(basename "$0" .sh)
export LIFTOFF_CLUSTER_DIR="${LIFTOFF_CLUSTER_DIR:-${TMPDIR:-/tmp}/liftoff-cluster}"
eval "$(bash "$E2E_ROOT/hack/cluster.sh" env)"

E2E_OWN_RESULTS=0
if [ -z "${E2E_RESULTS:-}" ]; then
  E2E_RESULTS=$(mktemp)
  E2E_OWN_RESULTS=1
fi

now_ms() { date +%s%3N; }

kubectl() { command kubectl --kubeconfig "$KUBECONFIG" "$@"; }
helm() { command helm --kubeconfig "$KUBECONFIG" "$@"; }

cluster_setting() { sed -n "s/^$1=//p" "$LIFTOFF_CLUSTER_DIR/cluster.env"; }

_e2e_pass() { # desc
  printf 'PASS %s: %s\n' "$E2E_TEST" "$1" >>"$E2E_RESULTS"
  printf '  ok    %s\n' "$1"
}

_e2e_fail() { # desc detail
  printf 'FAIL %s: %s\n' "$E2E_TEST" "$1" >>"$E2E_RESULTS"
  printf '  FAIL  %s\n' "$1"
  [ -z "${2:-}" ] || printf '%s\n' "$2" | tail -n 15 | sed 's/^/          /'
}

check() {
  local desc=$1 out
  shift
  if out=$("$@" 2>&1); then _e2e_pass "$desc"; else _e2e_fail "$desc" "$out"; fi
}

check_fails() {
  local desc=$1 out
  shift
  if out=$("$@" 2>&1); then _e2e_fail "$desc" "succeeded unexpectedly: $out"; else _e2e_pass "$desc"; fi
}

check_eq() {
  if [ "$2" = "$3" ]; then _e2e_pass "$1"; else _e2e_fail "$1" "expected '$2', got '$3'"; fi
}

check_match() {
  if [[ "$3" =~ $2 ]]; then _e2e_pass "$1"; else _e2e_fail "$1" "'$3' does not match /$2/"; fi
}

check_contains() {
  if [[ "$3" == *"$2"* ]]; then _e2e_pass "$1"; else _e2e_fail "$1" "'$2' not in: $3"; fi
}

wait_for() { # seconds command...
  local deadline=$(($(now_ms) + $1 * 1000))
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$(now_ms)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

check_eventually() { # desc seconds command...
  local desc=$1 secs=$2 out
  shift 2
  if wait_for "$secs" "$@"; then
    _e2e_pass "$desc"
  else
    out=$("$@" 2>&1) || true
    _e2e_fail "$desc" "not true after ${secs} s; last output: $out"
  fi
}

E2E_EXIT_HOOKS=()
on_exit() {
  local q
  printf -v q '%q ' "$@"
  E2E_EXIT_HOOKS+=("$q")
}

_e2e_exit() {
  local rc=$? i
  for ((i = ${#E2E_EXIT_HOOKS[@]} - 1; i >= 0; i--)); do
    eval "${E2E_EXIT_HOOKS[i]}" >/dev/null 2>&1 || true
  done
  if [ "$E2E_OWN_RESULTS" = 1 ]; then
    printf '%s passed, %s failed\n' "$(grep -c '^PASS' "$E2E_RESULTS")" \
      "$(grep -c '^FAIL' "$E2E_RESULTS")"
    grep -q '^FAIL' "$E2E_RESULTS" && rc=1
    rm -f "$E2E_RESULTS"
  fi
  exit "$rc"
}
trap _e2e_exit EXIT

# Creates a namespace for this test in $E2E_NS, waits for its default service
# account (pods are refused without it) and deletes it when the test ends.
e2e_namespace() {
  E2E_NS="e2e-${E2E_TEST#test_}-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  E2E_NS=${E2E_NS//_/-}
  kubectl create namespace "$E2E_NS" >/dev/null
  on_exit kubectl delete namespace "$E2E_NS" --wait=false
  # kube-controller-manager creates it. After the API server restarts some
  # tests do, its namespace watch can sit in client-go's reconnect backoff
  # (up to 30 s) before it sees a new namespace; past that, create the
  # account ourselves, as the controller would, and say so.
  if ! wait_for 45 kubectl -n "$E2E_NS" get serviceaccount default; then
    echo "  note  namespace $E2E_NS: no default service account after 45 s; created here" >&2
    kubectl -n "$E2E_NS" create serviceaccount default >/dev/null 2>&1 ||
      kubectl -n "$E2E_NS" get serviceaccount default >/dev/null ||
      { echo "e2e: namespace $E2E_NS got no default service account" >&2; return 1; }
  fi
}
