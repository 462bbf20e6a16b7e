/*
 * controller_int.h — the controller's internals shared by its files
 * (reconcile.c, redis_sync.c, admin.c, service.c). Not a public API.
 */
#ifndef LIFTOFF_CTL_CONTROLLER_INT_H
#define LIFTOFF_CTL_CONTROLLER_INT_H

#include <stdbool.h>

#include "k8s_client.h"
#include "k8s_informer.h"
#include "k8s_lease.h"
#include "metrics.h"
#include "redis.h"

#include "controller.h"
#include "decision.h"
#include "index.h"
#include "policy.h"
#include "status.h"
#include "workqueue.h"

#define CTL_KEY_MAX (2 * CTL_NAME_MAX)   /* "ns/name" with the NUL */
#define CTL_RESYNC_SLICES 10             /* the resync period is spread over this many ticks */
#define CTL_RV_MAX 64                    /* a resourceVersion with the NUL */

/* One followed policy. */
typedef struct ctl_pol {
    ctl_wq_item wq;             /* its place in the reconcile queue */
    struct ctl *c;
    ctl_policy spec;
    char key[CTL_KEY_MAX];      /* "ns/name", in c->by_name */
    char target_key[CTL_KEY_MAX]; /* "ns/target", in c->by_target */
    unsigned resync_slot;       /* resynced at ticks of this slot (0..CTL_RESYNC_SLICES-1) */
    ctl_forecast fc;
    ctl_memory mem;             /* the decision's memory (when the signal was lost, the
                                   fallback's windows); ctl_pol_free() frees it */
    uint64_t fc_recv_wall_ms;   /* when the last forecast message came */
    double observed_rps;        /* the sidecars' observed rate, last read; < 0: none */
    uint64_t observed_read_ms;  /* Unix ms of that read */
    char last_scale_time[CTL_TIME_MAX];
    uint64_t status_written_ms; /* monotonic, last status write */
    bool removed;
    /* our last scale, until the Deployment cache shows it (expectation) */
    uint32_t expect_replicas;
    char expect_rv[CTL_RV_MAX]; /* the cached resourceVersion the PATCH followed; "" none */
    /* the reconcile in progress */
    bool failed;                /* an API write failed: back off before the next run */
    uint32_t current;
    bool target_found, scaled;
    char target_error[128];
    ctl_decision decision;
    struct ctl_prewarm *pw;     /* pre-warm state (prewarm.c); NULL until needed */
    /* through an HPA (hpa.c), the reconcile in progress */
    char hpa[CTL_NAME_MAX];     /* the HPA on the target; "" when none */
    uint32_t hpa_min_from, hpa_min_to;
    bool hpa_patched;
    unsigned hpa_conflicts;     /* 409s in a row */
} ctl_pol;

typedef struct ctl_prewarm ctl_prewarm;
typedef struct ctl_prewarm_svc ctl_prewarm_svc;

typedef struct ctl_admin ctl_admin;

struct ctl {
    ev_loop *loop;
    ctl_settings set;
    k8s_client *k8s;
    k8s_informer *inf;
    rds *cmd, *sub;
    ctl_admin *admin;
    ctl_prewarm_svc *prewarm;   /* prewarm.c: the multi handle and its metrics */
    ev_timer resync;
    unsigned resync_tick;       /* slices of the resync period done */
    ctl_wq wq;                  /* reconciles waiting and running */
    ev_timer wq_timer;          /* the next backoff to end */
    bool pumping;               /* ctl_pump() on the stack */
    ctl_index by_name;          /* "ns/name" -> ctl_pol */
    ctl_index by_target;        /* "ns/deployment" -> ctl_pol (several) */
    ctl_index hpa_by_target;    /* "ns/deployment" -> cached HPA object (hpa.c) */
    k8s_informer *deploys;      /* Deployments (target.c) */
    k8s_informer *hpas;         /* HorizontalPodAutoscalers (hpa.c) */
    k8s_lease *lease;           /* NULL without leader election (leader.c) */
    bool leading;               /* this process may write */
    bool closing;               /* ctl_free() in progress */
    ctl_pol **pols;             /* followed policies, and removed ones still in flight */
    size_t npols;
    /* metrics */
    metrics_registry *reg;
    metrics_counter *reconciles, *errors, *scales, *forecasts, *redis_writes;
    metrics_gauge *policies, *redis_up, *ready, *leader;
    metrics_counter *hpa_patches;
    metrics_histogram *decision_latency, *queue_wait;
    metrics_gauge *queue_depth, *in_flight;
    metrics_family *desired, *applied;
};

extern const k8s_res ctl_res_policies, ctl_res_deployments, ctl_res_events, ctl_res_hpas;

/* The followed policy ns/name, or NULL. */
ctl_pol *ctl_pol_find(ctl *c, const char *ns, const char *name);
/* Queues a reconcile of p (high priority: a forecast, a spec or target
 * change); runs it when a slot is free. */
void ctl_reconcile(ctl_pol *p);
/* The same at the resync's low priority. */
void ctl_reconcile_resync(ctl_pol *p);
/* Starts queued reconciles while slots are free (and the Deployments are
 * listed, and this process may write). */
void ctl_pump(ctl *c);
/* The callback of c->wq_timer (a backoff ended). */
void ctl_wq_timer_fired(ev_loop *loop, ev_timer *t, void *arg);
/* Marks p removed and frees it unless a reconcile holds it (it is then
 * freed when that ends; until then it stays in the table, unfound). */
void ctl_pol_release(ctl_pol *p);
/* Takes p out of the table and frees it. */
void ctl_pol_free(ctl_pol *p);

/* Continues a reconcile at its status write / ends it (for hpa.c). */
void ctl_reconcile_report(ctl_pol *p);
void ctl_reconcile_end(ctl_pol *p);

/* Whether this process may write (it leads, and is not shutting down). */
bool ctl_may_write(const ctl *c);
/* Starts the leader election (or leads at once when it is off). */
int ctl_leader_start(ctl *c, char *err, size_t errlen);

/* The target Deployment as cached (target.c). */
typedef struct ctl_target {
    bool found;
    uint32_t replicas;          /* spec.replicas (1 when absent) */
    char rv[CTL_RV_MAX];        /* metadata.resourceVersion */
    char selector[512];         /* spec.selector as a label selector string; "" if none */
} ctl_target;
/* Deployments (target.c): the informer; 0 or -EINVAL with err. */
int ctl_targets_start(ctl *c, char *err, size_t errlen);
/* Reads ns/name from the Deployment cache into *out. */
void ctl_target_read(ctl *c, const char *ns, const char *name, ctl_target *out);
/* Indexes p under its target (after a spec change) / takes it out. */
void ctl_target_index(ctl_pol *p);
void ctl_target_unindex(ctl_pol *p);

/* HPAs (hpa.c): the informer; 0 or -EINVAL with err. */
int ctl_hpa_start(ctl *c, char *err, size_t errlen);
/* The count a reconcile decides from when an HPA scales the Deployment:
 * true with *min the HPA's minReplicas (the floor liftoff moves) when a
 * usable HPA targets it, else false (*min unchanged). */
bool ctl_hpa_basis(ctl_pol *p, uint32_t *min);
/* Called by a reconcile after its decision: true when an HPA targets the
 * Deployment (or the HPAs are not listed yet) and hpa.c carries the
 * reconcile on (its floor on the HPA, then the status). */
bool ctl_hpa_take(ctl_pol *p);
/* The policy obj was deleted: restore its target HPA's minReplicas. */
void ctl_hpa_policy_gone(ctl *c, const json_t *obj);
/* Restores every HPA liftoff holds a floor on that no Active policy
 * targets any more (after a failover, a missed delete, a target change). */
void ctl_hpa_sweep(ctl *c);

/* Redis: the policy document (SET + SADD + PUBLISH) or its removal. */
void ctl_redis_put_policy(ctl *c, const json_t *obj);
void ctl_redis_del_policy(ctl *c, const char *ns, const char *name);
/* Reads the forecast hash of every policy of resync slot `slot` and
 * reconciles it (one slice of the resync). */
void ctl_redis_resync(ctl *c, unsigned slot);
/* Starts both Redis clients: 0 or -EINVAL with err. */
int ctl_redis_start(ctl *c, char *err, size_t errlen);

/* Admin server with /healthz, /readyz, /metrics; registers the metrics. */
int ctl_admin_start(ctl *c, char *err, size_t errlen);
void ctl_admin_free(ctl_admin *a);

#endif
