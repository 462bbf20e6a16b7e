/* coalesce.c — the single-flight registry (see coalesce.h). */
#include "coalesce.h"

#include <stdlib.h>
#include <string.h>

#include "common.h"

sidecar_flight *sidecar_flight_find(sidecar_flights *fl, const char *key, size_t key_len)
{
    for (sidecar_flight *f = fl->head; f; f = f->next)
        if (f->key_len == key_len && memcmp(f->key, key, key_len) == 0)
            return f;
    return NULL;
}

sidecar_flight *sidecar_flight_begin(sidecar_flights *fl, const char *key, size_t key_len)
{
    if (fl->n >= SIDECAR_FLIGHTS_MAX)
        return NULL;
    sidecar_flight *f = xcalloc(1, sizeof *f);
    f->key = xmalloc(key_len ? key_len : 1);
    memcpy(f->key, key, key_len);
    f->key_len = key_len;
    f->next = fl->head;
    if (fl->head)
        fl->head->prev = f;
    fl->head = f;
    fl->n++;
    return f;
}

void sidecar_flight_wait(sidecar_flight *f, sidecar_flight_waiter *w)
{
    w->flight = f;
    w->next = NULL;
    w->prev = f->tail;
    if (f->tail)
        f->tail->next = w;
    else
        f->head = w;
    f->tail = w;
    f->nwaiters++;
}

void sidecar_flight_leave(sidecar_flight_waiter *w)
{
    sidecar_flight *f = w->flight;
    if (!f)
        return;
    if (w->prev)
        w->prev->next = w->next;
    else
        f->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        f->tail = w->prev;
    f->nwaiters--;
    w->flight = NULL;
    w->prev = w->next = NULL;
}

sidecar_flight_waiter *sidecar_flight_pop(sidecar_flight *f)
{
    sidecar_flight_waiter *w = f->head;
    if (w)
        sidecar_flight_leave(w);
    return w;
}

void sidecar_flight_end(sidecar_flights *fl, sidecar_flight *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else
        fl->head = f->next;
    if (f->next)
        f->next->prev = f->prev;
    fl->n--;
    free(f->key);
    free(f);
}
