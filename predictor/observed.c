/* observed.c — the observed request rate from the sidecars' hash (see
 * observed.h). */
#include "observed.h"
#include "common.h"
#include "log.h"

#include "service_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct field {
    const char *name, *pod; /* pod: after '@', NULL for service-wide fields */
    size_t name_len, pod_len;
    const redisReply *val;
} field;

static bool name_is(const field *f, const char *s)
{
    size_t n = strlen(s);
    return f->name_len == n && memcmp(f->name, s, n) == 0;
}

static bool same_pod(const field *a, const field *b)
{
    return a->pod_len == b->pod_len && memcmp(a->pod, b->pod, a->pod_len) == 0;
}

/* A finite non-negative number from a reply string, or NAN. */
static double num(const redisReply *v)
{
    char buf[64];
    if (v->type != REDIS_REPLY_STRING || v->len == 0 || v->len >= sizeof buf)
        return NAN;
    memcpy(buf, v->str, v->len);
    buf[v->len] = '\0';
    char *end;
    double d = strtod(buf, &end);
    if (*end || !isfinite(d) || d < 0)
        return NAN;
    return d;
}

/* Adds one reporter's values (those of fields fs[0..n) with the same pod). */
static void add_reporter(pred_observed *o, const field *fs, size_t n, const field *who,
                         int64_t now_ms)
{
    double upd = NAN, rps = NAN, shed = 0, p99 = 0;
    for (size_t i = 0; i < n; i++) {
        const field *f = &fs[i];
        if ((who->pod == NULL) != (f->pod == NULL) || (f->pod && !same_pod(f, who)))
            continue;
        if (name_is(f, "updated_at"))
            upd = num(f->val);
        else if (name_is(f, "rps"))
            rps = num(f->val);
        else if (name_is(f, "shed"))
            shed = num(f->val);
        else if (name_is(f, "p99_ms"))
            p99 = num(f->val);
    }
    bool fresh = !isnan(upd) && !isnan(rps) && (double)now_ms - upd <= PRED_OBSERVED_FRESH_MS;
    if (fresh) {
        o->reporters++;
        o->rps += rps;
        o->shed += isnan(shed) ? 0 : shed;
        if (!isnan(p99) && p99 > o->p99_ms)
            o->p99_ms = p99;
        if ((int64_t)upd > o->updated_at)
            o->updated_at = (int64_t)upd;
        return;
    }
    bool gone = isnan(upd) || (double)now_ms - upd > PRED_OBSERVED_POD_GONE_MS;
    if (!who->pod || !gone)
        return;
    for (size_t i = 0; i < n && o->nstale < PRED_OBSERVED_STALE_MAX * 4; i++)
        if (fs[i].pod && same_pod(&fs[i], who)) {
            o->stale[o->nstale] = fs[i].name;
            o->stale_len[o->nstale++] = fs[i].name_len + 1 + fs[i].pod_len;
        }
}

int pred_observed_parse(const redisReply *r, int64_t now_ms, pred_observed *out)
{
    memset(out, 0, sizeof *out);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements % 2)
        return -EPROTO;
    size_t n = r->elements / 2;
    if (n > PRED_OBSERVED_FIELDS_MAX)
        n = PRED_OBSERVED_FIELDS_MAX;
    field *fs = xcalloc(n ? n : 1, sizeof *fs);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const redisReply *name = r->element[2 * i];
        if (name->type != REDIS_REPLY_STRING)
            continue;
        field *f = &fs[k++];
        f->name = name->str;
        f->val = r->element[2 * i + 1];
        const char *at = memchr(name->str, '@', name->len);
        f->name_len = at ? (size_t)(at - name->str) : name->len;
        if (at) {
            f->pod = at + 1;
            f->pod_len = name->len - f->name_len - 1;
        }
    }
    bool aggregate_seen = false;
    for (size_t i = 0; i < k; i++) {
        const field *f = &fs[i];
        bool first = true;
        for (size_t j = 0; j < i && first; j++)
            if ((fs[j].pod == NULL) == (f->pod == NULL) && (!f->pod || same_pod(&fs[j], f)))
                first = false;
        if (!first || (!f->pod && aggregate_seen))
            continue;
        if (!f->pod)
            aggregate_seen = true;
        add_reporter(out, fs, k, f, now_ms);
    }
    free(fs);
    return 0;
}

/* ---- reading the hash ---- */


static void on_hdel(rds *r, const redisReply *reply, int err, void *arg)
{
    (void)r;
    (void)reply;
    (void)err;
    (void)arg;
}

static void on_observed(rds *r, const redisReply *reply, int err, void *arg)
{
    (void)r;
    pred_policy *pol = arg;
    pred *p = pol->svc;
    pol->observe_busy = false;
    if (err < 0 || p->closing || pol->dead || !pol->have_track) {
        pred_policy_unref(pol);
        return;
    }
    pred_observed o;
    if (pred_observed_parse(reply, (int64_t)lo_wall_ms(), &o) < 0) {
        log_warn_limited("predictor", "observed key is not a hash", LF_STR("key", pol->key_observed));
        pred_policy_unref(pol);
        return;
    }
    if (o.reporters > 0)
        pred_track_observe_rps(&pol->track, o.updated_at, o.rps);
    if (o.nstale > 0) {
        const char *argv[2 + PRED_OBSERVED_STALE_MAX * 4];
        size_t argvlen[2 + PRED_OBSERVED_STALE_MAX * 4];
        argv[0] = "HDEL";
        argvlen[0] = 4;
        argv[1] = pol->key_observed;
        argvlen[1] = strlen(pol->key_observed);
        for (size_t i = 0; i < o.nstale; i++) {
            argv[2 + i] = o.stale[i];
            argvlen[2 + i] = o.stale_len[i];
        }
        rds_command_argv(p->rc, (int)(2 + o.nstale), argv, argvlen, on_hdel, NULL);
    }
    pred_policy_unref(pol);
}

void pred_observed_fetch_all(pred *p)
{
    for (pred_policy *pol = p->policies; pol; pol = pol->next) {
        if (!pol->have_track || pol->observe_busy || pol->dead)
            continue;
        pol->observe_busy = true;
        pred_policy_ref(pol);
        rds_command(p->rc, on_observed, pol, "HGETALL %s", pol->key_observed);
    }
}
