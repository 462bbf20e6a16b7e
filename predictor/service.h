/*
 * service.h — liftoff-predictor as one object: it consumes the engagement
 * streams liftoff:events:<launch> in a consumer group, keeps one forecaster
 * per LaunchPolicy (track.h), and publishes forecasts and replica decisions
 * to Redis; an admin HTTP server answers /healthz, /readyz and /metrics.
 * main.c fills pred_settings from the command line and environment.
 *
 * Ownership: pred_new() copies every string of the settings; pred_free()
 * frees everything. Not thread-safe (one loop).
 */
#ifndef LIFTOFF_PREDICTOR_SERVICE_H
#define LIFTOFF_PREDICTOR_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ev.h"

#define PRED_POLICIES_MAX 1024         /* policies followed at most */
#define PRED_LAUNCHES_MAX 64           /* distinct launch streams at most */
#define PRED_BATCH_MAX 100000          /* entries per read */
#define PRED_EARLY_INTERVAL_MAX_MS 60000u /* longest --early-publish-interval */

typedef struct pred_settings {
    const char *redis_url;
    const char *listen_host;        /* NULL or "": any address */
    int listen_port;                /* 0: ephemeral (pred_port) */
    const char *launch;             /* launch of policies that name none */
    const char *consumer;           /* NULL or "": <hostname>-<pid> */
    const char *group;              /* consumer group */
    const char *group_start;        /* "$" or "0": where a new group starts */
    uint32_t batch;                 /* COUNT of each read */
    uint32_t block_ms;              /* BLOCK of a read when caught up */
    uint64_t publish_interval_ms;   /* every policy is published this often */
    double change_threshold;        /* relative change published at once */
    uint64_t forecast_ttl_ms;       /* TTL of the forecast hash */
    const char *const *policies;    /* "namespace/name" followed without the controller */
    size_t npolicies;
    uint64_t claim_idle_ms;         /* pending entries idle this long are claimed */
    uint64_t claim_interval_ms;     /* how often to look for them */
    uint64_t tick_delay_ms;         /* a second is complete this long after its end */
    uint64_t rebuild_slack_ms;      /* replayed before the window (clock skew) */
    uint64_t policy_resync_ms;      /* full re-read of the policy set */
    bool exit_when_caught_up;       /* drain once every stream has been read to its end */
    bool no_ack;                    /* read with NOACK, acknowledge nothing (consume.h) */
    uint64_t early_publish_interval_ms; /* provisional forecasts per policy at most this
                                       often (publish.h); 0: none */
    double early_publish_ratio;     /* ... once the incomplete second holds this many
                                       times the velocity (track.h) */
} pred_settings;

/* The documented defaults. */
void pred_settings_defaults(pred_settings *s);

typedef struct pred pred;

/* Starts the admin server and connects Redis (in the background): 0, or
 * -errno with a reason in err. */
int pred_new(ev_loop *loop, const pred_settings *s, pred **out, char *err, size_t errlen);
/* The admin server's port. */
int pred_port(const pred *p);
/* Ready: Redis up, the policies read, every window rebuilt. */
bool pred_ready(const pred *p);
/* Graceful stop: no new reads; the reads in flight are applied and
 * acknowledged, every policy published once more, the acknowledgements and
 * publishes answered (at most PRED_DRAIN_WAIT_MS), then done(arg) runs. */
void pred_drain(pred *p, void (*done)(void *arg), void *arg);
/* With exit_when_caught_up: finished(arg) runs once, when every stream has
 * been read to its end (the caller then drains). */
void pred_on_finished(pred *p, void (*finished)(void *arg), void *arg);
/* Frees everything. NULL-safe. */
void pred_free(pred *p);

#endif
