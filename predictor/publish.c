/* publish.c — forecast snapshots and their publication (see publish.h). */
#include "publish.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "decide.h"
#include "log.h"

#include "service_int.h"

void pred_snapshot_take(pred_snapshot *s, const pred_track *t, uint64_t now_ms)
{
    const fc_policy *p = &t->fc.pol;
    memset(s, 0, sizeof *s);
    s->eps = pred_track_eps(t);
    s->updated_at = now_ms;
    pred_id_format(t->applied, s->last_id, sizeof s->last_id);
    bool provisional = false;
    const fc_output *o = pred_track_current(t, &provisional);
    if (o) {
        s->provisional = provisional;
        s->forecast_eps = o->eps_forecast;
        s->trend = o->eps_trend;
        s->predicted_rps = o->predicted_rps;
        s->predicted_upper = o->predicted_upper;
        s->observed_rps = o->observed_rps;
        s->factor = o->factor;
        s->desired_replicas = pred_track_desired(t, o);
        s->reason = s->desired_replicas > o->decision.replicas
                        ? PRED_REASON_PROVISIONAL
                        : decide_reason_name(o->decision.reason);
        s->tick = o->now_s;
        return;
    }
    /* no engagement seen yet: the service runs at its base load */
    uint32_t floor = decide_schedule_floor(p, (int64_t)(now_ms / 1000));
    s->predicted_rps = p->base_rps;
    s->predicted_upper = p->base_rps;
    s->observed_rps = -1;
    s->factor = 1;
    s->desired_replicas = floor > p->min_replicas ? floor : p->min_replicas;
    s->reason = decide_reason_name(floor > p->min_replicas ? DECIDE_SCHEDULE : DECIDE_MIN);
}

static bool moved(double prev, double cur, double threshold)
{
    double base = fabs(prev) > PRED_CHANGE_FLOOR ? fabs(prev) : PRED_CHANGE_FLOOR;
    return fabs(cur - prev) > threshold * base;
}

bool pred_snapshot_significant(const pred_snapshot *prev, const pred_snapshot *cur,
                               double threshold)
{
    return prev->desired_replicas != cur->desired_replicas ||
           moved(prev->eps, cur->eps, threshold) ||
           moved(prev->forecast_eps, cur->forecast_eps, threshold) ||
           moved(prev->predicted_rps, cur->predicted_rps, threshold) ||
           moved(prev->factor, cur->factor, threshold);
}

/* A finite number for the wire. */
static double fin(double v)
{
    return isfinite(v) ? v : 0;
}

size_t pred_snapshot_fields(const pred_snapshot *s, const char **names, char **values,
                            char *store, size_t storelen)
{
    static const char *const keys[PRED_SNAPSHOT_FIELDS] = {
        "eps", "forecast_eps", "trend", "predicted_rps", "predicted_upper", "observed_rps",
        "factor", "desired_replicas", "reason", "tick", "last_id", "updated_at", "provisional",
    };
    size_t used = 0, n = 0;
    for (size_t i = 0; i < PRED_SNAPSHOT_FIELDS; i++) {
        char *out = store + used;
        size_t room = storelen - used;
        int len;
        switch (i) {
        case 0: len = snprintf(out, room, "%.9g", fin(s->eps)); break;
        case 1: len = snprintf(out, room, "%.9g", fin(s->forecast_eps)); break;
        case 2: len = snprintf(out, room, "%.9g", fin(s->trend)); break;
        case 3: len = snprintf(out, room, "%.9g", fin(s->predicted_rps)); break;
        case 4: len = snprintf(out, room, "%.9g", fin(s->predicted_upper)); break;
        case 5: len = snprintf(out, room, "%.9g", fin(s->observed_rps)); break;
        case 6: len = snprintf(out, room, "%.9g", fin(s->factor)); break;
        case 7: len = snprintf(out, room, "%" PRIu32, s->desired_replicas); break;
        case 8: len = snprintf(out, room, "%s", s->reason ? s->reason : ""); break;
        case 9: len = snprintf(out, room, "%" PRId64, s->tick); break;
        case 10: len = snprintf(out, room, "%s", s->last_id); break;
        case 11: len = snprintf(out, room, "%" PRIu64, s->updated_at); break;
        default: len = snprintf(out, room, "%d", s->provisional ? 1 : 0); break;
        }
        if (len < 0 || (size_t)len >= room)
            break;
        names[n] = keys[i];
        values[n++] = out;
        used += (size_t)len + 1;
    }
    return n;
}

size_t pred_snapshot_json(const pred_snapshot *s, const char *ns, const char *name, char *buf,
                          size_t len)
{
    int n = snprintf(buf, len,
                     "{\"namespace\":\"%s\",\"name\":\"%s\",\"eps\":%.9g,\"forecast_eps\":%.9g,"
                     "\"trend\":%.9g,\"predicted_rps\":%.9g,\"predicted_upper\":%.9g,"
                     "\"observed_rps\":%.9g,\"factor\":%.9g,\"desired_replicas\":%" PRIu32 ","
                     "\"reason\":\"%s\",\"tick\":%" PRId64 ",\"last_id\":\"%s\","
                     "\"updated_at\":%" PRIu64 ",\"provisional\":%d}",
                     ns, name, fin(s->eps), fin(s->forecast_eps), fin(s->trend),
                     fin(s->predicted_rps), fin(s->predicted_upper), fin(s->observed_rps),
                     fin(s->factor), s->desired_replicas, s->reason ? s->reason : "", s->tick,
                     s->last_id, s->updated_at, s->provisional ? 1 : 0);
    return n < 0 || (size_t)n >= len ? 0 : (size_t)n;
}

static void on_reply(rds *r, const redisReply *reply, int err, void *arg)
{
    (void)r;
    (void)arg;
    if (err == -ECANCELED)
        return;
    if (err < 0)
        log_warn_limited("predictor", "publish failed", LF_ERR(err));
    else if (reply->type == REDIS_REPLY_ERROR)
        log_warn_limited("predictor", "publish refused", LF_STRN("redis_error", reply->str,
                                                                 reply->len));
}

static void set_gauges(pred_policy *pol, const pred_snapshot *s)
{
    metrics_gauge_set(pol->g_eps, s->eps);
    metrics_gauge_set(pol->g_forecast_eps, s->forecast_eps);
    metrics_gauge_set(pol->g_rps, s->predicted_rps);
    metrics_gauge_set(pol->g_factor, s->factor);
    metrics_gauge_set(pol->g_replicas, s->desired_replicas);
}

void pred_publish(pred_policy *pol, uint64_t lag_from_ms)
{
    pred *p = pol->svc;
    pred_snapshot s;
    uint64_t now = lo_wall_ms();
    pred_snapshot_take(&s, &pol->track, now);

    char store[PRED_SNAPSHOT_JSON_MAX];
    const char *names[PRED_SNAPSHOT_FIELDS];
    char *values[PRED_SNAPSHOT_FIELDS];
    size_t n = pred_snapshot_fields(&s, names, values, store, sizeof store);
    const char *argv[2 + 2 * PRED_SNAPSHOT_FIELDS];
    size_t argvlen[2 + 2 * PRED_SNAPSHOT_FIELDS];
    int argc = 0;
    argv[argc] = "HSET";
    argvlen[argc++] = 4;
    argv[argc] = pol->key_forecast;
    argvlen[argc++] = strlen(pol->key_forecast);
    for (size_t i = 0; i < n; i++) {
        argv[argc] = names[i];
        argvlen[argc++] = strlen(names[i]);
        argv[argc] = values[i];
        argvlen[argc++] = strlen(values[i]);
    }
    rds_command_argv(p->rc, argc, argv, argvlen, on_reply, p);
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%" PRIu64, p->set.forecast_ttl_ms);
    rds_command(p->rc, on_reply, p, "PEXPIRE %s %s", pol->key_forecast, ttl);
    char json[PRED_SNAPSHOT_JSON_MAX];
    size_t jl = pred_snapshot_json(&s, pol->ns, pol->name, json, sizeof json);
    if (jl)
        rds_command(p->rc, on_reply, p, "PUBLISH %s %b", PRED_FORECAST_CHANNEL, json, jl);

    if (lag_from_ms && now >= lag_from_ms)
        metrics_histogram_observe(p->m.lag, (double)(now - lag_from_ms) / 1000.0);
    set_gauges(pol, &s);
    pol->pub = s;
    pol->have_pub = true;
}

void pred_publish_if_changed(pred_policy *pol)
{
    pred *p = pol->svc;
    uint64_t lag_from = pol->lag_from_ms;
    pol->lag_from_ms = 0;
    pol->dirty = false;
    if (!pol->have_track || pol->rebuilding || pol->dead)
        return;
    if (pol->have_pub) {
        pred_snapshot s;
        pred_snapshot_take(&s, &pol->track, lo_wall_ms());
        if (!pred_snapshot_significant(&pol->pub, &s, p->set.change_threshold))
            return;
    }
    metrics_counter_inc(p->m.pub_change);
    pred_publish(pol, lag_from);
}

static void flush(void *arg)
{
    pred *p = arg;
    p->flush_queued = false;
    for (pred_policy *pol = p->policies; pol; pol = pol->next) {
        bool early = pol->early_new;
        pol->early_new = false;
        if (pol->dirty)
            pred_publish_if_changed(pol);
        if (early)
            pred_publish_early(pol);
    }
}

void pred_publish_soon(pred *p)
{
    if (p->flush_queued)
        return;
    p->flush_queued = true;
    ev_defer(p->loop, flush, p);
}

void pred_publish_all(pred *p)
{
    for (pred_policy *pol = p->policies; pol; pol = pol->next) {
        if (!pol->have_track || pol->rebuilding || pol->dead)
            continue;
        metrics_counter_inc(p->m.pub_interval);
        pred_publish(pol, 0);
    }
}

/* Runs the provisional forecast of pol now. */
static void early_run(pred_policy *pol, uint64_t mono)
{
    pred *p = pol->svc;
    pol->early_pending = false;
    pol->early_last_ms = mono;
    uint64_t prov0 = pol->track.prov_n;
    uint32_t above = pol->have_pub ? pol->pub.desired_replicas : 0;
    int rc = pred_track_provisional(&pol->track, p->set.early_publish_ratio, above, NULL);
    metrics_counter_add(p->m.provisional, pol->track.prov_n - prov0);
    if (rc < 0) {
        log_warn_limited("predictor", "provisional forecast unavailable", LF_STR("policy", pol->id));
        return;
    }
    if (rc == 0)
        return;
    uint64_t lag_from = pol->lag_from_ms;
    pol->lag_from_ms = 0;
    metrics_counter_inc(p->m.pub_early);
    pred_publish(pol, lag_from);
}

void pred_publish_early(pred_policy *pol)
{
    pred *p = pol->svc;
    if (!p->set.early_publish_interval_ms || !pol->have_track || pol->rebuilding || pol->dead) {
        pol->early_pending = false;
        return;
    }
    uint64_t mono = lo_mono_ms();
    uint64_t next = pol->early_last_ms + p->set.early_publish_interval_ms;
    if (!pol->early_last_ms || mono >= next) {
        early_run(pol, mono);
        return;
    }
    /* too soon after the last one: the timer runs it at the interval's end */
    pol->early_pending = true;
    if (!ev_timer_active(&p->early_timer))
        ev_timer_start(p->loop, &p->early_timer, next - mono);
}

void pred_publish_early_due(pred *p)
{
    uint64_t mono = lo_mono_ms(), wait = 0;
    for (pred_policy *pol = p->policies; pol; pol = pol->next) {
        if (!pol->early_pending)
            continue;
        uint64_t next = pol->early_last_ms + p->set.early_publish_interval_ms;
        if (mono >= next) {
            pred_publish_early(pol);
        } else if (!wait || next - mono < wait) {
            wait = next - mono;
        }
    }
    if (wait && !ev_timer_active(&p->early_timer))
        ev_timer_start(p->loop, &p->early_timer, wait);
}
