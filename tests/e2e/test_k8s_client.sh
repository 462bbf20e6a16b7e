#!/usr/bin/env bash
# The Kubernetes client (lib/k8s_*) against the real kube-apiserver: runs
# the integration tests whose names start with k8s_ with KUBECONFIG set
# (they skip without it), including a kube-apiserver restart in the middle
# of a watch, and reports each of them as a check.
#
#   tests/e2e/test_k8s_client.sh                   the test
#   tests/e2e/test_k8s_client.sh --restart-apiserver
#       stops the cluster's kube-apiserver and starts it again with the same
#       arguments (and the pid file hack/cluster.sh expects), waiting until
#       it is ready; the integration test calls this.
#
# The integration runner is $K8S_IT_RUNNER, else integration-tests next to
# $LIFTOFF_BIN, else build/integration-tests (built if missing).
set -euo pipefail

restart_apiserver() {
  local dir=${LIFTOFF_CLUSTER_DIR:?LIFTOFF_CLUSTER_DIR is not set} pid i
  local pidfile="$dir/kube-apiserver.pid"
  local -a args
  pid=$(<"$pidfile")
  mapfile -d '' args <"/proc/$pid/cmdline"
  if [ "${#args[@]}" -le 1 ] || [[ "${args[0]}" != */kube-apiserver ]]; then
    echo "restart: pid $pid is not a kube-apiserver" >&2
    return 1
  fi
  # kube-apiserver drains for up to a minute after SIGTERM; after a few
  # seconds of that it is killed, as a crash would end it.
  local t0
  t0=$(date +%s%3N)
  kill -TERM "$pid"
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -f "$pidfile"
  # The same start-up as hack/cluster.sh: own session, pid file, log.
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid bash -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$pidfile" \
    "${args[@]}" </dev/null >>"$dir/kube-apiserver.log" 2>&1 8>&- 9>&- &
  for ((i = 0; i < 600; i++)); do
    if command kubectl --kubeconfig "$dir/kubeconfig" get --raw=/readyz >/dev/null 2>&1; then
      echo "restart: kube-apiserver ready again $(($(date +%s%3N) - t0)) ms after SIGTERM" >&2
      return 0
    fi
    sleep 0.1
  done
  echo "restart: kube-apiserver not ready after 60 s" >&2
  return 1
}

if [ "${1:-}" = --restart-apiserver ]; then
  eval "$(bash "$(dirname "$0")/../../hack/cluster.sh" env)"
  restart_apiserver
  exit
fi

# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

runner=${K8S_IT_RUNNER:-}
if [ -z "$runner" ] && [ -n "${LIFTOFF_BIN:-}" ] && [ -x "$(dirname "$LIFTOFF_BIN")/integration-tests" ]; then
  runner="$(dirname "$LIFTOFF_BIN")/integration-tests"
fi
if [ -z "$runner" ]; then
  runner="$E2E_ROOT/build/integration-tests"
  [ -x "$runner" ] || make -s -C "$E2E_ROOT" build/integration-tests >/dev/null
fi
check "integration runner $runner exists" test -x "$runner"

check "LaunchPolicy CRD applied" kubectl apply -f "$E2E_ROOT/crds/launchpolicy.yaml"
check "LaunchPolicy CRD Established" \
  kubectl wait --for condition=Established --timeout=30s crd/launchpolicies.liftoff.dev
check_eventually "LaunchPolicies served" 30 kubectl get launchpolicies -A

out=$(KUBECONFIG="$KUBECONFIG" \
  K8S_IT_RESTART_APISERVER="bash $(printf %q "$E2E_ROOT/tests/e2e/test_k8s_client.sh") --restart-apiserver" \
  LIFTOFF_BIN="${LIFTOFF_BIN:-$E2E_ROOT/bin}" "$runner" k8s_ 2>&1) && rc=0 || rc=$?
printf '%s\n' "$out" | grep -E '^(ok|not ok|skip) |FAIL|restart:|informer after' | sed 's/^/    /'

n_ok=0
while IFS= read -r line; do
  case $line in
    "ok "*) name=${line#ok }; check "k8s client: ${name% (*}" true; n_ok=$((n_ok + 1)) ;;
    "not ok "*) name=${line#not ok }; check "k8s client: ${name% (*}" false ;;
    "skip "*) name=${line#skip }; check "k8s client: not skipped: ${name%%:*}" false ;;
  esac
done <<<"$out"
check "the integration runner exited 0" test "$rc" -eq 0
check "at least 20 k8s client tests passed ($n_ok)" test "$n_ok" -ge 20
check "kube-apiserver is ready after the test" kubectl get --raw=/readyz
