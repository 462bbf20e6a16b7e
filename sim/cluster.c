/* cluster.c — pods with a start-up delay (see cluster.h). */
#include "cluster.h"
#include "common.h"

#include <stdlib.h>
#include <string.h>

#define SIM_LONG_AGO (-1000000)

void sim_cluster_init(sim_cluster *c, uint32_t startup_s, uint32_t initial, uint32_t max)
{
    memset(c, 0, sizeof *c);
    c->startup_s = startup_s;
    c->max = max ? max : 1;
    c->pending = xcalloc(c->max, sizeof *c->pending);
    c->ready_since = xcalloc(c->max, sizeof *c->ready_since);
    if (initial > c->max)
        initial = c->max;
    for (uint32_t i = 0; i < initial; i++)
        c->ready_since[i] = SIM_LONG_AGO;
    c->ready = initial;
}

void sim_cluster_free(sim_cluster *c)
{
    free(c->pending);
    free(c->ready_since);
    c->pending = c->ready_since = NULL;
}

void sim_cluster_promote(sim_cluster *c, int64_t t)
{
    while (c->pend_len > 0 && c->pending[c->pend_head] <= t) {
        c->ready_since[c->ready++] = c->pending[c->pend_head];
        c->pend_head = (c->pend_head + 1) % c->max;
        c->pend_len--;
    }
}

void sim_cluster_scale(sim_cluster *c, int64_t at, uint32_t target)
{
    if (target > c->max)
        target = c->max;
    while (sim_cluster_asked(c) < target) {
        c->pending[(c->pend_head + c->pend_len) % c->max] = at + c->startup_s;
        c->pend_len++;
    }
    while (sim_cluster_asked(c) > target) {
        if (c->pend_len > 0)
            c->pend_len--;          /* the newest starting pod */
        else
            c->ready--;             /* the most recently ready pod */
    }
}

uint32_t sim_cluster_ready_before(const sim_cluster *c, int64_t t)
{
    uint32_t n = 0;
    while (n < c->ready && c->ready_since[n] <= t)
        n++;
    return n;
}
