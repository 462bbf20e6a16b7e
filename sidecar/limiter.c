/* limiter.c — concurrency limit, priority admission, the critical queue,
 * the gradient controller and Retry-After (see limiter.h). */
#include "limiter.h"

#include <math.h>
#include <string.h>

static const char *const reason_names[] = { "overload", "queue_full", "queue_timeout", "factor" };

const char *sidecar_shed_reason_name(sidecar_shed_reason r)
{
    return (unsigned)r < SIDECAR_SHED_REASON_COUNT_ ? reason_names[r] : "overload";
}

void sidecar_limiter_configure(sidecar_limiter *l, const sidecar_backpressure *bp)
{
    l->bp = *bp;
    if (!bp->adaptive || l->limit > bp->max_conc || l->limit <= 0)
        l->limit = bp->max_conc;
    if (l->limit < bp->min_conc)
        l->limit = bp->min_conc;
}

void sidecar_limiter_init(sidecar_limiter *l, const sidecar_backpressure *bp, uint64_t now_ms)
{
    memset(l, 0, sizeof *l);
    sidecar_limiter_configure(l, bp);
    l->rate_start_ms = now_ms;
    l->win_start_ms = now_ms;
}

uint32_t sidecar_limiter_limit(const sidecar_limiter *l)
{
    uint32_t v = (uint32_t)lround(l->limit);
    return v < 1 ? 1 : v;
}

/* The in-flight count up to which prio is admitted. */
static uint32_t cap_for(uint32_t lim, sidecar_prio prio)
{
    switch (prio) {
    case SIDECAR_PRIO_SHEDDABLE:
        return (lim + 1) / 2;
    case SIDECAR_PRIO_NORMAL:
        if (lim < 2)
            return lim;
        return lim - (lim / 10 > 1 ? lim / 10 : 1);
    default:
        return lim;
    }
}

sidecar_verdict sidecar_limiter_admit(sidecar_limiter *l, sidecar_prio prio, double factor,
                                      sidecar_waiter *w, uint64_t now_ms,
                                      sidecar_shed_reason *reason)
{
    if (prio == SIDECAR_PRIO_SHEDDABLE && l->bp.shed_above_factor > 0 &&
        factor > l->bp.shed_above_factor) {
        *reason = SIDECAR_SHED_FACTOR;
        return SIDECAR_REFUSE;
    }
    uint32_t lim = sidecar_limiter_limit(l);
    /* Waiters go first: nobody overtakes the queue. */
    if (l->queued == 0 && l->inflight < cap_for(lim, prio)) {
        l->inflight++;
        return SIDECAR_ADMIT;
    }
    if (prio != SIDECAR_PRIO_CRITICAL) {
        *reason = SIDECAR_SHED_OVERLOAD;
        return SIDECAR_REFUSE;
    }
    if (l->queued >= l->bp.max_queue || !w) {
        *reason = SIDECAR_SHED_QUEUE_FULL;
        return SIDECAR_REFUSE;
    }
    uint64_t timeout = l->bp.queue_timeout_ms;
    if (l->standing_since_ms && now_ms - l->standing_since_ms > timeout)
        timeout = timeout / 4 ? timeout / 4 : 1;
    if (!l->queued)
        l->standing_since_ms = now_ms ? now_ms : 1;
    w->deadline_ms = now_ms + timeout;
    w->next = NULL;
    w->prev = l->qtail;
    if (l->qtail)
        l->qtail->next = w;
    else
        l->qhead = w;
    l->qtail = w;
    w->linked = true;
    l->queued++;
    return SIDECAR_WAIT;
}

void sidecar_limiter_unqueue(sidecar_limiter *l, sidecar_waiter *w, uint64_t now_ms)
{
    (void)now_ms;
    if (!w->linked)
        return;
    if (w->prev)
        w->prev->next = w->next;
    else
        l->qhead = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        l->qtail = w->prev;
    w->prev = w->next = NULL;
    w->linked = false;
    if (--l->queued == 0)
        l->standing_since_ms = 0;
}

static void rate_roll(sidecar_limiter *l, uint64_t now_ms)
{
    uint64_t el = now_ms - l->rate_start_ms;
    if (el < SIDECAR_RATE_WINDOW_MS)
        return;
    double inst = (double)l->rate_done * 1000.0 / (double)el;
    l->rate_rps = l->rate_rps == 0 ? inst : 0.7 * l->rate_rps + 0.3 * inst;
    l->rate_done = 0;
    l->rate_start_ms = now_ms;
}

static void window_end(sidecar_limiter *l)
{
    double shortv = l->win_sum_us / l->win_n;
    if (l->long_us <= 0)
        l->long_us = shortv;
    else
        l->long_us = (1 - SIDECAR_LIM_LONG_ALPHA) * l->long_us + SIDECAR_LIM_LONG_ALPHA * shortv;
    if (l->long_us > 2 * shortv)
        l->long_us = shortv;
    double g = SIDECAR_LIM_TOLERANCE * l->long_us / (shortv > 0 ? shortv : 1);
    if (g < 0.5)
        g = 0.5;
    if (g > 1.0)
        g = 1.0;
    double target = l->limit * g + sqrt(l->limit);
    double next = (1 - SIDECAR_LIM_SMOOTH) * l->limit + SIDECAR_LIM_SMOOTH * target;
    if (next > l->limit && l->win_max_inflight < l->limit / 2)
        next = l->limit; /* app-limited: no evidence it can take more */
    if (next > l->bp.max_conc)
        next = l->bp.max_conc;
    if (next < l->bp.min_conc)
        next = l->bp.min_conc;
    l->limit = next;
}

void sidecar_limiter_release(sidecar_limiter *l, int64_t latency_us, uint64_t now_ms)
{
    if (l->inflight)
        l->inflight--;
    rate_roll(l, now_ms);
    l->rate_done++;
    if (latency_us < 0 || !l->bp.adaptive)
        return;
    if (l->inflight + 1 > l->win_max_inflight)
        l->win_max_inflight = l->inflight + 1;
    l->win_sum_us += (double)latency_us;
    l->win_n++;
    if (l->win_n >= SIDECAR_LIM_WINDOW_SAMPLES ||
        (l->win_n >= SIDECAR_LIM_WINDOW_MIN_SAMPLES &&
         now_ms - l->win_start_ms >= SIDECAR_LIM_WINDOW_MS)) {
        window_end(l);
        l->win_n = 0;
        l->win_sum_us = 0;
        l->win_max_inflight = 0;
        l->win_start_ms = now_ms;
    }
}

sidecar_waiter *sidecar_limiter_pop(sidecar_limiter *l, uint64_t now_ms)
{
    sidecar_waiter *w = l->qhead;
    if (!w || l->inflight >= sidecar_limiter_limit(l))
        return NULL;
    sidecar_limiter_unqueue(l, w, now_ms);
    l->inflight++;
    return w;
}

double sidecar_limiter_rate(const sidecar_limiter *l) { return l->rate_rps; }

uint32_t sidecar_limiter_retry_after(sidecar_limiter *l, uint64_t now_ms, double u01)
{
    rate_roll(l, now_ms);
    double rate = l->rate_rps;
    double ahead = (double)l->inflight + (double)l->queued + 1.0;
    double s = rate > 0 ? ceil(ahead / rate) : (double)SIDECAR_RETRY_AFTER_MIN_S * 5;
    if (s < SIDECAR_RETRY_AFTER_MIN_S)
        s = SIDECAR_RETRY_AFTER_MIN_S;
    if (s > SIDECAR_RETRY_AFTER_MAX_S)
        s = SIDECAR_RETRY_AFTER_MAX_S;
    if (u01 < 0)
        u01 = 0;
    if (u01 >= 1)
        u01 = 0.999999;
    return (uint32_t)(s + floor(u01 * (s * 0.5 + 1.0)));
}
