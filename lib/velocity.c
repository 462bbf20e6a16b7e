/* velocity.c — weighted engagement events per second over a sliding
 * per-second ring buffer (see velocity.h). */
#include "velocity.h"
#include "common.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static uint32_t slot(const vel_t *v, int64_t sec)
{
    int64_t m = sec % (int64_t)v->window_s;
    return (uint32_t)(m < 0 ? m + v->window_s : m);
}

int vel_init(vel_t *v, uint32_t window_s)
{
    memset(v, 0, sizeof *v);
    if (window_s == 0 || window_s > VEL_MAX_WINDOW_S)
        return -EINVAL;
    v->bucket = xcalloc(window_s, sizeof *v->bucket);
    v->window_s = window_s;
    return 0;
}

void vel_free(vel_t *v)
{
    free(v->bucket);
    v->bucket = NULL;
}

int vel_copy(vel_t *dst, const vel_t *src)
{
    if (dst == src)
        return 0;
    if (!dst->bucket || !src->bucket || dst->window_s != src->window_s)
        return -EINVAL;
    int64_t *bucket = dst->bucket;
    memcpy(bucket, src->bucket, src->window_s * sizeof *bucket);
    *dst = *src;
    dst->bucket = bucket;
    return 0;
}

int64_t vel_second_milli(const vel_t *v, int64_t s)
{
    if (!v->started || s > v->head_s || s <= v->head_s - (int64_t)v->window_s)
        return 0;
    return v->bucket[slot(v, s)];
}

void vel_reset(vel_t *v)
{
    memset(v->bucket, 0, v->window_s * sizeof *v->bucket);
    v->started = false;
    v->head_s = 0;
    v->sum = 0;
    v->events = v->late = v->too_old = 0;
}

void vel_advance(vel_t *v, int64_t now_s)
{
    if (!v->started) {
        v->started = true;
        v->head_s = now_s;
        return;
    }
    if (now_s <= v->head_s)
        return;
    int64_t gap = now_s - v->head_s;
    if (gap >= (int64_t)v->window_s) {
        /* everything in the window expired */
        memset(v->bucket, 0, v->window_s * sizeof *v->bucket);
        v->sum = 0;
    } else {
        for (int64_t s = v->head_s + 1; s <= now_s; s++) {
            uint32_t i = slot(v, s);   /* held second s - window: expires */
            v->sum -= v->bucket[i];
            v->bucket[i] = 0;
        }
    }
    v->head_s = now_s;
}

int vel_observe(vel_t *v, int64_t ts_ms, int64_t milli_weight)
{
    if (milli_weight < 0)
        return -EINVAL;
    int64_t sec = floor_div(ts_ms, 1000);
    if (!v->started || sec > v->head_s)
        vel_advance(v, sec);
    if (sec <= v->head_s - (int64_t)v->window_s) {
        v->too_old++;
        return -ESTALE;
    }
    if (sec < v->head_s)
        v->late++;
    v->bucket[slot(v, sec)] += milli_weight;
    v->sum += milli_weight;
    v->events++;
    return 0;
}

double vel_rate(const vel_t *v)
{
    return (double)v->sum / VEL_MILLI / (double)v->window_s;
}

int64_t vel_milli(double weight)
{
    if (!(weight >= 0))
        return 0;
    if (weight > 1e9)
        weight = 1e9;
    return (int64_t)llround(weight * VEL_MILLI);
}
