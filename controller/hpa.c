/* hpa.c — HPA coexistence (hpa_floor.h): an informer on
 * HorizontalPodAutoscalers, so no reconcile reads one; the reconcile's
 * branch for a Deployment an HPA scales (the floor on the HPA, Event,
 * status); the restore when a policy goes away or stops being Active; and
 * a sweep that restores floors nobody holds (run on resync and failover).
 *
 * Until the HPAs are listed, a reconcile writes no replicas at all: it
 * cannot know yet whether an HPA owns them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "log.h"

#include "controller_int.h"
#include "hpa_floor.h"

#define CTL_HPA_CONFLICT_RERUNS 3   /* reconciles run again at once after a 409 */

const k8s_res ctl_res_hpas = K8S_RES("autoscaling", "v2", "horizontalpodautoscalers");

/* c->hpa_by_target maps "ns/deployment" to the names of the HPAs that
 * scale it (strings owned by the index). */
static bool same_name(const void *val, const void *arg)
{
    return strcmp(val, arg) == 0;
}

/* The index key (namespace/target) of hpa and its name: false when the
 * object lacks one of them. */
static bool hpa_key(const json_t *hpa, char key[CTL_KEY_MAX], const char **name)
{
    const char *ns = k8s_meta_str(hpa, "namespace"), *target = ctl_hpa_target_name(hpa);
    *name = k8s_meta_str(hpa, "name");
    if (!ns || !*name || !target)
        return false;
    ctl_index_key(key, CTL_KEY_MAX, ns, target);
    return true;
}

static void index_put(ctl *c, const json_t *hpa)
{
    char key[CTL_KEY_MAX];
    const char *name;
    if (!hpa_key(hpa, key, &name))
        return;
    if (!ctl_index_find(&c->hpa_by_target, key, same_name, name))
        ctl_index_add(&c->hpa_by_target, key, xstrdup(name));
}

static void index_drop(ctl *c, const json_t *hpa)
{
    char key[CTL_KEY_MAX];
    const char *name;
    if (!hpa_key(hpa, key, &name))
        return;
    char *v = ctl_index_find(&c->hpa_by_target, key, same_name, name);
    if (v) {
        ctl_index_del(&c->hpa_by_target, key, v);
        free(v);
    }
}

/* The cached HPA on ns/deployment, or NULL (one of them if several). */
static const json_t *hpa_for(ctl *c, const char *ns, const char *deployment)
{
    char key[CTL_KEY_MAX];
    ctl_index_key(key, sizeof key, ns, deployment);
    const char *name = ctl_index_get(&c->hpa_by_target, key);
    return name ? k8s_informer_get(c->hpas, ns, name) : NULL;
}

static void any_active(void *val, void *arg)
{
    const ctl_pol *p = val;
    if (!p->removed && p->spec.mode == CTL_MODE_ACTIVE)
        *(bool *)arg = true;
}

/* Whether a followed Active policy targets ns/deployment. */
static bool held_by_policy(ctl *c, const char *ns, const char *deployment)
{
    char key[CTL_KEY_MAX];
    bool held = false;
    ctl_index_key(key, sizeof key, ns, deployment);
    ctl_index_each(&c->by_target, key, any_active, &held);
    return held;
}

/* ---- the restore, outside a reconcile ---- */

static void on_restored(const k8s_response *r, void *arg)
{
    ctl *c = arg;
    if (r->rc == 0) {
        metrics_counter_inc(c->hpa_patches);
        log_info("controller", "HPA minReplicas restored",
                 LF_STR("namespace", k8s_meta_str(r->body, "namespace")),
                 LF_STR("hpa", k8s_meta_str(r->body, "name")));
    } else if (r->rc != K8S_ECONFLICT && r->rc != K8S_ENOTFOUND) {
        /* a 409: it changed meanwhile, the next sweep looks again */
        metrics_counter_inc(c->errors);
        log_warn("controller", "HPA restore failed", LF_STR("reason", r->message));
    }
}

static void restore(ctl *c, const json_t *hpa, const char *why)
{
    ctl_hpa_view v;
    if (!ctl_may_write(c) || ctl_hpa_view_read(hpa, &v) < 0 || !v.has_original)
        return;
    json_t *patch = ctl_hpa_restore_patch(hpa, &v);
    log_info("controller", "restoring HPA minReplicas", LF_STR("namespace",
             k8s_meta_str(hpa, "namespace")), LF_STR("hpa", k8s_meta_str(hpa, "name")),
             LF_UINT("from", v.min), LF_UINT("to", v.original), LF_STR("why", why));
    if (k8s_patch(c->k8s, &ctl_res_hpas, k8s_meta_str(hpa, "namespace"),
                  k8s_meta_str(hpa, "name"), NULL, K8S_PATCH_MERGE, patch, on_restored, c) < 0)
        metrics_counter_inc(c->errors);
    json_decref(patch);
}

void ctl_hpa_policy_gone(ctl *c, const json_t *obj)
{
    const char *ns = k8s_meta_str(obj, "namespace");
    const char *target = json_string_value(json_object_get(
        json_object_get(json_object_get(obj, "spec"), "targetRef"), "name"));
    if (!c->hpas || !ns || !target || held_by_policy(c, ns, target))
        return;
    const json_t *hpa = hpa_for(c, ns, target);
    if (hpa)
        restore(c, hpa, "policy deleted");
}

static void sweep_one(const char *key, const json_t *obj, void *arg)
{
    (void)key;
    ctl *c = arg;
    ctl_hpa_view v;
    const char *ns = k8s_meta_str(obj, "namespace"), *target = ctl_hpa_target_name(obj);
    if (ns && ctl_hpa_view_read(obj, &v) == 0 && v.has_original &&
        !(target && held_by_policy(c, ns, target)))
        restore(c, obj, "no Active policy targets it");
}

void ctl_hpa_sweep(ctl *c)
{
    if (!c->hpas || !ctl_may_write(c) || !k8s_informer_synced(c->hpas) ||
        !k8s_informer_synced(c->inf))
        return;
    k8s_informer_foreach(c->hpas, sweep_one, c);
}

/* ---- the reconcile's branch ---- */

static void on_event(const k8s_response *r, void *arg)
{
    (void)arg;
    if (r->rc < 0)
        log_warn("controller", "event not posted", LF_STR("reason", r->message));
}

static void post_event(ctl_pol *p)
{
    ctl *c = p->c;
    char msg[1024];
    const char *reason = p->spec.mode != CTL_MODE_ACTIVE          ? "FloorRestored"
                         : p->hpa_min_to > p->hpa_min_from ? "FloorRaised"
                                                            : "FloorLowered";
    snprintf(msg, sizeof msg,
             "HorizontalPodAutoscaler %s minReplicas %u -> %u (it scales Deployment %s): %s",
             p->hpa, p->hpa_min_from, p->hpa_min_to, p->spec.target,
             p->spec.mode != CTL_MODE_ACTIVE ? ctl_mode_name(p->spec.mode) : p->decision.why);
    json_t *ev = ctl_event_build(&p->spec, p->hpa_min_from, p->hpa_min_to, p->decision.why,
                                 lo_wall_ms());
    json_object_set_new(ev, "reason", json_string(reason));
    json_object_set_new(ev, "message", json_string(msg));
    k8s_create(c->k8s, &ctl_res_events, p->spec.ns, ev, on_event, NULL);
    json_decref(ev);
}

static void on_patched(const k8s_response *r, void *arg)
{
    ctl_pol *p = arg;
    ctl *c = p->c;
    if (p->removed) {
        ctl_reconcile_end(p);
        return;
    }
    if (r->rc < 0) {
        if (r->rc == K8S_ECONFLICT && p->hpa_conflicts++ < CTL_HPA_CONFLICT_RERUNS) {
            ctl_reconcile(p);   /* changed since cached: again (after this run) on the fresher copy */
        } else {
            p->failed = true;
            metrics_counter_inc(c->errors);
            log_warn("controller", "HPA floor not written", LF_STR("policy", p->spec.name),
                     LF_STR("namespace", p->spec.ns), LF_STR("hpa", p->hpa),
                     LF_STR("reason", r->message));
        }
        ctl_reconcile_report(p);
        return;
    }
    p->hpa_conflicts = 0;
    p->hpa_patched = true;
    metrics_counter_inc(c->hpa_patches);
    log_info("controller", "HPA floor set", LF_STR("namespace", p->spec.ns),
             LF_STR("policy", p->spec.name), LF_STR("hpa", p->hpa),
             LF_UINT("from", p->hpa_min_from), LF_UINT("to", p->hpa_min_to),
             LF_STR("why", p->spec.mode == CTL_MODE_ACTIVE ? p->decision.why
                                                           : ctl_mode_name(p->spec.mode)));
    if (ctl_may_write(c))
        post_event(p);
    ctl_reconcile_report(p);
}

bool ctl_hpa_basis(ctl_pol *p, uint32_t *min)
{
    ctl *c = p->c;
    ctl_hpa_view v;
    if (!c->hpas || !k8s_informer_synced(c->hpas))
        return false;
    const json_t *hpa = hpa_for(c, p->spec.ns, p->spec.target);
    if (!hpa || ctl_hpa_view_read(hpa, &v) < 0)
        return false;
    *min = v.min;
    return true;
}

bool ctl_hpa_take(ctl_pol *p)
{
    ctl *c = p->c;
    p->hpa[0] = '\0';
    p->hpa_patched = false;
    if (!c->hpas)
        return false;
    if (!k8s_informer_synced(c->hpas)) {
        /* an HPA may own the replicas: write none until the list is in */
        snprintf(p->target_error, sizeof p->target_error, "HorizontalPodAutoscalers not listed yet");
        p->target_found = false;
        ctl_reconcile_report(p);
        return true;
    }
    const json_t *hpa = hpa_for(c, p->spec.ns, p->spec.target);
    ctl_hpa_view v;
    if (!hpa)
        return false;
    snprintf(p->hpa, sizeof p->hpa, "%s", k8s_meta_str(hpa, "name"));
    if (ctl_hpa_view_read(hpa, &v) < 0) {
        snprintf(p->target_error, sizeof p->target_error,
                 "HorizontalPodAutoscaler %.64s has no usable maxReplicas", p->hpa);
        p->target_found = false;
        ctl_reconcile_report(p);
        return true;
    }
    /* The floor was decided like replicas (reconcile.c), the HPA's
     * minReplicas standing for the current count (ctl_hpa_basis). */
    p->hpa_min_from = p->hpa_min_to = v.min;
    json_t *patch = NULL;
    if (p->spec.mode == CTL_MODE_ACTIVE) {
        p->hpa_min_to = ctl_hpa_floor(&v, p->decision.replicas);
        if (p->hpa_min_to != v.min)
            patch = ctl_hpa_floor_patch(hpa, &v, p->hpa_min_to);
    } else if (v.has_original) {   /* DryRun, Paused: give the floor up */
        p->hpa_min_to = v.original;
        patch = ctl_hpa_restore_patch(hpa, &v);
    }
    if (patch && ctl_may_write(c) &&
        k8s_patch(c->k8s, &ctl_res_hpas, p->spec.ns, p->hpa, NULL, K8S_PATCH_MERGE, patch,
                  on_patched, p) == 0) {
        json_decref(patch);
        return true;
    }
    json_decref(patch);
    ctl_reconcile_report(p);
    return true;
}

/* ---- the informer ---- */

static void reconcile_one(void *val, void *arg)
{
    (void)arg;
    ctl_reconcile(val);
}

static void reconcile_target(ctl *c, const json_t *hpa)
{
    char key[CTL_KEY_MAX];
    const char *ns = k8s_meta_str(hpa, "namespace"), *target = ctl_hpa_target_name(hpa);
    if (!ns || !target)
        return;
    ctl_index_key(key, sizeof key, ns, target);
    ctl_index_each(&c->by_target, key, reconcile_one, NULL);
}

static void on_add(k8s_informer *inf, const json_t *obj, void *arg)
{
    (void)inf;
    index_put(arg, obj);
    reconcile_target(arg, obj);
}

static int64_t generation(const json_t *obj)
{
    return (int64_t)json_integer_value(json_object_get(json_object_get(obj, "metadata"),
                                                       "generation"));
}

static void on_update(k8s_informer *inf, const json_t *old_obj, const json_t *new_obj, void *arg)
{
    (void)inf;
    /* spec changes only: the HPA controller writes its status every sync */
    index_drop(arg, old_obj);   /* its target may have changed */
    index_put(arg, new_obj);
    if (generation(old_obj) != generation(new_obj)) {
        reconcile_target(arg, old_obj);
        reconcile_target(arg, new_obj);
    }
}

static void on_delete(k8s_informer *inf, const json_t *obj, void *arg)
{
    (void)inf;
    index_drop(arg, obj);
    reconcile_target(arg, obj);
}

static void on_synced(k8s_informer *inf, void *arg)
{
    ctl *c = arg;
    log_info("controller", "HPAs listed", LF_UINT("count", k8s_informer_count(inf)));
    for (size_t i = 0; i < c->npols; i++)
        if (!c->pols[i]->removed)
            ctl_reconcile(c->pols[i]);
    ctl_hpa_sweep(c);
}

int ctl_hpa_start(ctl *c, char *err, size_t errlen)
{
    k8s_informer_cbs cbs = { on_add, on_update, on_delete, on_synced };
    c->hpa_patches = metrics_counter_new(c->reg, "liftoff_controller_hpa_floor_patches_total",
                                         "HPA minReplicas changes (floors set and restored) "
                                         "accepted by the API server");
    c->hpas = k8s_informer_new(c->k8s, &ctl_res_hpas, c->set.ns, NULL, &cbs, c);
    if (!c->hpas) {
        snprintf(err, errlen, "cannot watch horizontalpodautoscalers");
        return -EINVAL;
    }
    return 0;
}
