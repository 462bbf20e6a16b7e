/* reactive.c — the smoothed observed rate with a surge projection (see
 * reactive.h). */
#include "reactive.h"
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int reactive_init(reactive_t *r, double alpha, uint32_t surge_s, double surge_ratio)
{
    memset(r, 0, sizeof *r);
    if (!(alpha > 0 && alpha <= 1) || surge_s == 0 || surge_s > REACTIVE_MAX_SURGE_S ||
        !(surge_ratio > 1))
        return -EINVAL;
    r->alpha = alpha;
    r->surge_s = surge_s;
    r->surge_ratio = surge_ratio;
    r->hist = xcalloc(surge_s + 1, sizeof *r->hist);
    return 0;
}

void reactive_free(reactive_t *r)
{
    free(r->hist);
    r->hist = NULL;
}

int reactive_copy(reactive_t *dst, const reactive_t *src)
{
    if (dst == src)
        return 0;
    if (!dst->hist || !src->hist || dst->surge_s != src->surge_s)
        return -EINVAL;
    double *hist = dst->hist;
    memcpy(hist, src->hist, (src->surge_s + 1) * sizeof *hist);
    *dst = *src;
    dst->hist = hist;
    return 0;
}

void reactive_reset(reactive_t *r)
{
    memset(r->hist, 0, (r->surge_s + 1) * sizeof *r->hist);
    r->level = 0;
    r->n = 0;
}

static void push(reactive_t *r)
{
    r->hist[r->n % (r->surge_s + 1)] = r->level;
    r->n++;
}

void reactive_observe(reactive_t *r, double rps)
{
    if (!(rps >= 0))
        return;
    r->level = r->n == 0 ? rps : r->level + r->alpha * (rps - r->level);
    push(r);
}

void reactive_skip(reactive_t *r)
{
    if (r->n > 0)
        push(r);
}

/* The level surge_s seconds before the newest one (or the oldest known). */
static double level_before(const reactive_t *r)
{
    uint64_t back = r->n > r->surge_s ? r->surge_s : r->n - 1;
    return r->hist[(r->n - 1 - back) % (r->surge_s + 1)];
}

bool reactive_surging(const reactive_t *r)
{
    if (r->n <= r->surge_s)
        return false;
    double before = level_before(r);
    return r->level > r->surge_ratio * before && r->level > before + 1.0;
}

double reactive_forecast(const reactive_t *r, uint32_t h)
{
    if (!reactive_surging(r))
        return r->level;
    double slope = (r->level - level_before(r)) / r->surge_s;
    return r->level + slope * h;
}
