/*
 * k8s_lease.h — leader election on a coordination.k8s.io/v1 Lease, as
 * client-go's leaderelection package does it, on the ev loop.
 *
 * A candidate reads the Lease every retry period. It takes the Lease when
 * it is absent (create), free (empty holderIdentity) or expired; "expired"
 * is judged on this process' monotonic clock: the record (holder,
 * renewTime, leaseTransitions) has not changed for leaseDurationSeconds
 * since this process first saw it, so clock skew between hosts does not
 * matter. Every write is a PUT guarded by the resourceVersion just read
 * (create: POST), so of two candidates only one wins; the loser's 409 makes
 * it read again at once.
 *
 * The leader renews every retry period. It stops leading (on_change false)
 * as soon as a read shows another holder, or when no renewal has succeeded
 * within renew_deadline of the last successful one's start (a timer, so a
 * hung request cannot keep it leading). Since renew_deadline < lease
 * duration, a follower takes over only after the old leader has stopped.
 * k8s_lease_release() gives the Lease up (empty holder, duration 1 s) so a
 * follower takes it at its next retry instead of waiting for the expiry.
 *
 * The pure half (records, objects, the expiry rule) is declared here too
 * for tests: k8s_lease_record.c. The election: k8s_lease.c.
 *
 * Ownership: k8s_lease_new() copies the strings it keeps. The elector
 * issues at most one request at a time on the client it is given, with the
 * elector itself as the callback's argument: free it after
 * k8s_client_free() (which cancels that request without its callback), or
 * when k8s_lease_idle().
 */
#ifndef LIFTOFF_K8S_LEASE_H
#define LIFTOFF_K8S_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "k8s_client.h"

#define K8S_LEASE_IDENTITY_MAX 128          /* holderIdentity with the NUL */
#define K8S_LEASE_TIME_MAX 40               /* MicroTime text with the NUL */
#define K8S_LEASE_DURATION_MS 15000u        /* client-go's defaults */
#define K8S_LEASE_RENEW_DEADLINE_MS 10000u
#define K8S_LEASE_RETRY_MS 2000u
#define K8S_LEASE_RETRY_JITTER 0.1          /* retries vary by +-10 % */
#define K8S_LEASE_RELEASE_TIMEOUT_MS 3000u  /* k8s_lease_release() gives up after */

extern const k8s_res k8s_res_leases;

/* ---- the record (pure) ---- */

typedef struct k8s_lease_record {
    char holder[K8S_LEASE_IDENTITY_MAX];    /* "" when free */
    int32_t duration_s;                     /* leaseDurationSeconds; 0 when absent */
    char acquire_time[K8S_LEASE_TIME_MAX];
    char renew_time[K8S_LEASE_TIME_MAX];
    int32_t transitions;                    /* leaseTransitions */
} k8s_lease_record;

/* What a candidate remembers of the last record it read. */
typedef struct k8s_lease_observed {
    bool have;
    k8s_lease_record rec;
    uint64_t since_ms;      /* monotonic: when this record was first seen */
} k8s_lease_observed;

/* Reads a Lease object's spec into *out (missing fields: empty/0); 0, or
 * -EINVAL if obj has no spec object or a too-long holderIdentity. */
int k8s_lease_record_parse(const json_t *obj, k8s_lease_record *out);
/* Notes rec as read at now_ms: since_ms moves only when the record differs
 * from the one seen before. */
void k8s_lease_observe(k8s_lease_observed *o, const k8s_lease_record *rec, uint64_t now_ms);
/* Whether another identity holds the Lease and it has not expired (by the
 * observed time and the record's own duration; 0 or less counts as 1 s). */
bool k8s_lease_held_by_other(const k8s_lease_observed *o, const char *identity, uint64_t now_ms);
/* Formats Unix ms as a MicroTime, "2026-01-02T03:04:05.678000Z". */
void k8s_lease_time_format(uint64_t unix_ms, char out[K8S_LEASE_TIME_MAX]);
/* The Lease to write for identity holding it at now_unix_ms: a copy of old
 * (may be NULL: a new object named ns/name) with its spec set, acquireTime
 * and leaseTransitions moving only when the holder changes. New reference. */
json_t *k8s_lease_claim_build(const json_t *old, const char *ns, const char *name,
                              const char *identity, uint32_t duration_s, uint64_t now_unix_ms);
/* The released Lease (NULL if old is NULL): a copy of old with an empty holder, duration 1 s and
 * renewTime now (client-go's release). New reference. */
json_t *k8s_lease_release_build(const json_t *old, uint64_t now_unix_ms);
/* "host_pid", or $POD_NAME when set, into out (cut to fit). */
void k8s_lease_default_identity(char *out, size_t outlen);

/* ---- the election ---- */

typedef struct k8s_lease k8s_lease;

/* leading: true when this process became the leader, false when it
 * stopped (lost the Lease, missed the renew deadline, or released). */
typedef void k8s_lease_change_cb(k8s_lease *l, bool leading, void *arg);

typedef struct k8s_lease_opts {
    const char *ns;             /* the Lease's namespace */
    const char *name;           /* the Lease's name */
    const char *identity;       /* this candidate; unique per process */
    uint64_t duration_ms;       /* 0: K8S_LEASE_DURATION_MS; whole seconds */
    uint64_t renew_deadline_ms; /* 0: K8S_LEASE_RENEW_DEADLINE_MS; < duration */
    uint64_t retry_ms;          /* 0: K8S_LEASE_RETRY_MS; < renew deadline */
    k8s_lease_change_cb *on_change;
    void *arg;
} k8s_lease_opts;

/* Validates the options (names, identity, the three durations ordered
 * duration > renew deadline > retry): 0 or -EINVAL with a reason in err. */
int k8s_lease_opts_check(const k8s_lease_opts *o, char *err, size_t errlen);
/* Starts campaigning on c at once. NULL (err set) on bad options. */
k8s_lease *k8s_lease_new(k8s_client *c, const k8s_lease_opts *o, char *err, size_t errlen);
/* Whether this process leads now. */
bool k8s_lease_leading(const k8s_lease *l);
/* Whether no request is in flight. */
bool k8s_lease_idle(const k8s_lease *l);
/* Stops campaigning; if leading, stops leading at once (on_change false)
 * and writes the released Lease. done(arg) runs on the loop once that write
 * ended, or after K8S_LEASE_RELEASE_TIMEOUT_MS, or at once if not leading. */
void k8s_lease_release(k8s_lease *l, void (*done)(void *arg), void *arg);
/* Frees (see the ownership rule above). NULL-safe. No callback runs. */
void k8s_lease_free(k8s_lease *l);

#endif
