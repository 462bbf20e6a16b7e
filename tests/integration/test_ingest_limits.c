/* test_ingest_limits.c — slow and greedy clients against liftoff-ingest:
 * header and body read timeouts, idle keep-alive timeout, the connection
 * cap, the per-connection request limit, and the graceful drain on SIGTERM
 * (a request waiting for Redis is still answered). */
#include "test.h"
#include "test_ingest_helpers.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "ingest/signature.h"

#define START(e, flags)                                                 \
    do {                                                                \
        if (!ih_binary()) {                                             \
            test_skip("bin/liftoff-ingest not built");                  \
            return;                                                     \
        }                                                               \
        REQUIRE(ih_start(&(e), NULL, (flags)));                         \
    } while (0)

static bool send_str(int fd, const char *s)
{
    return send(fd, s, strlen(s), MSG_NOSIGNAL) == (ssize_t)strlen(s);
}

/* What the server did with a connection we stopped writing to: 408 or a
 * close counts as "it hung up"; our own read timeout does not. */
static bool server_hung_up(int fd)
{
    ih_resp r;
    int st = ih_read_response(fd, &r);
    if (st == 408)
        return true;
    if (st != 0)
        return false;
    char c;
    ssize_t n = recv(fd, &c, 1, 0);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

TEST(ingest_limits_slow_head_and_slow_body_are_cut_off)
{
    ih_env e;
    START(e, "--header-timeout 300ms --body-timeout 300ms");
    int fd = ih_connect(e.port);
    REQUIRE(fd >= 0);
    CHECK(send_str(fd, "POST /v1/webhooks/producthunt HTTP/1.1\r\nHost: x\r\nContent-Ty"));
    CHECK(server_hung_up(fd));
    close(fd);
    fd = ih_connect(e.port);
    REQUIRE(fd >= 0);
    CHECK(send_str(fd, "POST /v1/webhooks/producthunt HTTP/1.1\r\nHost: x\r\n"
                       "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":"));
    CHECK(server_hung_up(fd));
    close(fd);
    /* the server is fine afterwards */
    ih_resp r;
    CHECK_INT(ih_request(e.port, "GET", "/healthz", NULL, NULL, 0, &r), 200);
    ih_stop(&e);
}

TEST(ingest_limits_idle_keepalive_and_request_cap)
{
    ih_env e;
    START(e, "--idle-timeout 300ms --max-requests-per-conn 2");
    int fd = ih_connect(e.port);
    REQUIRE(fd >= 0);
    ih_resp r;
    CHECK(send_str(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    CHECK_INT(ih_read_response(fd, &r), 200);
    const char *conn = ih_header(&r, "Connection");
    CHECK(conn == NULL || strcasecmp(conn, "close") != 0);
    CHECK(send_str(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    CHECK_INT(ih_read_response(fd, &r), 200);
    conn = ih_header(&r, "Connection");
    CHECK(conn != NULL && strcasecmp(conn, "close") == 0); /* the second and last */
    char c;
    CHECK_INT(recv(fd, &c, 1, 0), 0);
    close(fd);
    /* an idle keep-alive connection is closed */
    fd = ih_connect(e.port);
    REQUIRE(fd >= 0);
    CHECK(send_str(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    CHECK_INT(ih_read_response(fd, &r), 200);
    CHECK_INT(recv(fd, &c, 1, 0), 0);
    close(fd);
    ih_stop(&e);
}

TEST(ingest_limits_connection_cap)
{
    ih_env e;
    START(e, "--max-conns 2");
    /* Two held connections (closed ones, like the start-up probe's, may
     * take a moment to be noticed, so retry until both are in). */
    ih_resp r;
    int held[2] = { -1, -1 };
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < 100 && held[k] < 0; i++) {
            int fd = ih_connect(e.port);
            if (fd >= 0 && send_str(fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n") &&
                ih_read_response(fd, &r) == 200) {
                held[k] = fd;
                break;
            }
            if (fd >= 0)
                close(fd);
            usleep(20000);
        }
        REQUIRE(held[k] >= 0);
    }
    int a = held[0], b = held[1];
    int c = ih_connect(e.port);
    REQUIRE(c >= 0);
    CHECK_INT(ih_read_response(c, &r), 503);
    close(c);
    close(a);
    /* once one is gone, a new client gets in */
    int st = 0;
    for (int i = 0; i < 100 && st != 200; i++) {
        st = ih_request(e.port, "GET", "/healthz", NULL, NULL, 0, &r);
        if (st != 200)
            usleep(20000);
    }
    CHECK_INT(st, 200);
    close(b);
    ih_stop(&e);
}

static bool exited(int pid)
{
    char path[64], st[256];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return true;
    size_t n = fread(st, 1, sizeof(st) - 1, f);
    fclose(f);
    st[n] = '\0';
    const char *rp = strrchr(st, ')');
    return rp && (rp[2] == 'Z' || rp[2] == 'X');
}

TEST(ingest_limits_sigterm_drains_requests_waiting_for_redis)
{
    ih_env e;
    START(e, "--redis-deadline 30s --drain-timeout 30s");
    ih_resp r;
    const char *body = "{\"id\":\"drain-1\",\"event_type\":\"upvote\",\"created_at\":1700000000,\"data\":{}}";
    char sig[INGEST_SIG_PREFIX_MAX + 2 * INGEST_SIG_LEN + 1];
    ingest_sig_sign(IH_SECRET, strlen(IH_SECRET), "sha256=", body, strlen(body), sig, sizeof(sig));
    char *req = xasprintf("POST /v1/webhooks/producthunt HTTP/1.1\r\nHost: x\r\n"
                          "Content-Type: application/json\r\nX-Producthunt-Signature: %s\r\n"
                          "Content-Length: %zu\r\n\r\n%s",
                          sig, strlen(body), body);
    peer_pause(e.redis);
    int fd = ih_connect(e.port);
    REQUIRE(fd >= 0);
    CHECK(send_str(fd, req));
    free(req);
    /* wait until the event is waiting for Redis */
    bool waiting = false;
    for (int i = 0; i < 500 && !waiting; i++) {
        if (ih_request(e.port, "GET", "/metrics", NULL, NULL, 0, &r) == 200)
            waiting = strstr(r.body, "liftoff_ingest_inflight_events 1\n") != NULL;
        if (!waiting)
            usleep(10000);
    }
    CHECK(waiting);
    CHECK_INT(kill(peer_pid(e.ingest), SIGTERM), 0);
    /* draining: not ready, and the request is still held */
    bool refused = false;
    for (int i = 0; i < 500 && !refused; i++) {
        refused = ih_request(e.port, "GET", "/readyz", NULL, NULL, 0, &r) != 200;
        if (!refused)
            usleep(10000);
    }
    CHECK(refused);
    CHECK(!exited(peer_pid(e.ingest)));
    peer_resume(e.redis);
    CHECK_INT(ih_read_response(fd, &r), 202);
    close(fd);
    CHECK_STR(ih_redis(&e, "XLEN liftoff:events:default"), "1");
    bool gone = false;
    for (int i = 0; i < 1000 && !gone; i++) {
        gone = exited(peer_pid(e.ingest));
        if (!gone)
            usleep(10000);
    }
    CHECK(gone);
    ih_stop(&e);
}
