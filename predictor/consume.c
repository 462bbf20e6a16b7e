/* consume.c — group reads, acknowledgements and claims of the engagement
 * streams (see consume.h). */
#include "consume.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "log.h"

#include "service_int.h"

#define ARG_NUM_MAX 24   /* a decimal argument */

/* One read in flight. */
typedef struct read_ctx {
    pred *p;
    uint64_t sent_ms;
    uint32_t block_ms;        /* 0: non-blocking */
    pred_launch *pending;     /* own-pending read of this launch, else NULL */
    unsigned n;
    pred_launch *l[PRED_LAUNCHES_MAX];
} read_ctx;

/* ---- launches and groups ---- */

static bool readable(const pred_launch *l)
{
    return l->group_ready && l->npolicies > 0 && l->rebuilding == 0;
}

static void on_group(rds *r, const redisReply *reply, int err, void *arg)
{
    (void)r;
    pred_launch *l = arg;
    pred *p = l->svc;
    l->group_busy = false;
    if (err == -ECANCELED || p->closing)
        return;
    if (err < 0) {
        log_warn_limited("predictor", "cannot create the consumer group", LF_ERR(err),
                         LF_STR("stream", l->stream));
        return; /* again after the reconnect */
    }
    if (reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "BUSYGROUP", 9) != 0) {
        log_error_limited("predictor", "cannot create the consumer group",
                          LF_STR("stream", l->stream), LF_STRN("redis_error", reply->str, reply->len));
        return; /* again with the next reconnect or claim round */
    }
    if (reply->type != REDIS_REPLY_ERROR)
        log_info("predictor", "consumer group created", LF_STR("stream", l->stream),
                 LF_STR("group", p->set.group), LF_STR("from", l->group_start));
    l->group_ready = true;
    l->group_start = "0"; /* re-created later only if it vanished: take everything */
    pred_state_changed(p);
    pred_consume_kick(p);
}

static void group_ensure(pred_launch *l)
{
    pred *p = l->svc;
    if (l->group_ready || l->group_busy)
        return;
    l->group_busy = true;
    rds_command(p->rc, on_group, l, "XGROUP CREATE %s %s %s MKSTREAM", l->stream, p->set.group,
                l->group_start);
}

pred_launch *pred_launch_get(pred *p, const char *name)
{
    for (pred_launch *l = p->launches; l; l = l->next)
        if (strcmp(l->name, name) == 0)
            return l;
    if (p->nlaunches >= PRED_LAUNCHES_MAX)
        return NULL;
    pred_launch *l = xcalloc(1, sizeof *l);
    l->svc = p;
    l->name = xstrdup(name);
    l->stream = xasprintf("liftoff:events:%s", name);
    l->group_start = p->set.group_start;
    l->own_pending = true;
    const char *const *lv = metrics_labels(name);
    l->m_consumed = metrics_counter_at(p->m.consumed, lv);
    l->m_applied = metrics_counter_at(p->m.applied, lv);
    l->m_skipped = metrics_counter_at(p->m.skipped, lv);
    l->m_invalid = metrics_counter_at(p->m.invalid, lv);
    l->m_claimed = metrics_counter_at(p->m.claimed, lv);
    l->next = p->launches;
    p->launches = l;
    p->nlaunches++;
    group_ensure(l);
    return l;
}

void pred_launches_free(pred *p)
{
    pred_launch *l = p->launches;
    while (l) {
        pred_launch *next = l->next;
        free(l->name);
        free(l->stream);
        free(l);
        l = next;
    }
    p->launches = NULL;
    p->nlaunches = 0;
}

void pred_consume_reset(pred *p)
{
    for (pred_launch *l = p->launches; l; l = l->next) {
        l->own_pending = true;
        l->own_cursor = (pred_id){ 0, 0 };
        l->group_ready = false;
        group_ensure(l);
    }
}

/* ---- applying entries ---- */

static void on_ack(rds *r, const redisReply *reply, int err, void *arg)
{
    (void)r;
    (void)arg;
    if (err == -ECANCELED)
        return;
    /* a lost acknowledgement leaves the entry pending: the claim round
     * finds it, and it is skipped as already applied */
    if (err < 0)
        log_warn_limited("predictor", "XACK failed", LF_ERR(err));
    else if (reply->type == REDIS_REPLY_ERROR)
        log_warn_limited("predictor", "XACK refused", LF_STRN("redis_error", reply->str, reply->len));
}

/* Collects the live policies of launch l into out (at most cap). */
static size_t live_policies(pred *p, const pred_launch *l, pred_policy **out, size_t cap)
{
    size_t n = 0;
    for (pred_policy *pol = p->policies; pol && n < cap; pol = pol->next)
        if (pol->launch == l && pol->have_track && !pol->rebuilding && !pol->dead)
            out[n++] = pol;
    return n;
}

/* Applies the entries of one reply (an array of [id, fields]) to the live
 * policies of l and acknowledges them (if ack). live: handed over by a '>'
 * read (the lag is measured from these). Returns the number of entries. */
static size_t apply_entries(pred_launch *l, const redisReply *entries, bool live, bool ack)
{
    pred *p = l->svc;
    if (!entries || entries->type != REDIS_REPLY_ARRAY || entries->elements == 0)
        return 0;
    size_t n = entries->elements;
    pred_policy *pols[PRED_POLICIES_MAX];
    size_t np = live_policies(p, l, pols, PRED_POLICIES_MAX);
    uint64_t ticks0[PRED_POLICIES_MAX];
    for (size_t k = 0; k < np; k++)
        ticks0[k] = pols[k]->track.ticks;

    /* the XACK arguments point into the reply; the arrays are kept */
    if (p->ack_cap < 3 + n) {
        p->ack_cap = 3 + n;
        p->ack_argv = xrealloc(p->ack_argv, p->ack_cap * sizeof *p->ack_argv);
        p->ack_len = xrealloc(p->ack_len, p->ack_cap * sizeof *p->ack_len);
    }
    const char **argv = p->ack_argv;
    size_t *argvlen = p->ack_len;
    int argc = 0;
    argv[argc] = "XACK";
    argvlen[argc++] = 4;
    argv[argc] = l->stream;
    argvlen[argc++] = strlen(l->stream);
    argv[argc] = p->set.group;
    argvlen[argc++] = strlen(p->set.group);

    uint64_t applied = 0, skipped = 0, invalid = 0;
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = entries->element[i];
        pred_entry pe;
        int rc = pred_entry_parse(e, &pe);
        if (rc == -EINVAL) {
            invalid++;
            continue;
        }
        argv[argc] = e->element[0]->str;
        argvlen[argc++] = e->element[0]->len;
        if (pred_id_cmp(pe.id, l->delivered_max) > 0)
            l->delivered_max = pe.id;
        if (rc < 0)
            invalid++;
        for (size_t k = 0; k < np; k++) {
            pred_policy *pol = pols[k];
            if (rc < 0) {
                pred_track_mark(&pol->track, pe.id);
                continue;
            }
            if (pred_track_apply(&pol->track, &pe) == 0) {
                skipped++;
                continue;
            }
            applied++;
            pol->dirty = true;
            if (live)
                pol->early_new = true;
            if (live && (!pol->lag_from_ms || pe.id.ms < pol->lag_from_ms))
                pol->lag_from_ms = pe.id.ms;
        }
    }
    if (ack && argc > 3)
        rds_command_argv(p->rc, argc, argv, argvlen, on_ack, p);

    for (size_t k = 0; k < np; k++) {
        uint64_t t = pols[k]->track.ticks - ticks0[k];
        if (t) {
            metrics_counter_add(p->m.ticks, t);
            pols[k]->dirty = true;
        }
    }
    metrics_counter_add(l->m_consumed, n);
    metrics_counter_add(l->m_applied, applied);
    metrics_counter_add(l->m_skipped, skipped);
    metrics_counter_add(l->m_invalid, invalid);
    p->applied_total += applied;
    return n;
}

/* The stream has been read up to clock_ms: tick the seconds done by then. */
static void caught_up(pred_launch *l, uint64_t clock_ms)
{
    pred *p = l->svc;
    l->caught_up = true;
    l->ever_caught_up = true;
    for (pred_policy *pol = p->policies; pol; pol = pol->next) {
        if (pol->launch != l || !pol->have_track || pol->rebuilding || pol->dead)
            continue;
        uint32_t t = pred_track_advance(&pol->track, clock_ms);
        if (t) {
            metrics_counter_add(p->m.ticks, t);
            pol->dirty = true;
        }
    }
}

/* ---- reads ---- */

static void issue_read(pred *p, read_ctx *c);

static void read_failed(read_ctx *c, int err, const redisReply *reply)
{
    pred *p = c->p;
    bool nogroup = reply && reply->type == REDIS_REPLY_ERROR && strncmp(reply->str, "NOGROUP", 7) == 0;
    if (err < 0)
        log_warn_limited("predictor", "stream read failed", LF_ERR(err),
                         LF_STR("redis", rds_error(p->rb)));
    else
        log_warn_limited("predictor", "stream read refused",
                         LF_STRN("redis_error", reply->str, reply->len));
    for (unsigned i = 0; i < c->n; i++) {
        pred_launch *l = c->l[i];
        /* the reply is lost, but its entries may be pending with us now */
        l->own_pending = true;
        l->own_cursor = (pred_id){ 0, 0 };
        if (nogroup) {
            l->group_ready = false;
            group_ensure(l);
        }
    }
    p->reader_behind = false;
}

/* The element of an XREADGROUP reply for stream, or NULL. */
static const redisReply *stream_part(const redisReply *reply, const char *stream)
{
    if (!reply || reply->type != REDIS_REPLY_ARRAY)
        return NULL;
    size_t len = strlen(stream);
    for (size_t i = 0; i < reply->elements; i++) {
        const redisReply *s = reply->element[i];
        if (s->type == REDIS_REPLY_ARRAY && s->elements == 2 &&
            s->element[0]->type == REDIS_REPLY_STRING && s->element[0]->len == len &&
            memcmp(s->element[0]->str, stream, len) == 0)
            return s->element[1];
    }
    return NULL;
}

static void on_read(rds *r, const redisReply *reply, int err, void *arg)
{
    (void)r;
    read_ctx *c = arg;
    pred *p = c->p;
    p->reads_inflight--;
    if (err == -ECANCELED || p->closing) {
        free(c);
        return;
    }
    if (c->pending)
        c->pending->pending_busy = false;
    if (err < 0 || reply->type == REDIS_REPLY_ERROR) {
        read_failed(c, err, reply);
        free(c);
        pred_state_changed(p);
        return; /* the next kick (reconnect, periodic) reads again */
    }
    uint64_t now = lo_wall_ms();
    if (!p->first_read_ms)
        p->first_read_ms = now;
    uint64_t delay = p->set.tick_delay_ms;
    bool behind = false;
    for (unsigned i = 0; i < c->n; i++) {
        pred_launch *l = c->l[i];
        const redisReply *entries = stream_part(reply, l->stream);
        bool live = c->pending == NULL;
        size_t n = apply_entries(l, entries, live, !live || !p->set.no_ack);
        if (c->pending) {
            if (n < p->set.batch) {
                l->own_pending = false;
            } else {
                const redisReply *last = entries->element[n - 1];
                if (last->type == REDIS_REPLY_ARRAY && last->elements >= 1)
                    pred_id_parse(last->element[0]->str, last->element[0]->len, &l->own_cursor);
            }
            continue;
        }
        if (n >= p->set.batch) {
            behind = true;
            l->caught_up = false;
            continue;
        }
        /* read to the end of the stream as of the send time (a read that
         * timed out covers its whole BLOCK) */
        uint64_t upto = c->sent_ms;
        if (reply->type == REDIS_REPLY_NIL && c->block_ms)
            upto = LO_MIN(c->sent_ms + c->block_ms, now);
        caught_up(l, upto > delay ? upto - delay : 0);
    }
    if (!c->pending)
        p->reader_behind = behind;
    free(c);
    pred_publish_soon(p);
    pred_state_changed(p);
    pred_consume_kick(p);
}

static void issue_read(pred *p, read_ctx *c)
{
    const char *argv[10 + 2 * PRED_LAUNCHES_MAX];
    size_t argvlen[10 + 2 * PRED_LAUNCHES_MAX];
    char count[ARG_NUM_MAX], block[ARG_NUM_MAX], cursor[PRED_ID_STR_MAX];
    int argc = 0;
#define ARG(s) (argv[argc] = (s), argvlen[argc] = strlen(argv[argc]), argc++)
    ARG("XREADGROUP");
    ARG("GROUP");
    ARG(p->set.group);
    ARG(p->consumer);
    snprintf(count, sizeof count, "%" PRIu32, p->set.batch);
    ARG("COUNT");
    ARG(count);
    if (c->block_ms) {
        snprintf(block, sizeof block, "%" PRIu32, c->block_ms);
        ARG("BLOCK");
        ARG(block);
    }
    if (p->set.no_ack && !c->pending)
        ARG("NOACK");
    ARG("STREAMS");
    for (unsigned i = 0; i < c->n; i++)
        ARG(c->l[i]->stream);
    if (c->pending) {
        pred_id_format(c->pending->own_cursor, cursor, sizeof cursor);
        ARG(cursor);
    } else {
        for (unsigned i = 0; i < c->n; i++)
            ARG(">");
    }
#undef ARG
    c->p = p;
    c->sent_ms = lo_wall_ms();
    uint32_t timeout = c->block_ms ? c->block_ms + PRED_READ_TIMEOUT_SLACK_MS : 0;
    if (rds_command_argv_timeout(p->rb, timeout, argc, argv, argvlen, on_read, c) < 0) {
        free(c);
        return;
    }
    p->reads_inflight++;
}

void pred_consume_kick(pred *p)
{
    if (p->closing || p->draining || !rds_is_up(p->rb))
        return;
    /* our own pending entries first, one launch at a time, nothing else
     * in flight: they are older than anything '>' hands over */
    for (pred_launch *l = p->launches; l; l = l->next) {
        if (!readable(l) || !l->own_pending)
            continue;
        if (p->reads_inflight == 0 && !l->pending_busy) {
            read_ctx *c = xcalloc(1, sizeof *c);
            c->pending = l;
            c->n = 1;
            c->l[0] = l;
            l->pending_busy = true;
            issue_read(p, c);
        }
        return;
    }
    unsigned max = p->reader_behind ? PRED_READS_PIPELINE : 1;
    while (p->reads_inflight < max) {
        read_ctx *c = xcalloc(1, sizeof *c);
        for (pred_launch *l = p->launches; l; l = l->next)
            if (readable(l))
                c->l[c->n++] = l;
        if (c->n == 0) {
            free(c);
            return;
        }
        c->block_ms = p->reader_behind ? 0 : p->set.block_ms;
        unsigned before = p->reads_inflight;
        issue_read(p, c);
        if (p->reads_inflight == before)
            return;
    }
}

/* ---- claims ---- */

static void claim_round(pred_launch *l);

static void on_delconsumer(rds *r, const redisReply *reply, int err, void *arg)
{
    (void)r;
    (void)reply;
    (void)err;
    (void)arg;
}

/* Deletes consumers idle longer than --claim-idle that own nothing. */
static void on_consumers(rds *r, const redisReply *reply, int err, void *arg)
{
    (void)r;
    pred_launch *l = arg;
    pred *p = l->svc;
    if (err < 0 || p->closing || reply->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t i = 0; i < reply->elements; i++) {
        const redisReply *c = reply->element[i];
        if (c->type != REDIS_REPLY_ARRAY)
            continue;
        const char *name = NULL;
        long long pending = -1, idle = -1;
        for (size_t k = 0; k + 1 < c->elements; k += 2) {
            const redisReply *key = c->element[k], *v = c->element[k + 1];
            if (key->type != REDIS_REPLY_STRING)
                continue;
            if (strcmp(key->str, "name") == 0 && v->type == REDIS_REPLY_STRING)
                name = v->str;
            else if (strcmp(key->str, "pending") == 0 && v->type == REDIS_REPLY_INTEGER)
                pending = v->integer;
            else if (strcmp(key->str, "idle") == 0 && v->type == REDIS_REPLY_INTEGER)
                idle = v->integer;
        }
        if (!name || strcmp(name, p->consumer) == 0 || pending != 0 ||
            idle < (long long)p->set.claim_idle_ms)
            continue;
        log_info("predictor", "removing an idle consumer", LF_STR("stream", l->stream),
                 LF_STR("consumer", name), LF_INT("idle_ms", idle));
        rds_command(p->rc, on_delconsumer, NULL, "XGROUP DELCONSUMER %s %s %s", l->stream,
                    p->set.group, name);
    }
}

static void on_claim(rds *r, const redisReply *reply, int err, void *arg)
{
    (void)r;
    pred_launch *l = arg;
    pred *p = l->svc;
    l->claim_busy = false;
    if (err == -ECANCELED || p->closing)
        return;
    if (err < 0 || reply->type != REDIS_REPLY_ARRAY || reply->elements < 2) {
        if (err < 0)
            log_warn_limited("predictor", "XAUTOCLAIM failed", LF_ERR(err));
        else if (reply->type == REDIS_REPLY_ERROR)
            log_warn_limited("predictor", "XAUTOCLAIM refused",
                             LF_STRN("redis_error", reply->str, reply->len));
        l->claim_cursor = (pred_id){ 0, 0 };
        return;
    }
    const redisReply *next = reply->element[0], *entries = reply->element[1];
    if (entries->type == REDIS_REPLY_ARRAY && entries->elements > 0) {
        if (readable(l)) {
            size_t n = apply_entries(l, entries, false, true);
            metrics_counter_add(l->m_claimed, n);
            log_info("predictor", "claimed pending entries", LF_STR("stream", l->stream),
                     LF_UINT("entries", n));
            pred_publish_soon(p);
        } else {
            l->own_pending = true; /* ours now: read them once the launch is readable */
        }
    }
    pred_id cursor = { 0, 0 };
    if (next->type == REDIS_REPLY_STRING)
        pred_id_parse(next->str, next->len, &cursor);
    l->claim_cursor = cursor;
    if ((cursor.ms || cursor.seq) && readable(l) && !p->draining) {
        claim_round(l);
        return;
    }
    rds_command(p->rc, on_consumers, l, "XINFO CONSUMERS %s %s", l->stream, p->set.group);
}

static void claim_round(pred_launch *l)
{
    pred *p = l->svc;
    char idle[ARG_NUM_MAX], count[ARG_NUM_MAX], cursor[PRED_ID_STR_MAX];
    snprintf(idle, sizeof idle, "%" PRIu64, p->set.claim_idle_ms);
    snprintf(count, sizeof count, "%" PRIu32, p->set.batch);
    pred_id_format(l->claim_cursor, cursor, sizeof cursor);
    l->claim_busy = true;
    rds_command(p->rc, on_claim, l, "XAUTOCLAIM %s %s %s %s %s COUNT %s", l->stream, p->set.group,
                p->consumer, idle, cursor, count);
}

void pred_consume_claim(pred *p)
{
    if (p->closing || p->draining || !rds_is_up(p->rc))
        return;
    for (pred_launch *l = p->launches; l; l = l->next) {
        if (!l->group_ready && !l->group_busy && l->npolicies > 0)
            group_ensure(l); /* an earlier attempt was refused */
        if (readable(l) && !l->claim_busy)
            claim_round(l);
    }
}
