/* service.c — the predictor's wiring: settings, Redis connections and their
 * state, timers, readiness and the graceful stop (see service.h). */
#include "service.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "log.h"

#include "policy_json.h"
#include "service_int.h"

#define HOSTNAME_MAX 256
#define DRAIN_POLL_MS 10

void pred_settings_defaults(pred_settings *s)
{
    memset(s, 0, sizeof *s);
    s->redis_url = "redis://127.0.0.1:6379";
    s->listen_port = 9102;
    s->launch = "default";
    s->group = "liftoff-predictor";
    s->group_start = "$";
    s->batch = 1000;
    s->block_ms = 200;
    s->publish_interval_ms = 1000;
    s->change_threshold = 0.05;
    s->forecast_ttl_ms = 30000;
    s->claim_idle_ms = 30000;
    s->claim_interval_ms = 5000;
    s->tick_delay_ms = 100;
    s->rebuild_slack_ms = 5000;
    s->policy_resync_ms = 30000;
    s->early_publish_interval_ms = 100;
    s->early_publish_ratio = 1.5;
}

/* ---- readiness ---- */

static bool ready_why(const pred *p, const char **why)
{
    if (!rds_is_up(p->rc) || !rds_is_up(p->rb)) {
        *why = "redis down";
        return false;
    }
    if (!p->synced) {
        *why = "policies not read yet";
        return false;
    }
    for (const pred_policy *pol = p->policies; pol; pol = pol->next) {
        if (pol->rebuilding) {
            *why = "rebuilding a window";
            return false;
        }
        if (pol->fetch_busy && !pol->have_track) {
            *why = "reading a policy";
            return false;
        }
    }
    for (const pred_launch *l = p->launches; l; l = l->next)
        if (l->npolicies > 0 && !l->group_ready) {
            *why = "consumer group not ready";
            return false;
        }
    *why = "ready";
    return true;
}

bool pred_ready(const pred *p)
{
    const char *why;
    return ready_why(p, &why);
}

static bool admin_ready(void *arg, const char **why)
{
    return ready_why(arg, why);
}

static void finish_drain(pred *p);

void pred_state_changed(pred *p)
{
    if (p->closing)
        return;
    bool ready = pred_ready(p);
    metrics_gauge_set(p->m.ready, ready);
    if (p->draining) {
        finish_drain(p);
        return;
    }
    if (!p->set.exit_when_caught_up || !ready || !p->finished || p->reads_inflight)
        return;
    unsigned streams = 0;
    for (const pred_launch *l = p->launches; l; l = l->next) {
        if (l->npolicies == 0)
            continue;
        if (!l->caught_up || l->own_pending)
            return;
        streams++;
    }
    if (streams == 0)
        return;
    uint64_t now = lo_wall_ms();
    uint64_t ms = p->first_read_ms && now > p->first_read_ms ? now - p->first_read_ms : 0;
    log_info("predictor", "caught up", LF_UINT("applied", p->applied_total), LF_UINT("ms", ms),
             LF_DBL("events_per_s", ms ? (double)p->applied_total * 1000.0 / (double)ms : 0));
    void (*finished)(void *) = p->finished;
    p->finished = NULL;
    finished(p->finished_arg);
}

/* ---- Redis state ---- */

static void redis_gauge(pred *p)
{
    metrics_gauge_set(p->m.redis_up, rds_is_up(p->rc) && rds_is_up(p->rb));
}

static void on_state_cmd(rds *r, rds_event ev, void *arg)
{
    pred *p = arg;
    if (p->closing)
        return;
    redis_gauge(p);
    if (ev == RDS_UP) {
        log_info("predictor", "redis up", LF_STR("connection", "commands"));
        pred_consume_reset(p); /* groups may have vanished with a restart */
        pred_rebuild_kick(p);
        pred_policies_sync(p);
    } else if (ev == RDS_DOWN) {
        log_warn("predictor", "redis down", LF_STR("connection", "commands"),
                 LF_STR("reason", rds_error(r)));
    }
    pred_state_changed(p);
}

static void on_state_block(rds *r, rds_event ev, void *arg)
{
    pred *p = arg;
    if (p->closing)
        return;
    redis_gauge(p);
    if (ev == RDS_UP) {
        log_info("predictor", "redis up", LF_STR("connection", "reads"));
        for (pred_launch *l = p->launches; l; l = l->next) {
            l->own_pending = true;
            l->own_cursor = (pred_id){ 0, 0 };
        }
        p->reader_behind = false;
        pred_consume_kick(p);
    } else if (ev == RDS_DOWN) {
        log_warn("predictor", "redis down", LF_STR("connection", "reads"),
                 LF_STR("reason", rds_error(r)));
    }
    pred_state_changed(p);
}

static void on_state_sub(rds *r, rds_event ev, void *arg)
{
    (void)r;
    pred *p = arg;
    if (p->closing)
        return;
    if (ev == RDS_UP)
        pred_policies_sync(p); /* announcements may have been missed */
}

static void on_message(rds *r, const rds_msg *m, void *arg)
{
    (void)r;
    pred *p = arg;
    if (p->closing || m->kind != RDS_MSG_MESSAGE)
        return;
    pred_policies_message(p, m->data, m->data_len);
}

/* ---- timers ---- */

static void on_publish_timer(ev_loop *loop, ev_timer *t, void *arg)
{
    pred *p = arg;
    pred_observed_fetch_all(p);
    pred_publish_all(p);
    pred_consume_kick(p); /* retries a read that failed */
    pred_rebuild_kick(p);
    ev_timer_start(loop, t, p->set.publish_interval_ms);
}

static void on_claim_timer(ev_loop *loop, ev_timer *t, void *arg)
{
    pred *p = arg;
    pred_consume_claim(p);
    ev_timer_start(loop, t, p->set.claim_interval_ms);
}

static void on_resync_timer(ev_loop *loop, ev_timer *t, void *arg)
{
    pred *p = arg;
    pred_policies_sync(p);
    ev_timer_start(loop, t, p->set.policy_resync_ms);
}

static void on_early_timer(ev_loop *loop, ev_timer *t, void *arg)
{
    (void)loop;
    (void)t;
    pred_publish_early_due(arg);
}

/* ---- the graceful stop ---- */

static void on_drain_timer(ev_loop *loop, ev_timer *t, void *arg)
{
    (void)loop;
    (void)t;
    finish_drain(arg);
}

static void finish_drain(pred *p)
{
    if (!p->draining || !p->drain_done)
        return;
    if (p->reads_inflight > 0)
        return; /* on_read calls again */
    if (!p->drain_published) {
        p->drain_published = true;
        p->drain_began = lo_mono_ms();
        pred_publish_all(p);
    }
    rds_stats st;
    rds_get_stats(p->rc, &st);
    if (st.pending > 0 && st.up && lo_mono_ms() - p->drain_began < PRED_DRAIN_WAIT_MS) {
        if (!ev_timer_active(&p->drain_timer))
            ev_timer_start(p->loop, &p->drain_timer, DRAIN_POLL_MS);
        return;
    }
    void (*done)(void *) = p->drain_done;
    p->drain_done = NULL;
    log_info("predictor", "stopped", LF_UINT("applied", p->applied_total));
    done(p->drain_arg);
}

void pred_drain(pred *p, void (*done)(void *arg), void *arg)
{
    if (p->draining)
        return;
    p->draining = true;
    p->drain_done = done;
    p->drain_arg = arg;
    ev_timer_stop(p->loop, &p->claim_timer);
    ev_timer_stop(p->loop, &p->resync_timer);
    ev_timer_stop(p->loop, &p->publish_timer);
    ev_timer_stop(p->loop, &p->early_timer);
    finish_drain(p);
}

void pred_on_finished(pred *p, void (*done)(void *arg), void *arg)
{
    p->finished = done;
    p->finished_arg = arg;
}

/* ---- create / free ---- */

static char *default_consumer(void)
{
    char host[HOSTNAME_MAX] = "";
    if (gethostname(host, sizeof host - 1) < 0 || !host[0])
        snprintf(host, sizeof host, "predictor");
    return xasprintf("%s-%ld", host, (long)getpid());
}

static void copy_settings(pred *p, const pred_settings *s)
{
    p->set = *s;
    p->set.redis_url = xstrdup(s->redis_url);
    p->set.listen_host = s->listen_host ? xstrdup(s->listen_host) : NULL;
    p->set.launch = xstrdup(s->launch);
    p->set.consumer = NULL;
    p->set.group = xstrdup(s->group);
    p->set.group_start = xstrdup(s->group_start);
    char **pols = xcalloc(s->npolicies + 1, sizeof *pols);
    for (size_t i = 0; i < s->npolicies; i++)
        pols[i] = xstrdup(s->policies[i]);
    p->set.policies = (const char *const *)pols;
    p->consumer = s->consumer && *s->consumer ? xstrdup(s->consumer) : default_consumer();
}

static int check_settings(const pred_settings *s, char *err, size_t errlen)
{
    if (!s->launch || !launch_name_valid(s->launch, strlen(s->launch))) {
        snprintf(err, errlen, "--launch must be 1..%d of [A-Za-z0-9_.-]", LAUNCH_NAME_MAX);
        return -EINVAL;
    }
    if (!s->group || !*s->group || strchr(s->group, ' ')) {
        snprintf(err, errlen, "--group must be a non-empty name");
        return -EINVAL;
    }
    pred_id id;
    if (strcmp(s->group_start, "$") != 0 &&
        pred_id_parse(s->group_start, strlen(s->group_start), &id) < 0) {
        snprintf(err, errlen, "--group-start must be $ or a stream id such as 0");
        return -EINVAL;
    }
    if (s->batch < 1 || s->batch > PRED_BATCH_MAX || s->block_ms < 1 ||
        s->publish_interval_ms < 1 || s->claim_interval_ms < 1 || s->policy_resync_ms < 1 ||
        !(s->change_threshold >= 0) || s->early_publish_interval_ms > PRED_EARLY_INTERVAL_MAX_MS ||
        !(s->early_publish_ratio >= 0)) {
        snprintf(err, errlen, "a count or interval is out of range");
        return -EINVAL;
    }
    return 0;
}

int pred_new(ev_loop *loop, const pred_settings *s, pred **out, char *err, size_t errlen)
{
    int rc = check_settings(s, err, errlen);
    if (rc < 0)
        return rc;
    pred *p = xcalloc(1, sizeof *p);
    p->loop = loop;
    copy_settings(p, s);
    ev_timer_init(&p->publish_timer, on_publish_timer, p);
    ev_timer_init(&p->claim_timer, on_claim_timer, p);
    ev_timer_init(&p->resync_timer, on_resync_timer, p);
    ev_timer_init(&p->drain_timer, on_drain_timer, p);
    ev_timer_init(&p->early_timer, on_early_timer, p);

    rc = pred_admin_new(loop, p->set.listen_host, p->set.listen_port, &p->m, admin_ready, p,
                        &p->admin, err, errlen);
    if (rc < 0)
        goto fail;
    rds_opts ro = { .url = p->set.redis_url, .on_state = on_state_cmd, .state_arg = p };
    if ((rc = rds_new(loop, &ro, &p->rc, err, errlen)) < 0)
        goto fail;
    rds_opts rb = { .url = p->set.redis_url, .on_state = on_state_block, .state_arg = p };
    if ((rc = rds_new(loop, &rb, &p->rb, err, errlen)) < 0)
        goto fail;
    rds_opts rs = { .url = p->set.redis_url, .on_state = on_state_sub, .state_arg = p,
                    .on_message = on_message, .message_arg = p };
    if ((rc = rds_new(loop, &rs, &p->rs, err, errlen)) < 0)
        goto fail;
    if ((rc = rds_subscribe(p->rs, PRED_POLICY_CHANNEL)) < 0) {
        snprintf(err, errlen, "cannot subscribe to %s", PRED_POLICY_CHANNEL);
        goto fail;
    }
    if ((rc = pred_policies_static(p, err, errlen)) < 0)
        goto fail;
    redis_gauge(p);
    ev_timer_start(loop, &p->publish_timer, p->set.publish_interval_ms);
    ev_timer_start(loop, &p->claim_timer, p->set.claim_interval_ms);
    ev_timer_start(loop, &p->resync_timer, p->set.policy_resync_ms);
    log_info("predictor", "started", LF_STR("consumer", p->consumer),
             LF_STR("group", p->set.group), LF_INT("admin_port", pred_admin_port(p->admin)));
    *out = p;
    return 0;
fail:
    pred_free(p);
    return rc;
}

int pred_port(const pred *p)
{
    return pred_admin_port(p->admin);
}

void pred_free(pred *p)
{
    if (!p)
        return;
    p->closing = true;
    ev_timer_stop(p->loop, &p->publish_timer);
    ev_timer_stop(p->loop, &p->claim_timer);
    ev_timer_stop(p->loop, &p->resync_timer);
    ev_timer_stop(p->loop, &p->drain_timer);
    ev_timer_stop(p->loop, &p->early_timer);
    rds_free(p->rs);
    rds_free(p->rb);
    rds_free(p->rc);
    pred_policies_free(p);
    pred_launches_free(p);
    pred_admin_free(p->admin);
    free((char *)p->set.redis_url);
    free((char *)p->set.listen_host);
    free((char *)p->set.launch);
    free((char *)p->set.group);
    free((char *)p->set.group_start);
    for (size_t i = 0; i < p->set.npolicies; i++)
        free((char *)p->set.policies[i]);
    free((void *)p->set.policies);
    free(p->consumer);
    free(p->ack_argv);
    free(p->ack_len);
    free(p);
}
