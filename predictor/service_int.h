/*
 * service_int.h — the predictor's internal state, shared by its modules:
 * consume.c (group reads, acks, claims), rebuild.c (window replay),
 * policies.c (policy discovery), publish.c, observed.c, admin.c and
 * service.c (wiring, Redis state, timers, shutdown).
 *
 * Redis connections: `rb` carries only the group reads (a blocking XREADGROUP
 * holds its connection), `rc` every other command, `rs` the policy-change
 * subscription.
 *
 * Lifetime: launches live as long as the service. A policy that goes away
 * is marked dead and freed once no command callback refers to it any more
 * (refs counts the commands in flight that carry it as their argument).
 */
#ifndef LIFTOFF_PREDICTOR_SERVICE_INT_H
#define LIFTOFF_PREDICTOR_SERVICE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "ev.h"
#include "http_server.h"
#include "metrics.h"
#include "redis.h"

#include "admin.h"
#include "consume.h"
#include "entry.h"
#include "observed.h"
#include "policies.h"
#include "publish.h"
#include "rebuild.h"
#include "service.h"
#include "track.h"

#define PRED_READS_PIPELINE 2          /* non-blocking reads in flight while behind */
#define PRED_READ_TIMEOUT_SLACK_MS 5000u /* a blocking read's deadline beyond its BLOCK */
#define PRED_DRAIN_WAIT_MS 5000u       /* wait for acks and publishes when stopping */


struct pred_launch {
    pred *svc;
    char *name;
    char *stream;             /* liftoff:events:<name> */
    bool group_ready;         /* the consumer group exists */
    bool group_busy;          /* XGROUP CREATE in flight */
    const char *group_start;  /* "$" at first, "0" after the group vanished */
    bool own_pending;         /* read our own pending entries before new ones */
    bool pending_busy;
    pred_id own_cursor;
    bool claim_busy;
    pred_id claim_cursor;
    bool caught_up;           /* the last read returned less than a batch */
    bool ever_caught_up;
    pred_id delivered_max;    /* newest entry the group has handed us */
    unsigned npolicies;       /* policies reading this stream */
    unsigned rebuilding;      /* of which rebuilding their window */
    metrics_counter *m_consumed, *m_applied, *m_skipped, *m_invalid, *m_claimed;
    pred_launch *next;
};

struct pred_policy {
    pred *svc;
    char *ns, *name, *id;     /* id: "<ns>/<name>" */
    char *key_policy, *key_forecast, *key_observed;
    bool is_static;           /* from --policy */
    bool dead;
    unsigned refs;
    pred_launch *launch;      /* NULL until its document was read */
    fc_policy pol;
    bool have_track;
    pred_track track;
    bool rebuilding, rebuild_busy;
    pred_id rebuild_next;     /* next XRANGE start */
    bool rebuild_exclusive;   /* rebuild_next is the last id read: start after it */
    uint64_t rebuild_start_ms; /* horizon start (stream time) */
    uint64_t rebuild_began;   /* wall ms, for the log */
    uint64_t rebuild_entries;
    uint64_t rebuild_sent_ms; /* wall ms the last page was asked for */
    unsigned rebuild_empty;   /* empty pages in a row */
    bool rebuild_restart;     /* started over while a page was in flight */
    bool fetch_busy, fetch_again;
    bool observe_busy;
    pred_snapshot pub;        /* last published */
    bool have_pub;
    uint64_t lag_from_ms;     /* XADD ms of the oldest entry not yet published; 0: none */
    bool dirty;               /* changed since the last publish check */
    bool early_new;           /* live entries applied since the last flush */
    bool early_pending;       /* an early check waits for its interval */
    uint64_t early_last_ms;   /* mono ms of the last provisional forecast; 0: none */
    metrics_gauge *g_eps, *g_forecast_eps, *g_rps, *g_factor, *g_replicas;
    pred_policy *next;
};

struct pred {
    ev_loop *loop;
    pred_settings set;        /* strings below are owned copies */
    char *consumer;
    rds *rc, *rb, *rs;
    pred_launch *launches;
    unsigned nlaunches;
    pred_policy *policies;
    unsigned npolicies;
    unsigned reads_inflight;
    bool reader_behind;       /* the last read returned a full batch */
    bool synced;              /* the policy set has been read once */
    bool sync_busy, sync_again;
    bool closing;             /* pred_free() runs: callbacks only clean up */
    bool draining, drain_published;
    uint64_t drain_began;     /* mono ms */
    void (*drain_done)(void *arg);
    void *drain_arg;
    void (*finished)(void *arg);
    void *finished_arg;
    bool flush_queued;        /* a deferred publish check is queued */
    ev_timer publish_timer, claim_timer, resync_timer, drain_timer, early_timer;
    uint64_t first_read_ms, caught_up_ms;
    uint64_t applied_total;
    const char **ack_argv;    /* XACK arguments, reused (ack_cap entries) */
    size_t *ack_len;
    size_t ack_cap;
    pred_admin *admin;
    pred_metrics m;
};

/* ---- service.c ---- */
/* Recomputes readiness (and drains when caught up in exit mode). */
void pred_state_changed(pred *p);

#endif
