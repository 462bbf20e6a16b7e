#!/usr/bin/env bash
# Latency from an engagement burst landing in the stream to the scale PATCH
# accepted by the API server, predictor and controller together, over many
# bursts: the real redis-server, liftoff-predictor and liftoff-controller and
# the real kube-apiserver, LATENCY_BURSTS policies (default 30), each with
# its own Deployment and launch stream.
#
# One burst per policy, in turn: a random 0-999 ms pause (so the bursts fall
# anywhere in the predictor's 1 s tick), then 200 upvotes XADDed in one
# redis-cli call; the next burst waits until this one's scale was logged, so
# no two overlap. Both ends are timestamped on the same clock: the burst
# lands at the millisecond of its first entry's stream ID (Redis' clock), the
# PATCH is accepted at the "ts" of the controller's "scaled" log line, which
# also carries since_publish_ms (the forecast's updated_at, the predictor's
# clock) for the predictor/controller split, and from the end of the
# burst's second (the predictor forecasts whole seconds) to the PATCH.
#
# Checked (function, not timing): every burst scaled its own Deployment
# above minReplicas (and nothing scaled before its burst), no errors in the
# logs. Printed, not asserted: p50/p90/p99/max (nearest rank), as a note and
# as one JSON line.
#
# The binaries are $LIFTOFF_BIN/liftoff-controller and liftoff-predictor
# (default: bin/).
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/lib_controller.sh
. "$(dirname "$0")/lib_controller.sh"

readonly BURSTS=${LATENCY_BURSTS:-30}
readonly BURST_EVENTS=200 # upvotes per burst
readonly MIN_REPLICAS=1
# Small, so the pods the scale-ups create (kwok's, but still API objects)
# add little load while the next bursts are measured.
readonly MAX_REPLICAS=4
readonly SCALE_WAIT_S=10  # a burst with no scale by then counts as failed

[[ "$BURSTS" =~ ^[1-9][0-9]{0,2}$ ]] || { echo "e2e: LATENCY_BURSTS=$BURSTS: 1 to 999" >&2; exit 1; }
PRED=$CTL_BIN_DIR/liftoff-predictor
ctl_work "$PRED"
ctl_setup
ns=$E2E_NS
name_of() { printf 'lat-%03d' "$1"; } # burst index -> policy, Deployment and launch name

# ---- N Deployments and N policies, one apply
manifests() {
  local i n
  for ((i = 0; i < BURSTS; i++)); do
    n=$(name_of "$i")
    cat <<YAML
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $n
spec:
  replicas: $MIN_REPLICAS
  selector:
    matchLabels:
      app: $n
  template:
    metadata:
      labels:
        app: $n
    spec:
      containers:
      - name: web
        image: $CTL_IMAGE
---
apiVersion: liftoff.dev/v1alpha1
kind: LaunchPolicy
metadata:
  name: $n
spec:
  targetRef:
    name: $n
  minReplicas: $MIN_REPLICAS
  maxReplicas: $MAX_REPLICAS
  podCapacityRps: 10
  prediction:
    windowSeconds: 10
    leadSeconds: 30
    baseRps: 5
    rpsPerEngagement: 10
  redis:
    launch: e2e-$n
YAML
  done
}

ctl_start "$KUBECONFIG" --namespace "$ns"
check_eventually "controller /readyz answers 200" 30 curl -fsS "http://127.0.0.1:$APORT/readyz"
manifests | kubectl -n "$ns" apply -f - >/dev/null
policies_in_redis() { [ "$(rcli SCARD liftoff:policies)" = "$BURSTS" ]; }
check_eventually "all $BURSTS policies in Redis" 30 policies_in_redis

PPORT=$(free_port)
"$PRED" --redis "redis://127.0.0.1:$RPORT" --listen "127.0.0.1:$PPORT" 2>"$WORK/predictor.log" &
PRED_PID=$!
on_exit kill "$PRED_PID"
check_eventually "predictor /readyz answers 200" 30 curl -fsS "http://127.0.0.1:$PPORT/readyz"
forecast_keys=()
for ((i = 0; i < BURSTS; i++)); do forecast_keys+=("liftoff:forecast:$ns:$(name_of "$i")"); done
forecasts_all() { [ "$(rcli EXISTS "${forecast_keys[@]}")" = "$BURSTS" ]; }
check_eventually "the predictor publishes a forecast for every policy" 15 forecasts_all
at_min() { # every Deployment at minReplicas
  kubectl -n "$ns" get deployments -o json |
    jq -e --argjson n "$BURSTS" --argjson min "$MIN_REPLICAS" \
      '[.items[] | select(.spec.replicas == $min)] | length == $n' >/dev/null
}
check "before the bursts: every Deployment at minReplicas" at_min

# ---- the bursts
log=$WORK/controller.log
scaled_logged() { grep '"msg":"scaled"' "$log" | grep -qF "\"policy\":\"$1\""; }
declare -a landed # burst index -> ms of its first stream entry
for ((i = 0; i < BURSTS; i++)); do
  n=$(name_of "$i")
  sleep "$(printf '0.%03d' $((RANDOM % 1000)))"
  t=$(now_ms)
  ids=$(for ((j = 0; j < BURST_EVENTS; j++)); do
    printf 'XADD liftoff:events:e2e-%s * id e%d type upvote ts %d source webhook data {}\n' \
      "$n" "$j" "$t"
  done | rcli)
  first=${ids%%$'\n'*}
  landed[i]=${first%-*}
  [[ "${landed[i]}" =~ ^[0-9]+$ ]] || { echo "e2e: XADD answered: $first" >&2; exit 1; }
  wait_for "$SCALE_WAIT_S" scaled_logged "$n" || true
done

# ---- per burst: the first "scaled" line of its policy
# -> "policy ts_ms from to since_publish_ms since_receive_ms"
firsts=$(grep '"msg":"scaled"' "$log" | jq -s -r --arg ns "$ns" '
  [.[] | select(.namespace == $ns)] | group_by(.policy)[] | min_by(.ts)
  | [.policy,
     ((.ts[0:19] + "Z" | fromdateiso8601) * 1000 + (.ts[20:23] | tonumber)),
     .from, .to, .since_publish_ms, .since_receive_ms] | map(tostring) | join(" ")' || true)
declare -A line
while read -r p rest; do [ -z "$p" ] || line[$p]=$rest; done <<<"$firsts"
total=() ctl_part=() pred_part=() after_second=() phase=() bad=""
for ((i = 0; i < BURSTS; i++)); do
  n=$(name_of "$i")
  if [ -z "${line[$n]:-}" ]; then
    bad+="$n: no scale within ${SCALE_WAIT_S} s of its burst"$'\n'
    continue
  fi
  read -r ts from to pub _ <<<"${line[$n]}"
  lat=$((ts - landed[i]))
  if [ "$lat" -lt 0 ]; then
    bad+="$n: scaled ${lat#-} ms before its burst ($from -> $to)"$'\n'
    continue
  fi
  if [ "$from" != "$MIN_REPLICAS" ] || [ "$to" -le "$MIN_REPLICAS" ]; then
    bad+="$n: first scale $from -> $to, not up from minReplicas"$'\n'
    continue
  fi
  total+=("$lat")
  phase+=($((landed[i] % 1000)))
  after_second+=($((lat - (1000 - landed[i] % 1000))))
  if [ "$pub" -ge 0 ]; then
    ctl_part+=("$pub")
    pred_part+=($((lat - pub)))
  fi
done
if [ -z "$bad" ]; then
  _e2e_pass "every burst ($BURSTS) scaled its Deployment up from minReplicas, after the burst"
else
  _e2e_fail "every burst ($BURSTS) scaled its Deployment up from minReplicas, after the burst" "${bad%$'\n'}"
fi
above_min() {
  kubectl -n "$ns" get deployments -o json |
    jq -e --argjson n "$BURSTS" --argjson min "$MIN_REPLICAS" \
      '[.items[] | select(.spec.replicas > $min)] | length == $n' >/dev/null
}
check "every Deployment's spec.replicas above minReplicas" above_min

# ---- the figures: nearest-rank percentiles
stats() { # values... -> "n p50 p90 p99 max min" (n 0: dashes)
  printf '%s\n' "$@" | sort -n | awk '
    NF { v[++n] = $1 }
    function r(p,  k) { k = int((p * n + 99) / 100); if (k < 1) k = 1; return v[k] }
    END { if (n == 0) print "0 - - - - -"; else print n, r(50), r(90), r(99), v[n], v[1] }'
}
text() { # n p50 p90 p99 max min
  echo "n=$1 p50=$2 p90=$3 p99=$4 max=$5 ms (min $6)"
}
json() { # key n p50 p90 p99 max min
  if [ "$2" = 0 ]; then echo "\"$1\":null"; return; fi
  echo "\"$1\":{\"n\":$2,\"p50_ms\":$3,\"p90_ms\":$4,\"p99_ms\":$5,\"max_ms\":$6,\"min_ms\":$7}"
}
read -r -a s_total <<<"$(stats "${total[@]}")"
read -r -a s_pred <<<"$(stats "${pred_part[@]}")"
read -r -a s_ctl <<<"$(stats "${ctl_part[@]}")"
read -r -a s_after <<<"$(stats "${after_second[@]}")"
read -r -a s_phase <<<"$(stats "${phase[@]}")"
echo "  note  burst XADD -> scale PATCH accepted: $(text "${s_total[@]}")"
echo "  note    burst XADD -> predictor publish: $(text "${s_pred[@]}")"
echo "  note    predictor publish -> scale PATCH accepted: $(text "${s_ctl[@]}")"
# The predictor forecasts whole seconds: a burst waits for its second to
# end (0-999 ms, by where it landed), then the rest is the pipeline's own.
echo "  note    end of the burst's second -> scale PATCH accepted: $(text "${s_after[@]}")"
echo "  note  the bursts landed between ms ${s_phase[5]} and ${s_phase[4]} of their second;" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "{\"e2e\":\"controller_latency\",\"bursts\":$BURSTS,\"events_per_burst\":$BURST_EVENTS,$(json burst_to_patch "${s_total[@]}"),$(json burst_to_publish "${s_pred[@]}"),$(json publish_to_patch "${s_ctl[@]}"),$(json second_end_to_patch "${s_after[@]}"),\"load_avg\":$(cut -d' ' -f1 /proc/loadavg)}"

check "controller still running" kill -0 "$CTL_PID"
check "predictor still running" kill -0 "$PRED_PID"
ctl_check_log '"msg":"scale failed"'
ctl_check_log "" predictor
