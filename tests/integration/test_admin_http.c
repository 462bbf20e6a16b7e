/* test_admin_http.c — the shared admin endpoints over a real socket,
 * answered to the curl command line tool: /healthz, /readyz both ways with
 * the callback's text, /metrics (refreshed, and 500 over its cap), 405 with
 * Allow, 404, HEAD, the caller's route hook, the handler on a server the
 * caller runs, and a port already taken. */
#include "test.h"
#include "test_http_helpers.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin_http.h"
#include "metrics.h"

typedef struct fixture {
    ev_loop *loop;
    metrics_registry *reg;
    metrics_counter *things;
    metrics_gauge *refreshed;
    bool ready;
    const char *text;      /* the /readyz text the callback writes */
    int route_calls;
    admin_http *a;
    int port;
    char *raw;             /* the last answer: curl -i output */
} fixture;

static bool fx_ready(void *arg, char *text, size_t len)
{
    fixture *f = arg;
    snprintf(text, len, "%s", f->text);
    return f->ready;
}

static void fx_refresh(void *arg)
{
    fixture *f = arg;
    metrics_gauge_inc(f->refreshed);
}

/* POST /poke is the caller's; PUT anywhere is refused with 404 (as the
 * sidecar does); everything else is left to the built-in endpoints. */
static bool fx_route(http_req *r, void *arg)
{
    fixture *f = arg;
    const http_request *h = http_req_head(r);
    f->route_calls++;
    if (http_path_is(h, "/poke") && h->meth == HTTP_M_POST) {
        size_t len = 0;
        http_req_body(r, &len);
        char out[64];
        int n = snprintf(out, sizeof out, "poked %zu\n", len);
        http_respond(r, 201, "text/plain", out, (size_t)n);
        return true;
    }
    if (h->meth == HTTP_M_PUT) {
        http_respond(r, 404, "text/plain", "not here\n", 9);
        return true;
    }
    return false;
}

static void fx_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    f->loop = ev_loop_new();
    f->reg = metrics_registry_new();
    f->things = metrics_counter_new(f->reg, "t_things_total", "Things counted");
    f->refreshed = metrics_gauge_new(f->reg, "t_refreshed", "Refresh calls");
    f->text = "ready";
    f->ready = true;
}

static void fx_free(fixture *f)
{
    admin_http_free(f->a);
    free(f->raw);
    test_run_for(f->loop, 20);
    metrics_registry_free(f->reg);
    ev_loop_free(f->loop);
}

/* Starts f's server with rt (arg set to f): false (f freed) if that
 * fails. */
static bool fx_start(fixture *f, admin_http_routes rt)
{
    char err[256] = "";
    rt.arg = f;
    if (admin_http_start(f->loop, "127.0.0.1", 0, &rt, &f->a, err, sizeof err) < 0) {
        fprintf(stderr, "    admin_http_start: %s\n", err);
        fx_free(f);
        return false;
    }
    f->port = admin_http_port(f->a);
    return true;
}

/* Skips the test without curl; sets f up (first: the routes may name its
 * registry) and starts it with the routes given, or leaves the test. */
#define START(f, ...)                                                          \
    do {                                                                       \
        if (!have_curl()) {                                                    \
            test_skip("curl not installed");                                   \
            return;                                                            \
        }                                                                      \
        fx_init(&(f));                                                         \
        REQUIRE(fx_start(&(f), (admin_http_routes){ __VA_ARGS__ }));           \
    } while (0)

/* The body of f's last answer, or "" without one. */
static const char *body_of(const fixture *f)
{
    const char *b = f->raw ? strstr(f->raw, "\r\n\r\n") : NULL;
    return b ? b + 4 : "";
}

/* True if the head of f's last answer contains field. */
static bool head_has(const fixture *f, const char *field)
{
    const char *end = f->raw ? strstr(f->raw, "\r\n\r\n") : NULL;
    const char *at = f->raw ? strstr(f->raw, field) : NULL;
    return at && at < end;
}

/* Runs "curl <opts> <path>" against f (keeping the answer in f->raw) and
 * returns its status, or -1. */
static int ask(fixture *f, const char *opts, const char *path)
{
    char args[256];
    int st = -1;
    free(f->raw);
    f->raw = NULL;
    snprintf(args, sizeof args, "-sS -i %s http://127.0.0.1:%d%s", opts, f->port, path);
    if (run_curl(f->loop, args, &f->raw, NULL) != 0 || sscanf(f->raw, "HTTP/1.1 %d", &st) != 1)
        return -1;
    return st;
}

/* ask(), true if the answer has status and exactly body (NULL: any). */
static bool expect(fixture *f, const char *opts, const char *path, int status, const char *body)
{
    int got = ask(f, opts, path);
    if (got == status && (!body || strcmp(body_of(f), body) == 0))
        return true;
    fprintf(stderr, "    %s %s: got %d \"%s\", want %d \"%s\"\n", opts, path, got, body_of(f),
            status, body ? body : "*");
    return false;
}

TEST(admin_http_healthz_and_unknown_path)
{
    fixture f;
    START(f, .metrics = f.reg);
    CHECK(expect(&f, "", "/healthz", 200, "ok\n"));
    CHECK(head_has(&f, "Content-Type: text/plain\r\n"));
    CHECK(expect(&f, "", "/healthz?verbose=1", 200, "ok\n"));
    CHECK(expect(&f, "", "/nope", 404, "not found\n"));
    CHECK(expect(&f, "", "/healthz/more", 404, "not found\n"));
    fx_free(&f);
}

TEST(admin_http_other_methods_get_405_with_allow)
{
    fixture f;
    START(f, .metrics = f.reg);
    const char *cases[][2] = { { "-X POST -d x=1", "/healthz" },
                               { "-X DELETE", "/metrics" },
                               { "-X PUT -d x", "/nope" } };   /* the method goes first */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK(expect(&f, cases[i][0], cases[i][1], 405, "method not allowed\n"));
        CHECK(head_has(&f, "\r\nAllow: GET, HEAD\r\n"));
    }
    CHECK(expect(&f, "-I", "/healthz", 200, ""));   /* HEAD: the GET answer, no body */
    CHECK(head_has(&f, "Content-Length: 3\r\n"));
    fx_free(&f);
}

TEST(admin_http_readyz_answers_the_callback_text)
{
    fixture f;
    START(f, .metrics = f.reg, .ready = fx_ready);
    f.ready = false;
    f.text = "not ready: redis down";
    CHECK(expect(&f, "", "/readyz", 503, "not ready: redis down\n"));
    f.ready = true;
    f.text = "ready: leader";
    CHECK(expect(&f, "", "/readyz", 200, "ready: leader\n"));
    fx_free(&f);
}

TEST(admin_http_readyz_without_callback_is_ready)
{
    fixture f;
    START(f, .metrics = f.reg);
    CHECK(expect(&f, "", "/readyz", 200, "ready\n"));
    fx_free(&f);
}

TEST(admin_http_readyz_text_is_cut_at_its_limit)
{
    fixture f;
    START(f, .metrics = f.reg, .ready = fx_ready);
    char long_text[3 * ADMIN_HTTP_READY_TEXT_MAX];
    memset(long_text, 'w', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    f.ready = false;
    f.text = long_text;
    CHECK(expect(&f, "", "/readyz", 503, NULL));
    const char *body = body_of(&f);
    CHECK_INT(strlen(body), ADMIN_HTTP_READY_TEXT_MAX);   /* 127 bytes of text + "\n" */
    CHECK_INT(strspn(body, "w"), ADMIN_HTTP_READY_TEXT_MAX - 1);
    CHECK(body[ADMIN_HTTP_READY_TEXT_MAX - 1] == '\n');
    fx_free(&f);
}

TEST(admin_http_metrics_writes_the_refreshed_registry)
{
    fixture f;
    START(f, .metrics = f.reg, .refresh = fx_refresh);
    metrics_counter_add(f.things, 3);
    CHECK(expect(&f, "", "/metrics", 200, NULL));
    CHECK(head_has(&f, "Content-Type: " METRICS_CONTENT_TYPE "\r\n"));
    CHECK(strstr(body_of(&f), "# TYPE t_things_total counter\nt_things_total 3\n") != NULL);
    CHECK(strstr(body_of(&f), "\nt_refreshed 1\n") != NULL);
    CHECK(expect(&f, "", "/metrics", 200, NULL));
    CHECK(strstr(body_of(&f), "\nt_refreshed 2\n") != NULL);
    fx_free(&f);
}

TEST(admin_http_metrics_over_the_cap_is_500)
{
    fixture f;
    START(f, .metrics = f.reg, .metrics_max = 16);
    CHECK(expect(&f, "", "/metrics", 500, "metrics too large\n"));
    fx_free(&f);
}

TEST(admin_http_route_hook_sees_requests_first)
{
    fixture f;
    START(f, .metrics = f.reg, .route = fx_route);
    CHECK(expect(&f, "--data-binary hello", "/poke", 201, "poked 5\n"));
    CHECK(expect(&f, "-X PUT -d x", "/healthz", 404, "not here\n"));   /* not the 405 */
    CHECK(!head_has(&f, "Allow:"));
    CHECK(expect(&f, "-X DELETE", "/poke", 405, "method not allowed\n"));   /* left alone */
    CHECK(expect(&f, "", "/healthz", 200, "ok\n"));                         /* left alone */
    CHECK_INT(f.route_calls, 4);
    fx_free(&f);
}

static void callers_handler(http_req *r, void *arg)
{
    const fixture *f = arg;
    const admin_http_routes rt = { .metrics = f->reg, .ready = fx_ready, .arg = arg };
    admin_http_handle(r, &rt);
}

TEST(admin_http_handle_serves_a_callers_server)
{
    fixture f;
    START(f, .metrics = f.reg);   /* only for the fixture: a server of its own runs too */
    char err[256] = "";
    http_server *s = NULL;
    http_server_opts o = { .host = "127.0.0.1", .on_request = callers_handler, .arg = &f };
    if (http_server_start(f.loop, &o, &s, err, sizeof err) < 0) {
        fx_free(&f);
        REQUIRE(!"http_server_start");
    }
    f.port = http_server_port(s);
    f.ready = false;
    f.text = "draining";
    CHECK(expect(&f, "", "/readyz", 503, "draining\n"));
    CHECK(expect(&f, "", "/healthz", 200, "ok\n"));
    http_server_free(s);
    fx_free(&f);
}

TEST(admin_http_start_reports_a_port_in_use)
{
    fixture f;
    START(f, .metrics = f.reg);
    char err[256] = "";
    admin_http *second = NULL;
    const admin_http_routes rt = { .metrics = f.reg };
    int rc = admin_http_start(f.loop, "127.0.0.1", f.port, &rt, &second, err, sizeof err);
    CHECK(rc < 0);
    CHECK(second == NULL);
    CHECK(err[0] != '\0');
    admin_http_free(second);
    fx_free(&f);
}
