#!/usr/bin/env bash
# liftoff-controller against the real kube-apiserver (kwok nodes) and a real
# redis-server started here: the LaunchPolicy CRD, Deployments and policies;
# forecasts are written to Redis as the predictor writes them (hash +
# PUBLISH liftoff:forecast, docs/redis-keys.md). Checks: the policy document
# in Redis, replicas rising to the forecast, status and Event, the
# minReplicas/maxReplicas clamps, DryRun and Paused never scaling, a stale
# forecast giving SignalLost with no scale-down, then the reactive fallback
# stepping down within spec.scaleDown; then the real predictor
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

# shellcheck source=tests/e2e/lib_controller.sh
. "$(dirname "$0")/lib_controller.sh"

# E2E_ARTIFACTS=DIR keeps the controller's, predictor's and Redis' logs.
ctl_work
ctl_setup "CRD becomes Established"
ns=$E2E_NS
ctl_deployments "$ns" 2 web web-dry web-paused

# ---- the controller
ctl_start "$KUBECONFIG" --namespace "$ns" --resync 1s --stale-after 4s --hold 3s
check_eventually "/readyz answers 200" 30 curl -fsS "http://127.0.0.1:$APORT/readyz"
check "/healthz answers 200" curl -fsS "http://127.0.0.1:$APORT/healthz"

policy() { ctl_policy "$ns" "$@"; }      # name target mode min max
forecast() { ctl_forecast "$ns" "$@"; }  # policy desired
cond() { ctl_cond "$ns" "$1" "$2" status reason; } # policy type -> "status reason"
cond_is() { [ "$(cond "$1" "$2")" = "$3" ]; }
cond_status_is() { [ "$(ctl_cond "$ns" "$1" "$2" status)" = "$3" ]; } # policy type status

# ---- Active: the policy goes to Redis, replicas follow the forecast
# (short scale-down limits for the fallback below: 6 s window, 25 % a step,
# a step a second)
policy active web Active 2 8 "scaleDown:" "  stabilizationSeconds: 6" "  maxStepPercent: 25" \
  "  periodSeconds: 1"
check_eventually "policy document in Redis" 10 redis_json "liftoff:policy:$ns:active" \
  ".spec.targetRef.name == \"web\" and .namespace == \"$ns\" and .generation >= 1"
check_eq "policy in liftoff:policies" 1 "$(rcli SISMEMBER liftoff:policies "$ns/active")"
check_eventually "no forecast yet: SignalLost ForecastMissing" 10 \
  cond_is active SignalLost "True ForecastMissing"
check_eq "no forecast: replicas untouched" 2 "$(replicas "$ns" web)"

forecast active 5
check_eventually "replicas rise to the forecast's 5" 10 replicas_are "$ns" web 5
check_eventually "status.desiredReplicas 5" 10 status_is "$ns" active desiredReplicas 5
check_eq "status.currentReplicas 5" 5 "$(status_field "$ns" active currentReplicas)"
check_eq "status.velocity" 3.5 "$(status_field "$ns" active velocity)"
check_eq "status.factor" 18 "$(status_field "$ns" active factor)"
check_eq "status.forecastRps" 900 "$(status_field "$ns" active forecastRps)"
check_match "status.lastScaleTime set" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$(status_field "$ns" active lastScaleTime)"
check_eq "status.observedGeneration" "$(kubectl -n "$ns" get lp active -o jsonpath='{.metadata.generation}')" \
  "$(status_field "$ns" active observedGeneration)"
check_eq "Ready True" "True Reconciled" "$(cond active Ready)"
check_eq "SignalLost False" "False ForecastFresh" "$(cond active SignalLost)"
check_eq "Paused False" "False NotPaused" "$(cond active Paused)"
events() { ctl_events "$ns" "$1" "$2" '"\(.involvedObject.kind) \(.message)"'; } # policy reason
check_eventually "an Event ScaledUp" 10 ctl_has_event "$ns" active ScaledUp
check_contains "the Event says from 2 to 5 and why" "LaunchPolicy Deployment web scaled from 2 to 5: predicted" \
  "$(events active ScaledUp)"

# ---- clamps
forecast active 50
check_eventually "forecast 50 is clamped to maxReplicas 8" 10 replicas_are "$ns" web 8
forecast active 0
check_eventually "forecast 0 is clamped to minReplicas 2" 10 replicas_are "$ns" web 2
check_eventually "an Event ScaledDown" 10 ctl_has_event "$ns" active ScaledDown

# ---- DryRun and Paused compute and report, never scale
policy dry web-dry DryRun 2 8
policy paused web-paused Paused 2 8
wait_for 10 rcli EXISTS "liftoff:policy:$ns:dry" >/dev/null
wait_for 10 rcli EXISTS "liftoff:policy:$ns:paused" >/dev/null
forecast dry 6
forecast paused 6
check_eventually "DryRun reports desiredReplicas 6" 10 status_is "$ns" dry desiredReplicas 6
check_eventually "Paused reports desiredReplicas 6" 10 status_is "$ns" paused desiredReplicas 6
sleep 2
check_eq "DryRun does not scale" 2 "$(replicas "$ns" web-dry)"
check_eq "Paused does not scale" 2 "$(replicas "$ns" web-paused)"
check_eq "DryRun: Scaling False DryRun" "False DryRun" "$(cond dry Scaling)"
check_eq "Paused: condition Paused True" "True Paused" "$(cond paused Paused)"
check_eq "Paused: Scaling False Paused" "False Paused" "$(cond paused Scaling)"
check_eq "no Event for DryRun" "" "$(events dry ScaledUp)"

# ---- stale forecast: SignalLost, no abrupt scale-down
forecast active 6
check_eventually "replicas at 6 again" 10 replicas_are "$ns" web 6
# No more forecasts: the hash keeps an old updated_at (stale after 4 s).
check_eventually "stale forecast: SignalLost ForecastStale" 15 \
  cond_is active SignalLost "True ForecastStale"
check_eq "during the hold: replicas kept" 6 "$(replicas "$ns" web)"
sleep 5 # past --hold 3s
check_eq "after the hold: replicas kept (never below current on a lost signal)" 6 "$(replicas "$ns" web)"
# After the hold with the sidecars reporting: the reactive floor, 500 rps at
# podCapacityRps 200 -> 3 pods, reached as the scaleDown limits let it: after
# the stabilization window, one pod (25 % of 6, 5, 4, at least one) a step.
# The sidecar reports every 2 s, as a sidecar does (a report is fresh 10 s).
(while :; do
  rcli HSET "liftoff:observed:$ns:active" rps@web-a 500 updated_at@web-a "$(date +%s%3N)" >/dev/null
  sleep 2
done) &
REPORT_PID=$!
on_exit kill "$REPORT_PID"
check_eventually "after the hold: the reactive floor from the observed rate (3)" 30 \
  replicas_are "$ns" web 3
kill "$REPORT_PID"
wait "$REPORT_PID" 2>/dev/null || true
fallback_scales() { # the fallback's scale-downs of policy active: "from>to:why ..."
  grep '"msg":"scaled"' "$WORK/controller.log" |
    jq -r 'select(.policy == "active" and (.why | startswith("fallback"))) |
           "\(.from)>\(.to):\(.why)"' | paste -sd' ' -
}
check_eq "the fallback steps down one pod at a time" \
  "6>5:fallback-stabilized 5>4:fallback-stabilized 4>3:fallback-reactive" "$(fallback_scales)"
check_contains "an Event names the stabilized step" \
  "LaunchPolicy Deployment web scaled from 6 to 5: fallback-stabilized" \
  "$(events active ScaledDown)"
rcli DEL "liftoff:observed:$ns:active" >/dev/null
rcli DEL "liftoff:forecast:$ns:active" >/dev/null
check_eventually "missing forecast: SignalLost ForecastMissing" 10 \
  cond_is active SignalLost "True ForecastMissing"
check_eq "missing forecast, nothing observed: replicas kept" 3 "$(replicas "$ns" web)"
forecast active 4
check_eventually "a fresh forecast clears SignalLost" 10 cond_is active SignalLost "False ForecastFresh"
check_eventually "and applies again (3 -> 4)" 10 replicas_are "$ns" web 4

# ---- metrics, deletion
metrics=$(curl -fsS "http://127.0.0.1:$APORT/metrics")
check_match "/metrics counts scales" 'liftoff_controller_scales_total [1-9]' "$metrics"
check_contains "/metrics has desired replicas per policy" \
  "liftoff_controller_desired_replicas{namespace=\"$ns\",name=\"active\"} 4" "$metrics"
kubectl -n "$ns" delete launchpolicy active >/dev/null
check_eventually "deleted policy leaves Redis" 10 redis_zero EXISTS "liftoff:policy:$ns:active"
check_eq "deleted policy leaves liftoff:policies" 0 "$(rcli SISMEMBER liftoff:policies "$ns/active")"
check_eq "deleted policy leaves the Deployment as it is" 4 "$(replicas "$ns" web)"
# Latency: the controller logs each accepted scale with the time since the
# forecast's updated_at (the PUBLISH time here, same clock) and since it
# received the message (-1, left out here, for scales no fresh forecast drove:
# the fallback after the hold).
lat_summary() { # jq field
  grep '"msg":"scaled"' "$WORK/controller.log" | jq -s -r --arg f "$1" \
    '[.[] | .[$f] | select(. >= 0)] | sort |
     if length == 0 then "none" else
     "n=\(length) min=\(.[0]) median=\(.[length / 2 | floor]) max=\(.[-1]) ms" end'
}
echo "  note  forecast PUBLISH -> scale PATCH accepted: $(lat_summary since_publish_ms)"
echo "  note  forecast received -> scale PATCH accepted: $(lat_summary since_receive_ms)"

# ---- the real predictor: engagement events in the stream -> replicas
PRED=$CTL_BIN_DIR/liftoff-predictor
if [ -x "$PRED" ]; then
  kubectl -n "$ns" delete launchpolicy dry paused >/dev/null
  wait_for 10 redis_zero SCARD liftoff:policies
  ctl_deployments "$ns" 2 web-pred
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
  check_eq "before any engagement: minReplicas" 2 "$(replicas "$ns" web-pred)"
  # A burst of 200 upvotes, in one pipeline.
  t_xadd=$(now_ms)
  for i in $(seq 1 200); do
    printf 'XADD liftoff:events:e2e-pred * id e%s type upvote ts %s source webhook data {}\n' \
      "$i" "$t_xadd"
  done | rcli >/dev/null
  check_eventually "replicas rise above minReplicas on the burst" 15 \
    bash -c "[ \"\$(kubectl --kubeconfig $KUBECONFIG -n $ns get deployment web-pred -o jsonpath='{.spec.replicas}')\" -gt 2 ]"
  got=$(replicas "$ns" web-pred)
  check_eventually "status.desiredReplicas matches the Deployment" 10 \
    bash -c "[ \"\$(kubectl --kubeconfig $KUBECONFIG -n $ns get lp pred -o jsonpath='{.status.desiredReplicas}')\" -ge $got ]"
  check_match "status.velocity is positive" '^[0-9.]*[1-9]' "$(status_field "$ns" pred velocity)"
  first=$(grep '"msg":"scaled"' "$WORK/controller.log" | jq -c 'select(.policy == "pred")' | head -1)
  t_patch=$(date -d "$(jq -r .ts <<<"$first")" +%s%3N)
  echo "  note  burst XADD -> scale PATCH accepted (predictor + controller): $((t_patch - t_xadd)) ms" \
    "(2 -> $(jq -r .to <<<"$first"); predictor publish -> PATCH $(jq -r .since_publish_ms <<<"$first") ms)"
  ctl_check_log "" predictor

  # ---- Redis outage: the forecast goes stale, replicas are kept; when
  # Redis comes back empty, the controller writes the policy again.
  kill "$PRED_PID"
  wait "$PRED_PID" 2>/dev/null || true
  kill "$REDIS_PID"
  wait "$REDIS_PID" 2>/dev/null || true
  check_eventually "Redis down: SignalLost" 30 cond_status_is pred SignalLost True
  # Read only now: a forecast the predictor published just before it was
  # killed may still have been applied until the signal was lost.
  held=$(replicas "$ns" web-pred)
  sleep 4 # past --hold 3s
  check_eq "Redis down: replicas kept at $held" "$held" "$(replicas "$ns" web-pred)"
  ctl_redis_start "$RPORT"
  check_eventually "Redis back: the policy document is written again" 30 \
    redis_json "liftoff:policy:$ns:pred" '.spec.redis.launch == "e2e-pred"'
  check_eq "Redis back: policy in liftoff:policies" 1 "$(rcli SISMEMBER liftoff:policies "$ns/pred")"
  forecast pred 7
  check_eventually "Redis back: forecasts apply again" 15 replicas_are "$ns" web-pred 7
else
  echo "  note  $PRED not built: the predictor section is skipped"
fi

check "controller still running" kill -0 "$CTL_PID"
ctl_check_log ""
