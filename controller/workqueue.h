/*
 * workqueue.h — the queue of reconciles, as client-go's workqueue: an item
 * (one policy) is queued at most once; an add while it runs marks it dirty
 * and it is queued again when it ends; at most `max_running` items run at
 * once; two priorities (a forecast before a resync), FIFO within each; an
 * item whose run failed waits out a per-item exponential backoff (capped)
 * before it runs again, and adds meanwhile do not shorten the wait.
 *
 * Pure: no I/O, no clock (callers pass now_ms, any monotonic ms), nothing
 * allocated. Items are intrusive (ctl_wq_item embedded in the owner);
 * the caller keeps them alive while queued or running, and calls
 * ctl_wq_remove() before freeing one.
 */
#ifndef LIFTOFF_CTL_WORKQUEUE_H
#define LIFTOFF_CTL_WORKQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_WQ_RUNNING_MAX 1024        /* upper bound of --concurrent-reconciles */
#define CTL_WQ_BACKOFF_BASE_MS 250u    /* first delay after a failed run */
#define CTL_WQ_BACKOFF_MAX_MS 10000u   /* longest delay */

typedef enum ctl_wq_prio {
    CTL_WQ_LOW = 0,     /* resync */
    CTL_WQ_HIGH = 1,    /* forecast, spec or target change */
} ctl_wq_prio;

typedef enum ctl_wq_state {
    CTL_WQ_IDLE = 0,
    CTL_WQ_QUEUED,      /* in a FIFO */
    CTL_WQ_WAITING,     /* backing off until not_before_ms */
    CTL_WQ_RUNNING,
} ctl_wq_state;

typedef struct ctl_wq_item {
    struct ctl_wq_item *prev, *next;
    ctl_wq_state state;
    ctl_wq_prio prio;          /* the FIFO it is in (QUEUED) */
    bool dirty;                /* added while RUNNING */
    ctl_wq_prio dirty_prio;
    unsigned failures;         /* failed runs in a row */
    uint64_t queued_ms;        /* when it was first queued (the wait measured) */
    uint64_t not_before_ms;    /* WAITING until then */
} ctl_wq_item;

typedef struct ctl_wq_list {
    ctl_wq_item *head, *tail;
    size_t len;
} ctl_wq_list;

typedef struct ctl_wq {
    ctl_wq_list fifo[2];       /* by ctl_wq_prio */
    ctl_wq_list waiting;
    size_t running, max_running;
} ctl_wq;

/* An empty queue running at most max_running (1..CTL_WQ_RUNNING_MAX, clamped). */
void ctl_wq_init(ctl_wq *q, size_t max_running);
/* Queues it (dedup: a queued item only moves up to a higher priority; a
 * running one is marked dirty; a waiting one keeps waiting). */
void ctl_wq_add(ctl_wq *q, ctl_wq_item *it, ctl_wq_prio prio, uint64_t now_ms);
/* The next item to run (high priority first), now RUNNING, or NULL when
 * none is queued or max_running run. *waited_ms: how long it was queued. */
ctl_wq_item *ctl_wq_pop(ctl_wq *q, uint64_t now_ms, uint64_t *waited_ms);
/* Ends a run: ok resets its backoff; a failure makes it wait (and run
 * again) after the backoff; a dirty item is queued again (after the
 * backoff if it failed). */
void ctl_wq_done(ctl_wq *q, ctl_wq_item *it, bool ok, uint64_t now_ms);
/* Takes it out of the queue (a running one still counts until
 * ctl_wq_done, which then requeues nothing). */
void ctl_wq_remove(ctl_wq *q, ctl_wq_item *it);
/* Moves waiting items due at now_ms to the high FIFO; returns how many. */
size_t ctl_wq_promote(ctl_wq *q, uint64_t now_ms);
/* The earliest not_before_ms of the waiting items, or 0 when none waits. */
uint64_t ctl_wq_next_due(const ctl_wq *q);
/* Items queued or waiting (the depth). */
size_t ctl_wq_depth(const ctl_wq *q);
/* The backoff after the given number of failures in a row (1-based). */
uint64_t ctl_wq_backoff_ms(unsigned failures);

#endif
