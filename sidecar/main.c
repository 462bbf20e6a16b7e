/* main.c — liftoff-sidecar: reads the options and the rules file, builds
 * the service, runs the loop until SIGTERM/SIGINT, then drains (see
 * service.h and lifecycle.h) and exits 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "config.h"
#include "ev.h"
#include "lifecycle.h"
#include "log.h"

#include "rules.h"
#include "service.h"

#ifndef LIFTOFF_VERSION
#define LIFTOFF_VERSION "0.1.0"
#endif

static struct {
    cfg_hostport listen;
    cfg_hostport upstream;
    cfg_hostport admin;
    char *redis;
    char *policy;
    char *config;
    uint64_t connect_timeout_ms;
    uint64_t response_timeout_ms;
    uint64_t read_timeout_ms;
    uint64_t header_timeout_ms;
    uint64_t body_timeout_ms;
    uint64_t idle_timeout_ms;
    uint64_t upstream_idle_ms;
    int upstream_idle_max;
    int max_conns;
    size_t head_max;
    uint64_t drain_delay_ms;
    uint64_t grace_ms;
    char *probe_path;
    char *log_level;
    uint64_t factor_poll_ms;
    uint64_t policy_resync_ms;
    char *pod;
    uint64_t observed_interval_ms;
    size_t cache_bytes;
    size_t cache_entry_bytes;
    uint64_t tunnel_idle_ms;
} c;

static const cfg_option options[] = {
    CFG_HOSTPORT("listen", &c.listen, "0.0.0.0:8080", "address clients connect to"),
    CFG_HOSTPORT("upstream", &c.upstream, "127.0.0.1:8081",
                 "the app (numeric address or localhost)"),
    CFG_HOSTPORT("admin", &c.admin, "127.0.0.1:9901",
                 "admin port: GET /healthz /readyz /metrics /config, POST /warm /purge "
                 "(:PORT listens on every address, as the controller's pre-warming needs)"),
    CFG_STRING("redis", &c.redis, "", "Redis URL: the factor and the rules from the predictor",
               .flags = CFG_SECRET),
    CFG_STRING("policy", &c.policy, "", "the LaunchPolicy as NAMESPACE/NAME (with --redis)"),
    CFG_DURATION("factor-poll", &c.factor_poll_ms, "5s", 100, 600000,
                 "with --redis: read the forecast hash this often besides the subscription"),
    CFG_DURATION("policy-resync", &c.policy_resync_ms, "30s", 100, 3600000,
                 "with --redis: read the policy this often besides the subscription"),
    CFG_STRING("pod", &c.pod, "", "with --redis: this pod's name in liftoff:observed (default: hostname)"),
    CFG_DURATION("observed-interval", &c.observed_interval_ms, "1s", 0, 600000,
                 "with --redis: report rps, p99 and sheds to liftoff:observed this often (0: never)"),
    CFG_STRING("config", &c.config, "", "rules file: JSON of a policy's spec.sidecar section"),
    CFG_DURATION("connect-timeout", &c.connect_timeout_ms, "1s", 1, 600000,
                 "upstream connect (504 after; a refused connection is 502 at once)"),
    CFG_DURATION("upstream-timeout", &c.response_timeout_ms, "30s", 1, 3600000,
                 "request sent to the upstream's response head (504 after)"),
    CFG_DURATION("upstream-read-timeout", &c.read_timeout_ms, "30s", 1, 3600000,
                 "longest pause inside an upstream response body"),
    CFG_DURATION("header-timeout", &c.header_timeout_ms, "10s", 1, 600000,
                 "time a client has to send a request head (408 after)"),
    CFG_DURATION("body-timeout", &c.body_timeout_ms, "10s", 1, 600000,
                 "longest pause inside a client request body"),
    CFG_DURATION("idle-timeout", &c.idle_timeout_ms, "60s", 1, 3600000,
                 "client keep-alive connections idle longer are closed"),
    CFG_DURATION("upstream-idle-timeout", &c.upstream_idle_ms, "30s", 1, 3600000,
                 "pooled upstream connections idle longer are closed"),
    CFG_INT("upstream-idle-max", &c.upstream_idle_max, "256", 1, 100000,
            "idle upstream connections kept in the pool"),
    CFG_INT("max-conns", &c.max_conns, "10000", 1, 1000000, "client connections at most"),
    CFG_SIZE("max-head", &c.head_max, "16KiB", 1024, 1 << 20,
             "largest request head (431 above)"),
    CFG_DURATION("drain-delay", &c.drain_delay_ms, "5s", 0, 600000,
                 "after SIGTERM, keep accepting this long (readyz fails meanwhile)"),
    CFG_DURATION("grace", &c.grace_ms, "25s", 1, 3600000,
                 "after SIGTERM, exit by then even if requests are still in flight"),
    CFG_STRING("probe-path", &c.probe_path, "/",
               "path requested from the upstream until it answers once (readiness)"),
    CFG_SIZE("cache-size", &c.cache_bytes, "64MiB", 1 << 20, (size_t)1 << 40,
             "micro-cache size (entries, headers, keys and per-entry overhead)"),
    CFG_SIZE("cache-entry-max", &c.cache_entry_bytes, "8MiB", 1024, (size_t)1 << 32,
             "largest response the micro-cache stores"),
    CFG_DURATION("tunnel-idle-timeout", &c.tunnel_idle_ms, "300s", 1, 86400000,
                 "an Upgrade (WebSocket) tunnel with no byte either way this long is closed"),
    CFG_STRING("log-level", &c.log_level, "info", "debug, info, warn or error"),
    CFG_END,
};

static const cfg_spec spec = {
    "liftoff-sidecar", LIFTOFF_VERSION,
    "per-pod reverse proxy: Cache-Control from launch velocity, priority load shedding",
    options,
};

typedef struct sidecar_run {
    ev_loop *loop;
    sidecar_service *svc;
    lifecycle lc;
} sidecar_run;

static void sidecar_drained(void *arg)
{
    sidecar_run *st = arg;
    lifecycle_done(&st->lc);
    ev_stop(st->loop);
}

static void sidecar_drain(ev_loop *loop, void *arg)
{
    (void)loop;
    sidecar_run *st = arg;
    sidecar_service_drain(st->svc, sidecar_drained, st);
}

int main(int argc, char **argv)
{
    int status = 1;
    char err[512] = "";
    sidecar_run st = { 0 };
    sidecar_rules rules;
    sidecar_settings set;
    log_level lvl;

    sidecar_rules_defaults(&rules);
    cfg_parse_or_exit(&spec, argc, argv);
    if (log_level_parse(c.log_level, &lvl) < 0) {
        fprintf(stderr, "liftoff-sidecar: --log-level: \"%s\" is not debug, info, warn or error\n",
                c.log_level);
        cfg_free(&spec);
        return CFG_EXIT_USAGE;
    }
    log_set_level(lvl);
    if (c.config && *c.config && sidecar_rules_load_file(c.config, &rules, err, sizeof err) < 0) {
        fprintf(stderr, "liftoff-sidecar: --config %s\n", err);
        cfg_free(&spec);
        return CFG_EXIT_USAGE;
    }

    sidecar_settings_defaults(&set);
    set.listen_host = c.listen.host;
    set.listen_port = c.listen.port;
    set.upstream_host = c.upstream.host;
    set.upstream_port = c.upstream.port;
    set.admin_host = c.admin.host;
    set.admin_port = c.admin.port;
    set.connect_timeout_ms = (uint32_t)c.connect_timeout_ms;
    set.response_timeout_ms = (uint32_t)c.response_timeout_ms;
    set.read_timeout_ms = (uint32_t)c.read_timeout_ms;
    set.header_timeout_ms = (uint32_t)c.header_timeout_ms;
    set.body_timeout_ms = (uint32_t)c.body_timeout_ms;
    set.idle_timeout_ms = (uint32_t)c.idle_timeout_ms;
    set.upstream_idle_ms = (uint32_t)c.upstream_idle_ms;
    set.upstream_idle_max = (unsigned)c.upstream_idle_max;
    set.max_conns = (uint32_t)c.max_conns;
    set.head_max = (uint32_t)c.head_max;
    set.drain_delay_ms = c.drain_delay_ms;
    set.probe_path = c.probe_path;
    set.redis_url = c.redis;
    set.policy = c.policy;
    set.factor_poll_ms = (uint32_t)c.factor_poll_ms;
    set.policy_resync_ms = (uint32_t)c.policy_resync_ms;
    set.pod = c.pod;
    set.observed_interval_ms = (uint32_t)c.observed_interval_ms;
    set.cache_bytes = c.cache_bytes;
    set.cache_entry_bytes = c.cache_entry_bytes;
    set.tunnel_idle_ms = (uint32_t)c.tunnel_idle_ms;

    st.loop = ev_loop_new();
    if (sidecar_service_new(st.loop, &set, &rules, &st.svc, err, sizeof err) < 0) {
        log_error("sidecar", "cannot start", LF_STR("reason", err));
        goto out;
    }
    if (lifecycle_init(&st.lc, st.loop, c.grace_ms, sidecar_drain, &st) < 0)
        goto out;
    log_info("sidecar", "listening", LF_INT("port", sidecar_service_port(st.svc)),
             LF_INT("admin_port", sidecar_service_admin_port(st.svc)),
             LF_STR("upstream", c.upstream.host), LF_INT("upstream_port", c.upstream.port));
    if (ev_run(st.loop) == 0)
        status = 0;
out:
    sidecar_service_free(st.svc);
    sidecar_rules_free(&rules);
    if (st.loop)
        ev_loop_free(st.loop);
    cfg_free(&spec);
    return status;
}
