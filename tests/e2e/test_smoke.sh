#!/usr/bin/env bash
# Smoke test of the local control plane: the server version, pods scheduled
# onto the fake nodes and made Ready by kwok, a CRD's CEL validation rule,
# the pod start-up delay, and helm.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

readonly IMAGE=registry.invalid/liftoff/e2e-smoke:none # kwok never pulls it

# ---- versions
server=$(kubectl version -o json | jq -r '.serverVersion.gitVersion')
check_match "server version is v1.36.x" '^v1\.36\.[0-9]+$' "$server"
client=$(kubectl version --client -o json | jq -r '.clientVersion.gitVersion')
check_eq "kubectl is the cluster's own version" "$server" "$client"
check_match "helm reports v3.22.0" '^v3\.22\.0(\+|$)' "$(helm version --short)"
check "helm lists releases in the cluster" helm list --all-namespaces

# ---- fake nodes
nodes=$(cluster_setting LIFTOFF_NODES)
ready_nodes() {
  kubectl get nodes -l type=kwok \
    -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' |
    grep -cx True
}
check_eq "all $nodes fake nodes are Ready" "$nodes" "$(ready_nodes || true)"
check_eq "fake nodes offer 32 CPUs" 32 \
  "$(kubectl get node kwok-node-0 -o jsonpath='{.status.allocatable.cpu}')"

e2e_namespace
ns=$E2E_NS
delay_ms=$(cluster_setting LIFTOFF_POD_STARTUP_MS)
ready_timeout=$((60 + delay_ms / 1000))

# ---- a Deployment is scheduled and runs on the fake nodes
replicas=4
kubectl -n "$ns" create deployment web --image="$IMAGE" --replicas="$replicas" >/dev/null
deployment_ready() {
  [ "$(kubectl -n "$ns" get deployment web -o jsonpath='{.status.readyReplicas}')" = "$replicas" ]
}
check_eventually "deployment has $replicas ready replicas" "$ready_timeout" deployment_ready

pods=$(kubectl -n "$ns" get pods -l app=web -o json)
check_eq "$replicas pods are Running" "$replicas" \
  "$(jq '[.items[] | select(.status.phase == "Running")] | length' <<<"$pods")"
check_eq "$replicas pods are Ready" "$replicas" \
  "$(jq '[.items[] | select(any(.status.conditions[]; .type == "Ready" and .status == "True"))] | length' <<<"$pods")"
check_eq "every pod is on a fake node" "$replicas" \
  "$(jq '[.items[] | select(.spec.nodeName // "" | startswith("kwok-node-"))] | length' <<<"$pods")"
check_eq "every pod has an IP" "$replicas" \
  "$(jq '[.items[] | select((.status.podIP // "") != "")] | length' <<<"$pods")"

# ---- a CRD with a CEL validation rule
crd=ranges.e2e.liftoff.test
kubectl apply -f "$E2E_DATA/smoke-crd.yaml" >/dev/null
on_exit kubectl delete crd "$crd" --wait=false
check "CRD becomes Established" \
  kubectl wait --for condition=Established --timeout=30s "crd/$crd"
check "a good object is accepted" kubectl -n "$ns" apply -f "$E2E_DATA/range-good.yaml"
check_eq "the good object is stored" 5 \
  "$(kubectl -n "$ns" get range good -o jsonpath='{.spec.max}' 2>&1)"
bad_out=$(kubectl -n "$ns" apply -f "$E2E_DATA/range-bad.yaml" 2>&1) && bad_rc=0 || bad_rc=$?
check "a bad object is rejected" test "$bad_rc" -ne 0
check_contains "the rejection carries the rule's message" "min must not exceed max" "$bad_out"
check_fails "the bad object is not stored" kubectl -n "$ns" get range bad

# ---- pod start-up delay
pod_ready() { # name
  [ "$(kubectl -n "$ns" get pod "$1" \
    -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]
}
pod_scheduled() { # name
  [ -n "$(kubectl -n "$ns" get pod "$1" -o jsonpath='{.spec.nodeName}')" ]
}
# Creates a pod, waits until it is on a node, checks that it is not Ready
# yet, then that it becomes Ready and how long that took.
check_slow_start() { # name delay-ms what [kubectl run args...]
  local name=$1 ms=$2 what=$3 t0 elapsed
  shift 3
  t0=$(now_ms)
  kubectl -n "$ns" run "$name" --image="$IMAGE" --restart=Never "$@" >/dev/null
  check_eventually "$what: pod is scheduled" 30 pod_scheduled "$name"
  check_fails "$what: pod is not Ready right after scheduling" pod_ready "$name"
  check_eventually "$what: pod becomes Ready" $((60 + ms / 1000)) pod_ready "$name"
  elapsed=$(($(now_ms) - t0))
  # Loose on purpose: only that the delay was applied, not how precisely.
  check "$what: Ready took at least half the delay (${elapsed} ms)" test "$elapsed" -ge $((ms / 2))
}

# The cluster-wide delay: `up` on a running cluster restarts kwok with it.
slow_ms=3000
restore_ms=$delay_ms
on_exit env LIFTOFF_POD_STARTUP_MS="$restore_ms" bash "$E2E_ROOT/hack/cluster.sh" up
check "cluster takes LIFTOFF_POD_STARTUP_MS=$slow_ms" \
  env LIFTOFF_POD_STARTUP_MS="$slow_ms" bash "$E2E_ROOT/hack/cluster.sh" up
check_eq "the cluster records the new delay" "$slow_ms" "$(cluster_setting LIFTOFF_POD_STARTUP_MS)"
check_slow_start slow "$slow_ms" "LIFTOFF_POD_STARTUP_MS=$slow_ms"

# Per pod, an annotation overrides the cluster's delay.
check "cluster back to its own delay" \
  env LIFTOFF_POD_STARTUP_MS="$restore_ms" bash "$E2E_ROOT/hack/cluster.sh" up
check_slow_start annotated "$slow_ms" "annotation delay 3s" \
  --annotations=pod-ready.stage.kwok.x-k8s.io/delay=3s
