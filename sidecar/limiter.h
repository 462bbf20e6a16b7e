/*
 * limiter.h — the sidecar's concurrency limit to the app and priority
 * shedding. Pure logic: the caller passes the clock (ms / us) and the
 * random numbers, arms its own timers for queued requests, and answers.
 *
 * Admission, with L the current limit and n the requests in flight:
 *   sheddable  admitted while n < ceil(L / 2)          (refused first)
 *   normal     admitted while n < L - max(1, L / 10)   (L >= 2; else n < L)
 *   critical   admitted while n < L; else it waits in a FIFO queue of at
 *              most maxQueue entries, in front of every new request, until
 *              a slot frees or its deadline passes.
 * So under pressure sheddable routes are refused before normal ones, and
 * normal ones leave a reserve of L/10 slots for critical ones.
 * Pre-emptive shedding: while the factor is above shedSheddableAboveFactor,
 * sheddable requests are refused outright.
 *
 * Queue deadline (CoDel-style): a waiter normally gets queueTimeoutMs; once
 * the queue has stood non-empty for longer than queueTimeoutMs (a standing
 * queue, not a burst), new waiters get a quarter of it, so a persistent
 * overload sheds quickly instead of adding latency.
 *
 * Adaptive limit (a gradient controller, after Netflix concurrency-limits'
 * Gradient2 and Envoy's adaptive concurrency filter): latencies of
 * completed requests (health probes excluded by the caller) are averaged
 * over windows of SIDECAR_LIM_WINDOW_SAMPLES samples or
 * SIDECAR_LIM_WINDOW_MS, whichever ends first (at least
 * SIDECAR_LIM_WINDOW_MIN_SAMPLES). Per window, with short = the window's
 * mean and long = an EWMA of window means (alpha SIDECAR_LIM_LONG_ALPHA):
 *     gradient = clamp(TOLERANCE * long / short, 0.5, 1.0)
 *     target   = L * gradient + sqrt(L)            (sqrt(L): queue allowance)
 *     L        = clamp((1 - SMOOTH) * L + SMOOTH * target, minConc, maxConc)
 * L only grows when at least half of it was in use (an idle app proves
 * nothing), and when long > 2 * short (latency fell a lot) long is reset
 * to short so the controller recovers quickly. Disabled: L = maxConc.
 *
 * Retry-After: s = the work ahead (in flight + queued + 1) divided by the
 * recent completion rate (EWMA per second), rounded up (5 s while no
 * completion has been seen), within [1, 30] s; then the caller's random
 * number u in [0, 1) adds floor(u * (s / 2 + 1)) seconds, so refused
 * clients spread over about s .. 1.5 s + 1.
 *
 * Ownership: the limiter is a value the caller embeds; waiters are the
 * caller's (intrusive links), the limiter only links them.
 */
#ifndef LIFTOFF_SIDECAR_LIMITER_H
#define LIFTOFF_SIDECAR_LIMITER_H

#include <stdbool.h>
#include <stdint.h>

#include "rules.h"

#define SIDECAR_LIM_WINDOW_SAMPLES 100
#define SIDECAR_LIM_WINDOW_MIN_SAMPLES 10
#define SIDECAR_LIM_WINDOW_MS 1000
#define SIDECAR_LIM_TOLERANCE 1.5
#define SIDECAR_LIM_SMOOTH 0.2
#define SIDECAR_LIM_LONG_ALPHA 0.05
#define SIDECAR_RETRY_AFTER_MIN_S 1
#define SIDECAR_RETRY_AFTER_MAX_S 30
#define SIDECAR_RATE_WINDOW_MS 1000   /* completion-rate window */

typedef enum sidecar_shed_reason {
    SIDECAR_SHED_OVERLOAD = 0,   /* over the limit for its priority */
    SIDECAR_SHED_QUEUE_FULL,     /* critical, queue full */
    SIDECAR_SHED_QUEUE_TIMEOUT,  /* critical, waited past its deadline */
    SIDECAR_SHED_FACTOR,         /* sheddable, factor above the threshold */
    SIDECAR_SHED_REASON_COUNT_
} sidecar_shed_reason;

typedef enum sidecar_verdict {
    SIDECAR_ADMIT = 0,
    SIDECAR_WAIT,                /* queued: wait for sidecar_limiter_release */
    SIDECAR_REFUSE,
} sidecar_verdict;

typedef struct sidecar_waiter {
    struct sidecar_waiter *prev, *next;
    uint64_t deadline_ms;
    bool linked;
} sidecar_waiter;

typedef struct sidecar_limiter {
    sidecar_backpressure bp;
    double limit;
    uint32_t inflight;
    uint32_t queued;
    sidecar_waiter *qhead, *qtail;
    uint64_t standing_since_ms;  /* queue non-empty since; 0: empty */
    /* completion rate */
    uint64_t rate_start_ms;
    uint32_t rate_done;
    double rate_rps;
    /* adaptive */
    uint64_t win_start_ms;
    uint32_t win_n;
    double win_sum_us;
    uint32_t win_max_inflight;
    double long_us;
} sidecar_limiter;

/* Starts with limit = bp->maxConcurrency. */
void sidecar_limiter_init(sidecar_limiter *l, const sidecar_backpressure *bp, uint64_t now_ms);
/* Takes new settings (live rule updates); keeps the state. */
void sidecar_limiter_configure(sidecar_limiter *l, const sidecar_backpressure *bp);
/* The current limit, rounded. */
uint32_t sidecar_limiter_limit(const sidecar_limiter *l);

/* Decides on a new request. ADMIT: it holds a slot (release it later).
 * WAIT: w is queued with w->deadline_ms set; arm a timer for it. REFUSE:
 * *reason says why. */
sidecar_verdict sidecar_limiter_admit(sidecar_limiter *l, sidecar_prio prio, double factor,
                                      sidecar_waiter *w, uint64_t now_ms,
                                      sidecar_shed_reason *reason);
/* Unlinks a queued waiter (deadline or client gone). Safe if not linked. */
void sidecar_limiter_unqueue(sidecar_limiter *l, sidecar_waiter *w, uint64_t now_ms);
/* Frees a slot; latency_us >= 0 is a sample for the controller (negative:
 * not sampled). Then hand free slots to waiters with sidecar_limiter_pop(). */
void sidecar_limiter_release(sidecar_limiter *l, int64_t latency_us, uint64_t now_ms);
/* The first waiter, unlinked and now holding a slot, if a slot is free;
 * else NULL. Call until NULL after each release. */
sidecar_waiter *sidecar_limiter_pop(sidecar_limiter *l, uint64_t now_ms);
/* Retry-After in seconds for a refusal now; u01 uniform in [0, 1). */
uint32_t sidecar_limiter_retry_after(sidecar_limiter *l, uint64_t now_ms, double u01);
/* Completions per second (EWMA). */
double sidecar_limiter_rate(const sidecar_limiter *l);

/* "overload", "queue_full", "queue_timeout", "factor". (A draining sidecar
 * refuses nothing: it serves every request until it exits.) */
const char *sidecar_shed_reason_name(sidecar_shed_reason r);

#endif
