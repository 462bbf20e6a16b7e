#!/usr/bin/env bash
# liftoff-controller with nothing but the RBAC the chart grants
# (deploy/rbac/controller.yaml): the manifest is applied with the
# controller's namespace substituted, a token is minted for its
# ServiceAccount (TokenRequest, kubectl create token), and a kubeconfig
# holding only that token and the cluster's CA is built. Checks: the
# ServiceAccount's rights are exactly the listed ones (kubectl auth can-i
# --list, per namespace) and a sample of what it must not do is refused
# (delete or update Deployments, read Secrets, write LaunchPolicy specs,
# leases outside its namespace, ...); the controller, run cluster-wide with
# that kubeconfig against a real redis-server, lists the policies, writes
# the policy document to Redis, takes its leader-election Lease, scales a
# Deployment in another namespace to the forecast, writes the status and
# posts an Event, with no request refused.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/lib_controller.sh
. "$(dirname "$0")/lib_controller.sh"

ctl_work
ctl_setup
ctl_ns=$E2E_NS           # the controller's own namespace (ServiceAccount, Lease)
apps=$E2E_NS-apps        # where the policies and Deployments are
kubectl create namespace "$apps" >/dev/null
on_exit kubectl delete namespace "$apps" --wait=false
sa=system:serviceaccount:$ctl_ns:liftoff-controller

# ---- the manifest, in this test's namespace
sed "s/\bliftoff-system\b/$ctl_ns/g" "$E2E_ROOT/deploy/rbac/controller.yaml" >"$WORK/rbac.yaml"
check "the RBAC manifest applies" kubectl apply -f "$WORK/rbac.yaml"
on_exit kubectl delete -f "$WORK/rbac.yaml" --wait=false

# ---- exactly the listed rights. Non-resource URLs (discovery, /healthz)
# and the self-reviews are what every authenticated user has.
rights() { # namespace -> "resource [verbs]" lines, sorted
  kubectl auth can-i --list --as="$sa" -n "$1" |
    awk 'NR > 1 && $1 !~ /^\[/ && $2 == "[]" { $2 = ""; $3 = ""; print }' | tr -s ' ' | sort
}
common="deployments.apps [get list watch]
deployments.apps/scale [get patch update]
events [create patch]
horizontalpodautoscalers.autoscaling [get list watch patch update]
launchpolicies.liftoff.dev [get list watch]
launchpolicies.liftoff.dev/status [update patch]
pods [get list watch]
selfsubjectaccessreviews.authorization.k8s.io [create]
selfsubjectreviews.authentication.k8s.io [create]
selfsubjectrulesreviews.authorization.k8s.io [create]"
check_eq "rights in a workload namespace: exactly the listed ones" "$common" "$(rights "$apps")"
check_eq "rights in its own namespace: those and leases get/create/update" \
  "$(printf '%s\nleases.coordination.k8s.io [get create update]' "$common" | sort)" \
  "$(rights "$ctl_ns")"

can() { kubectl auth can-i --as="$sa" "$@" >/dev/null; }
check "can watch launchpolicies in all namespaces" can watch launchpolicies.liftoff.dev -A
check "can patch launchpolicies/status" can patch launchpolicies.liftoff.dev --subresource=status -n "$apps"
check "can patch deployments/scale" can patch deployments.apps --subresource=scale -n "$apps"
check "can update an HPA (the predictive floor)" can update horizontalpodautoscalers.autoscaling -n "$apps"
check "can list pods in all namespaces (pre-warm)" can list pods -A
check "can create events" can create events -n "$apps"
check "can update its lease" can update leases.coordination.k8s.io -n "$ctl_ns"
for denied in \
  "delete deployments.apps" "update deployments.apps" "patch deployments.apps" \
  "create deployments.apps" "get secrets" "list secrets" \
  "create launchpolicies.liftoff.dev" "update launchpolicies.liftoff.dev" \
  "patch launchpolicies.liftoff.dev" "delete launchpolicies.liftoff.dev" \
  "delete horizontalpodautoscalers.autoscaling" "create horizontalpodautoscalers.autoscaling" \
  "create pods" "delete pods" "create pods --subresource=exec" \
  "get pods --subresource=log" "delete events" \
  "update configmaps" "create serviceaccounts/token" "get nodes" "list namespaces" \
  "create clusterrolebindings.rbac.authorization.k8s.io" "impersonate users"; do
  # shellcheck disable=SC2086 # verb and resource
  check_fails "cannot $denied" can $denied -n "$apps"
done
check_fails "cannot get leases outside its namespace" can get leases.coordination.k8s.io -n "$apps"
check_fails "cannot delete its lease" can delete leases.coordination.k8s.io -n "$ctl_ns"
check_fails "cannot list leases (get by name only)" can list leases.coordination.k8s.io -n "$ctl_ns"

# ---- a kubeconfig with only the ServiceAccount's token and the CA
token=$(kubectl -n "$ctl_ns" create token liftoff-controller --duration=1h)
check_match "a token is minted (TokenRequest)" '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' "$token"
server=$(kubectl config view --raw --minify -o jsonpath='{.clusters[0].cluster.server}')
ca=$(kubectl config view --raw --minify -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')
restricted=$WORK/restricted.kubeconfig
(
  umask 077
  cat >"$restricted" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: $server
    certificate-authority-data: $ca
users:
- name: liftoff-controller
  user:
    token: $token
contexts:
- name: e2e
  context:
    cluster: e2e
    user: liftoff-controller
    namespace: $ctl_ns
current-context: e2e
EOF
)
check_eq "the restricted kubeconfig authenticates as the ServiceAccount" "$sa" \
  "$(command kubectl --kubeconfig "$restricted" auth whoami -o jsonpath='{.status.userInfo.username}')"
check_fails "the restricted kubeconfig cannot read secrets" \
  command kubectl --kubeconfig "$restricted" -n "$apps" get secrets
check_fails "the restricted kubeconfig cannot delete a Deployment" \
  command kubectl --kubeconfig "$restricted" -n "$apps" delete deployment nothing-here

# ---- the controller with it: lists, writes Redis, scales, status, Event
ctl_deployments "$apps" 2 web
ctl_policy "$apps" rbac web Active 2 8
# Leader election on: the Lease in its own namespace (the context's).
ctl_start "$restricted" --resync 1s --stale-after 30s --hold 30s --leader-elect true
check_eventually "/readyz answers 200 (policies listed with the token)" 30 \
  curl -fsS "http://127.0.0.1:$APORT/readyz"
check_eventually "it holds its Lease in its own namespace" 30 bash -c \
  "[ -n \"\$(kubectl --kubeconfig $KUBECONFIG -n $ctl_ns get lease liftoff-controller -o jsonpath='{.spec.holderIdentity}')\" ]"
check_eventually "policy document in Redis" 10 redis_json "liftoff:policy:$apps:rbac" \
  ".spec.targetRef.name == \"web\" and .namespace == \"$apps\""
check_eventually "status written (observedGeneration)" 10 observed_current "$apps" rbac
ctl_forecast "$apps" rbac 5
check_eventually "replicas rise to the forecast's 5 through deployments/scale" 10 \
  replicas_are "$apps" web 5
check_eventually "status.desiredReplicas 5" 10 status_is "$apps" rbac desiredReplicas 5
check_eventually "an Event ScaledUp is posted" 10 ctl_has_event "$apps" rbac ScaledUp
ctl_forecast "$apps" rbac 3
check_eventually "and down to 3" 10 replicas_are "$apps" web 3
kubectl -n "$apps" patch launchpolicy rbac --type merge -p '{"spec":{"maxReplicas":4}}' >/dev/null
ctl_forecast "$apps" rbac 9
check_eventually "a spec change is watched (forecast 9 clamped to the new maxReplicas 4)" 10 \
  replicas_are "$apps" web 4
check_eq "no failed API or Redis request" 0 "$(ctl_metric liftoff_controller_errors_total)"
check "controller still running" kill -0 "$CTL_PID"
ctl_check_log 'forbidden|"code":403|not posted'
