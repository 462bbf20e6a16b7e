/* policies.c — discovering the LaunchPolicies to follow and reading their
 * parameters (see policies.h). */
#include "policies.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "log.h"

#include "policy_json.h"
#include "service_int.h"

#define POLICY_ERR_MAX 256

bool pred_k8s_name_valid(const char *s, size_t len)
{
    if (len == 0 || len > PRED_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && ((c != '-' && c != '.') || i == 0 || i == len - 1))
            return false;
    }
    return true;
}

/* Splits "ns/name": 0 or -EINVAL. ns and name get NUL-terminated copies. */
static int split_id(const char *s, size_t len, char *ns, char *name)
{
    const char *slash = memchr(s, '/', len);
    if (!slash)
        return -EINVAL;
    size_t nl = (size_t)(slash - s), ml = len - nl - 1;
    if (!pred_k8s_name_valid(s, nl) || !pred_k8s_name_valid(slash + 1, ml))
        return -EINVAL;
    memcpy(ns, s, nl);
    ns[nl] = '\0';
    memcpy(name, slash + 1, ml);
    name[ml] = '\0';
    return 0;
}

static pred_policy *find(pred *p, const char *ns, const char *name)
{
    for (pred_policy *pol = p->policies; pol; pol = pol->next)
        if (strcmp(pol->ns, ns) == 0 && strcmp(pol->name, name) == 0)
            return pol;
    return NULL;
}

static pred_policy *create(pred *p, const char *ns, const char *name, bool is_static)
{
    if (p->npolicies >= PRED_POLICIES_MAX) {
        log_error_limited("predictor", "too many policies; ignoring one", LF_STR("namespace", ns),
                          LF_STR("name", name), LF_UINT("max", PRED_POLICIES_MAX));
        return NULL;
    }
    pred_policy *pol = xcalloc(1, sizeof *pol);
    pol->svc = p;
    pol->ns = xstrdup(ns);
    pol->name = xstrdup(name);
    pol->id = xasprintf("%s/%s", ns, name);
    pol->key_policy = xasprintf("liftoff:policy:%s:%s", ns, name);
    pol->key_forecast = xasprintf("liftoff:forecast:%s:%s", ns, name);
    pol->key_observed = xasprintf("liftoff:observed:%s:%s", ns, name);
    pol->is_static = is_static;
    const char *const *lv = metrics_labels(ns, name);
    pol->g_eps = metrics_gauge_at(p->m.velocity, lv);
    pol->g_forecast_eps = metrics_gauge_at(p->m.forecast_eps, lv);
    pol->g_rps = metrics_gauge_at(p->m.forecast_rps, lv);
    pol->g_factor = metrics_gauge_at(p->m.factor, lv);
    pol->g_replicas = metrics_gauge_at(p->m.replicas, lv);
    pol->next = p->policies;
    p->policies = pol;
    p->npolicies++;
    metrics_gauge_set(p->m.policies, p->npolicies);
    return pol;
}

static void destroy(pred_policy *pol)
{
    if (pol->have_track)
        pred_track_free(&pol->track);
    free(pol->ns);
    free(pol->name);
    free(pol->id);
    free(pol->key_policy);
    free(pol->key_forecast);
    free(pol->key_observed);
    free(pol);
}

void pred_policy_ref(pred_policy *pol)
{
    pol->refs++;
}

void pred_policy_unref(pred_policy *pol)
{
    if (--pol->refs == 0 && pol->dead)
        destroy(pol);
}

static void detach(pred_policy *pol)
{
    pred_launch *l = pol->launch;
    if (!l)
        return;
    l->npolicies--;
    if (pol->rebuilding)
        l->rebuilding--;
    pol->rebuilding = false;
    pol->launch = NULL;
}

/* Stops following pol; it is freed once no command refers to it. */
static void kill_policy(pred_policy *pol)
{
    pred *p = pol->svc;
    log_info("predictor", "policy removed", LF_STR("policy", pol->id));
    detach(pol);
    for (pred_policy **pp = &p->policies; *pp; pp = &(*pp)->next)
        if (*pp == pol) {
            *pp = pol->next;
            break;
        }
    p->npolicies--;
    metrics_gauge_set(p->m.policies, p->npolicies);
    metrics_gauge_set(pol->g_eps, NAN);
    metrics_gauge_set(pol->g_forecast_eps, NAN);
    metrics_gauge_set(pol->g_rps, NAN);
    metrics_gauge_set(pol->g_factor, NAN);
    metrics_gauge_set(pol->g_replicas, NAN);
    pol->dead = true;
    pol->next = NULL;
    if (pol->refs == 0)
        destroy(pol);
    pred_state_changed(p);
    pred_consume_kick(p); /* the launch may be readable again */
}

void pred_policies_free(pred *p)
{
    pred_policy *pol = p->policies;
    while (pol) {
        pred_policy *next = pol->next;
        destroy(pol);
        pol = next;
    }
    p->policies = NULL;
    p->npolicies = 0;
}

/* Takes a parsed document: starts following, or applies a change. */
static void apply_doc(pred_policy *pol, const pred_policy_doc *doc)
{
    pred *p = pol->svc;
    if (doc->unknown)
        log_info_limited("predictor", "policy fields ignored", LF_STR("policy", pol->id),
                         LF_UINT("count", doc->unknown), LF_STR("first", doc->first_unknown));
    pred_launch *l = pred_launch_get(p, doc->launch);
    if (!l) {
        log_error_limited("predictor", "too many launches; policy not followed",
                          LF_STR("policy", pol->id), LF_STR("launch", doc->launch));
        return;
    }
    if (!pol->have_track) {
        if (pred_track_init(&pol->track, &doc->pol) < 0)
            return;
        pol->have_track = true;
        pol->pol = doc->pol;
        pol->launch = l;
        l->npolicies++;
        log_info("predictor", "following policy", LF_STR("policy", pol->id),
                 LF_STR("launch", l->name), LF_UINT("window_s", doc->pol.window_s),
                 LF_UINT("lead_s", doc->pol.lead_s));
        pred_rebuild_start(pol);
        return;
    }
    if (l == pol->launch && memcmp(&pol->pol, &doc->pol, sizeof doc->pol) == 0)
        return; /* unchanged */
    int rc = pred_track_set_policy(&pol->track, &doc->pol);
    if (rc < 0)
        return;
    pol->pol = doc->pol;
    if (l != pol->launch) {
        detach(pol);
        pol->launch = l;
        l->npolicies++;
        rc = 1;
    }
    log_info("predictor", "policy changed", LF_STR("policy", pol->id), LF_STR("launch", l->name),
             LF_BOOL("rebuild", rc == 1));
    if (rc == 1) {
        pred_rebuild_start(pol);
    } else {
        pol->dirty = true;
        pred_publish_soon(p);
    }
}

static void fetch(pred_policy *pol);

static void on_doc(rds *r, const redisReply *reply, int err, void *arg)
{
    (void)r;
    pred_policy *pol = arg;
    pred *p = pol->svc;
    pol->fetch_busy = false;
    if (err == -ECANCELED || p->closing || pol->dead) {
        pred_policy_unref(pol);
        return;
    }
    if (err < 0) {
        log_warn_limited("predictor", "cannot read a policy", LF_STR("policy", pol->id),
                         LF_ERR(err));
    } else if (reply->type == REDIS_REPLY_NIL && !pol->is_static) {
        kill_policy(pol);
    } else if (reply->type == REDIS_REPLY_NIL || reply->type == REDIS_REPLY_STRING) {
        const char *json = reply->type == REDIS_REPLY_STRING ? reply->str : "{}";
        size_t len = reply->type == REDIS_REPLY_STRING ? reply->len : 2;
        pred_policy_doc doc;
        char why[POLICY_ERR_MAX] = "";
        if (pred_policy_parse(json, len, p->set.launch, &doc, why, sizeof why) < 0)
            log_error_limited("predictor", "invalid policy; keeping the previous one",
                              LF_STR("policy", pol->id), LF_STR("key", pol->key_policy),
                              LF_STR("reason", why));
        else
            apply_doc(pol, &doc);
    } else {
        log_warn_limited("predictor", "policy key is not a string", LF_STR("key", pol->key_policy));
    }
    if (!pol->dead && pol->fetch_again) {
        pol->fetch_again = false;
        fetch(pol);
    }
    pred_state_changed(p);
    pred_policy_unref(pol);
}

static void fetch(pred_policy *pol)
{
    pred *p = pol->svc;
    if (pol->fetch_busy) {
        pol->fetch_again = true;
        return;
    }
    pol->fetch_busy = true;
    pred_policy_ref(pol);
    rds_command(p->rc, on_doc, pol, "GET %s", pol->key_policy);
}

static void on_members(rds *r, const redisReply *reply, int err, void *arg)
{
    (void)r;
    pred *p = arg;
    p->sync_busy = false;
    if (err == -ECANCELED || p->closing)
        return;
    if (err < 0 || reply->type != REDIS_REPLY_ARRAY) {
        log_warn_limited("predictor", "cannot read the policy set", LF_ERR(err < 0 ? err : -EPROTO));
        return; /* again on the next resync or reconnect */
    }
    /* drop the policies the controller no longer lists */
    pred_policy *pol = p->policies;
    while (pol) {
        pred_policy *next = pol->next;
        bool listed = pol->is_static;
        size_t idlen = strlen(pol->id);
        for (size_t i = 0; i < reply->elements && !listed; i++) {
            const redisReply *m = reply->element[i];
            listed = m->type == REDIS_REPLY_STRING && m->len == idlen && memcmp(m->str, pol->id, idlen) == 0;
        }
        if (!listed)
            kill_policy(pol);
        pol = next;
    }
    for (size_t i = 0; i < reply->elements; i++) {
        const redisReply *m = reply->element[i];
        char ns[PRED_NAME_MAX + 1], name[PRED_NAME_MAX + 1];
        if (m->type != REDIS_REPLY_STRING || split_id(m->str, m->len, ns, name) < 0) {
            log_warn_limited("predictor", "bad member of the policy set",
                             LF_STRN("member", m->str, m->type == REDIS_REPLY_STRING ? m->len : 0));
            continue;
        }
        pred_policy *x = find(p, ns, name);
        if (!x)
            x = create(p, ns, name, false);
        if (x)
            fetch(x);
    }
    for (pred_policy *s = p->policies; s; s = s->next)
        if (s->is_static)
            fetch(s);
    p->synced = true;
    if (p->sync_again) {
        p->sync_again = false;
        pred_policies_sync(p);
    }
    pred_state_changed(p);
}

void pred_policies_sync(pred *p)
{
    if (p->closing)
        return;
    if (p->sync_busy) {
        p->sync_again = true;
        return;
    }
    p->sync_busy = true;
    rds_command(p->rc, on_members, p, "SMEMBERS %s", PRED_POLICY_SET);
}

void pred_policies_message(pred *p, const char *data, size_t len)
{
    if (len == 0 || (len == 1 && data[0] == '*')) {
        pred_policies_sync(p);
        return;
    }
    char ns[PRED_NAME_MAX + 1], name[PRED_NAME_MAX + 1];
    if (split_id(data, len, ns, name) < 0) {
        log_warn_limited("predictor", "bad policy announcement", LF_STRN("message", data, len));
        return;
    }
    pred_policy *pol = find(p, ns, name);
    if (!pol)
        pol = create(p, ns, name, false);
    if (pol)
        fetch(pol);
}

int pred_policies_static(pred *p, char *err, size_t errlen)
{
    for (size_t i = 0; i < p->set.npolicies; i++) {
        const char *s = p->set.policies[i];
        char ns[PRED_NAME_MAX + 1], name[PRED_NAME_MAX + 1];
        if (split_id(s, strlen(s), ns, name) < 0) {
            snprintf(err, errlen, "--policy \"%s\": expected NAMESPACE/NAME (Kubernetes names)", s);
            return -EINVAL;
        }
        if (find(p, ns, name))
            continue;
        pred_policy *pol = create(p, ns, name, true);
        if (!pol) {
            snprintf(err, errlen, "more than %d policies", PRED_POLICIES_MAX);
            return -EINVAL;
        }
        fetch(pol);
    }
    return 0;
}
