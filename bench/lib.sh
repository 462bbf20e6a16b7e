# bench/lib.sh — shell helpers shared by the bench/*.sh scripts. Sourced
# (not run) from the repository root after the script sets bench_name (its
# messages say "bench-$bench_name: ..."). Defines:
#   bench_require BIN TOOL...  exit 2 unless every TOOL is on PATH and BIN is
#                              an executable
#   bench_start                a scratch directory in $out and an empty pids
#                              array; at exit every pid in pids is killed,
#                              waited for, and $out removed
#   free_port                  prints a free loopback TCP port
#   wait_port PORT             waits up to ~5 s for a listener on PORT, else
#                              fails saying so (with wait_port_logs=1, also
#                              the last lines of $out/*.log)
#   cpu_ticks PID              user + system CPU time of PID, in clock ticks
# shellcheck shell=bash
: "${bench_name:?set bench_name before sourcing bench/lib.sh}"

bench_require() { # $1: the program under test, then the tools it needs
  local bin=$1 tool
  shift
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "bench-$bench_name: $tool missing (make deps)" >&2; exit 2; }
  done
  [ -x "$bin" ] || { echo "bench-$bench_name: $bin not built" >&2; exit 2; }
}

bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$out"
}

bench_start() {
  out=$(mktemp -d "${TMPDIR:-/tmp}/liftoff-bench-$bench_name.XXXXXX")
  pids=()
  trap bench_cleanup EXIT
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() { # $1: port
  for _ in $(seq 1 250); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.02
  done
  if [ "${wait_port_logs:-0}" = 1 ]; then
    echo "bench-$bench_name: nothing listens on port $1 (logs: $(tail -n 3 "$out"/*.log 2>/dev/null | tr "\n" " "))" >&2
  else
    echo "bench-$bench_name: nothing listens on port $1" >&2
  fi
  return 1
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
