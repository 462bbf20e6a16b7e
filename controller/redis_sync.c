/* redis_sync.c — the controller's Redis side (docs/redis-keys.md): policy
 * documents out (SET + SADD + PUBLISH liftoff:policy), forecasts in
 * (SUBSCRIBE liftoff:forecast, and HGETALL of each policy's hash on every
 * resync, spread over the period in CTL_RESYNC_SLICES slices); while a
 * policy's forecast is lost, the resync also reads the sidecars' observed
 * rate (liftoff:observed:<ns>:<name>) for the fail-safe's reactive floor. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "log.h"

#include "controller_int.h"

#define CTL_POLICY_CHANNEL "liftoff:policy"
#define CTL_FORECAST_CHANNEL "liftoff:forecast"
#define CTL_POLICY_SET "liftoff:policies"

static void on_write(rds *r, const redisReply *reply, int err, void *arg)
{
    (void)r;
    ctl *c = arg;
    if (err == -ECANCELED)
        return;
    if (err < 0 || (reply && reply->type == REDIS_REPLY_ERROR)) {
        metrics_counter_inc(c->errors);
        log_warn("controller", "redis write failed",
                 LF_STR("reason", err < 0 ? log_strerror(err) : reply->str));
    }
}

void ctl_redis_put_policy(ctl *c, const json_t *obj)
{
    if (!ctl_may_write(c))   /* the leader writes the documents */
        return;
    char *doc = ctl_policy_doc(obj);
    const char *ns = k8s_meta_str(obj, "namespace"), *name = k8s_meta_str(obj, "name");
    if (!doc || !ns || !name) {
        free(doc);
        return;
    }
    char *key = xasprintf("liftoff:policy:%s:%s", ns, name);
    char *member = xasprintf("%s/%s", ns, name);
    rds_command(c->cmd, on_write, c, "SET %s %s", key, doc);
    rds_command(c->cmd, on_write, c, "SADD %s %s", CTL_POLICY_SET, member);
    rds_command(c->cmd, on_write, c, "PUBLISH %s %s", CTL_POLICY_CHANNEL, member);
    metrics_counter_inc(c->redis_writes);
    free(member);
    free(key);
    free(doc);
}

void ctl_redis_del_policy(ctl *c, const char *ns, const char *name)
{
    if (!ctl_may_write(c))
        return;
    char *key = xasprintf("liftoff:policy:%s:%s", ns, name);
    char *member = xasprintf("%s/%s", ns, name);
    rds_command(c->cmd, on_write, c, "DEL %s", key);
    rds_command(c->cmd, on_write, c, "SREM %s %s", CTL_POLICY_SET, member);
    rds_command(c->cmd, on_write, c, "PUBLISH %s %s", CTL_POLICY_CHANNEL, member);
    free(member);
    free(key);
}

/* A resync read: the policy is found again by name (it may be gone). */
typedef struct resync_req {
    ctl *c;
    char ns[CTL_NAME_MAX], name[CTL_NAME_MAX];
} resync_req;

/* The observed rate of a policy whose forecast is lost. */
/* The field and value strings of an HGETALL reply (pointing into it; a
 * nil is ""), in two arrays the caller frees; returns their count. */
static size_t hash_fields(const redisReply *reply, const char ***fields, const char ***values)
{
    size_t n = reply->elements / 2;
    const char **f = xcalloc(n + 1, sizeof *f), **v = xcalloc(n + 1, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        f[i] = reply->element[2 * i]->str ? reply->element[2 * i]->str : "";
        v[i] = reply->element[2 * i + 1]->str ? reply->element[2 * i + 1]->str : "";
    }
    *fields = f;
    *values = v;
    return n;
}

static void on_observed(rds *r, const redisReply *reply, int err, void *arg)
{
    (void)r;
    resync_req *q = arg;
    if (err == -ECANCELED || q->c->closing) {
        free(q);
        return;
    }
    ctl_pol *p = ctl_pol_find(q->c, q->ns, q->name);
    if (p && err == 0 && reply->type == REDIS_REPLY_ARRAY) {
        const char **f, **v;
        size_t n = hash_fields(reply, &f, &v);
        uint64_t now = lo_wall_ms();
        p->observed_rps = ctl_observed_rps(f, v, n, now);
        p->observed_read_ms = now;
        free(f);
        free(v);
    }
    if (p)
        ctl_reconcile_resync(p);
    free(q);
}

static void on_hgetall(rds *r, const redisReply *reply, int err, void *arg)
{
    (void)r;
    resync_req *q = arg;
    if (err == -ECANCELED || q->c->closing) {   /* ctl_free() */
        free(q);
        return;
    }
    ctl_pol *p = ctl_pol_find(q->c, q->ns, q->name);
    if (p && err == 0 && reply->type == REDIS_REPLY_ARRAY) {
        const char **f, **v;
        size_t n = hash_fields(reply, &f, &v);
        ctl_forecast fc;
        if (ctl_forecast_from_fields(f, v, n, &fc) == 0) {
            /* a newer message may have come meanwhile: keep the newest */
            if (!fc.have || !p->fc.have || fc.updated_at_ms >= p->fc.updated_at_ms)
                p->fc = fc;
        }
        free(f);
        free(v);
    }
    /* Without Redis the forecast is whatever was last received: it turns
     * stale by its own age. */
    if (!p) {
        free(q);
        return;
    }
    uint64_t now = lo_wall_ms();
    bool lost = !p->fc.have || (now > p->fc.updated_at_ms &&
                                now - p->fc.updated_at_ms > q->c->set.stale_ms);
    if (lost && err == 0 &&
        rds_command(q->c->cmd, on_observed, q, "HGETALL liftoff:observed:%s:%s", q->ns,
                    q->name) == 0)
        return;   /* reconciles when the observed rate is in */
    ctl_reconcile_resync(p);
    free(q);
}

void ctl_redis_resync(ctl *c, unsigned slot)
{
    for (size_t i = 0; i < c->npols; i++) {
        ctl_pol *p = c->pols[i];
        if (p->removed || p->resync_slot != slot)
            continue;
        resync_req *q = xcalloc(1, sizeof *q);
        q->c = c;
        memcpy(q->ns, p->spec.ns, sizeof q->ns);
        memcpy(q->name, p->spec.name, sizeof q->name);
        if (rds_command(c->cmd, on_hgetall, q, "HGETALL liftoff:forecast:%s:%s", q->ns,
                        q->name) < 0) {
            free(q);
            ctl_reconcile_resync(p);
        }
    }
}

static void on_message(rds *r, const rds_msg *m, void *arg)
{
    (void)r;
    ctl *c = arg;
    if (c->closing || m->kind != RDS_MSG_MESSAGE)
        return;
    char ns[CTL_NAME_MAX], name[CTL_NAME_MAX];
    ctl_forecast fc;
    if (ctl_forecast_parse_json(m->data, m->data_len, ns, name, &fc) < 0) {
        log_warn("controller", "unreadable forecast message");
        return;
    }
    metrics_counter_inc(c->forecasts);
    ctl_pol *p = ctl_pol_find(c, ns, name);
    if (!p)
        return;
    if (p->fc.have && fc.updated_at_ms < p->fc.updated_at_ms)
        return;
    p->fc = fc;
    p->fc_recv_wall_ms = lo_wall_ms();
    ctl_reconcile(p);
}

static void on_cmd_state(rds *r, rds_event ev, void *arg)
{
    (void)r;
    ctl *c = arg;
    if (c->closing)
        return;
    metrics_gauge_set(c->redis_up, ev == RDS_UP);
    if (ev == RDS_UP) {
        /* Redis may have lost the documents (a restart): write them all. */
        for (size_t i = 0; i < c->npols; i++) {
            if (c->pols[i]->removed)
                continue;
            const json_t *obj = k8s_informer_get(c->inf, c->pols[i]->spec.ns,
                                                 c->pols[i]->spec.name);
            if (obj)
                ctl_redis_put_policy(c, obj);
        }
        log_info("controller", "redis up");
    } else if (ev == RDS_DOWN) {
        log_warn("controller", "redis down", LF_STR("reason", rds_error(c->cmd)));
    }
}

int ctl_redis_start(ctl *c, char *err, size_t errlen)
{
    rds_opts o = { .url = c->set.redis_url, .on_state = on_cmd_state, .state_arg = c };
    int rc = rds_new(c->loop, &o, &c->cmd, err, errlen);
    if (rc < 0)
        return rc;
    rds_opts so = { .url = c->set.redis_url, .on_message = on_message, .message_arg = c };
    rc = rds_new(c->loop, &so, &c->sub, err, errlen);
    if (rc < 0)
        return rc;
    return rds_subscribe(c->sub, CTL_FORECAST_CHANNEL);
}
