/* service.c — builds the controller (see controller.h): the Kubernetes
 * client and the LaunchPolicy informer, the policy table and its indexes,
 * the reconcile queue, the resync timer (one slice of the policies per
 * tick); Redis, the Deployment and HPA informers and the admin server are
 * started from here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "log.h"

#include "controller_int.h"
#include "prewarm.h"

const k8s_res ctl_res_policies = K8S_RES("liftoff.dev", "v1alpha1", "launchpolicies");
const k8s_res ctl_res_deployments = K8S_RES("apps", "v1", "deployments");
const k8s_res ctl_res_events = K8S_RES("", "v1", "events");

void ctl_settings_defaults(ctl_settings *s)
{
    memset(s, 0, sizeof *s);
    s->redis_url = "redis://127.0.0.1:6379";
    s->listen_port = 9103;
    s->resync_ms = 10000;
    s->stale_ms = 10000;
    s->hold_ms = 60000;
    s->concurrent_reconciles = CTL_CONCURRENT_RECONCILES;
    s->leader_elect = CTL_LEADER_ELECT_AUTO;
    s->lease_name = "liftoff-controller";
    s->lease_ms = K8S_LEASE_DURATION_MS;
    s->renew_ms = K8S_LEASE_RENEW_DEADLINE_MS;
    s->retry_ms = K8S_LEASE_RETRY_MS;
}

ctl_pol *ctl_pol_find(ctl *c, const char *ns, const char *name)
{
    char key[CTL_KEY_MAX];
    ctl_index_key(key, sizeof key, ns, name);
    return ctl_index_get(&c->by_name, key);   /* released ones are no longer indexed */
}

/* A stable slot for ns/name, so each resync tick takes the same share. */
static unsigned resync_slot(const char *key)
{
    unsigned h = 2166136261u;
    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 16777619u;
    return h % CTL_RESYNC_SLICES;
}

void ctl_pol_free(ctl_pol *p)
{
    ctl *c = p->c;
    for (size_t i = 0; i < c->npols; i++) {
        if (c->pols[i] == p) {
            c->pols[i] = c->pols[--c->npols];
            break;
        }
    }
    ctl_prewarm_free(p->pw);
    ctl_memory_free(&p->mem);
    free(p);
}

static void count_policies(ctl *c)
{
    size_t live = 0;
    for (size_t i = 0; i < c->npols; i++)
        live += !c->pols[i]->removed;
    metrics_gauge_set(c->policies, (double)live);
}

static void pol_remove(ctl *c, const char *ns, const char *name)
{
    ctl_pol *p = ctl_pol_find(c, ns, name);
    if (p)
        ctl_pol_release(p);
    count_policies(c);
}

/* A new or changed spec: store it, write Redis, reconcile. */
static void apply_object(ctl *c, const json_t *obj)
{
    char err[256];
    ctl_policy spec;
    if (ctl_policy_parse(obj, &spec, err, sizeof err) < 0) {
        log_warn("controller", "policy ignored", LF_STR("namespace", k8s_meta_str(obj, "namespace")),
                 LF_STR("policy", k8s_meta_str(obj, "name")), LF_STR("reason", err));
        const char *ns = k8s_meta_str(obj, "namespace"), *name = k8s_meta_str(obj, "name");
        if (ns && name)
            pol_remove(c, ns, name);
        return;
    }
    ctl_pol *p = ctl_pol_find(c, spec.ns, spec.name);
    if (!p) {
        if (c->npols >= CTL_POLICIES_MAX) {   /* removed ones in flight count too */
            log_warn("controller", "too many policies", LF_STR("policy", spec.name));
            return;
        }
        p = xcalloc(1, sizeof *p);
        p->c = c;
        p->observed_rps = -1;
        ctl_index_key(p->key, sizeof p->key, spec.ns, spec.name);
        p->resync_slot = resync_slot(p->key);
        ctl_index_add(&c->by_name, p->key, p);
        c->pols = xrealloc(c->pols, (c->npols + 1) * sizeof *c->pols);
        c->pols[c->npols++] = p;
        count_policies(c);
    }
    ctl_target_unindex(p);   /* the target may have changed */
    p->spec = spec;
    ctl_target_index(p);
    ctl_prewarm_update(p, obj);
    ctl_redis_put_policy(c, obj);
    ctl_reconcile(p);
}

static void on_add(k8s_informer *inf, const json_t *obj, void *arg)
{
    (void)inf;
    apply_object(arg, obj);
}

static int64_t generation(const json_t *obj)
{
    return (int64_t)json_integer_value(json_object_get(json_object_get(obj, "metadata"),
                                                       "generation"));
}

static void on_update(k8s_informer *inf, const json_t *old_obj, const json_t *new_obj, void *arg)
{
    (void)inf;
    /* Status writes (ours) do not change the generation. */
    if (generation(old_obj) != generation(new_obj))
        apply_object(arg, new_obj);
}

static void on_delete(k8s_informer *inf, const json_t *obj, void *arg)
{
    (void)inf;
    ctl *c = arg;
    const char *ns = k8s_meta_str(obj, "namespace"), *name = k8s_meta_str(obj, "name");
    if (!ns || !name)
        return;
    log_info("controller", "policy deleted; the Deployment is left as it is",
             LF_STR("namespace", ns), LF_STR("policy", name));
    ctl_redis_del_policy(c, ns, name);
    pol_remove(c, ns, name);
    ctl_hpa_policy_gone(c, obj);
}

static void on_synced(k8s_informer *inf, void *arg)
{
    ctl *c = arg;
    metrics_gauge_set(c->ready, 1);
    log_info("controller", "policies listed", LF_UINT("count", k8s_informer_count(inf)));
}

/* One slice of the resync: the policies of one slot, so a period's
 * reconciles do not all start at the same instant. */
static void on_resync(ev_loop *loop, ev_timer *t, void *arg)
{
    ctl *c = arg;
    unsigned slot = c->resync_tick++ % CTL_RESYNC_SLICES;
    ctl_redis_resync(c, slot);
    if (slot == 0)
        ctl_hpa_sweep(c);
    ev_timer_start(loop, t, lo_jitter_ms(c->set.resync_ms / CTL_RESYNC_SLICES, 0.1));
}

int ctl_new(ev_loop *loop, const ctl_settings *s, ctl **out, char *err, size_t errlen)
{
    int rc;
    char *kerr = NULL;
    k8s_config cfg;
    ctl *c = xcalloc(1, sizeof *c);
    c->loop = loop;
    c->set = *s;
    c->set.ns = s->ns && *s->ns ? xstrdup(s->ns) : NULL;
    c->set.redis_url = xstrdup(s->redis_url);
    c->set.listen_host = s->listen_host ? xstrdup(s->listen_host) : NULL;
    c->set.kubeconfig = c->set.context = NULL;
    c->set.lease_name = xstrdup(s->lease_name ? s->lease_name : "liftoff-controller");
    c->set.lease_ns = s->lease_ns && *s->lease_ns ? xstrdup(s->lease_ns) : NULL;
    c->set.identity = s->identity && *s->identity ? xstrdup(s->identity) : NULL;
    ev_timer_init(&c->resync, on_resync, c);
    ev_timer_init(&c->wq_timer, ctl_wq_timer_fired, c);
    ctl_wq_init(&c->wq, s->concurrent_reconciles ? s->concurrent_reconciles
                                                 : CTL_CONCURRENT_RECONCILES);
    ctl_index_init(&c->by_name);
    ctl_index_init(&c->by_target);
    ctl_index_init(&c->hpa_by_target);

    rc = k8s_config_load(s->kubeconfig && *s->kubeconfig ? s->kubeconfig : NULL,
                         s->context && *s->context ? s->context : NULL, &cfg, &kerr);
    if (rc < 0) {
        snprintf(err, errlen, "kubernetes configuration: %s", kerr ? kerr : log_strerror(rc));
        free(kerr);
        goto fail;
    }
    c->k8s = k8s_client_new(loop, NULL, &cfg);
    k8s_config_free(&cfg);
    if (!c->k8s) {
        snprintf(err, errlen, "cannot start the kubernetes client");
        rc = -EIO;
        goto fail;
    }
    if ((rc = ctl_admin_start(c, err, errlen)) < 0)
        goto fail;
    if ((rc = ctl_prewarm_start(c, err, errlen)) < 0)
        goto fail;
    if ((rc = ctl_redis_start(c, err, errlen)) < 0)
        goto fail;
    if ((rc = ctl_targets_start(c, err, errlen)) < 0)   /* reconciles wait for its list */
        goto fail;
    if ((rc = ctl_hpa_start(c, err, errlen)) < 0)   /* before the policies: listed first */
        goto fail;
    k8s_informer_cbs cbs = { on_add, on_update, on_delete, on_synced };
    c->inf = k8s_informer_new(c->k8s, &ctl_res_policies, c->set.ns, NULL, &cbs, c);
    if (!c->inf) {
        snprintf(err, errlen, "cannot watch launchpolicies");
        rc = -EINVAL;
        goto fail;
    }
    if ((rc = ctl_leader_start(c, err, errlen)) < 0)
        goto fail;
    ev_timer_start(loop, &c->resync, c->set.resync_ms / CTL_RESYNC_SLICES);
    *out = c;
    return 0;
fail:
    ctl_free(c);
    return rc;
}

void ctl_free(ctl *c)
{
    if (!c)
        return;
    c->closing = true;
    ev_timer_stop(c->loop, &c->resync);
    ev_timer_stop(c->loop, &c->wq_timer);
    rds_free(c->sub);          /* fails pending commands: nothing starts from them */
    rds_free(c->cmd);
    k8s_informer_free(c->inf);
    ctl_prewarm_stop(c);       /* its pod informers, before the client */
    k8s_informer_free(c->hpas);
    k8s_informer_free(c->deploys);
    k8s_client_free(c->k8s);   /* cancels reconciles in flight */
    k8s_lease_free(c->lease);  /* after the client: its request is cancelled */
    for (size_t i = 0; i < c->npols; i++) {
        ctl_memory_free(&c->pols[i]->mem);
        free(c->pols[i]);
    }
    free(c->pols);
    ctl_index_free(&c->by_name, NULL);
    ctl_index_free(&c->by_target, NULL);
    ctl_index_free(&c->hpa_by_target, free);
    ctl_admin_free(c->admin);
    metrics_registry_free(c->reg);
    free((char *)c->set.ns);
    free((char *)c->set.redis_url);
    free((char *)c->set.listen_host);
    free((char *)c->set.lease_name);
    free((char *)c->set.lease_ns);
    free((char *)c->set.identity);
    free(c);
}
