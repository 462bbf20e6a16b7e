/* track.c — a LaunchPolicy's forecaster fed in stream order and ticked in
 * stream time (see track.h). */
#include "track.h"

#include <errno.h>
#include <string.h>

int pred_track_init(pred_track *t, const fc_policy *p)
{
    memset(t, 0, sizeof *t);
    return fc_init(&t->fc, p) ? -EINVAL : 0;
}

void pred_track_free(pred_track *t)
{
    fc_free(&t->fc);
}

void pred_track_reset(pred_track *t)
{
    fc_reset(&t->fc);
    t->applied = (pred_id){ 0, 0 };
    t->ticking = false;
    t->next_tick_s = 0;
    t->clock_ms = 0;
    memset(&t->out, 0, sizeof t->out);
    t->have_out = false;
    t->replicas = 0;
}

/* Whether two policies weigh events the same way over the same window. */
static bool same_velocity(const fc_policy *a, const fc_policy *b)
{
    if (a->window_s != b->window_s || a->default_weight != b->default_weight ||
        a->nweights != b->nweights)
        return false;
    for (uint32_t i = 0; i < a->nweights; i++)
        if (fc_policy_weight(b, a->weights[i].type) != a->weights[i].weight)
            return false;
    return true;
}

int pred_track_set_policy(pred_track *t, const fc_policy *p)
{
    if (fc_policy_validate(p, NULL))
        return -EINVAL;
    if (same_velocity(&t->fc.pol, p)) {
        int rc = fc_set_policy(&t->fc, p);
        if (rc == 0)
            return 0;
        if (rc != -ENOSPC)
            return -EINVAL;
    }
    fc_t fresh;
    if (fc_init(&fresh, p))
        return -EINVAL;
    fc_free(&t->fc);
    t->fc = fresh;
    pred_track_reset(t);
    return 1;
}

/* Ticks second s. */
static void tick(pred_track *t, int64_t s)
{
    fc_tick(&t->fc, s, t->replicas, &t->out);
    t->replicas = t->out.decision.replicas;
    t->have_out = true;
    t->ticks++;
}

uint32_t pred_track_advance(pred_track *t, uint64_t clock_ms)
{
    if (clock_ms <= t->clock_ms)
        return 0;
    t->clock_ms = clock_ms;
    if (!t->ticking)
        return 0;
    int64_t done = (int64_t)(clock_ms / 1000); /* seconds before this are complete */
    if (done - t->next_tick_s > PRED_TICK_CATCHUP_MAX)
        t->next_tick_s = done - PRED_TICK_CATCHUP_MAX;
    uint32_t n = 0;
    for (; t->next_tick_s < done; t->next_tick_s++, n++)
        tick(t, t->next_tick_s);
    return n;
}

void pred_track_origin(pred_track *t, uint64_t origin_ms)
{
    if (t->ticking)
        return;
    t->ticking = true;
    t->next_tick_s = (int64_t)(origin_ms / 1000);
}

int pred_track_apply(pred_track *t, const pred_entry *e)
{
    if (pred_id_cmp(e->id, t->applied) <= 0) {
        t->skipped_n++;
        return 0;
    }
    pred_track_advance(t, e->id.ms);
    pred_track_origin(t, e->id.ms);
    if (fc_observe_event(&t->fc, e->ts_ms, e->type, 1) == -ESTALE)
        t->stale_n++;
    t->applied = e->id;
    t->applied_n++;
    return 1;
}

void pred_track_mark(pred_track *t, pred_id id)
{
    if (pred_id_cmp(id, t->applied) > 0) {
        pred_track_advance(t, id.ms);
        t->applied = id;
    }
}

void pred_track_observe_rps(pred_track *t, int64_t ts_ms, double rps)
{
    fc_observe_rps(&t->fc, ts_ms, rps);
}

double pred_track_eps(const pred_track *t)
{
    return vel_rate(&t->fc.vel);
}
