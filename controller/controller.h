/*
 * controller.h — the liftoff-controller service: an informer on
 * LaunchPolicies, the policies' documents in Redis for the predictor, the
 * forecasts from Redis (Pub/Sub at once, plus a periodic resync that also
 * notices a lost signal), and per policy a reconcile that reads the
 * Deployment's scale, decides (decision.h), scales (Active mode), posts an
 * Event on every scale and writes the status subresource.
 *
 * One reconcile per policy runs at a time; a trigger during it makes it run
 * once more afterwards. Only a spec change (metadata.generation) triggers a
 * reconcile and a Redis write: the controller's own status writes do not.
 *
 * Ownership: ctl_new() copies the settings' strings it keeps; ctl_free()
 * frees everything (requests in flight are cancelled).
 */
#ifndef LIFTOFF_CTL_CONTROLLER_H
#define LIFTOFF_CTL_CONTROLLER_H

#include <stddef.h>
#include <stdint.h>

#include "ev.h"

#define CTL_POLICIES_MAX 4096   /* policies followed by one controller */

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
} ctl_settings;

typedef struct ctl ctl;

/* Defaults of the settings. */
void ctl_settings_defaults(ctl_settings *s);
/* Builds and starts the controller on loop: 0 or -errno with err. */
int ctl_new(ev_loop *loop, const ctl_settings *s, ctl **out, char *err, size_t errlen);
/* Stops and frees. NULL-safe. */
void ctl_free(ctl *c);

#endif
