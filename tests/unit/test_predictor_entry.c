/* test_predictor_entry.c — stream ids and entry parsing of the predictor. */
#include "test.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "predictor/entry.h"

/* Builds replies by hand: a string, and an array of given elements. */
static redisReply mkstr(const char *s)
{
    redisReply r = { .type = REDIS_REPLY_STRING, .str = (char *)s, .len = strlen(s) };
    return r;
}

static redisReply mkarr(redisReply **el, size_t n)
{
    redisReply r = { .type = REDIS_REPLY_ARRAY, .element = el, .elements = n };
    return r;
}

TEST(predictor_id_parse_and_format)
{
    pred_id id;
    CHECK_INT(pred_id_parse("1700000000123-7", 15, &id), 0);
    CHECK(id.ms == 1700000000123ULL && id.seq == 7);
    CHECK_INT(pred_id_parse("42", 2, &id), 0);
    CHECK(id.ms == 42 && id.seq == 0);
    CHECK_INT(pred_id_parse("18446744073709551615-18446744073709551615", 41, &id), 0);
    CHECK(id.ms == UINT64_MAX && id.seq == UINT64_MAX);
    CHECK_INT(pred_id_parse("18446744073709551616-0", 22, &id), -EINVAL);
    CHECK_INT(pred_id_parse("", 0, &id), -EINVAL);
    CHECK_INT(pred_id_parse("12-", 3, &id), -EINVAL);
    CHECK_INT(pred_id_parse("-1", 2, &id), -EINVAL);
    CHECK_INT(pred_id_parse("1-2-3", 5, &id), -EINVAL);
    CHECK_INT(pred_id_parse("1x-2", 4, &id), -EINVAL);
    char buf[PRED_ID_STR_MAX];
    CHECK_INT(pred_id_format((pred_id){ 1700000000123ULL, 7 }, buf, sizeof buf), 15);
    CHECK_STR(buf, "1700000000123-7");
    pred_id_format((pred_id){ UINT64_MAX, UINT64_MAX }, buf, sizeof buf);
    CHECK_STR(buf, "18446744073709551615-18446744073709551615");
}

TEST(predictor_id_order)
{
    CHECK(pred_id_cmp((pred_id){ 5, 0 }, (pred_id){ 5, 1 }) < 0);
    CHECK(pred_id_cmp((pred_id){ 5, 9 }, (pred_id){ 6, 0 }) < 0);
    CHECK(pred_id_cmp((pred_id){ 6, 0 }, (pred_id){ 5, 9 }) > 0);
    CHECK(pred_id_cmp((pred_id){ 6, 3 }, (pred_id){ 6, 3 }) == 0);
}

TEST(predictor_entry_parse_as_ingest_writes_it)
{
    redisReply f[10] = { mkstr("id"), mkstr("ev-1"), mkstr("type"), mkstr("upvote"),
                         mkstr("ts"), mkstr("1700000000100"), mkstr("source"),
                         mkstr("webhook"), mkstr("data"), mkstr("{\"k\":1}") };
    redisReply *fp[10];
    for (int i = 0; i < 10; i++)
        fp[i] = &f[i];
    redisReply fields = mkarr(fp, 10), id = mkstr("1700000000200-3");
    redisReply *ep[2] = { &id, &fields };
    redisReply e = mkarr(ep, 2);
    pred_entry pe;
    REQUIRE(pred_entry_parse(&e, &pe) == 0);
    CHECK(pe.id.ms == 1700000000200ULL && pe.id.seq == 3);
    CHECK_STR(pe.type, "upvote");
    CHECK_INT(pe.ts_ms, 1700000000100LL);

    /* a sender clock ahead of Redis: clamped to the stream time */
    f[5] = mkstr("1700000009999");
    REQUIRE(pred_entry_parse(&e, &pe) == 0);
    CHECK_INT(pe.ts_ms, 1700000000200LL);

    /* no ts: the stream time */
    redisReply *np[2] = { &f[2], &f[3] };
    redisReply nots = mkarr(np, 2);
    ep[1] = &nots;
    REQUIRE(pred_entry_parse(&e, &pe) == 0);
    CHECK_INT(pe.ts_ms, 1700000000200LL);
}

TEST(predictor_entry_parse_rejects_unusable_entries)
{
    redisReply t = mkstr("type"), up = mkstr("upvote"), ts = mkstr("ts"), bad = mkstr("12a");
    redisReply id = mkstr("10-0"), badid = mkstr("ten");
    pred_entry pe;
    /* bad ts: the id is known (to acknowledge), the event is not usable */
    redisReply *fp[4] = { &t, &up, &ts, &bad };
    redisReply fields = mkarr(fp, 4);
    redisReply *ep[2] = { &id, &fields };
    redisReply e = mkarr(ep, 2);
    CHECK_INT(pred_entry_parse(&e, &pe), -ENODATA);
    CHECK(pe.id.ms == 10);
    /* no type */
    redisReply *fp2[2] = { &ts, &id };
    redisReply f2 = mkarr(fp2, 2);
    ep[1] = &f2;
    CHECK_INT(pred_entry_parse(&e, &pe), -ENODATA);
    /* a deleted entry still pending comes back with nil fields */
    redisReply nil = { .type = REDIS_REPLY_NIL };
    ep[1] = &nil;
    CHECK_INT(pred_entry_parse(&e, &pe), -ENODATA);
    /* odd field count */
    redisReply *fp3[3] = { &t, &up, &ts };
    redisReply f3 = mkarr(fp3, 3);
    ep[1] = &f3;
    CHECK_INT(pred_entry_parse(&e, &pe), -ENODATA);
    /* not an entry */
    ep[0] = &badid;
    ep[1] = &fields;
    CHECK_INT(pred_entry_parse(&e, &pe), -EINVAL);
    CHECK_INT(pred_entry_parse(&id, &pe), -EINVAL);
    CHECK_INT(pred_entry_parse(NULL, &pe), -EINVAL);
}
