/*
 * policies.h — which LaunchPolicies the predictor follows, and their
 * parameters. The contract with the controller (also in docs/redis-keys.md):
 *
 *   SET     liftoff:policy:<namespace>:<name>  <JSON, see policy_json.h>
 *   SADD    liftoff:policies "<namespace>/<name>"
 *   PUBLISH liftoff:policy   "<namespace>/<name>"     after every change
 *
 * and for a deleted policy: DEL the key, SREM the member, PUBLISH the name.
 * A PUBLISH of "*" asks every predictor to re-read the whole set.
 *
 * The predictor reads the set and every document at start, after each
 * reconnect of its subscription (messages may have been missed) and every
 * --policy-resync; a message re-reads the one policy it names. A policy
 * whose key is gone is dropped. --policy NAMESPACE/NAME adds a policy
 * without the controller: it is followed whether or not the set lists it,
 * with the defaults while its key does not exist.
 *
 * A changed document takes effect at once. When the window, the weights,
 * the lag bank or the lead time change (or the launch), the learned state
 * cannot carry over: the window is rebuilt from the stream with the new
 * parameters. Other changes keep what was learned.
 */
#ifndef LIFTOFF_PREDICTOR_POLICIES_H
#define LIFTOFF_PREDICTOR_POLICIES_H

#include <stdbool.h>
#include <stddef.h>

#define PRED_POLICY_SET "liftoff:policies"
#define PRED_POLICY_CHANNEL "liftoff:policy"
#define PRED_NAME_MAX 253          /* Kubernetes object name / namespace */

typedef struct pred pred;
typedef struct pred_policy pred_policy;

/* Whether s is a valid Kubernetes namespace or object name (lower-case
 * letters, digits, '-' and '.', 1..PRED_NAME_MAX, alphanumeric at both ends). */
bool pred_k8s_name_valid(const char *s, size_t len);
/* Reads the policy set and every policy document. */
void pred_policies_sync(pred *p);
/* Handles a message on the policy channel. */
void pred_policies_message(pred *p, const char *data, size_t len);
/* Adds the --policy entries. 0, or -EINVAL with err for a bad entry. */
int pred_policies_static(pred *p, char *err, size_t errlen);
/* Takes a reference to pol for a command in flight / drops it (a dead
 * policy is freed with its last reference). */
void pred_policy_ref(pred_policy *pol);
void pred_policy_unref(pred_policy *pol);
/* Frees every policy (at shutdown, after the clients are gone). */
void pred_policies_free(pred *p);

#endif
