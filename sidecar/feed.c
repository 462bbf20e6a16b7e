/* feed.c — the factor and the rules from Redis: subscription, start-up and
 * fallback reads (see feed.h). */
#include "feed.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "log.h"
#include "redis.h"
#include "service_int.h"

#define FEED_CHANNEL_FORECAST "liftoff:forecast"
#define FEED_CHANNEL_POLICY "liftoff:policy"
#define FEED_HASH_FIELDS_MAX 64   /* fields looked at in the forecast hash */

struct sidecar_feed {
    sidecar_service *svc;
    rds *sub;
    rds *cmd;
    char *ns, *name;
    char *forecast_key;        /* liftoff:forecast:<ns>:<name> */
    char *policy_key;          /* liftoff:policy:<ns>:<name> */
    char *policy_member;       /* <ns>/<name> */
    uint32_t poll_ms;
    uint32_t policy_resync_ms;
    uint64_t next_policy_ms;   /* monotonic: next fallback policy read */
    bool forecast_busy;        /* an HGETALL is in flight */
    bool policy_busy;          /* a GET is in flight */
    char *policy_text;         /* the document last applied, or NULL */
    ev_timer poll;
    char *observed_key;        /* liftoff:observed:<ns>:<name> */
    char *pod;
    uint32_t observed_ms;      /* report period; 0: none */
    uint64_t observed_from_ms; /* start of the period being counted */
    bool observed_busy;        /* a report is in flight */
    ev_timer observed;
};

int sidecar_policy_split(const char *s, char *ns, char *name)
{
    const char *slash = s ? strchr(s, '/') : NULL;
    if (!slash || slash == s || !slash[1] || strchr(slash + 1, '/'))
        return -EINVAL;
    size_t nl = (size_t)(slash - s), ml = strlen(slash + 1);
    if (nl > SIDECAR_POLICY_NAME_MAX || ml > SIDECAR_POLICY_NAME_MAX)
        return -EINVAL;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
              p == slash))
            return -EINVAL;
    memcpy(ns, s, nl);
    ns[nl] = 0;
    memcpy(name, slash + 1, ml + 1);
    return 0;
}

/* ---- the forecast hash ---- */

static void forecast_reply(rds *r, const redisReply *rep, int err, void *arg)
{
    (void)r;
    sidecar_feed *f = arg;
    if (err == -ECANCELED)
        return;
    f->forecast_busy = false;
    if (err < 0 || rep->type != REDIS_REPLY_ARRAY) {
        log_debug("sidecar", "forecast read failed", LF_INT("err", err));
        return;
    }
    const char *fields[FEED_HASH_FIELDS_MAX], *values[FEED_HASH_FIELDS_MAX];
    size_t flens[FEED_HASH_FIELDS_MAX], vlens[FEED_HASH_FIELDS_MAX];
    size_t n = 0;
    for (size_t i = 0; i + 1 < rep->elements && n < FEED_HASH_FIELDS_MAX; i += 2) {
        const redisReply *k = rep->element[i], *v = rep->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        fields[n] = k->str;
        flens[n] = k->len;
        values[n] = v->str;
        vlens[n] = v->len;
        n++;
    }
    double factor;
    int64_t ua = 0;
    int rc = sidecar_forecast_parse_hash(n, fields, flens, values, vlens, &factor, &ua);
    if (rc == 1)
        rc = sidecar_factor_set(&f->svc->fac, factor, ua, ev_now(f->svc->loop), (int64_t)lo_wall_ms());
    if (rc < 0)
        log_warn("sidecar", "bad factor in the forecast hash", LF_STR("key", f->forecast_key));
}

static void read_forecast(sidecar_feed *f)
{
    if (f->forecast_busy)
        return;
    if (rds_command(f->cmd, forecast_reply, f, "HGETALL %s", f->forecast_key) == 0)
        f->forecast_busy = true;
}

/* ---- the policy ---- */

static void apply_policy(sidecar_feed *f, const char *text, size_t len)
{
    if (f->policy_text && strlen(f->policy_text) == len && memcmp(f->policy_text, text, len) == 0)
        return;
    sidecar_rules rules;
    char why[256] = "";
    if (sidecar_rules_parse_policy(text, len, &rules, why, sizeof why) < 0) {
        log_warn("sidecar", "policy rejected, keeping the rules in use",
                 LF_STR("key", f->policy_key), LF_STR("reason", why));
        return;
    }
    free(f->policy_text);
    f->policy_text = xmalloc(len + 1);
    memcpy(f->policy_text, text, len);
    f->policy_text[len] = 0;
    sidecar_service_set_rules(f->svc, &rules);
    log_info("sidecar", "rules updated", LF_STR("key", f->policy_key),
             LF_UINT("routes", f->svc->rules.nroutes));
}

static void policy_reply(rds *r, const redisReply *rep, int err, void *arg)
{
    (void)r;
    sidecar_feed *f = arg;
    if (err == -ECANCELED)
        return;
    f->policy_busy = false;
    if (err < 0)
        return;
    if (rep->type == REDIS_REPLY_STRING)
        apply_policy(f, rep->str, rep->len);
    else if (rep->type == REDIS_REPLY_NIL)
        log_debug("sidecar", "no policy in Redis, keeping the rules", LF_STR("key", f->policy_key));
    else
        log_warn("sidecar", "policy read failed", LF_STR("key", f->policy_key),
                 LF_STR("reply", rep->type == REDIS_REPLY_ERROR ? rep->str : "not a string"));
}

static void read_policy(sidecar_feed *f)
{
    f->next_policy_ms = ev_now(f->svc->loop) + f->policy_resync_ms;
    if (f->policy_busy)
        return;
    if (rds_command(f->cmd, policy_reply, f, "GET %s", f->policy_key) == 0)
        f->policy_busy = true;
}

/* ---- subscription ---- */

static void on_message(rds *r, const rds_msg *m, void *arg)
{
    (void)r;
    sidecar_feed *f = arg;
    if (m->kind != RDS_MSG_MESSAGE)
        return;
    if (m->channel_len == strlen(FEED_CHANNEL_FORECAST) &&
        memcmp(m->channel, FEED_CHANNEL_FORECAST, m->channel_len) == 0) {
        double factor;
        int64_t ua = 0;
        int rc = sidecar_forecast_parse_msg(m->data, m->data_len, f->ns, f->name, &factor, &ua);
        if (rc == 1)
            rc = sidecar_factor_set(&f->svc->fac, factor, ua, ev_now(f->svc->loop), (int64_t)lo_wall_ms());
        if (rc < 0)
            log_warn("sidecar", "bad message on " FEED_CHANNEL_FORECAST);
    } else if (m->channel_len == strlen(FEED_CHANNEL_POLICY) &&
               memcmp(m->channel, FEED_CHANNEL_POLICY, m->channel_len) == 0) {
        bool all = m->data_len == 1 && m->data[0] == '*';
        bool ours = m->data_len == strlen(f->policy_member) &&
                    memcmp(m->data, f->policy_member, m->data_len) == 0;
        if (all || ours)
            read_policy(f);
    }
}

static void on_sub_state(rds *r, rds_event ev, void *arg)
{
    sidecar_feed *f = arg;
    if (ev == RDS_UP) {
        /* Messages may have been missed while down: read both now. */
        read_forecast(f);
        read_policy(f);
    } else if (ev == RDS_DOWN) {
        log_warn("sidecar", "Redis subscription lost; the factor will decay",
                 LF_STR("reason", rds_error(r)));
    }
}

static void poll_tick(ev_loop *loop, ev_timer *t, void *arg)
{
    sidecar_feed *f = arg;
    read_forecast(f);
    if (ev_now(loop) >= f->next_policy_ms)
        read_policy(f);
    ev_timer_start(loop, t, f->poll_ms);
}

/* ---- the observed-rate report ---- */

static void observed_reply(rds *r, const redisReply *rep, int err, void *arg)
{
    (void)r;
    (void)rep;
    sidecar_feed *f = arg;
    if (err == -ECANCELED)
        return;
    f->observed_busy = false;
}

static void observed_tick(ev_loop *loop, ev_timer *t, void *arg)
{
    sidecar_feed *f = arg;
    uint64_t now = ev_now(loop);
    sidecar_obs_report rep;
    sidecar_obs_take(&f->svc->obs, now - f->observed_from_ms, &rep);
    f->observed_from_ms = now;
    ev_timer_start(loop, t, f->observed_ms);
    if (f->observed_busy || !rds_is_up(f->cmd))
        return; /* this period's numbers are dropped */
    char rps[32], p99[32], shed[32], ua[32];
    snprintf(rps, sizeof rps, "%.3f", rep.rps);
    snprintf(p99, sizeof p99, "%.3f", rep.p99_ms);
    snprintf(shed, sizeof shed, "%.3f", rep.shed);
    snprintf(ua, sizeof ua, "%llu", (unsigned long long)lo_wall_ms());
    if (rds_command(f->cmd, observed_reply, f, "HSET %s rps@%s %s p99_ms@%s %s shed@%s %s "
                    "updated_at@%s %s", f->observed_key, f->pod, rps, f->pod, p99, f->pod, shed,
                    f->pod, ua) == 0) {
        f->observed_busy = true;
        rds_command(f->cmd, observed_reply, f, "PEXPIRE %s %u", f->observed_key,
                    SIDECAR_OBSERVED_TTL_MS);
    }
}

/* ---- life ---- */

int sidecar_feed_new(sidecar_service *svc, const sidecar_feed_opts *o, sidecar_feed **out,
                     char *err, size_t errlen)
{
    sidecar_feed *f = xcalloc(1, sizeof *f);
    int rc;
    const char *url = o->url;
    f->svc = svc;
    f->ns = xstrdup(o->ns);
    f->name = xstrdup(o->name);
    f->forecast_key = xasprintf("liftoff:forecast:%s:%s", o->ns, o->name);
    f->policy_key = xasprintf("liftoff:policy:%s:%s", o->ns, o->name);
    f->policy_member = xasprintf("%s/%s", o->ns, o->name);
    f->observed_key = xasprintf("liftoff:observed:%s:%s", o->ns, o->name);
    f->pod = xstrdup(o->pod && *o->pod ? o->pod : "sidecar");
    if (strlen(f->pod) > SIDECAR_POD_NAME_MAX || strpbrk(f->pod, " \t\r\n")) {
        snprintf(err, errlen, "pod name must be 1..%d bytes without blanks",
                 SIDECAR_POD_NAME_MAX);
        rc = -EINVAL;
        goto fail;
    }
    f->poll_ms = o->poll_ms ? o->poll_ms : 5000;
    f->policy_resync_ms = o->policy_resync_ms ? o->policy_resync_ms : 30000;
    f->observed_ms = o->observed_interval_ms;
    ev_timer_init(&f->poll, poll_tick, f);
    ev_timer_init(&f->observed, observed_tick, f);
    rds_opts so = {
        .url = url, .on_message = on_message, .message_arg = f,
        .on_state = on_sub_state, .state_arg = f,
    };
    if ((rc = rds_new(svc->loop, &so, &f->sub, err, errlen)) < 0)
        goto fail;
    rds_opts co = {
        .url = url, .fail_fast = true, .command_timeout_ms = SIDECAR_FEED_CMD_TIMEOUT_MS,
    };
    if ((rc = rds_new(svc->loop, &co, &f->cmd, err, errlen)) < 0)
        goto fail;
    if ((rc = rds_subscribe(f->sub, FEED_CHANNEL_FORECAST)) < 0 ||
        (rc = rds_subscribe(f->sub, FEED_CHANNEL_POLICY)) < 0) {
        snprintf(err, errlen, "subscribe: %s", strerror(-rc));
        goto fail;
    }
    ev_timer_start(svc->loop, &f->poll, f->poll_ms);
    if (f->observed_ms) {
        f->observed_from_ms = ev_now(svc->loop);
        ev_timer_start(svc->loop, &f->observed, f->observed_ms);
    }
    *out = f;
    return 0;
fail:
    sidecar_feed_free(f);
    return rc;
}

void sidecar_feed_free(sidecar_feed *f)
{
    if (!f)
        return;
    ev_timer_stop(f->svc->loop, &f->poll);
    ev_timer_stop(f->svc->loop, &f->observed);
    rds_free(f->sub);
    rds_free(f->cmd);
    free(f->ns);
    free(f->name);
    free(f->forecast_key);
    free(f->policy_key);
    free(f->policy_member);
    free(f->policy_text);
    free(f->observed_key);
    free(f->pod);
    free(f);
}
