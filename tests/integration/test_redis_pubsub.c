/* test_redis_pubsub.c — subscriber clients: SUBSCRIBE / PSUBSCRIBE with a
 * message callback, binary payloads, resubscription after the server was
 * killed and restarted, UNSUBSCRIBE. */
#include "test.h"
#include "test_redis_helpers.h"
#include "peers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MSG_KEEP 16

typedef struct inbox {
    int subscribed, unsubscribed, messages;
    char channel[MSG_KEEP][64];
    char pattern[MSG_KEEP][64];
    char data[MSG_KEEP][64];
    size_t data_len[MSG_KEEP];
} inbox;

static void copy(char *dst, const char *src, size_t n)
{
    n = LO_MIN(n, (size_t)63);
    if (src)
        memcpy(dst, src, n);
    dst[src ? n : 0] = '\0';
}

static void on_msg(rds *r, const rds_msg *m, void *arg)
{
    inbox *in = arg;
    switch (m->kind) {
    case RDS_MSG_SUBSCRIBED:
        in->subscribed++;
        break;
    case RDS_MSG_UNSUBSCRIBED:
        in->unsubscribed++;
        break;
    case RDS_MSG_MESSAGE:
    case RDS_MSG_PMESSAGE: {
        int i = in->messages++ % MSG_KEEP;
        copy(in->channel[i], m->channel, m->channel_len);
        copy(in->pattern[i], m->pattern, m->pattern_len);
        memcpy(in->data[i], m->data, LO_MIN(m->data_len, (size_t)64));
        in->data_len[i] = m->data_len;
        break;
    }
    }
}

static int publish(ev_loop *loop, rds *pub, const char *ch, const char *data, size_t len)
{
    rec x = { 0 };
    rds_command(pub, rec_cb, &x, "PUBLISH %s %b", ch, data, len);
    WAIT_FOR(loop, x.calls == 1);
    int n = x.err ? -1 : (int)x.integer;
    rec_free(&x);
    return n;
}

TEST(redis_pubsub_messages_and_resubscribe_after_restart)
{
    peer *p = peer_redis_start("user alice on >secret ~* &* +@all\n");
    REQUIRE(p);
    ev_loop *loop = ev_loop_new();
    inbox in = { 0 };
    states s = { 0 };
    rds_opts so = { .on_message = on_msg, .message_arg = &in, .on_state = states_cb,
                    .state_arg = &s, .backoff_min_ms = 20, .backoff_max_ms = 100 };
    rds *sub = test_rds(loop, &so, false, "redis://alice:secret@127.0.0.1:%d", peer_port(p));
    rds *pub = test_rds(loop, NULL, true, "redis://alice:secret@127.0.0.1:%d", peer_port(p));
    REQUIRE(sub && pub);
    /* Subscriptions may be made before the connection is up. */
    CHECK_INT(rds_subscribe(sub, "news"), 0);
    CHECK_INT(rds_psubscribe(sub, "ev.*"), 0);
    CHECK_INT(rds_subscribe(sub, "news"), -EEXIST);
    CHECK_INT(rds_unsubscribe(sub, "nope"), -ENOENT);
    rec x = { 0 };
    CHECK_INT(rds_command(sub, rec_cb, &x, "PING"), -EINVAL);
    CHECK(WAIT_FOR(loop, in.subscribed == 2));
    CHECK_INT(publish(loop, pub, "news", "hello", 5), 1);
    CHECK_INT(publish(loop, pub, "ev.deploy", "bin\0ary", 7), 1);
    CHECK(WAIT_FOR(loop, in.messages == 2));
    CHECK_STR(in.channel[0], "news");
    CHECK_STR(in.pattern[0], "");
    CHECK_STR(in.data[0], "hello");
    CHECK_STR(in.channel[1], "ev.deploy");
    CHECK_STR(in.pattern[1], "ev.*");
    CHECK_INT(in.data_len[1], 7);
    CHECK(memcmp(in.data[1], "bin\0ary", 7) == 0);

    /* The server dies and comes back: both subscriptions are made again. */
    peer_kill9(p);
    CHECK(WAIT_FOR(loop, s.down == 1));
    REQUIRE(peer_restart(p) == 0);
    CHECK(WAIT_FOR(loop, in.subscribed == 4));
    CHECK(WAIT_FOR(loop, rds_is_up(pub)));
    CHECK_INT(publish(loop, pub, "news", "again", 5), 1);
    CHECK(WAIT_FOR(loop, in.messages == 3));
    CHECK_STR(in.data[2], "again");

    CHECK_INT(rds_unsubscribe(sub, "news"), 0);
    CHECK(WAIT_FOR(loop, in.unsubscribed == 1));
    CHECK_INT(publish(loop, pub, "news", "gone", 4), 0);
    CHECK_INT(publish(loop, pub, "ev.x", "still", 5), 1);
    CHECK(WAIT_FOR(loop, in.messages == 4));
    CHECK_STR(in.data[3], "still");
    rds_stats st;
    rds_get_stats(sub, &st);
    CHECK_INT(st.messages, 4);
    CHECK_INT(st.connects, 2);
    rds_free(sub);
    rds_free(pub);
    ev_loop_free(loop);
    peer_stop(p);
}

TEST(redis_pubsub_ping_notices_a_stalled_server)
{
    peer *p = peer_redis_start(NULL);
    REQUIRE(p);
    ev_loop *loop = ev_loop_new();
    inbox in = { 0 };
    states s = { 0 };
    rds_opts so = { .on_message = on_msg, .message_arg = &in, .on_state = states_cb,
                    .state_arg = &s, .ping_interval_ms = 100, .backoff_min_ms = 20 };
    rds *sub = test_rds(loop, &so, true, "redis://127.0.0.1:%d", peer_port(p));
    REQUIRE(sub);
    CHECK_INT(rds_subscribe(sub, "c"), 0);
    CHECK(WAIT_FOR(loop, in.subscribed == 1));
    /* Answered PINGs keep it up... */
    rds_stats st;
    CHECK(WAIT_FOR(loop, (rds_get_stats(sub, &st), st.commands >= 4)));
    CHECK_INT(s.down, 0);
    /* ...an unanswered one brings it down. */
    peer_pause(p);
    CHECK(WAIT_FOR(loop, s.down == 1));
    CHECK(strstr(rds_error(sub), "no answer to PING") != NULL);
    peer_resume(p);
    CHECK(WAIT_FOR(loop, in.subscribed == 2));
    rds_free(sub);
    ev_loop_free(loop);
    peer_stop(p);
}
