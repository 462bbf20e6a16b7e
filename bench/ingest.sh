#!/usr/bin/env bash
# Benchmark (not a test) of liftoff-ingest: a redis-server with its default
# configuration, liftoff-ingest in front of it, and a load generator
# (bench/ingest_load.c) sending signed webhook events over keep-alive
# connections on loopback, one request in flight per connection. Prints
# accepted events/s, latency percentiles, checks that the stream holds
# exactly one entry per 202, and ends with one JSON line.
# Run by `make bench-ingest` (LIFTOFF_BIN points at the binaries).
# Knobs: BENCH_SECONDS (10), BENCH_CONNS (32), BENCH_WARMUP_SECONDS (2),
# BENCH_INGEST_ARGS (more liftoff-ingest flags, e.g. --redis-calls-in-flight 4).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${LIFTOFF_BIN:-bin}/liftoff-ingest
seconds=${BENCH_SECONDS:-10}
conns=${BENCH_CONNS:-32}
warmup=${BENCH_WARMUP_SECONDS:-2}
secret=bench-secret-$RANDOM$RANDOM
bench_name=ingest
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_require "$bin" redis-server redis-cli
bench_start

cc=${CC:-cc}
"$cc" -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -Ilib -I. \
  -Itests/integration -o "$out/ingest_load" bench/ingest_load.c \
  tests/integration/test_ingest_loadgen.c lib/ev.c lib/common.c lib/buf.c lib/conn.c \
  lib/conn_addr.c lib/conn_connect.c lib/conn_listen.c lib/conn_tls.c -lssl -lcrypto -lm

rport=$(free_port)
# The default configuration, except where it keeps its files.
(cd "$out" && exec redis-server --port "$rport" --bind 127.0.0.1 --dir "$out" \
  --logfile "$out/redis.log") &
pids+=($!)
wait_port "$rport"

printf '%s\n' "$secret" >"$out/secret"
iport=$(free_port)
"$bin" --listen "127.0.0.1:$iport" --redis "redis://127.0.0.1:$rport" \
  --secret-file "$out/secret" --log-level warn ${BENCH_INGEST_ARGS:-} 2>"$out/ingest.log" &
pids+=($!)
wait_port "$iport"

echo "bench-ingest: redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/'), liftoff-ingest," \
  "$conns connections, ${seconds}s after ${warmup}s warm-up, $(nproc) CPUs"
if [ "$warmup" != 0 ]; then
  "$out/ingest_load" 127.0.0.1 "$iport" "$secret" "$conns" "$warmup" warm \
    /v1/webhooks/producthunt/warmup >/dev/null
fi
ingest_pid=${pids[1]}
redis_pid=${pids[0]}
i0=$(cpu_ticks "$ingest_pid"); r0=$(cpu_ticks "$redis_pid")
# the machine's busy and total ticks over all CPUs (for the share of it the run used)
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat; }
read -r mb0 mt0 < <(machine_ticks)
"$out/ingest_load" 127.0.0.1 "$iport" "$secret" "$conns" "$seconds" run | tee "$out/result"
i1=$(cpu_ticks "$ingest_pid"); r1=$(cpu_ticks "$redis_pid")
read -r mb1 mt1 < <(machine_ticks)

accepted=$(sed -n 's/^answered 202 *\([0-9]*\).*/\1/p' "$out/result")
stored=$(redis-cli -p "$rport" XLEN liftoff:events:default) # the warm-up went to another launch
if [ "$stored" -eq "$accepted" ]; then
  echo "stream check: $stored entries from this run == $accepted answered 202: ok"
  check=true
else
  echo "stream check: $stored entries from this run != $accepted answered 202: MISMATCH"
  check=false
fi
hz=$(getconf CLK_TCK)
sent=$(sed -n 's/^requests sent *\([0-9]*\).*/\1/p' "$out/result")
per_event() { awk -v t="$1" -v hz="$hz" -v n="$sent" 'BEGIN { printf "%.1f", (n ? t * 1e6 / hz / n : 0) }'; }
ingest_us=$(per_event $((i1 - i0)))
redis_us=$(per_event $((r1 - r0)))
gen_us=$(sed -n 's/.*"generator_cpu_us_per_event":\([0-9.]*\).*/\1/p' "$out/result")
total_us=$(awk -v a="$ingest_us" -v b="$redis_us" -v c="$gen_us" 'BEGIN { printf "%.1f", a + b + c }')
ceiling=$(awk -v t="$total_us" -v n="$(nproc)" 'BEGIN { printf "%.0f", (t > 0 ? n * 1e6 / t : 0) }')
echo "CPU per event: liftoff-ingest $ingest_us us, redis-server $redis_us us, generator $gen_us us" \
  "(all three: $total_us us, so at most ~$ceiling events/s if they had all $(nproc) CPUs to themselves)"
busy_pct=$(awk -v b=$((mb1 - mb0)) -v t=$((mt1 - mt0)) 'BEGIN { printf "%.0f", (t > 0 ? 100 * b / t : 0) }')
own_pct=$(awk -v i=$((i1 - i0)) -v r=$((r1 - r0)) -v g="$gen_us" -v n="$sent" -v hz="$hz" -v t=$((mt1 - mt0)) \
  'BEGIN { printf "%.0f", (t > 0 ? 100 * (i + r + g * n * hz / 1e6) / t : 0) }')
echo "machine during the run: ${busy_pct}% of all CPU time busy, ${own_pct}% used by these three" \
  "(the rest idle or other load); load average $(cut -d' ' -f1-3 /proc/loadavg)"
if command -v curl >/dev/null; then
  curl -s "http://127.0.0.1:$iport/metrics" | awk '
    /^liftoff_ingest_redis_calls_total / { c = $2 }
    /^liftoff_ingest_redis_call_events_total / { e = $2 }
    END { if (c > 0) printf "Redis script calls: %d for %d events (%.1f events per call, warm-up included)\n", c, e, e / c }'
fi
json=$(tail -n 1 "$out/result")
echo "${json%\}},\"ingest_cpu_us_per_event\":$ingest_us,\"redis_cpu_us_per_event\":$redis_us,\"cpu_ceiling_events_per_s\":$ceiling,\"machine_busy_pct\":$busy_pct,\"bench_busy_pct\":$own_pct,\"stream_entries\":$stored,\"stream_matches_202\":$check}"
[ "$check" = true ]
