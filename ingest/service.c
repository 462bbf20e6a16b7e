/* service.c — building, reloading, draining and freeing liftoff-ingest's
 * parts (see service.h). */
#include <stdlib.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"
#include "launch_name.h"
#include "log.h"
#include "service_int.h"

#include "append_script.h"
#include "replay.h"

void ingest_settings_defaults(ingest_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->listen_host = "";
    s->listen_port = 8080;
    s->redis_url = "redis://127.0.0.1:6379";
    s->secret_reload_ms = 10000;
    s->launch = "default";
    s->platform = "producthunt";
    s->sig_header = "X-Producthunt-Signature";
    s->sig_prefix = "sha256=";
    s->ts_header = "X-Producthunt-Timestamp";
    s->replay_window_ms = INGEST_REPLAY_WINDOW_DEFAULT_MS;
    s->body_max = INGEST_BODY_MAX_DEFAULT;
    s->json_depth_max = INGEST_DEPTH_MAX_DEFAULT;
    s->batch_max = INGEST_BATCH_MAX_DEFAULT;
    s->stream_maxlen = INGEST_MAXLEN_DEFAULT;
    s->dedupe_ttl_ms = (uint64_t)INGEST_DEDUPE_TTL_DEFAULT_S * 1000;
    s->redis_deadline_ms = 1000;
    s->retry_after_ms = 1000;
    s->inflight_max = INGEST_STORE_INFLIGHT_DEFAULT;
    s->redis_calls_max = INGEST_STORE_CALLS_DEFAULT;
    s->cors_origins = "";
    s->rate_limit = 20;
    s->rate_burst = 40;
    s->rate_clients = INGEST_RL_CLIENTS_DEFAULT;
    s->max_conns = 4096;
    s->max_requests_per_conn = 10000;
    s->header_timeout_ms = 5000;
    s->body_timeout_ms = 5000;
    s->idle_timeout_ms = 60000;
}

static const char *keep(ingest_service *svc, const char *s)
{
    char *c = xstrdup(s ? s : "");
    if (svc->nowned == LO_ARRAY_SIZE(svc->owned))
        abort(); /* more string settings than slots: a programming error */
    svc->owned[svc->nowned++] = c;
    return c;
}

static int load_secrets(ingest_service *svc, char *err, size_t errlen)
{
    ingest_keyring *k = NULL;
    struct stat st;
    int rc = ingest_keyring_load(svc->set.secret_file, &k, err, errlen);
    if (rc < 0)
        return rc;
    if (stat(svc->set.secret_file, &st) == 0)
        svc->secret_st = st;
    ingest_keyring_free(svc->keys);
    svc->keys = k;
    return 0;
}

int ingest_service_reload_secrets(ingest_service *svc)
{
    char err[256];
    int rc = load_secrets(svc, err, sizeof(err));
    if (rc < 0)
        log_error("ingest", "secret reload failed; keeping the old secrets", LF_STR("reason", err));
    else
        log_info("ingest", "secrets loaded", LF_UINT("count", ingest_keyring_count(svc->keys)));
    return rc;
}

/* Reloads when the file changed (Kubernetes swaps secret files by symlink,
 * which changes the inode). A stat() of a small local file is cheap. */
static void on_reload_timer(ev_loop *loop, ev_timer *t, void *arg)
{
    ingest_service *svc = arg;
    struct stat st;
    if (stat(svc->set.secret_file, &st) == 0 &&
        (st.st_ino != svc->secret_st.st_ino || st.st_mtim.tv_sec != svc->secret_st.st_mtim.tv_sec ||
         st.st_mtim.tv_nsec != svc->secret_st.st_mtim.tv_nsec || st.st_size != svc->secret_st.st_size))
        ingest_service_reload_secrets(svc);
    ev_timer_start(loop, t, svc->set.secret_reload_ms);
}

static void on_redis_state(rds *r, rds_event ev, void *arg)
{
    (void)arg;
    if (ev == RDS_UP)
        log_info("ingest", "redis up");
    else if (ev == RDS_DOWN)
        log_warn("ingest", "redis down", LF_STR("reason", rds_error(r)));
    else
        log_warn_limited("ingest", "redis connect failed", LF_STR("reason", rds_error(r)));
}

static void refresh_gauges(void *arg, ingest_tm_gauges *g)
{
    ingest_service *svc = arg;
    ingest_store_stats st;
    ingest_store_get_stats(svc->store, &st);
    g->redis_up = rds_is_up(svc->redis);
    g->inflight_events = st.inflight;
    g->connections = svc->http ? http_server_conn_count(svc->http) : 0;
    g->redis_calls = st.calls;
    g->redis_call_events = st.events;
}

int ingest_service_new(ev_loop *loop, const ingest_settings *s, ingest_service **out, char *err,
                       size_t errlen)
{
    int rc = 0;
    ingest_service *svc = xcalloc(1, sizeof(*svc));
    *out = NULL;
    svc->loop = loop;
    svc->set = *s;
    svc->set.listen_host = keep(svc, s->listen_host);
    svc->set.redis_url = keep(svc, s->redis_url);
    svc->set.secret_file = keep(svc, s->secret_file);
    svc->set.launch = keep(svc, s->launch);
    svc->set.platform = keep(svc, s->platform);
    svc->set.sig_header = keep(svc, s->sig_header);
    svc->set.sig_prefix = keep(svc, s->sig_prefix);
    svc->set.ts_header = keep(svc, s->ts_header);
    svc->set.cors_origins = keep(svc, s->cors_origins);
    svc->limits.max_body = s->body_max;
    svc->limits.max_depth = s->json_depth_max;
    svc->limits.max_batch = LO_MIN(s->batch_max, (size_t)INGEST_STORE_CALL_EVENTS_MAX);
    ev_timer_init(&svc->reload_timer, on_reload_timer, svc);

    if (!launch_name_valid(svc->set.launch, strlen(svc->set.launch))) {
        snprintf(err, errlen, "--launch: \"%s\" is not 1..%d of A-Z a-z 0-9 _ - .",
                 svc->set.launch, LAUNCH_NAME_MAX);
        rc = -EINVAL;
        goto fail;
    }
    if (!launch_name_valid(svc->set.platform, strlen(svc->set.platform))) {
        snprintf(err, errlen, "--platform: \"%s\" is not a path segment of A-Z a-z 0-9 _ - .",
                 svc->set.platform);
        rc = -EINVAL;
        goto fail;
    }
    if (strlen(svc->set.sig_prefix) > INGEST_SIG_PREFIX_MAX) {
        snprintf(err, errlen, "--signature-prefix: longer than %d bytes", INGEST_SIG_PREFIX_MAX);
        rc = -EINVAL;
        goto fail;
    }
    if (s->batch_max > INGEST_STORE_CALL_EVENTS_MAX) {
        snprintf(err, errlen, "--batch-max: at most %d events", INGEST_STORE_CALL_EVENTS_MAX);
        rc = -EINVAL;
        goto fail;
    }
    rc = load_secrets(svc, err, errlen);
    if (rc < 0)
        goto fail;
    rc = ingest_cors_parse(svc->set.cors_origins, &svc->cors, err, errlen);
    if (rc < 0)
        goto fail;
    ingest_rl_opts rlo = { .rate = s->rate_limit, .burst = s->rate_burst,
                           .max_clients = s->rate_clients };
    svc->rl = ingest_rl_new(&rlo);
    if (!svc->rl) {
        snprintf(err, errlen, "rate limit: rate must be > 0, burst >= 1, clients <= %u",
                 INGEST_RL_CLIENTS_MAX);
        rc = -EINVAL;
        goto fail;
    }
    rds_opts ro = {
        .url = svc->set.redis_url,
        .command_timeout_ms = (uint32_t)s->redis_deadline_ms,
        .fail_fast = true,
        .backoff_min_ms = 50,
        .backoff_max_ms = 2000,
        .on_state = on_redis_state,
        .state_arg = svc,
    };
    char rerr[256] = "";
    rc = rds_new(loop, &ro, &svc->redis, rerr, sizeof(rerr));
    if (rc < 0) {
        snprintf(err, errlen, "--redis: %s", rerr);
        goto fail;
    }
    ingest_store_opts so = {
        .maxlen = s->stream_maxlen,
        .ttl_s = LO_MAX(s->dedupe_ttl_ms / 1000, (uint64_t)1),
        .inflight_max = s->inflight_max,
        .calls_max = s->redis_calls_max,
    };
    svc->store = ingest_store_new(loop, svc->redis, &so);
    svc->tm = ingest_tm_new(refresh_gauges, svc);
    http_server_opts ho = {
        .host = svc->set.listen_host[0] ? svc->set.listen_host : NULL,
        .port = s->listen_port,
        .max_conns = s->max_conns,
        .max_requests = s->max_requests_per_conn,
        .header_timeout_ms = (uint32_t)s->header_timeout_ms,
        .body_timeout_ms = (uint32_t)s->body_timeout_ms,
        .idle_timeout_ms = (uint32_t)s->idle_timeout_ms,
        .body_buffer_max = s->body_max,
        .on_request = ingest_server_handle,
        .arg = svc,
    };
    char herr[256] = "";
    rc = http_server_start(loop, &ho, &svc->http, herr, sizeof(herr));
    if (rc < 0) {
        snprintf(err, errlen, "--listen: %s", herr);
        goto fail;
    }
    if (s->secret_reload_ms)
        ev_timer_start(loop, &svc->reload_timer, s->secret_reload_ms);
    *out = svc;
    return 0;
fail:
    ingest_service_free(svc);
    return rc;
}

int ingest_service_port(const ingest_service *svc)
{
    return http_server_port(svc->http);
}

static void drained(http_server *s, void *arg)
{
    ingest_service *svc = arg;
    (void)s;
    if (svc->drain_done)
        svc->drain_done(svc->drain_arg);
}

void ingest_service_drain(ingest_service *svc, void (*done)(void *arg), void *arg)
{
    svc->draining = true;
    svc->drain_done = done;
    svc->drain_arg = arg;
    http_server_drain(svc->http, drained, svc);
}

void ingest_service_free(ingest_service *svc)
{
    if (!svc)
        return;
    ev_timer_stop(svc->loop, &svc->reload_timer);
    /* Order: requests turn dead, then Redis fails what is in flight (whose
     * callbacks finish those requests), then the store drops its queue. */
    http_server_free(svc->http);
    svc->http = NULL;
    rds *r = svc->redis;
    svc->redis = NULL;
    rds_free(r);
    ingest_store_free(svc->store);
    ingest_tm_free(svc->tm);
    ingest_rl_free(svc->rl);
    ingest_cors_free(svc->cors);
    ingest_keyring_free(svc->keys);
    for (size_t i = 0; i < svc->nowned; i++)
        free(svc->owned[i]);
    free(svc);
}
