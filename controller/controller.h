/*
 * controller.h — the liftoff-controller service: an informer on
 * LaunchPolicies, the policies' documents in Redis for the predictor, the
 * forecasts from Redis (Pub/Sub at once, plus a periodic resync that also
 * notices a lost signal), and per policy a reconcile that reads the
 * Deployment's scale, decides (decision.h), scales (Active mode), posts an
 * Event on every scale and writes the status subresource.
 *
 * Reconciles go through a queue (workqueue.h): one per policy at a time (a
 * trigger during it makes it run once more afterwards), at most
 * concurrent_reconciles at once, forecasts before resyncs, a backoff after
 * a failed write. The target Deployments and HPAs come from informers, so
 * a reconcile reads nothing; it writes only what changes. Only a spec
 * change (metadata.generation) triggers a reconcile and a Redis write: the
 * controller's own status writes do not.
 *
 * With leader election (leader.c) several processes run at once; only the
 * one holding the Lease writes (scale, HPA, status, Events, Redis policy
 * documents); the others keep their caches warm to take over quickly.
 * When an HPA targets a policy's Deployment, the controller moves the HPA's
 * minReplicas instead of the replicas (hpa.c).
 *
 * Ownership: ctl_new() copies the settings' strings it keeps; ctl_free()
 * frees everything (requests in flight are cancelled).
 */
#ifndef LIFTOFF_CTL_CONTROLLER_H
#define LIFTOFF_CTL_CONTROLLER_H

#include <stddef.h>
#include <stdint.h>

#include "ev.h"

#define CTL_POLICIES_MAX 4096          /* policies followed by one controller */
#define CTL_CONCURRENT_RECONCILES 16   /* default of --concurrent-reconciles */

typedef struct ctl_settings {
    const char *kubeconfig;     /* NULL/"": the usual search */
    const char *context;        /* NULL/"": current context */
    const char *ns;             /* NULL/"": all namespaces */
    const char *redis_url;
    const char *listen_host;    /* admin server */
    int listen_port;
    uint64_t resync_ms;         /* periodic reconcile of every policy */
    uint64_t stale_ms;          /* a forecast older than this is stale */
    uint64_t hold_ms;           /* keep current replicas this long after the signal is lost */
    size_t concurrent_reconciles; /* reconciles running at once (0: the default) */
    /* leader election (leader.c): only the leader writes */
    int leader_elect;           /* CTL_LEADER_ELECT_* */
    const char *lease_name;     /* the Lease's name */
    const char *lease_ns;       /* NULL/"": the client configuration's namespace */
    const char *identity;       /* NULL/"": $POD_NAME, else host_pid */
    uint64_t lease_ms;          /* lease duration */
    uint64_t renew_ms;          /* the leader stops leading without a renewal this long */
    uint64_t retry_ms;          /* candidates read, the leader renews, this often */
} ctl_settings;

#define CTL_LEADER_ELECT_OFF 0
#define CTL_LEADER_ELECT_ON 1
#define CTL_LEADER_ELECT_AUTO 2   /* on when running in a cluster (service account) */

typedef struct ctl ctl;

/* Defaults of the settings. */
void ctl_settings_defaults(ctl_settings *s);
/* Builds and starts the controller on loop: 0 or -errno with err. */
int ctl_new(ev_loop *loop, const ctl_settings *s, ctl **out, char *err, size_t errlen);
/* Starts the shutdown: stops writing and, when leading, releases the
 * Lease so a follower takes over at once; done(arg) runs when that is over
 * (at once without leader election). Then ctl_free(). */
void ctl_shutdown(ctl *c, void (*done)(void *arg), void *arg);
/* Stops and frees. NULL-safe. */
void ctl_free(ctl *c);

#endif
