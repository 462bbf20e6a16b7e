/* test_conn_tls.c — the conn layer over TLS: a TLS server and client on one
 * loop, certificate and name verification, client certificates, handshake
 * failures and timeouts. The PKI is made with the openssl CLI at test time. */
#include "test.h"
#include "test_conn_helpers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TLS_TRANSFER (6u << 20)

typedef struct tclient {
    conn *c;
    int connected;      /* 1 ok, < 0 error */
    size_t received;
    size_t mismatches;
    bool eof;
    int read_err;
    char error[CONN_ERROR_MAX];
} tclient;

static unsigned char pat(size_t i) { return (unsigned char)((i * 7 + (i >> 11)) & 0xff); }

static void tc_connect(conn *c, int status, void *ud)
{
    tclient *t = ud;
    t->connected = status == 0 ? 1 : status;
    snprintf(t->error, sizeof t->error, "%s", conn_error(c));
}

static void tc_readable(conn *c, void *ud)
{
    tclient *t = ud;
    unsigned char chunk[1000]; /* small: leaves bytes pending inside OpenSSL */
    ssize_t n = conn_read(c, chunk, sizeof chunk);
    if (n == -EAGAIN)
        return;
    if (n <= 0) {
        if (n == 0)
            t->eof = true;
        else
            t->read_err = (int)n;
        snprintf(t->error, sizeof t->error, "%s", conn_error(c));
        conn_pause_read(c);
        return;
    }
    for (ssize_t i = 0; i < n; i++)
        if (chunk[i] != pat(t->received + (size_t)i))
            t->mismatches++;
    t->received += (size_t)n;
}

static const conn_cbs tc_cbs = { .on_connect = tc_connect, .on_readable = tc_readable };

static int tc_start(ev_loop *loop, tclient *t, const char *host, int port, conn_tls *tls,
                    const char *name, uint32_t timeout_ms)
{
    memset(t, 0, sizeof *t);
    conn_connect_opts o = { .host = host, .port = port, .tls = tls, .server_name = name,
                            .connect_timeout_ms = timeout_ms };
    return conn_connect(loop, &o, &tc_cbs, t, &t->c);
}

static conn_tls *server_ctx(const char *client_ca)
{
    conn_tls_opts o = { .cert_file = testcert("server.pem"), .key_file = testcert("server.key"),
                        .ca_file = client_ca };
    conn_tls *t = NULL;
    char err[256];
    if (conn_tls_server_new(&o, &t, err, sizeof err) < 0)
        fprintf(stderr, "    server ctx: %s\n", err);
    return t;
}

static conn_tls *client_ctx(const char *ca, bool insecure, bool with_cert)
{
    conn_tls_opts o = { .ca_file = ca, .insecure_skip_verify = insecure };
    if (with_cert) {
        o.cert_file = testcert("client.pem");
        o.key_file = testcert("client.key");
    }
    conn_tls *t = NULL;
    char err[256];
    if (conn_tls_client_new(&o, &t, err, sizeof err) < 0)
        fprintf(stderr, "    client ctx: %s\n", err);
    return t;
}

#define NEED_PKI()                                                             \
    do {                                                                       \
        if (!testcert("ca.pem")) {                                             \
            test_fail(__FILE__, __LINE__, "openssl CLI made no certificates"); \
            return;                                                            \
        }                                                                      \
    } while (0)

TEST(conn_tls_echo_with_verified_server)
{
    NEED_PKI();
    ev_loop *loop = ev_loop_new();
    conn_tls *st = server_ctx(NULL), *ct = client_ctx(testcert("ca.pem"), false, false);
    REQUIRE(st && ct);
    echo_server *e = echo_start(loop, "127.0.0.1", st);
    REQUIRE(e);
    /* The contexts may go while conns use them. */
    conn_tls_free(st);
    const char *names[] = { NULL /* the IP itself, checked as IP */, "localhost" };
    for (int k = 0; k < 2; k++) {
        tclient t;
        REQUIRE(tc_start(loop, &t, "127.0.0.1", echo_port(e), ct, names[k], 0) == 0);
        CHECK(conn_is_tls(t.c));
        unsigned char *data = malloc(TLS_TRANSFER);
        REQUIRE(data);
        for (size_t i = 0; i < TLS_TRANSFER; i++)
            data[i] = pat(i);
        /* Queued during the handshake, then sent in pieces. */
        CHECK_INT(conn_write(t.c, data, 5000), 0);
        CHECK(WAIT_FOR(loop, t.connected != 0));
        CHECK_INT(t.connected, 1);
        CHECK_STR(t.error, "");
        for (size_t off = 5000; off < TLS_TRANSFER; off += 250000) {
            size_t n = LO_MIN((size_t)250000, TLS_TRANSFER - off);
            struct iovec iov[2] = { { data + off, 1 }, { data + off + 1, n - 1 } };
            CHECK_INT(conn_writev(t.c, iov, 2), 0);
        }
        free(data);
        CHECK(WAIT_FOR(loop, t.received >= TLS_TRANSFER || t.eof || t.read_err));
        CHECK_INT(t.received, TLS_TRANSFER);
        CHECK_INT(t.mismatches, 0);
        CHECK_INT(t.read_err, 0);
        conn_close(t.c);
    }
    CHECK(WAIT_FOR(loop, conn_live_count() == 0));
    CHECK_INT(echo_failed(e), 0);
    echo_stop(e);
    conn_tls_free(ct);
    ev_loop_free(loop);
}

/* Connects to e with ct and expects the handshake to fail with text want. */
static void expect_verify_failure(ev_loop *loop, echo_server *e, conn_tls *ct, const char *name,
                                  const char *want)
{
    tclient t;
    int failed_before = echo_failed(e);
    REQUIRE(tc_start(loop, &t, "127.0.0.1", echo_port(e), ct, name, 0) == 0);
    CHECK(WAIT_FOR(loop, t.connected != 0));
    CHECK_INT(t.connected, -EPROTO);
    if (!strstr(t.error, want)) {
        fprintf(stderr, "    error \"%s\" lacks \"%s\"\n", t.error, want);
        test_fail(__FILE__, __LINE__, "error text");
    }
    conn_close(t.c);
    /* The server side sees the alert and reports its own handshake error. */
    CHECK(WAIT_FOR(loop, echo_failed(e) > failed_before));
    CHECK(strstr(echo_last_error(e), "TLS handshake with 127.0.0.1:") != NULL);
}

TEST(conn_tls_wrong_ca_and_wrong_name_fail_clearly)
{
    NEED_PKI();
    ev_loop *loop = ev_loop_new();
    conn_tls *st = server_ctx(NULL);
    conn_tls *other = client_ctx(testcert("other-ca.pem"), false, false);
    conn_tls *good = client_ctx(testcert("ca.pem"), false, false);
    conn_tls *insecure = client_ctx(testcert("other-ca.pem"), true, false);
    REQUIRE(st && other && good && insecure);
    echo_server *e = echo_start(loop, "127.0.0.1", st);
    REQUIRE(e);
    expect_verify_failure(loop, e, other, NULL, "certificate verify failed");
    expect_verify_failure(loop, e, other, NULL, "unable to get local issuer certificate");
    expect_verify_failure(loop, e, good, "wrong.example", "hostname mismatch");
    expect_verify_failure(loop, e, good, "10.9.8.7", "IP address mismatch");
    /* Tests-only escape hatch: anything goes. */
    tclient t;
    REQUIRE(tc_start(loop, &t, "127.0.0.1", echo_port(e), insecure, "wrong.example", 0) == 0);
    CHECK(WAIT_FOR(loop, t.connected != 0));
    CHECK_INT(t.connected, 1);
    CHECK_INT(conn_write(t.c, "\x00\x07", 2), 0);
    CHECK(WAIT_FOR(loop, t.received == 2));
    conn_close(t.c);
    CHECK(WAIT_FOR(loop, conn_live_count() == 0));
    echo_stop(e);
    conn_tls_free(st);
    conn_tls_free(other);
    conn_tls_free(good);
    conn_tls_free(insecure);
    ev_loop_free(loop);
}

TEST(conn_tls_client_certificates)
{
    NEED_PKI();
    ev_loop *loop = ev_loop_new();
    conn_tls *st = server_ctx(testcert("ca.pem"));
    conn_tls *with = client_ctx(testcert("ca.pem"), false, true);
    conn_tls *without = client_ctx(testcert("ca.pem"), false, false);
    REQUIRE(st && with && without);
    echo_server *e = echo_start(loop, "127.0.0.1", st);
    REQUIRE(e);
    tclient t;
    REQUIRE(tc_start(loop, &t, "127.0.0.1", echo_port(e), with, NULL, 0) == 0);
    CHECK(WAIT_FOR(loop, t.connected != 0));
    CHECK_INT(t.connected, 1);
    CHECK_INT(conn_write(t.c, "\x00\x07\x0e", 3), 0);
    CHECK(WAIT_FOR(loop, t.received == 3));
    CHECK_INT(t.mismatches, 0);
    conn_close(t.c);

    /* Without a certificate: with TLS 1.3 the client may finish its side
     * first, so the refusal shows either at connect or at the first read. */
    REQUIRE(tc_start(loop, &t, "127.0.0.1", echo_port(e), without, NULL, 0) == 0);
    CHECK(WAIT_FOR(loop, t.connected != 0));
    if (t.connected == 1) {
        CHECK_INT(conn_write(t.c, "x", 1), 0);
        CHECK(WAIT_FOR(loop, t.eof || t.read_err));
        CHECK_INT(t.received, 0);
    }
    CHECK(WAIT_FOR(loop, echo_failed(e) == 1));
    CHECK(strstr(echo_last_error(e), "certificate") != NULL);
    conn_close(t.c);
    CHECK(WAIT_FOR(loop, conn_live_count() == 0));
    echo_stop(e);
    conn_tls_free(st);
    conn_tls_free(with);
    conn_tls_free(without);
    ev_loop_free(loop);
}

TEST(conn_tls_handshake_times_out_against_silent_server)
{
    NEED_PKI();
    ev_loop *loop = ev_loop_new();
    /* Accepts TCP (in the kernel) and never says a word. */
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(lfd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    REQUIRE(bind(lfd, (struct sockaddr *)&a, sizeof a) == 0);
    REQUIRE(listen(lfd, 8) == 0);
    REQUIRE(getsockname(lfd, (struct sockaddr *)&a, &alen) == 0);
    conn_tls *ct = client_ctx(testcert("ca.pem"), false, false);
    REQUIRE(ct);
    tclient t;
    REQUIRE(tc_start(loop, &t, "127.0.0.1", ntohs(a.sin_port), ct, NULL, 250) == 0);
    CHECK(WAIT_FOR(loop, t.connected != 0));
    CHECK_INT(t.connected, -ETIMEDOUT);
    CHECK(strstr(t.error, "TLS handshake to 127.0.0.1:") != NULL);
    CHECK(strstr(t.error, "timed out after 250 ms") != NULL);
    conn_close(t.c);
    close(lfd);
    conn_tls_free(ct);
    ev_loop_free(loop);
}

TEST(conn_tls_server_rejects_plaintext_client)
{
    NEED_PKI();
    ev_loop *loop = ev_loop_new();
    conn_tls *st = server_ctx(NULL);
    REQUIRE(st);
    echo_server *e = echo_start(loop, "127.0.0.1", st);
    REQUIRE(e);
    tclient t;
    REQUIRE(tc_start(loop, &t, "127.0.0.1", echo_port(e), NULL, NULL, 0) == 0);
    CHECK(WAIT_FOR(loop, t.connected != 0));
    CHECK_INT(t.connected, 1);
    const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK_INT(conn_write(t.c, req, sizeof req - 1), 0);
    CHECK(WAIT_FOR(loop, echo_failed(e) == 1));
    CHECK(strstr(echo_last_error(e), "TLS handshake with 127.0.0.1:") != NULL);
    CHECK(WAIT_FOR(loop, t.eof || t.read_err));
    conn_close(t.c);
    CHECK(WAIT_FOR(loop, conn_live_count() == 0));
    echo_stop(e);
    conn_tls_free(st);
    ev_loop_free(loop);
}

TEST(conn_tls_context_errors_name_the_file)
{
    NEED_PKI();
    conn_tls *t = NULL;
    char err[256] = "";
    conn_tls_opts o = { .cert_file = "/nonexistent/cert.pem", .key_file = testcert("server.key") };
    CHECK_INT(conn_tls_server_new(&o, &t, err, sizeof err), -EINVAL);
    CHECK(t == NULL);
    CHECK(strstr(err, "cannot load certificate /nonexistent/cert.pem") != NULL);
    o = (conn_tls_opts){ .cert_file = testcert("server.pem"), .key_file = testcert("client.key") };
    CHECK_INT(conn_tls_server_new(&o, &t, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "key values mismatch") != NULL || strstr(err, "does not match") != NULL);
    o = (conn_tls_opts){ .ca_file = "/nonexistent/ca.pem" };
    CHECK_INT(conn_tls_client_new(&o, &t, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "cannot load CA file /nonexistent/ca.pem") != NULL);
    o = (conn_tls_opts){ .cert_file = testcert("server.pem") };
    CHECK_INT(conn_tls_server_new(&o, &t, err, sizeof err), -EINVAL);
    CHECK(strstr(err, "cert_file and key_file") != NULL);
}
