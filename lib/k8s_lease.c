/* k8s_lease.c — the leader election loop on a Lease (see k8s_lease.h):
 * read, claim or renew with a guarded write, a renew deadline timer, and
 * the release. One request in flight at a time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "log.h"

#include "k8s_lease.h"

struct k8s_lease {
    k8s_client *c;
    ev_loop *loop;
    char *ns, *name;
    char identity[K8S_LEASE_IDENTITY_MAX];
    uint64_t duration_ms, renew_ms, retry_ms;
    k8s_lease_change_cb *on_change;
    void *arg;
    ev_timer tick;              /* next read */
    ev_timer deadline;          /* leader: renew deadline */
    ev_timer release_timer;     /* bounds k8s_lease_release() */
    bool busy;                  /* a request is in flight */
    bool leading;
    bool stopped;               /* released: no more rounds */
    bool releasing;             /* the released Lease is being written */
    unsigned conflicts;         /* 409s in this round */
    uint64_t write_sent_ms;     /* monotonic: when the last write was sent */
    json_t *last;               /* the Lease as last read or written */
    k8s_lease_observed obs;
    void (*done)(void *arg);
    void *done_arg;
};

static void round_start(k8s_lease *l);

int k8s_lease_opts_check(const k8s_lease_opts *o, char *err, size_t errlen)
{
    uint64_t dur = o->duration_ms ? o->duration_ms : K8S_LEASE_DURATION_MS;
    uint64_t renew = o->renew_deadline_ms ? o->renew_deadline_ms : K8S_LEASE_RENEW_DEADLINE_MS;
    uint64_t retry = o->retry_ms ? o->retry_ms : K8S_LEASE_RETRY_MS;
    if (!o->ns || !k8s_name_valid(o->ns) || !o->name || !k8s_name_valid(o->name)) {
        snprintf(err, errlen, "the lease namespace and name must be valid object names");
        return -EINVAL;
    }
    if (!o->identity || !*o->identity || strlen(o->identity) >= K8S_LEASE_IDENTITY_MAX) {
        snprintf(err, errlen, "the identity must be 1 to %d bytes", K8S_LEASE_IDENTITY_MAX - 1);
        return -EINVAL;
    }
    if (dur % 1000 != 0 || dur > (uint64_t)INT32_MAX * 1000u) {
        snprintf(err, errlen, "the lease duration must be whole seconds");
        return -EINVAL;
    }
    /* client-go: duration > renew deadline > 1.2 * retry period */
    if (!(dur > renew && renew * 10 > retry * 12)) {
        snprintf(err, errlen,
                 "need lease duration > renew deadline > 1.2 x retry period (got %llu ms, "
                 "%llu ms, %llu ms)",
                 (unsigned long long)dur, (unsigned long long)renew, (unsigned long long)retry);
        return -EINVAL;
    }
    return 0;
}

static void schedule(k8s_lease *l)
{
    if (l->stopped)
        return;
    ev_timer_start(l->loop, &l->tick,
                   l->leading ? l->retry_ms : lo_jitter_ms(l->retry_ms, K8S_LEASE_RETRY_JITTER));
}

static void stop_leading(k8s_lease *l, const char *why)
{
    if (!l->leading)
        return;
    l->leading = false;
    ev_timer_stop(l->loop, &l->deadline);
    log_warn("lease", "stopped leading", LF_STR("lease", l->name), LF_STR("namespace", l->ns),
             LF_STR("identity", l->identity), LF_STR("why", why));
    l->on_change(l, false, l->arg);
}

static void keep(k8s_lease *l, const json_t *obj)
{
    json_t *old = l->last;
    l->last = json_incref((json_t *)obj);
    json_decref(old);
}

/* ---- release ---- */

static void release_finish(k8s_lease *l)
{
    if (!l->releasing)
        return;
    l->releasing = false;
    ev_timer_stop(l->loop, &l->release_timer);
    l->done(l->done_arg);
}

static void on_released(const k8s_response *r, void *arg)
{
    k8s_lease *l = arg;
    l->busy = false;
    if (r->rc == 0)
        log_info("lease", "released", LF_STR("lease", l->name), LF_STR("namespace", l->ns),
                 LF_STR("identity", l->identity));
    else
        log_warn("lease", "release failed; the lease expires instead", LF_STR("lease", l->name),
                 LF_STR("reason", r->message));
    release_finish(l);
}

static void release_write(k8s_lease *l)
{
    k8s_lease_record rec;
    /* only a Lease this process holds is given up */
    if (!l->last || k8s_lease_record_parse(l->last, &rec) < 0 ||
        strcmp(rec.holder, l->identity) != 0) {
        ev_timer_start(l->loop, &l->release_timer, 0);   /* done on the next turn */
        return;
    }
    json_t *obj = k8s_lease_release_build(l->last, lo_wall_ms());
    int rc = obj ? k8s_update(l->c, &k8s_res_leases, l->ns, obj, NULL, on_released, l) : -EINVAL;
    json_decref(obj);
    if (rc == 0)
        l->busy = true;
    else
        ev_timer_start(l->loop, &l->release_timer, 0);
}

static void on_release_timeout(ev_loop *loop, ev_timer *t, void *arg)
{
    (void)loop;
    (void)t;
    k8s_lease *l = arg;
    if (l->busy)
        log_warn("lease", "release timed out; the lease expires instead",
                 LF_STR("lease", l->name));
    release_finish(l);
}

void k8s_lease_release(k8s_lease *l, void (*done)(void *arg), void *arg)
{
    bool was_leading = l->leading;
    l->stopped = true;
    ev_timer_stop(l->loop, &l->tick);
    l->done = done;
    l->done_arg = arg;
    l->releasing = true;
    /* not leading: nothing to write, done on the next loop turn */
    ev_timer_start(l->loop, &l->release_timer, was_leading ? K8S_LEASE_RELEASE_TIMEOUT_MS : 0);
    if (!was_leading)
        return;
    stop_leading(l, "released");
    if (!l->busy)
        release_write(l);   /* else when the request in flight ends */
}

/* ---- the rounds ---- */

/* A request ended after k8s_lease_release(): write the release now. */
static bool divert_to_release(k8s_lease *l, const k8s_response *r)
{
    if (!l->stopped)
        return false;
    if (l->releasing && r->rc == 0 && r->body)
        keep(l, r->body);
    if (l->releasing)
        release_write(l);
    return true;
}

static void on_written(const k8s_response *r, void *arg)
{
    k8s_lease *l = arg;
    l->busy = false;
    if (divert_to_release(l, r))
        return;
    if (r->rc == 0) {
        k8s_lease_record rec;
        keep(l, r->body);
        if (k8s_lease_record_parse(r->body, &rec) == 0)
            k8s_lease_observe(&l->obs, &rec, lo_mono_ms());
        uint64_t now = lo_mono_ms(), until = l->write_sent_ms + l->renew_ms;
        ev_timer_start(l->loop, &l->deadline, until > now ? until - now : 0);
        if (!l->leading) {
            l->leading = true;
            log_info("lease", "became leader", LF_STR("lease", l->name),
                     LF_STR("namespace", l->ns), LF_STR("identity", l->identity));
            l->on_change(l, true, l->arg);
        }
        schedule(l);
        return;
    }
    if ((r->rc == K8S_ECONFLICT || r->rc == K8S_EEXISTS) && l->conflicts++ == 0) {
        /* another candidate wrote first: read again at once */
        log_debug("lease", "conflict; reading again", LF_STR("lease", l->name));
        round_start(l);
        return;
    }
    if (r->rc != K8S_ECONFLICT && r->rc != K8S_EEXISTS)
        log_warn_limited("lease", "write failed", LF_STR("lease", l->name),
                         LF_STR("reason", r->message));
    schedule(l);
}

static void claim(k8s_lease *l, const json_t *old)
{
    json_t *obj = k8s_lease_claim_build(old, l->ns, l->name, l->identity,
                                        (uint32_t)(l->duration_ms / 1000), lo_wall_ms());
    l->write_sent_ms = lo_mono_ms();
    int rc = old ? k8s_update(l->c, &k8s_res_leases, l->ns, obj, NULL, on_written, l)
                 : k8s_create(l->c, &k8s_res_leases, l->ns, obj, on_written, l);
    json_decref(obj);
    if (rc == 0)
        l->busy = true;
    else
        schedule(l);
}

static void on_read(const k8s_response *r, void *arg)
{
    k8s_lease *l = arg;
    l->busy = false;
    if (divert_to_release(l, r))
        return;
    if (r->rc == K8S_ENOTFOUND) {
        claim(l, NULL);
        return;
    }
    k8s_lease_record rec;
    if (r->rc < 0 || k8s_lease_record_parse(r->body, &rec) < 0) {
        log_warn_limited("lease", "cannot read the lease", LF_STR("lease", l->name),
                         LF_STR("namespace", l->ns),
                         LF_STR("reason", r->rc < 0 ? r->message : "no spec"));
        schedule(l);
        return;
    }
    keep(l, r->body);
    uint64_t now = lo_mono_ms();
    k8s_lease_observe(&l->obs, &rec, now);
    if (k8s_lease_held_by_other(&l->obs, l->identity, now)) {
        stop_leading(l, "another candidate holds the lease");
        schedule(l);
        return;
    }
    claim(l, r->body);
}

static void round_start(k8s_lease *l)
{
    if (l->stopped || l->busy)
        return;
    if (k8s_get(l->c, &k8s_res_leases, l->ns, l->name, on_read, l) == 0)
        l->busy = true;
    else
        schedule(l);
}

static void on_tick(ev_loop *loop, ev_timer *t, void *arg)
{
    (void)loop;
    (void)t;
    k8s_lease *l = arg;
    l->conflicts = 0;
    round_start(l);
}

static void on_deadline(ev_loop *loop, ev_timer *t, void *arg)
{
    (void)loop;
    (void)t;
    stop_leading(arg, "no renewal within the renew deadline");
}

k8s_lease *k8s_lease_new(k8s_client *c, const k8s_lease_opts *o, char *err, size_t errlen)
{
    if (k8s_lease_opts_check(o, err, errlen) < 0 || !o->on_change) {
        if (!o->on_change)
            snprintf(err, errlen, "no on_change callback");
        return NULL;
    }
    k8s_lease *l = xcalloc(1, sizeof *l);
    l->c = c;
    l->loop = k8s_client_loop(c);
    l->ns = xstrdup(o->ns);
    l->name = xstrdup(o->name);
    snprintf(l->identity, sizeof l->identity, "%s", o->identity);
    l->duration_ms = o->duration_ms ? o->duration_ms : K8S_LEASE_DURATION_MS;
    l->renew_ms = o->renew_deadline_ms ? o->renew_deadline_ms : K8S_LEASE_RENEW_DEADLINE_MS;
    l->retry_ms = o->retry_ms ? o->retry_ms : K8S_LEASE_RETRY_MS;
    l->on_change = o->on_change;
    l->arg = o->arg;
    ev_timer_init(&l->tick, on_tick, l);
    ev_timer_init(&l->deadline, on_deadline, l);
    ev_timer_init(&l->release_timer, on_release_timeout, l);
    ev_timer_start(l->loop, &l->tick, 0);
    return l;
}

bool k8s_lease_leading(const k8s_lease *l)
{
    return l->leading;
}

bool k8s_lease_idle(const k8s_lease *l)
{
    return !l->busy;
}

void k8s_lease_free(k8s_lease *l)
{
    if (!l)
        return;
    ev_timer_stop(l->loop, &l->tick);
    ev_timer_stop(l->loop, &l->deadline);
    ev_timer_stop(l->loop, &l->release_timer);
    json_decref(l->last);
    free(l->ns);
    free(l->name);
    free(l);
}
