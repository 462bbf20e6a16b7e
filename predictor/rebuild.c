/* rebuild.c — replaying a policy's window from the stream (see rebuild.h). */
#include "rebuild.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common.h"
#include "log.h"

#include "service_int.h"

#define REBUILD_EMPTY_PAGES_MAX 3   /* empty pages in a row that end a replay */

static void issue_page(pred_policy *pol);

static void finish(pred_policy *pol, uint64_t sent_ms)
{
    pred *p = pol->svc;
    pred_launch *l = pol->launch;
    pred_track *t = &pol->track;
    pol->rebuilding = false;
    l->rebuilding--;
    /* keep the order strict even if delivered entries vanished meanwhile */
    if (pred_id_cmp(l->delivered_max, t->applied) > 0)
        pred_track_mark(t, l->delivered_max);
    uint64_t delay = p->set.tick_delay_ms;
    metrics_counter_add(p->m.ticks, pred_track_advance(t, sent_ms > delay ? sent_ms - delay : 0));
    char last[PRED_ID_STR_MAX];
    pred_id_format(t->applied, last, sizeof last);
    log_info("predictor", "window rebuilt", LF_STR("policy", pol->id), LF_STR("stream", l->stream),
             LF_UINT("entries", pol->rebuild_entries), LF_STR("last_id", last),
             LF_UINT("ms", lo_wall_ms() - pol->rebuild_began));
    metrics_counter_inc(p->m.pub_change);
    pred_publish(pol, 0);
    pred_state_changed(p);
    pred_consume_kick(p);
}

static void on_page(rds *r, const redisReply *reply, int err, void *arg)
{
    (void)r;
    pred_policy *pol = arg;
    pred *p = pol->svc;
    pol->rebuild_busy = false;
    if (err == -ECANCELED || p->closing || pol->dead || !pol->rebuilding) {
        pred_policy_unref(pol);
        return;
    }
    if (err < 0 || reply->type != REDIS_REPLY_ARRAY) {
        if (err < 0)
            log_warn_limited("predictor", "rebuild read failed", LF_ERR(err));
        else if (reply->type == REDIS_REPLY_ERROR)
            log_warn_limited("predictor", "rebuild read refused",
                             LF_STRN("redis_error", reply->str, reply->len));
        pol->rebuild_restart = false;
        pred_policy_unref(pol); /* again on the next kick */
        return;
    }
    if (pol->rebuild_restart) {
        /* the replay started over while this page was on its way */
        pol->rebuild_restart = false;
        issue_page(pol);
        pred_policy_unref(pol);
        return;
    }
    pred_track *t = &pol->track;
    size_t n = reply->elements;
    uint64_t ticks0 = t->ticks;
    for (size_t i = 0; i < n; i++) {
        pred_entry e;
        int rc = pred_entry_parse(reply->element[i], &e);
        if (rc == -EINVAL)
            continue;
        if (rc < 0)
            pred_track_mark(t, e.id);
        else
            pred_track_apply(t, &e);
        pol->rebuild_next = e.id;
        pol->rebuild_exclusive = true;
    }
    pol->rebuild_entries += n;
    metrics_counter_add(p->m.ticks, t->ticks - ticks0);
    metrics_counter_add(p->m.rebuild_entries, n);
    pol->rebuild_empty = n == 0 ? pol->rebuild_empty + 1 : 0;
    /* a full page, or entries the group handed over that this replay has
     * not reached yet: read on */
    bool more = n >= p->set.batch ||
                (pred_id_cmp(pol->launch->delivered_max, t->applied) > 0 &&
                 pol->launch->delivered_max.ms >= pol->rebuild_start_ms &&
                 pol->rebuild_empty < REBUILD_EMPTY_PAGES_MAX);
    if (more)
        issue_page(pol);
    else
        finish(pol, pol->rebuild_sent_ms);
    pred_policy_unref(pol);
}

static void issue_page(pred_policy *pol)
{
    pred *p = pol->svc;
    if (pol->rebuild_busy)
        return;
    char start[PRED_ID_STR_MAX + 1], count[24];
    start[0] = '(';
    pred_id_format(pol->rebuild_next, start + 1, sizeof start - 1);
    snprintf(count, sizeof count, "%" PRIu32, p->set.batch);
    pol->rebuild_busy = true;
    pol->rebuild_sent_ms = lo_wall_ms();
    pred_policy_ref(pol);
    rds_command(p->rc, on_page, pol, "XRANGE %s %s + COUNT %s", pol->launch->stream,
                pol->rebuild_exclusive ? start : start + 1, count);
}

void pred_rebuild_start(pred_policy *pol)
{
    pred *p = pol->svc;
    if (!pol->rebuilding) {
        pol->rebuilding = true;
        pol->launch->rebuilding++;
    }
    pred_track_reset(&pol->track);
    pol->rebuild_restart = pol->rebuild_busy;
    uint64_t now = lo_wall_ms();
    uint64_t span = (uint64_t)pol->pol.window_s * 1000 + p->set.rebuild_slack_ms;
    pol->rebuild_start_ms = now > span ? now - span : 0;
    pol->rebuild_next = (pred_id){ pol->rebuild_start_ms, 0 };
    /* seconds tick from here on, engagement or not (the reactive floor) */
    pred_track_origin(&pol->track, pol->rebuild_start_ms);
    pol->rebuild_exclusive = false;
    pol->rebuild_entries = 0;
    pol->rebuild_empty = 0;
    pol->rebuild_began = now;
    metrics_counter_inc(p->m.rebuilds);
    issue_page(pol);
}

void pred_rebuild_kick(pred *p)
{
    for (pred_policy *pol = p->policies; pol; pol = pol->next)
        if (pol->rebuilding && !pol->rebuild_busy && !pol->dead)
            issue_page(pol);
}
