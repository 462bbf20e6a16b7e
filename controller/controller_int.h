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
#include "policy.h"
#include "status.h"

/* One followed policy. */
typedef struct ctl_pol {
    struct ctl *c;
    ctl_policy spec;
    ctl_forecast fc;
    uint64_t lost_since_ms;     /* signal lost since (Unix ms); 0: not lost */
    uint64_t fc_recv_wall_ms;   /* when the last forecast message came */
    char last_scale_time[CTL_TIME_MAX];
    uint64_t status_written_ms; /* monotonic, last status write */
    bool busy, dirty, removed;
    /* the reconcile in progress */
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
    metrics_histogram *decision_latency;
    metrics_family *desired, *applied;
};

extern const k8s_res ctl_res_policies, ctl_res_deployments, ctl_res_events, ctl_res_hpas;

/* The followed policy ns/name, or NULL. */
ctl_pol *ctl_pol_find(ctl *c, const char *ns, const char *name);
/* Starts (or queues) a reconcile of p. */
void ctl_reconcile(ctl_pol *p);
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

/* HPAs (hpa.c): the informer; 0 or -EINVAL with err. */
int ctl_hpa_start(ctl *c, char *err, size_t errlen);
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
/* Reads every policy's forecast hash and reconciles it (the resync). */
void ctl_redis_resync(ctl *c);
/* Starts both Redis clients: 0 or -EINVAL with err. */
int ctl_redis_start(ctl *c, char *err, size_t errlen);

/* Admin server with /healthz, /readyz, /metrics; registers the metrics. */
int ctl_admin_start(ctl *c, char *err, size_t errlen);
void ctl_admin_free(ctl_admin *a);

#endif
