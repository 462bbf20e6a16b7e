/* target.c — the policies' target Deployments: an informer on the
 * Deployments of the watched namespaces, so a reconcile reads
 * spec.replicas and the selector from the cache instead of GETting the
 * scale subresource; a change of a Deployment's spec (another writer
 * scaled it, it was created or deleted) queues the policies that target
 * it, found through c->by_target. Until the first list is in, no
 * reconcile runs (ctl_pump). */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "log.h"

#include "controller_int.h"
#include "selector.h"

static void reconcile_one(void *val, void *arg)
{
    (void)arg;
    ctl_reconcile(val);
}

static void reconcile_targeting(ctl *c, const json_t *d)
{
    char key[CTL_KEY_MAX];
    const char *ns = k8s_meta_str(d, "namespace"), *name = k8s_meta_str(d, "name");
    if (!ns || !name)
        return;
    ctl_index_key(key, sizeof key, ns, name);
    ctl_index_each(&c->by_target, key, reconcile_one, NULL);
}

static void on_add(k8s_informer *inf, const json_t *obj, void *arg)
{
    ctl *c = arg;
    if (k8s_informer_synced(inf))   /* the first list's adds: on_synced queues all */
        reconcile_targeting(c, obj);
}

static const json_t *spec_replicas(const json_t *d)
{
    return json_object_get(json_object_get(d, "spec"), "replicas");
}

static void on_update(k8s_informer *inf, const json_t *old_obj, const json_t *new_obj, void *arg)
{
    (void)inf;
    /* The spec only (replicas, selector): status changes come with every pod. */
    if (!json_equal(spec_replicas(old_obj), spec_replicas(new_obj)) ||
        !json_equal(json_object_get(json_object_get(old_obj, "spec"), "selector"),
                    json_object_get(json_object_get(new_obj, "spec"), "selector")))
        reconcile_targeting(arg, new_obj);
}

static void on_delete(k8s_informer *inf, const json_t *obj, void *arg)
{
    (void)inf;
    reconcile_targeting(arg, obj);
}

static void on_synced(k8s_informer *inf, void *arg)
{
    ctl *c = arg;
    log_info("controller", "Deployments listed", LF_UINT("count", k8s_informer_count(inf)));
    ctl_pump(c);
}

int ctl_targets_start(ctl *c, char *err, size_t errlen)
{
    k8s_informer_cbs cbs = { on_add, on_update, on_delete, on_synced };
    c->deploys = k8s_informer_new(c->k8s, &ctl_res_deployments, c->set.ns, NULL, &cbs, c);
    if (!c->deploys) {
        snprintf(err, errlen, "cannot watch deployments");
        return -EINVAL;
    }
    return 0;
}

void ctl_target_read(ctl *c, const char *ns, const char *name, ctl_target *out)
{
    memset(out, 0, sizeof *out);
    const json_t *d = k8s_informer_get(c->deploys, ns, name);
    if (!d)
        return;
    out->found = true;
    const json_t *rep = spec_replicas(d);
    out->replicas = json_is_integer(rep) && json_integer_value(rep) >= 0
                        ? (uint32_t)json_integer_value(rep) : 1;   /* the API's default */
    snprintf(out->rv, sizeof out->rv, "%s", k8s_meta_str(d, "resourceVersion") ?
             k8s_meta_str(d, "resourceVersion") : "");
    if (ctl_selector_string(json_object_get(json_object_get(d, "spec"), "selector"),
                            out->selector, sizeof out->selector) < 0)
        out->selector[0] = '\0';
}

void ctl_target_index(ctl_pol *p)
{
    ctl_index_key(p->target_key, sizeof p->target_key, p->spec.ns, p->spec.target);
    ctl_index_add(&p->c->by_target, p->target_key, p);
}

void ctl_target_unindex(ctl_pol *p)
{
    if (p->target_key[0])
        ctl_index_del(&p->c->by_target, p->target_key, p);
    p->target_key[0] = '\0';
}
