/*
 * store.h — durable appends of events to Redis: every append issued during
 * one loop iteration (from any number of connections) is gathered and sent
 * at the end of the iteration as few append-script calls as possible (one
 * per launch and INGEST_STORE_CALL_EVENTS_MAX events), pipelined on the one
 * Redis connection. A job's callback gets its per-event results once Redis
 * has answered, so "accepted" is only ever said after Redis acknowledged
 * the write (with appendfsync always: after it reached the disk).
 *
 * At most calls_max calls are unanswered at once; appends queued meanwhile
 * wait for an answer and then go out together, so under load a call
 * carries more events (Redis spends less per event in a larger call).
 * When a call fails, the queued jobs fail with it at once (they were never
 * sent), so an append waits at most about two deadlines for its answer.
 *
 * Failure: Redis down (the client fails fast), slower than the deadline
 * (the client's command timeout), an error reply, or more events in flight
 * than inflight_max: the job fails with a negative errno and the caller
 * answers 503. A timed-out call may still have been applied by Redis; the
 * sender's retry is then recognised as a duplicate, so nothing is lost or
 * doubled.
 *
 * Ownership: the store borrows the rds client (which must outlive it) and
 * the events of each job (which must stay valid until its callback). Jobs
 * are owned by the store; ingest_store_free() fails pending ones with
 * -ECANCELED.
 */
#ifndef LIFTOFF_INGEST_STORE_H
#define LIFTOFF_INGEST_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "ev.h"
#include "redis.h"

#include "append_script.h"
#include "event.h"

/* rds_script_run() takes at most 1024 keys + arguments: 6 + 5 per event. */
#define INGEST_STORE_CALL_EVENTS_MAX 170
#define INGEST_STORE_INFLIGHT_DEFAULT 50000u /* events queued or in flight */
#define INGEST_STORE_CALLS_DEFAULT 4u         /* script calls unanswered at once */

typedef struct ingest_store ingest_store;

typedef struct ingest_store_opts {
    uint64_t maxlen;        /* MAXLEN ~ of the stream; 0: INGEST_MAXLEN_DEFAULT */
    uint64_t ttl_s;         /* dedupe window; 0: INGEST_DEDUPE_TTL_DEFAULT_S */
    size_t inflight_max;    /* 0: INGEST_STORE_INFLIGHT_DEFAULT */
    size_t calls_max;       /* script calls unanswered at once; 0: INGEST_STORE_CALLS_DEFAULT */
} ingest_store_opts;

typedef struct ingest_store_stats {
    uint64_t calls;         /* script calls sent */
    uint64_t events;        /* events sent */
    uint64_t appended, duplicates, failed_events;
    uint64_t call_errors;   /* calls failed as a whole (down, timeout, error reply) */
    uint64_t rejected;      /* jobs refused for inflight_max */
    size_t inflight;        /* now */
} ingest_store_stats;

/* The job's outcome: err 0 and res[0..n) per event, or err < 0 (-ENOTCONN,
 * -ETIMEDOUT, -EPROTO for an error reply, -ECANCELED) and res NULL. */
typedef void ingest_store_cb(void *arg, int err, const ingest_append_result *res, size_t n);

/* A store appending through r (o may be NULL: defaults). */
ingest_store *ingest_store_new(ev_loop *loop, rds *r, const ingest_store_opts *o);
/* Fails queued jobs with -ECANCELED and frees. Jobs already sent keep their
 * events until rds answers or fails them (free the rds client first to
 * have them failed at once). Not from inside a job callback. NULL-safe. */
void ingest_store_free(ingest_store *s);

/* Queues n (1..INGEST_STORE_CALL_EVENTS_MAX) events of launch (copied).
 * cb runs exactly once, later, from the loop. 0, or -EBUSY (over
 * inflight_max) / -EINVAL, and then cb is never called. */
int ingest_store_append(ingest_store *s, const char *launch, const ingest_event *evs, size_t n,
                        ingest_store_cb *cb, void *arg);

/* Counters since the start, and what is in flight now. */
void ingest_store_get_stats(const ingest_store *s, ingest_store_stats *out);

#endif
