/* RESP2 reply parsing in place (redis_parse.c) and the reply arena
 * (redis_arena.c), checked against hiredis' own reader. */
#include "test.h"
#include "redis_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Deep comparison of two reply trees; 1 if equal. */
static int same_reply(const redisReply *a, const redisReply *b)
{
    if (a->type != b->type)
        return 0;
    switch (a->type) {
    case REDIS_REPLY_INTEGER:
        return a->integer == b->integer;
    case REDIS_REPLY_NIL:
        return 1;
    case REDIS_REPLY_ARRAY:
        if (a->elements != b->elements)
            return 0;
        for (size_t i = 0; i < a->elements; i++)
            if (!same_reply(a->element[i], b->element[i]))
                return 0;
        return 1;
    default: /* strings: same bytes, NUL-terminated */
        return a->len == b->len && memcmp(a->str, b->str, a->len) == 0 && a->str[a->len] == '\0';
    }
}

/* hiredis' parse of wire (one reply), or NULL. */
static redisReply *hiredis_parse(const char *wire, size_t len)
{
    redisReader *rd = redisReaderCreate();
    void *reply = NULL;
    redisReaderFeed(rd, wire, len);
    if (redisReaderGetReply(rd, &reply) != REDIS_OK)
        reply = NULL;
    redisReaderFree(rd);
    return reply;
}

/* Parses wire fed in pieces of step bytes (resuming the scan each time) and
 * compares with hiredis; 1 if the same. */
static int parses_like_hiredis(const char *wire, size_t len, size_t step)
{
    redisReply *want = hiredis_parse(wire, len);
    if (!want)
        return 0;
    char *p = malloc(len + 1);
    rds_scan st;
    rds_scan_reset(&st);
    ssize_t n = 0;
    size_t have = 0;
    int ok = 1;
    while (have < len) {
        size_t add = step < len - have ? step : len - have;
        memcpy(p + have, wire + have, add);
        have += add;
        n = rds_scan_reply(p, have, &st);
        if (n < 0 || (n > 0 && have < len)) {
            ok = 0; /* an error, or "complete" too early */
            break;
        }
    }
    rds_arena a = { 0 };
    if (ok && n == (ssize_t)len) {
        redisReply *got = rds_build_reply(p, len, &a);
        ok = same_reply(got, want);
    } else {
        ok = 0;
    }
    rds_arena_free(&a);
    free(p);
    freeReplyObject(want);
    return ok;
}

static const char *const shapes[] = {
    "+OK\r\n",
    "+\r\n",
    "-ERR unknown command 'FOO'\r\n",
    "-NOSCRIPT No matching script. Please use EVAL.\r\n",
    ":0\r\n",
    ":-1\r\n",
    ":9223372036854775807\r\n",
    ":-9223372036854775808\r\n",
    "$0\r\n\r\n",
    "$-1\r\n",
    "$5\r\nhello\r\n",
    "$4\r\na\r\nb\r\n",
    "*0\r\n",
    "*-1\r\n",
    "*3\r\n:1\r\n$-1\r\n+x\r\n",
    "*2\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n*0\r\n",
    "*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:5\r\n",
    /* an XREADGROUP reply: [[stream, [[id, [f, v, ...]], ...]]] */
    "*1\r\n*2\r\n$19\r\nliftoff:events:test\r\n*2\r\n"
    "*2\r\n$15\r\n1700000000000-0\r\n*4\r\n$4\r\ntype\r\n$6\r\nupvote\r\n$2\r\nts\r\n$13\r\n1700000000000\r\n"
    "*2\r\n$15\r\n1700000000001-3\r\n*-1\r\n",
};

TEST(redis_parse_matches_hiredis_for_every_shape_and_split)
{
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        size_t len = strlen(shapes[i]);
        for (size_t step = 1; step <= len; step++)
            if (!parses_like_hiredis(shapes[i], len, step)) {
                printf("    shape %zu, pieces of %zu bytes\n", i, step);
                CHECK(0);
                break;
            }
    }
}

TEST(redis_parse_binary_and_large_strings)
{
    /* lengths around powers of ten and the arena's large-string limit, with
     * CR, LF and NUL inside */
    const size_t lens[] = { 1, 9, 10, 99, 100, 1000, RDS_ARENA_BLOCK / 4, RDS_ARENA_BLOCK / 4 + 1,
                            RDS_ARENA_BLOCK, 200000 };
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t n = lens[i];
        char *wire = malloc(n + 64);
        int h = snprintf(wire, 64, "*2\r\n$%zu\r\n", n);
        for (size_t k = 0; k < n; k++)
            wire[h + k] = "\r\n\0ab"[k % 5];
        memcpy(wire + h + n, "\r\n:7\r\n", 6);
        size_t len = (size_t)h + n + 6;
        CHECK(parses_like_hiredis(wire, len, len));
        CHECK(parses_like_hiredis(wire, len, 4096));
        free(wire);
    }
}

TEST(redis_parse_many_elements_in_random_pieces)
{
    /* 5000 stream-entry-like elements, fed in pseudo-random pieces */
    size_t cap = 1 << 20, len = 0;
    char *wire = malloc(cap);
    len += (size_t)snprintf(wire + len, cap - len, "*5000\r\n");
    for (int i = 0; i < 5000; i++)
        len += (size_t)snprintf(wire + len, cap - len,
                                "*2\r\n$15\r\n17000000%05d-0\r\n*4\r\n$4\r\ntype\r\n$%d\r\n%.*s\r\n"
                                "$2\r\nts\r\n:%d\r\n",
                                i, i % 7 + 1, i % 7 + 1, "upvotes", -i);
    redisReply *want = hiredis_parse(wire, len);
    REQUIRE(want != NULL);
    char *p = malloc(len);
    rds_scan st;
    rds_scan_reset(&st);
    unsigned seed = 7;
    size_t have = 0;
    ssize_t n = 0;
    while (have < len && n == 0) {
        seed = seed * 1103515245u + 12345u;
        size_t add = (seed >> 16) % 3000 + 1;
        if (add > len - have)
            add = len - have;
        memcpy(p + have, wire + have, add);
        have += add;
        n = rds_scan_reply(p, have, &st);
    }
    CHECK_INT((int)n, (int)len);
    rds_arena a = { 0 };
    if (n == (ssize_t)len)
        CHECK(same_reply(rds_build_reply(p, len, &a), want));
    /* the arena is reused: a second reply in the same memory */
    rds_arena_reset(&a);
    memcpy(p, wire, len);
    CHECK(same_reply(rds_build_reply(p, len, &a), want));
    rds_arena_free(&a);
    freeReplyObject(want);
    free(p);
    free(wire);
}

TEST(redis_parse_finds_the_end_of_the_first_of_several_replies)
{
    char wire[] = "+OK\r\n:12\r\n$3\r\nabc\r\n";
    size_t len = strlen(wire), off = 0;
    const size_t ends[] = { 5, 5, 9 };
    rds_scan st;
    for (int i = 0; i < 3; i++) {
        rds_scan_reset(&st);
        ssize_t n = rds_scan_reply(wire + off, len - off, &st);
        CHECK_INT((int)n, (int)ends[i]);
        if (n <= 0)
            return;
        off += (size_t)n;
    }
    CHECK_INT((int)off, (int)len);
}

static int scan_all(const char *s)
{
    rds_scan st;
    rds_scan_reset(&st);
    return (int)rds_scan_reply(s, strlen(s), &st);
}

TEST(redis_parse_rejects_what_is_not_resp2)
{
    CHECK_INT(scan_all("?what\r\n"), -EPROTO);
    CHECK_INT(scan_all("+OK\n"), -EPROTO);              /* LF without CR */
    CHECK_INT(scan_all(":12a\r\n"), -EPROTO);
    CHECK_INT(scan_all(":\r\n"), -EPROTO);
    CHECK_INT(scan_all(":-\r\n"), -EPROTO);
    CHECK_INT(scan_all("$\r\n"), -EPROTO);
    CHECK_INT(scan_all("*1x\r\n"), -EPROTO);
    CHECK_INT(scan_all(":12345678901234567890\r\n"), -EPROTO); /* 20 digits */
    CHECK_INT(scan_all(":9223372036854775808\r\n"), -EPROTO); /* overflow */
    CHECK_INT(scan_all("$-2\r\n"), -EPROTO);
    CHECK_INT(scan_all("$3\r\nabcd\r\n"), -EPROTO);     /* no CRLF after 3 bytes */
    CHECK_INT(scan_all("*-5\r\n"), -EPROTO);
    CHECK_INT(scan_all("*1\r\n%2\r\n"), -EPROTO);       /* RESP3 map */
    CHECK_INT(scan_all("$536870913\r\n"), -EPROTO);     /* over RDS_REPLY_BULK_MAX */
    char deep[8 * (RDS_REPLY_DEPTH_MAX + 1) + 8] = "";
    for (int i = 0; i <= RDS_REPLY_DEPTH_MAX; i++)
        strcat(deep, "*1\r\n");
    strcat(deep, ":1\r\n");
    CHECK_INT(scan_all(deep), -EPROTO);
    /* a line that never ends is refused once it is too long */
    size_t n = RDS_REPLY_LINE_MAX + 2;
    char *junk = malloc(n + 1);
    memset(junk, 'x', n);
    junk[0] = '+';
    junk[n] = '\0';
    CHECK_INT(scan_all(junk), -EPROTO);
    free(junk);
}

TEST(redis_parse_waits_for_incomplete_replies)
{
    CHECK_INT(scan_all(""), 0);
    CHECK_INT(scan_all("+OK"), 0);
    CHECK_INT(scan_all("+OK\r"), 0);
    CHECK_INT(scan_all("$5\r\nhel"), 0);
    CHECK_INT(scan_all("$5\r\nhello\r"), 0);
    CHECK_INT(scan_all("*2\r\n:1\r\n"), 0);
    CHECK_INT(scan_all("*2\r\n*1\r\n:1\r\n"), 0);
}

TEST(redis_arena_aligns_and_reuses_blocks)
{
    rds_arena a = { 0 };
    for (int round = 0; round < 3; round++) {
        char *prev = NULL;
        for (size_t i = 1; i < 5000; i += 37) {
            char *p = rds_arena_alloc(&a, i);
            CHECK(((uintptr_t)p % _Alignof(max_align_t)) == 0);
            memset(p, 0xab, i); /* valgrind / ASan check the size */
            CHECK(p != prev);
            prev = p;
        }
        char *big = rds_arena_alloc(&a, RDS_ARENA_BLOCK * 3);
        memset(big, 1, RDS_ARENA_BLOCK * 3);
        rds_arena_reset(&a);
        CHECK(a.big == NULL);
        CHECK(a.nblocks <= RDS_ARENA_KEEP / RDS_ARENA_BLOCK);
    }
    /* after a reset the first allocation reuses the first block */
    void *first = rds_arena_alloc(&a, 16);
    rds_arena_reset(&a);
    CHECK(rds_arena_alloc(&a, 16) == first);
    rds_arena_free(&a);
    CHECK(a.head == NULL);
}
