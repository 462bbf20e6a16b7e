#!/usr/bin/env bash
# liftoff-controller misses no update across a kube-apiserver restart and a
# forced watch expiry (410 Gone). Real kube-apiserver and etcd (kwok
# nodes), real redis-server; forecasts written as the predictor writes them.
#
# 1. The API server is restarted (tests/e2e/test_k8s_client.sh
#    --restart-apiserver) while the controller runs; a forecast arrives
#    while it is down. Checks: the scale is applied once it is back, a spec
#    change made afterwards is seen (its watch resumed), and the watch
#    restarts show in /metrics.
# 2. A forced 410: the controller is frozen (SIGSTOP); meanwhile one policy's
#    spec changes, one policy is deleted and one created; etcd is compacted
#    to its current revision and the API server restarted, so neither its
#    watch cache nor etcd still has the controller's resourceVersion. Then
#    it is thawed. Checks: the watch is answered 410 and the controller
#    lists again (/metrics), and it acts on all three changes it never saw
#    as watch events: the new spec is applied (replicas, observedGeneration),
#    the deleted policy leaves Redis, the new one is written there and
#    scaled.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/lib_controller.sh
. "$(dirname "$0")/lib_controller.sh"

ctl_work
restart_apiserver() {
  bash "$E2E_ROOT/tests/e2e/test_k8s_client.sh" --restart-apiserver 2>>"$WORK/restart.log"
}
# Down: its port refuses connections (while it drains it still serves).
api_down() { ! (exec 3<>"/dev/tcp/127.0.0.1/$(cluster_setting LIFTOFF_API_PORT)") 2>/dev/null; }
etcd() { # api-path json
  curl -fsS --max-time 10 -X POST "http://127.0.0.1:$(cluster_setting LIFTOFF_ETCD_PORT)$1" -d "$2"
}

ctl_setup
ns=$E2E_NS
ctl_deployments "$ns" 2 web-a web-b web-c
ctl_policy "$ns" a web-a Active 2 8
ctl_policy "$ns" b web-b Active 2 8

# Forecasts stay fresh for the whole test (no SignalLost in the way).
ctl_start "$KUBECONFIG" --namespace "$ns" --resync 1s --stale-after 120s --hold 120s
on_exit kill -CONT "$CTL_PID" # a test that fails while it is frozen
check_eventually "/readyz answers 200" 30 curl -fsS "http://127.0.0.1:$APORT/readyz"
ctl_forecast "$ns" a 4
ctl_forecast "$ns" b 4
check_eventually "a: replicas follow the forecast (4)" 10 replicas_are "$ns" web-a 4
check_eventually "b: replicas follow the forecast (4)" 10 replicas_are "$ns" web-b 4
restarts0=$(ctl_metric liftoff_controller_watch_restarts_total)
check_match "/metrics has liftoff_controller_watch_restarts_total" '^[0-9]+$' "$restarts0"

# ---- 1. kube-apiserver restart while the controller runs
restart_apiserver &
restart_pid=$!
check "the API server goes down" wait_for 30 api_down
ctl_forecast "$ns" a 6 # reconciled while the API server is away
rc=0
wait "$restart_pid" || rc=$?
check_eq "the API server is back (restart)" 0 "$rc"
check_eventually "a: the forecast sent while it was down is applied (6)" 30 \
  replicas_are "$ns" web-a 6
kubectl -n "$ns" patch launchpolicy a --type merge -p '{"spec":{"maxReplicas":5}}' >/dev/null
check_eventually "a: a spec change after the restart is seen (clamped to 5)" 30 \
  replicas_are "$ns" web-a 5
check_eventually "a: status.observedGeneration catches up" 10 observed_current "$ns" a
check_eventually "/metrics counts the watch restart" 10 \
  ctl_metric_above liftoff_controller_watch_restarts_total "$restarts0"

# ---- 2. forced 410: changes the controller never sees as watch events
expired0=$(ctl_metric liftoff_controller_watch_expired_total)
relists0=$(ctl_metric liftoff_controller_relists_total)
ctl_forecast "$ns" c 5 # the hash is read when the policy appears
kill -STOP "$CTL_PID"
kubectl -n "$ns" patch launchpolicy a --type merge -p '{"spec":{"maxReplicas":3}}' >/dev/null
gen_a=$(kubectl -n "$ns" get launchpolicy a -o jsonpath='{.metadata.generation}')
kubectl -n "$ns" delete launchpolicy b >/dev/null
ctl_policy "$ns" c web-c Active 2 8
rev=$(etcd /v3/kv/range '{"key":"AA==","limit":1,"keys_only":true}' | jq -r .header.revision)
check "etcd compacted to its current revision ($rev)" \
  etcd /v3/kv/compaction "{\"revision\":\"$rev\",\"physical\":true}"
check "the API server restarted (empty watch cache)" restart_apiserver
kill -CONT "$CTL_PID"
check_eventually "/metrics: the watch was answered 410 Gone" 60 \
  ctl_metric_above liftoff_controller_watch_expired_total "$expired0"
check_eventually "/metrics: the controller listed again" 30 \
  ctl_metric_above liftoff_controller_relists_total "$relists0"
check_eventually "a: the spec changed while the watch was gone is applied (clamped to 3)" 30 \
  replicas_are "$ns" web-a 3
check_eventually "a: status.observedGeneration $gen_a" 10 status_is "$ns" a observedGeneration "$gen_a"
check_eventually "b: deleted while the watch was gone: leaves Redis" 30 \
  redis_zero EXISTS "liftoff:policy:$ns:b"
check_eq "b: and liftoff:policies" 0 "$(rcli SISMEMBER liftoff:policies "$ns/b")"
check_eq "b: its Deployment is left as it is" 4 "$(replicas "$ns" web-b)"
check_eventually "c: created while the watch was gone: in Redis" 30 \
  redis_json "liftoff:policy:$ns:c" '.spec.targetRef.name == "web-c"'
check_eventually "c: scaled to its forecast (5)" 30 replicas_are "$ns" web-c 5
check_eventually "c: status written" 10 observed_current "$ns" c
check_eq "/metrics: 2 policies followed" 2 "$(ctl_metric liftoff_controller_policies)"
# After the relist, the watch runs again: a later change arrives as an event.
kubectl -n "$ns" patch launchpolicy c --type merge -p '{"spec":{"maxReplicas":4}}' >/dev/null
check_eventually "c: a change after the relist is watched (clamped to 4)" 30 \
  replicas_are "$ns" web-c 4
check "controller still running" kill -0 "$CTL_PID"
ctl_check_log ""
