/*
 * fuzz_ingest_event.c — libFuzzer target for what liftoff-ingest reads from
 * the network before Redis sees anything: webhook bodies, visitor-event
 * batches, signature and timestamp headers, Origin values.
 *
 * The first input byte picks the reader (its value modulo 5) and the rest is
 * its input: 0 a webhook body, 1 a visitor batch, 2 header values
 * (signature, timestamp, launch name), 3 a CORS list and an Origin, 4 a
 * whole HTTP request as the service sees it: the head through the HTTP
 * parser, then route, Content-Type, signature and timestamp headers, then
 * the body through the validator of its route. Besides "no crash, no
 * leak, no UB", accepted events are checked: their data must be compact
 * JSON that parses again, ids and types within their limits.
 *
 * The ingest sources are compiled in here (the fuzz build links lib/ only).
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "http_parse.h"

#include "../ingest/append_script.c"
#include "../ingest/cors.c"
#include "../ingest/event.c"
#include "../ingest/json_slice.c"
#include "../ingest/replay.c"
#include "../ingest/route.c"
#include "../ingest/signature.c"
#include "../ingest/timestamp.c"

static void check_event(const ingest_event *ev)
{
    size_t idlen = strlen(ev->id), tlen = strlen(ev->type);
    assert(idlen > 0 && idlen <= INGEST_ID_MAX);
    assert(tlen > 0 && tlen <= INGEST_TYPE_MAX);
    assert(ev->ts_ms >= 0 && ev->ts_ms <= INGEST_TS_MAX_MS);
    assert(ev->data && strlen(ev->data) == ev->data_len);
    json_error_t je;
    json_t *again = json_loadb(ev->data, ev->data_len, JSON_REJECT_DUPLICATES, &je);
    assert(json_is_object(again));
    char *compact = json_dumps(again, JSON_COMPACT);
    assert(compact && strcmp(compact, ev->data) == 0);
    free(compact);
    json_decref(again);
}

static void check_body(ingest_route_kind kind, const char *body, size_t len)
{
    ingest_verr err;
    if (kind == INGEST_ROUTE_WEBHOOK) {
        ingest_event ev;
        if (ingest_webhook_parse(body, len, NULL, &ev, &err) == 0) {
            check_event(&ev);
            ingest_event_clear(&ev);
        }
    } else if (kind == INGEST_ROUTE_EVENTS) {
        ingest_event *evs = NULL;
        size_t n = 0;
        if (ingest_batch_parse(body, len, NULL, &evs, &n, &err) == 0) {
            for (size_t i = 0; i < n; i++)
                check_event(&evs[i]);
            ingest_events_free(evs, n);
        }
    }
}

/* A request as the service handles it, minus the network and Redis. */
static void request(const char *in, size_t len)
{
    http_header hdrs[32];
    http_request req = { .headers = hdrs, .headers_cap = 32 };
    http_head_parser p;
    http_limits lim = { .body_max = INGEST_BODY_MAX_DEFAULT };
    http_head_parser_init(&p, &lim);
    ssize_t hl = http_parse_request(&p, in, len, &req);
    if (hl <= 0)
        return;
    ingest_route rt;
    ingest_route_kind kind =
        ingest_route_match(req.path.p, req.path.len, "producthunt", "default", &rt);
    if (kind == INGEST_ROUTE_WEBHOOK || kind == INGEST_ROUTE_EVENTS)
        assert(launch_name_valid(rt.launch, strlen(rt.launch)));
    const http_header *ct = http_header_find(hdrs, req.nheaders, "Content-Type");
    if (ct)
        (void)ingest_content_type_is_json(ct->value.p, ct->value.len);
    const http_header *sig = http_header_find(hdrs, req.nheaders, "X-Producthunt-Signature");
    uint8_t mac[INGEST_SIG_LEN];
    if (sig)
        (void)ingest_sig_decode(sig->value.p, sig->value.len, "sha256=", mac);
    const http_header *ts = http_header_find(hdrs, req.nheaders, "X-Producthunt-Timestamp");
    if (ts)
        (void)ingest_replay_check_header(ts->value.p, ts->value.len, 1700000000000LL, 300000);
    const http_header *xff = http_header_find(hdrs, req.nheaders, "X-Forwarded-For");
    char addr[64];
    (void)ingest_client_addr("192.0.2.1:80", xff ? xff->value.p : NULL, xff ? xff->value.len : 0,
                             true, addr, sizeof(addr));
    /* the body: Content-Length framed (chunked bodies are decoded by the
     * server before the service sees them) */
    size_t rest = len - (size_t)hl;
    if (req.f.body == HTTP_BODY_LENGTH && req.f.content_length <= rest)
        check_body(kind, in + hl, (size_t)req.f.content_length);
    else if (req.f.body == HTTP_BODY_NONE)
        check_body(kind, "", 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *in = (const char *)data + 1;
    size_t len = size - 1;
    ingest_verr err;
    switch (data[0] % 5) {
    case 0: {
        ingest_event ev;
        if (ingest_webhook_parse(in, len, NULL, &ev, &err) == 0) {
            assert(ev.source == INGEST_SRC_WEBHOOK);
            check_event(&ev);
            ingest_event_clear(&ev);
        } else {
            assert(err.kind != INGEST_VERR_NONE);
            free(ingest_verr_json(&err));
        }
        break;
    }
    case 1: {
        ingest_event *evs = NULL;
        size_t n = 0;
        ingest_limits lim = { .max_batch = 50, .max_depth = 8 };
        if (ingest_batch_parse(in, len, &lim, &evs, &n, &err) == 0) {
            assert(n >= 1 && n <= 50);
            for (size_t i = 0; i < n; i++) {
                assert(evs[i].source == INGEST_SRC_SITE);
                check_event(&evs[i]);
            }
            ingest_events_free(evs, n);
        } else {
            assert(evs == NULL && n == 0);
            free(ingest_verr_json(&err));
        }
        break;
    }
    case 2: {
        uint8_t sig[INGEST_SIG_LEN];
        int64_t ms = 0;
        (void)ingest_sig_decode(in, len, "sha256=", sig);
        (void)ingest_replay_check_header(in, len, 1700000000000LL, 300000);
        if (ingest_ts_parse(in, len, &ms) == 0)
            assert(ms >= 0 && ms <= INGEST_TS_MAX_MS);
        (void)launch_name_valid(in, len);
        break;
    }
    case 4:
        request(in, len);
        break;
    default: {
        /* "list\norigin": an allow-list and an Origin value */
        char *s = strndup(in, len);
        char *nl = strchr(s, '\n');
        const char *origin = "";
        if (nl) {
            *nl = '\0';
            origin = nl + 1;
        }
        ingest_cors *c = NULL;
        char e[160];
        if (ingest_cors_parse(s, &c, e, sizeof(e)) == 0) {
            (void)ingest_cors_allowed(c, origin, strlen(origin));
            ingest_cors_free(c);
        }
        free(s);
        break;
    }
    }
    return 0;
}
