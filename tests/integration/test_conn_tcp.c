/* test_conn_tcp.c — the conn layer over plain TCP on a real loop: echo with
 * back-pressure, writev, refused and timed-out connects, localhost and
 * IPv6, closing after a flush. */
#include "test.h"
#include "test_conn_helpers.h"
#include "peers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BIG_TRANSFER (8u << 20)

/* A client that sends a pattern and checks what comes back. */
typedef struct client {
    conn *c;
    int connected;       /* 1 ok, < 0 error */
    int connect_calls;
    size_t received;
    size_t mismatches;
    bool eof;
    int read_err;
    int drained;
    char error[CONN_ERROR_MAX];
} client;

static unsigned char pattern_at(size_t i) { return (unsigned char)((i * 31 + (i >> 13)) & 0xff); }

static void client_connect(conn *c, int status, void *ud)
{
    client *cl = ud;
    cl->connect_calls++;
    cl->connected = status == 0 ? 1 : status;
    snprintf(cl->error, sizeof cl->error, "%s", conn_error(c));
}

static void client_readable(conn *c, void *ud)
{
    client *cl = ud;
    unsigned char chunk[65536];
    for (;;) {
        ssize_t n = conn_read(c, chunk, sizeof chunk);
        if (n == -EAGAIN)
            return;
        if (n == 0) {
            cl->eof = true;
            conn_pause_read(c);
            return;
        }
        if (n < 0) {
            cl->read_err = (int)n;
            conn_pause_read(c);
            return;
        }
        for (ssize_t i = 0; i < n; i++)
            if (chunk[i] != pattern_at(cl->received + (size_t)i))
                cl->mismatches++;
        cl->received += (size_t)n;
    }
}

static void client_drained(conn *c, void *ud)
{
    ((client *)ud)->drained++;
}

static const conn_cbs client_cbs = {
    .on_connect = client_connect,
    .on_readable = client_readable,
    .on_drained = client_drained,
};

static int client_start(ev_loop *loop, client *cl, const char *host, int port, conn_tls *tls,
                        const char *server_name, uint32_t timeout_ms)
{
    memset(cl, 0, sizeof *cl);
    conn_connect_opts o = { .host = host, .port = port, .tls = tls,
                            .server_name = server_name, .connect_timeout_ms = timeout_ms };
    return conn_connect(loop, &o, &client_cbs, cl, &cl->c);
}

/* Sends BIG_TRANSFER bytes of the pattern in pieces and waits for the echo. */
void conn_test_big_echo(ev_loop *loop, client *cl);
void conn_test_big_echo(ev_loop *loop, client *cl)
{
    unsigned char *data = malloc(BIG_TRANSFER);
    REQUIRE(data);
    for (size_t i = 0; i < BIG_TRANSFER; i++)
        data[i] = pattern_at(i);
    /* Mixed sizes, including writev with several pieces. */
    size_t off = 0;
    while (off < BIG_TRANSFER) {
        size_t n = LO_MIN((size_t)(off % 3 ? 100000 : 7), BIG_TRANSFER - off);
        if (off % 5 == 0 && n > 10) {
            struct iovec iov[3] = { { data + off, 3 }, { data + off + 3, 4 }, { data + off + 7, n - 7 } };
            CHECK_INT(conn_writev(cl->c, iov, 3), 0);
        } else {
            CHECK_INT(conn_write(cl->c, data + off, n), 0);
        }
        off += n;
    }
    free(data);
    CHECK(WAIT_FOR(loop, cl->received >= BIG_TRANSFER || cl->eof || cl->read_err));
    CHECK_INT(cl->received, BIG_TRANSFER);
    CHECK_INT(cl->mismatches, 0);
    CHECK_INT(cl->read_err, 0);
    CHECK_INT(conn_out_pending(cl->c), 0);
    /* So much cannot go out at once: some was queued and drained. */
    CHECK(cl->drained >= 1);
}

TEST(conn_tcp_echo_big_transfer_with_backpressure)
{
    ev_loop *loop = ev_loop_new();
    echo_server *e = echo_start(loop, "127.0.0.1", NULL);
    REQUIRE(e);
    client cl;
    REQUIRE(client_start(loop, &cl, "127.0.0.1", echo_port(e), NULL, NULL, 0) == 0);
    /* Writes before the connect completes are queued. */
    CHECK_INT(conn_write(cl.c, "", 0), 0);
    CHECK(WAIT_FOR(loop, cl.connected != 0));
    CHECK_INT(cl.connected, 1);
    CHECK_INT(cl.connect_calls, 1);
    CHECK(!conn_is_tls(cl.c));
    char peer_s[CONN_ADDR_STR_MAX];
    conn_peer_str(cl.c, peer_s, sizeof peer_s);
    char want[64];
    snprintf(want, sizeof want, "127.0.0.1:%d", echo_port(e));
    CHECK_STR(peer_s, want);
    conn_test_big_echo(loop, &cl);
    conn_close(cl.c);
    CHECK(WAIT_FOR(loop, conn_live_count() == 0));
    CHECK_INT(echo_accepted(e), 1);
    CHECK_INT(echo_failed(e), 0);
    echo_stop(e);
    ev_loop_free(loop);
}

TEST(conn_tcp_output_limit_refuses_whole_write)
{
    ev_loop *loop = ev_loop_new();
    echo_server *e = echo_start(loop, "127.0.0.1", NULL);
    REQUIRE(e);
    client cl;
    REQUIRE(client_start(loop, &cl, "127.0.0.1", echo_port(e), NULL, NULL, 0) == 0);
    conn_set_out_max(cl.c, 1000);
    /* Still connecting: everything queues, up to the limit. */
    char blob[600] = { 0 };
    CHECK_INT(conn_write(cl.c, blob, sizeof blob), 0);
    CHECK_INT(conn_write(cl.c, blob, sizeof blob), -ENOBUFS);
    CHECK_INT(conn_out_pending(cl.c), 600);
    conn_close(cl.c);
    CHECK(WAIT_FOR(loop, conn_live_count() == 0));
    echo_stop(e);
    ev_loop_free(loop);
}

TEST(conn_tcp_connect_refused_reports_error)
{
    ev_loop *loop = ev_loop_new();
    int port = peer_free_port();
    REQUIRE(port > 0);
    client cl;
    REQUIRE(client_start(loop, &cl, "127.0.0.1", port, NULL, NULL, 0) == 0);
    CHECK_INT(cl.connect_calls, 0); /* never from inside conn_connect */
    CHECK(WAIT_FOR(loop, cl.connected != 0));
    CHECK_INT(cl.connected, -ECONNREFUSED);
    CHECK_INT(cl.connect_calls, 1);
    CHECK(strstr(cl.error, "refused") != NULL);
    CHECK(strstr(cl.error, "127.0.0.1") != NULL);
    /* A failed conn reads and writes its error. */
    char b[4];
    CHECK_INT(conn_read(cl.c, b, sizeof b), -ECONNREFUSED);
    CHECK_INT(conn_write(cl.c, "x", 1), -ECONNREFUSED);
    conn_close(cl.c);
    CHECK_INT(conn_live_count(), 0);
    /* Closed before its failure was even reported: freed at once. */
    REQUIRE(client_start(loop, &cl, "127.0.0.1", port, NULL, NULL, 0) == 0);
    conn_close(cl.c);
    CHECK_INT(conn_live_count(), 0);
    ev_loop_free(loop);
    CHECK_INT(cl.connect_calls, 0);
}

TEST(conn_tcp_connect_times_out_on_full_backlog)
{
    ev_loop *loop = ev_loop_new();
    /* A listener with backlog 0 that never accepts: once its queue is full
     * the kernel drops further SYNs, so a connect can only time out. */
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(lfd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    REQUIRE(bind(lfd, (struct sockaddr *)&a, sizeof a) == 0);
    REQUIRE(listen(lfd, 0) == 0);
    REQUIRE(getsockname(lfd, (struct sockaddr *)&a, &alen) == 0);
    int fillers[4];
    for (int i = 0; i < 4; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        connect(fillers[i], (struct sockaddr *)&a, sizeof a);
    }
    test_run_for(loop, 100); /* let the handshakes of the fillers land */
    client cl;
    REQUIRE(client_start(loop, &cl, "127.0.0.1", ntohs(a.sin_port), NULL, NULL, 300) == 0);
    CHECK(WAIT_FOR(loop, cl.connected != 0));
    CHECK_INT(cl.connected, -ETIMEDOUT);
    CHECK(strstr(cl.error, "timed out after 300 ms") != NULL);
    conn_close(cl.c);
    for (int i = 0; i < 4; i++)
        close(fillers[i]);
    close(lfd);
    ev_loop_free(loop);
}

TEST(conn_tcp_localhost_and_ipv6)
{
    ev_loop *loop = ev_loop_new();
    /* Wildcard listener (dual stack) reached through "localhost". */
    echo_server *e = echo_start(loop, NULL, NULL);
    REQUIRE(e);
    client cl;
    REQUIRE(client_start(loop, &cl, "localhost", echo_port(e), NULL, NULL, 0) == 0);
    CHECK(WAIT_FOR(loop, cl.connected != 0));
    CHECK_INT(cl.connected, 1);
    CHECK_INT(conn_write(cl.c, "\x00\x1f", 2), 0);
    CHECK(WAIT_FOR(loop, cl.received == 2));
    CHECK_INT(cl.mismatches, 0);
    conn_close(cl.c);
    echo_stop(e);

    e = echo_start(loop, "::1", NULL);
    if (!e) {
        test_skip("no IPv6 loopback here");
        ev_loop_free(loop);
        return;
    }
    REQUIRE(client_start(loop, &cl, "[::1]", echo_port(e), NULL, NULL, 0) == 0);
    CHECK(WAIT_FOR(loop, cl.connected != 0));
    CHECK_INT(cl.connected, 1);
    char peer_s[CONN_ADDR_STR_MAX];
    conn_peer_str(cl.c, peer_s, sizeof peer_s);
    CHECK(strncmp(peer_s, "[::1]:", 6) == 0);
    CHECK_INT(conn_write(cl.c, "\x00\x1f", 2), 0);
    CHECK(WAIT_FOR(loop, cl.received == 2));
    conn_close(cl.c);
    CHECK(WAIT_FOR(loop, conn_live_count() == 0));
    echo_stop(e);
    ev_loop_free(loop);
}

TEST(conn_tcp_bad_options_and_names)
{
    ev_loop *loop = ev_loop_new();
    conn *c = NULL;
    client cl = { 0 };
    conn_connect_opts o = { .host = "127.0.0.1", .port = 0 };
    CHECK_INT(conn_connect(loop, &o, &client_cbs, &cl, &c), -EINVAL);
    CHECK(c == NULL);
    o.port = 70000;
    CHECK_INT(conn_connect(loop, &o, &client_cbs, &cl, &c), -EINVAL);
    /* An unresolvable name fails through on_connect, with the reason. */
    REQUIRE(client_start(loop, &cl, "no-such-host.invalid", 1, NULL, NULL, 0) == 0);
    CHECK(WAIT_FOR(loop, cl.connected != 0));
    CHECK(cl.connected < 0);
    CHECK(strstr(cl.error, "cannot resolve no-such-host.invalid") != NULL);
    conn_close(cl.c);
    conn_listener *l = NULL;
    char err[CONN_ERROR_MAX] = "";
    conn_listen_opts lo = { .host = "not-an-address", .port = 0 };
    CHECK(conn_listen(loop, &lo, NULL, NULL, &l, err, sizeof err) < 0);
    CHECK(l == NULL);
    ev_loop_free(loop);
}

/* ---- close after flush ---- */

typedef struct flush_server {
    int accepted;
    size_t bytes;
} flush_server;

static void flush_accept(conn_listener *l, conn *c, void *arg)
{
    flush_server *fs = arg;
    fs->accepted++;
    /* Answer with a lot at once and close behind it. */
    char *blob = malloc(fs->bytes);
    for (size_t i = 0; i < fs->bytes; i++)
        blob[i] = (char)pattern_at(i);
    conn_write(c, blob, fs->bytes);
    free(blob);
    conn_close_flush(c, 5000);
}

TEST(conn_tcp_close_flush_delivers_everything_then_eof)
{
    ev_loop *loop = ev_loop_new();
    flush_server fs = { .bytes = 4u << 20 };
    conn_listener *l = NULL;
    conn_listen_opts lo = { .host = "127.0.0.1" };
    char err[CONN_ERROR_MAX];
    REQUIRE(conn_listen(loop, &lo, flush_accept, &fs, &l, err, sizeof err) == 0);
    client cl;
    REQUIRE(client_start(loop, &cl, "127.0.0.1", conn_listener_port(l), NULL, NULL, 0) == 0);
    CHECK(WAIT_FOR(loop, cl.eof || cl.read_err));
    CHECK_INT(cl.received, fs.bytes);
    CHECK_INT(cl.mismatches, 0);
    CHECK(cl.eof);
    conn_close(cl.c);
    CHECK(WAIT_FOR(loop, conn_live_count() == 0));
    conn_listener_close(l);
    ev_loop_free(loop);
}

static void count_accept(conn_listener *l, conn *c, void *arg)
{
    (*(int *)arg)++;
    conn_close(c);
}

TEST(conn_tcp_listener_reuseport_and_pause)
{
    ev_loop *loop = ev_loop_new();
    int accepted = 0;
    conn_listener *a = NULL, *b = NULL, *c = NULL;
    char err[CONN_ERROR_MAX] = "";
    conn_listen_opts o = { .host = "127.0.0.1", .reuseport = true };
    REQUIRE(conn_listen(loop, &o, count_accept, &accepted, &a, err, sizeof err) == 0);
    o.port = conn_listener_port(a);
    /* SO_REUSEPORT: a second socket on the same port is fine... */
    CHECK_INT(conn_listen(loop, &o, count_accept, &accepted, &b, err, sizeof err), 0);
    /* ...without it the port is taken, and the error says where. */
    o.reuseport = false;
    CHECK_INT(conn_listen(loop, &o, count_accept, &accepted, &c, err, sizeof err), -EADDRINUSE);
    CHECK(c == NULL);
    char want[64];
    snprintf(want, sizeof want, "bind 127.0.0.1:%d", o.port);
    CHECK(strstr(err, want) != NULL);
    conn_listener_close(b);

    /* Paused: connections wait in the backlog; resumed: they are taken. */
    conn_listener_pause(a);
    client cl;
    REQUIRE(client_start(loop, &cl, "127.0.0.1", o.port, NULL, NULL, 0) == 0);
    CHECK(WAIT_FOR(loop, cl.connected != 0));
    CHECK_INT(cl.connected, 1); /* the kernel completed the handshake */
    test_run_for(loop, 30);
    CHECK_INT(accepted, 0);
    conn_listener_resume(a);
    CHECK(WAIT_FOR(loop, accepted == 1));
    CHECK(WAIT_FOR(loop, cl.eof || cl.read_err)); /* count_accept closed it */
    conn_close(cl.c);
    conn_listener_close(a);
    ev_loop_free(loop);
}
