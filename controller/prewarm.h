/*
 * prewarm.h — cache pre-warming of a policy's target (issue: "pre-warm the
 * sidecars' caches before the launch"): when prewarm_plan.h says a round is
 * due, POST the policy's spec.prewarm.paths to /warm on the sidecar admin
 * port of every ready pod of the target Deployment, all in parallel, each
 * with the policy's deadline; the outcome goes to the status
 * (lastPrewarmTime, lastPrewarm) and an Event (Prewarmed / PrewarmFailed;
 * PrewarmDryRun in DryRun, which POSTs nothing). Paused does nothing.
 *
 * Pods come from an informer per policy (list + watch of the pods matching
 * the Deployment's selector, read from the scale subresource the reconcile
 * already fetches), started only for policies with paths. A round never
 * holds up the reconcile: it runs beside it on its own libcurl multi
 * handle, and its end triggers a reconcile that writes the status.
 *
 * Hooks, called by the controller's files:
 *   service.c   ctl_prewarm_start / ctl_prewarm_stop (the controller),
 *               ctl_prewarm_update (spec changed), ctl_prewarm_free (policy gone)
 *   reconcile.c ctl_prewarm_check (after the decision),
 *               ctl_prewarm_status (into each status written)
 *
 * Ownership: the per-policy state hangs off ctl_pol.pw and is freed by
 * ctl_prewarm_free (cancelling its round and informer); ctl_prewarm_stop
 * frees every policy's state and the multi handle.
 */
#ifndef LIFTOFF_CTL_PREWARM_H
#define LIFTOFF_CTL_PREWARM_H

#include <jansson.h>

#include "controller_int.h"

#define CTL_PREWARM_PODS_MAX 1024         /* pods POSTed to in one round */
#define CTL_PREWARM_ANSWER_MAX (256u << 10) /* largest /warm answer read */
#define CTL_PREWARM_CONNECTIONS_MAX 64L   /* connections open at once, all rounds */
#define CTL_PREWARM_SELECTOR_MAX 1024     /* the Deployment's label selector */

/* Creates the multi handle and registers the metrics (after the admin
 * server made c->reg): 0 or -EIO with err. */
int ctl_prewarm_start(ctl *c, char *err, size_t errlen);
/* Frees every policy's pre-warm state and the multi handle; before the
 * Kubernetes client is freed. NULL-safe parts. */
void ctl_prewarm_stop(ctl *c);
/* Reads a new or changed spec (obj: the LaunchPolicy) into p's state. */
void ctl_prewarm_update(ctl_pol *p, const json_t *obj);
/* After the decision: keeps the pod informer on the target's label
 * selector (a selector string; NULL or "": not known) and starts a round
 * if one is due. */
void ctl_prewarm_check(ctl_pol *p, const char *selector);
/* Puts the last round (or what prev reported) into the status st. */
void ctl_prewarm_status(ctl_pol *p, json_t *st, const json_t *prev);
/* Frees p's pre-warm state (cancels a round in flight). NULL-safe. */
void ctl_prewarm_free(ctl_prewarm *pw);

#endif
