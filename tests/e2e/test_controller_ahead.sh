#!/usr/bin/env bash
# "Ahead of the wave" against a real lead time: the real liftoff-predictor
# and liftoff-controller, a real redis-server, the real kube-apiserver, and a
# Deployment whose pods take STARTUP_S seconds to become Ready (the kwok
# stage delay, set per pod by the annotation in the pod template).
#
# A compressed launch is replayed: the engagement of sim/traces/sharp.csv
# from its onset, two trace seconds per second, is XADDed to the launch
# stream as it happens (upvotes, comments, maker comments). The visitors are
# simulated, not served: they follow the engagement by LEAD_S seconds, as
# the demand model has it,
#   traffic(t) = baseRps + rpsPerEngagement * v(t - LEAD_S)
#   v(t)       = weighted events/s over the windowSeconds before t
#   needed(t)  = ceil(traffic(t) / podCapacityRps)
# and the LaunchPolicy knows the same parameters (leadSeconds = LEAD_S).
# Once per second the Deployment's readyReplicas is read from the API;
# checked: at every second readyReplicas >= needed (the pods were started
# early enough to be Ready when the visitors arrive), the traffic did need
# more than minReplicas (so the check can fail), and every pod took its
# start-up time to become Ready (the lead is real). Printed, not asserted:
# for each pod count the seconds between Ready and need (the margin), and
# when a reactive scaler would have had it Ready (the traffic crossing the
# capacity + the HPA's 15 s sync + the start-up).
#
# The binaries are $LIFTOFF_BIN/liftoff-controller and liftoff-predictor
# (default: bin/).
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/lib_controller.sh
. "$(dirname "$0")/lib_controller.sh"

readonly STARTUP_S=10    # pod start-up (kwok delay)
readonly LEAD_S=30       # engagement -> traffic, and the policy's leadSeconds
readonly WINDOW_S=10     # the policy's windowSeconds
readonly COMPRESS=2      # trace seconds per replayed second
readonly WAVE_S=30       # replayed seconds of engagement whose traffic is checked
readonly CAPACITY_RPS=10
readonly BASE_RPS=5
readonly RPS_PER_ENGAGEMENT=2
readonly MIN_REPLICAS=1
readonly MAX_REPLICAS=40
readonly HPA_SYNC_S=15   # the HPA controller's default sync period
readonly TRACE=$E2E_ROOT/sim/traces/sharp.csv
readonly LAUNCH=e2e-ahead
readonly STREAM=liftoff:events:$LAUNCH
# The traffic of the last engagement second arrives LEAD_S later.
readonly REPLAY_S=$((LEAD_S + WAVE_S))

PRED=$CTL_BIN_DIR/liftoff-predictor
[ -x "$PRED" ] || { echo "e2e: $PRED not built" >&2; exit 1; }
[ -r "$TRACE" ] || { echo "e2e: $TRACE missing" >&2; exit 1; }

# ---- the replay, computed up front: per replayed second s the events to
# XADD (upvote comment maker_comment) and the pods the traffic needs.
# The wave starts a few quiet seconds before the first 10 s of the trace
# with 10 events or more.
plan=$(awk -F, -v n="$REPLAY_S" -v k="$COMPRESS" -v lead="$LEAD_S" -v w="$WINDOW_S" \
  -v base="$BASE_RPS" -v gain="$RPS_PER_ENGAGEMENT" -v cap="$CAPACITY_RPS" '
  /^[0-9]/ { t = $1; up[t] = $2; co[t] = $3; mc[t] = $4; if (t > last) last = t }
  END {
    for (t = 0; t <= last; t++) {
      sum = 0
      for (i = t; i < t + 10; i++) sum += up[i] + co[i] + mc[i]
      if (sum >= 10) break
    }
    start = t - 5 * k
    if (start < 0 || start + n * k > last) { print "no wave" > "/dev/stderr"; exit 1 }
    for (s = 0; s < n; s++) {
      u[s] = c[s] = m[s] = 0
      for (i = start + s * k; i < start + (s + 1) * k; i++) { u[s] += up[i]; c[s] += co[i]; m[s] += mc[i] }
      e[s] = 1.2 * u[s] + 1.0 * c[s] + 1.5 * m[s]   # the weights of the policy
    }
    for (s = 0; s < n; s++) {
      v = 0
      for (i = s - lead - w + 1; i <= s - lead; i++) if (i >= 0) v += e[i]
      rps = base + gain * v / w
      need = int(rps / cap); if (need * cap < rps) need++
      printf "%d %d %d %d %d %.1f\n", s, u[s], c[s], m[s], need, rps
    }
  }' "$TRACE")
declare -a ups comments makers needed traffic
while read -r s u c m need rps; do
  ups[s]=$u comments[s]=$c makers[s]=$m needed[s]=$need traffic[s]=$rps
done <<<"$plan"
peak_need=$(printf '%s\n' "${needed[@]}" | sort -n | tail -1)

# ---- cluster side: CRD, namespace, the Deployment with slow pods
ctl_work
ctl_redis_start
kubectl apply -f "$E2E_ROOT/crds/launchpolicy.yaml" >/dev/null
kubectl wait --for condition=Established --timeout=30s crd/launchpolicies.liftoff.dev >/dev/null
wait_for 30 kubectl get launchpolicies -A
e2e_namespace
ns=$E2E_NS
kubectl -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: $MIN_REPLICAS
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
      annotations:
        pod-ready.stage.kwok.x-k8s.io/delay: "${STARTUP_S}s"
    spec:
      containers:
      - name: web
        image: $CTL_IMAGE
YAML
ready_replicas() {
  local r
  r=$(kubectl -n "$ns" get deployment web -o jsonpath='{.status.readyReplicas}')
  echo "${r:-0}"
}
ready_is() { [ "$(ready_replicas)" = "$1" ]; }
check_eventually "the Deployment's first pod becomes Ready" $((STARTUP_S + 30)) ready_is "$MIN_REPLICAS"

# ---- the controller, the policy, the predictor
ctl_start "$KUBECONFIG" --namespace "$ns" --resync 1s
check_eventually "controller /readyz answers 200" 30 curl -fsS "http://127.0.0.1:$APORT/readyz"
kubectl -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: liftoff.dev/v1alpha1
kind: LaunchPolicy
metadata:
  name: ahead
spec:
  targetRef:
    name: web
  mode: Active
  minReplicas: $MIN_REPLICAS
  maxReplicas: $MAX_REPLICAS
  podCapacityRps: $CAPACITY_RPS
  prediction:
    windowSeconds: $WINDOW_S
    leadSeconds: $LEAD_S
    baseRps: $BASE_RPS
    rpsPerEngagement: $RPS_PER_ENGAGEMENT
    weights:
      upvote: 1.2
      comment: 1.0
      maker_comment: 1.5
  redis:
    launch: $LAUNCH
YAML
check_eventually "policy document in Redis" 10 redis_json "liftoff:policy:$ns:ahead" \
  ".spec.prediction.leadSeconds == $LEAD_S and .spec.redis.launch == \"$LAUNCH\""
PPORT=$(free_port)
"$PRED" --redis "redis://127.0.0.1:$RPORT" --listen "127.0.0.1:$PPORT" 2>"$WORK/predictor.log" &
PRED_PID=$!
on_exit kill "$PRED_PID"
check_eventually "predictor /readyz answers 200" 30 curl -fsS "http://127.0.0.1:$PPORT/readyz"
check_eventually "predictor publishes a forecast for the policy" 10 \
  bash -c "[ -n \"\$(redis-cli -p $RPORT HGET liftoff:forecast:$ns:ahead desired_replicas)\" ]"
check_eq "before the launch: minReplicas" "$MIN_REPLICAS" "$(replicas "$ns" web)"
check "the traffic will need more than minReplicas ($peak_need pods at its peak)" \
  test "$peak_need" -gt "$MIN_REPLICAS"

# ---- the replay: second s starts at t0 + s s; its readiness sample is
# taken first, then its engagement is XADDed.
sleep_until() { # unix-ms
  local d=$(($1 - $(now_ms)))
  [ "$d" -le 0 ] || sleep "$((d / 1000)).$(printf '%03d' $((d % 1000)))"
}
xadd_second() { # s
  local t i n=0 type count
  t=$(now_ms)
  for type in upvote comment maker_comment; do
    case $type in
      upvote) count=${ups[$1]} ;;
      comment) count=${comments[$1]} ;;
      *) count=${makers[$1]} ;;
    esac
    for ((i = 0; i < count; i++)); do
      printf 'XADD %s * id a%d-%d type %s ts %d source webhook data {}\n' \
        "$STREAM" "$1" "$n" "$type" "$t"
      n=$((n + 1))
    done
  done | rcli >/dev/null
}
declare -a ready_at spec_at
late_max=0
t0=$(($(now_ms) + 500))
for ((s = 0; s < REPLAY_S; s++)); do
  sleep_until $((t0 + s * 1000))
  late=$(($(now_ms) - t0 - s * 1000))
  [ "$late" -le "$late_max" ] || late_max=$late
  read -r spec ready < <(kubectl -n "$ns" get deployment web \
    -o jsonpath='{.spec.replicas} {.status.readyReplicas}{"\n"}')
  spec_at[s]=$spec ready_at[s]=${ready:-0}
  xadd_second "$s"
done
echo "  note  replayed $REPLAY_S s ($(rcli XLEN "$STREAM") events); samples up to ${late_max} ms late"

# ---- capacity Ready before demand, at every second of the traffic
short=""
for ((s = 0; s < REPLAY_S; s++)); do
  [ "${ready_at[s]}" -ge "${needed[s]}" ] ||
    short+="+${s}s: ${traffic[s]} rps needs ${needed[s]} pods, ${ready_at[s]} Ready (${spec_at[s]} asked for)"$'\n'
done
if [ -z "$short" ]; then
  _e2e_pass "readyReplicas >= the pods the traffic needs, at every second"
else
  _e2e_fail "readyReplicas >= the pods the traffic needs, at every second" "${short%$'\n'}"
fi

# Per pod count: when the traffic needed it, when it was Ready, and when a
# reactive scaler would have had it Ready.
margins=()
for ((n = MIN_REPLICAS + 1; n <= peak_need; n++)); do
  need_s=-1 ready_s=-1
  for ((s = 0; s < REPLAY_S; s++)); do
    [ "$need_s" -ge 0 ] || [ "${needed[s]}" -lt "$n" ] || need_s=$s
    [ "$ready_s" -ge 0 ] || [ "${ready_at[s]}" -lt "$n" ] || ready_s=$s
  done
  [ "$need_s" -ge 0 ] || continue
  if [ "$ready_s" -ge 0 ]; then
    margin=$((need_s - ready_s))
    margins+=("$margin")
    if [ "$margin" -ge 0 ]; then ahead="${margin} s ahead"; else ahead="$((-margin)) s late"; fi
    echo "  note  pod $n: needed at +${need_s} s, Ready at +${ready_s} s (${ahead});" \
      "reactive Ready at +$((need_s + HPA_SYNC_S + STARTUP_S)) s"
  else
    echo "  note  pod $n: needed at +${need_s} s, never Ready;" \
      "reactive Ready at +$((need_s + HPA_SYNC_S + STARTUP_S)) s"
  fi
done
if [ ${#margins[@]} -gt 0 ]; then
  echo "  note  margin Ready -> needed: min $(printf '%s\n' "${margins[@]}" | sort -n | head -1) s," \
    "max $(printf '%s\n' "${margins[@]}" | sort -n | tail -1) s over ${#margins[@]} pod counts" \
    "(lead ${LEAD_S} s, start-up ${STARTUP_S} s); a reactive scaler: $((HPA_SYNC_S + STARTUP_S)) s late"
fi
echo "  note  replicas asked for at the end: ${spec_at[REPLAY_S - 1]}, Ready: ${ready_at[REPLAY_S - 1]}"

# ---- the lead was real: every pod took its start-up time to become Ready
# (timestamps have one-second resolution).
startup_times() {
  kubectl -n "$ns" get pods -l app=web -o json | jq -r '.items[]
    | (.status.conditions // [] | map(select(.type == "Ready" and .status == "True")) | .[0].lastTransitionTime) as $r
    | select($r != null)
    | (($r | fromdateiso8601) - (.metadata.creationTimestamp | fromdateiso8601))'
}
mapfile -t startups < <(startup_times)
fast=$(printf '%s\n' "${startups[@]}" | awk -v min=$((STARTUP_S - 1)) '$1 < min' | wc -l)
all_slow() { [ "${#startups[@]}" -gt "$MIN_REPLICAS" ] && [ "$fast" -eq 0 ]; }
check "every Ready pod took its ${STARTUP_S} s start-up (${#startups[@]} pods, $fast faster)" all_slow
check_eventually "an Event ScaledUp on the policy" 10 bash -c \
  "[ -n \"\$(kubectl --kubeconfig $KUBECONFIG -n $ns get events --field-selector involvedObject.name=ahead,reason=ScaledUp -o name)\" ]"

check "controller still running" kill -0 "$CTL_PID"
check "predictor still running" kill -0 "$PRED_PID"
if grep -q '"level":"error"' "$WORK/predictor.log"; then
  _e2e_fail "predictor logged no errors" "$(grep '"level":"error"' "$WORK/predictor.log")"
else
  _e2e_pass "predictor logged no errors"
fi
ctl_check_log "" # no extra pattern
