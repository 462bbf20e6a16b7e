# shellcheck shell=bash
# Helpers for the end-to-end tests of liftoff-controller, sourced after
# lib.sh (not a test itself: run.sh only runs test_*.sh).
#
#   ctl_work [BINARY...]        a scratch directory in $WORK (removed on exit;
#                               E2E_ARTIFACTS=DIR keeps its logs); fails unless
#                               liftoff-controller and each BINARY are built
#   free_port [ADDRESS...]      a TCP port free on every ADDRESS (default
#                               127.0.0.1; IPv6 ones hold a colon)
#   ctl_redis_start [PORT]      redis-server on a free port (or PORT: a restart
#                               on the same one): $RPORT, $REDIS_PID
#   rcli ARGS...                redis-cli on it
#   ctl_crd [DESC]              the LaunchPolicy CRD, applied and served
#                               (Established is a check named DESC when given)
#   ctl_setup [DESC]            ctl_redis_start, ctl_crd DESC and e2e_namespace
#   ctl_deployments NS REPLICAS NAME...
#                               Deployments of $CTL_IMAGE
#   ctl_start KUBECONFIG ARGS.. liftoff-controller with that kubeconfig only
#                               (KUBECONFIG unset for it), admin port in $APORT,
#                               pid in $CTL_PID, log in $WORK/$CTL_NAME.log
#                               (CTL_NAME defaults to controller)
#   ctl_metric NAME [PORT]      a sample's value from /metrics ("" if absent;
#                               PORT defaults to $APORT)
#   ctl_metric_is NAME VALUE [PORT] / ctl_metric_above NAME N [PORT]
#   ctl_policy NS NAME TARGET MODE MIN MAX [SPEC-LINE...]
#                               SPEC-LINEs ("key: value") are added to .spec
#   ctl_forecast NS POLICY DESIRED [FACTOR]
#                               a forecast as the predictor writes it (hash,
#                               then PUBLISH liftoff:forecast); the hash expires
#                               after $CTL_FORECAST_TTL_MS (0: never)
#   replicas NS DEPLOYMENT / replicas_are NS DEPLOYMENT N
#   ctl_replicas_owners NS DEPLOYMENT
#                               managedFields entries of liftoff's (manager
#                               "liftoff") that own spec.replicas
#   status_field NS POLICY FIELD / status_is NS POLICY FIELD VALUE
#   ctl_cond NS POLICY TYPE FIELD...
#                               fields of a status condition, space-separated
#   observed_current NS POLICY  true once status.observedGeneration is the
#                               policy's metadata.generation
#   ctl_events NS POLICY REASON [JQ]
#                               the policy's Events with that reason, one line
#                               each (JQ on each, default .message)
#   ctl_event_count NS POLICY REASON / ctl_has_event NS POLICY REASON
#   redis_json KEY JQ / redis_zero CMD...
#   ctl_check_log [REGEX [NAME]]
#                               a check that $WORK/NAME.log (default
#                               controller) has no error line, nor one
#                               matching REGEX

# shellcheck disable=SC2034 # used by the tests
readonly CTL_IMAGE=registry.invalid/liftoff/e2e-controller:none # kwok never pulls it
CTL_BIN_DIR=${LIFTOFF_BIN:-$E2E_ROOT/bin}
CONTROLLER=$CTL_BIN_DIR/liftoff-controller
CTL_FORECAST_TTL_MS=${CTL_FORECAST_TTL_MS:-60000}

# shellcheck disable=SC2120 # the binaries are optional
ctl_work() { # [binary...]
  local b
  for b in "$CONTROLLER" "$@"; do
    [ -x "$b" ] || { echo "e2e: $b not built" >&2; exit 1; }
  done
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/liftoff-e2e-ctl.XXXXXX")
  on_exit rm -rf "$WORK"
  if [ -n "${E2E_ARTIFACTS:-}" ]; then
    mkdir -p "$E2E_ARTIFACTS"
    # shellcheck disable=SC2016 # expanded by the inner shell
    on_exit bash -c 'cp "$1"/*.log "$2"/' _ "$WORK" "$E2E_ARTIFACTS"
  fi
}

# shellcheck disable=SC2120 # the addresses are optional
free_port() { # [address...]
  python3 - "$@" <<'PY'
import socket, sys
addrs = sys.argv[1:] or ["127.0.0.1"]
def bound(addr, port):
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
    try:
        s.bind((addr, port))
    except OSError:
        s.close()
        raise
    return s
while True:
    socks = []
    try:
        socks.append(bound(addrs[0], 0))
        port = socks[0].getsockname()[1]
        for a in addrs[1:]:
            socks.append(bound(a, port))
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(port)
    break
PY
}

rcli() { redis-cli -p "$RPORT" "$@"; }

# shellcheck disable=SC2120 # the port is optional
ctl_redis_start() { # [port]
  RPORT=${1:-$(free_port)}
  redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$WORK" >>"$WORK/redis.log" 2>&1 &
  REDIS_PID=$!
  on_exit kill "$REDIS_PID"
  wait_for 10 rcli ping || { echo "e2e: redis-server did not start" >&2; exit 1; }
}

ctl_crd() { # [check-desc]
  local wait=(kubectl wait --for condition=Established --timeout=30s crd/launchpolicies.liftoff.dev)
  kubectl apply -f "$E2E_ROOT/crds/launchpolicy.yaml" >/dev/null
  if [ -n "${1:-}" ]; then check "$1" "${wait[@]}"; else "${wait[@]}" >/dev/null; fi
  # Wait until the API server serves the new type.
  wait_for 30 kubectl get launchpolicies -A
}

# shellcheck disable=SC2120 # the check is optional
ctl_setup() { # [crd-check-desc]
  ctl_redis_start
  ctl_crd "${1:-}"
  e2e_namespace
}

ctl_deployments() { # ns replicas name...
  local ns=$1 n=$2 d
  shift 2
  for d in "$@"; do
    kubectl -n "$ns" create deployment "$d" --image="$CTL_IMAGE" --replicas="$n" >/dev/null
  done
}

ctl_start() { # kubeconfig extra-args...
  local kc=$1
  shift
  APORT=$(free_port)
  env -u KUBECONFIG "$CONTROLLER" --kubeconfig "$kc" --redis "redis://127.0.0.1:$RPORT" \
    --listen "127.0.0.1:$APORT" "$@" 2>>"$WORK/${CTL_NAME:-controller}.log" &
  CTL_PID=$!
  on_exit kill "$CTL_PID"
}

ctl_metric() { # name (with labels, as printed) [port]
  curl -fsS "http://127.0.0.1:${2:-$APORT}/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}
ctl_metric_is() { [ "$(ctl_metric "$1" "${3:-}")" = "$2" ]; } # name value [port]
ctl_metric_above() { # name n [port]
  local v
  v=$(ctl_metric "$1" "${3:-}")
  [ "$v" -gt "$2" ]
}

ctl_policy() { # ns name target mode min max [spec-line...]
  local ns=$1 name=$2 target=$3 mode=$4 min=$5 max=$6 extra=
  shift 6
  [ $# -eq 0 ] || extra=$(printf '  %s\n' "$@")
  kubectl -n "$ns" apply -f - >/dev/null <<YAML
apiVersion: liftoff.dev/v1alpha1
kind: LaunchPolicy
metadata:
  name: $name
spec:
  targetRef:
    name: $target
  mode: $mode
  minReplicas: $min
  maxReplicas: $max
$extra
YAML
}

# The message's updated_at is taken just before the PUBLISH, so the
# controller's "scaled" log line measures PUBLISH -> PATCH accepted.
ctl_forecast() { # ns policy desired [factor]
  local key=liftoff:forecast:$1:$2 f=${4:-18} t
  t=$(now_ms)
  rcli HSET "$key" eps 3.5 forecast_eps 4 trend 0.1 predicted_rps 900 \
    predicted_upper 1000 observed_rps -1 factor "$f" desired_replicas "$3" reason predicted \
    tick $((t / 1000 - 1)) last_id 0-0 updated_at "$t" >/dev/null
  [ "$CTL_FORECAST_TTL_MS" = 0 ] || rcli PEXPIRE "$key" "$CTL_FORECAST_TTL_MS" >/dev/null
  t=$(now_ms)
  rcli PUBLISH liftoff:forecast "{\"namespace\":\"$1\",\"name\":\"$2\",\"eps\":3.5,\"forecast_eps\":4,\"trend\":0.1,\"predicted_rps\":900,\"predicted_upper\":1000,\"observed_rps\":-1,\"factor\":$f,\"desired_replicas\":$3,\"reason\":\"predicted\",\"tick\":$((t / 1000 - 1)),\"last_id\":\"0-0\",\"updated_at\":$t}" >/dev/null
}

replicas() { kubectl -n "$1" get deployment "$2" -o jsonpath='{.spec.replicas}'; }
replicas_are() { [ "$(replicas "$1" "$2")" = "$3" ]; }
ctl_replicas_owners() { # ns deployment
  kubectl -n "$1" get deployment "$2" --show-managed-fields -o json |
    jq '[.metadata.managedFields[] | select(.manager == "liftoff")
         | select(.fieldsV1["f:spec"]["f:replicas"] != null)] | length'
}
status_field() { kubectl -n "$1" get launchpolicy "$2" -o jsonpath="{.status.$3}"; }
status_is() { [ "$(status_field "$1" "$2" "$3")" = "$4" ]; }
ctl_cond() { # ns policy type field...
  local ns=$1 policy=$2 type=$3 f path=
  shift 3
  for f in "$@"; do
    path+="${path:+ }{.status.conditions[?(@.type==\"$type\")].$f}"
  done
  kubectl -n "$ns" get launchpolicy "$policy" -o jsonpath="$path"
}
observed_current() { # ns policy
  local got
  got=$(kubectl -n "$1" get launchpolicy "$2" \
    -o jsonpath='{.metadata.generation} {.status.observedGeneration}')
  [[ "$got" =~ ^([0-9]+)\ ([0-9]+)$ ]] && [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]
}

ctl_events() { # ns policy reason [jq on each event]
  kubectl -n "$1" get events --field-selector "involvedObject.name=$2,reason=$3" -o json |
    jq -r ".items[] | ${4:-.message}"
}
ctl_event_count() { # ns policy reason
  kubectl -n "$1" get events --field-selector "involvedObject.name=$2,reason=$3" -o json |
    jq '.items | length'
}
ctl_has_event() { [ "$(ctl_event_count "$1" "$2" "$3")" -gt 0 ]; }

# jq on a Redis value; fails on a missing key (jq -e alone passes on empty input).
redis_json() { # key jq-expression
  rcli GET "$1" | jq -en "input | $2" >/dev/null
}
redis_zero() { [ "$(rcli "$@")" = 0 ]; }

# Fails the test if the process logged an error (or a line matching $1).
ctl_check_log() { # [extra-regex [name]]
  local re='"level":"error"' who=${2:-controller}
  local log=$WORK/$who.log
  [ -z "${1:-}" ] || re="$re|$1"
  if grep -Eiq "$re" "$log"; then
    _e2e_fail "$who logged no errors" "$(grep -Ei "$re" "$log")"
  else
    _e2e_pass "$who logged no errors"
  fi
}
