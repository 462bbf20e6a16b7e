/* redis_pubsub.c — subscriber clients: the channel and pattern sets kept
 * across reconnects, push-message dispatch, and PING health checks (see
 * redis.h). */
#include "redis_int.h"
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool rds_is_subscriber(const rds *r) { return r->on_message != NULL; }

/* ---- the sets ---- */

static ssize_t set_find(const rds_strset *s, const char *v)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], v) == 0)
            return (ssize_t)i;
    return -1;
}

static void set_add(rds_strset *s, const char *v)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->v = xrealloc(s->v, s->cap * sizeof *s->v);
    }
    s->v[s->n++] = xstrdup(v);
}

static void set_free(rds_strset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

void rds_pubsub_free(rds *r)
{
    set_free(&r->channels);
    set_free(&r->patterns);
    ev_timer_stop(r->loop, &r->ping_timer);
}

/* ---- writing ---- */

/* Sends verb followed by the given names (one command). */
static void send_names(rds *r, const char *verb, char *const *names, size_t n)
{
    if (n == 0 || r->state != RDS_S_UP)
        return;
    const char **argv = xmalloc((n + 1) * sizeof *argv);
    argv[0] = verb;
    for (size_t i = 0; i < n; i++)
        argv[i + 1] = names[i];
    size_t len = rds_resp_argv_len((int)(n + 1), argv, NULL);
    char *cmd = xmalloc(len);
    rds_resp_encode_argv(cmd, (int)(n + 1), argv, NULL);
    free(argv);
    r->st.commands++;
    rds_write_now(r, cmd, len);
    free(cmd);
}

void rds_pubsub_resubscribe(rds *r)
{
    uint64_t gen = r->gen;
    send_names(r, "SUBSCRIBE", r->channels.v, r->channels.n);
    if (gen == r->gen)
        send_names(r, "PSUBSCRIBE", r->patterns.v, r->patterns.n);
}

static int change(rds *r, rds_strset *set, const char *name, bool add, const char *verb)
{
    if (!r || r->dead || !rds_is_subscriber(r) || !name)
        return -EINVAL;
    ssize_t i = set_find(set, name);
    if (add && i >= 0)
        return -EEXIST;
    if (!add && i < 0)
        return -ENOENT;
    if (add) {
        set_add(set, name);
    } else {
        free(set->v[i]);
        set->v[i] = set->v[--set->n];
    }
    char *one = (char *)name;
    send_names(r, verb, &one, 1);
    return 0;
}

int rds_subscribe(rds *r, const char *channel)
{
    return change(r, &r->channels, channel, true, "SUBSCRIBE");
}

int rds_psubscribe(rds *r, const char *pattern)
{
    return change(r, &r->patterns, pattern, true, "PSUBSCRIBE");
}

int rds_unsubscribe(rds *r, const char *channel)
{
    return change(r, &r->channels, channel, false, "UNSUBSCRIBE");
}

int rds_punsubscribe(rds *r, const char *pattern)
{
    return change(r, &r->patterns, pattern, false, "PUNSUBSCRIBE");
}

/* ---- reading ---- */

static bool is_str(const redisReply *e)
{
    return e->type == REDIS_REPLY_STRING || e->type == REDIS_REPLY_STATUS;
}

static bool kind_is(const redisReply *e, const char *s)
{
    size_t n = strlen(s);
    return e->len == n && strncasecmp(e->str, s, n) == 0;
}

void rds_pubsub_reply(rds *r, redisReply *reply)
{
    if (reply->type == REDIS_REPLY_ERROR) {
        /* e.g. NOPERM for a channel: keep the connection, say why. */
        rds_set_err(r, "redis refused a subscription: %.*s", (int)reply->len, reply->str);
        return;
    }
    if (reply->type == REDIS_REPLY_STATUS && kind_is(reply, "pong")) {
        r->ping_outstanding = false; /* PING before any subscription */
        return;
    }
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2)
        return;
    redisReply **el = reply->element;
    for (size_t i = 0; i < reply->elements && i < 4; i++)
        if (!is_str(el[i]) && el[i]->type != REDIS_REPLY_INTEGER)
            return;
    rds_msg m = { 0 };
    size_t ne = reply->elements;
    if (kind_is(el[0], "pong")) {
        r->ping_outstanding = false;
        return;
    } else if (kind_is(el[0], "message") && ne == 3) {
        m = (rds_msg){ .kind = RDS_MSG_MESSAGE, .channel = el[1]->str, .channel_len = el[1]->len,
                       .data = el[2]->str, .data_len = el[2]->len };
        r->st.messages++;
    } else if (kind_is(el[0], "pmessage") && ne == 4) {
        m = (rds_msg){ .kind = RDS_MSG_PMESSAGE, .pattern = el[1]->str,
                       .pattern_len = el[1]->len, .channel = el[2]->str,
                       .channel_len = el[2]->len, .data = el[3]->str, .data_len = el[3]->len };
        r->st.messages++;
    } else if ((kind_is(el[0], "subscribe") || kind_is(el[0], "unsubscribe")) && ne == 3) {
        m.kind = kind_is(el[0], "subscribe") ? RDS_MSG_SUBSCRIBED : RDS_MSG_UNSUBSCRIBED;
        m.channel = el[1]->str;
        m.channel_len = el[1]->len;
    } else if ((kind_is(el[0], "psubscribe") || kind_is(el[0], "punsubscribe")) && ne == 3) {
        m.kind = kind_is(el[0], "psubscribe") ? RDS_MSG_SUBSCRIBED : RDS_MSG_UNSUBSCRIBED;
        m.pattern = el[1]->str;
        m.pattern_len = el[1]->len;
    } else {
        return;
    }
    if (m.kind == RDS_MSG_UNSUBSCRIBED && !m.channel && !m.pattern)
        return;
    r->on_message(r, &m, r->message_arg);
}

/* ---- health ---- */

void rds_pubsub_on_ping(ev_loop *loop, ev_timer *t, void *arg)
{
    rds *r = arg;
    rds_enter(r);
    if (r->state == RDS_S_UP) {
        if (r->ping_outstanding) {
            rds_set_err(r, "no answer to PING within %u ms", r->ping_interval_ms);
            r->st.timeouts++;
            rds_drop(r, -ETIMEDOUT);
        } else {
            static const char ping[] = "*1\r\n$4\r\nPING\r\n";
            r->ping_outstanding = true;
            r->st.commands++;
            if (rds_write_now(r, ping, sizeof ping - 1) == 0)
                ev_timer_start(loop, &r->ping_timer, r->ping_interval_ms);
        }
    }
    rds_leave(r);
}
