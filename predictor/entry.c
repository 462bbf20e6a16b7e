/* entry.c — stream ids and the fields of an engagement-stream entry. */
#include "entry.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Parses an unsigned decimal of len bytes (no sign, no spaces): 0 or -EINVAL. */
static int parse_u64(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 20)
        return -EINVAL;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -EINVAL;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int pred_id_parse(const char *s, size_t len, pred_id *out)
{
    const char *dash = memchr(s, '-', len);
    pred_id id = { 0, 0 };
    size_t mslen = dash ? (size_t)(dash - s) : len;
    if (parse_u64(s, mslen, &id.ms))
        return -EINVAL;
    if (dash && parse_u64(dash + 1, len - mslen - 1, &id.seq))
        return -EINVAL;
    *out = id;
    return 0;
}

size_t pred_id_format(pred_id id, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%" PRIu64 "-%" PRIu64, id.ms, id.seq);
    return n < 0 ? 0 : (size_t)n;
}

/* Parses a signed decimal ts: 0 or -EINVAL. */
static int parse_ts(const char *s, size_t len, int64_t *out)
{
    bool neg = len > 0 && s[0] == '-';
    uint64_t v;
    if (parse_u64(s + neg, len - neg, &v) || v > (uint64_t)INT64_MAX)
        return -EINVAL;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

int pred_entry_parse(const redisReply *r, pred_entry *e)
{
    memset(e, 0, sizeof *e);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
        return -EINVAL;
    const redisReply *id = r->element[0], *f = r->element[1];
    if (id->type != REDIS_REPLY_STRING || pred_id_parse(id->str, id->len, &e->id))
        return -EINVAL;
    /* a deleted entry still pending in a group comes back with nil fields */
    if (f->type != REDIS_REPLY_ARRAY || f->elements % 2)
        return -ENODATA;
    bool have_ts = false;
    for (size_t i = 0; i + 1 < f->elements; i += 2) {
        const redisReply *k = f->element[i], *v = f->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            return -ENODATA;
        if (k->len == 4 && memcmp(k->str, "type", 4) == 0) {
            if (v->len == 0 || memchr(v->str, '\0', v->len))
                return -ENODATA;
            e->type = v->str;
        } else if (k->len == 2 && memcmp(k->str, "ts", 2) == 0) {
            if (parse_ts(v->str, v->len, &e->ts_ms))
                return -ENODATA;
            have_ts = true;
        }
    }
    if (!e->type)
        return -ENODATA;
    if (e->id.ms > (uint64_t)INT64_MAX)
        return -ENODATA;
    int64_t id_ms = (int64_t)e->id.ms;
    if (!have_ts || e->ts_ms > id_ms)
        e->ts_ms = id_ms;
    return 0;
}
