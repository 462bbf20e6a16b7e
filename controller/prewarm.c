/* prewarm.c — pod informers and pre-warm rounds over libcurl's multi
 * interface (see prewarm.h; the decisions are in prewarm_plan.c). */
#include "prewarm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "curl_loop.h"
#include "log.h"

#include "prewarm_plan.h"

#define CTL_PREWARM_PARALLEL_MAX 64       /* POSTs in flight per round */
#define CTL_PREWARM_WHY_MAX 256           /* one pod's failure, with the NUL */
#define CTL_PREWARM_TIMER_MAX_MS 3600000u /* the launch timer re-checks at least hourly */

static const k8s_res res_pods = K8S_RES("", "v1", "pods");

struct ctl_prewarm_svc {
    curlm *curl;
    metrics_counter *rounds, *round_failures, *pods_warmed, *pods_failed;
};

typedef struct warm_round warm_round;

/* One pod's POST. */
typedef struct warm_req {
    warm_round *round;
    curlm_xfer *x;              /* in flight; NULL before and after */
    bool done;
    char pod[CTL_NAME_MAX];
    char ip[CTL_PREWARM_IP_MAX];
} warm_req;

struct warm_round {
    ctl_prewarm *pw;
    ctl_prewarm_trigger trigger;
    int64_t launch_at_ms;
    uint64_t deadline_ms;       /* monotonic: every POST ends by then */
    uint32_t n, next, pending, ok, failed, skipped;
    char first_failure[CTL_PREWARM_WHY_MAX + CTL_NAME_MAX + CTL_PREWARM_IP_MAX + 8];
    warm_req *reqs;             /* n of them */
};

struct ctl_prewarm {
    ctl_pol *p;
    ctl_prewarm_spec spec;
    ctl_prewarm_arm arm;
    bool seeded;                /* arm restored from the status once */
    bool waiting_pods;          /* a round was due before the pods were listed */
    k8s_informer *pods;
    char selector[CTL_PREWARM_SELECTOR_MAX];
    ev_timer at;                /* fires at launchAt - prewarmBefore */
    warm_round *round;          /* in flight, or NULL */
    ctl_prewarm_result last;
};

/* ------------------------------------------------------------ controller */

int ctl_prewarm_start(ctl *c, char *err, size_t errlen)
{
    ctl_prewarm_svc *s = xcalloc(1, sizeof *s);
    s->curl = curlm_new(c->loop);
    if (!s->curl) {
        free(s);
        snprintf(err, errlen, "cannot start libcurl for pre-warming");
        return -EIO;
    }
    s->rounds = metrics_counter_new(c->reg, "liftoff_controller_prewarm_rounds_total",
                                    "Pre-warm rounds started (POSTs to the sidecars)");
    s->round_failures = metrics_counter_new(c->reg,
                                            "liftoff_controller_prewarm_failures_total",
                                            "Pre-warm rounds with at least one pod failed");
    s->pods_warmed = metrics_counter_new(c->reg, "liftoff_controller_prewarm_pods_warmed_total",
                                         "Pods whose sidecar accepted every path");
    s->pods_failed = metrics_counter_new(c->reg, "liftoff_controller_prewarm_pods_failed_total",
                                         "Pods that failed or missed the deadline");
    c->prewarm = s;
    return 0;
}

void ctl_prewarm_stop(ctl *c)
{
    for (size_t i = 0; i < c->npols; i++) {
        ctl_prewarm_free(c->pols[i]->pw);
        c->pols[i]->pw = NULL;
    }
    if (c->prewarm) {
        curlm_free(c->prewarm->curl);
        free(c->prewarm);
        c->prewarm = NULL;
    }
}

/* ------------------------------------------------------------ rounds */

static void round_free(warm_round *r)
{
    for (uint32_t i = 0; i < r->n; i++)
        if (r->reqs[i].x)
            curlm_cancel(r->reqs[i].x);
    free(r->reqs);
    free(r);
}

static void post_event(ctl_pol *p, const ctl_prewarm_result *res)
{
    json_t *ev = ctl_prewarm_event_build(&p->spec, res, lo_wall_ms());
    k8s_create(p->c->k8s, &ctl_res_events, p->spec.ns, ev, NULL, NULL);
    json_decref(ev);
}

static void round_finish(warm_round *r)
{
    ctl_prewarm *pw = r->pw;
    ctl_pol *p = pw->p;
    ctl_prewarm_svc *s = p->c->prewarm;
    ctl_prewarm_result *res = &pw->last;
    memset(res, 0, sizeof *res);
    res->have = true;
    res->trigger = r->trigger;
    res->launch_at_ms = r->launch_at_ms;
    res->paths = (uint32_t)pw->spec.npaths;
    res->pods = r->n + r->skipped;
    res->succeeded = r->ok;
    res->failed = r->failed + r->skipped;
    ctl_time_format(lo_wall_ms(), res->time);
    if (res->failed == 0)
        snprintf(res->message, sizeof res->message,
                 "%s: %u paths warmed on %u pods of Deployment %.253s",
                 ctl_prewarm_trigger_name(r->trigger), res->paths, res->pods, p->spec.target);
    else
        snprintf(res->message, sizeof res->message,
                 "%s: %u paths warmed on %u of %u pods of Deployment %.100s; %u failed, first: %.300s",
                 ctl_prewarm_trigger_name(r->trigger), res->paths, res->succeeded, res->pods,
                 p->spec.target, res->failed,
                 r->first_failure[0] ? r->first_failure : "too many pods");
    metrics_counter_add(s->pods_warmed, res->succeeded);
    metrics_counter_add(s->pods_failed, res->failed);
    if (res->failed)
        metrics_counter_inc(s->round_failures);
    if (res->failed)
        log_warn("controller", "pre-warm failed", LF_STR("namespace", p->spec.ns),
                 LF_STR("policy", p->spec.name), LF_UINT("pods", res->pods),
                 LF_UINT("failed", res->failed), LF_STR("first", r->first_failure));
    else
        log_info("controller", "pre-warmed", LF_STR("namespace", p->spec.ns),
                 LF_STR("policy", p->spec.name), LF_UINT("pods", res->pods),
                 LF_UINT("paths", res->paths),
                 LF_STR("trigger", ctl_prewarm_trigger_name(r->trigger)));
    pw->round = NULL;
    round_free(r);
    if (!p->removed) {
        post_event(p, res);
        ctl_reconcile(p);   /* writes the status with the result */
    }
}

static void req_failed(warm_req *q, const char *why)
{
    warm_round *r = q->round;
    r->failed++;
    if (!r->first_failure[0])
        snprintf(r->first_failure, sizeof r->first_failure, "%.253s (%s): %.200s", q->pod, q->ip, why);
}

static void round_pump(warm_round *r);

static void on_warm_done(curlm_xfer *x, const curlm_result *res, void *arg)
{
    (void)x;
    warm_req *q = arg;
    warm_round *r = q->round;
    char why[CTL_PREWARM_WHY_MAX];
    q->x = NULL;
    q->done = true;
    r->pending--;
    if (res->code != CURLE_OK)
        req_failed(q, res->error[0] ? res->error : "transfer failed");
    else if (ctl_prewarm_answer_ok(res->status, buf_data(res->body), buf_len(res->body), why,
                                   sizeof why) < 0)
        req_failed(q, why);
    else
        r->ok++;
    round_pump(r);
}

/* Starts POSTs up to the parallel limit; finishes the round when all are
 * done. Each POST's timeout is what is left of the round's deadline. */
static void round_pump(warm_round *r)
{
    ctl_prewarm *pw = r->pw;
    curlm *m = pw->p->c->prewarm->curl;
    char url[CTL_PREWARM_URL_MAX];
    while (r->next < r->n && r->pending < CTL_PREWARM_PARALLEL_MAX) {
        warm_req *q = &r->reqs[r->next++];
        uint64_t now = lo_mono_ms();
        if (now >= r->deadline_ms) {
            q->done = true;
            req_failed(q, "the round's deadline passed before it was asked");
            continue;
        }
        if (ctl_prewarm_url(q->ip, pw->spec.admin_port, url, sizeof url) < 0) {
            q->done = true;
            req_failed(q, "status.podIP is not an IP address");
            continue;
        }
        long left = (long)(r->deadline_ms - now);
        curlm_xfer *x = curlm_xfer_new(m, url, on_warm_done, q);
        CURL *e = curlm_easy(x);
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, pw->spec.body);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, left);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                         left < CURLM_CONNECT_TIMEOUT_MS ? left : CURLM_CONNECT_TIMEOUT_MS);
        curlm_xfer_add_header(x, "Content-Type: application/json");
        curlm_xfer_add_header(x, "Expect:");
        curlm_xfer_set_body_max(x, CTL_PREWARM_ANSWER_MAX);
        if (curlm_start(x) < 0) {
            q->done = true;
            req_failed(q, "libcurl refused the request");
            continue;
        }
        q->x = x;
        r->pending++;
    }
    if (r->pending == 0 && r->next == r->n)
        round_finish(r);
}

typedef struct pod_list {
    warm_req *reqs;
    uint32_t n, skipped;
} pod_list;

static void collect_pod(const char *key, const json_t *pod, void *arg)
{
    (void)key;
    pod_list *l = arg;
    const char *ip, *name = k8s_meta_str(pod, "name");
    if (!name || !ctl_prewarm_pod_ready(pod, &ip))
        return;
    if (l->n >= CTL_PREWARM_PODS_MAX || strlen(ip) >= CTL_PREWARM_IP_MAX) {
        l->skipped++;
        return;
    }
    warm_req *q = &l->reqs[l->n++];
    memset(q, 0, sizeof *q);
    snprintf(q->pod, sizeof q->pod, "%s", name);
    snprintf(q->ip, sizeof q->ip, "%s", ip);
}

/* DryRun: what a round would do, as its result. */
static void report_dry_run(ctl_prewarm *pw, ctl_prewarm_trigger t, const pod_list *l)
{
    ctl_prewarm_result *res = &pw->last;
    memset(res, 0, sizeof *res);
    res->have = res->dry_run = true;
    res->trigger = t;
    res->launch_at_ms = pw->spec.launch_at_ms;
    res->paths = (uint32_t)pw->spec.npaths;
    res->pods = l->n + l->skipped;
    ctl_time_format(lo_wall_ms(), res->time);
    int k = snprintf(res->message, sizeof res->message,
                     "DryRun (%s): would POST %u paths to /warm on port %u of %u pods:",
                     ctl_prewarm_trigger_name(t), res->paths, (unsigned)pw->spec.admin_port,
                     res->pods);
    for (uint32_t i = 0; i < l->n && k > 0 && (size_t)k < sizeof res->message; i++)
        k += snprintf(res->message + k, sizeof res->message - (size_t)k, "%s %s (%s)",
                      i ? "," : "", l->reqs[i].pod, l->reqs[i].ip);
    log_info("controller", "pre-warm (dry run)", LF_STR("namespace", pw->p->spec.ns),
             LF_STR("policy", pw->p->spec.name), LF_UINT("pods", res->pods));
    post_event(pw->p, res);
}

/* ------------------------------------------------------------ pods */

static void on_pods_synced(k8s_informer *inf, void *arg)
{
    (void)inf;
    ctl_prewarm *pw = arg;
    if (pw->waiting_pods) {
        pw->waiting_pods = false;
        ctl_reconcile(pw->p);
    }
}

/* Keeps the pod informer on the Deployment's selector. */
static void follow_pods(ctl_prewarm *pw, const char *sel)
{
    if (!sel || !*sel || strlen(sel) >= sizeof pw->selector ||
        (pw->pods && strcmp(sel, pw->selector) == 0))
        return;
    k8s_informer_free(pw->pods);
    snprintf(pw->selector, sizeof pw->selector, "%s", sel);
    k8s_informer_opts o = { .label_selector = pw->selector };
    k8s_informer_cbs cbs = { .on_synced = on_pods_synced };
    pw->pods = k8s_informer_new(pw->p->c->k8s, &res_pods, pw->p->spec.ns, &o, &cbs, pw);
    if (!pw->pods)
        log_warn("controller", "cannot watch the target's pods", LF_STR("policy", pw->p->spec.name),
                 LF_STR("selector", sel));
}

/* ------------------------------------------------------------ launch timer */

static void on_launch_timer(ev_loop *loop, ev_timer *t, void *arg)
{
    (void)loop;
    (void)t;
    ctl_prewarm *pw = arg;
    ctl_reconcile(pw->p);
}

/* Reconciles at launchAt - prewarmBefore, so the scheduled round does not
 * wait for the next resync. */
static void arm_launch_timer(ctl_prewarm *pw)
{
    ev_loop *loop = pw->p->c->loop;
    int64_t start = pw->spec.launch_at_ms - (int64_t)pw->spec.before_ms;
    int64_t now = (int64_t)lo_wall_ms();
    if (pw->spec.npaths == 0 || pw->spec.launch_at_ms <= 0 ||
        pw->arm.done_launch_at_ms == pw->spec.launch_at_ms || start <= now ||
        pw->p->spec.mode == CTL_MODE_PAUSED) {
        ev_timer_stop(loop, &pw->at);
        return;
    }
    uint64_t after = (uint64_t)(start - now);
    ev_timer_start(loop, &pw->at, after < CTL_PREWARM_TIMER_MAX_MS ? after
                                                                    : CTL_PREWARM_TIMER_MAX_MS);
}

/* ------------------------------------------------------------ hooks */

void ctl_prewarm_update(ctl_pol *p, const json_t *obj)
{
    char err[256];
    ctl_prewarm_spec spec;
    if (ctl_prewarm_spec_parse(json_object_get(obj, "spec"), &spec, err, sizeof err) < 0)
        log_warn("controller", "pre-warming off", LF_STR("namespace", p->spec.ns),
                 LF_STR("policy", p->spec.name), LF_STR("reason", err));
    if (spec.npaths == 0 && !p->pw)
        return;
    if (!p->pw) {
        p->pw = xcalloc(1, sizeof *p->pw);
        p->pw->p = p;
        ev_timer_init(&p->pw->at, on_launch_timer, p->pw);
    }
    ctl_prewarm *pw = p->pw;
    if (!pw->seeded) {
        ctl_prewarm_arm_from_status(json_object_get(obj, "status"), &pw->arm);
        pw->seeded = true;
    }
    ctl_prewarm_spec_clear(&pw->spec);
    pw->spec = spec;
    if (spec.npaths == 0 && pw->pods) {   /* turned off: stop watching pods */
        k8s_informer_free(pw->pods);
        pw->pods = NULL;
        pw->selector[0] = '\0';
    }
    arm_launch_timer(pw);
}

void ctl_prewarm_check(ctl_pol *p, const char *selector)
{
    ctl_prewarm *pw = p->pw;
    if (!pw || pw->spec.npaths == 0 || p->spec.mode == CTL_MODE_PAUSED || !p->c->prewarm)
        return;
    if (selector && *selector)
        follow_pods(pw, selector);
    arm_launch_timer(pw);
    if (pw->round)
        return;
    bool fresh = p->decision.signal == CTL_SIGNAL_OK;
    double factor = p->fc.have ? p->fc.factor : 0;
    ctl_prewarm_trigger t = ctl_prewarm_due(&pw->spec, &pw->arm, fresh, factor, lo_wall_ms());
    if (t == CTL_PREWARM_NONE)
        return;
    if (!pw->pods || !k8s_informer_synced(pw->pods)) {
        pw->waiting_pods = true;   /* the informer's first list reconciles again */
        return;
    }
    pod_list l = { xcalloc(CTL_PREWARM_PODS_MAX, sizeof *l.reqs), 0, 0 };
    k8s_informer_foreach(pw->pods, collect_pod, &l);
    if (l.n == 0) {   /* stays due: the next reconcile looks again */
        log_debug("controller", "pre-warm due, no ready pods", LF_STR("policy", p->spec.name));
        free(l.reqs);
        return;
    }
    ctl_prewarm_fired(&pw->spec, &pw->arm, t, fresh && factor >= pw->spec.threshold_factor);
    if (p->spec.mode == CTL_MODE_DRY_RUN) {
        report_dry_run(pw, t, &l);
        free(l.reqs);
        return;
    }
    warm_round *r = xcalloc(1, sizeof *r);
    r->pw = pw;
    r->trigger = t;
    r->launch_at_ms = pw->spec.launch_at_ms;
    r->deadline_ms = lo_mono_ms() + pw->spec.timeout_ms;
    r->n = l.n;
    r->skipped = l.skipped;
    r->reqs = xrealloc(l.reqs, l.n * sizeof *l.reqs);
    for (uint32_t i = 0; i < r->n; i++)
        r->reqs[i].round = r;
    pw->round = r;
    metrics_counter_inc(p->c->prewarm->rounds);
    log_info("controller", "pre-warming", LF_STR("namespace", p->spec.ns),
             LF_STR("policy", p->spec.name), LF_STR("trigger", ctl_prewarm_trigger_name(t)),
             LF_UINT("pods", r->n), LF_UINT("paths", pw->spec.npaths));
    round_pump(r);   /* may finish at once (every POST refused by curl) */
}

void ctl_prewarm_status(ctl_pol *p, json_t *st, const json_t *prev)
{
    if (p->pw && p->pw->last.have)
        ctl_prewarm_status_put(st, &p->pw->last);
    ctl_prewarm_status_keep(st, prev);   /* what this process has not replaced */
}

void ctl_prewarm_free(ctl_prewarm *pw)
{
    if (!pw)
        return;
    if (pw->round)
        round_free(pw->round);
    ev_timer_stop(pw->p->c->loop, &pw->at);
    k8s_informer_free(pw->pods);
    ctl_prewarm_spec_clear(&pw->spec);
    free(pw);
}
