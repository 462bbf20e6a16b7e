/* test_ctl_workqueue.c — the reconcile queue: dedup, dirty requeue,
 * priorities, the concurrency cap, backoff on failures, removal. */
#include "test.h"

#include <string.h>

#include "controller/workqueue.h"

TEST(ctl_wq_dedups_queued_items)
{
    ctl_wq q;
    ctl_wq_item a = { 0 }, b = { 0 };
    ctl_wq_init(&q, 4);
    ctl_wq_add(&q, &a, CTL_WQ_LOW, 10);
    ctl_wq_add(&q, &a, CTL_WQ_LOW, 11);
    ctl_wq_add(&q, &b, CTL_WQ_LOW, 12);
    CHECK_INT(ctl_wq_depth(&q), 2);
    uint64_t waited = 99;
    CHECK(ctl_wq_pop(&q, 20, &waited) == &a);
    CHECK_INT(waited, 10);   /* from the first add */
    CHECK(ctl_wq_pop(&q, 20, NULL) == &b);
    CHECK(ctl_wq_pop(&q, 20, NULL) == NULL);
    CHECK_INT(q.running, 2);
}

TEST(ctl_wq_high_priority_first_and_moves_up)
{
    ctl_wq q;
    ctl_wq_item a = { 0 }, b = { 0 }, c = { 0 };
    ctl_wq_init(&q, 8);
    ctl_wq_add(&q, &a, CTL_WQ_LOW, 0);
    ctl_wq_add(&q, &b, CTL_WQ_LOW, 0);
    ctl_wq_add(&q, &c, CTL_WQ_HIGH, 5);
    ctl_wq_add(&q, &b, CTL_WQ_HIGH, 6);   /* a forecast for a resync-queued item */
    ctl_wq_add(&q, &c, CTL_WQ_LOW, 7);    /* never moves down */
    CHECK_INT(ctl_wq_depth(&q), 3);
    CHECK(ctl_wq_pop(&q, 9, NULL) == &c);
    uint64_t waited = 0;
    CHECK(ctl_wq_pop(&q, 9, &waited) == &b);
    CHECK_INT(waited, 9);   /* kept its first queued time */
    CHECK(ctl_wq_pop(&q, 9, NULL) == &a);
}

TEST(ctl_wq_caps_running)
{
    ctl_wq q;
    ctl_wq_item it[5];
    memset(it, 0, sizeof it);
    ctl_wq_init(&q, 2);
    for (int i = 0; i < 5; i++)
        ctl_wq_add(&q, &it[i], CTL_WQ_LOW, 0);
    CHECK(ctl_wq_pop(&q, 0, NULL) == &it[0]);
    CHECK(ctl_wq_pop(&q, 0, NULL) == &it[1]);
    CHECK(ctl_wq_pop(&q, 0, NULL) == NULL);   /* the cap */
    ctl_wq_done(&q, &it[0], true, 1);
    CHECK(ctl_wq_pop(&q, 1, NULL) == &it[2]);
    CHECK(ctl_wq_pop(&q, 1, NULL) == NULL);
    CHECK_INT(ctl_wq_depth(&q), 2);
}

TEST(ctl_wq_add_while_running_requeues_once_after)
{
    ctl_wq q;
    ctl_wq_item a = { 0 };
    ctl_wq_init(&q, 4);
    ctl_wq_add(&q, &a, CTL_WQ_LOW, 0);
    CHECK(ctl_wq_pop(&q, 0, NULL) == &a);
    ctl_wq_add(&q, &a, CTL_WQ_LOW, 1);
    ctl_wq_add(&q, &a, CTL_WQ_HIGH, 2);
    ctl_wq_add(&q, &a, CTL_WQ_LOW, 3);
    CHECK_INT(ctl_wq_depth(&q), 0);          /* not queued while it runs */
    CHECK(ctl_wq_pop(&q, 3, NULL) == NULL);  /* never twice at once */
    ctl_wq_done(&q, &a, true, 4);
    CHECK_INT(ctl_wq_depth(&q), 1);
    CHECK_INT(a.prio, CTL_WQ_HIGH);          /* the highest add while it ran */
    CHECK(ctl_wq_pop(&q, 5, NULL) == &a);
    ctl_wq_done(&q, &a, true, 6);
    CHECK_INT(ctl_wq_depth(&q), 0);          /* clean: not again */
    CHECK_INT(q.running, 0);
}

TEST(ctl_wq_backoff_doubles_and_caps)
{
    CHECK_INT(ctl_wq_backoff_ms(1), CTL_WQ_BACKOFF_BASE_MS);
    CHECK_INT(ctl_wq_backoff_ms(2), 2 * CTL_WQ_BACKOFF_BASE_MS);
    CHECK_INT(ctl_wq_backoff_ms(3), 4 * CTL_WQ_BACKOFF_BASE_MS);
    CHECK_INT(ctl_wq_backoff_ms(40), CTL_WQ_BACKOFF_MAX_MS);
    CHECK_INT(ctl_wq_backoff_ms(1000), CTL_WQ_BACKOFF_MAX_MS);
}

TEST(ctl_wq_failure_waits_out_the_backoff)
{
    ctl_wq q;
    ctl_wq_item a = { 0 };
    ctl_wq_init(&q, 4);
    ctl_wq_add(&q, &a, CTL_WQ_HIGH, 1000);
    CHECK(ctl_wq_pop(&q, 1000, NULL) == &a);
    ctl_wq_done(&q, &a, false, 1000);
    CHECK_INT(ctl_wq_depth(&q), 1);
    CHECK_INT(ctl_wq_next_due(&q), 1000 + CTL_WQ_BACKOFF_BASE_MS);
    ctl_wq_add(&q, &a, CTL_WQ_HIGH, 1001);   /* no hot retry: still waiting */
    CHECK(ctl_wq_pop(&q, 1001, NULL) == NULL);
    CHECK_INT(ctl_wq_promote(&q, 1000 + CTL_WQ_BACKOFF_BASE_MS - 1), 0);
    CHECK_INT(ctl_wq_promote(&q, 1000 + CTL_WQ_BACKOFF_BASE_MS), 1);
    CHECK_INT(ctl_wq_next_due(&q), 0);
    CHECK(ctl_wq_pop(&q, 2000, NULL) == &a);
    ctl_wq_done(&q, &a, false, 2000);        /* second failure: twice as long */
    CHECK_INT(ctl_wq_next_due(&q), 2000 + 2 * CTL_WQ_BACKOFF_BASE_MS);
    ctl_wq_promote(&q, 9000);
    CHECK(ctl_wq_pop(&q, 9000, NULL) == &a);
    ctl_wq_done(&q, &a, true, 9000);         /* success forgets the failures */
    CHECK_INT(a.failures, 0);
    CHECK_INT(ctl_wq_depth(&q), 0);
}

TEST(ctl_wq_remove_from_every_state)
{
    ctl_wq q;
    ctl_wq_item a = { 0 }, b = { 0 }, c = { 0 };
    ctl_wq_init(&q, 4);
    ctl_wq_add(&q, &a, CTL_WQ_LOW, 0);
    ctl_wq_add(&q, &b, CTL_WQ_HIGH, 0);
    ctl_wq_add(&q, &c, CTL_WQ_LOW, 0);
    CHECK(ctl_wq_pop(&q, 0, NULL) == &b);
    ctl_wq_remove(&q, &a);                /* queued */
    ctl_wq_remove(&q, &b);                /* running */
    CHECK_INT(q.running, 0);
    ctl_wq_done(&q, &b, true, 1);         /* its late end changes nothing */
    CHECK_INT(q.running, 0);
    CHECK(ctl_wq_pop(&q, 1, NULL) == &c);
    ctl_wq_done(&q, &c, false, 1);
    ctl_wq_remove(&q, &c);                /* waiting */
    CHECK_INT(ctl_wq_depth(&q), 0);
    CHECK(ctl_wq_pop(&q, 100000, NULL) == NULL);
    CHECK_INT(ctl_wq_promote(&q, 100000), 0);
}
