#!/usr/bin/env bash
# Benchmark (not a test) of liftoff-sidecar against the reverse proxies it
# replaces. One nginx (one worker) serves a 1 KiB file as the origin; wrk
# (BENCH_CONNS keep-alive connections) measures, alternating in one run over
# BENCH_ROUNDS rounds (the order rotates each round; medians count, and the
# ratios are the medians of each round's own ratios, so that load from other
# processes, which drifts between rounds, cancels out):
#   direct         the origin itself
#   nginx          nginx as a reverse proxy (proxy_pass, upstream keepalive,
#                  one worker)
#   haproxy        HAProxy (one thread, http-reuse always)
#   sidecar        liftoff-sidecar (one process; a rule that sets
#                  Cache-Control, as in production)
#   nginx-cache    nginx proxy_cache hits
#   sidecar-cache  liftoff-sidecar micro-cache hits
#   floor          bench/byte_relay.c: a relay that moves bytes between each
#                  client connection and its own upstream connection and
#                  parses nothing, with the system calls of a proxy at its
#                  minimum; its CPU per request is the kernel's loopback TCP
#                  cost under any proxy on this machine at this moment
# All three proxies add X-Forwarded-For, as the sidecar always does. The
# sidecar's adaptive concurrency limit is off (its static limit, 256, stays):
# wrk keeps 64 requests in flight on a saturated CPU, so latency rises with
# the load itself and the controller would answer part of them with 503,
# which measures shedding, not proxying; nginx and HAProxy shed nothing.
# Printed:
# rps, p50/p99 latency, each proxy's CPU seconds per 1,000 requests (from
# /proc/PID/stat utime+stime), the sidecar's RSS idle and under load, the
# ratios against the targets, the sidecar's CPU split into user and kernel
# time beside the floor's, then one JSON line.
#
# Pinning (BENCH_PIN, default 1 on machines with 2 or more CPUs): wrk runs on
# the last CPU, the origin and the proxy under test share the others. A load
# generator competing with the proxy for a CPU measures the generator as much
# as the proxy; pinned, every proxy meets the same origin on the same CPU and
# the rps of a round is its CPU cost per request plus the origin's. BENCH_PIN=0
# leaves placement to the scheduler.
#
# Run by `make bench-sidecar` (LIFTOFF_BIN points at the binaries).
# Knobs: BENCH_SECONDS (3 per measurement), BENCH_ROUNDS (5),
# BENCH_CONNS (64), BENCH_WARMUP_SECONDS (2), BENCH_PIN (see above),
# BENCH_BASELINE_BIN (another liftoff-sidecar binary, an earlier build say:
# measured in the same run as "baseline" and "baseline-cache", for a
# before/after comparison that the machine's other load cannot skew).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${LIFTOFF_BIN:-bin}/liftoff-sidecar
seconds=${BENCH_SECONDS:-3}
rounds=${BENCH_ROUNDS:-5}
conns=${BENCH_CONNS:-64}
baseline=${BENCH_BASELINE_BIN:-}
warmup=${BENCH_WARMUP_SECONDS:-2}
ncpu=$(nproc)
pin=${BENCH_PIN:-$([ "$ncpu" -ge 2 ] && echo 1 || echo 0)}
bench_name=sidecar
# shellcheck source=bench/lib.sh
. bench/lib.sh
bench_require "$bin" nginx haproxy wrk python3
cc=${CC:-cc}
[ -z "$baseline" ] || [ -x "$baseline" ] || { echo "bench-sidecar: $baseline is not a program" >&2; exit 2; }
bench_start
"$cc" -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o "$out/byte_relay" bench/byte_relay.c
wait_port_logs=1 # a proxy that does not come up says why in its log

if [ "$pin" = 1 ]; then
  gen_cpu=$((ncpu - 1))
  srv_cpus=0-$((ncpu - 2))
  [ "$ncpu" -eq 2 ] && srv_cpus=0
  srv() { exec taskset -c "$srv_cpus" "$@"; }
  gen() { taskset -c "$gen_cpu" "$@"; }
  placement="wrk on CPU $gen_cpu, origin and proxy on CPU $srv_cpus"
else
  srv() { exec "$@"; }
  gen() { "$@"; }
  placement="no pinning"
fi

# ---- the origin: nginx, one worker, a 1 KiB file ----
mkdir -p "$out/www/cached" "$out/tmp"
head -c 1024 /dev/zero | tr '\0' 'x' >"$out/www/file.bin"
cp "$out/www/file.bin" "$out/www/cached/file.bin"
nginx_common() { # $1: name
  cat <<EOF
daemon off;
master_process off;
worker_processes 1;
error_log $out/$1.error.log warn;
pid $out/$1.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $out/tmp/$1-body;
  proxy_temp_path $out/tmp/$1-proxy;
  fastcgi_temp_path $out/tmp/$1-fastcgi;
  uwsgi_temp_path $out/tmp/$1-uwsgi;
  scgi_temp_path $out/tmp/$1-scgi;
EOF
}
nginx_start() { # $1: name; the rest of its http{} block comes on stdin
  { nginx_common "$1"; cat; } >"$out/$1.conf"
  srv nginx -p "$out" -c "$out/$1.conf" &
  pids+=($!)
}
oport=$(free_port)
nginx_start origin <<EOF
  open_file_cache max=16;
  server {
    listen 127.0.0.1:$oport;
    keepalive_requests 1000000;
    root $out/www;
  }
}
EOF
origin_pid=$!

# ---- nginx as a reverse proxy (one worker), with proxy_cache on /cached/ ----
nport=$(free_port)
nginx_start proxy <<EOF
  proxy_cache_path $out/ngx-cache levels=1:2 keys_zone=mc:10m max_size=64m inactive=10m;
  upstream origin {
    server 127.0.0.1:$oport;
    keepalive 64;
  }
  server {
    listen 127.0.0.1:$nport;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    }
    location /cached/ {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_cache mc;
      proxy_cache_valid 200 60s;
    }
  }
}
EOF
nginx_pid=$!

# ---- HAProxy, one thread ----
hport=$(free_port)
cat >"$out/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  option forwardfor
  http-reuse always
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend fe
  bind 127.0.0.1:$hport
  default_backend origin
backend origin
  server o1 127.0.0.1:$oport
EOF
srv haproxy -db -f "$out/haproxy.cfg" >"$out/haproxy.log" 2>&1 &
pids+=($!)
haproxy_pid=$!

# ---- liftoff-sidecar: Cache-Control on everything, micro-cache on /cached/,
# the static concurrency limit only (see the top) ----
sport=$(free_port)
aport=$(free_port)
cat >"$out/rules.json" <<'EOF'
{"backpressure": {"adaptive": false},
 "routes": [
  {"match": {"prefix": "/cached/"}, "maxAge": 60,
   "microCache": {"enabled": true, "ttlSeconds": 60}},
  {"match": {"prefix": "/"}, "maxAge": 60}
]}
EOF
srv "$bin" --listen "127.0.0.1:$sport" --upstream "127.0.0.1:$oport" \
  --admin "127.0.0.1:$aport" --config "$out/rules.json" --log-level warn \
  2>"$out/sidecar.log" &
pids+=($!)
sidecar_pid=$!
fport=$(free_port)
srv "$out/byte_relay" "$fport" "$oport" 2>"$out/relay.log" &
pids+=($!)
floor_pid=$!
ports=("$oport" "$nport" "$hport" "$sport" "$aport" "$fport")
if [ -n "$baseline" ]; then
  bport=$(free_port)
  baport=$(free_port)
  srv "$baseline" --listen "127.0.0.1:$bport" --upstream "127.0.0.1:$oport" \
    --admin "127.0.0.1:$baport" --config "$out/rules.json" --log-level warn \
    2>"$out/baseline.log" &
  pids+=($!)
  baseline_pid=$!
  ports+=("$bport" "$baport")
fi

for p in "${ports[@]}"; do wait_port "$p"; done
sleep 0.5
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
sidecar_rss_idle=$(rss_kb "$sidecar_pid")

names=(direct nginx haproxy sidecar nginx-cache sidecar-cache floor)
declare -A url pid_of
url[direct]="http://127.0.0.1:$oport/file.bin"
url[nginx]="http://127.0.0.1:$nport/file.bin"
url[haproxy]="http://127.0.0.1:$hport/file.bin"
url[sidecar]="http://127.0.0.1:$sport/file.bin"
url[nginx-cache]="http://127.0.0.1:$nport/cached/file.bin"
url[sidecar-cache]="http://127.0.0.1:$sport/cached/file.bin"
url[floor]="http://127.0.0.1:$fport/file.bin"
pid_of[direct]=$origin_pid
pid_of[nginx]=$nginx_pid
pid_of[haproxy]=$haproxy_pid
pid_of[sidecar]=$sidecar_pid
pid_of[nginx-cache]=$nginx_pid
pid_of[sidecar-cache]=$sidecar_pid
pid_of[floor]=$floor_pid
if [ -n "$baseline" ]; then
  names+=(baseline baseline-cache)
  url[baseline]="http://127.0.0.1:$bport/file.bin"
  url[baseline-cache]="http://127.0.0.1:$bport/cached/file.bin"
  pid_of[baseline]=$baseline_pid
  pid_of[baseline-cache]=$baseline_pid
fi

# The answers are what they should be before anything is measured.
for n in "${names[@]}"; do
  got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "${url[$n]}")
  [ "$got" = "200 1024" ] || { echo "bench-sidecar: $n answers \"$got\", not 200 with 1 KiB" >&2; exit 1; }
done
cache_check=$(curl -s -D - -o /dev/null "${url[sidecar-cache]}" | tr -d '\r' | sed -n 's/^Cache-Status: //p')
sc_cc=$(curl -s -D - -o /dev/null "${url[sidecar]}" | tr -d '\r' | sed -n 's/^Cache-Control: //p')

wrk_run() { # $1 name, $2 seconds, $3 result file
  gen wrk -t1 -c"$conns" -d"$2"s --latency "${url[$1]}" >"$3"
}
to_ms() { # "1.23ms" / "850.00us" / "1.02s" -> ms
  awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /[0-9]s$/) n *= 1000; printf "%.3f", n }'
}
hz=$(getconf CLK_TCK)

echo "bench-sidecar: origin nginx $(nginx -v 2>&1 | sed 's|.*/||'), HAProxy $(haproxy -v | sed -n '1s/^HAProxy version \([^ ]*\).*/\1/p')," \
  "liftoff-sidecar; wrk $conns connections keep-alive, ${seconds}s x $rounds rounds, $ncpu CPUs, $placement"
echo "sidecar: ${sc_cc:+Cache-Control \"$sc_cc\" set by its rule; }micro-cache answers \"$cache_check\""
if [ "$warmup" != 0 ]; then
  for n in "${names[@]}"; do wrk_run "$n" "$warmup" /dev/null; done
fi

declare -A rps_l p50_l p99_l cpu_l usr_l errs
user_ticks() { awk '{ print $14 }' "/proc/$1/stat"; }
ratio_proxy_l="" ratio_cache_l="" ratio_hap_l="" ratio_base_l="" ratio_basec_l=""
nerrs=0
rss_load_max=0
for ((r = 0; r < rounds; r++)); do
  for ((k = 0; k < ${#names[@]}; k++)); do
    n=${names[$(((k + r) % ${#names[@]}))]}
    res="$out/wrk-$n-$r"
    pid=${pid_of[$n]}
    t0=$(cpu_ticks "$pid")
    u0=$(user_ticks "$pid")
    if [ "$pid" = "$sidecar_pid" ]; then
      (sleep "$(awk -v s="$seconds" 'BEGIN { print s / 2 }')"; rss_kb "$sidecar_pid" >"$out/rss-$n-$r") &
    fi
    wrk_run "$n" "$seconds" "$res"
    t1=$(cpu_ticks "$pid")
    u1=$(user_ticks "$pid")
    wait_rss=$(cat "$out/rss-$n-$r" 2>/dev/null || echo 0)
    [ "$wait_rss" -gt "$rss_load_max" ] && rss_load_max=$wait_rss
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$res")
    total=$(awk '/ requests in / { print $1 }' "$res")
    p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$res")")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$res")")
    bad=$(awk '/Non-2xx|Socket errors/ { s = s $0 "; " } END { print s }' "$res")
    cpu=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v n="$total" 'BEGIN { printf "%.4f", (n ? t / hz / n * 1000 : 0) }')
    rps_l[$n]+="$rps "
    p50_l[$n]+="$p50 "
    p99_l[$n]+="$p99 "
    cpu_l[$n]+="$cpu "
    usr_l[$n]+="$(awk -v t=$((u1 - u0)) -v hz="$hz" -v n="$total" 'BEGIN { printf "%.4f", (n ? t / hz / n * 1000 : 0) }') "
    if [ -n "$bad" ]; then errs[$n]+="$bad"; nerrs=$((nerrs + 1)); fi
    eval "rps_r_${n/-/_}=$rps"
    printf '  round %d %-14s %8s rps  p50 %7.3f ms  p99 %7.3f ms  %s CPU s/1k req %s\n' \
      $((r + 1)) "$n" "$rps" "$p50" "$p99" "$([ "$n" = direct ] && echo origin || echo proxy)" "$cpu"
  done
  # this round's ratios: sidecar / the faster proxy, micro-cache / proxy_cache
  ratio_proxy_l+="$(awk -v s="$rps_r_sidecar" -v a="$rps_r_nginx" -v b="$rps_r_haproxy" \
    'BEGIN { printf "%.4f", s / (a > b ? a : b) }') "
  ratio_cache_l+="$(awk -v s="$rps_r_sidecar_cache" -v n="$rps_r_nginx_cache" 'BEGIN { printf "%.4f", s / n }') "
  ratio_hap_l+="$(awk -v a="$rps_r_haproxy" -v b="$rps_r_nginx" 'BEGIN { printf "%.4f", a / b }') "
  if [ -n "$baseline" ]; then
    ratio_base_l+="$(awk -v a="$rps_r_sidecar" -v b="$rps_r_baseline" 'BEGIN { printf "%.4f", a / b }') "
    ratio_basec_l+="$(awk -v a="$rps_r_sidecar_cache" -v b="$rps_r_baseline_cache" 'BEGIN { printf "%.4f", a / b }') "
  fi
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.4f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
declare -A RPS P50 P99 CPU USR
echo
# Medians, and the best round of each (highest rps, least CPU): other
# processes only ever slow a round down, so the best rounds show what each
# costs by itself.
best() { tr ' ' '\n' | grep -v '^$' | sort -g | sed -n "$1"; }
declare -A BRPS BCPU
printf '%-14s %9s %9s %9s %14s   %9s %14s\n' config rps "p50 ms" "p99 ms" "CPU s/1k req" "best rps" "best CPU s/1k"
for n in "${names[@]}"; do
  RPS[$n]=$(median <<<"${rps_l[$n]}")
  P50[$n]=$(median <<<"${p50_l[$n]}")
  P99[$n]=$(median <<<"${p99_l[$n]}")
  CPU[$n]=$(median <<<"${cpu_l[$n]}")
  USR[$n]=$(median <<<"${usr_l[$n]}")
  BRPS[$n]=$(best '$p' <<<"${rps_l[$n]}")
  BCPU[$n]=$(best 1p <<<"${cpu_l[$n]}")
  printf '%-14s %9.0f %9.3f %9.3f %14.4f   %9.0f %14.4f%s\n' "$n" "${RPS[$n]}" "${P50[$n]}" "${P99[$n]}" "${CPU[$n]}" \
    "${BRPS[$n]}" "${BCPU[$n]}" \
    "$([ -n "${errs[$n]+x}" ] && echo "  ERRORS: ${errs[$n]}")"
done

calc() { awk "BEGIN { printf \"%.3f\", ($1) }"; }
best_proxy=$(awk -v a="${RPS[nginx]}" -v b="${RPS[haproxy]}" 'BEGIN { print (a >= b ? "nginx" : "haproxy") }')
r_proxy=$(calc "$(median <<<"$ratio_proxy_l")")
r_haproxy_nginx=$(calc "$(median <<<"$ratio_hap_l")")
added_sc=$(calc "${P99[sidecar]} - ${P99[direct]}")
added_ngx=$(calc "${P99[nginx]} - ${P99[direct]}")
added_hap=$(calc "${P99[haproxy]} - ${P99[direct]}")
added_best=$(awk -v a="$added_ngx" -v b="$added_hap" 'BEGIN { printf "%.3f", (a < b ? a : b) }')
r_cache=$(calc "$(median <<<"$ratio_cache_l")")
b_proxy=$(awk -v s="${BRPS[sidecar]}" -v a="${BRPS[nginx]}" -v b="${BRPS[haproxy]}" 'BEGIN { printf "%.3f", s / (a > b ? a : b) }')
b_cache=$(calc "${BRPS[sidecar-cache]} / ${BRPS[nginx-cache]}")
r_ngxcache_direct=$(calc "${RPS[nginx-cache]} / ${RPS[direct]}")
rss_idle_mb=$(calc "$sidecar_rss_idle / 1024")
rss_load_mb=$(calc "$rss_load_max / 1024")
cpu_sc=${CPU[sidecar]}
verdict() { awk -v ok="$1" 'BEGIN { print (ok ? "met" : "NOT met") }'; }
echo
echo "ratios (target in brackets):"
echo "  proxied rps   sidecar / the faster of nginx and HAProxy (per round; $best_proxy by median) = $r_proxy  [>= 1.1: $(verdict "$(calc "$r_proxy >= 1.1")")]" \
  "(HAProxy / nginx = $r_haproxy_nginx)"
echo "  added p99     sidecar $added_sc ms, nginx $added_ngx ms, HAProxy $added_hap ms  [below both: $(verdict "$(calc "$added_sc < $added_best")")]"
echo "  best rounds   proxied: sidecar / the faster proxy = $b_proxy; cache hits: sidecar / nginx = $b_cache"
echo "  cache hits    sidecar micro-cache / nginx proxy_cache = $r_cache  [>= 1.2: $(verdict "$(calc "$r_cache >= 1.2")")]" \
  "(nginx cache hit / origin direct = $r_ngxcache_direct)"
echo "  sidecar RSS   idle $rss_idle_mb MB, under load $rss_load_mb MB  [idle <= 8 MB: $(verdict "$(calc "$rss_idle_mb <= 8")")]"
echo "  sidecar CPU   $cpu_sc s per 1,000 requests proxied, ${CPU[sidecar-cache]} per 1,000 hits" \
  "(nginx ${CPU[nginx]}, HAProxy ${CPU[haproxy]})  [<= 0.02: $(verdict "$(calc "$cpu_sc <= 0.02")")]"
calc4() { awk "BEGIN { printf \"%.4f\", ($1) }"; }
sys_sc=$(calc4 "$cpu_sc - ${USR[sidecar]}")
sys_floor=$(calc4 "${CPU[floor]} - ${USR[floor]}")
echo "  floor         a byte relay (no HTTP, the same system calls) ${CPU[floor]} s per 1,000 requests" \
  "(kernel $sys_floor), $(awk -v f="${CPU[floor]}" 'BEGIN { printf "%.0f", 100 * f / 0.02 }')% of the 0.02 target;" \
  "the sidecar: user ${USR[sidecar]} + kernel $sys_sc, $(calc4 "$cpu_sc - ${CPU[floor]}") above the floor"
if [ -n "$baseline" ]; then
  r_base=$(calc "$(median <<<"$ratio_base_l")")
  r_basec=$(calc "$(median <<<"$ratio_basec_l")")
  echo "  vs baseline   proxied rps x$r_base, cache-hit rps x$r_basec; CPU s per 1,000 requests" \
    "${CPU[baseline]} -> $cpu_sc proxied, ${CPU[baseline-cache]} -> ${CPU[sidecar-cache]} hits"
fi
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg)"
json="{\"bench\":\"sidecar\",\"conns\":$conns,\"seconds\":$seconds,\"rounds\":$rounds,\"pinned\":$([ "$pin" = 1 ] && echo true || echo false)"
for n in "${names[@]}"; do
  k=${n/-/_}
  json+=",\"${k}_rps\":${RPS[$n]},\"${k}_p50_ms\":${P50[$n]},\"${k}_p99_ms\":${P99[$n]}"
  [ "$n" != direct ] && json+=",\"${k}_cpu_s_per_1k\":${CPU[$n]}"
done
json+=",\"ratio_sidecar_vs_best_proxy\":$r_proxy,\"ratio_haproxy_vs_nginx\":$r_haproxy_nginx"
json+=",\"added_p99_ms_sidecar\":$added_sc,\"added_p99_ms_nginx\":$added_ngx,\"added_p99_ms_haproxy\":$added_hap"
json+=",\"best_ratio_sidecar_vs_best_proxy\":$b_proxy,\"best_ratio_cache_sidecar_vs_nginx\":$b_cache"
json+=",\"ratio_cache_sidecar_vs_nginx\":$r_cache,\"ratio_nginx_cache_vs_direct\":$r_ngxcache_direct"
json+=",\"sidecar_user_cpu_s_per_1k\":${USR[sidecar]},\"floor_user_cpu_s_per_1k\":${USR[floor]}"
json+=",\"sidecar_rss_idle_mb\":$rss_idle_mb,\"sidecar_rss_load_mb\":$rss_load_mb"
[ -n "$baseline" ] && json+=",\"ratio_sidecar_vs_baseline\":$r_base,\"ratio_cache_vs_baseline\":$r_basec"
json+=",\"errors\":$([ "$nerrs" -eq 0 ] && echo false || echo true)}"
echo "$json"
