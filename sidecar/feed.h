/*
 * feed.h — follows the predictor through Redis (docs/redis-keys.md) for one
 * LaunchPolicy: the load factor from the liftoff:forecast channel and the
 * liftoff:forecast:<ns>:<name> hash, and the rules from
 * liftoff:policy:<ns>:<name> when liftoff:policy names the policy (or "*").
 *
 * Never a Redis call per request. Two connections: a subscriber, and a
 * command client (fail-fast: nothing queues while Redis is down) that
 * reads the hash and the policy at start, after every reconnect of the
 * subscriber, and then every poll_ms (hash) / policy_resync_ms (policy) as
 * a fallback for lost messages. At most one read of each kind is in flight.
 * While Redis is down the factor simply ages and decays (factor.h); the
 * proxy does not notice.
 *
 * Every observed_interval_ms it also reports what the sidecar saw
 * (observed.h) as this pod's fields of liftoff:observed:<ns>:<name>:
 *   HSET key rps@<pod> R p99_ms@<pod> P shed@<pod> S updated_at@<pod> MS
 *   PEXPIRE key SIDECAR_OBSERVED_TTL_MS
 * (a report is dropped, not queued, while Redis is down).
 *
 * Ownership: the feed belongs to the service (service_int.h), which creates
 * it with sidecar_feed_new() and frees it with sidecar_feed_free().
 */
#ifndef LIFTOFF_SIDECAR_FEED_H
#define LIFTOFF_SIDECAR_FEED_H

#include <stddef.h>
#include <stdint.h>

#define SIDECAR_FEED_CMD_TIMEOUT_MS 1000u  /* per Redis command */
#define SIDECAR_POLICY_NAME_MAX 253        /* namespace or name, bytes */
#define SIDECAR_POD_NAME_MAX 253           /* reporter name, bytes */
#define SIDECAR_OBSERVED_TTL_MS 60000u     /* liftoff:observed key TTL */

typedef struct sidecar_feed sidecar_feed;
struct sidecar_service;

typedef struct sidecar_feed_opts {
    const char *url;                /* redis_url.h */
    const char *ns, *name;          /* the LaunchPolicy */
    const char *pod;                /* reporter name for liftoff:observed */
    uint32_t poll_ms;               /* forecast hash fallback; 0: 5 s */
    uint32_t policy_resync_ms;      /* policy fallback; 0: 30 s */
    uint32_t observed_interval_ms;  /* observed report period; 0: no reports */
} sidecar_feed_opts;

/* Connects (from the loop's next turn) and starts following ns/name. 0 or
 * -EINVAL with a reason in err (bad URL). Copies what it keeps of o. */
int sidecar_feed_new(struct sidecar_service *svc, const sidecar_feed_opts *o,
                     sidecar_feed **out, char *err, size_t errlen);
/* Closes both connections and frees. NULL-safe. */
void sidecar_feed_free(sidecar_feed *f);

/* Splits "NS/NAME" into ns and name (each at most SIDECAR_POLICY_NAME_MAX
 * bytes + NUL). 0 or -EINVAL. */
int sidecar_policy_split(const char *s, char *ns, char *name);

#endif
