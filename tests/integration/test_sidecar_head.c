/* test_sidecar_head.c — HEAD and the micro-cache, against an in-process
 * origin that counts its requests: a HEAD miss goes to the origin and
 * stores nothing (the next GET is a miss with the whole body); a HEAD
 * after a GET is answered from the GET entry with the same fields,
 * Content-Length included, and no body. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "test.h"
#include "test_sidecar_helpers.h"

/* The origin answers the paths used here with "0" (the size of the empty
 * request body), Content-Length 1. */
#define WAIT_MS 10000

static const char *rules =
    "{\"routes\": [{\"match\": {\"prefix\": \"/\"}, \"mode\": \"passthrough\","
    " \"microCache\": {\"enabled\": true, \"ttlSeconds\": 60}}]}";

static bool ready(ev_loop *loop, sc_env *e)
{
    for (int i = 0; i < 200; i++) {
        char *args = xasprintf("-s -o /dev/null -w %%{http_code} http://127.0.0.1:%d/readyz",
                               e->admin);
        char *out = NULL;
        bool ok = run_curl(loop, args, &out, NULL) == 0 && out && strcmp(out, "200") == 0;
        free(out);
        free(args);
        if (ok)
            return true;
        uint64_t end = lo_mono_ms() + 20;
        while (lo_mono_ms() < end)
            ev_run_once(loop, 5);
    }
    return false;
}

typedef struct nresp {
    rawc *r;
    int n;
    bool head_last; /* the last response is to a HEAD (no body) */
} nresp;

/* Responses complete in r: split_responses cannot frame HEAD answers, so
 * a HEAD is only ever sent last and counted by its head. */
static bool have(void *arg)
{
    nresp *w = arg;
    if (w->r->eof || w->r->err)
        return true;
    int st[8];
    size_t rest = 0;
    int n = split_responses(buf_data(&w->r->got), buf_len(&w->r->got), st, 8, &rest);
    if (!w->head_last)
        return n >= w->n;
    const char *tail = buf_data(&w->r->got) + rest;
    return n >= w->n - 1 && buf_len(&w->r->got) > rest &&
           memmem(tail, buf_len(&w->r->got) - rest, "\r\n\r\n", 4);
}

static bool wait_resp(ev_loop *loop, rawc *r, int n, bool head_last)
{
    nresp w = { r, n, head_last };
    return sc_wait(loop, have, &w, WAIT_MS) && !r->eof && !r->err;
}

TEST(sidecar_head_miss_stores_nothing_then_hit_from_get)
{
    ev_loop *loop = ev_loop_new();
    sco *o = sco_start(loop);
    REQUIRE(o);
    sc_env e;
    if (!sc_start(&e, o->port, rules, NULL)) {
        sco_stop(o);
        ev_loop_free(loop);
        REQUIRE(!"sidecar started");
    }
    REQUIRE(ready(loop, &e));
    int base = o->requests;
    rawc *r = rawc_open(loop, e.port);
    REQUIRE(r);

    /* HEAD miss: to the origin, fields of a GET, no body */
    rawc_sends(r, "HEAD /page HTTP/1.1\r\nHost: app.test\r\n\r\n");
    REQUIRE(wait_resp(loop, r, 1, true));
    CHECK_INT(sc_status(r), 200);
    char v[128] = "";
    CHECK(sc_field(r, "Content-Length", v, sizeof v) && strcmp(v, "1") == 0);
    CHECK(sc_field(r, "Cache-Status", v, sizeof v) && strstr(v, "fwd=miss"));
    CHECK_INT(o->requests - base, 1);
    const char *t = rawc_text(r);
    CHECK(strlen(strstr(t, "\r\n\r\n")) == 4); /* nothing after the head */

    /* GET: still a miss (the HEAD stored nothing), whole body */
    buf_reset(&r->got);
    rawc_sends(r, "GET /page HTTP/1.1\r\nHost: app.test\r\n\r\n");
    REQUIRE(wait_resp(loop, r, 1, false));
    CHECK_INT(sc_status(r), 200);
    CHECK(sc_field(r, "Cache-Status", v, sizeof v) && strstr(v, "fwd=miss"));
    CHECK(rawc_has(r, "\r\n\r\n0"));
    CHECK_INT(o->requests - base, 2);

    /* GET again: a hit (the entry is there) */
    buf_reset(&r->got);
    rawc_sends(r, "GET /page HTTP/1.1\r\nHost: app.test\r\n\r\n");
    REQUIRE(wait_resp(loop, r, 1, false));
    CHECK(sc_field(r, "Cache-Status", v, sizeof v) && strstr(v, "hit"));
    CHECK_INT(o->requests - base, 2);

    /* HEAD now: from the GET entry, same Content-Length, no body; a GET
     * pipelined behind it proves no body bytes came in between */
    buf_reset(&r->got);
    rawc_sends(r, "HEAD /page HTTP/1.1\r\nHost: app.test\r\n\r\n"
                  "GET /page HTTP/1.1\r\nHost: app.test\r\n\r\n");
    nresp w = { r, 1, false };
    REQUIRE(sc_wait(loop, have, &w, WAIT_MS));
    CHECK_INT(sc_status(r), 200);
    CHECK(sc_field(r, "Content-Length", v, sizeof v) && strcmp(v, "1") == 0);
    CHECK(sc_field(r, "Cache-Status", v, sizeof v) && strstr(v, "hit"));
    CHECK(sc_field(r, "Age", v, sizeof v));
    t = rawc_text(r);
    const char *end = strstr(t, "\r\n\r\n");
    REQUIRE(end);
    CHECK(strncmp(end + 4, "HTTP/1.1 200", 12) == 0);
    CHECK(rawc_has(r, "\r\n\r\n0"));
    CHECK_INT(o->requests - base, 2);
    rawc_close(r);
    sc_stop(&e);
    sco_stop(o);
    ev_loop_free(loop);
}
