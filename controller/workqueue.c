/* workqueue.c — dedup, priorities, a concurrency cap and per-item backoff
 * for reconciles (see workqueue.h). */
#include "workqueue.h"

#include <string.h>

static void list_push(ctl_wq_list *l, ctl_wq_item *it)
{
    it->next = NULL;
    it->prev = l->tail;
    if (l->tail)
        l->tail->next = it;
    else
        l->head = it;
    l->tail = it;
    l->len++;
}

static void list_unlink(ctl_wq_list *l, ctl_wq_item *it)
{
    if (it->prev)
        it->prev->next = it->next;
    else
        l->head = it->next;
    if (it->next)
        it->next->prev = it->prev;
    else
        l->tail = it->prev;
    it->prev = it->next = NULL;
    l->len--;
}

void ctl_wq_init(ctl_wq *q, size_t max_running)
{
    memset(q, 0, sizeof *q);
    q->max_running = max_running < 1 ? 1
                     : max_running > CTL_WQ_RUNNING_MAX ? CTL_WQ_RUNNING_MAX : max_running;
}

uint64_t ctl_wq_backoff_ms(unsigned failures)
{
    uint64_t d = CTL_WQ_BACKOFF_BASE_MS;
    for (unsigned i = 1; i < failures && d < CTL_WQ_BACKOFF_MAX_MS; i++)
        d *= 2;
    return d > CTL_WQ_BACKOFF_MAX_MS ? CTL_WQ_BACKOFF_MAX_MS : d;
}

static void enqueue(ctl_wq *q, ctl_wq_item *it, ctl_wq_prio prio, uint64_t now_ms)
{
    it->state = CTL_WQ_QUEUED;
    it->prio = prio;
    it->queued_ms = now_ms;
    list_push(&q->fifo[prio], it);
}

void ctl_wq_add(ctl_wq *q, ctl_wq_item *it, ctl_wq_prio prio, uint64_t now_ms)
{
    switch (it->state) {
    case CTL_WQ_IDLE:
        enqueue(q, it, prio, now_ms);
        break;
    case CTL_WQ_QUEUED:
        if (prio > it->prio) {   /* moves up, keeps its queued time */
            list_unlink(&q->fifo[it->prio], it);
            it->prio = prio;
            list_push(&q->fifo[prio], it);
        }
        break;
    case CTL_WQ_RUNNING:
        if (!it->dirty || prio > it->dirty_prio)
            it->dirty_prio = prio;
        it->dirty = true;
        break;
    case CTL_WQ_WAITING:   /* it runs when the backoff ends, with what is current then */
        break;
    }
}

ctl_wq_item *ctl_wq_pop(ctl_wq *q, uint64_t now_ms, uint64_t *waited_ms)
{
    if (q->running >= q->max_running)
        return NULL;
    ctl_wq_list *l = q->fifo[CTL_WQ_HIGH].head ? &q->fifo[CTL_WQ_HIGH] : &q->fifo[CTL_WQ_LOW];
    ctl_wq_item *it = l->head;
    if (!it)
        return NULL;
    list_unlink(l, it);
    it->state = CTL_WQ_RUNNING;
    it->dirty = false;
    q->running++;
    if (waited_ms)
        *waited_ms = now_ms > it->queued_ms ? now_ms - it->queued_ms : 0;
    return it;
}

static void wait_backoff(ctl_wq *q, ctl_wq_item *it, uint64_t now_ms)
{
    it->state = CTL_WQ_WAITING;
    it->not_before_ms = now_ms + ctl_wq_backoff_ms(it->failures);
    it->queued_ms = now_ms;
    list_push(&q->waiting, it);
}

void ctl_wq_done(ctl_wq *q, ctl_wq_item *it, bool ok, uint64_t now_ms)
{
    if (it->state != CTL_WQ_RUNNING)
        return;
    q->running--;
    it->state = CTL_WQ_IDLE;
    if (ok) {
        it->failures = 0;
        if (it->dirty)
            enqueue(q, it, it->dirty_prio, now_ms);
    } else {
        if (it->failures < 64)
            it->failures++;
        wait_backoff(q, it, now_ms);   /* a failed item runs again, dirty or not */
    }
    it->dirty = false;
}

void ctl_wq_remove(ctl_wq *q, ctl_wq_item *it)
{
    switch (it->state) {
    case CTL_WQ_QUEUED:
        list_unlink(&q->fifo[it->prio], it);
        it->state = CTL_WQ_IDLE;
        break;
    case CTL_WQ_WAITING:
        list_unlink(&q->waiting, it);
        it->state = CTL_WQ_IDLE;
        break;
    case CTL_WQ_RUNNING:
        q->running--;
        it->state = CTL_WQ_IDLE;
        break;
    case CTL_WQ_IDLE:
        break;
    }
    it->dirty = false;
    it->failures = 0;
}

size_t ctl_wq_promote(ctl_wq *q, uint64_t now_ms)
{
    size_t n = 0;
    ctl_wq_item *it = q->waiting.head;
    while (it) {
        ctl_wq_item *next = it->next;
        if (it->not_before_ms <= now_ms) {
            list_unlink(&q->waiting, it);
            enqueue(q, it, CTL_WQ_HIGH, now_ms);
            n++;
        }
        it = next;
    }
    return n;
}

uint64_t ctl_wq_next_due(const ctl_wq *q)
{
    uint64_t due = 0;
    for (const ctl_wq_item *it = q->waiting.head; it; it = it->next)
        if (due == 0 || it->not_before_ms < due)
            due = it->not_before_ms;
    return due;
}

size_t ctl_wq_depth(const ctl_wq *q)
{
    return q->fifo[0].len + q->fifo[1].len + q->waiting.len;
}
