/* test_sidecar_tunnel.c — Upgrade through liftoff-sidecar to a real
 * WebSocket echo peer (RFC 6455 handshake and framing): a message round
 * trip, frames sent right behind the handshake, a large frame under
 * back-pressure, the close handshake and the end of both connections,
 * half-close, the idle timeout, a non-101 answer relayed as a plain
 * response on a connection that stays usable, and Upgrade never cached. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common.h"
#include "test.h"
#include "test_sidecar_helpers.h"
#include "test_ws_helpers.h"

#define WAIT_MS 5000

static const char *cache_rules =
    "{\"routes\": [{\"match\": {\"prefix\": \"/\"}, \"mode\": \"override\", \"maxAge\": 60,"
    " \"jitterPercent\": 0, \"microCache\": {\"enabled\": true, \"ttlSeconds\": 60}}]}";

typedef struct wsfx {
    ev_loop *loop;
    wsecho *w;
    sc_env sc;
} wsfx;

static bool wsfx_start(wsfx *f, const char *rules, const char *flags)
{
    memset(f, 0, sizeof *f);
    f->loop = ev_loop_new();
    f->w = wsecho_start(f->loop);
    return f->w && sc_start(&f->sc, f->w->port, rules, flags);
}

static void wsfx_stop(wsfx *f)
{
    sc_stop(&f->sc);
    wsecho_stop(f->w);
    ev_loop_free(f->loop);
}

static const char ws_key[] = "dGhlIHNhbXBsZSBub25jZQ==";

static char *handshake(const char *path)
{
    return xasprintf("GET %s HTTP/1.1\r\nHost: app.test\r\nUpgrade: websocket\r\n"
                     "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n", path, ws_key);
}

/* Bytes of r after its first head. */
static char *after_head(rawc *r, size_t *n)
{
    char *s = buf_data(&r->got);
    char *e = memmem(s, buf_len(&r->got), "\r\n\r\n", 4);
    if (!e) {
        *n = 0;
        return NULL;
    }
    e += 4;
    *n = buf_len(&r->got) - (size_t)(e - s);
    return e;
}

typedef struct want_frames {
    rawc *r;
    int n;
} want_frames;

/* Counts the whole frames after the head (unmasks nothing: the server's
 * frames are not masked). */
static int frames_in(rawc *r, unsigned *last_op, char **last_pl, size_t *last_len)
{
    size_t n;
    char *p = after_head(r, &n);
    int count = 0;
    while (p && n) {
        unsigned op;
        char *pl;
        size_t plen;
        ssize_t k = ws_frame_parse(p, n, &op, &pl, &plen);
        if (k <= 0)
            break;
        count++;
        if (last_op)
            *last_op = op;
        if (last_pl)
            *last_pl = pl;
        if (last_len)
            *last_len = plen;
        p += k;
        n -= (size_t)k;
    }
    return count;
}

static bool has_frames(void *arg)
{
    want_frames *w = arg;
    return w->r->eof || w->r->err || frames_in(w->r, NULL, NULL, NULL) >= w->n;
}

static bool wait_frames(ev_loop *loop, rawc *r, int n)
{
    want_frames w = { r, n };
    return sc_wait(loop, has_frames, &w, WAIT_MS) && frames_in(r, NULL, NULL, NULL) >= n;
}

static int send_frame(rawc *r, unsigned op, const void *p, size_t n)
{
    buf_t b;
    buf_init(&b, n + 16);
    int rc = ws_frame_append(&b, op, p, n, true);
    if (rc == 0)
        rc = rawc_send(r, buf_data(&b), buf_len(&b));
    buf_free(&b);
    return rc;
}

static bool echo_closed(void *arg) { return ((wsecho *)arg)->open == 0; }

/* Opens a tunnel: handshake sent, 101 with the right accept checked. */
static rawc *open_ws(wsfx *f)
{
    rawc *r = rawc_open(f->loop, f->sc.port);
    if (!r)
        return NULL;
    char *hs = handshake("/ws");
    rawc_sends(r, hs);
    free(hs);
    char acc[29], got[64] = "";
    ws_accept_for(ws_key, acc);
    if (!sc_wait_head(f->loop, r, WAIT_MS) || sc_status(r) != 101 ||
        !sc_field(r, "Sec-WebSocket-Accept", got, sizeof got) || strcmp(got, acc) != 0) {
        fprintf(stderr, "    handshake answer: %.300s\n", rawc_text(r));
        rawc_close(r);
        return NULL;
    }
    return r;
}

TEST(sidecar_tunnel_websocket_echo_and_close)
{
    wsfx f;
    REQUIRE(wsfx_start(&f, NULL, NULL));
    rawc *r = open_ws(&f);
    REQUIRE(r);
    CHECK(f.w->saw_conn_upgrade); /* the hop-by-hop fields went through */
    char up[32] = "";
    CHECK(sc_field(r, "Upgrade", up, sizeof up) && strcasecmp(up, "websocket") == 0);
    CHECK(send_frame(r, WS_TEXT, "hello through the sidecar", 25) == 0);
    REQUIRE(wait_frames(f.loop, r, 1));
    unsigned op = 0;
    char *pl = NULL;
    size_t plen = 0;
    frames_in(r, &op, &pl, &plen);
    CHECK_INT(op, WS_TEXT);
    CHECK(plen == 25 && memcmp(pl, "hello through the sidecar", 25) == 0);
    /* a ping is a frame like any other to the tunnel */
    CHECK(send_frame(r, WS_PING, "p", 1) == 0);
    REQUIRE(wait_frames(f.loop, r, 2));
    frames_in(r, &op, NULL, NULL);
    CHECK_INT(op, WS_PONG);
    /* the close handshake: the peer answers and ends, the client sees the end */
    CHECK(send_frame(r, WS_CLOSE, "\x03\xe8", 2) == 0);
    REQUIRE(wait_frames(f.loop, r, 3));
    frames_in(r, &op, NULL, NULL);
    CHECK_INT(op, WS_CLOSE);
    CHECK(sc_wait_eof(f.loop, r, WAIT_MS));
    CHECK(sc_wait(f.loop, echo_closed, f.w, WAIT_MS));
    rawc_close(r);
    CHECK_INT(f.w->upgrades, 1);
    wsfx_stop(&f);
}

TEST(sidecar_tunnel_frames_behind_handshake_and_backpressure)
{
    wsfx f;
    REQUIRE(wsfx_start(&f, NULL, NULL));
    rawc *r = rawc_open(f.loop, f.sc.port);
    REQUIRE(r);
    /* The first frame goes in the same write as the handshake: the bytes
     * past the request head must reach the peer after the 101. */
    buf_t b;
    buf_init(&b, 1 << 20);
    char *hs = handshake("/ws");
    buf_append_str(&b, hs);
    free(hs);
    ws_frame_append(&b, WS_TEXT, "early", 5, true);
    rawc_send(r, buf_data(&b), buf_len(&b));
    buf_free(&b);
    REQUIRE(sc_wait_head(f.loop, r, WAIT_MS));
    CHECK_INT(sc_status(r), 101);
    REQUIRE(wait_frames(f.loop, r, 1));
    char *pl = NULL;
    size_t plen = 0;
    frames_in(r, NULL, &pl, &plen);
    CHECK(plen == 5 && memcmp(pl, "early", 5) == 0);
    /* A frame larger than the pipe's high-water mark both ways. */
    size_t big = 700u << 10;
    char *data = xmalloc(big);
    for (size_t i = 0; i < big; i++)
        data[i] = (char)('a' + i % 23);
    CHECK(send_frame(r, WS_BINARY, data, big) == 0);
    REQUIRE(wait_frames(f.loop, r, 2));
    unsigned op = 0;
    frames_in(r, &op, &pl, &plen);
    CHECK_INT(op, WS_BINARY);
    CHECK(plen == big && memcmp(pl, data, big) == 0);
    free(data);
    rawc_close(r);
    /* the client's close ends the upstream side too */
    CHECK(sc_wait(f.loop, echo_closed, f.w, WAIT_MS));
    wsfx_stop(&f);
}

TEST(sidecar_tunnel_half_close)
{
    wsfx f;
    REQUIRE(wsfx_start(&f, NULL, NULL));
    rawc *r = open_ws(&f);
    REQUIRE(r);
    /* A frame, then the client shuts its sending side only: the frame is
     * still echoed back before the end reaches the client. */
    CHECK(send_frame(r, WS_TEXT, "last words", 10) == 0);
    CHECK(shutdown(conn_fd(r->c), SHUT_WR) == 0);
    CHECK(sc_wait_eof(f.loop, r, WAIT_MS));
    char *pl = NULL;
    size_t plen = 0;
    CHECK_INT(frames_in(r, NULL, &pl, &plen), 1);
    CHECK(plen == 10 && memcmp(pl, "last words", 10) == 0);
    CHECK(sc_wait(f.loop, echo_closed, f.w, WAIT_MS));
    rawc_close(r);
    wsfx_stop(&f);
}

TEST(sidecar_tunnel_idle_timeout)
{
    wsfx f;
    REQUIRE(wsfx_start(&f, NULL, "--tunnel-idle-timeout 300ms"));
    rawc *r = open_ws(&f);
    REQUIRE(r);
    CHECK(send_frame(r, WS_TEXT, "x", 1) == 0);
    REQUIRE(wait_frames(f.loop, r, 1));
    /* nothing more either way: the sidecar ends both sides */
    CHECK(sc_wait_eof(f.loop, r, WAIT_MS));
    CHECK(sc_wait(f.loop, echo_closed, f.w, WAIT_MS));
    rawc_close(r);
    wsfx_stop(&f);
}

TEST(sidecar_tunnel_non_101_is_a_plain_response)
{
    wsfx f;
    REQUIRE(wsfx_start(&f, cache_rules, NULL));
    rawc *r = rawc_open(f.loop, f.sc.port);
    REQUIRE(r);
    char *hs = handshake("/not-ws");
    rawc_sends(r, hs);
    REQUIRE(sc_wait_head(f.loop, r, WAIT_MS));
    CHECK_INT(sc_status(r), 200);
    char v[32] = "";
    CHECK(!sc_field(r, "Upgrade", v, sizeof v));
    CHECK(rawc_has(r, "plain\n"));
    /* the same connection carries the next (plain) request */
    buf_reset(&r->got);
    rawc_sends(r, "GET /other HTTP/1.1\r\nHost: app.test\r\n\r\n");
    REQUIRE(sc_wait_head(f.loop, r, WAIT_MS));
    CHECK_INT(sc_status(r), 200);
    /* the Upgrade request on a micro-cached route was not served from or
     * stored in the cache: it reaches the origin every time */
    buf_reset(&r->got);
    rawc_sends(r, hs);
    REQUIRE(sc_wait_head(f.loop, r, WAIT_MS));
    CHECK_INT(sc_status(r), 200);
    CHECK_INT(f.w->plain_upgrades, 2);
    free(hs);
    rawc_close(r);
    /* and a real upgrade on the cached route still tunnels */
    rawc *ws = open_ws(&f);
    CHECK(ws != NULL);
    if (ws)
        rawc_close(ws);
    CHECK(sc_wait(f.loop, echo_closed, f.w, WAIT_MS));
    wsfx_stop(&f);
}
