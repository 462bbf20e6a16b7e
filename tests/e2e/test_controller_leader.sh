#!/usr/bin/env bash
# Leader election of liftoff-controller on a coordination.k8s.io/v1 Lease,
# against the real kube-apiserver: two controller processes on the same
# policies and Redis. Checks: exactly one holds the Lease and reports
# liftoff_controller_leader 1 (the other 0, both /readyz 200); only the
# leader scales, writes status and Redis documents; kill -9 of the leader
# -> the follower takes the Lease once it expires and scales; SIGTERM of the
# leader -> it releases the Lease and the follower takes over without
# waiting for the expiry (the Lease there lasts 60 s). Prints (does not
# assert) the handover times.
#
# The binary is $LIFTOFF_BIN/liftoff-controller (default: bin/).
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/e2e/lib_controller.sh
. "$(dirname "$0")/lib_controller.sh"

ctl_work
ctl_setup
ns=$E2E_NS
ctl_deployments "$ns" 2 web
ctl_policy "$ns" active web Active 2 10

declare -A PID PORT
# One candidate: identity NAME on Lease LEASE; log in $WORK/NAME.log.
candidate() { # name lease extra-args...
  local name=$1 lease=$2
  shift 2
  CTL_NAME=$name ctl_start "$KUBECONFIG" --namespace "$ns" \
    --resync 1s --stale-after 60s --hold 60s \
    --leader-elect=true --leader-elect-lease-name "$lease" \
    --leader-elect-lease-namespace "$ns" --leader-elect-identity "$name" "$@"
  PORT[$name]=$APORT
  PID[$name]=$CTL_PID
}
metric_of() { ctl_metric "$2" "${PORT[$1]}"; } # name metric
holder() { kubectl -n "$ns" get lease "$1" -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }
holder_in() { # lease names...
  local h
  h=$(holder "$1")
  shift
  for n in "$@"; do [ "$h" = "$n" ] && return 0; done
  return 1
}
holder_is() { [ "$(holder "$1")" = "$2" ]; }
scaled_lines() { grep -c '"msg":"scaled"' "$WORK/$1.log" || true; }

# ---- two candidates, a short Lease (4 s) for the kill -9 case
fast=(--leader-elect-lease-duration 4s --leader-elect-renew-deadline 3s
  --leader-elect-retry-period 1s)
candidate ctl-a liftoff-fast "${fast[@]}"
candidate ctl-b liftoff-fast "${fast[@]}"
check_eventually "ctl-a ready" 30 curl -fsS "http://127.0.0.1:${PORT[ctl-a]}/readyz"
check_eventually "ctl-b ready" 30 curl -fsS "http://127.0.0.1:${PORT[ctl-b]}/readyz"
check_eventually "one of the two holds the Lease" 30 holder_in liftoff-fast ctl-a ctl-b
leader=$(holder liftoff-fast)
if [ "$leader" = ctl-a ]; then follower=ctl-b; else follower=ctl-a; fi
echo "  note  leader $leader, follower $follower"
check_eventually "the leader reports liftoff_controller_leader 1" 10 \
  ctl_metric_is liftoff_controller_leader 1 "${PORT[$leader]}"
check_eq "the follower reports liftoff_controller_leader 0" 0 "$(metric_of "$follower" liftoff_controller_leader)"
check_eq "/readyz on the leader" "ready: leader" "$(curl -fsS "http://127.0.0.1:${PORT[$leader]}/readyz")"
check_eq "/readyz on the follower" "ready: follower" "$(curl -fsS "http://127.0.0.1:${PORT[$follower]}/readyz")"

check_eventually "policy document in Redis (written by the leader)" 10 \
  redis_json "liftoff:policy:$ns:active" '.spec.targetRef.name == "web"'
ctl_forecast "$ns" active 5
check_eventually "replicas rise to the forecast's 5" 15 replicas_are "$ns" web 5
check_eventually "status written" 10 status_is "$ns" active desiredReplicas 5
# (the control of test_controller_hpa.sh's check that liftoff never owns
# the replicas of a Deployment an HPA scales)
check_eq "a scale by liftoff shows in managedFields (manager liftoff)" 1 \
  "$(ctl_replicas_owners "$ns" web)"
sleep 3 # several renewals and resyncs on both
check_eq "the Lease stayed with the leader" "$leader" "$(holder liftoff-fast)"
check_eq "the follower still reports 0" 0 "$(metric_of "$follower" liftoff_controller_leader)"
check_match "the leader scaled" '^[1-9]' "$(scaled_lines "$leader")"
check_eq "the follower never scaled" 0 "$(scaled_lines "$follower")"
check_eq "the follower counts no scales" 0 "$(metric_of "$follower" liftoff_controller_scales_total)"
check_eq "the follower wrote no policy documents" 0 \
  "$(metric_of "$follower" liftoff_controller_policy_writes_total)"
check_eq "the follower started no reconciles" 0 \
  "$(metric_of "$follower" liftoff_controller_reconciles_total)"

# ---- kill -9 of the leader: the follower takes over once the Lease expires
t0=$(now_ms)
kill -9 "${PID[$leader]}"
wait "${PID[$leader]}" 2>/dev/null || true
check_eventually "after kill -9 the follower holds the Lease" 30 holder_is liftoff-fast "$follower"
echo "  note  kill -9 -> follower holds the Lease: $(($(now_ms) - t0)) ms (lease 4 s, retry 1 s)"
check_eventually "the new leader reports liftoff_controller_leader 1" 10 \
  ctl_metric_is liftoff_controller_leader 1 "${PORT[$follower]}"
check_match "the Lease counts the transition" '^[1-9]' \
  "$(kubectl -n "$ns" get lease liftoff-fast -o jsonpath='{.spec.leaseTransitions}')"
ctl_forecast "$ns" active 7
check_eventually "the new leader scales to 7" 15 replicas_are "$ns" web 7
check_match "the new leader logged the scale" '^[1-9]' "$(scaled_lines "$follower")"
survivor=$follower

# ---- SIGTERM: the leader releases the Lease, the follower need not wait
# for the expiry (60 s here)
kill "${PID[$survivor]}"
wait "${PID[$survivor]}" 2>/dev/null || true
slow=(--leader-elect-lease-duration 60s --leader-elect-renew-deadline 10s
  --leader-elect-retry-period 1s)
candidate ctl-c liftoff-slow "${slow[@]}"
candidate ctl-d liftoff-slow "${slow[@]}"
check_eventually "one of the next two holds the second Lease" 30 holder_in liftoff-slow ctl-c ctl-d
leader=$(holder liftoff-slow)
if [ "$leader" = ctl-c ]; then follower=ctl-d; else follower=ctl-c; fi
check_eventually "the follower is ready" 30 curl -fsS "http://127.0.0.1:${PORT[$follower]}/readyz"
t0=$(now_ms)
kill -TERM "${PID[$leader]}"
rc=0
wait "${PID[$leader]}" 2>/dev/null || rc=$?
check_eq "the leader exits 0 on SIGTERM" 0 "$rc"
check "the leader logged the release" grep -q '"msg":"released"' "$WORK/$leader.log"
check_eventually "after SIGTERM the follower holds the Lease before it could expire" 30 \
  holder_is liftoff-slow "$follower"
echo "  note  SIGTERM -> follower holds the Lease: $(($(now_ms) - t0)) ms (lease 60 s, retry 1 s)"
ctl_forecast "$ns" active 4
check_eventually "the new leader scales to 4" 15 replicas_are "$ns" web 4

for n in ctl-a ctl-b ctl-c ctl-d; do
  ctl_check_log "" "$n"
done
