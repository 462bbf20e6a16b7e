/* main.c — liftoff-ingest: reads the options, builds the service, runs the
 * loop until SIGTERM/SIGINT (then drains, see lifecycle.h), reloads the
 * secrets on SIGHUP. */
#include <stdlib.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "common.h"
#include "config.h"
#include "ev.h"
#include "lifecycle.h"
#include "log.h"

#include "service.h"

#ifndef LIFTOFF_VERSION
#define LIFTOFF_VERSION "0.1.0"
#endif

static struct {
    cfg_hostport listen;
    char *redis;
    char *secret_file;
    uint64_t secret_reload_ms;
    char *launch;
    char *platform;
    char *sig_header;
    char *sig_prefix;
    char *ts_header;
    uint64_t replay_window_ms;
    size_t max_body;
    int json_depth;
    int batch_max;
    int stream_maxlen;
    uint64_t dedupe_ttl_ms;
    uint64_t redis_deadline_ms;
    uint64_t retry_after_ms;
    int inflight_max;
    int redis_calls;
    char *cors_origins;
    double rate_limit;
    double rate_burst;
    int rate_clients;
    bool trust_xff;
    int max_conns;
    int max_requests;
    uint64_t header_timeout_ms;
    uint64_t body_timeout_ms;
    uint64_t idle_timeout_ms;
    uint64_t drain_timeout_ms;
    char *log_level;
} c;

static const cfg_option options[] = {
    CFG_HOSTPORT("listen", &c.listen, "0.0.0.0:8080", "address to serve HTTP on"),
    CFG_STRING("redis", &c.redis, "redis://127.0.0.1:6379",
               "Redis URL (redis:// or rediss://, see the README)", .flags = CFG_SECRET),
    CFG_STRING("secret-file", &c.secret_file, NULL,
               "file with the webhook secrets, one per line (any may sign: rotation)",
               .flags = CFG_REQUIRED),
    CFG_DURATION("secret-reload", &c.secret_reload_ms, "10s", 0, 3600000,
                 "check the secret file this often and reload it when it changed (0: never; "
                 "SIGHUP reloads too)"),
    CFG_STRING("launch", &c.launch, "default",
               "launch for paths that name none: stream liftoff:events:<launch>"),
    CFG_STRING("platform", &c.platform, "producthunt",
               "webhook path segment: POST /v1/webhooks/<platform>[/<launch>]"),
    CFG_STRING("signature-header", &c.sig_header, "X-Producthunt-Signature",
               "header carrying the webhook signature"),
    CFG_STRING("signature-prefix", &c.sig_prefix, "sha256=",
               "text before the hex HMAC-SHA256 in the signature header"),
    CFG_STRING("timestamp-header", &c.ts_header, "X-Producthunt-Timestamp",
               "webhook timestamp header checked against the replay window when present "
               "(empty: never)"),
    CFG_DURATION("replay-window", &c.replay_window_ms, "5m", 1000, 86400000,
                 "webhooks whose timestamp is further from now are refused as replays"),
    CFG_SIZE("max-body", &c.max_body, "64KiB", 64, 16 << 20, "largest request body (413 above)"),
    CFG_INT("max-json-depth", &c.json_depth, "16", 2, 256, "deepest JSON nesting accepted"),
    CFG_INT("batch-max", &c.batch_max, "100", 1, 170, "most visitor events per request"),
    CFG_INT("stream-maxlen", &c.stream_maxlen, "1000000", 1000, 2000000000,
            "approximate stream length kept (XADD MAXLEN ~)"),
    CFG_DURATION("dedupe-ttl", &c.dedupe_ttl_ms, "24h", 1000, 30ull * 86400000,
                 "how long an event id is remembered to drop duplicate deliveries"),
    CFG_DURATION("redis-deadline", &c.redis_deadline_ms, "1s", 10, 60000,
                 "an append Redis has not acknowledged by then is answered 503"),
    CFG_DURATION("retry-after", &c.retry_after_ms, "1s", 1000, 3600000,
                 "Retry-After sent with 503 answers"),
    CFG_INT("inflight-max", &c.inflight_max, "50000", 1, 10000000,
            "events waiting for Redis at most; more are answered 503"),
    CFG_INT("redis-calls-in-flight", &c.redis_calls, "4", 1, 64,
            "append-script calls sent to Redis and not yet answered, at most; appends "
            "arriving meanwhile wait and go in the next call"),
    CFG_STRING("cors-origins", &c.cors_origins, "",
               "origins allowed to POST /v1/events from a browser, comma-separated "
               "(exact origins, https://*.example.com, or *)"),
    CFG_DOUBLE("rate-limit", &c.rate_limit, "20", 0.001, 1e6,
               "event batches per second per client address (/v1/events)"),
    CFG_DOUBLE("rate-burst", &c.rate_burst, "40", 1, 1e6, "burst allowed above the rate"),
    CFG_INT("rate-limit-clients", &c.rate_clients, "65536", 16, 1 << 24,
            "client buckets kept (least recently seen dropped first)"),
    CFG_BOOL("trust-forwarded-for", &c.trust_xff, "false",
             "take the client address from the last X-Forwarded-For entry (behind a proxy)"),
    CFG_INT("max-conns", &c.max_conns, "4096", 1, 1000000,
            "open client connections at most (more are answered 503 and closed)"),
    CFG_INT("max-requests-per-conn", &c.max_requests, "10000", 1, 100000000,
            "requests on one keep-alive connection before it is closed"),
    CFG_DURATION("header-timeout", &c.header_timeout_ms, "5s", 100, 600000,
                 "time to send a request head"),
    CFG_DURATION("body-timeout", &c.body_timeout_ms, "5s", 100, 600000,
                 "longest pause while sending a body"),
    CFG_DURATION("idle-timeout", &c.idle_timeout_ms, "60s", 100, 3600000,
                 "keep-alive connections idle longer are closed"),
    CFG_DURATION("drain-timeout", &c.drain_timeout_ms, "20s", 100, 600000,
                 "on SIGTERM, time to finish requests in progress before exiting"),
    CFG_STRING("log-level", &c.log_level, "info", "debug, info, warn or error"),
    CFG_END,
};

static const cfg_spec spec = {
    "liftoff-ingest", LIFTOFF_VERSION,
    "receives signed launch-platform webhooks and visitor events, stores them in a Redis stream",
    options,
};

typedef struct run_state {
    ev_loop *loop;
    ingest_service *svc;
    lifecycle lc;
} run_state;

static void drained(void *arg)
{
    run_state *st = arg;
    log_info("ingest", "drained");
    lifecycle_done(&st->lc);
    ev_stop(st->loop);
}

static void drain(ev_loop *loop, void *arg)
{
    run_state *st = arg;
    (void)loop;
    ingest_service_drain(st->svc, drained, st);
}

static void on_sighup(ev_loop *loop, int signo, void *arg)
{
    run_state *st = arg;
    (void)loop;
    (void)signo;
    ingest_service_reload_secrets(st->svc);
}

/* Room for --max-conns connections plus Redis, the listener and logs: the
 * soft descriptor limit (often 1024) is raised towards the hard one. */
static void raise_fd_limit(uint64_t conns)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)conns + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
        log_warn("ingest", "descriptor limit below --max-conns", LF_UINT("limit", rl.rlim_cur),
                 LF_UINT("max_conns", conns));
}

static void settings_from_options(ingest_settings *s)
{
    ingest_settings_defaults(s);
    s->listen_host = c.listen.host;
    s->listen_port = c.listen.port;
    s->redis_url = c.redis;
    s->secret_file = c.secret_file;
    s->secret_reload_ms = c.secret_reload_ms;
    s->launch = c.launch;
    s->platform = c.platform;
    s->sig_header = c.sig_header;
    s->sig_prefix = c.sig_prefix ? c.sig_prefix : "";
    s->ts_header = c.ts_header ? c.ts_header : "";
    s->replay_window_ms = c.replay_window_ms;
    s->body_max = c.max_body;
    s->json_depth_max = c.json_depth;
    s->batch_max = (size_t)c.batch_max;
    s->stream_maxlen = (uint64_t)c.stream_maxlen;
    s->dedupe_ttl_ms = c.dedupe_ttl_ms;
    s->redis_deadline_ms = c.redis_deadline_ms;
    s->retry_after_ms = c.retry_after_ms;
    s->inflight_max = (size_t)c.inflight_max;
    s->redis_calls_max = (size_t)c.redis_calls;
    s->cors_origins = c.cors_origins ? c.cors_origins : "";
    s->rate_limit = c.rate_limit;
    s->rate_burst = c.rate_burst;
    s->rate_clients = (size_t)c.rate_clients;
    s->trust_forwarded_for = c.trust_xff;
    s->max_conns = (uint32_t)c.max_conns;
    s->max_requests_per_conn = (uint32_t)c.max_requests;
    s->header_timeout_ms = c.header_timeout_ms;
    s->body_timeout_ms = c.body_timeout_ms;
    s->idle_timeout_ms = c.idle_timeout_ms;
}

int main(int argc, char **argv)
{
    int status = 1;
    char err[512] = "";
    run_state st = { 0 };
    ingest_settings set;
    log_level lvl;

    cfg_parse_or_exit(&spec, argc, argv);
    if (log_level_parse(c.log_level, &lvl) < 0) {
        fprintf(stderr, "liftoff-ingest: --log-level: \"%s\" is not debug, info, warn or error\n",
                c.log_level);
        cfg_free(&spec);
        return CFG_EXIT_USAGE;
    }
    log_set_level(lvl);
    settings_from_options(&set);
    raise_fd_limit(set.max_conns);
    st.loop = ev_loop_new();
    int rc = ingest_service_new(st.loop, &set, &st.svc, err, sizeof(err));
    if (rc < 0) {
        log_error("ingest", "cannot start", LF_STR("reason", err));
        goto out;
    }
    rc = lifecycle_init(&st.lc, st.loop, c.drain_timeout_ms, drain, &st);
    if (rc == 0)
        rc = ev_signal(st.loop, SIGHUP, on_sighup, &st);
    if (rc < 0) {
        log_error("ingest", "cannot set up signals", LF_ERR(rc));
        goto out;
    }
    log_info("ingest", "listening", LF_STR("host", set.listen_host[0] ? set.listen_host : "*"),
             LF_INT("port", ingest_service_port(st.svc)), LF_STR("launch", set.launch));
    if (ev_run(st.loop) == 0)
        status = 0;
out:
    lifecycle_done(&st.lc);
    ingest_service_free(st.svc);
    ev_loop_free(st.loop);
    cfg_free(&spec);
    return status;
}
