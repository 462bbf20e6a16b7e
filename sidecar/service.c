/* service.c — builds the sidecar (listeners, upstream pool, limiter,
 * metrics), probes the upstream until it answers once, and drains. */
#include "service.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "log.h"
#include "service_int.h"
#include "tunnel.h"

void sidecar_settings_defaults(sidecar_settings *s)
{
    memset(s, 0, sizeof *s);
    s->listen_host = "0.0.0.0";
    s->listen_port = 8080;
    s->upstream_host = "127.0.0.1";
    s->upstream_port = 8081;
    s->admin_host = "127.0.0.1";
    s->admin_port = 9901;
    s->connect_timeout_ms = 1000;
    s->response_timeout_ms = 30000;
    s->read_timeout_ms = 30000;
    s->header_timeout_ms = 10000;
    s->body_timeout_ms = 10000;
    s->idle_timeout_ms = 60000;
    s->upstream_idle_ms = 30000;
    s->upstream_idle_max = 256;
    s->max_conns = 10000;
    s->head_max = 16u << 10;
    s->body_max = HTTP_BODY_UNLIMITED;
    s->drain_delay_ms = 5000;
    s->probe_path = "/";
    s->probe_interval_ms = 1000;
    s->factor_poll_ms = 5000;
    s->policy_resync_ms = 30000;
    s->observed_interval_ms = 1000;
    s->tunnel_idle_ms = SIDECAR_TUNNEL_IDLE_DEFAULT_MS;
}

static void register_metrics(sidecar_service *svc)
{
    metrics_registry *m = svc->m = metrics_registry_new();
    metrics_family *req = metrics_counter_family(
        m, "liftoff_sidecar_responses_total", "Responses sent to clients by status class",
        metrics_labels("code"));
    static const char *const cls[] = { "other", "1xx", "2xx", "3xx", "4xx", "5xx" };
    for (int i = 0; i < 6; i++)
        svc->req_by_class[i] = metrics_counter_at(req, metrics_labels(cls[i]));
    metrics_family *shed = metrics_counter_family(
        m, "liftoff_sidecar_shed_total", "Requests refused with 503, by route priority and reason",
        metrics_labels("priority", "reason"));
    for (int p = 0; p < SIDECAR_PRIO_COUNT_; p++)
        for (int r = 0; r < SIDECAR_SHED_REASON_COUNT_; r++)
            svc->shed[p][r] = metrics_counter_at(
                shed, metrics_labels(sidecar_prio_name((sidecar_prio)p),
                                     sidecar_shed_reason_name((sidecar_shed_reason)r)));
    metrics_family *ue = metrics_counter_family(m, "liftoff_sidecar_upstream_errors_total",
                                                "Upstream exchanges that failed, by kind",
                                                metrics_labels("kind"));
    svc->upstream_err[0] = metrics_counter_at(ue, metrics_labels("connect"));
    svc->upstream_err[1] = metrics_counter_at(ue, metrics_labels("timeout"));
    svc->upstream_err[2] = metrics_counter_at(ue, metrics_labels("broken"));
    svc->latency = metrics_histogram_new(m, "liftoff_sidecar_upstream_seconds",
                                         "Time from request to the end of the upstream response",
                                         metrics_default_buckets, metrics_default_buckets_len);
    svc->g_inflight = metrics_gauge_new(m, "liftoff_sidecar_inflight", "Requests at the upstream");
    svc->g_queued = metrics_gauge_new(m, "liftoff_sidecar_queued", "Critical requests waiting");
    svc->g_limit = metrics_gauge_new(m, "liftoff_sidecar_concurrency_limit",
                                     "Current concurrency limit");
    svc->g_factor = metrics_gauge_new(m, "liftoff_sidecar_factor", "Load factor in use");
    svc->g_cache_bytes = metrics_gauge_new(m, "liftoff_sidecar_cache_bytes",
                                           "Bytes held by the micro-cache");
    svc->g_cache_entries = metrics_gauge_new(m, "liftoff_sidecar_cache_entries",
                                             "Entries in the micro-cache (markers included)");
    svc->g_cache_hits = metrics_gauge_new(m, "liftoff_sidecar_cache_hits",
                                          "Fresh micro-cache hits since start");
    svc->g_cache_misses = metrics_gauge_new(m, "liftoff_sidecar_cache_misses",
                                            "Micro-cache lookups that found nothing since start");
    svc->g_cache_fills = metrics_gauge_new(m, "liftoff_sidecar_cache_fills",
                                           "Micro-cache fills from the upstream in progress");
    svc->g_cache_waiting = metrics_gauge_new(m, "liftoff_sidecar_cache_waiting",
                                             "Requests waiting on another request's fill");
    svc->g_tunnels = metrics_gauge_new(m, "liftoff_sidecar_tunnels",
                                       "Upgrade tunnels (WebSocket) open");
    metrics_process_register(m);
}

/* ---- readiness probe: until the upstream has answered once ---- */

static void probe_done(http_creq *q, int err, void *ud)
{
    (void)q;
    sidecar_service *svc = ud;
    svc->probe = NULL;
    if (err == 0)
        svc->upstream_seen = true;
    if (!svc->upstream_seen && !svc->draining)
        ev_timer_start(svc->loop, &svc->probe_timer, svc->set.probe_interval_ms);
}

static void probe_head(http_creq *q, const http_response *res, void *ud)
{
    (void)q;
    (void)res;
    sidecar_service *svc = ud;
    svc->upstream_seen = true;
}

static void probe_tick(ev_loop *loop, ev_timer *t, void *arg)
{
    (void)loop;
    (void)t;
    sidecar_service *svc = arg;
    if (svc->upstream_seen || svc->probe)
        return;
    http_client_req o = {
        .method = "GET", .host = svc->upstream_host, .port = svc->set.upstream_port,
        .target = svc->probe_path, .on_head = probe_head, .on_done = probe_done, .ud = svc,
    };
    if (http_client_request(svc->cl, &o, &svc->probe) < 0) {
        svc->probe = NULL;
        ev_timer_start(svc->loop, &svc->probe_timer, svc->set.probe_interval_ms);
    }
}

/* ---- life ---- */

int sidecar_service_new(ev_loop *loop, const sidecar_settings *s, sidecar_rules *rules,
                        sidecar_service **out, char *err, size_t errlen)
{
    sidecar_service *svc = xcalloc(1, sizeof *svc);
    int rc;
    svc->loop = loop;
    svc->set = *s;
    if (!svc->set.tunnel_idle_ms)
        svc->set.tunnel_idle_ms = SIDECAR_TUNNEL_IDLE_DEFAULT_MS;
    svc->listen_host = xstrdup(s->listen_host && *s->listen_host ? s->listen_host : "0.0.0.0");
    svc->upstream_host = xstrdup(s->upstream_host && *s->upstream_host ? s->upstream_host
                                                                        : "127.0.0.1");
    /* NULL: loopback; "" (":PORT" on the command line): every address */
    svc->admin_host = s->admin_host ? (*s->admin_host ? xstrdup(s->admin_host) : NULL)
                                    : xstrdup("127.0.0.1");
    svc->probe_path = xstrdup(s->probe_path && *s->probe_path ? s->probe_path : "/");
    svc->rules = *rules;
    sidecar_rules_defaults(rules);
    sidecar_factor_init(&svc->fac);
    sidecar_obs_init(&svc->obs);
    svc->cache_entry_max = s->cache_entry_bytes ? s->cache_entry_bytes
                                                : SIDECAR_CACHE_ENTRY_DEFAULT;
    svc->cache = sidecar_cache_new(s->cache_bytes, svc->cache_entry_max);
    sidecar_limiter_init(&svc->lim, &svc->rules.bp, ev_now(loop));
    ev_timer_init(&svc->drain_timer, NULL, svc);
    ev_timer_init(&svc->probe_timer, probe_tick, svc);
    register_metrics(svc);

    http_client_opts co = {
        .connect_timeout_ms = s->connect_timeout_ms,
        .response_timeout_ms = s->response_timeout_ms,
        .read_timeout_ms = s->read_timeout_ms,
        .idle_timeout_ms = s->upstream_idle_ms,
        .max_idle_per_host = s->upstream_idle_max,
    };
    co.limits.body_max = HTTP_BODY_UNLIMITED;
    svc->cl = http_client_new(loop, &co);

    http_server_opts so = {
        .host = svc->listen_host,
        .port = s->listen_port,
        .max_conns = s->max_conns,
        .header_timeout_ms = s->header_timeout_ms,
        .body_timeout_ms = s->body_timeout_ms,
        .idle_timeout_ms = s->idle_timeout_ms,
        .stream_bodies = true,
        .on_request = sidecar_proxy_handle,
        .arg = svc,
    };
    so.limits.head_max = s->head_max;
    so.limits.body_max = s->body_max;
    if ((rc = http_server_start(loop, &so, &svc->srv, err, errlen)) < 0)
        goto fail;
    if (s->admin_port >= 0) {
        http_server_opts ao = {
            .host = svc->admin_host, .port = s->admin_port, .max_conns = 64,
            .on_request = sidecar_admin_handle, .arg = svc,
        };
        if ((rc = http_server_start(loop, &ao, &svc->admin, err, errlen)) < 0)
            goto fail;
    }
    if (s->redis_url && *s->redis_url) {
        char ns[SIDECAR_POLICY_NAME_MAX + 1], name[SIDECAR_POLICY_NAME_MAX + 1];
        if (sidecar_policy_split(s->policy, ns, name) < 0) {
            snprintf(err, errlen, "--policy must be NAMESPACE/NAME with --redis");
            rc = -EINVAL;
            goto fail;
        }
        char host[256] = "";
        const char *pod = s->pod;
        if (!pod || !*pod) {
            gethostname(host, sizeof host - 1);
            pod = *host ? host : "sidecar";
        }
        sidecar_feed_opts fo = {
            .url = s->redis_url, .ns = ns, .name = name, .pod = pod,
            .poll_ms = s->factor_poll_ms, .policy_resync_ms = s->policy_resync_ms,
            .observed_interval_ms = s->observed_interval_ms,
        };
        if ((rc = sidecar_feed_new(svc, &fo, &svc->feed, err, errlen)) < 0)
            goto fail;
    }
    ev_timer_start(loop, &svc->probe_timer, 0);
    *out = svc;
    return 0;
fail:
    sidecar_service_free(svc);
    return rc;
}

int sidecar_service_port(const sidecar_service *svc) { return http_server_port(svc->srv); }

int sidecar_service_admin_port(const sidecar_service *svc)
{
    return svc->admin ? http_server_port(svc->admin) : -1;
}

void sidecar_service_set_factor(sidecar_service *svc, double factor)
{
    sidecar_factor_set(&svc->fac, factor, 0, ev_now(svc->loop), (int64_t)lo_wall_ms());
}

double sidecar_service_factor(const sidecar_service *svc)
{
    return sidecar_factor_get(&svc->fac, svc->rules.factor_max_age_s, ev_now(svc->loop));
}

void sidecar_service_set_rules(sidecar_service *svc, sidecar_rules *rules)
{
    sidecar_rules_free(&svc->rules);
    svc->rules = *rules;
    sidecar_rules_defaults(rules);
    sidecar_limiter_configure(&svc->lim, &svc->rules.bp);
}

/* Closing connections (flushing their last bytes) finish in the
 * background: wait for them, a bounded while, before reporting done. */
static void linger_tick(ev_loop *loop, ev_timer *t, void *arg)
{
    sidecar_service *svc = arg;
    if (conn_live_count() > 0 && ev_now(loop) < svc->linger_until_ms) {
        ev_timer_start(loop, t, 10);
        return;
    }
    log_info("sidecar", "drained");
    if (svc->drained)
        svc->drained(svc->drained_arg);
}

static void server_drained(http_server *s, void *arg)
{
    (void)s;
    sidecar_service *svc = arg;
    /* Nothing is in flight any more: let the pooled upstream and admin
     * connections go too. */
    sidecar_refresh_cancel_all(svc);
    sidecar_tunnel_close_all(svc, true);
    http_client_free(svc->cl);
    svc->cl = NULL;
    http_server_free(svc->admin);
    svc->admin = NULL;
    svc->linger_until_ms = ev_now(svc->loop) + SIDECAR_LINGER_MS;
    ev_timer_init(&svc->drain_timer, linger_tick, svc);
    ev_timer_start(svc->loop, &svc->drain_timer, 0);
}

static void drain_delay_over(ev_loop *loop, ev_timer *t, void *arg)
{
    (void)loop;
    (void)t;
    sidecar_service *svc = arg;
    log_info("sidecar", "closing the listener", LF_UINT("inflight", svc->lim.inflight));
    http_server_drain(svc->srv, server_drained, svc);
}

void sidecar_service_drain(sidecar_service *svc, void (*done)(void *arg), void *arg)
{
    if (svc->draining)
        return;
    svc->draining = true;
    svc->drained = done;
    svc->drained_arg = arg;
    ev_timer_stop(svc->loop, &svc->probe_timer);
    log_info("sidecar", "draining", LF_UINT("delay_ms", svc->set.drain_delay_ms));
    ev_timer_init(&svc->drain_timer, drain_delay_over, svc);
    ev_timer_start(svc->loop, &svc->drain_timer, svc->set.drain_delay_ms);
}

void sidecar_service_free(sidecar_service *svc)
{
    if (!svc)
        return;
    ev_timer_stop(svc->loop, &svc->drain_timer);
    ev_timer_stop(svc->loop, &svc->probe_timer);
    sidecar_feed_free(svc->feed);
    sidecar_refresh_cancel_all(svc);
    sidecar_tunnel_close_all(svc, false);
    http_server_free(svc->srv);
    http_server_free(svc->admin);
    http_client_free(svc->cl);
    /* the servers are gone: no request waits or fills any more */
    while (svc->flights.head) {
        sidecar_flight *f = svc->flights.head;
        while (sidecar_flight_pop(f))
            ;
        sidecar_flight_end(&svc->flights, f);
    }
    sidecar_cache_free(svc->cache);
    metrics_registry_free(svc->m);
    sidecar_rules_free(&svc->rules);
    free(svc->listen_host);
    free(svc->upstream_host);
    free(svc->admin_host);
    free(svc->probe_path);
    free(svc);
}
