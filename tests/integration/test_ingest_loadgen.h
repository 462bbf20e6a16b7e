/*
 * test_ingest_loadgen.h — a load generator for liftoff-ingest: signed
 * webhook events over keep-alive connections on the ev loop, one request in
 * flight per connection (closed loop), latencies in a histogram. Used by
 * the durability test and by the ingest benchmark (bench/ingest_load.c);
 * it contains no tests itself.
 *
 * Event n has id "<id_prefix>-<n>" and a body that depends only on n, so a
 * retried event is byte-for-byte the same delivery. lg_run() makes and runs
 * its own loop and returns when done; the callbacks run on that loop.
 */
#ifndef LIFTOFF_TEST_INGEST_LOADGEN_H
#define LIFTOFF_TEST_INGEST_LOADGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LG_CONNS_MAX 1024
#define LG_HIST_STEP_US 10          /* latency histogram resolution */
#define LG_HIST_BUCKETS 200001      /* up to 2 s; the last bucket holds the rest */
#define LG_DRAIN_MS 10000           /* wait for answers after the end */

typedef struct lg_opts {
    const char *host;               /* numeric address */
    int port;
    int conns;                      /* keep-alive connections, 1..LG_CONNS_MAX */
    uint64_t requests;              /* events to send; 0: until duration_ms */
    uint64_t duration_ms;           /* 0: until requests are done */
    const char *path;               /* e.g. "/v1/webhooks/producthunt" */
    const char *secret;             /* HMAC key */
    const char *sig_header;         /* "X-Producthunt-Signature" */
    const char *sig_prefix;         /* "sha256=" */
    const char *id_prefix;          /* ids are "<id_prefix>-<n>" */
    bool retry_unavailable;         /* send an event again after a 503 or a lost connection */
    uint32_t retry_delay_ms;        /* pause before such a retry (0: 20 ms) */
    /* Each final answer (status, or 0 for a connection lost mid-request). */
    void (*on_answer)(void *arg, uint64_t n, int status);
    /* Called about every 10 ms with the time since the start. */
    void (*on_tick)(void *arg, uint64_t elapsed_ms);
    void *arg;
} lg_opts;

typedef struct lg_stats {
    uint64_t sent;                  /* requests written (retries included) */
    uint64_t answered;              /* responses read */
    uint64_t status_200, status_202, status_4xx, status_503, status_other;
    uint64_t conn_errors;           /* connections lost or refused */
    uint64_t events_done;           /* distinct events finished (not to be retried) */
    uint64_t elapsed_us;            /* from start to the last answer */
    uint64_t *hist;                 /* LG_HIST_BUCKETS counts of latency/LG_HIST_STEP_US */
} lg_stats;

/* Options for signed Product Hunt webhooks (POST /v1/webhooks/producthunt,
 * X-Producthunt-Signature: sha256=...) to host:port; the rest zero. */
lg_opts lg_webhook_opts(const char *host, int port, const char *secret, int conns,
                        const char *id_prefix);

/* Runs the load; 0, or -errno if nothing could be started. st is filled
 * (free with lg_stats_free). */
int lg_run(const lg_opts *o, lg_stats *st);
void lg_stats_free(lg_stats *st);
/* Latency at quantile q (0..1) in microseconds, from the histogram. */
uint64_t lg_percentile_us(const lg_stats *st, double q);
/* Writes the body of event n into buf (NUL-ended); returns its length. */
size_t lg_body(const char *id_prefix, uint64_t n, int64_t created_s, char *buf, size_t len);

#endif
