#!/usr/bin/env bash
# Installs the Debian packages liftoff's build, tests and benchmarks need.
# Only what is missing; a no-op (well under a second) when all are present.
set -euo pipefail

packages=(
  build-essential pkg-config clang libclang-rt-14-dev
  libcurl4-openssl-dev libjansson-dev libhiredis-dev libyaml-dev libssl-dev
  libwebsockets-dev libhttp-parser-dev
  redis-server nginx-light haproxy wrk
  cppcheck clang-tidy valgrind openssl curl python3 jq iproute2 shellcheck
  librsvg2-bin
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The packaged services must not run on their default ports: tests start their own.
for svc in redis-server nginx haproxy; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    "${sudo_cmd[@]}" systemctl stop "$svc" || true
  fi
done
