#!/usr/bin/env bash
# liftoff-controller at scale: N LaunchPolicies on N Deployments (default
# 1,000 of each, replicas 1) in a private local control plane (kwok nodes),
# a real redis-server, one controller watching all namespaces. Reports
#
#   - time from the controller's start to the first full reconcile: every
#     policy document in Redis, and every policy's status.observedGeneration
#     set (polled through the API every 0.2 s);
#   - RSS when idle after that, and the peak (VmHWM) at the end;
#   - a burst: N forecasts (desired_replicas 2) written and PUBLISHed at
#     once, as the predictor does; wall time until all N scale PATCHes are
#     accepted (the controller's "scaled" log lines) and visible in the API,
#     and the per-policy latency PUBLISH -> PATCH accepted (p50/p90/p99/max,
#     from those lines); the decision function's own time from the
#     liftoff_controller_decision_seconds histogram; the controller's CPU.
#
# Prints the figures as text, then one JSON line. Not a test: no
# thresholds. For comparison, the HPA controller syncs every 15 s
# (--horizontal-pod-autoscaler-sync-period).
#
# Environment: LIFTOFF_BIN (the binaries, default bin/), BENCH_POLICIES
# (default 1000), BENCH_NODES (kwok nodes, default 20: room for 2N pods at
# 110 a node), BENCH_RESYNC (the controller's --resync, default 10s),
# BENCH_KEEP=1 keeps the work directory (logs).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN_DIR=${LIFTOFF_BIN:-$ROOT/bin}
CONTROLLER=$BIN_DIR/liftoff-controller
N=${BENCH_POLICIES:-1000}
NODES=${BENCH_NODES:-20}
RESYNC=${BENCH_RESYNC:-10s}
readonly NS=bench
readonly IMAGE=registry.invalid/liftoff/bench:none # kwok never pulls it
readonly CREATE_JOBS=4       # kubectl create processes in parallel
readonly PHASE_TIMEOUT_S=600 # each wait below gives up after this

[ -x "$CONTROLLER" ] || { echo "bench: $CONTROLLER not built (make)" >&2; exit 1; }
[[ "$N" =~ ^[0-9]+$ && "$N" -ge 1 && "$N" -le 4096 ]] || { echo "bench: BENCH_POLICIES 1..4096" >&2; exit 2; }
for tool in redis-server redis-cli jq python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is needed" >&2; exit 1; }
done

now_ms() { date +%s%3N; }
log() { printf 'bench: %s\n' "$*" >&2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/liftoff-bench-controller.XXXXXX")
export LIFTOFF_CLUSTER_DIR=$WORK/cluster
export LIFTOFF_NODES=$NODES
CTL_PID='' REDIS_PID=''
cleanup() {
  local rc=$?
  [ -z "$CTL_PID" ] || kill "$CTL_PID" 2>/dev/null || true
  [ -z "$REDIS_PID" ] || kill "$REDIS_PID" 2>/dev/null || true
  bash "$ROOT/hack/cluster.sh" down >/dev/null 2>&1 || true
  if [ "${BENCH_KEEP:-0}" = 1 ]; then
    log "logs kept in $WORK"
  else
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Polls CMD every 0.2 s until it succeeds; prints the time it succeeded (ms).
wait_until() { # what command...
  local what=$1 deadline
  shift
  deadline=$(($(now_ms) + PHASE_TIMEOUT_S * 1000))
  until "$@" 2>/dev/null; do
    [ "$(now_ms)" -lt "$deadline" ] || { log "gave up after ${PHASE_TIMEOUT_S} s: $what"; exit 1; }
    sleep 0.2
  done
  now_ms
}

# The same, but gives up quietly after SECONDS: prints the time or "null".
poll_until() { # seconds command...
  local deadline=$(($(now_ms) + $1 * 1000))
  shift
  until "$@" 2>/dev/null; do
    [ "$(now_ms)" -lt "$deadline" ] || { echo null; return 0; }
    sleep 0.2
  done
  now_ms
}

# ---- cluster, Redis
log "cluster with $NODES kwok nodes"
bash "$ROOT/hack/cluster.sh" up 2>"$WORK/cluster-up.log" ||
  { cat "$WORK/cluster-up.log" >&2; exit 1; }
eval "$(bash "$ROOT/hack/cluster.sh" env)"
kc() { command kubectl --kubeconfig "$KUBECONFIG" "$@"; }
RPORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" \
  >"$WORK/redis.log" 2>&1 &
REDIS_PID=$!
rcli() { redis-cli -p "$RPORT" "$@"; }
wait_until "redis-server" rcli ping >/dev/null 2>&1

kc apply -f "$ROOT/crds/launchpolicy.yaml" >/dev/null
established() {
  [ "$(kc get crd launchpolicies.liftoff.dev \
    -o jsonpath='{.status.conditions[?(@.type=="Established")].status}' 2>/dev/null)" = True ]
}
wait_until "the CRD Established" established >/dev/null
wait_until "LaunchPolicies served" kc get launchpolicies -A >/dev/null 2>&1
kc create namespace "$NS" >/dev/null
wait_until "default service account" kc -n "$NS" get serviceaccount default >/dev/null 2>&1

# ---- N Deployments and N policies, CREATE_JOBS kubectl processes at once
name() { printf 'app-%04d' "$1"; }
gen_objects() { # job
  local i n
  for ((i = $1; i < N; i += CREATE_JOBS)); do
    n=$(name "$i")
    cat <<EOF
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: $n, namespace: $NS}
spec:
  replicas: 1
  selector: {matchLabels: {app: $n}}
  template:
    metadata: {labels: {app: $n}}
    spec:
      containers: [{name: app, image: "$IMAGE"}]
---
apiVersion: liftoff.dev/v1alpha1
kind: LaunchPolicy
metadata: {name: $n, namespace: $NS}
spec:
  targetRef: {name: $n}
  mode: Active
  minReplicas: 1
  maxReplicas: 10
EOF
  done
}
for ((j = 0; j < CREATE_JOBS; j++)); do
  gen_objects "$j" >"$WORK/objects-$j.yaml"
done
t=$(now_ms)
pids=()
for ((j = 0; j < CREATE_JOBS; j++)); do
  kc create -f "$WORK/objects-$j.yaml" >"$WORK/create-$j.log" 2>&1 &
  pids+=($!)
done
wait "${pids[@]}" || true # counted below
create_ms=$(($(now_ms) - t))
count_of() { kc get --raw "$1" --request-timeout=20s | jq "$2"; }
n_deploy=$(count_of "/apis/apps/v1/namespaces/$NS/deployments" '.items | length')
n_pol=$(count_of "/apis/liftoff.dev/v1alpha1/namespaces/$NS/launchpolicies" '.items | length')
if [ "$n_deploy" != "$N" ] || [ "$n_pol" != "$N" ]; then
  log "created $n_deploy Deployments and $n_pol policies, not $N"
  tail -n 5 "$WORK"/create-*.log >&2
  exit 1
fi
log "created $N Deployments and $N LaunchPolicies in $create_ms ms; waiting for the pods"
available() {
  [ "$(count_of "/apis/apps/v1/namespaces/$NS/deployments" \
    '[.items[] | select(.status.availableReplicas == 1)] | length')" = "$N" ]
}
t=$(now_ms)
wait_until "$N Deployments available" available >/dev/null
log "all $N Deployments available after $(($(now_ms) - t)) ms"

# ---- the controller: time to the first full reconcile
APORT=$(free_port)
t_start=$(now_ms)
"$CONTROLLER" --kubeconfig "$KUBECONFIG" --redis "redis://127.0.0.1:$RPORT" \
  --listen "127.0.0.1:$APORT" --resync "$RESYNC" --stale-after 120s --hold 120s \
  2>"$WORK/controller.log" &
CTL_PID=$!
docs_in_redis() { [ "$(rcli SCARD liftoff:policies)" = "$N" ]; }
t_docs=$(wait_until "$N policy documents in Redis" docs_in_redis)
all_observed() {
  [ "$(count_of "/apis/liftoff.dev/v1alpha1/namespaces/$NS/launchpolicies" \
    '[.items[] | select(.status.observedGeneration == .metadata.generation)] | length')" = "$N" ]
}
t_full=$(wait_until "every status.observedGeneration" all_observed)
t_ready=$(grep -m1 '"msg":"policies listed"' "$WORK/controller.log" | jq -r .ts)
docs_ms=$((t_docs - t_start))
full_ms=$((t_full - t_start))

proc() { # field of /proc/pid/status, kB
  awk -v f="$1:" '$1 == f { print $2 }' "/proc/$CTL_PID/status"
}
cpu_ms() { # utime + stime of the controller, ms
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print int(($12 + $13) * 1000 / hz) }' \
    "/proc/$CTL_PID/stat"
}
sleep 3 # settle: the reconcile's last status writes
rss_idle=$(proc VmRSS)
cpu_before=$(cpu_ms)
metric() { curl -fsS "http://127.0.0.1:$APORT/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }
reconciles_before=$(metric liftoff_controller_reconciles_total)

# ---- the burst: N forecasts at once (hash + PUBLISH each, one pipeline)
scaled_before=$(grep -c '"msg":"scaled"' "$WORK/controller.log" || true)
t_tick=$(($(now_ms) / 1000))
for ((i = 0; i < N; i++)); do
  n=$(name "$i")
  printf 'HSET liftoff:forecast:%s:%s eps 3.5 forecast_eps 4 trend 0.1 predicted_rps 90 predicted_upper 100 observed_rps -1 factor 2 desired_replicas 2 reason predicted tick %s last_id 0-0 updated_at @T@\n' \
    "$NS" "$n" "$t_tick"
  printf 'PEXPIRE liftoff:forecast:%s:%s 600000\n' "$NS" "$n"
  # single-quoted for redis-cli, which would take the JSON's " as quotes
  printf 'PUBLISH liftoff:forecast %s{"namespace":"%s","name":"%s","eps":3.5,"forecast_eps":4,"trend":0.1,"predicted_rps":90,"predicted_upper":100,"observed_rps":-1,"factor":2,"desired_replicas":2,"reason":"predicted","tick":%s,"last_id":"0-0","updated_at":@T@}%s\n' \
    "'" "$NS" "$n" "$t_tick" "'"
done >"$WORK/burst.txt"
t_pub=$(now_ms)
sed -i "s/@T@/$t_pub/" "$WORK/burst.txt"
rcli <"$WORK/burst.txt" >/dev/null
t_sent=$(now_ms)
all_scaled_logged() {
  [ "$(tail -n +"$((scaled_before + 1))" "$WORK/controller.log" | grep -c '"msg":"scaled"')" -ge "$N" ]
}
wait_until "$N scale PATCHes accepted" all_scaled_logged >/dev/null
all_scaled_api() {
  [ "$(count_of "/apis/apps/v1/namespaces/$NS/deployments" \
    '[.items[] | select(.spec.replicas == 2)] | length')" = "$N" ]
}
# An API server drowned in work (the pods the scale-up creates, the
# resyncs) may not answer this list for a while: not fatal.
t_api=$(poll_until 120 all_scaled_api)
api_ms=null
[ "$t_api" = null ] || api_ms=$((t_api - t_pub))
cpu_burst=$(($(cpu_ms) - cpu_before))
rss_after=$(proc VmRSS)
rss_peak=$(proc VmHWM)
reconciles_burst=$(($(metric liftoff_controller_reconciles_total) - reconciles_before))
errors=$(metric liftoff_controller_errors_total)
reconciles_total=$(metric liftoff_controller_reconciles_total)
watch_restarts=$(metric liftoff_controller_watch_restarts_total)
# How hard the API server struggled: requests it gave up on (60 s handler timeout).
api_timeouts=$(grep -c 'Handler timeout' "$LIFTOFF_CLUSTER_DIR/kube-apiserver.log" || true)
run_s=$((($(now_ms) - t_start) / 1000))
tail -n +"$((scaled_before + 1))" "$WORK/controller.log" | grep '"msg":"scaled"' |
  jq -c '{ts, since_publish_ms, since_receive_ms}' >"$WORK/scaled.jsonl"
lat=$(jq -s --argjson t0 "$t_pub" '
  def pct(p): .[((length - 1) * p | floor)];
  ([.[].since_publish_ms] | sort) as $l
  | ([.[].since_receive_ms] | sort) as $r
  | { n: ($l | length), p50: ($l | pct(0.5)), p90: ($l | pct(0.9)), p99: ($l | pct(0.99)),
      max: $l[-1], min: $l[0], recv_p50: ($r | pct(0.5)), recv_p99: ($r | pct(0.99)) }' \
  "$WORK/scaled.jsonl")
last_patch_ms=$(jq -r .max <<<"$lat")
# The decision function's own time: the histogram's cumulative buckets.
decision=$(curl -fsS "http://127.0.0.1:$APORT/metrics" | awk '
  /^liftoff_controller_decision_seconds_bucket/ {
    match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5); b[++n] = le; c[n] = $2 }
  /^liftoff_controller_decision_seconds_count/ { total = $2 }
  /^liftoff_controller_decision_seconds_sum/ { sum = $2 }
  END {
    for (i = 1; i <= n; i++) { if (p50 == "" && c[i] >= total * 0.5) p50 = b[i]; if (p99 == "" && c[i] >= total * 0.99) p99 = b[i] }
    printf "{\"count\":%d,\"mean_us\":%.2f,\"p50_le_s\":\"%s\",\"p99_le_s\":\"%s\"}", total, total ? sum / total * 1e6 : 0, p50, p99 }')

# ---- report
cat <<EOF

liftoff-controller: $N LaunchPolicies on $N Deployments ($NODES kwok nodes, 1 namespace, resync $RESYNC)
  objects created (kubectl create, $CREATE_JOBS in parallel)  $create_ms ms
  first full reconcile, from the process start:
    policies listed                          $(($(date -d "$t_ready" +%s%3N) - t_start)) ms
    all $N policy documents in Redis        $docs_ms ms
    all $N status.observedGeneration set    $full_ms ms   (polled every 0.2 s)
  RSS idle after the first full reconcile    $rss_idle KiB
  burst: $N forecasts PUBLISHed in one pipeline ($((t_sent - t_pub)) ms to send)
    all $N scale PATCHes accepted           $last_patch_ms ms after the PUBLISH (wall)
    all $N visible in the API (.spec.replicas 2)  $api_ms ms (polled; null: the list timed out for 120 s)
    per policy, PUBLISH -> PATCH accepted    p50 $(jq .p50 <<<"$lat") ms, p90 $(jq .p90 <<<"$lat") ms, p99 $(jq .p99 <<<"$lat") ms, max $(jq .max <<<"$lat") ms
    per policy, received -> PATCH accepted   p50 $(jq .recv_p50 <<<"$lat") ms, p99 $(jq .recv_p99 <<<"$lat") ms
    decision function (histogram)            mean $(jq .mean_us <<<"$decision") us, p50 <= $(jq -r .p50_le_s <<<"$decision") s, p99 <= $(jq -r .p99_le_s <<<"$decision") s over $(jq .count <<<"$decision") decisions
    reconciles during the burst              $reconciles_burst
    controller CPU during the burst          $cpu_burst ms
  RSS after the burst                        $rss_after KiB
  RSS peak (VmHWM)                           $rss_peak KiB
  failed API/Redis requests (total)          $errors
  reconciles in the ${run_s} s run            $reconciles_total (resync $RESYNC: every policy each period)
  policy watch restarts                      $watch_restarts
  kube-apiserver handler timeouts (60 s)     $api_timeouts
  for comparison: the HPA controller syncs every 15 s; KEDA polls every 30 s by default
EOF
jq -cn --argjson n "$N" --argjson nodes "$NODES" --arg resync "$RESYNC" \
  --argjson create_ms "$create_ms" --argjson docs_ms "$docs_ms" --argjson full_ms "$full_ms" \
  --argjson rss_idle "$rss_idle" --argjson rss_after "$rss_after" --argjson rss_peak "$rss_peak" \
  --argjson send_ms "$((t_sent - t_pub))" --argjson api_ms "$api_ms" \
  --argjson lat "$lat" --argjson decision "$decision" --argjson cpu "$cpu_burst" \
  --argjson reconciles "$reconciles_burst" --argjson errors "$errors" --argjson run_s "$run_s" --argjson reconciles_total "$reconciles_total" \
  --argjson watch_restarts "$watch_restarts" --argjson api_timeouts "$api_timeouts" \
  '{bench: "controller", policies: $n, deployments: $n, nodes: $nodes, resync: $resync,
    create_ms: $create_ms, first_reconcile: {redis_docs_ms: $docs_ms, observed_generation_ms: $full_ms},
    rss_kib: {idle: $rss_idle, after_burst: $rss_after, peak: $rss_peak},
    burst: {forecasts: $n, send_ms: $send_ms, all_patches_accepted_ms: $lat.max,
            all_visible_in_api_ms: $api_ms, publish_to_patch_ms: $lat,
            decision: $decision, cpu_ms: $cpu, reconciles: $reconciles},
    errors: $errors, run_s: $run_s, reconciles_total: $reconciles_total,
    watch_restarts: $watch_restarts, apiserver_handler_timeouts: $api_timeouts,
    hpa_sync_period_s: 15}'
