#!/usr/bin/env bash
# liftoff-controller pre-warming against the real kube-apiserver (kwok), a
# real redis-server and real liftoff-sidecars in front of a small origin.
#
# kwok's pods have no network of their own, so the pods here are
# hostNetwork pods on kwok nodes this test registers with loopback
# InternalIPs (127.0.0.1, ::1, 127.0.0.3, 127.0.0.4): kwok gives a
# hostNetwork pod its node's address as status.podIP, and the controller
# reaches "the pod" at that address. The nodes are tainted so no other
# pods land on them, and are deleted at the end.
#
#   127.0.0.1, ::1   a liftoff-sidecar each (admin port = the policy's),
#                    in front of one origin that logs every request
#   127.0.0.3        a listener that accepts and never answers
#   127.0.0.4        nothing: connections are refused
#
# Checks: a forecast factor over thresholdFactor warms both pods' sidecars
# (origin log, sidecar /metrics) once, with status.lastPrewarm and a
# Prewarmed Event; not again while it stays high; again after a cooldown
# below it. launchAt - prewarmBefore warms once (not before its time), and
# a new launchAt warms again. DryRun reports the pods and POSTs nothing;
# Paused does nothing. A pod that never answers does not hold up scaling
# and ends as PrewarmFailed at the deadline; a refused one at once.
#
# The binaries are $LIFTOFF_BIN/liftoff-controller and liftoff-sidecar
# (default: bin/).
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

# shellcheck source=tests/e2e/lib_controller.sh
. "$(dirname "$0")/lib_controller.sh"

SIDECAR=$CTL_BIN_DIR/liftoff-sidecar
ctl_work "$SIDECAR"
# Every address used here (the sidecars' admin port is the same on all).
readonly ADDRS=(127.0.0.1 127.0.0.3 127.0.0.4 ::1)
# The forecast hashes here never expire: the restart at the end reads them.
CTL_FORECAST_TTL_MS=0

# ---- the origin: serves every path, logs each request line
OPORT=$(free_port)
cat >"$WORK/origin.py" <<'EOF'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = ("origin " + self.path + "\n").encode()
        with open(sys.argv[2], "a") as f:
            f.write(self.command + " " + self.path + "\n")
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
: >"$WORK/origin-access.log"
python3 "$WORK/origin.py" "$OPORT" "$WORK/origin-access.log" 2>"$WORK/origin.log" &
on_exit kill $!
wait_for 10 curl -fsS "http://127.0.0.1:$OPORT/healthz" ||
  { echo "e2e: the origin did not start" >&2; exit 1; }
: >"$WORK/origin-access.log"
fetched() { grep -cx "GET $1" "$WORK/origin-access.log" || true; }
fetched_is() { [ "$(fetched "$1")" = "$2" ]; }

# ---- two sidecars, one on 127.0.0.1 and one on ::1, same admin port
ADMIN=$(free_port "${ADDRS[@]}")
cat >"$WORK/sidecar.json" <<'EOF'
{"routes": [{"match": {"prefix": "/"}, "mode": "override", "maxAge": 60,
             "microCache": {"enabled": true, "ttlSeconds": 600}}]}
EOF
"$SIDECAR" --listen "127.0.0.1:$(free_port)" --upstream "127.0.0.1:$OPORT" \
  --admin "127.0.0.1:$ADMIN" --config "$WORK/sidecar.json" 2>"$WORK/sidecar-v4.log" &
on_exit kill $!
"$SIDECAR" --listen "[::1]:$(free_port ::1)" --upstream "127.0.0.1:$OPORT" \
  --admin "[::1]:$ADMIN" --config "$WORK/sidecar.json" 2>"$WORK/sidecar-v6.log" &
on_exit kill $!
check_eventually "sidecar on 127.0.0.1 answers on its admin port" 10 \
  curl -fsS "http://127.0.0.1:$ADMIN/healthz"
check_eventually "sidecar on ::1 answers on its admin port" 10 \
  curl -fsS "http://[::1]:$ADMIN/healthz"
cache_entries() { # host
  curl -fsS "http://$1:$ADMIN/metrics" | awk '$1 == "liftoff_sidecar_cache_entries" { print $2 }'
}
cache_entries_are() { [ "$(cache_entries "$1")" = "$2" ]; }

# ---- a listener on 127.0.0.3 that accepts and never answers
cat >"$WORK/hold.py" <<'EOF'
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.3", int(sys.argv[1])))
s.listen(64)
conns = []
while True:
    c, _ = s.accept()
    conns.append(c)   # read nothing, answer nothing
EOF
python3 "$WORK/hold.py" "$ADMIN" 2>"$WORK/hold.log" &
HOLD_PID=$!
on_exit kill "$HOLD_PID"

# ---- Redis, CRD, namespace, loopback nodes
ctl_setup "CRD becomes Established"
ns=$E2E_NS

node() { # name address pool
  kubectl apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Node
metadata:
  name: $1
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: $1
    kubernetes.io/os: linux
    type: kwok-loopback
    liftoff-e2e-pool: $3
spec:
  taints:
  - key: liftoff.dev/e2e-loopback
    value: "true"
    effect: NoSchedule
status:
  addresses:
  - type: InternalIP
    address: "$2"
  - type: Hostname
    address: $1
  capacity: {cpu: "32", memory: 256Gi, pods: "110"}
  allocatable: {cpu: "32", memory: 256Gi, pods: "110"}
YAML
  on_exit kubectl delete node "$1" --wait=false
}
node "$ns-v4" 127.0.0.1 "$ns-warm"
node "$ns-v6" ::1 "$ns-warm"
node "$ns-hold" 127.0.0.3 "$ns-hold"
node "$ns-refused" 127.0.0.4 "$ns-refused"
node_ready() {
  [ "$(kubectl get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]
}
for n in v4 v6 hold refused; do
  check_eventually "loopback node $n Ready" 30 node_ready "$ns-$n"
done
check_eq "the node keeps its loopback InternalIP" "::1" \
  "$(kubectl get node "$ns-v6" -o jsonpath='{.status.addresses[?(@.type=="InternalIP")].address}')"

deployment() { # name replicas pool
  kubectl -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $1
spec:
  replicas: $2
  selector:
    matchLabels: {app: $1}
  template:
    metadata:
      labels: {app: $1}
    spec:
      hostNetwork: true
      nodeSelector: {liftoff-e2e-pool: $3}
      tolerations:
      - {key: liftoff.dev/e2e-loopback, operator: Exists, effect: NoSchedule}
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector:
              matchLabels: {app: $1}
            topologyKey: kubernetes.io/hostname
      containers:
      - {name: app, image: "$CTL_IMAGE"}
YAML
}
pod_ips() { # deployment -> sorted ready pod IPs, one line
  kubectl -n "$ns" get pods -l "app=$1" -o json |
    jq -r '[.items[] | select(.status.conditions // [] | any(.type == "Ready" and .status == "True"))
            | .status.podIP] | sort | join(" ")'
}
pod_ips_are() { [ "$(pod_ips "$1")" = "$2" ]; }
deployment web 2 "$ns-warm"
deployment web-sched 1 "$ns-warm"
deployment web-slow 1 "$ns-hold"
deployment web-hold 1 "$ns-hold"
deployment web-refused 1 "$ns-refused"
check_eventually "web's pods run on the loopback nodes (127.0.0.1 and ::1)" 60 \
  pod_ips_are web "127.0.0.1 ::1"
for d in web-sched:. web-slow:127.0.0.3 web-hold:127.0.0.3 web-refused:127.0.0.4; do
  check_eventually "${d%%:*} has a ready pod" 60 bash -c \
    "[[ \"\$(kubectl --kubeconfig $KUBECONFIG -n $ns get pods -l app=${d%%:*} -o jsonpath='{.items[*].status.podIP}')\" =~ ^${d#*:} ]]"
done

# ---- the controller
ctl_args=(--namespace "$ns" --resync 1s --stale-after 4s --hold 3s)
ctl_start "$KUBECONFIG" "${ctl_args[@]}"
check_eventually "controller /readyz answers 200" 30 curl -fsS "http://127.0.0.1:$APORT/readyz"

policy() { # name target mode min max prewarm-yaml [schedule-yaml]
  ctl_policy "$ns" "$1" "$2" "$3" "$4" "$5" "prewarm: $6" "schedule: ${7:-"{}"}"
}
forecast() { ctl_forecast "$ns" "$1" "$2" "$3"; } # policy desired factor

lp() { kubectl -n "$ns" get launchpolicy "$1" -o json; }
last() { lp "$1" | jq -r ".status.lastPrewarm$2 // \"\""; }
last_is() { [ "$(last "$1" "$2")" = "$3" ]; }
events() { ctl_event_count "$ns" "$1" "$2"; } # policy reason -> count
events_are() { [ "$(events "$1" "$2")" = "$3" ]; }
event_messages() { ctl_events "$ns" "$1" "$2" '"\(.type) \(.message)"'; } # policy reason

# ---- threshold: a crossing warms every ready pod, once
policy warm web Active 2 2 \
  "{paths: [/launch, \"/api/product?id=42\"], adminPort: $ADMIN, thresholdFactor: 5, cooldownSeconds: 3, timeoutSeconds: 10}"
forecast warm 2 2
sleep 2
check_eq "factor 2 < thresholdFactor 5: no pre-warm" "" "$(last warm .trigger)"
check_eq "factor 2: the origin saw no /launch" 0 "$(fetched /launch)"
forecast warm 2 18
check_eventually "factor 18: an Event Prewarmed" 15 events_are warm Prewarmed 1
check_eq "status.lastPrewarm.trigger" Threshold "$(last warm .trigger)"
check_eq "status.lastPrewarm: 2 pods, 2 succeeded, 0 failed, 2 paths" "2 2 0 2" \
  "$(lp warm | jq -r '.status.lastPrewarm | "\(.pods) \(.succeeded) \(.failed) \(.paths)"')"
check_match "status.lastPrewarmTime set" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T' \
  "$(lp warm | jq -r '.status.lastPrewarmTime // ""')"
check_contains "the Event says what was warmed" "Normal Threshold: 2 paths warmed on 2 pods of Deployment web" \
  "$(event_messages warm Prewarmed)"
check_eventually "each sidecar fetched both paths: the origin saw /launch twice" 10 fetched_is /launch 2
check_eq "and /api/product?id=42 twice" 2 "$(fetched '/api/product?id=42')"
check_eventually "the IPv4 sidecar's micro-cache holds both paths" 10 cache_entries_are 127.0.0.1 2
check_eventually "the IPv6 sidecar's micro-cache holds both paths" 10 cache_entries_are "[::1]" 2
forecast warm 2 18
sleep 1
forecast warm 2 20
sleep 2
check_eq "still over the threshold: no second round" 1 "$(events warm Prewarmed)"
check_eq "still over the threshold: the origin saw /launch only twice" 2 "$(fetched /launch)"
# Below the threshold for longer than cooldownSeconds (3 s), kept fresh.
for _ in 1 2 3 4 5; do
  forecast warm 2 1
  sleep 1
done
forecast warm 2 18
check_eventually "a new crossing after the cooldown warms again" 15 events_are warm Prewarmed 2
check_eventually "the origin saw /launch four times" 10 fetched_is /launch 4

# ---- schedule: at launchAt - prewarmBefore, once per launchAt
launch_at=$(date -u -d "@$(($(date +%s) + 9))" +%Y-%m-%dT%H:%M:%SZ)
policy sched web-sched Active 1 1 \
  "{paths: [/sched], adminPort: $ADMIN, thresholdFactor: 1000}" \
  "{launchAt: \"$launch_at\", prewarmBefore: 5s}"
check_eventually "launchAt - prewarmBefore: an Event Prewarmed" 20 events_are sched Prewarmed 1
check_eq "status.lastPrewarm.trigger" Schedule "$(last sched .trigger)"
check_eq "status.lastPrewarm.launchAt is the spec's" "$launch_at" "$(last sched .launchAt)"
due=$(($(date -d "$launch_at" +%s) - 5))
check "not before launchAt - prewarmBefore" \
  test "$(date -d "$(last sched .time)" +%s)" -ge "$due"
check_eventually "the origin saw /sched once" 10 fetched_is /sched 1
sleep 2
check_eq "once per launch: no second round" 1 "$(events sched Prewarmed)"
launch_at=$(date -u -d "@$(($(date +%s) + 60))" +%Y-%m-%dT%H:%M:%SZ)
policy sched web-sched Active 1 1 \
  "{paths: [/sched], adminPort: $ADMIN, thresholdFactor: 1000}" \
  "{launchAt: \"$launch_at\", prewarmBefore: 5m}"
check_eventually "a new launchAt warms again" 15 events_are sched Prewarmed 2
check_eq "status.lastPrewarm.launchAt follows" "$launch_at" "$(last sched .launchAt)"
check_eventually "the origin saw /sched twice" 10 fetched_is /sched 2

# ---- DryRun reports, Paused does nothing
policy dry web-sched DryRun 1 1 "{paths: [/dry], adminPort: $ADMIN}" \
  "{launchAt: \"$launch_at\", prewarmBefore: 10m}"
policy paused web-sched Paused 1 1 "{paths: [/paused], adminPort: $ADMIN}" \
  "{launchAt: \"$launch_at\", prewarmBefore: 10m}"
check_eventually "DryRun: an Event PrewarmDryRun" 15 events_are dry PrewarmDryRun 1
check_eq "DryRun: status.lastPrewarm.dryRun" true "$(last dry .dryRun)"
check_match "DryRun: the status names the pod it would ask" \
  "would POST 1 paths to /warm on port $ADMIN of 1 pods: web-sched-[a-z0-9-]+ \\((127\\.0\\.0\\.1|::1)\\)" \
  "$(last dry .message)"
check_eq "DryRun: no lastPrewarmTime" "" "$(lp dry | jq -r '.status.lastPrewarmTime // ""')"
sleep 2
check_eq "DryRun: nothing POSTed (the origin never saw /dry)" 0 "$(fetched /dry)"
check_eq "Paused: no status.lastPrewarm" "" "$(last paused .trigger)"
check_eq "Paused: no Event" "0 0" "$(events paused Prewarmed) $(events paused PrewarmDryRun)"
check_eq "Paused: the origin never saw /paused" 0 "$(fetched /paused)"

# ---- a pod that never answers: the deadline, and scaling goes on meanwhile
policy deadline web-slow Active 1 1 "{paths: [/slow], adminPort: $ADMIN, timeoutSeconds: 1}"
forecast deadline 1 18
check_eventually "deadline: an Event PrewarmFailed" 15 events_are deadline PrewarmFailed 1
check_contains "deadline: the message names the pod's address and the timeout" "(127.0.0.3): " \
  "$(last deadline .message)"
check_match "deadline: curl's timeout" "[Tt]imed out" "$(last deadline .message)"
check_eq "deadline: status 1 pod, 0 succeeded, 1 failed" "1 0 1" \
  "$(lp deadline | jq -r '.status.lastPrewarm | "\(.pods) \(.succeeded) \(.failed)"')"
check_match "deadline: the Event is a Warning" '^Warning ' "$(event_messages deadline PrewarmFailed)"

policy hold web-hold Active 1 6 "{paths: [/hold], adminPort: $ADMIN, timeoutSeconds: 300}"
forecast hold 3 18
check_eventually "round in flight: replicas still follow the forecast (3)" 15 replicas_are "$ns" web-hold 3
forecast hold 4 18
check_eventually "round in flight: and again (4)" 15 replicas_are "$ns" web-hold 4
check_eventually "round in flight: status.desiredReplicas 4" 15 \
  status_is "$ns" hold desiredReplicas 4
check_eq "round in flight: no result yet" "" "$(last hold .trigger)"
kill "$HOLD_PID"
wait "$HOLD_PID" 2>/dev/null || true
check_eventually "listener gone: an Event PrewarmFailed" 15 events_are hold PrewarmFailed 1
check_eq "listener gone: 1 pod failed" "1 0 1" \
  "$(lp hold | jq -r '.status.lastPrewarm | "\(.pods) \(.succeeded) \(.failed)"')"

policy refused web-refused Active 1 1 "{paths: [/refused], adminPort: $ADMIN}"
forecast refused 1 18
check_eventually "refused: an Event PrewarmFailed" 15 events_are refused PrewarmFailed 1
check_contains "refused: the message names the pod's address" "(127.0.0.4): " \
  "$(last refused .message)"

# ---- metrics, and a restart does not repeat a round
metrics=$(curl -fsS "http://127.0.0.1:$APORT/metrics")
check_match "/metrics counts pre-warm rounds" 'liftoff_controller_prewarm_rounds_total ([6-9]|[1-9][0-9])' "$metrics"
check_match "/metrics counts failed rounds" 'liftoff_controller_prewarm_failures_total 3' "$metrics"
check_match "/metrics counts warmed pods" 'liftoff_controller_prewarm_pods_warmed_total ([6-9]|[1-9][0-9])' "$metrics"
kill "$CTL_PID"
wait "$CTL_PID" 2>/dev/null || true
ctl_start "$KUBECONFIG" "${ctl_args[@]}"
check_eventually "restarted controller ready" 30 curl -fsS "http://127.0.0.1:$APORT/readyz"
forecast warm 2 18
sleep 3
check_eq "after a restart: the scheduled round is not repeated" 2 "$(events sched Prewarmed)"
check_eq "after a restart: the threshold round is not repeated" 2 "$(events warm Prewarmed)"
check_eq "after a restart: status.lastPrewarm kept" Threshold "$(last warm .trigger)"

check "controller still running" kill -0 "$CTL_PID"
ctl_check_log ""
