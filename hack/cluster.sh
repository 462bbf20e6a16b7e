#!/usr/bin/env bash
# A local Kubernetes control plane for liftoff's end-to-end tests.
#
#   hack/cluster.sh build    build the binaries into a cache outside the repository
#   hack/cluster.sh up       start etcd, kube-apiserver, controller-manager, scheduler
#                            and kwok (fake nodes) on free loopback ports
#   hack/cluster.sh down     stop everything and remove the state directory
#   hack/cluster.sh env      print shell exports for the running cluster
#   hack/cluster.sh status   say what is running
#
# Binaries are built from Go modules (no release archives) into
#   ${XDG_CACHE_HOME:-$HOME/.cache}/liftoff/k8s-v<version>/bin
# once per machine; `build` is a sub-second no-op afterwards.
#
# Environment:
#   LIFTOFF_CLUSTER_DIR     state directory (default ${TMPDIR:-/tmp}/liftoff-cluster)
#   LIFTOFF_NODES           number of fake nodes (default 3)
#   LIFTOFF_POD_STARTUP_MS  delay before a scheduled pod becomes Ready (default 0)
#   LIFTOFF_KEEP_CLUSTER=1  `down` stops the processes but keeps the state directory
#   LIFTOFF_UP_TIMEOUT      seconds each component may take to come up (default 60)
#
# `up` on a running cluster is a no-op, except that a different
# LIFTOFF_POD_STARTUP_MS restarts kwok (only) with the new delay. A pod's
# annotation pod-ready.stage.kwok.x-k8s.io/delay (a Go duration, "3s")
# overrides the delay for that pod. State, logs, pids and the admin
# kubeconfig are in the state directory; `env` prints KUBECONFIG and a PATH
# that puts the matching kubectl and helm first.
#
# Health probes are called through wait_for, which shellcheck cannot see.
# shellcheck disable=SC2317
set -euo pipefail

readonly K8S_VERSION=1.36.3
readonly STAGING_VERSION=0.36.3
readonly ETCD_VERSION=3.6.16
readonly KWOK_VERSION=0.8.0
readonly HELM_VERSION=3.22.0

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT
readonly CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/liftoff/k8s-v${K8S_VERSION}"
readonly BIN="$CACHE/bin"
readonly STATE="${LIFTOFF_CLUSTER_DIR:-${TMPDIR:-/tmp}/liftoff-cluster}"
readonly NODES="${LIFTOFF_NODES:-3}"
readonly POD_STARTUP_MS="${LIFTOFF_POD_STARTUP_MS:-0}"
readonly UP_TIMEOUT="${LIFTOFF_UP_TIMEOUT:-60}"
readonly STOP_TIMEOUT=10
readonly LOCK_TIMEOUT=300
# Start order; `down` stops them in reverse.
readonly COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok)

log() { printf 'cluster: %s\n' "$*" >&2; }
die() { printf 'cluster: error: %s\n' "$*" >&2; exit 1; }

now_ms() { date +%s%3N; }

# ---------------------------------------------------------------- build

# Prints the version each cached binary reports, one "name version" a line.
# Runs them in parallel: each Go binary takes ~50 ms to start.
reported_versions() {
  local tmp
  tmp=$(mktemp -d)
  (
    [ -x "$BIN/kube-apiserver" ] && "$BIN/kube-apiserver" --version >"$tmp/kube-apiserver" 2>&1 &
    [ -x "$BIN/kube-controller-manager" ] &&
      "$BIN/kube-controller-manager" --version >"$tmp/kube-controller-manager" 2>&1 &
    [ -x "$BIN/kube-scheduler" ] && "$BIN/kube-scheduler" --version >"$tmp/kube-scheduler" 2>&1 &
    [ -x "$BIN/kubectl" ] && "$BIN/kubectl" version --client >"$tmp/kubectl" 2>&1 &
    [ -x "$BIN/etcd" ] && "$BIN/etcd" --version >"$tmp/etcd" 2>&1 &
    [ -x "$BIN/kwok" ] && "$BIN/kwok" --version >"$tmp/kwok" 2>&1 &
    [ -x "$BIN/helm" ] && "$BIN/helm" version --short >"$tmp/helm" 2>&1 &
    wait
  ) || true
  local f
  for f in "$tmp"/*; do
    [ -e "$f" ] || continue
    printf '%s %s\n' "${f##*/}" "$(tr '\n' ' ' <"$f")"
  done
  rm -rf "$tmp"
}

readonly BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok helm)

# Identifies the binaries on disk and the versions wanted of them.
fingerprint() {
  echo "$K8S_VERSION $ETCD_VERSION $KWOK_VERSION $HELM_VERSION"
  (cd "$BIN" 2>/dev/null && stat -c '%n %s %Y %i' "${BINARIES[@]}" 2>&1)
  [ -s "$CACHE/kwok-stages/pod-ready.yaml" ] && echo kwok-stages
}

# Lists the binaries that are missing or report the wrong version. Once all
# of them have reported the right one, that is remembered until a binary
# changes on disk (running all seven takes about half a second).
stale_binaries() {
  local versions fp
  fp=$(fingerprint)
  [ "$(cat "$CACHE/verified" 2>/dev/null)" = "$fp" ] && return 0
  versions=$(stale_binaries_by_version)
  [ -n "$versions" ] || printf '%s\n' "$fp" >"$CACHE/verified"
  printf '%s' "$versions"
}

stale_binaries_by_version() {
  local versions
  versions=$(reported_versions)
  want() { # name pattern
    grep -qE "^$1 .*$2" <<<"$versions" || echo "$1"
  }
  want kube-apiserver "Kubernetes v${K8S_VERSION}( |$)"
  want kube-controller-manager "Kubernetes v${K8S_VERSION}( |$)"
  want kube-scheduler "Kubernetes v${K8S_VERSION}( |$)"
  want kubectl "Client Version: v${K8S_VERSION}( |$)"
  want etcd "etcd Version: ${ETCD_VERSION}( |$)"
  want kwok "${KWOK_VERSION}"
  want helm "v${HELM_VERSION}(\+| |$)"
  [ -s "$CACHE/kwok-stages/pod-ready.yaml" ] || echo kwok-stages
}

# Writes go.mod for the Kubernetes helper module: k8s.io/kubernetes replaces
# its staging modules with ./staging/src/...; outside its tree each of them
# must be pinned to the matching published version instead. The list changes
# between releases, so it is read from the release's own go.mod.
write_k8s_gomod() { # dir
  local dir=$1 upstream
  upstream=$(go mod download -json "k8s.io/kubernetes@v${K8S_VERSION}" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
  [ -s "$upstream" ] || die "cannot find go.mod of k8s.io/kubernetes@v${K8S_VERSION}"
  local staging
  staging=$(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/src/.*#\1#p' "$upstream")
  [ -n "$staging" ] || die "no staging replaces found in $upstream"
  {
    echo "module liftoff.local/k8s-tools/kubernetes"
    echo
    echo "go 1.26.0"
    echo
    echo "godebug default=go1.26"
    echo
    echo "require k8s.io/kubernetes v${K8S_VERSION}"
    echo
    echo "replace ("
    local m
    for m in $staging; do
      printf '\t%s => %s v%s\n' "$m" "$m" "$STAGING_VERSION"
    done
    echo ")"
  } >"$dir/go.mod"
  log "go.mod: $(wc -w <<<"$staging") staging modules pinned to v${STAGING_VERSION}"
}

build_kubernetes() {
  local src="$CACHE/src/kubernetes"
  mkdir -p "$src"
  cp "$ROOT/hack/k8s-tools/kubernetes/tools.go" "$src/"
  cp "$ROOT/hack/k8s-tools/kubernetes/go.sum" "$src/"
  write_k8s_gomod "$src"
  # The checked-in go.sum makes any change in a dependency's content fail
  # here instead of building something else.
  (cd "$src" && go mod tidy)
  cmp -s "$src/go.sum" "$ROOT/hack/k8s-tools/kubernetes/go.sum" ||
    log "build: go.sum differs from hack/k8s-tools/kubernetes/go.sum; update it from $src/go.sum"
  local pkg="k8s.io/component-base/version"
  local ldflags="-s -w -X $pkg.gitVersion=v${K8S_VERSION} -X $pkg.gitMajor=${K8S_VERSION%%.*}"
  local minor=${K8S_VERSION#*.}
  ldflags+=" -X $pkg.gitMinor=${minor%%.*} -X $pkg.gitTreeState=clean"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -tags selinux,notest,grpcnotrace \
    -ldflags "$ldflags" -o "$BIN/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kubectl)
}

build_etcd() {
  local src="$CACHE/src/etcd"
  mkdir -p "$src"
  cp "$ROOT"/hack/k8s-tools/etcd/{go.mod,go.sum,main.go} "$src/"
  (cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$BIN/etcd" .)
}

build_kwok() {
  CGO_ENABLED=0 GOBIN="$BIN" go install -trimpath -ldflags "-s -w" \
    "sigs.k8s.io/kwok/cmd/kwok@v${KWOK_VERSION}"
}

build_helm() {
  CGO_ENABLED=0 GOBIN="$BIN" go install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=v${HELM_VERSION}" \
    "helm.sh/helm/v3/cmd/helm@v${HELM_VERSION}"
}

# kwok's own stage definitions (Apache-2.0, from its module source), kept in
# the cache so `up` needs neither Go nor the module cache.
copy_kwok_stages() {
  local src
  src=$(go mod download -json "sigs.k8s.io/kwok@v${KWOK_VERSION}" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  src="$src/kustomize/stage"
  [ -d "$src" ] || die "kwok stages not found in module source ($src)"
  mkdir -p "$CACHE/kwok-stages"
  cp "$src/node/fast/node-initialize.yaml" "$src/node/heartbeat/node-heartbeat.yaml" \
    "$src/pod/fast/pod-ready.yaml" "$src/pod/fast/pod-complete.yaml" \
    "$src/pod/fast/pod-delete.yaml" "$CACHE/kwok-stages/"
  chmod u+w "$CACHE/kwok-stages"/*.yaml
}

cmd_build() {
  local start stale
  start=$(now_ms)
  mkdir -p "$BIN"
  stale=$(stale_binaries)
  if [ -z "$stale" ]; then
    log "build: all binaries present in $BIN ($(($(now_ms) - start)) ms)"
    return 0
  fi
  command -v go >/dev/null || die "go is needed to build: $(echo "$stale" | tr '\n' ' ')"
  exec 9>"$CACHE/build.lock"
  if ! flock -n 9; then
    log "build: another build holds $CACHE/build.lock; waiting"
    flock 9
  fi
  # Someone else may have finished the job while we waited.
  stale=$(stale_binaries)
  if [ -z "$stale" ]; then
    log "build: built meanwhile by another build ($((($(now_ms) - start) / 1000)) s)"
    return 0
  fi
  export GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:-} -buildvcs=false"
  local need
  need=" $(echo "$stale" | tr '\n' ' ') "
  log "build: to build:${need% }"
  case "$need" in
    *" kube-apiserver "* | *" kube-controller-manager "* | *" kube-scheduler "* | *" kubectl "*)
      log "build: kube-apiserver, kube-controller-manager, kube-scheduler, kubectl v${K8S_VERSION} (cold: several minutes)"
      build_kubernetes
      ;;
  esac
  case "$need" in *" etcd "*) log "build: etcd v${ETCD_VERSION}"; build_etcd ;; esac
  case "$need" in *" kwok "*) log "build: kwok v${KWOK_VERSION}"; build_kwok ;; esac
  case "$need" in *" helm "*) log "build: helm v${HELM_VERSION}"; build_helm ;; esac
  copy_kwok_stages
  stale=$(stale_binaries)
  [ -z "$stale" ] || die "build: still missing or wrong version after build: $(echo "$stale" | tr '\n' ' ')"
  log "build: done in $((($(now_ms) - start) / 1000)) s; binaries in $BIN"
}

# ---------------------------------------------------------------- state

readonly PKI="$STATE/pki"
readonly KUBECONFIG_FILE="$STATE/kubeconfig"
readonly SETTINGS="$STATE/cluster.env"
readonly POD_DELAY_ANNOTATION="pod-ready.stage.kwok.x-k8s.io/delay"

# kubectl's discovery cache lives with the cluster (ports change every time).
readonly KUBE_CACHE="$STATE/kube-cache"

kctl() { KUBECACHEDIR="$KUBE_CACHE" "$BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# True if component $1 runs: its pid file names a live process of that name
# (not a recycled pid, not a zombie).
running() {
  local pid argv0
  [ -s "$STATE/$1.pid" ] || return 1
  pid=$(<"$STATE/$1.pid")
  argv0=$({ tr '\0' '\n' <"/proc/$pid/cmdline" | head -n 1; } 2>/dev/null) || return 1
  [ "${argv0##*/}" = "$1" ]
}

all_running() {
  local c
  for c in "${COMPONENTS[@]}"; do running "$c" || return 1; done
}

# Reads one KEY=value from the settings file of the running cluster.
setting() {
  sed -n "s/^$1=//p" "$SETTINGS" 2>/dev/null
}

api_ready() {
  local port
  port=$(setting LIFTOFF_API_PORT)
  [ -n "$port" ] && curl -sf --max-time 2 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" \
    --key "$PKI/admin.key" "https://127.0.0.1:$port/readyz" >/dev/null 2>&1
}

# Prints N distinct loopback ports that are free now, below the ephemeral
# range so outgoing connections do not take them before we bind them.
free_ports() { # n
  python3 - "$1" <<'EOF'
import random, socket, sys
want, ports, socks = int(sys.argv[1]), [], []
while len(ports) < want:
    p = random.randrange(20000, 32000)
    if p in ports:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        s.close()
        continue
    socks.append(s)
    ports.append(p)
print(" ".join(map(str, ports)))
EOF
}

# ---------------------------------------------------------------- up

# Serialises up and down on one state directory (fd 8; never inherited by
# the components, or the lock would live as long as they do).
lock_state() {
  exec 8>"$STATE.lock"
  flock -w "$LOCK_TIMEOUT" 8 ||
    die "another hack/cluster.sh has held $STATE.lock for ${LOCK_TIMEOUT} s"
}

gen_certs() {
  mkdir -p "$PKI"
  (
    cd "$PKI"
    exec 2>>"$STATE/openssl.log" >&2
    # Service-account tokens are signed with RSA; the TLS keys are P-256,
    # which takes milliseconds instead of a quarter second each.
    openssl genrsa -out sa.key 2048 &
    local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
    openssl req -x509 "${ec[@]}" -sha256 -days 30 \
      -keyout ca.key -out ca.crt -subj "/CN=liftoff-e2e-ca"
    sign() { # name subject extensions
      openssl req "${ec[@]}" -keyout "$1.key" -out "$1.csr" -subj "$2"
      printf '%s\n' "$3" >"$1.ext"
      openssl x509 -req -sha256 -days 30 -in "$1.csr" -CA ca.crt -CAkey ca.key \
        -CAcreateserial -extfile "$1.ext" -out "$1.crt"
    }
    sign apiserver "/CN=kube-apiserver" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.96.0.1"
    sign admin "/O=system:masters/CN=admin" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
    wait $!
    openssl rsa -in sa.key -pubout -out sa.pub
    chmod 600 ./*.key
  ) || die "certificate generation failed; see $STATE/openssl.log"
}

write_kubeconfig() { # api-port
  (
    umask 077
    cat >"$KUBECONFIG_FILE" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: liftoff-e2e
  cluster:
    server: https://127.0.0.1:$1
    certificate-authority-data: $(base64 -w0 "$PKI/ca.crt")
users:
- name: admin
  user:
    client-certificate-data: $(base64 -w0 "$PKI/admin.crt")
    client-key-data: $(base64 -w0 "$PKI/admin.key")
contexts:
- name: liftoff-e2e
  context:
    cluster: liftoff-e2e
    user: admin
current-context: liftoff-e2e
EOF
  )
}

# kwok's stages, with a start-up delay inserted into pod-ready: the cluster's
# default, overridden per pod by the annotation (a Go duration, e.g. "3s").
write_kwok_stages() { # delay-ms
  local f first=1
  {
    for f in node-initialize node-heartbeat pod-ready pod-complete pod-delete; do
      [ "$first" = 1 ] || echo "---"
      first=0
      if [ "$f" = pod-ready ]; then
        awk -v ms="$1" -v ann="$POD_DELAY_ANNOTATION" '
          { print }
          /^spec:$/ && !done {
            print "  delay:"
            print "    durationMilliseconds: " ms
            print "    durationFrom:"
            print "      expressionFrom: '\''.metadata.annotations[\"" ann "\"]'\''"
            done = 1
          }' "$CACHE/kwok-stages/$f.yaml"
      else
        cat "$CACHE/kwok-stages/$f.yaml"
      fi
    done
  } >"$STATE/kwok-stages.yaml.tmp"
  grep -q '^  delay:$' "$STATE/kwok-stages.yaml.tmp" || die "could not insert the pod start-up delay"
  mv "$STATE/kwok-stages.yaml.tmp" "$STATE/kwok-stages.yaml"
}

fake_nodes() { # count
  local i cidr
  for ((i = 0; i < $1; i++)); do
    cidr="10.$((128 + i / 256)).$((i % 256)).0/24"
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    type: kwok
spec:
  podCIDR: $cidr
  podCIDRs:
  - $cidr
status:
  capacity:
    cpu: "32"
    memory: 256Gi
    pods: "110"
  allocatable:
    cpu: "32"
    memory: 256Gi
    pods: "110"
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    kubeletVersion: fake
    kubeProxyVersion: fake
EOF
  done
}

STARTED=()
UP_START=0
UP_MARKS=()

# Starts $BIN/<name> in its own session, logging to <name>.log; the process
# writes its own pid (setsid may fork) to <name>.pid.
start_component() { # name args...
  local name=$1 i
  shift
  rm -f "$STATE/$name.pid"
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid bash -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' "$STATE/$name.pid" \
    "$BIN/$name" "$@" </dev/null >>"$STATE/$name.log" 2>&1 8>&- 9>&- &
  STARTED+=("$name")
  for ((i = 0; i < 100; i++)); do
    [ -s "$STATE/$name.pid" ] && return 0
    sleep 0.05
  done
  fail "$name" "did not start"
}

# Stops the components this invocation started, shows the failing one's log
# and exits. The state directory stays for inspection.
fail() { # component message
  local name=$1 msg=$2 c
  trap - INT TERM
  printf 'cluster: error: %s %s\n' "$name" "$msg" >&2
  if [ -s "$STATE/$name.log" ]; then
    printf 'cluster: last lines of %s:\n' "$STATE/$name.log" >&2
    tail -n 25 "$STATE/$name.log" | sed 's/^/    /' >&2
  fi
  for ((c = ${#STARTED[@]} - 1; c >= 0; c--)); do stop_component "${STARTED[c]}"; done
  printf 'cluster: logs kept in %s; "hack/cluster.sh down" removes them\n' "$STATE" >&2
  exit 1
}

# Polls a command until it succeeds; fails if the component exits or the
# deadline passes.
wait_for() { # component what command...
  local name=$1 what=$2 deadline
  shift 2
  deadline=$(($(now_ms) + UP_TIMEOUT * 1000))
  until "$@" >/dev/null 2>&1; do
    running "$name" || fail "$name" "exited while waiting for $what"
    [ "$(now_ms)" -lt "$deadline" ] || fail "$name" "not up after ${UP_TIMEOUT} s: $what"
    sleep 0.1
  done
  [[ "$what" == /* ]] || name=$what
  UP_MARKS+=("$name $(elapsed_s "$UP_START")")
}

elapsed_s() { # start-ms
  local ms=$(($(now_ms) - $1))
  printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100))
}

etcd_healthy() { curl -sf --max-time 2 "http://127.0.0.1:$1/health" | grep -q '"health":"true"'; }
serving_healthz() { curl -sfk --max-time 2 "https://127.0.0.1:$1/healthz" | grep -qx ok; }
kwok_healthy() { curl -sf --max-time 2 "http://127.0.0.1:$1/healthz" >/dev/null; }
default_sa_exists() { kctl -n default get serviceaccount default; }
nodes_ready() {
  local ready
  ready=$(kctl get nodes -l type=kwok \
    -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' |
    grep -cx True)
  [ "$ready" -eq "$NODES" ]
}

start_kwok() {
  start_component kwok --kubeconfig "$KUBECONFIG_FILE" --manage-all-nodes=true \
    --server-address "127.0.0.1:$1" --config "$STATE/kwok-stages.yaml"
  wait_for kwok "/healthz" kwok_healthy "$1"
}

check_settings() {
  [[ "$NODES" =~ ^[0-9]+$ && "$NODES" -ge 1 && "$NODES" -le 1000 ]] ||
    die "LIFTOFF_NODES must be 1..1000, not '$NODES'"
  [[ "$POD_STARTUP_MS" =~ ^[0-9]+$ ]] ||
    die "LIFTOFF_POD_STARTUP_MS must be a number of milliseconds, not '$POD_STARTUP_MS'"
  [[ "$UP_TIMEOUT" =~ ^[0-9]+$ ]] || die "LIFTOFF_UP_TIMEOUT must be seconds, not '$UP_TIMEOUT'"
}

# A running cluster whose pod start-up delay differs gets kwok restarted
# with the new one; nothing else changes.
reconfigure_kwok() {
  local old
  old=$(setting LIFTOFF_POD_STARTUP_MS)
  [ "$old" != "$POD_STARTUP_MS" ] || return 0
  log "up: pod start-up delay ${old:-?} ms -> $POD_STARTUP_MS ms: restarting kwok"
  write_kwok_stages "$POD_STARTUP_MS"
  stop_component kwok
  start_kwok "$(setting LIFTOFF_KWOK_PORT)"
  sed -i "s/^LIFTOFF_POD_STARTUP_MS=.*/LIFTOFF_POD_STARTUP_MS=$POD_STARTUP_MS/" "$SETTINGS"
}

cmd_up() {
  UP_START=$(now_ms)
  check_settings
  mkdir -p "$(dirname "$STATE")"
  lock_state
  if [ -d "$STATE" ] && all_running && api_ready; then
    if [ -n "${LIFTOFF_NODES:-}" ] && [ "$NODES" != "$(setting LIFTOFF_NODES)" ]; then
      log "up: warning: running with $(setting LIFTOFF_NODES) nodes; LIFTOFF_NODES=$NODES needs a down first"
    fi
    reconfigure_kwok
    log "up: already up ($STATE)"
    return 0
  fi
  if [ -n "$(ls -A "$STATE" 2>/dev/null)" ]; then
    log "up: cleaning up a cluster that is not fully running in $STATE"
    stop_all
    remove_state
  fi
  cmd_build
  command -v curl >/dev/null || die "curl is needed"
  command -v openssl >/dev/null || die "openssl is needed"
  command -v python3 >/dev/null || die "python3 is needed"
  mkdir -p "$STATE"
  trap 'fail up interrupted' INT TERM

  local etcd_port peer_port api_port kcm_port sched_port kwok_port
  read -r etcd_port peer_port api_port kcm_port sched_port kwok_port <<<"$(free_ports 6)"
  cat >"$SETTINGS" <<EOF
LIFTOFF_API_PORT=$api_port
LIFTOFF_ETCD_PORT=$etcd_port
LIFTOFF_KWOK_PORT=$kwok_port
LIFTOFF_NODES=$NODES
LIFTOFF_POD_STARTUP_MS=$POD_STARTUP_MS
EOF

  start_component etcd --name liftoff --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "liftoff=http://127.0.0.1:$peer_port" \
    --unsafe-no-fsync --log-level warn --heartbeat-interval 20 --election-timeout 200
  gen_certs
  write_kubeconfig "$api_port"
  write_kwok_stages "$POD_STARTUP_MS"
  wait_for etcd "/health" etcd_healthy "$etcd_port"

  start_component kube-apiserver \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --secure-port "$api_port" --advertise-address 127.0.0.1 \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" \
    --service-account-key-file "$PKI/sa.pub" \
    --service-account-signing-key-file "$PKI/sa.key" \
    --service-account-issuer https://kubernetes.default.svc \
    --service-cluster-ip-range 10.96.0.0/16 \
    --authorization-mode Node,RBAC \
    --allow-privileged=true --profiling=false \
    --cert-dir "$STATE/kube-apiserver-certs"
  wait_for kube-apiserver "/readyz" api_ready

  start_component kube-controller-manager \
    --kubeconfig "$KUBECONFIG_FILE" \
    --authentication-kubeconfig "$KUBECONFIG_FILE" \
    --authorization-kubeconfig "$KUBECONFIG_FILE" \
    --leader-elect=false --bind-address 127.0.0.1 --secure-port "$kcm_port" \
    --cert-dir "$STATE/kube-controller-manager-certs" \
    --service-account-private-key-file "$PKI/sa.key" \
    --root-ca-file "$PKI/ca.crt" \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --use-service-account-credentials=true --profiling=false \
    --kube-api-qps 100 --kube-api-burst 200 # 20/30 by default: 5 s more to start
  start_component kube-scheduler \
    --kubeconfig "$KUBECONFIG_FILE" \
    --authentication-kubeconfig "$KUBECONFIG_FILE" \
    --authorization-kubeconfig "$KUBECONFIG_FILE" \
    --leader-elect=false --bind-address 127.0.0.1 --secure-port "$sched_port" \
    --cert-dir "$STATE/kube-scheduler-certs" --profiling=false
  fake_nodes "$NODES" | kctl apply -f - >>"$STATE/nodes.log" 2>&1 ||
    fail kube-apiserver "rejected the fake nodes: $(tail -n 3 "$STATE/nodes.log")"
  start_kwok "$kwok_port"
  wait_for kube-controller-manager "/healthz" serving_healthz "$kcm_port"
  wait_for kube-scheduler "/healthz" serving_healthz "$sched_port"
  wait_for kube-controller-manager "the default service account" default_sa_exists
  wait_for kwok "$NODES Ready nodes" nodes_ready
  trap - INT TERM
  local marks
  marks=$(printf '%s s, ' "${UP_MARKS[@]}")
  log "up: ready in $(elapsed_s "$UP_START") s (ready at: ${marks%, })"
  log "up: https://127.0.0.1:$api_port, $NODES nodes, pod start-up ${POD_STARTUP_MS} ms"
  log "up: eval \"\$(hack/cluster.sh env)\" to use it"
}

# ---------------------------------------------------------------- down

# SIGTERM, then SIGKILL if it is still there after STOP_TIMEOUT seconds.
stop_component() { # name
  local name=$1 pid i
  running "$name" || { rm -f "$STATE/$name.pid"; return 0; }
  pid=$(<"$STATE/$name.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
    running "$name" || break
    sleep 0.1
  done
  if running "$name"; then
    log "down: $name (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT} s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      running "$name" || break
      sleep 0.1
    done
  fi
  rm -f "$STATE/$name.pid"
}

# Everything but etcd stops at once; etcd last, so the others shut down cleanly.
stop_all() {
  local c
  for c in kwok kube-scheduler kube-controller-manager kube-apiserver; do
    stop_component "$c" &
  done
  wait
  stop_component etcd
}

cmd_down() {
  if [ ! -d "$STATE" ]; then
    log "down: nothing running at $STATE"
    return 0
  fi
  lock_state
  stop_all
  if [ "${LIFTOFF_KEEP_CLUSTER:-0}" = 1 ]; then
    log "down: stopped; state and logs kept in $STATE"
  else
    remove_state
    rm -f "$STATE.lock"
    log "down: stopped; removed $STATE"
  fi
}

# Removes the state directory, but only if it is one (or empty): a mistyped
# LIFTOFF_CLUSTER_DIR must not cost anyone their files.
remove_state() {
  if [ -e "$SETTINGS" ] || [ -z "$(ls -A "$STATE" 2>/dev/null)" ]; then
    rm -rf "$STATE"
  else
    die "$STATE does not look like a cluster state directory (no cluster.env); not removing it"
  fi
}

# ---------------------------------------------------------------- env, status

cmd_env() {
  printf 'export KUBECONFIG=%q\n' "$KUBECONFIG_FILE"
  # shellcheck disable=SC2016 # $PATH expands where the output is evaluated
  printf 'export PATH=%q:"$PATH"\n' "$BIN"
  printf 'export KUBECACHEDIR=%q\n' "$KUBE_CACHE"
  printf 'export LIFTOFF_CLUSTER_DIR=%q\n' "$STATE"
  all_running || log "env: the cluster at $STATE is not running (hack/cluster.sh up)"
}

cmd_status() {
  local c ok=0
  for c in "${COMPONENTS[@]}"; do
    if running "$c"; then
      printf '%-24s running (pid %s)\n' "$c" "$(<"$STATE/$c.pid")"
    else
      printf '%-24s stopped\n' "$c"
      ok=1
    fi
  done
  if [ "$ok" = 0 ] && api_ready; then
    printf '%-24s https://127.0.0.1:%s (%s)\n' "api" "$(setting LIFTOFF_API_PORT)" "$KUBECONFIG_FILE"
    printf '%-24s %s\n' "pod start-up delay" "$(setting LIFTOFF_POD_STARTUP_MS) ms"
    kctl get nodes --no-headers 2>/dev/null | awk '{ printf "%-24s %s\n", "node " $1, $2 }'
  else
    ok=1
  fi
  return "$ok"
}

# ---------------------------------------------------------------- main

main() {
  case "${1:-}" in
    build) cmd_build ;;
    up) cmd_up ;;
    down) cmd_down ;;
    env) cmd_env ;;
    status) cmd_status ;;
    *)
      awk 'NR > 1 && /^# Health probes/ { exit } NR > 1 { sub(/^# ?/, ""); print }' \
        "${BASH_SOURCE[0]}" >&2
      exit 2
      ;;
  esac
}

main "$@"; exit $?
