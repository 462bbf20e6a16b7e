/* leader.c — the controller's side of the leader election (k8s_lease.h):
 * which Lease, whether at all (--leader-elect), what becoming and stopping
 * to be the leader mean, and the release on shutdown.
 *
 * Only the leader writes: the scale subresource, HPAs, status, Events and
 * the Redis policy documents (ctl_may_write() guards each write). A
 * follower keeps its informers and forecasts current but does not
 * reconcile; on becoming the leader it writes every policy document again,
 * reconciles every policy and restores HPAs left with a floor nobody holds.
 * On stopping (lost Lease, missed renew deadline, shutdown) it stops
 * writing at once; requests already sent are not recalled. */
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "log.h"

#include "controller_int.h"

bool ctl_may_write(const ctl *c)
{
    return c->leading && !c->closing;
}

static void took_over(ctl *c)
{
    for (size_t i = 0; i < c->npols; i++) {
        ctl_pol *p = c->pols[i];
        if (p->removed)
            continue;
        const json_t *obj = k8s_informer_get(c->inf, p->spec.ns, p->spec.name);
        if (obj)
            ctl_redis_put_policy(c, obj);
        ctl_reconcile(p);
    }
    ctl_hpa_sweep(c);
}

static void on_change(k8s_lease *l, bool leading, void *arg)
{
    (void)l;
    ctl *c = arg;
    c->leading = leading;
    metrics_gauge_set(c->leader, leading ? 1 : 0);
    if (leading && !c->closing)
        took_over(c);
}

int ctl_leader_start(ctl *c, char *err, size_t errlen)
{
    const k8s_config *cfg = k8s_client_config(c->k8s);
    const ctl_settings *s = &c->set;
    bool in_cluster = cfg->context == NULL;
    c->leader = metrics_gauge_new(c->reg, "liftoff_controller_leader",
                                  "1 while this process holds the leader Lease (or leader "
                                  "election is off)");
    if (s->leader_elect == CTL_LEADER_ELECT_OFF ||
        (s->leader_elect == CTL_LEADER_ELECT_AUTO && !in_cluster)) {
        c->leading = true;
        metrics_gauge_set(c->leader, 1);
        log_info("controller", "leader election off: this process writes");
        return 0;
    }
    char identity[K8S_LEASE_IDENTITY_MAX];
    if (s->identity && *s->identity)
        snprintf(identity, sizeof identity, "%s", s->identity);
    else
        k8s_lease_default_identity(identity, sizeof identity);
    k8s_lease_opts o = {
        .ns = s->lease_ns && *s->lease_ns ? s->lease_ns : cfg->namespace,
        .name = s->lease_name,
        .identity = identity,
        .duration_ms = s->lease_ms,
        .renew_deadline_ms = s->renew_ms,
        .retry_ms = s->retry_ms,
        .on_change = on_change,
        .arg = c,
    };
    char why[256];
    c->lease = k8s_lease_new(c->k8s, &o, why, sizeof why);
    if (!c->lease) {
        snprintf(err, errlen, "leader election: %s", why);
        return -EINVAL;
    }
    log_info("controller", "leader election on: following until the lease is held",
             LF_STR("lease", o.name), LF_STR("namespace", o.ns), LF_STR("identity", identity));
    return 0;
}

void ctl_shutdown(ctl *c, void (*done)(void *arg), void *arg)
{
    if (!c || !c->lease) {
        if (c)
            c->leading = false;
        done(arg);
        return;
    }
    k8s_lease_release(c->lease, done, arg);   /* calls on_change(false) when leading */
    c->leading = false;
}
