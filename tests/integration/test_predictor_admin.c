/* test_predictor_admin.c — the predictor's admin server over a real socket:
 * the /readyz answers ("ready", "not ready: <why>"), its metrics on
 * /metrics, and the 405 and 404 answers, as curl gets them. */
#include "test.h"
#include "test_http_helpers.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "predictor/admin.h"

typedef struct pa_state {
    const char *why;   /* NULL: ready */
} pa_state;

static bool pa_ready(void *arg, const char **why)
{
    const pa_state *s = arg;
    if (s->why)
        *why = s->why;
    return s->why == NULL;
}

/* "<status> <body>" of curl's answer for "curl <opts> <path>" into out. */
static void pa_ask(ev_loop *loop, int port, const char *opts, const char *path, char *out,
                   size_t len)
{
    char args[256];
    char *raw = NULL;
    int status = -1;
    snprintf(args, sizeof args, "-sS -i %s http://127.0.0.1:%d%s", opts, port, path);
    if (run_curl(loop, args, &raw, NULL) != 0 || sscanf(raw, "HTTP/1.1 %d", &status) != 1)
        status = -1;
    const char *body = raw ? strstr(raw, "\r\n\r\n") : NULL;
    snprintf(out, len, "%d %s", status, body ? body + 4 : "");
    free(raw);
}

TEST(pred_admin_answers_as_before)
{
    if (!have_curl()) {
        test_skip("curl not installed");
        return;
    }
    ev_loop *loop = ev_loop_new();
    pred_metrics m = { 0 };
    pa_state s = { .why = "redis down" };
    pred_admin *a = NULL;
    char err[256] = "";
    if (pred_admin_new(loop, "127.0.0.1", 0, &m, pa_ready, &s, &a, err, sizeof err) < 0) {
        fprintf(stderr, "    pred_admin_new: %s\n", err);
        ev_loop_free(loop);
        REQUIRE(!"pred_admin_new");
    }
    int port = pred_admin_port(a);
    char got[8192];
    pa_ask(loop, port, "", "/readyz", got, sizeof got);
    CHECK_STR(got, "503 not ready: redis down\n");
    s.why = NULL;
    pa_ask(loop, port, "", "/readyz", got, sizeof got);
    CHECK_STR(got, "200 ready\n");
    pa_ask(loop, port, "", "/healthz", got, sizeof got);
    CHECK_STR(got, "200 ok\n");
    pa_ask(loop, port, "-X POST -d x", "/readyz", got, sizeof got);
    CHECK_STR(got, "405 method not allowed\n");
    pa_ask(loop, port, "", "/nope", got, sizeof got);
    CHECK_STR(got, "404 not found\n");
    metrics_counter_add(m.ticks, 7);
    pa_ask(loop, port, "", "/metrics", got, sizeof got);
    CHECK(strncmp(got, "200 ", 4) == 0);
    CHECK(strstr(got, "\nliftoff_predictor_ticks_total 7\n") != NULL);
    pred_admin_free(a);
    CHECK(m.reg == NULL);
    test_run_for(loop, 20);
    ev_loop_free(loop);
}
