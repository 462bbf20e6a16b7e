#!/usr/bin/env bash
# Benchmark (not a test) of liftoff-predictor: a redis-server with its default
# configuration holds a stream pre-filled with launch-shaped engagement
# events (bench/predictor_tool.c fill: explicit ids over a 20-minute launch
# curve that ended two minutes ago, so the window rebuild finds nothing and
# everything goes through the consumer group); the predictor consumes it from
# the start (a group created at 0) with --exit-when-caught-up. Printed:
#   - events/s of the predictor (from its first read to caught up) and of the
#     whole run, its CPU time, its peak RSS after 100k and after 1M events;
#   - the raw read rate of one client paging the stream with XRANGE COUNT 1000;
#   - the naive predictor (a sorted-set window in Redis: ZADD +
#     ZREMRANGEBYSCORE + ZRANGE per event) on the first events, extrapolated
#     as a rate;
#   - both ratios;
#   - the lag from XADD to PUBLISH, live: events appended as ingest does
#     (XADD *, a burst every 5 ms) along a launch wave peaking at
#     BENCH_LIVE_PEAK events/s for BENCH_LIVE_SECONDS, while a subscriber
#     times every message carrying a new last_id from that entry's XADD, and
#     the predictor's own histogram (oldest entry of a batch to the PUBLISH
#     it caused);
# then one JSON line.
# Run by `make bench-predictor` (LIFTOFF_BIN points at the binaries).
# Knobs: BENCH_EVENTS (1000000), BENCH_SMALL_EVENTS (100000),
# BENCH_NAIVE_EVENTS (50000), BENCH_NAIVE_SECONDS (30), BENCH_LIVE_SECONDS (20),
# BENCH_LIVE_PEAK (5000), BENCH_FLAGS (extra predictor flags, e.g. --no-ack).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${LIFTOFF_BIN:-bin}/liftoff-predictor
events=${BENCH_EVENTS:-1000000}
small=${BENCH_SMALL_EVENTS:-100000}
naive_events=${BENCH_NAIVE_EVENTS:-50000}
naive_seconds=${BENCH_NAIVE_SECONDS:-30}
live_seconds=${BENCH_LIVE_SECONDS:-20}
live_peak=${BENCH_LIVE_PEAK:-5000}
flags=${BENCH_FLAGS:-}
bench_name=predictor
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_require "$bin" redis-server redis-cli
bench_start

cc=${CC:-cc}
"$cc" -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror $(pkg-config --cflags hiredis) \
  -o "$out/tool" bench/predictor_tool.c $(pkg-config --libs hiredis) -lm

rport=$(free_port)
# The default configuration, except where it keeps its files.
(cd "$out" && exec redis-server --port "$rport" --bind 127.0.0.1 --dir "$out" \
  --logfile "$out/redis.log") &
pids+=($!)
wait_port "$rport"
rcli() { redis-cli -p "$rport" "$@"; }

end_ms=$(( $(date +%s%3N) - 120000 ))
echo "bench-predictor: redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')," \
  "$(nproc) CPUs, load average $(cut -d' ' -f1 /proc/loadavg) at start"

# consume STREAM N: runs the predictor over a stream of N events; sets
# run_ms rss_kib cpu_s applied caught_ms
consume() {
  local stream=$1 launch=${1#liftoff:events:}
  rcli XGROUP CREATE "$stream" liftoff-predictor 0 >/dev/null
  local line
  line=$("$out/tool" run "$bin" --redis "redis://127.0.0.1:$rport" --listen 127.0.0.1:0 \
    --launch "$launch" --policy bench/web --exit-when-caught-up --log-level info $flags \
    2>"$out/predictor-$launch.log")
  read -r run_ms rss_kib status cpu_s <<<"$line"
  if [ "$status" != 0 ]; then
    echo "bench-predictor: the predictor exited with $status" >&2
    tail -5 "$out/predictor-$launch.log" >&2
    exit 1
  fi
  local caught
  caught=$(grep '"msg":"caught up"' "$out/predictor-$launch.log" | tail -1)
  applied=$(sed 's/.*"applied":\([0-9]*\).*/\1/' <<<"$caught")
  caught_ms=$(sed 's/.*"ms":\([0-9]*\).*/\1/' <<<"$caught")
}

echo "filling liftoff:events:small ($small events) and liftoff:events:bench ($events events)..."
"$out/tool" fill "$rport" liftoff:events:small "$small" "$end_ms" >/dev/null
read -r filled first_ms last_ms <<<"$("$out/tool" fill "$rport" liftoff:events:bench "$events" "$end_ms")"
echo "  $filled events over $(( (last_ms - first_ms) / 1000 )) s of launch time;" \
  "redis memory $(rcli INFO memory | sed -n 's/^used_memory_human:\(.*\)\r$/\1/p')"

consume liftoff:events:small
small_rss=$rss_kib small_rate=$(( applied * 1000 / (caught_ms > 0 ? caught_ms : 1) ))
consume liftoff:events:bench
[ "$applied" -eq "$events" ] || { echo "bench-predictor: applied $applied of $events" >&2; exit 1; }
rate=$(( applied * 1000 / (caught_ms > 0 ? caught_ms : 1) ))
run_rate=$(( applied * 1000 / (run_ms > 0 ? run_ms : 1) ))
cpu_rate=$(python3 -c "print(round($applied / $cpu_s))")
pending=$(rcli XPENDING liftoff:events:bench liftoff-predictor | head -1)
published=$(rcli HGET liftoff:forecast:bench:web last_id)

read -r raw_n raw_s raw_rate <<<"$("$out/tool" xrange "$rport" liftoff:events:bench)"
read -r naive_n naive_s naive_rate naive_eps <<<"$("$out/tool" naive "$rport" liftoff:events:bench \
  "$naive_events" "$naive_seconds" 60)"

# ---- live: lag from XADD to PUBLISH ----
aport=$(free_port)
"$bin" --redis "redis://127.0.0.1:$rport" --listen "127.0.0.1:$aport" --launch live \
  --policy bench/live --log-level warn $flags 2>"$out/predictor-live.log" &
live_pid=$!
pids+=($live_pid)
for _ in $(seq 1 250); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$aport/readyz")" = 200 ] && break
  sleep 0.02
done
"$out/tool" watch "$rport" "$(( live_seconds + 2 ))" >"$out/watch" &
watch_pid=$!
sleep 0.5
read -r live_n live_s <<<"$("$out/tool" live "$rport" liftoff:events:live "$live_seconds" "$live_peak")"
wait "$watch_pid"
read -r w_p50 w_p99 w_max w_n <"$out/watch"
curl -s "http://127.0.0.1:$aport/metrics" >"$out/metrics"
kill -TERM "$live_pid"
wait "$live_pid" || { echo "bench-predictor: the live predictor did not stop cleanly" >&2; exit 1; }
# p50/p99 of the predictor's histogram: the upper bound of the bucket holding them
read -r h_n h_p50 h_p99 <<<"$(python3 - "$out/metrics" <<'PY'
import re, sys
b = [(float('inf') if le == '+Inf' else float(le), int(float(v)))
     for le, v in re.findall(r'^liftoff_predictor_publish_lag_seconds_bucket\{le="([^"]+)"\} (\S+)',
                             open(sys.argv[1]).read(), re.M)]
n = b[-1][1] if b else 0
q = lambda f: next((le for le, c in b if c >= f * n), float('inf')) * 1000
print(n, q(0.5), q(0.99))
PY
)"

ratio_raw=$(python3 -c "print(f'{$rate / $raw_rate:.2f}')")
ratio_naive=$(python3 -c "print(f'{$rate / $naive_rate:.0f}')")
printf '%-44s %12s\n' "predictor, first read to caught up" "$rate events/s"
printf '%-44s %12s\n' "predictor, whole run (start-up included)" "$run_rate events/s ($run_ms ms)"
printf '%-44s %12s\n' "predictor, per CPU second of its own" "$cpu_rate events/s ($cpu_s s CPU)"
printf '%-44s %12s\n' "peak RSS after $small events" "$small_rss KiB"
printf '%-44s %12s\n' "peak RSS after $events events" "$rss_kib KiB"
printf '%-44s %12s\n' "raw XRANGE COUNT 1000, one client" "$raw_rate entries/s ($raw_n in $raw_s s)"
printf '%-44s %12s\n' "naive sorted-set window (first $naive_n)" "$naive_rate events/s ($naive_s s)"
printf '%-44s %12s\n' "predictor / raw read" "$ratio_raw"
printf '%-44s %12s\n' "predictor / naive" "${ratio_naive}x"
printf '%-44s %12s\n' "live: entries appended" "$live_n in $live_s s (peak $live_peak/s)"
printf '%-44s %12s\n' "live: XADD to PUBLISH seen by a subscriber" "p50 $w_p50 ms, p99 $w_p99 ms, max $w_max ms ($w_n messages)"
printf '%-44s %12s\n' "live: predictor histogram (change publishes)" "p50 <= $h_p50 ms, p99 <= $h_p99 ms ($h_n publishes)"
echo "group pending after the run: $pending; last published id: $published"
echo "{\"bench\":\"predictor\",\"events\":$applied,\"events_per_s\":$rate,\"run_events_per_s\":$run_rate,\"cpu_events_per_s\":$cpu_rate,\"cpu_s\":$cpu_s,\"rss_kib_small\":$small_rss,\"small_events\":$small,\"rss_kib\":$rss_kib,\"raw_xrange_per_s\":$raw_rate,\"naive_events\":$naive_n,\"naive_per_s\":$naive_rate,\"ratio_raw\":$ratio_raw,\"ratio_naive\":$ratio_naive,\"live_events\":$live_n,\"lag_sub_p50_ms\":$w_p50,\"lag_sub_p99_ms\":$w_p99,\"lag_sub_max_ms\":$w_max,\"lag_hist_p99_le_ms\":$h_p99,\"pending_after\":$pending,\"flags\":\"$flags\",\"load_avg\":$(cut -d' ' -f1 /proc/loadavg)}"
