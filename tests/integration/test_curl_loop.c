/* test_curl_loop.c — libcurl's multi interface on the ev loop, against a
 * real nginx: concurrency, statuses, connection errors, timeouts, streamed
 * and capped bodies, cancellation and freeing from callbacks. */
#include "test.h"
#include "peers.h"
#include "curl_loop.h"
#include "common.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAIT_MAX_MS 20000      /* hang guard, not a timing check */
#define BIG_SIZE (2u << 20)    /* the streamed file */
#define CONCURRENT 50

static char *big_content(void)
{
    static char *big;
    if (!big) {
        big = xmalloc(BIG_SIZE + 1);
        for (size_t i = 0; i < BIG_SIZE; i++)
            big[i] = (char)('A' + (i * 7 + i / 1000) % 26);
        big[BIG_SIZE] = '\0';
    }
    return big;
}

/* One nginx for the whole file (stopped at exit by the peers module). */
static peer *origin(void)
{
    static peer *p;
    if (!p) {
        const char *files[] = { "small.txt", "hello from nginx\n", "big.bin", big_content(), NULL };
        p = peer_nginx_start("    default_type text/plain;\n"
                             "    location /echo { return 200 \"i=$arg_i\"; }\n"
                             "    location /hdr { return 200 \"x=$http_x_test\"; }\n"
                             "    location /teapot { return 418 \"short and stout\"; }\n",
                             files);
    }
    return p;
}

/* A listening socket nobody accepts from: connects succeed (the kernel
 * completes the handshake), requests are never answered. */
static int silent_listener(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 16) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

#define FX_URLS_MAX 4

/* One loop and one multi handle for a test; with a silent listener, also
 * a URL on it that never answers. */
typedef struct fx {
    ev_loop *loop;
    curlm *m;            /* NULL once a test freed it itself */
    int lfd;             /* the silent listener, or -1 */
    const char *hang;    /* a URL on it */
    char *urls[FX_URLS_MAX];
    int nurls;
} fx;

/* http://127.0.0.1:<port><path>, freed by fx_stop(). */
static const char *fx_url_at(fx *f, int port, const char *path)
{
    if (f->nurls == FX_URLS_MAX)
        abort();
    return f->urls[f->nurls++] = xasprintf("http://127.0.0.1:%d%s", port, path);
}

static bool fx_start(fx *f, bool silent)
{
    memset(f, 0, sizeof *f);
    f->lfd = -1;
    int port = 0;
    if (silent && (f->lfd = silent_listener(&port)) < 0)
        return false;
    f->loop = ev_loop_new();
    f->m = curlm_new(f->loop);
    if (silent)
        f->hang = fx_url_at(f, port, "/");
    return f->m != NULL;
}

static void fx_stop(fx *f)
{
    curlm_free(f->m);
    ev_loop_free(f->loop);
    if (f->lfd >= 0)
        close(f->lfd);
    for (int i = 0; i < f->nurls; i++)
        free(f->urls[i]);
}

/* path on the file's nginx, freed by fx_stop(). */
static const char *fx_url(fx *f, const char *path)
{
    return fx_url_at(f, peer_port(origin()), path);
}

/* Runs the loop until *done reaches want (or the hang guard); true if it did. */
static bool run_until(ev_loop *loop, const int *done, int want)
{
    uint64_t end = lo_mono_ms() + WAIT_MAX_MS;
    while (*done < want && lo_mono_ms() < end)
        ev_run_once(loop, 50);
    return *done >= want;
}

/* Runs the loop until m has no transfer left (or the hang guard). */
static void run_until_idle(ev_loop *loop, curlm *m)
{
    uint64_t end = lo_mono_ms() + WAIT_MAX_MS;
    while (curlm_active(m) > 0 && lo_mono_ms() < end)
        ev_run_once(loop, 50);
}

typedef struct outcome {
    int done;
    CURLcode code;
    long status;
    bool too_large;
    char body[256];
    size_t body_len;
    char error[CURL_ERROR_SIZE];
} outcome;

static void on_done(curlm_xfer *x, const curlm_result *r, void *arg)
{
    outcome *o = arg;
    CHECK(curlm_easy(x) != NULL);
    o->done++;
    o->code = r->code;
    o->status = r->status;
    o->too_large = r->body_too_large;
    o->body_len = buf_len(r->body);
    size_t n = LO_MIN(o->body_len, sizeof o->body - 1);
    if (n)
        memcpy(o->body, buf_data(r->body), n);
    o->body[n] = '\0';
    snprintf(o->error, sizeof o->error, "%s", r->error);
}

TEST(curl_loop_runs_50_concurrent_gets_on_one_loop)
{
    REQUIRE(origin());
    fx f;
    REQUIRE(fx_start(&f, false));
    static outcome o[CONCURRENT];
    memset(o, 0, sizeof o);
    for (int i = 0; i < CONCURRENT; i++) {
        char u[64];
        snprintf(u, sizeof u, "http://127.0.0.1:%d/echo?i=%d", peer_port(origin()), i);
        CHECK_INT(curlm_get(f.m, u, on_done, &o[i]), 0);
    }
    CHECK_INT(curlm_active(f.m), CONCURRENT);
    int total = 0;
    run_until_idle(f.loop, f.m);
    for (int i = 0; i < CONCURRENT; i++) {
        char want[16];
        snprintf(want, sizeof want, "i=%d", i);
        CHECK_INT(o[i].done, 1);
        CHECK_INT(o[i].code, CURLE_OK);
        CHECK_INT(o[i].status, 200);
        CHECK_STR(o[i].body, want);
        total += o[i].done;
    }
    CHECK_INT(total, CONCURRENT);
    CHECK_INT(curlm_active(f.m), 0);
    fx_stop(&f);
}

TEST(curl_loop_reports_http_statuses_and_sends_headers)
{
    REQUIRE(origin());
    fx f;
    REQUIRE(fx_start(&f, false));
    outcome a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
    CHECK_INT(curlm_get(f.m, fx_url(&f, "/missing"), on_done, &a), 0);
    CHECK_INT(curlm_get(f.m, fx_url(&f, "/teapot"), on_done, &b), 0);
    curlm_xfer *x = curlm_xfer_new(f.m, fx_url(&f, "/hdr"), on_done, &c);
    curlm_xfer_add_header(x, "X-Test: liftoff");
    CHECK_INT(curlm_start(x), 0);
    CHECK_INT(curlm_get(f.m, fx_url(&f, "/small.txt"), on_done, &d), 0);
    int sum = 0;
    uint64_t end = lo_mono_ms() + WAIT_MAX_MS;
    while ((sum = a.done + b.done + c.done + d.done) < 4 && lo_mono_ms() < end)
        ev_run_once(f.loop, 50);
    CHECK_INT(sum, 4);
    CHECK_INT(a.code, CURLE_OK);
    CHECK_INT(a.status, 404);
    CHECK_STR(a.error, "");
    CHECK_INT(b.status, 418);
    CHECK_STR(b.body, "short and stout");
    CHECK_INT(c.status, 200);
    CHECK_STR(c.body, "x=liftoff");
    CHECK_INT(d.status, 200);
    CHECK_STR(d.body, "hello from nginx\n");
    fx_stop(&f);
}

TEST(curl_loop_reports_connection_refused)
{
    int port = peer_free_port();
    REQUIRE(port > 0);
    fx f;
    REQUIRE(fx_start(&f, false));
    outcome o = { 0 };
    CHECK_INT(curlm_get(f.m, fx_url_at(&f, port, "/"), on_done, &o), 0);
    CHECK(run_until(f.loop, &o.done, 1));
    CHECK_INT(o.code, CURLE_COULDNT_CONNECT);
    CHECK_INT(o.status, 0);
    CHECK(o.error[0] != '\0');
    fx_stop(&f);
}

TEST(curl_loop_times_out_on_a_server_that_never_answers)
{
    fx f;
    REQUIRE(fx_start(&f, true));
    outcome o = { 0 };
    curlm_xfer *x = curlm_xfer_new(f.m, f.hang, on_done, &o);
    curl_easy_setopt(curlm_easy(x), CURLOPT_TIMEOUT_MS, 300L);
    CHECK_INT(curlm_start(x), 0);
    CHECK(run_until(f.loop, &o.done, 1));
    CHECK_INT(o.code, CURLE_OPERATION_TIMEDOUT);
    CHECK_INT(o.status, 0);
    CHECK(strstr(o.error, "imeout") != NULL || strstr(o.error, "timed out") != NULL);
    fx_stop(&f);
}

typedef struct stream {
    size_t bytes;
    int pieces;
    bool mismatch;
    long status_seen;
    size_t abort_after;   /* 0: never */
    outcome end;
} stream;

static int on_piece(curlm_xfer *x, const char *data, size_t len, void *arg)
{
    stream *s = arg;
    const char *big = big_content();
    if (s->bytes + len > BIG_SIZE || memcmp(big + s->bytes, data, len) != 0)
        s->mismatch = true;
    s->bytes += len;
    s->pieces++;
    curl_easy_getinfo(curlm_easy(x), CURLINFO_RESPONSE_CODE, &s->status_seen);
    if (s->abort_after && s->bytes >= s->abort_after)
        return -1;
    return 0;
}

static void on_stream_done(curlm_xfer *x, const curlm_result *r, void *arg)
{
    stream *s = arg;
    on_done(x, r, &s->end);
}

/* Starts streaming /big.bin into s. */
static curlm_xfer *stream_big(fx *f, stream *s)
{
    curlm_xfer *x = curlm_xfer_new(f->m, fx_url(f, "/big.bin"), on_stream_done, s);
    curlm_xfer_on_data(x, on_piece);
    return x;
}

TEST(curl_loop_streams_a_large_body_in_pieces)
{
    REQUIRE(origin());
    fx f;
    REQUIRE(fx_start(&f, false));
    stream s = { 0 };
    curlm_xfer *x = stream_big(&f, &s);
    curlm_xfer_set_body_max(x, 1024); /* not used when streaming */
    CHECK_INT(curlm_start(x), 0);
    CHECK(run_until(f.loop, &s.end.done, 1));
    CHECK_INT(s.end.code, CURLE_OK);
    CHECK_INT(s.end.status, 200);
    CHECK_INT(s.status_seen, 200);
    CHECK_INT(s.bytes, BIG_SIZE);
    CHECK(s.pieces > 1);
    CHECK(!s.mismatch);
    CHECK_INT(s.end.body_len, 0);
    fx_stop(&f);
}

TEST(curl_loop_data_callback_can_abort_a_stream)
{
    REQUIRE(origin());
    fx f;
    REQUIRE(fx_start(&f, false));
    stream s = { .abort_after = 100000 };
    CHECK_INT(curlm_start(stream_big(&f, &s)), 0);
    CHECK(run_until(f.loop, &s.end.done, 1));
    CHECK_INT(s.end.code, CURLE_WRITE_ERROR);
    CHECK(s.bytes >= 100000 && s.bytes < BIG_SIZE);
    CHECK(!s.end.too_large);
    fx_stop(&f);
}

TEST(curl_loop_caps_a_collected_body)
{
    REQUIRE(origin());
    fx f;
    REQUIRE(fx_start(&f, false));
    outcome o = { 0 }, whole = { 0 };
    const char *u = fx_url(&f, "/big.bin");
    curlm_xfer *x = curlm_xfer_new(f.m, u, on_done, &o);
    curlm_xfer_set_body_max(x, 64 * 1024);
    CHECK_INT(curlm_start(x), 0);
    x = curlm_xfer_new(f.m, u, on_done, &whole); /* the default cap holds it all */
    CHECK_INT(curlm_start(x), 0);
    int sum = 0;
    uint64_t end = lo_mono_ms() + WAIT_MAX_MS;
    while ((sum = o.done + whole.done) < 2 && lo_mono_ms() < end)
        ev_run_once(f.loop, 50);
    CHECK_INT(o.code, CURLE_WRITE_ERROR);
    CHECK(o.too_large);
    CHECK(o.body_len <= 64 * 1024);
    CHECK(strstr(o.error, "larger than 65536 bytes") != NULL);
    CHECK_INT(whole.code, CURLE_OK);
    CHECK_INT(whole.body_len, BIG_SIZE);
    fx_stop(&f);
}

/* ---- cancellation and freeing from callbacks ---- */

typedef struct canceller {
    curlm_xfer *victim;
    curlm *m;
    bool free_multi;
    int pieces;
    outcome end;
} canceller;

static void cancel_victim(curlm_xfer *x, const curlm_result *r, void *arg)
{
    canceller *c = arg;
    on_done(x, r, &c->end);
    curlm_cancel(c->victim); /* from a completion callback */
    c->victim = NULL;
    if (c->free_multi)
        curlm_free(c->m);
}

static void must_not_complete(curlm_xfer *x, const curlm_result *r, void *arg)
{
    LO_UNUSED(x);
    LO_UNUSED(r);
    LO_UNUSED(arg);
    CHECK(!"a cancelled transfer completed");
}

/* Starts a transfer to f's silent listener without a time limit: it would
 * hang forever, and must never complete. */
static curlm_xfer *start_hanging(fx *f)
{
    curlm_xfer *x = curlm_xfer_new(f->m, f->hang, must_not_complete, NULL);
    curl_easy_setopt(curlm_easy(x), CURLOPT_TIMEOUT_MS, 0L);
    CHECK_INT(curlm_start(x), 0);
    return x;
}

TEST(curl_loop_cancel_from_a_completion_callback)
{
    REQUIRE(origin());
    fx f;
    REQUIRE(fx_start(&f, true));
    const char *u = fx_url(&f, "/small.txt");
    canceller c = { .m = f.m };
    c.victim = start_hanging(&f);
    CHECK_INT(curlm_get(f.m, u, cancel_victim, &c), 0);
    CHECK(run_until(f.loop, &c.end.done, 1));
    CHECK_INT(c.end.status, 200);
    CHECK_INT(curlm_active(f.m), 0);
    /* an unstarted transfer can be cancelled too */
    curlm_cancel(curlm_xfer_new(f.m, u, must_not_complete, NULL));
    fx_stop(&f);
}

static int cancel_self(curlm_xfer *x, const char *data, size_t len, void *arg)
{
    canceller *c = arg;
    LO_UNUSED(data);
    LO_UNUSED(len);
    c->pieces++;
    curlm_cancel(x); /* from inside libcurl's write callback: deferred */
    return 0;
}

TEST(curl_loop_cancel_from_a_data_callback)
{
    REQUIRE(origin());
    fx f;
    REQUIRE(fx_start(&f, false));
    canceller c = { .m = f.m };
    curlm_xfer *x = curlm_xfer_new(f.m, fx_url(&f, "/big.bin"), must_not_complete, &c);
    curlm_xfer_on_data(x, cancel_self);
    CHECK_INT(curlm_start(x), 0);
    run_until_idle(f.loop, f.m);
    CHECK_INT(curlm_active(f.m), 0);
    CHECK_INT(c.pieces, 1); /* no data after the cancel */
    fx_stop(&f);
}

TEST(curl_loop_free_from_a_completion_callback)
{
    REQUIRE(origin());
    fx f;
    REQUIRE(fx_start(&f, true));
    canceller c = { .m = f.m, .free_multi = true };
    /* two hanging transfers stay in flight: freeing must stop them */
    for (int i = 0; i < 2; i++)
        start_hanging(&f);
    c.victim = NULL;
    CHECK_INT(curlm_get(f.m, fx_url(&f, "/small.txt"), cancel_victim, &c), 0);
    CHECK(run_until(f.loop, &c.end.done, 1));
    f.m = NULL; /* freed by cancel_victim */
    CHECK_INT(c.end.status, 200);
    /* m is gone; the loop has nothing of it left to run */
    for (int i = 0; i < 5; i++)
        ev_run_once(f.loop, 10);
    fx_stop(&f);
}
