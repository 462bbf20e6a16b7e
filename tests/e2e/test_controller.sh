#!/usr/bin/env bash
# liftoff-controller against the real kube-apiserver (kwok nodes) and a real
# redis-server started here: the LaunchPolicy CRD, Deployments and policies;
# forecasts are written to Redis as the predictor writes them (hash +
# PUBLISH liftoff:forecast, docs/redis-keys.md). Checks: the policy document
# in Redis, replicas rising to the forecast, status and Event, the
# minReplicas/maxReplicas clamps, DryRun and Paused never scaling, a stale
# forecast giving SignalLost with no scale-down; then the real predictor
# (when built) turning a burst of engagement events XADDed to the stream
# into replicas, and a Redis outage (SignalLost, replicas kept, documents
# written again when Redis is back). Prints (does not assert) the latencies from the forecast
# PUBLISH, and from the burst's XADD, to the scale PATCH accepted.
#
# The binaries are $LIFTOFF_BIN/liftoff-controller and liftoff-predictor
# (default: bin/).
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

readonly IMAGE=registry.invalid/liftoff/e2e-controller:none # kwok never pulls it
BIN_DIR=${LIFTOFF_BIN:-$E2E_ROOT/bin}
CONTROLLER=$BIN_DIR/liftoff-controller
[ -x "$CONTROLLER" ] || { echo "e2e: $CONTROLLER not built" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/liftoff-e2e-controller.XXXXXX")
on_exit rm -rf "$WORK"
# E2E_ARTIFACTS=DIR keeps the controller's, predictor's and Redis' logs.
if [ -n "${E2E_ARTIFACTS:-}" ]; then
  mkdir -p "$E2E_ARTIFACTS"
  # shellcheck disable=SC2016 # expanded by the inner shell
  on_exit bash -c 'cp "$1"/*.log "$2"/' _ "$WORK" "$E2E_ARTIFACTS"
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ---- Redis
RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$WORK" >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
on_exit kill "$REDIS_PID"
rcli() { redis-cli -p "$RPORT" "$@"; }
wait_for 10 rcli ping || { echo "e2e: redis-server did not start" >&2; exit 1; }

# ---- CRD, namespace, Deployments
kubectl apply -f "$E2E_ROOT/crds/launchpolicy.yaml" >/dev/null
check "CRD becomes Established" \
  kubectl wait --for condition=Established --timeout=30s crd/launchpolicies.liftoff.dev
# Wait until the API server serves the new type.
wait_for 30 kubectl get launchpolicies -A
e2e_namespace
ns=$E2E_NS
for d in web web-dry web-paused; do
  kubectl -n "$ns" create deployment "$d" --image="$IMAGE" --replicas=2 >/dev/null
done

# ---- the controller
APORT=$(free_port)
"$CONTROLLER" --kubeconfig "$KUBECONFIG" --namespace "$ns" --redis "redis://127.0.0.1:$RPORT" \
  --listen "127.0.0.1:$APORT" --resync 1s --stale-after 4s --hold 3s \
  2>"$WORK/controller.log" &
CTL_PID=$!
on_exit kill "$CTL_PID"
check_eventually "/readyz answers 200" 30 curl -fsS "http://127.0.0.1:$APORT/readyz"
check "/healthz answers 200" curl -fsS "http://127.0.0.1:$APORT/healthz"

policy() { # name target mode min max
  kubectl -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: liftoff.dev/v1alpha1
kind: LaunchPolicy
metadata:
  name: $1
spec:
  targetRef:
    name: $2
  mode: $3
  minReplicas: $4
  maxReplicas: $5
YAML
}

# Writes a forecast as the predictor does (hash, then PUBLISH); the
# message's updated_at is taken just before the PUBLISH, so the controller's
# "scaled" log line measures PUBLISH -> PATCH accepted.
forecast() { # policy desired
  local t
  t=$(now_ms)
  rcli HSET "liftoff:forecast:$ns:$1" eps 3.5 forecast_eps 4 trend 0.1 predicted_rps 900 \
    predicted_upper 1000 observed_rps -1 factor 18 desired_replicas "$2" reason predicted \
    tick $((t / 1000 - 1)) last_id 0-0 updated_at "$t" >/dev/null
  rcli PEXPIRE "liftoff:forecast:$ns:$1" 30000 >/dev/null
  t=$(now_ms)
  rcli PUBLISH liftoff:forecast "{\"namespace\":\"$ns\",\"name\":\"$1\",\"eps\":3.5,\"forecast_eps\":4,\"trend\":0.1,\"predicted_rps\":900,\"predicted_upper\":1000,\"observed_rps\":-1,\"factor\":18,\"desired_replicas\":$2,\"reason\":\"predicted\",\"tick\":$((t / 1000 - 1)),\"last_id\":\"0-0\",\"updated_at\":$t}" >/dev/null
}

# jq on a Redis value; fails on a missing key (jq -e alone passes on empty input).
redis_json() { # key jq-expression
  rcli GET "$1" | jq -en "input | $2" >/dev/null
}
redis_zero() { # command... : passes if Redis answers 0
  [ "$(rcli "$@")" = 0 ]
}

replicas() { kubectl -n "$ns" get deployment "$1" -o jsonpath='{.spec.replicas}'; }
replicas_are() { [ "$(replicas "$1")" = "$2" ]; }
status_field() { kubectl -n "$ns" get launchpolicy "$1" -o jsonpath="{.status.$2}"; }
status_is() { [ "$(status_field "$1" "$2")" = "$3" ]; }
cond() { # policy type -> "status reason"
  kubectl -n "$ns" get launchpolicy "$1" \
    -o jsonpath="{.status.conditions[?(@.type==\"$2\")].status} {.status.conditions[?(@.type==\"$2\")].reason}"
}
cond_is() { [ "$(cond "$1" "$2")" = "$3" ]; }

# ---- Active: the policy goes to Redis, replicas follow the forecast
policy active web Active 2 8
check_eventually "policy document in Redis" 10 redis_json "liftoff:policy:$ns:active" \
  ".spec.targetRef.name == \"web\" and .namespace == \"$ns\" and .generation >= 1"
check_eq "policy in liftoff:policies" 1 "$(rcli SISMEMBER liftoff:policies "$ns/active")"
check_eventually "no forecast yet: SignalLost ForecastMissing" 10 \
  cond_is active SignalLost "True ForecastMissing"
check_eq "no forecast: replicas untouched" 2 "$(replicas web)"

forecast active 5
check_eventually "replicas rise to the forecast's 5" 10 replicas_are web 5
check_eventually "status.desiredReplicas 5" 10 status_is active desiredReplicas 5
check_eq "status.currentReplicas 5" 5 "$(status_field active currentReplicas)"
check_eq "status.velocity" 3.5 "$(status_field active velocity)"
check_eq "status.factor" 18 "$(status_field active factor)"
check_eq "status.forecastRps" 900 "$(status_field active forecastRps)"
check_match "status.lastScaleTime set" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$(status_field active lastScaleTime)"
check_eq "status.observedGeneration" "$(kubectl -n "$ns" get lp active -o jsonpath='{.metadata.generation}')" \
  "$(status_field active observedGeneration)"
check_eq "Ready True" "True Reconciled" "$(cond active Ready)"
check_eq "SignalLost False" "False ForecastFresh" "$(cond active SignalLost)"
check_eq "Paused False" "False NotPaused" "$(cond active Paused)"
events() { # policy reason
  kubectl -n "$ns" get events --field-selector "involvedObject.name=$1,reason=$2" -o json |
    jq -r '.items[] | "\(.involvedObject.kind) \(.message)"'
}
check_eventually "an Event ScaledUp" 10 bash -c "[ -n \"\$(kubectl --kubeconfig $KUBECONFIG -n $ns get events --field-selector involvedObject.name=active,reason=ScaledUp -o name)\" ]"
check_contains "the Event says from 2 to 5 and why" "LaunchPolicy Deployment web scaled from 2 to 5: predicted" \
  "$(events active ScaledUp)"

# ---- clamps
forecast active 50
check_eventually "forecast 50 is clamped to maxReplicas 8" 10 replicas_are web 8
forecast active 0
check_eventually "forecast 0 is clamped to minReplicas 2" 10 replicas_are web 2
check_eventually "an Event ScaledDown" 10 bash -c "[ -n \"\$(kubectl --kubeconfig $KUBECONFIG -n $ns get events --field-selector involvedObject.name=active,reason=ScaledDown -o name)\" ]"

# ---- DryRun and Paused compute and report, never scale
policy dry web-dry DryRun 2 8
policy paused web-paused Paused 2 8
wait_for 10 rcli EXISTS "liftoff:policy:$ns:dry" >/dev/null
wait_for 10 rcli EXISTS "liftoff:policy:$ns:paused" >/dev/null
forecast dry 6
forecast paused 6
check_eventually "DryRun reports desiredReplicas 6" 10 status_is dry desiredReplicas 6
check_eventually "Paused reports desiredReplicas 6" 10 status_is paused desiredReplicas 6
sleep 2
check_eq "DryRun does not scale" 2 "$(replicas web-dry)"
check_eq "Paused does not scale" 2 "$(replicas web-paused)"
check_eq "DryRun: Scaling False DryRun" "False DryRun" "$(cond dry Scaling)"
check_eq "Paused: condition Paused True" "True Paused" "$(cond paused Paused)"
check_eq "Paused: Scaling False Paused" "False Paused" "$(cond paused Scaling)"
check_eq "no Event for DryRun" "" "$(events dry ScaledUp)"

# ---- stale forecast: SignalLost, no abrupt scale-down
forecast active 6
check_eventually "replicas at 6 again" 10 replicas_are web 6
# No more forecasts: the hash keeps an old updated_at (stale after 4 s).
check_eventually "stale forecast: SignalLost ForecastStale" 15 \
  cond_is active SignalLost "True ForecastStale"
check_eq "during the hold: replicas kept" 6 "$(replicas web)"
sleep 5 # past --hold 3s
check_eq "after the hold: replicas kept (never below current on a lost signal)" 6 "$(replicas web)"
rcli DEL "liftoff:forecast:$ns:active" >/dev/null
check_eventually "missing forecast: SignalLost ForecastMissing" 10 \
  cond_is active SignalLost "True ForecastMissing"
check_eq "missing forecast: replicas kept" 6 "$(replicas web)"
forecast active 4
check_eventually "a fresh forecast clears SignalLost" 10 cond_is active SignalLost "False ForecastFresh"
check_eventually "and applies again (6 -> 4)" 10 replicas_are web 4

# ---- metrics, deletion
metrics=$(curl -fsS "http://127.0.0.1:$APORT/metrics")
check_match "/metrics counts scales" 'liftoff_controller_scales_total [1-9]' "$metrics"
check_contains "/metrics has desired replicas per policy" \
  "liftoff_controller_desired_replicas{namespace=\"$ns\",name=\"active\"} 4" "$metrics"
kubectl -n "$ns" delete launchpolicy active >/dev/null
check_eventually "deleted policy leaves Redis" 10 redis_zero EXISTS "liftoff:policy:$ns:active"
check_eq "deleted policy leaves liftoff:policies" 0 "$(rcli SISMEMBER liftoff:policies "$ns/active")"
check_eq "deleted policy leaves the Deployment as it is" 4 "$(replicas web)"
# Latency: the controller logs each accepted scale with the time since the
# forecast's updated_at (the PUBLISH time here, same clock) and since it
# received the message. Every scale above followed one PUBLISH.
lat_summary() { # jq field
  grep '"msg":"scaled"' "$WORK/controller.log" | jq -s -r --arg f "$1" \
    '[.[] | .[$f] | select(. >= 0)] | sort |
     if length == 0 then "none" else
     "n=\(length) min=\(.[0]) median=\(.[length / 2 | floor]) max=\(.[-1]) ms" end'
}
echo "  note  forecast PUBLISH -> scale PATCH accepted: $(lat_summary since_publish_ms)"
echo "  note  forecast received -> scale PATCH accepted: $(lat_summary since_receive_ms)"

# ---- the real predictor: engagement events in the stream -> replicas
PRED=$BIN_DIR/liftoff-predictor
if [ -x "$PRED" ]; then
  kubectl -n "$ns" delete launchpolicy dry paused >/dev/null
  wait_for 10 redis_zero SCARD liftoff:policies
  kubectl -n "$ns" create deployment web-pred --image="$IMAGE" --replicas=2 >/dev/null
  kubectl -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: liftoff.dev/v1alpha1
kind: LaunchPolicy
metadata:
  name: pred
spec:
  targetRef:
    name: web-pred
  minReplicas: 2
  maxReplicas: 100
  podCapacityRps: 10
  prediction:
    windowSeconds: 10
    leadSeconds: 30
    baseRps: 5
    rpsPerEngagement: 10
  redis:
    launch: e2e-pred
YAML
  wait_for 10 rcli EXISTS "liftoff:policy:$ns:pred" >/dev/null
  PPORT=$(free_port)
  "$PRED" --redis "redis://127.0.0.1:$RPORT" --listen "127.0.0.1:$PPORT" \
    2>"$WORK/predictor.log" &
  PRED_PID=$!
  on_exit kill "$PRED_PID"
  check_eventually "predictor ready" 30 curl -fsS "http://127.0.0.1:$PPORT/readyz"
  check_eventually "predictor publishes a forecast for the policy" 10 \
    bash -c "[ \"\$(redis-cli -p $RPORT HGET liftoff:forecast:$ns:pred desired_replicas)\" != '' ]"
  check_eq "before any engagement: minReplicas" 2 "$(replicas web-pred)"
  # A burst of 200 upvotes, in one pipeline.
  t_xadd=$(now_ms)
  for i in $(seq 1 200); do
    printf 'XADD liftoff:events:e2e-pred * id e%s type upvote ts %s source webhook data {}\n' \
      "$i" "$t_xadd"
  done | rcli >/dev/null
  check_eventually "replicas rise above minReplicas on the burst" 15 \
    bash -c "[ \"\$(kubectl --kubeconfig $KUBECONFIG -n $ns get deployment web-pred -o jsonpath='{.spec.replicas}')\" -gt 2 ]"
  got=$(replicas web-pred)
  check_eventually "status.desiredReplicas matches the Deployment" 10 \
    bash -c "[ \"\$(kubectl --kubeconfig $KUBECONFIG -n $ns get lp pred -o jsonpath='{.status.desiredReplicas}')\" -ge $got ]"
  check_match "status.velocity is positive" '^[0-9.]*[1-9]' "$(status_field pred velocity)"
  first=$(grep '"msg":"scaled"' "$WORK/controller.log" | jq -c 'select(.policy == "pred")' | head -1)
  t_patch=$(date -d "$(jq -r .ts <<<"$first")" +%s%3N)
  echo "  note  burst XADD -> scale PATCH accepted (predictor + controller): $((t_patch - t_xadd)) ms" \
    "(2 -> $(jq -r .to <<<"$first"); predictor publish -> PATCH $(jq -r .since_publish_ms <<<"$first") ms)"
  if grep -q '"level":"error"' "$WORK/predictor.log"; then
    _e2e_fail "predictor logged no errors" "$(grep '"level":"error"' "$WORK/predictor.log")"
  else
    _e2e_pass "predictor logged no errors"
  fi

  # ---- Redis outage: the forecast goes stale, replicas are kept; when
  # Redis comes back empty, the controller writes the policy again.
  kill "$PRED_PID"
  wait "$PRED_PID" 2>/dev/null || true
  kill "$REDIS_PID"
  wait "$REDIS_PID" 2>/dev/null || true
  check_eventually "Redis down: SignalLost" 30 bash -c \
    "kubectl --kubeconfig $KUBECONFIG -n $ns get lp pred -o jsonpath='{.status.conditions[?(@.type==\"SignalLost\")].status}' | grep -qx True"
  # Read only now: a forecast the predictor published just before it was
  # killed may still have been applied until the signal was lost.
  held=$(replicas web-pred)
  sleep 4 # past --hold 3s
  check_eq "Redis down: replicas kept at $held" "$held" "$(replicas web-pred)"
  redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$WORK" >>"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  on_exit kill "$REDIS_PID"
  check_eventually "Redis back: the policy document is written again" 30 \
    redis_json "liftoff:policy:$ns:pred" '.spec.redis.launch == "e2e-pred"'
  check_eq "Redis back: policy in liftoff:policies" 1 "$(rcli SISMEMBER liftoff:policies "$ns/pred")"
  forecast pred 7
  check_eventually "Redis back: forecasts apply again" 15 replicas_are web-pred 7
else
  echo "  note  $PRED not built: the predictor section is skipped"
fi

check "controller still running" kill -0 "$CTL_PID"
if grep -q '"level":"error"' "$WORK/controller.log"; then
  _e2e_fail "controller logged no errors" "$(grep '"level":"error"' "$WORK/controller.log")"
else
  _e2e_pass "controller logged no errors"
fi
