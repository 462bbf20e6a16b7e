/* test_ingest_append_script.c — keys and arguments of the append script and
 * decoding of its reply (fed through hiredis' own reply parser). */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include <hiredis/hiredis.h>

#include "ingest/append_script.h"

static redisReply *parse_resp(const char *resp)
{
    void *r = NULL;
    redisReader *rd = redisReaderCreate();
    redisReaderFeed(rd, resp, strlen(resp));
    if (redisReaderGetReply(rd, &r) != REDIS_OK)
        r = NULL;
    redisReaderFree(rd);
    return r;
}

TEST(ingest_append_build_lays_out_keys_and_args)
{
    ingest_event a = { .id = "e1", .type = "upvote", .ts_ms = 1700000000000LL,
                       .source = INGEST_SRC_WEBHOOK, .data = (char *)"{\"x\":1}", .data_len = 7 };
    ingest_event b = { .id = "s-ab", .type = "hover", .ts_ms = 5, .source = INGEST_SRC_SITE,
                       .data = (char *)"{}", .data_len = 2 };
    const ingest_event *evs[] = { &a, &b };
    ingest_append_args args;
    /* 1700000000 s is in day 19675 of a one-day window */
    ingest_append_build(&args, "launch-1", 1000, 86400, 1700000000, evs, 2);
    CHECK_INT(args.nkeys, 4);
    CHECK_INT(args.nargs, 12);
    const char *want[] = { "liftoff:events:launch-1", "liftoff:seen:launch-1:19675",
                           "liftoff:seen:launch-1:19676", "liftoff:seen:launch-1:19674",
                           "1000", "1700093100", /* end of day 19676, plus 300 s */
                           "e1", "upvote", "1700000000000", "webhook", "{\"x\":1}",
                           "s-ab", "hover", "5", "site", "{}" };
    for (int i = 0; i < args.nkeys + args.nargs; i++) {
        CHECK_INT(args.argvlen[i], strlen(want[i]));
        CHECK(memcmp(args.argv[i], want[i], args.argvlen[i]) == 0);
    }
    ingest_append_args_free(&args);
}

TEST(ingest_append_dedupe_buckets)
{
    CHECK_INT(ingest_dedupe_bucket(1700000000, 86400), 19675);
    CHECK_INT(ingest_dedupe_bucket(86399, 86400), 0);
    CHECK_INT(ingest_dedupe_bucket(86400, 86400), 1);
    CHECK_INT(ingest_dedupe_bucket(-5, 86400), 0);
    CHECK_INT(ingest_dedupe_bucket(100, 0), 0);
    /* a short window keeps the bucket past the next one by at most itself */
    ingest_event a = { .id = "e1", .type = "upvote", .data = (char *)"{}", .data_len = 2 };
    const ingest_event *evs[] = { &a };
    ingest_append_args args;
    ingest_append_build(&args, "l", 1, 60, 1200, evs, 1);
    CHECK(args.argvlen[1] == strlen("liftoff:seen:l:20") &&
          memcmp(args.argv[1], "liftoff:seen:l:20", args.argvlen[1]) == 0);
    CHECK(args.argvlen[5] == 4 && memcmp(args.argv[5], "1380", 4) == 0);
    ingest_append_args_free(&args);
    /* bucket 0 has no lower neighbour: the third key is another upper one */
    ingest_append_build(&args, "l", 1, 60, 5, evs, 1);
    CHECK(args.argvlen[3] == strlen("liftoff:seen:l:2") &&
          memcmp(args.argv[3], "liftoff:seen:l:2", args.argvlen[3]) == 0);
    ingest_append_args_free(&args);
}

TEST(ingest_append_reply_decoding)
{
    ingest_append_result res[3];
    redisReply *r = parse_resp("*6\r\n:0\r\n$15\r\n1700000000000-0\r\n:1\r\n$0\r\n\r\n"
                               ":2\r\n$9\r\nWRONGTYPE\r\n");
    REQUIRE(r);
    CHECK_INT(ingest_append_parse_reply(r, 3, res), 0);
    CHECK_INT(res[0].status, INGEST_APPENDED);
    CHECK_STR(res[0].stream_id, "1700000000000-0");
    CHECK_INT(res[1].status, INGEST_DUPLICATE);
    CHECK_STR(res[1].stream_id, "");
    CHECK_INT(res[2].status, INGEST_APPEND_FAILED);
    CHECK_STR(res[2].stream_id, "WRONGTYPE");
    /* the wrong count, an error reply, a bad flag */
    CHECK_INT(ingest_append_parse_reply(r, 2, res), -EPROTO);
    freeReplyObject(r);
    r = parse_resp("-ERR boom\r\n");
    CHECK_INT(ingest_append_parse_reply(r, 1, res), -EPROTO);
    freeReplyObject(r);
    r = parse_resp("*2\r\n:7\r\n$1\r\nx\r\n");
    CHECK_INT(ingest_append_parse_reply(r, 1, res), -EPROTO);
    freeReplyObject(r);
    CHECK_INT(ingest_append_parse_reply(NULL, 1, res), -EPROTO);
}
