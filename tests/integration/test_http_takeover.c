/* test_http_takeover.c — handing connections over after a head:
 * http_req_take_conn (server) and http_creq_take_conn (client), with the
 * bytes already read past the head, against each other and a raw client. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "http_client.h"
#include "test.h"
#include "test_sidecar_helpers.h"

typedef struct side {
    conn *c;
    buf_t got;      /* rest + everything read afterwards */
    bool eof;
    int take_rc;
} side;

static void side_readable(conn *c, void *ud)
{
    side *s = ud;
    char tmp[4096];
    ssize_t n;
    while ((n = conn_read(c, tmp, sizeof tmp)) > 0)
        buf_append(&s->got, tmp, (size_t)n);
    if (n == 0 || (n < 0 && n != -EAGAIN)) {
        s->eof = true;
        conn_pause_read(c);
    }
}

static const conn_cbs side_cbs = { .on_readable = side_readable };

typedef struct tk {
    http_server *s;
    side srv;       /* the server's taken connection */
    int late_rc;    /* take_conn after the response started */
} tk;

static void tk_handle(http_req *r, void *arg)
{
    tk *t = arg;
    const http_request *h = http_req_head(r);
    if (!h->upgrade) {
        http_res_start(r, 200, 2);
        t->late_rc = http_req_take_conn(r, &side_cbs, &t->srv, &t->srv.c, NULL);
        http_res_write(r, "no", 2);
        http_res_end(r);
        return;
    }
    t->srv.take_rc = http_req_take_conn(r, &side_cbs, &t->srv, &t->srv.c, &t->srv.got);
    if (t->srv.take_rc == 0) {
        static const char sw[] = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\n"
                                 "Connection: upgrade\r\n\r\nSERVER-EARLY";
        conn_write(t->srv.c, sw, sizeof sw - 1);
    }
}

static bool has(const buf_t *b, const char *needle)
{
    return buf_len(b) && memmem(buf_data(b), buf_len(b), needle, strlen(needle));
}

static bool got_both(void *arg)
{
    side *s = arg;
    return s->eof || (has(&s->got, "CLIENT-EARLY") && has(&s->got, "later"));
}

static bool got_text(void *arg)
{
    side *s = arg;
    return s->eof || (has(&s->got, "SERVER-EARLY") && has(&s->got, "pong"));
}

static bool no_conns(void *arg) { return http_server_conn_count(arg) == 0; }

static bool tk_start(ev_loop *loop, tk *t)
{
    memset(t, 0, sizeof *t);
    buf_init(&t->srv.got, 1 << 16);
    t->late_rc = 1;
    http_server_opts o = { .host = "127.0.0.1", .on_request = tk_handle, .arg = t };
    return http_server_start(loop, &o, &t->s, NULL, 0) == 0;
}

TEST(http_server_take_conn_hands_over_rest)
{
    ev_loop *loop = ev_loop_new();
    tk t;
    REQUIRE(tk_start(loop, &t));
    rawc *r = rawc_open(loop, http_server_port(t.s));
    REQUIRE(r);
    rawc_sends(r, "GET /up HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: test\r\n\r\n"
                  "CLIENT-EARLY");
    REQUIRE(sc_wait_head(loop, r, 5000));
    CHECK_INT(t.srv.take_rc, 0);
    CHECK_INT(sc_status(r), 101);
    rawc_sends(r, "later");
    CHECK(sc_wait(loop, got_both, &t.srv, 5000));
    CHECK(!t.srv.eof);
    /* the server let go of it: no connection counted, a drain is not held up */
    CHECK(sc_wait(loop, no_conns, t.s, 5000));
    /* a plain request: too late once the response started */
    rawc *p = rawc_open(loop, http_server_port(t.s));
    REQUIRE(p);
    rawc_sends(p, "GET /plain HTTP/1.1\r\nHost: h\r\n\r\n");
    REQUIRE(sc_wait_head(loop, p, 5000));
    CHECK_INT(sc_status(p), 200);
    CHECK_INT(t.late_rc, -EINVAL);
    rawc_close(p);
    rawc_close(r);
    conn_close(t.srv.c);
    buf_free(&t.srv.got);
    http_server_free(t.s);
    ev_loop_free(loop);
}

typedef struct cli {
    side s;
    int status;
    bool done;
} cli;

static void cli_head(http_creq *q, const http_response *res, void *ud)
{
    cli *c = ud;
    c->status = res->status;
    c->s.take_rc = http_creq_take_conn(q, &side_cbs, &c->s, &c->s.c, &c->s.got);
    if (c->s.take_rc == 0)
        conn_write(c->s.c, "ping", 4);
}

static void cli_done(http_creq *q, int err, void *ud) { ((cli *)ud)->done = true; }

/* The server side echoes "pong" once it has "ping". */
static bool srv_ping(void *arg)
{
    side *s = arg;
    return s->c && has(&s->got, "ping");
}

TEST(http_client_take_conn_after_101)
{
    ev_loop *loop = ev_loop_new();
    tk t;
    REQUIRE(tk_start(loop, &t));
    http_client *hc = http_client_new(loop, NULL);
    cli c = { 0 };
    buf_init(&c.s.got, 1 << 16);
    http_header hs[] = { { { "Connection", 10 }, { "upgrade", 7 } },
                         { { "Upgrade", 7 }, { "test", 4 } } };
    http_client_req o = { .method = "GET", .host = "127.0.0.1", .port = http_server_port(t.s),
                          .target = "/up", .headers = hs, .nheaders = 2,
                          .on_head = cli_head, .on_done = cli_done, .ud = &c };
    REQUIRE(http_client_request(hc, &o, NULL) == 0);
    REQUIRE(sc_wait(loop, srv_ping, &t.srv, 5000));
    conn_write(t.srv.c, "pong", 4);
    CHECK(sc_wait(loop, got_text, &c.s, 5000));
    CHECK_INT(c.status, 101);
    CHECK_INT(c.s.take_rc, 0);
    CHECK(!c.done); /* no on_done after a take-over */
    CHECK_INT(http_client_idle_count(hc), 0);
    conn_close(c.s.c);
    conn_close(t.srv.c);
    buf_free(&c.s.got);
    buf_free(&t.srv.got);
    http_client_free(hc);
    http_server_free(t.s);
    ev_loop_free(loop);
}
