#!/usr/bin/env bash
# The LaunchPolicy CRD on the real API server: it is accepted and becomes
# Established; every schema field carries a description (kubectl explain);
# the valid samples in examples/ are stored with the documented defaults
# (the forecasting core's) filled in and every field the core reads kept,
# while fields it does not know are pruned; each sample in examples/invalid/
# is rejected with the message its "# expect:" line names (which names the
# field) and is not stored; the status subresource and the printer columns
# work.
#
# The CRD is left installed: it is the project's API, and later tests use it.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

crd=launchpolicies.liftoff.dev
examples="$E2E_ROOT/examples"

# ---- the CRD
check "CRD is accepted by the API server" kubectl apply -f "$E2E_ROOT/crds/launchpolicy.yaml"
check "CRD becomes Established" kubectl wait --for condition=Established --timeout=30s "crd/$crd"
check_eventually "the resource is served (discovery)" 30 kubectl get lp -A
crd_json=$(kubectl get crd "$crd" -o json)
check_eq "short name lp" lp "$(jq -r '.spec.names.shortNames[0]' <<<"$crd_json")"
check_eq "namespaced" Namespaced "$(jq -r '.spec.scope' <<<"$crd_json")"
check_eq "status subresource" '{}' "$(jq -c '.spec.versions[0].subresources.status' <<<"$crd_json")"
check_eq "printer columns" "Target Mode Velocity Factor Desired Current Age" \
  "$(jq -r '[.spec.versions[0].additionalPrinterColumns[].name] | join(" ")' <<<"$crd_json")"

# Every property below spec and status (and the top level, bar metadata)
# has a non-empty description.
undescribed=$(jq -r '
  .spec.versions[0].schema.openAPIV3Schema as $root
  | [$root | paths(type == "object" and has("type"))] as $ps
  | $ps[] as $p
  | ($root | getpath($p)) as $node
  | select(($p | length) > 0 and ($p[-2] == "properties" or $p[-1] == "items" or $p[-1] == "additionalProperties"))
  | select(($p | last) != "metadata")
  | select(($node.description // "") == "")
  | $p | map(tostring) | join(".")' <<<"$crd_json")
check_eq "every schema field has a description" "" "$undescribed"

# The API server publishes a new CRD's OpenAPI schema a moment after it is
# Established, and kubectl's discovery cache may not know the resource yet.
explain_ready() {
  kubectl api-resources --api-group=liftoff.dev >/dev/null 2>&1 || true
  kubectl explain launchpolicy.spec.prediction 2>&1 | grep -qF "How far ahead the forecast looks"
}
wait_for 60 explain_ready || true
explain=$(kubectl explain launchpolicy.spec.prediction 2>&1 || true)
check_contains "explain spec.prediction describes the object" \
  "How engagement becomes a forecast of the request rate" "$explain"
check_contains "explain spec.prediction describes leadSeconds" \
  "How far ahead the forecast looks" "$explain"
check_contains "explain spec.prediction lists weights as a map" "map[string]number" "$explain"
explain=$(kubectl explain launchpolicy.spec.sidecar.routes.match 2>&1 || true)
check_contains "explain reaches nested route fields" "exactly one of prefix or glob" "$explain"
explain=$(kubectl explain launchpolicy.status.conditions 2>&1 || true)
check_contains "explain describes the status conditions" "SignalLost" "$explain"

e2e_namespace
ns=$E2E_NS

# ---- valid samples
check "minimal sample is accepted" kubectl -n "$ns" apply -f "$examples/launchpolicy-minimal.yaml"
check "full sample is accepted" kubectl -n "$ns" apply -f "$examples/launchpolicy-full.yaml"

minimal=$(kubectl -n "$ns" get launchpolicy web -o json)
field() { jq -c "$1" <<<"$2"; }
check_eq "default targetRef.kind" '"Deployment"' "$(field .spec.targetRef.kind "$minimal")"
check_eq "default targetRef.apiVersion" '"apps/v1"' "$(field .spec.targetRef.apiVersion "$minimal")"
check_eq "default minReplicas" 2 "$(field .spec.minReplicas "$minimal")"
check_eq "default maxReplicas" 100 "$(field .spec.maxReplicas "$minimal")"
check_eq "default podCapacityRps" 200 "$(field .spec.podCapacityRps "$minimal")"
check_eq "default mode" '"Active"' "$(field .spec.mode "$minimal")"
check_eq "default prediction (headroom 0, as the core)" \
  '{"baseRps":50,"defaultWeight":1,"headroomPercent":0,"leadSeconds":90,"maxLagSeconds":300,"rpsPerEngagement":200,"windowSeconds":60}' \
  "$(field '.spec.prediction' "$minimal")"
check_eq "default schedule" '{"holdSeconds":1800,"prescaleReplicas":0,"prewarmBefore":"10m"}' \
  "$(field '.spec.schedule' "$minimal")"
check_eq "default scaleDown (no step set: the core's 50 %)" \
  '{"forecastStabilizationSeconds":60,"periodSeconds":60,"stabilizationSeconds":300}' \
  "$(field '.spec.scaleDown' "$minimal")"
check_eq "default prewarm" '{"adminPort":9901,"cooldownSeconds":600,"host":"localhost","paths":[],"thresholdFactor":2,"timeoutSeconds":10}' \
  "$(field '.spec.prewarm' "$minimal")"
check_eq "default sidecar backpressure" \
  '{"adaptive":true,"maxConcurrency":256,"maxQueue":128,"minConcurrency":4,"queueTimeoutMs":100}' \
  "$(field '.spec.sidecar.backpressure' "$minimal")"
check_eq "default redis.launch" '"default"' "$(field .spec.redis.launch "$minimal")"
check_eq "no status before the controller writes one" null "$(field .status "$minimal")"

full=$(kubectl -n "$ns" get launchpolicy storefront-launch -o json)
check_eq "full: weights kept" '{"comment":1,"maker_comment":1.5,"page_view":0.1,"share":2,"upvote":1.2}' \
  "$(field '.spec.prediction.weights' "$full")"
check_eq "full: launchAt kept (with its offset)" '"2025-03-01T09:01:00+01:00"' "$(field .spec.schedule.launchAt "$full")"
check_eq "full: maxStepPods kept, no maxStepPercent added" '[20,null]' \
  "$(field '[.spec.scaleDown.maxStepPods, .spec.scaleDown.maxStepPercent]' "$full")"
check_eq "full: four routes in order" '["/static/","/api/product/*/reviews","/checkout","/"]' \
  "$(field '[.spec.sidecar.routes[].match | .prefix // .glob]' "$full")"
check_eq "full: route defaults filled in" \
  '{"forcePublic":false,"jitterPercent":10,"microCache":{"enabled":false},"minMaxAge":0,"staleIfError":0,"staleWhileRevalidate":0,"underLoad":"shorter"}' \
  "$(field '.spec.sidecar.routes[2] | {forcePublic, jitterPercent, microCache, minMaxAge, staleIfError, staleWhileRevalidate, underLoad}' "$full")"
check_eq "full: model kept" \
  '{"alpha":0.3,"bandZ":0,"beta":0.05,"forgetSeconds":600,"gainSpreadPercent":50,"gainZ":1,"lagStepSeconds":10,"noiseSeconds":600,"phi":0.98,"plausibleRatio":1.5,"rpsAlpha":0.3,"scoreSeconds":60,"surgeRatio":1.2,"surgeSeconds":20}' \
  "$(jq -cS .spec.prediction.model <<<"$full")"
check_eq "full: forecastStabilizationSeconds kept" 120 \
  "$(field .spec.scaleDown.forecastStabilizationSeconds "$full")"

# Fields the forecasting core does not read are not in the schema: the API
# server prunes them (a client that does not ask for field validation gets
# no error), so the predictor never sees them.
out=$(kubectl -n "$ns" apply --validate=false -f - 2>&1 <<EOF
apiVersion: liftoff.dev/v1alpha1
kind: LaunchPolicy
metadata:
  name: pruned
spec:
  targetRef:
    name: web
  prediction:
    model:
      rpsBeta: 0.05
      rpsPhi: 0.97
      gainZ: 2
EOF
) && rc=0 || rc=$?
check "a policy with unknown model fields is stored (validation off)" test "$rc" -eq 0
check_eq "unknown model fields are pruned, known ones kept" '{"gainZ":2}' \
  "$(kubectl -n "$ns" get lp pruned -o json | jq -c .spec.prediction.model)"
check_eq "the bounds are the core's (surgeRatio from 1.001, prewarmBefore up to 168h)" \
  '[1.001,"168h"]' \
  "$(kubectl -n "$ns" patch lp pruned --type merge -o json \
       -p '{"spec":{"prediction":{"model":{"surgeRatio":1.001}},"schedule":{"launchAt":"2025-03-01T08:01:00Z","prewarmBefore":"168h"}}}' |
     jq -c '[.spec.prediction.model.surgeRatio, .spec.schedule.prewarmBefore]')"
check_fails "model.surgeRatio below 1.001 is rejected" \
  kubectl -n "$ns" patch lp pruned --type merge -p '{"spec":{"prediction":{"model":{"surgeRatio":1}}}}'
check "weight keys may use upper case, as event types do" \
  kubectl -n "$ns" patch lp pruned --type merge -p '{"spec":{"prediction":{"weights":{"Upvote":2}}}}'
check_eq "globs may use negated sets, as the sidecar does" '"/img/[!ab].png"' \
  "$(kubectl -n "$ns" patch lp pruned --type merge -o json \
       -p '{"spec":{"sidecar":{"routes":[{"match":{"glob":"/img/[!ab].png"},"maxAge":60}]}}}' |
     jq -c '.spec.sidecar.routes[0].match.glob')"
kubectl -n "$ns" delete lp pruned --wait=false >/dev/null 2>&1 || true

# ---- invalid samples: each rejected with its own message, none stored
n_invalid=0
for f in "$examples"/invalid/*.yaml; do
  name=$(basename "$f" .yaml)
  want=$(sed -n 's/^# expect: //p' "$f")
  if [ -z "$want" ]; then
    check "invalid/$name has an # expect: line" false
    continue
  fi
  n_invalid=$((n_invalid + 1))
  out=$(kubectl -n "$ns" apply -f "$f" 2>&1) && rc=0 || rc=$?
  check "invalid/$name is rejected" test "$rc" -ne 0
  check_contains "invalid/$name: message names the field" "$want" "$out"
  check_fails "invalid/$name is not stored" kubectl -n "$ns" get launchpolicy "invalid-$name"
done
check "at least 25 invalid samples ran ($n_invalid)" test "$n_invalid" -ge 25

# An update that breaks a rule is refused just like a create.
out=$(kubectl -n "$ns" patch launchpolicy web --type merge -p '{"spec":{"minReplicas":500}}' 2>&1) &&
  rc=0 || rc=$?
check "an update breaking minReplicas <= maxReplicas is rejected" test "$rc" -ne 0
check_contains "the update's rejection names the field" \
  "spec.minReplicas must not exceed spec.maxReplicas" "$out"

# ---- status subresource and printer columns
status='{"status":{"observedGeneration":1,"velocity":12.5,"forecastRps":900,"factor":18,"desiredReplicas":7,"currentReplicas":3,"conditions":[{"type":"Ready","status":"True","reason":"Reconciled","message":"ok","lastTransitionTime":"2025-03-01T08:00:00Z"}]}}'
check "status is written through the status subresource" \
  kubectl -n "$ns" patch launchpolicy web --subresource=status --type merge -p "$status"
check_eq "status is stored" '[7,3,18]' \
  "$(kubectl -n "$ns" get lp web -o json | jq -c '[.status.desiredReplicas, .status.currentReplicas, .status.factor]')"
kubectl -n "$ns" patch launchpolicy web --type merge \
  -p '{"spec":{"maxReplicas":50},"status":{"desiredReplicas":99}}' >/dev/null
check_eq "the main resource ignores status changes" '[50,7]' \
  "$(kubectl -n "$ns" get lp web -o json | jq -c '[.spec.maxReplicas, .status.desiredReplicas]')"
check_eq "a spec change bumps the generation" 2 \
  "$(kubectl -n "$ns" get lp web -o jsonpath='{.metadata.generation}')"
bad_status='{"status":{"conditions":[{"type":"Ready","status":"Maybe","reason":"X","message":"","lastTransitionTime":"2025-03-01T08:00:00Z"}]}}'
check_fails "a condition status other than True/False/Unknown is rejected" \
  kubectl -n "$ns" patch launchpolicy web --subresource=status --type merge -p "$bad_status"

table=$(kubectl -n "$ns" get lp)
header=$(head -n 1 <<<"$table" | tr -s ' ')
check_eq "kubectl get lp shows the printer columns" \
  "NAME TARGET MODE VELOCITY FACTOR DESIRED CURRENT AGE" "$header"
row=$(grep '^web ' <<<"$table" | tr -s ' ' | cut -d' ' -f1-7)
check_eq "the row shows target, mode and status figures" "web web Active 12.5 18 7 3" "$row"
check_contains "the category 'liftoff' lists policies" "storefront-launch" \
  "$(kubectl -n "$ns" get liftoff 2>&1)"
