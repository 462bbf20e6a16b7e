#!/usr/bin/env bash
# HPA coexistence of liftoff-controller against the real kube-apiserver and
# kube-controller-manager (whose HPA controller runs; with no metrics API
# it cannot compute a utilisation, but it still enforces minReplicas).
# A Deployment scaled by an autoscaling/v2 HPA (minReplicas 1) and a
# LaunchPolicy on it: forecasts move the HPA's minReplicas (the predictive
# floor, the original kept in the liftoff.dev/original-min-replicas
# annotation), never the Deployment's replicas (no managedFields entry of
# liftoff's, no "scaled" log line, liftoff_controller_scales_total 0);
# status and Events say it acted through the HPA; the floor never exceeds
# the HPA's maxReplicas; Paused and DryRun give the floor back; deleting
# the policy restores the original minReplicas.
#
# The binary is $LIFTOFF_BIN/liftoff-controller (default: bin/).
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/lib_controller.sh
. "$(dirname "$0")/lib_controller.sh"

readonly ANN=liftoff.dev/original-min-replicas
ctl_work
ctl_setup
ns=$E2E_NS
ctl_deployments "$ns" 1 web
kubectl -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web-hpa
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
  minReplicas: 1
  maxReplicas: 8
  metrics:
  - type: Resource
    resource:
      name: cpu
      target:
        type: Utilization
        averageUtilization: 50
YAML

# Tests run with leader election on (the Lease in the test's namespace).
ctl_start "$KUBECONFIG" --namespace "$ns" --resync 1s --stale-after 60s --hold 60s \
  --leader-elect=true --leader-elect-lease-namespace "$ns" --leader-elect-retry-period 1s
check_eventually "/readyz answers 200 (policies and HPAs listed)" 30 \
  curl -fsS "http://127.0.0.1:$APORT/readyz"

hpa_min() { kubectl -n "$ns" get hpa web-hpa -o jsonpath='{.spec.minReplicas}'; }
hpa_min_is() { [ "$(hpa_min)" = "$1" ]; }
hpa_ann() { kubectl -n "$ns" get hpa web-hpa -o json | jq -r --arg a "$ANN" '.metadata.annotations[$a] // "none"'; }
hpa_ann_is() { [ "$(hpa_ann)" = "$1" ]; }
cond() { ctl_cond "$ns" "$@"; } # policy type field
cond_reason_is() { [ "$(cond "$1" Scaling reason)" = "$2" ]; }
event_msgs() { ctl_events "$ns" hp "$1"; } # reason
has_event() { ctl_has_event "$ns" hp "$1"; }

# ---- Active: the forecast raises the HPA's minReplicas
ctl_policy "$ns" hp web Active 1 20
check_eventually "policy document in Redis" 10 redis_json "liftoff:policy:$ns:hp" '.name == "hp"'
ctl_forecast "$ns" hp 5
check_eventually "forecast 5: HPA minReplicas raised to 5" 15 hpa_min_is 5
check_eq "the original minReplicas is kept in $ANN" 1 "$(hpa_ann)"
# (Scaling is True/FloorRaised right after the change, then False/AtDesired
# at the next reconcile: the Event is what stays.)
cond_msg_has() { [[ "$(cond "$1" Scaling message)" == *"$2"* ]]; }
check_eventually "status: Scaling names the HPA and its floor" 10 \
  cond_msg_has hp "HorizontalPodAutoscaler web-hpa minReplicas 5;"
check_contains "status: Ready names the HPA" "through HorizontalPodAutoscaler web-hpa" \
  "$(cond hp Ready message)"
check_eventually "an Event FloorRaised" 10 has_event FloorRaised
check_contains "the Event says what changed" \
  "HorizontalPodAutoscaler web-hpa minReplicas 1 -> 5 (it scales Deployment web): predicted" \
  "$(event_msgs FloorRaised)"
# The HPA controller, not liftoff, brings the Deployment up to its new
# minimum (it syncs every 15 s).
check_eventually "the HPA controller scales the Deployment to the floor" 60 replicas_are "$ns" web 5

ctl_forecast "$ns" hp 50
check_eventually "forecast 50: the floor stops at the HPA's maxReplicas 8" 15 hpa_min_is 8
ctl_forecast "$ns" hp 3
check_eventually "forecast 3: HPA minReplicas lowered to 3" 15 hpa_min_is 3
check_eventually "an Event FloorLowered" 10 has_event FloorLowered
check_eq "the annotation still holds the original" 1 "$(hpa_ann)"

# ---- Paused and DryRun give the floor back
ctl_forecast "$ns" hp 6
check_eventually "HPA minReplicas 6" 15 hpa_min_is 6
ctl_policy "$ns" hp web Paused 1 20
check_eventually "Paused: HPA minReplicas restored to 1" 15 hpa_min_is 1
check_eventually "Paused: the annotation is removed" 10 hpa_ann_is none
check_eventually "Paused: an Event FloorRestored" 10 has_event FloorRestored
check_eventually "Paused: status Scaling False Paused" 10 cond_reason_is hp Paused
ctl_forecast "$ns" hp 6
sleep 3 # resyncs
check_eq "Paused: the floor stays off" 1 "$(hpa_min)"
ctl_policy "$ns" hp web Active 1 20
check_eventually "Active again: HPA minReplicas 6" 15 hpa_min_is 6
ctl_policy "$ns" hp web DryRun 1 20
check_eventually "DryRun: HPA minReplicas restored to 1" 15 hpa_min_is 1
check_eq "DryRun: the annotation is removed" none "$(hpa_ann)"

# ---- deleting the policy restores the original
ctl_policy "$ns" hp web Active 1 20
ctl_forecast "$ns" hp 4
check_eventually "Active again: HPA minReplicas 4" 15 hpa_min_is 4
kubectl -n "$ns" delete launchpolicy hp >/dev/null
check_eventually "policy deleted: HPA minReplicas restored to 1" 15 hpa_min_is 1
check_eventually "policy deleted: the annotation is removed" 10 hpa_ann_is none

# ---- liftoff never wrote the Deployment's replicas (manager "liftoff", its
# user agent); test_controller_leader.sh checks that a scale by liftoff does
# make such an entry.
check_eq "no managedFields entry of liftoff's owns the Deployment's replicas" 0 \
  "$(ctl_replicas_owners "$ns" web)"
check_eq "the controller logged no scale of the Deployment" 0 \
  "$(grep -c '"msg":"scaled"' "$WORK/controller.log" || true)"
check_eq "liftoff_controller_scales_total is 0" 0 "$(ctl_metric liftoff_controller_scales_total)"
check_match "liftoff_controller_hpa_floor_patches_total counts the HPA writes" '^[1-9]' \
  "$(ctl_metric liftoff_controller_hpa_floor_patches_total)"
check "controller still running" kill -0 "$CTL_PID"
ctl_check_log "" # no extra pattern
