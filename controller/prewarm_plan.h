/*
 * prewarm_plan.h — the pure parts of cache pre-warming (prewarm.c does the
 * I/O): the policy's spec.prewarm and schedule read from JSON, when a round
 * is due and when it re-arms, which pods take part, the sidecar admin URL,
 * how a sidecar's /warm answer is judged, and the status and Event of a
 * round.
 *
 * When a round is due (ctl_prewarm_due):
 *   Schedule   from launchAt - prewarmBefore until launchAt + holdSeconds,
 *              once per launchAt value (a new launchAt re-arms it);
 *   Threshold  a fresh forecast's factor >= thresholdFactor, once; re-armed
 *              after fresh forecasts have stayed below the threshold for
 *              cooldownSeconds.
 * No paths: never. The caller runs the round and then calls
 * ctl_prewarm_fired() (also in DryRun, which reports instead of POSTing).
 *
 * Ownership: ctl_prewarm_spec owns its body (ctl_prewarm_spec_clear frees
 * it); everything else is a plain value. JSON returned is a new reference.
 */
#ifndef LIFTOFF_CTL_PREWARM_PLAN_H
#define LIFTOFF_CTL_PREWARM_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "policy.h"
#include "status.h"

#define CTL_PREWARM_PATHS_MAX 64          /* spec.prewarm.paths items (CRD maxItems) */
#define CTL_PREWARM_PATH_MAX 2048         /* one path, bytes (CRD maxLength) */
#define CTL_PREWARM_HOST_MAX 256          /* spec.prewarm.host with the NUL */
#define CTL_PREWARM_URL_MAX 80            /* "http://[v6]:port/warm" with the NUL */
#define CTL_PREWARM_IP_MAX 46             /* INET6_ADDRSTRLEN */
#define CTL_PREWARM_MESSAGE_MAX 512       /* status.lastPrewarm.message with the NUL */
#define CTL_PREWARM_DEFAULT_PORT 9901     /* the sidecar's default --admin port */
#define CTL_PREWARM_DEFAULT_HOST "localhost" /* the sidecar's default /warm host */
#define CTL_PREWARM_DEFAULT_THRESHOLD 2.0
#define CTL_PREWARM_DEFAULT_TIMEOUT_MS 10000u
#define CTL_PREWARM_DEFAULT_COOLDOWN_MS 600000u
#define CTL_PREWARM_DEFAULT_BEFORE_MS 600000u
#define CTL_PREWARM_DEFAULT_HOLD_MS 1800000u

typedef struct ctl_prewarm_spec {
    size_t npaths;              /* 0: pre-warming is off */
    char *body;                 /* the /warm body {"host":..,"paths":[..]}; owned; NULL when off */
    double threshold_factor;    /* spec.prewarm.thresholdFactor */
    uint64_t timeout_ms;        /* spec.prewarm.timeoutSeconds: deadline of a round */
    uint64_t cooldown_ms;       /* spec.prewarm.cooldownSeconds */
    uint16_t admin_port;        /* spec.prewarm.adminPort */
    int64_t launch_at_ms;       /* spec.schedule.launchAt (Unix ms); 0: none */
    uint64_t before_ms;         /* spec.schedule.prewarmBefore */
    uint64_t hold_ms;           /* spec.schedule.holdSeconds: end of the window after launchAt */
} ctl_prewarm_spec;

typedef enum ctl_prewarm_trigger {
    CTL_PREWARM_NONE = 0,
    CTL_PREWARM_SCHEDULE,       /* launchAt - prewarmBefore reached */
    CTL_PREWARM_THRESHOLD,      /* the forecast factor crossed thresholdFactor */
} ctl_prewarm_trigger;

/* What a policy remembers between reconciles (start zeroed). */
typedef struct ctl_prewarm_arm {
    int64_t done_launch_at_ms;  /* the launchAt whose scheduled round ran; 0: none */
    bool threshold_fired;       /* a threshold round ran and has not re-armed */
    uint64_t below_since_ms;    /* fired, and fresh forecasts below since (0: not below) */
} ctl_prewarm_arm;

/* The outcome of one round, as the status reports it. */
typedef struct ctl_prewarm_result {
    bool have;                  /* a round ran (since this process started) */
    bool dry_run;               /* DryRun: reported, nothing POSTed */
    ctl_prewarm_trigger trigger;
    int64_t launch_at_ms;       /* the launchAt of a Schedule round */
    uint32_t paths, pods, succeeded, failed;
    char time[CTL_TIME_MAX];    /* when it finished (RFC 3339) */
    char message[CTL_PREWARM_MESSAGE_MAX];
} ctl_prewarm_result;

/* Reads spec.prewarm and spec.schedule of a LaunchPolicy's spec (defaults
 * for what is missing, as the CRD has them): 0, or -EINVAL with a reason
 * naming the field (out is then cleared). */
int ctl_prewarm_spec_parse(const json_t *spec, ctl_prewarm_spec *out, char *err, size_t errlen);
/* Frees the body and zeroes s. */
void ctl_prewarm_spec_clear(ctl_prewarm_spec *s);

/* Whether a round is due at now_ms (Unix ms), given whether the forecast is
 * fresh and its factor; updates the threshold's re-arm memory in *a. */
ctl_prewarm_trigger ctl_prewarm_due(const ctl_prewarm_spec *s, ctl_prewarm_arm *a, bool fresh,
                                    double factor, uint64_t now_ms);
/* Records that a round for t started; above: the forecast was fresh and at
 * or over the threshold (a Schedule round then also uses up the threshold
 * crossing, so the two do not run back to back). */
void ctl_prewarm_fired(const ctl_prewarm_spec *s, ctl_prewarm_arm *a, ctl_prewarm_trigger t,
                       bool above);
/* Restores *a from a status written earlier (status.lastPrewarm), so a
 * restarted controller does not repeat a round. NULL status: no change. */
void ctl_prewarm_arm_from_status(const json_t *status, ctl_prewarm_arm *a);

/* Whether a Pod object takes part in a round: not being deleted, condition
 * Ready True, status.podIP set. *ip then points into pod (borrowed). */
bool ctl_prewarm_pod_ready(const json_t *pod, const char **ip);
/* "http://10.0.0.7:9901/warm" or "http://[fd00::7]:9901/warm" into out:
 * 0, or -EINVAL when ip is not an IPv4/IPv6 address or out is too small. */
int ctl_prewarm_url(const char *ip, uint16_t port, char *out, size_t cap);
/* Judges a sidecar's answer to /warm: 0 when the status is 200 and every
 * path is "fetching" or "already-filling"; -EPROTO otherwise, with why set
 * ("HTTP 404", "/x: no-micro-cache-route", ...). */
int ctl_prewarm_answer_ok(long status, const char *body, size_t len, char *why, size_t cap);

/* "Schedule", "Threshold" ("" for none). */
const char *ctl_prewarm_trigger_name(ctl_prewarm_trigger t);
/* Sets status.lastPrewarmTime (not for DryRun) and status.lastPrewarm from r. */
void ctl_prewarm_status_put(json_t *status, const ctl_prewarm_result *r);
/* Copies lastPrewarmTime and lastPrewarm from prev into status (a status
 * built afresh keeps what an earlier round reported). */
void ctl_prewarm_status_keep(json_t *status, const json_t *prev);
/* A core/v1 Event about policy p for r: reason Prewarmed (Normal),
 * PrewarmFailed (Warning) or PrewarmDryRun (Normal), message r->message. */
json_t *ctl_prewarm_event_build(const ctl_policy *p, const ctl_prewarm_result *r,
                                uint64_t now_ms);

#endif
