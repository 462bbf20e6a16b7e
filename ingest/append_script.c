/* append_script.c — the atomic dedupe-and-XADD Lua script and its arguments. */
#include "append_script.h"

#include <stdlib.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common.h"

const char ingest_append_lua[] =
    "local stream, cur, maxlen, expat = KEYS[1], KEYS[2], ARGV[1], ARGV[2]\n"
    "local n = (#ARGV - 2) / 5\n"
    "local ids = {}\n"
    "for i = 1, n do ids[i] = ARGV[3 + (i - 1) * 5] end\n"
    "local seen = {}\n"
    "for k = 2, #KEYS do\n"
    "  local m = redis.call('SMISMEMBER', KEYS[k], unpack(ids))\n"
    "  for i = 1, n do if m[i] == 1 then seen[ids[i]] = true end end\n"
    "end\n"
    "local fresh, claim = {}, {}\n"
    "for i = 1, n do\n"
    "  if not seen[ids[i]] then\n"
    "    seen[ids[i]] = true\n"
    "    fresh[i] = true\n"
    "    claim[#claim + 1] = ids[i]\n"
    "  end\n"
    "end\n"
    "if #claim > 0 then\n"
    "  redis.call('SADD', cur, unpack(claim))\n"
    "  redis.call('EXPIREAT', cur, expat)\n"
    "end\n"
    "local out, undo = {}, {}\n"
    "for i = 1, n do\n"
    "  if not fresh[i] then\n"
    "    out[#out + 1] = 1\n"
    "    out[#out + 1] = ''\n"
    "  else\n"
    "    local a = 3 + (i - 1) * 5\n"
    "    local sid = redis.pcall('XADD', stream, '*',\n"
    "      'id', ids[i], 'type', ARGV[a + 1], 'ts', ARGV[a + 2],\n"
    "      'source', ARGV[a + 3], 'data', ARGV[a + 4])\n"
    "    if type(sid) == 'table' and sid.err then\n"
    "      undo[#undo + 1] = ids[i]\n"
    "      out[#out + 1] = 2\n"
    "      out[#out + 1] = sid.err\n"
    "    else\n"
    "      out[#out + 1] = 0\n"
    "      out[#out + 1] = sid\n"
    "    end\n"
    "  end\n"
    "end\n"
    "if #undo > 0 then redis.call('SREM', cur, unpack(undo)) end\n"
    "if #undo < #claim then redis.call('XTRIM', stream, 'MAXLEN', '~', maxlen) end\n"
    "return out\n";

/* Appends one argument (len bytes). */
static void push(ingest_append_args *a, size_t *k, const char *s, size_t len)
{
    a->argv[*k] = s;
    a->argvlen[*k] = len;
    (*k)++;
}

/* Appends the concatenation of up to three strings, built in the arena. */
static void push_cat(ingest_append_args *a, size_t *k, char **at, const char *x, size_t xl,
                     const char *y, size_t yl, const char *z, size_t zl)
{
    char *p = *at;
    memcpy(p, x, xl);
    memcpy(p + xl, y, yl);
    memcpy(p + xl + yl, z, zl);
    push(a, k, p, xl + yl + zl);
    *at = p + xl + yl + zl;
}

static void push_uint(ingest_append_args *a, size_t *k, char **at, uint64_t v)
{
    size_t n = lo_u64_dec(v, *at);
    push(a, k, *at, n);
    *at += n;
}

#define STREAM_PREFIX "liftoff:events:"
#define SEEN_PREFIX "liftoff:seen:"

uint64_t ingest_dedupe_bucket(int64_t now_s, uint64_t ttl_s)
{
    return now_s <= 0 || ttl_s == 0 ? 0 : (uint64_t)now_s / ttl_s;
}

void ingest_append_build(ingest_append_args *a, const char *launch, uint64_t maxlen,
                         uint64_t ttl_s, int64_t now_s, const ingest_event *const *evs,
                         size_t n)
{
    size_t nkeys = 1 + INGEST_DEDUPE_BUCKETS, total = nkeys + 2 + 5 * n, k = 0;
    size_t ll = strlen(launch);
    size_t arena = sizeof(STREAM_PREFIX) + ll + 2 * 20 + n * 20 +
                   INGEST_DEDUPE_BUCKETS * (sizeof(SEEN_PREFIX) + ll + 1 + 20);
    if (ttl_s == 0)
        ttl_s = 1;
    uint64_t b = ingest_dedupe_bucket(now_s, ttl_s);
    /* this bucket first (the one written), then the two it may overlap */
    uint64_t buckets[INGEST_DEDUPE_BUCKETS] = { b, b + 1, b > 0 ? b - 1 : b + 2 };
    memset(a, 0, sizeof(*a));
    a->nkeys = (int)nkeys;
    a->nargs = (int)(2 + 5 * n);
    a->argv = xmalloc(total * sizeof(*a->argv));
    a->argvlen = xmalloc(total * sizeof(*a->argvlen));
    a->arena = xmalloc(arena);
    char *at = a->arena;
    push_cat(a, &k, &at, STREAM_PREFIX, sizeof(STREAM_PREFIX) - 1, launch, ll, "", 0);
    for (size_t i = 0; i < INGEST_DEDUPE_BUCKETS; i++) {
        push_cat(a, &k, &at, SEEN_PREFIX, sizeof(SEEN_PREFIX) - 1, launch, ll, ":", 1);
        size_t dl = lo_u64_dec(buckets[i], at);
        at += dl;
        a->argvlen[k - 1] += dl;
    }
    push_uint(a, &k, &at, maxlen);
    /* kept until the end of the next bucket, plus a margin for clocks of
     * other replicas that run a little behind */
    push_uint(a, &k, &at, (b + 2) * ttl_s + LO_MIN(ttl_s, (uint64_t)INGEST_DEDUPE_MARGIN_S));
    for (size_t i = 0; i < n; i++) {
        const ingest_event *e = evs[i];
        const char *src = ingest_source_name(e->source);
        push(a, &k, e->id, strlen(e->id));
        push(a, &k, e->type, strlen(e->type));
        push_uint(a, &k, &at, e->ts_ms < 0 ? 0 : (uint64_t)e->ts_ms);
        push(a, &k, src, strlen(src));
        push(a, &k, e->data, e->data_len);
    }
}

void ingest_append_args_free(ingest_append_args *a)
{
    if (!a)
        return;
    free(a->arena);
    free(a->argv);
    free(a->argvlen);
    memset(a, 0, sizeof(*a));
}

int ingest_append_parse_reply(const redisReply *r, size_t n, ingest_append_result *out)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 * n)
        return -EPROTO;
    for (size_t i = 0; i < n; i++) {
        const redisReply *flag = r->element[2 * i], *val = r->element[2 * i + 1];
        if (flag->type != REDIS_REPLY_INTEGER || flag->integer < 0 || flag->integer > 2)
            return -EPROTO;
        if (val->type != REDIS_REPLY_STRING && val->type != REDIS_REPLY_STATUS &&
            val->type != REDIS_REPLY_ERROR)
            return -EPROTO;
        out[i].status = (ingest_append_status)flag->integer;
        size_t sl = LO_MIN(val->len, sizeof(out[i].stream_id) - 1);
        sl = LO_MIN(sl, (size_t)INGEST_STREAM_ID_MAX - 1);
        sl = strnlen(val->str, sl); /* as "%.*s" would: stop at a NUL */
        memcpy(out[i].stream_id, val->str, sl);
        out[i].stream_id[sl] = '\0';
    }
    return 0;
}
