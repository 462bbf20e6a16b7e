/* test_redis_basic.c — the Redis client against a real redis-server:
 * commands, pipelining order, binary safety, AUTH with ACL users, SELECT,
 * scripts. */
#include "test.h"
#include "test_redis_helpers.h"
#include "redis_fixture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIPELINE_N 10000

TEST(redis_set_get_and_error_replies)
{
    rfx f;
    REQUIRE(rfx_start(&f, NULL, NULL, NULL));
    rec set = { 0 }, get = { 0 }, bad = { 0 }, wrongtype = { 0 };
    CHECK_INT(rds_command(f.r, rec_cb, &set, "SET %s %s", "greeting", "hello"), 0);
    CHECK_INT(rds_command(f.r, rec_cb, &get, "GET %s", "greeting"), 0);
    CHECK_INT(rds_command(f.r, rec_cb, &bad, "NOSUCHCOMMAND"), 0);
    CHECK_INT(rds_command(f.r, rec_cb, &wrongtype, "LPUSH %s x", "greeting"), 0);
    CHECK_INT(set.calls + get.calls, 0); /* never from inside the call */
    CHECK(WAIT_FOR(f.loop, wrongtype.calls == 1));
    CHECK_INT(set.calls, 1);
    CHECK_INT(set.type, REDIS_REPLY_STATUS);
    CHECK_STR(set.str, "OK");
    CHECK_INT(get.type, REDIS_REPLY_STRING);
    CHECK_STR(get.str, "hello");
    CHECK_INT(bad.err, 0);
    CHECK_INT(bad.type, REDIS_REPLY_ERROR);
    CHECK(bad.str && strstr(bad.str, "unknown command"));
    CHECK_INT(wrongtype.type, REDIS_REPLY_ERROR);
    CHECK(wrongtype.str && strncmp(wrongtype.str, "WRONGTYPE", 9) == 0);
    rds_stats st;
    rds_get_stats(f.r, &st);
    CHECK_INT(st.commands, 4);
    CHECK_INT(st.replies, 4);
    CHECK_INT(st.error_replies, 2);
    CHECK_INT(st.failed, 0);
    CHECK_INT(st.pending, 0);
    CHECK(st.up);
    /* Misuse is refused at once, without a callback. */
    CHECK_INT(rds_command_argv(f.r, 0, NULL, NULL, rec_cb, &set), -EINVAL);
    CHECK_INT(rds_command(f.r, NULL, NULL, "PING"), -EINVAL);
    CHECK_INT(rds_subscribe(f.r, "chan"), -EINVAL);
    rec_free(&set);
    rec_free(&get);
    rec_free(&bad);
    rec_free(&wrongtype);
    rfx_stop(&f);
}

typedef struct order {
    long long next;
    int bad;
    int errors;
} order;

static void incr_cb(rds *r, const redisReply *reply, int err, void *arg)
{
    order *o = arg;
    if (err || reply->type != REDIS_REPLY_INTEGER) {
        o->errors++;
        return;
    }
    if (reply->integer != o->next)
        o->bad++;
    o->next++;
}

TEST(redis_pipeline_10000_commands_in_order)
{
    rfx f;
    REQUIRE(rfx_start(&f, NULL, NULL, NULL));
    order o = { .next = 1 };
    const char *argv[] = { "INCR", "counter" };
    for (int i = 0; i < PIPELINE_N; i++)
        REQUIRE(rds_command_argv(f.r, 2, argv, NULL, incr_cb, &o) == 0);
    rds_stats st;
    rds_get_stats(f.r, &st);
    CHECK_INT(st.pending, PIPELINE_N);
    CHECK(WAIT_FOR(f.loop, o.next + o.errors > PIPELINE_N));
    CHECK_INT(o.next, PIPELINE_N + 1);
    CHECK_INT(o.bad, 0);
    CHECK_INT(o.errors, 0);
    rds_get_stats(f.r, &st);
    CHECK_INT(st.commands, PIPELINE_N);
    CHECK_INT(st.pending, 0);
    rfx_stop(&f);
}

TEST(redis_values_are_binary_safe)
{
    rfx f;
    REQUIRE(rfx_start(&f, NULL, NULL, "localhost"));
    char key[] = "k\0e\r\ny";
    char val[256 * 3];
    for (size_t i = 0; i < sizeof val; i++)
        val[i] = (char)(i & 0xff);
    const char *set_argv[] = { "SET", key, val };
    size_t set_len[] = { 3, sizeof key - 1, sizeof val };
    const char *get_argv[] = { "GET", key };
    size_t get_len[] = { 3, sizeof key - 1 };
    rec set = { 0 }, get = { 0 }, fmt_get = { 0 };
    CHECK_INT(rds_command_argv(f.r, 3, set_argv, set_len, rec_cb, &set), 0);
    CHECK_INT(rds_command_argv(f.r, 2, get_argv, get_len, rec_cb, &get), 0);
    CHECK_INT(rds_command(f.r, rec_cb, &fmt_get, "GET %b", key, sizeof key - 1), 0);
    CHECK(WAIT_FOR(f.loop, fmt_get.calls == 1));
    CHECK_STR(set.str, "OK");
    CHECK_INT(get.type, REDIS_REPLY_STRING);
    CHECK_INT(get.len, sizeof val);
    CHECK(get.str && memcmp(get.str, val, sizeof val) == 0);
    CHECK_INT(fmt_get.len, sizeof val);
    CHECK(fmt_get.str && memcmp(fmt_get.str, val, sizeof val) == 0);
    rec_free(&set);
    rec_free(&get);
    rec_free(&fmt_get);
    rfx_stop(&f);
}

TEST(redis_auth_with_acl_user_and_wrong_password)
{
    rfx f;
    REQUIRE(rfx_start(&f,
                      "user alice on >secret ~* &* +@all\n"
                      "user default on >defaultpw ~* &* +@all\n",
                      NULL, "alice:secret@127.0.0.1"));
    int port = peer_port(f.p);
    rec who = { 0 };
    CHECK_INT(rds_command(f.r, rec_cb, &who, "ACL WHOAMI"), 0);
    CHECK(WAIT_FOR(f.loop, who.calls == 1));
    CHECK_STR(who.str, "alice");
    rds_free(f.r);

    /* Password only: the default user. */
    f.r = test_rds(f.loop, NULL, true, "redis://:defaultpw@127.0.0.1:%d", port);
    REQUIRE(f.r);
    CHECK_INT(rds_command(f.r, rec_cb, &who, "ACL WHOAMI"), 0);
    CHECK(WAIT_FOR(f.loop, who.calls == 2));
    CHECK_STR(who.str, "default");
    rds_free(f.r);

    /* Wrong password: never up, a clear reason, retried with backoff. */
    states s = { 0 };
    rds_opts o = { .on_state = states_cb, .state_arg = &s, .backoff_min_ms = 20,
                   .backoff_max_ms = 40 };
    f.r = test_rds(f.loop, &o, false, "redis://alice:nope@127.0.0.1:%d", port);
    REQUIRE(f.r);
    CHECK(WAIT_FOR(f.loop, s.failed >= 2));
    CHECK_INT(s.up, 0);
    CHECK(!rds_is_up(f.r));
    CHECK(strstr(rds_error(f.r), "AUTH as alice failed: WRONGPASS") != NULL);
    rds_stats st;
    rds_get_stats(f.r, &st);
    CHECK(st.reconnects >= 1);
    rds_free(f.r);

    /* No credentials at all against a server that wants them. */
    f.r = test_rds(f.loop, NULL, true, "redis://127.0.0.1:%d", port);
    REQUIRE(f.r); /* no AUTH: up at once, commands are refused by redis */
    rec ping = { 0 };
    CHECK_INT(rds_command(f.r, rec_cb, &ping, "PING"), 0);
    CHECK(WAIT_FOR(f.loop, ping.calls == 1));
    CHECK_INT(ping.type, REDIS_REPLY_ERROR);
    CHECK(ping.str && strncmp(ping.str, "NOAUTH", 6) == 0);
    rec_free(&who);
    rec_free(&ping);
    rfx_stop(&f);
}

TEST(redis_select_db_from_url)
{
    rfx f; /* f.r: database 0 */
    REQUIRE(rfx_start(&f, NULL, NULL, NULL));
    rds *r5 = test_rds(f.loop, NULL, true, "redis://127.0.0.1:%d/5", peer_port(f.p));
    REQUIRE(r5);
    rec set = { 0 }, get0 = { 0 }, get5 = { 0 }, info = { 0 };
    CHECK_INT(rds_command(r5, rec_cb, &set, "SET only-in-5 yes"), 0);
    CHECK(WAIT_FOR(f.loop, set.calls == 1));
    CHECK_INT(rds_command(f.r, rec_cb, &get0, "GET only-in-5"), 0);
    CHECK_INT(rds_command(r5, rec_cb, &get5, "GET only-in-5"), 0);
    CHECK_INT(rds_command(r5, rec_cb, &info, "CLIENT INFO"), 0);
    CHECK(WAIT_FOR(f.loop, get0.calls && get5.calls && info.calls));
    CHECK_INT(get0.type, REDIS_REPLY_NIL);
    CHECK_STR(get5.str, "yes");
    CHECK(info.str && strstr(info.str, " db=5 "));
    rec_free(&set);
    rec_free(&get0);
    rec_free(&get5);
    rec_free(&info);
    rds_free(f.r);
    rds_free(r5);

    /* A database that does not exist: a clear reason. */
    states s = { 0 };
    rds_opts o = { .on_state = states_cb, .state_arg = &s, .backoff_min_ms = 20 };
    f.r = test_rds(f.loop, &o, false, "redis://127.0.0.1:%d/999", peer_port(f.p));
    REQUIRE(f.r);
    CHECK(WAIT_FOR(f.loop, s.failed >= 1));
    CHECK(strstr(rds_error(f.r), "SELECT 999 failed") != NULL);
    rfx_stop(&f);
}

TEST(redis_script_evalsha_falls_back_to_eval)
{
    rfx f;
    REQUIRE(rfx_start(&f, NULL, NULL, NULL));
    /* Dedupe then append: the shape ingest needs. */
    rds_script s;
    rds_script_init(&s, "if redis.call('SET', KEYS[1], 1, 'NX', 'EX', 60) then "
                        "  return redis.call('XADD', KEYS[2], '*', 'v', ARGV[1]) "
                        "end return false");
    rec want_sha = { 0 };
    CHECK_INT(rds_command(f.r, rec_cb, &want_sha, "SCRIPT LOAD %s", s.body), 0);
    CHECK(WAIT_FOR(f.loop, want_sha.calls == 1));
    CHECK_STR(want_sha.str, s.sha);
    rec flush = { 0 };
    CHECK_INT(rds_command(f.r, rec_cb, &flush, "SCRIPT FLUSH"), 0);
    CHECK(WAIT_FOR(f.loop, flush.calls == 1));

    const char *argv[] = { "dedupe:1", "stream", "payload\0x" };
    size_t lens[] = { 8, 6, 9 };
    rec first = { 0 }, again = { 0 }, second = { 0 }, exists = { 0 };
    CHECK_INT(rds_script_run(f.r, &s, 2, 1, argv, lens, rec_cb, &first), 0);
    CHECK(WAIT_FOR(f.loop, first.calls == 1));
    CHECK_INT(first.err, 0);
    CHECK_INT(first.type, REDIS_REPLY_STRING); /* a stream id */
    /* Now cached: EVALSHA answers; the dedupe key stops the second XADD. */
    CHECK_INT(rds_script_run(f.r, &s, 2, 1, argv, lens, rec_cb, &again), 0);
    CHECK(WAIT_FOR(f.loop, again.calls == 1));
    CHECK_INT(again.type, REDIS_REPLY_NIL);
    argv[0] = "dedupe:2";
    CHECK_INT(rds_script_run(f.r, &s, 2, 1, argv, lens, rec_cb, &second), 0);
    CHECK_INT(rds_command(f.r, rec_cb, &exists, "XLEN stream"), 0);
    CHECK(WAIT_FOR(f.loop, exists.calls == 1));
    CHECK_INT(second.type, REDIS_REPLY_STRING);
    CHECK_INT(exists.integer, 2);
    rds_stats st;
    rds_get_stats(f.r, &st);
    CHECK_INT(st.error_replies, 1); /* the one NOSCRIPT */
    CHECK_INT(rds_script_run(f.r, &s, -1, 0, NULL, NULL, rec_cb, &first), -EINVAL);
    rec_free(&want_sha);
    rec_free(&flush);
    rec_free(&first);
    rec_free(&again);
    rec_free(&second);
    rec_free(&exists);
    rds_script_free(&s);
    rfx_stop(&f);
}

/* The most arguments a script call takes, through EVAL (after NOSCRIPT) and
 * EVALSHA, with the caller's argument memory overwritten right after each
 * call: the client copied what it needs. */
TEST(redis_script_with_the_most_arguments_copies_them)
{
    rfx f;
    REQUIRE(rfx_start(&f, NULL, NULL, NULL));
    rds_script s;
    rds_script_init(&s, "return #KEYS .. ':' .. #ARGV .. ':' .. KEYS[1] .. ':' .. ARGV[#ARGV]");
    enum { NKEYS = 24, NARGS = 1000 };
    static char text[NKEYS + NARGS][16];
    static const char *argv[NKEYS + NARGS];
    static size_t lens[NKEYS + NARGS];
    rec eval = { 0 }, sha = { 0 };
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < NKEYS + NARGS; i++) {
            lens[i] = (size_t)snprintf(text[i], sizeof text[i], "%c%d", i < NKEYS ? 'k' : 'a', i);
            argv[i] = text[i];
        }
        CHECK_INT(rds_script_run(f.r, &s, NKEYS, NARGS, argv, lens, rec_cb, round ? &sha : &eval),
                  0);
        memset(text, 'x', sizeof text);
        CHECK(WAIT_FOR(f.loop, (round ? sha : eval).calls == 1));
    }
    CHECK_INT(eval.err, 0);
    CHECK_STR(eval.str, "24:1000:k0:a1023");
    CHECK_STR(sha.str, "24:1000:k0:a1023");
    rds_stats st;
    rds_get_stats(f.r, &st);
    CHECK_INT(st.error_replies, 1); /* the first call's NOSCRIPT */
    CHECK_INT(rds_script_run(f.r, &s, NKEYS, NARGS + 1, argv, lens, rec_cb, &eval), -EINVAL);
    rec_free(&eval);
    rec_free(&sha);
    rds_script_free(&s);
    rfx_stop(&f);
}
