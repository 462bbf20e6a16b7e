# shellcheck shell=bash
# Helpers for the end-to-end tests of liftoff-controller, sourced after
# lib.sh (not a test itself: run.sh only runs test_*.sh).
#
#   ctl_work                    a scratch directory in $WORK (removed on exit;
#                               E2E_ARTIFACTS=DIR keeps its logs)
#   ctl_redis_start             redis-server on a free port: $RPORT, $REDIS_PID
#   rcli ARGS...                redis-cli on it
#   ctl_start KUBECONFIG ARGS.. liftoff-controller with that kubeconfig only
#                               (KUBECONFIG unset for it), admin port in $APORT,
#                               pid in $CTL_PID, log in $WORK/controller.log
#   ctl_metric NAME             a sample's value from /metrics ("" if absent)
#   ctl_policy NS NAME TARGET MODE MIN MAX
#   ctl_forecast NS POLICY DESIRED
#                               a forecast as the predictor writes it (hash,
#                               then PUBLISH liftoff:forecast)
#   replicas NS DEPLOYMENT / replicas_are NS DEPLOYMENT N
#   status_field NS POLICY FIELD / status_is NS POLICY FIELD VALUE
#   observed_current NS POLICY  true once status.observedGeneration is the
#                               policy's metadata.generation
#   redis_json KEY JQ / redis_zero CMD...

# shellcheck disable=SC2034 # used by the tests
readonly CTL_IMAGE=registry.invalid/liftoff/e2e-controller:none # kwok never pulls it
CTL_BIN_DIR=${LIFTOFF_BIN:-$E2E_ROOT/bin}
CONTROLLER=$CTL_BIN_DIR/liftoff-controller

ctl_work() {
  [ -x "$CONTROLLER" ] || { echo "e2e: $CONTROLLER not built" >&2; exit 1; }
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/liftoff-e2e-ctl.XXXXXX")
  on_exit rm -rf "$WORK"
  if [ -n "${E2E_ARTIFACTS:-}" ]; then
    mkdir -p "$E2E_ARTIFACTS"
    # shellcheck disable=SC2016 # expanded by the inner shell
    on_exit bash -c 'cp "$1"/*.log "$2"/' _ "$WORK" "$E2E_ARTIFACTS"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

rcli() { redis-cli -p "$RPORT" "$@"; }

ctl_redis_start() {
  RPORT=$(free_port)
  redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$WORK" >"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  on_exit kill "$REDIS_PID"
  wait_for 10 rcli ping || { echo "e2e: redis-server did not start" >&2; exit 1; }
}

ctl_start() { # kubeconfig extra-args...
  local kc=$1
  shift
  APORT=$(free_port)
  env -u KUBECONFIG "$CONTROLLER" --kubeconfig "$kc" --redis "redis://127.0.0.1:$RPORT" \
    --listen "127.0.0.1:$APORT" "$@" 2>>"$WORK/controller.log" &
  CTL_PID=$!
  on_exit kill "$CTL_PID"
}

ctl_metric() { # name (with labels, as printed)
  curl -fsS "http://127.0.0.1:$APORT/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}

ctl_policy() { # ns name target mode min max
  kubectl -n "$1" apply -f - >/dev/null <<YAML
apiVersion: liftoff.dev/v1alpha1
kind: LaunchPolicy
metadata:
  name: $2
spec:
  targetRef:
    name: $3
  mode: $4
  minReplicas: $5
  maxReplicas: $6
YAML
}

ctl_forecast() { # ns policy desired
  local t
  t=$(now_ms)
  rcli HSET "liftoff:forecast:$1:$2" eps 3.5 forecast_eps 4 trend 0.1 predicted_rps 900 \
    predicted_upper 1000 observed_rps -1 factor 18 desired_replicas "$3" reason predicted \
    tick $((t / 1000 - 1)) last_id 0-0 updated_at "$t" >/dev/null
  rcli PEXPIRE "liftoff:forecast:$1:$2" 60000 >/dev/null
  rcli PUBLISH liftoff:forecast "{\"namespace\":\"$1\",\"name\":\"$2\",\"eps\":3.5,\"forecast_eps\":4,\"trend\":0.1,\"predicted_rps\":900,\"predicted_upper\":1000,\"observed_rps\":-1,\"factor\":18,\"desired_replicas\":$3,\"reason\":\"predicted\",\"tick\":$((t / 1000 - 1)),\"last_id\":\"0-0\",\"updated_at\":$t}" >/dev/null
}

replicas() { kubectl -n "$1" get deployment "$2" -o jsonpath='{.spec.replicas}'; }
replicas_are() { [ "$(replicas "$1" "$2")" = "$3" ]; }
status_field() { kubectl -n "$1" get launchpolicy "$2" -o jsonpath="{.status.$3}"; }
status_is() { [ "$(status_field "$1" "$2" "$3")" = "$4" ]; }
observed_current() { # ns policy
  local got
  got=$(kubectl -n "$1" get launchpolicy "$2" \
    -o jsonpath='{.metadata.generation} {.status.observedGeneration}')
  [[ "$got" =~ ^([0-9]+)\ ([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]
}

# jq on a Redis value; fails on a missing key (jq -e alone passes on empty input).
redis_json() { # key jq-expression
  rcli GET "$1" | jq -en "input | $2" >/dev/null
}
redis_zero() { [ "$(rcli "$@")" = 0 ]; }

# Fails the test if the controller logged an error (or a line matching $1).
ctl_check_log() { # [extra-regex]
  local re='"level":"error"'
  [ -z "${1:-}" ] || re="$re|$1"
  if grep -Eiq "$re" "$WORK/controller.log"; then
    _e2e_fail "controller logged no errors" "$(grep -Ei "$re" "$WORK/controller.log")"
  else
    _e2e_pass "controller logged no errors"
  fi
}
