/* test_sidecar_limiter.c — priority admission order, the critical queue
 * and its CoDel-style deadline, pre-emptive shedding by factor, the
 * gradient controller and Retry-After. */
#include <string.h>

#include "test.h"

#include "sidecar/limiter.h"

static sidecar_backpressure bp(uint32_t max, bool adaptive)
{
    sidecar_backpressure b = { .max_conc = max, .min_conc = 1, .adaptive = adaptive,
                               .queue_timeout_ms = 100, .max_queue = 2 };
    return b;
}

static sidecar_verdict admit(sidecar_limiter *l, sidecar_prio p, sidecar_waiter *w,
                             sidecar_shed_reason *why)
{
    return sidecar_limiter_admit(l, p, 1.0, w, 1000, why);
}

TEST(sidecar_limiter_sheddable_refused_before_normal_before_critical)
{
    sidecar_backpressure b = bp(10, false);
    sidecar_limiter l;
    sidecar_shed_reason why = SIDECAR_SHED_FACTOR;
    sidecar_limiter_init(&l, &b, 1000);
    /* sheddable fills half */
    for (int i = 0; i < 5; i++)
        CHECK_INT(admit(&l, SIDECAR_PRIO_SHEDDABLE, NULL, &why), SIDECAR_ADMIT);
    CHECK_INT(admit(&l, SIDECAR_PRIO_SHEDDABLE, NULL, &why), SIDECAR_REFUSE);
    CHECK_INT(why, SIDECAR_SHED_OVERLOAD);
    /* normal goes on up to L - L/10 = 9 */
    for (int i = 0; i < 4; i++)
        CHECK_INT(admit(&l, SIDECAR_PRIO_NORMAL, NULL, &why), SIDECAR_ADMIT);
    CHECK_INT(admit(&l, SIDECAR_PRIO_NORMAL, NULL, &why), SIDECAR_REFUSE);
    /* critical takes the reserve, then queues */
    CHECK_INT(admit(&l, SIDECAR_PRIO_CRITICAL, NULL, &why), SIDECAR_ADMIT);
    CHECK_INT(l.inflight, 10);
    sidecar_waiter w1, w2, w3;
    memset(&w1, 0, sizeof w1);
    memset(&w2, 0, sizeof w2);
    memset(&w3, 0, sizeof w3);
    CHECK_INT(admit(&l, SIDECAR_PRIO_CRITICAL, &w1, &why), SIDECAR_WAIT);
    CHECK_INT(w1.deadline_ms, 1100);
    CHECK_INT(admit(&l, SIDECAR_PRIO_CRITICAL, &w2, &why), SIDECAR_WAIT);
    CHECK_INT(admit(&l, SIDECAR_PRIO_CRITICAL, &w3, &why), SIDECAR_REFUSE);
    CHECK_INT(why, SIDECAR_SHED_QUEUE_FULL);
    /* a release hands the slot to the first waiter, in order */
    sidecar_limiter_release(&l, -1, 1010);
    CHECK(sidecar_limiter_pop(&l, 1010) == &w1);
    CHECK(sidecar_limiter_pop(&l, 1010) == NULL);
    CHECK_INT(l.inflight, 10);
    /* nobody overtakes a waiter */
    sidecar_limiter_release(&l, -1, 1011);
    CHECK_INT(admit(&l, SIDECAR_PRIO_CRITICAL, &w3, &why), SIDECAR_WAIT);
    CHECK(sidecar_limiter_pop(&l, 1011) == &w2);
    sidecar_limiter_unqueue(&l, &w3, 1012);
    CHECK_INT(l.queued, 0);
    sidecar_limiter_unqueue(&l, &w3, 1012); /* twice is harmless */
    CHECK_INT(l.queued, 0);
}

TEST(sidecar_limiter_standing_queue_gets_short_deadline)
{
    sidecar_backpressure b = bp(1, false);
    b.max_queue = 10;
    sidecar_limiter l;
    sidecar_shed_reason why;
    sidecar_waiter w[3];
    memset(w, 0, sizeof w);
    sidecar_limiter_init(&l, &b, 0);
    CHECK_INT(sidecar_limiter_admit(&l, SIDECAR_PRIO_CRITICAL, 1, NULL, 1000, &why), SIDECAR_ADMIT);
    CHECK_INT(sidecar_limiter_admit(&l, SIDECAR_PRIO_CRITICAL, 1, &w[0], 1000, &why), SIDECAR_WAIT);
    CHECK_INT(w[0].deadline_ms, 1100);
    CHECK_INT(sidecar_limiter_admit(&l, SIDECAR_PRIO_CRITICAL, 1, &w[1], 1050, &why), SIDECAR_WAIT);
    CHECK_INT(w[1].deadline_ms, 1150);  /* a burst: full timeout */
    CHECK_INT(sidecar_limiter_admit(&l, SIDECAR_PRIO_CRITICAL, 1, &w[2], 1200, &why), SIDECAR_WAIT);
    CHECK_INT(w[2].deadline_ms, 1225);  /* standing for 200 ms > 100: a quarter */
}

TEST(sidecar_limiter_factor_sheds_sheddable_preemptively)
{
    sidecar_backpressure b = bp(100, false);
    b.shed_above_factor = 3.0;
    sidecar_limiter l;
    sidecar_shed_reason why;
    sidecar_limiter_init(&l, &b, 0);
    CHECK_INT(sidecar_limiter_admit(&l, SIDECAR_PRIO_SHEDDABLE, 2.9, NULL, 0, &why), SIDECAR_ADMIT);
    CHECK_INT(sidecar_limiter_admit(&l, SIDECAR_PRIO_SHEDDABLE, 3.1, NULL, 0, &why), SIDECAR_REFUSE);
    CHECK_INT(why, SIDECAR_SHED_FACTOR);
    CHECK_INT(sidecar_limiter_admit(&l, SIDECAR_PRIO_NORMAL, 3.1, NULL, 0, &why), SIDECAR_ADMIT);
}

/* Runs windows of samples at latency us with n requests in flight. */
static void feed(sidecar_limiter *l, int windows, int64_t us, uint32_t inflight, uint64_t *now)
{
    for (int w = 0; w < windows; w++)
        for (int i = 0; i < SIDECAR_LIM_WINDOW_SAMPLES; i++) {
            l->inflight = inflight + 1;
            sidecar_limiter_release(l, us, ++*now);
        }
}

TEST(sidecar_limiter_gradient_lowers_limit_when_latency_rises)
{
    sidecar_backpressure b = bp(100, true);
    b.min_conc = 5;
    sidecar_limiter l;
    uint64_t now = 0;
    sidecar_limiter_init(&l, &b, 0);
    feed(&l, 20, 1000, 80, &now);
    CHECK_INT(sidecar_limiter_limit(&l), 100);  /* steady latency: stays at max */
    feed(&l, 5, 10000, 80, &now);               /* 10x slower */
    uint32_t low = sidecar_limiter_limit(&l);
    CHECK(low < 80);
    feed(&l, 200, 10000, 80, &now);             /* long-term adapts, never below min */
    CHECK(sidecar_limiter_limit(&l) >= 5);
    feed(&l, 60, 1000, 99, &now);               /* fast again, busy: recovers */
    CHECK(sidecar_limiter_limit(&l) > low);
}

TEST(sidecar_limiter_does_not_grow_when_app_limited)
{
    sidecar_backpressure b = bp(100, true);
    sidecar_limiter l;
    uint64_t now = 0;
    sidecar_limiter_init(&l, &b, 0);
    l.limit = 20;
    feed(&l, 30, 1000, 2, &now);  /* 2 in flight of 20: no evidence for more */
    CHECK_INT(sidecar_limiter_limit(&l), 20);
    feed(&l, 30, 1000, 19, &now);
    CHECK(sidecar_limiter_limit(&l) > 20);
}

TEST(sidecar_limiter_retry_after_follows_drain_rate)
{
    sidecar_backpressure b = bp(10, false);
    sidecar_limiter l;
    sidecar_limiter_init(&l, &b, 0);
    /* no completions yet: a default of 5 s, spread up to +50% */
    uint32_t ra = sidecar_limiter_retry_after(&l, 10, 0.0);
    CHECK_INT(ra, 5);
    CHECK(sidecar_limiter_retry_after(&l, 10, 0.99) <= 8);
    /* 2 completions per second with 10 in flight: ceil(11 / 2) = 6 */
    for (int s = 0; s < 10; s++) {
        for (int i = 0; i < 2; i++) {
            l.inflight = 11;
            sidecar_limiter_release(&l, -1, (uint64_t)s * 1000 + 1 + (uint64_t)i);
        }
    }
    l.inflight = 10;
    ra = sidecar_limiter_retry_after(&l, 10001, 0.0);
    CHECK(ra >= 5 && ra <= 7);
    /* a fast drain: the minimum of 1 s */
    for (int i = 0; i < 5000; i++) {
        l.inflight = 1;
        sidecar_limiter_release(&l, -1, 11000 + (uint64_t)i / 5);
    }
    l.inflight = 0;
    CHECK_INT(sidecar_limiter_retry_after(&l, 12500, 0.0), 1);
    /* jitter spreads: not all the same over many draws */
    uint32_t lo = 100, hi = 0;
    for (int i = 0; i < 10; i++) {
        uint32_t v = sidecar_limiter_retry_after(&l, 12500, i / 10.0);
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    CHECK(hi > lo);
}
