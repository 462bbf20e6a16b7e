/* test_k8s_scripted.c — the Kubernetes client against a scripted HTTP
 * server, for what a real API server does not do on demand: 429 with
 * Retry-After, 5xx, non-JSON answers, watch streams cut mid-line, ERROR
 * events and HTTP 410, oversized lines. */
#include "test.h"
#include "test_k8s_helpers.h"

#include <stdlib.h>
#include <string.h>

#define JSON_HEAD "Content-Type: application/json\r\nConnection: close\r\n"

/* An answer with a JSON body. */
static char *answer(int status, const char *reason, const char *extra_headers, const char *body)
{
    return xasprintf("HTTP/1.1 %d %s\r\n" JSON_HEAD "%sContent-Length: %zu\r\n\r\n%s", status,
                     reason, extra_headers, strlen(body), body);
}

static void queue(tk_srv *s, char *a)
{
    tk_srv_answer(s, a);
    free(a);
}

static char *status_body(int code, const char *reason, const char *message)
{
    return xasprintf("{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\","
                     "\"message\":\"%s\",\"reason\":\"%s\",\"code\":%d}",
                     message, reason, code);
}

static void queue_status(tk_srv *s, int code, const char *phrase, const char *reason,
                         const char *extra_headers, const char *message)
{
    char *b = status_body(code, reason, message);
    queue(s, answer(code, phrase, extra_headers, b));
    free(b);
}

static const k8s_res cms = K8S_RES("", "v1", "configmaps");
#define CM_BODY "{\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"5\"}}"

TEST(k8s_scripted_429_waits_for_retry_after)
{
    ev_loop *loop = ev_loop_new();
    tk_srv *s = tk_srv_start(loop);
    REQUIRE(s);
    k8s_client *c = tk_srv_client(loop, s);
    queue_status(s, 429, "Too Many Requests", "TooManyRequests", "Retry-After: 1\r\n",
                 "slow down");
    queue(s, answer(200, "OK", "", CM_BODY));
    tk_rec r = { 0 };
    REQUIRE(k8s_get(c, &cms, "default", "a", tk_rec_cb, &r) == 0);
    CHECK_INT(r.calls, 0); /* never from inside the call */
    CHECK_INT(tk_await(loop, &r), 0);
    CHECK_INT(r.attempts, 2);
    CHECK_INT(tk_srv_requests(s), 2);
    CHECK_STR(k8s_meta_str(r.body, "name"), "a");
    /* The client's own backoff here is 10 ms; only Retry-After explains a
     * second or more (a lower bound, which slowness cannot break). */
    CHECK(tk_srv_request_ms(s, 1) - tk_srv_request_ms(s, 0) >= 990);
    CHECK_STR(tk_srv_request_line(s, 0), "GET /api/v1/namespaces/default/configmaps/a HTTP/1.1");
    CHECK(strstr(tk_srv_request(s, 0), "\r\nAuthorization: Bearer test-token\r\n") != NULL);
    CHECK(strstr(tk_srv_request(s, 0), "\r\nAccept: application/json\r\n") != NULL);
    k8s_client_stats st;
    k8s_client_stats_get(c, &st);
    CHECK_INT(st.requests, 1);
    CHECK_INT(st.attempts, 2);
    CHECK_INT(st.retries, 1);
    CHECK_INT(st.in_flight, 0);
    tk_rec_clear(&r);
    k8s_client_free(c);
    tk_srv_free(s);
    ev_loop_free(loop);
}

TEST(k8s_scripted_5xx_retried_except_for_create)
{
    ev_loop *loop = ev_loop_new();
    tk_srv *s = tk_srv_start(loop);
    REQUIRE(s);
    k8s_client *c = tk_srv_client(loop, s);
    tk_rec r = { 0 };

    /* GET: 500 and 502 are repeated. */
    queue_status(s, 500, "Internal Server Error", "InternalError", "", "etcd hiccup");
    tk_srv_answer(s, "HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    queue(s, answer(200, "OK", "", CM_BODY));
    REQUIRE(k8s_get(c, &cms, "default", "a", tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(loop, &r), 0);
    CHECK_INT(r.attempts, 3);
    tk_rec_clear(&r);

    /* POST: a 500 may have created the object: not repeated. */
    queue_status(s, 500, "Internal Server Error", "InternalError", "", "boom");
    json_t *obj = tk_configmap("a", "k", "v");
    REQUIRE(k8s_create(c, &cms, "default", obj, tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(loop, &r), K8S_ESERVER);
    CHECK_INT(r.attempts, 1);
    CHECK_STR(r.message, "boom");
    CHECK_STR(r.reason, "InternalError");
    CHECK_INT(r.status, 500);
    size_t n = tk_srv_requests(s);
    CHECK_STR(tk_srv_request_line(s, n - 1),
              "POST /api/v1/namespaces/default/configmaps HTTP/1.1");
    CHECK(strstr(tk_srv_request(s, n - 1), "\r\nContent-Type: application/json\r\n") != NULL);
    CHECK(strstr(tk_srv_request(s, n - 1), "\"data\":{\"k\":\"v\"}") != NULL);
    tk_rec_clear(&r);

    /* POST: 503 means it was not processed: repeated. */
    queue_status(s, 503, "Service Unavailable", "ServiceUnavailable", "", "starting");
    queue(s, answer(201, "Created", "", CM_BODY));
    REQUIRE(k8s_create(c, &cms, "default", obj, tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(loop, &r), 0);
    CHECK_INT(r.attempts, 2);
    CHECK_INT(r.status, 201);
    tk_rec_clear(&r);
    json_decref(obj);
    k8s_client_free(c);
    tk_srv_free(s);
    ev_loop_free(loop);
}

TEST(k8s_scripted_retries_give_up)
{
    ev_loop *loop = ev_loop_new();
    tk_srv *s = tk_srv_start(loop);
    REQUIRE(s);
    k8s_client *c = tk_srv_client(loop, s);
    for (int i = 0; i < K8S_MAX_RETRIES + 1; i++)
        queue_status(s, 503, "Service Unavailable", "ServiceUnavailable", "", "still down");
    queue(s, answer(200, "OK", "", CM_BODY)); /* never reached */
    tk_rec r = { 0 };
    REQUIRE(k8s_get(c, &cms, "default", "a", tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(loop, &r), K8S_EUNAVAILABLE);
    CHECK_INT(r.attempts, K8S_MAX_RETRIES + 1);
    CHECK_INT(tk_srv_requests(s), K8S_MAX_RETRIES + 1);
    CHECK_STR(r.message, "still down");
    k8s_client_stats st;
    k8s_client_stats_get(c, &st);
    CHECK_INT(st.failures, 1);
    tk_rec_clear(&r);
    k8s_client_free(c);
    tk_srv_free(s);
    ev_loop_free(loop);
}

TEST(k8s_scripted_broken_connections)
{
    ev_loop *loop = ev_loop_new();
    tk_srv *s = tk_srv_start(loop);
    REQUIRE(s);
    k8s_client *c = tk_srv_client(loop, s);
    tk_rec r = { 0 };
    /* The answer breaks off mid-body: a GET is repeated ... */
    const char *cut = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                      "Content-Length: 100\r\nConnection: close\r\n\r\n{\"kind\":";
    tk_srv_answer(s, cut);
    queue(s, answer(200, "OK", "", CM_BODY));
    REQUIRE(k8s_get(c, &cms, "default", "a", tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(loop, &r), 0);
    CHECK_INT(r.attempts, 2);
    tk_rec_clear(&r);
    /* ... a create is not: the server may have acted on it. */
    tk_srv_answer(s, cut);
    json_t *obj = tk_configmap("a", "k", "v");
    REQUIRE(k8s_create(c, &cms, "default", obj, tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(loop, &r), K8S_ESERVER);
    CHECK_INT(r.attempts, 1);
    CHECK_INT(r.status, 0);
    tk_rec_clear(&r);
    k8s_client_free(c);

    /* Nobody listening: even a create is repeated (nothing was sent), then
     * it gives up with K8S_ECONNECT. */
    int port = tk_srv_port(s);
    tk_srv_free(s);
    k8s_config cfg = { .server = xasprintf("http://127.0.0.1:%d", port) };
    c = k8s_client_new(loop, NULL, &cfg);
    REQUIRE(c);
    k8s_client_set_retry(c, 3, 1, 5);
    REQUIRE(k8s_create(c, &cms, "default", obj, tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(loop, &r), K8S_ECONNECT);
    CHECK_INT(r.attempts, 4);
    CHECK(r.message && *r.message);
    tk_rec_clear(&r);
    json_decref(obj);
    k8s_client_free(c);
    ev_loop_free(loop);
}

TEST(k8s_scripted_errors_map_and_carry_the_status)
{
    ev_loop *loop = ev_loop_new();
    tk_srv *s = tk_srv_start(loop);
    REQUIRE(s);
    k8s_client *c = tk_srv_client(loop, s);
    tk_rec r = { 0 };
    static const struct {
        int code;
        const char *phrase, *reason;
        int rc;
    } cases[] = {
        { 404, "Not Found", "NotFound", K8S_ENOTFOUND },
        { 409, "Conflict", "AlreadyExists", K8S_EEXISTS },
        { 409, "Conflict", "Conflict", K8S_ECONFLICT },
        { 403, "Forbidden", "Forbidden", K8S_EFORBIDDEN },
        { 422, "Unprocessable Entity", "Invalid", K8S_EBADREQUEST },
        { 410, "Gone", "Expired", K8S_EGONE },
    };
    for (size_t i = 0; i < LO_ARRAY_SIZE(cases); i++) {
        queue_status(s, cases[i].code, cases[i].phrase, cases[i].reason, "", "the reason why");
        REQUIRE(k8s_get(c, &cms, "default", "a", tk_rec_cb, &r) == 0);
        CHECK_INT(tk_await(loop, &r), cases[i].rc);
        CHECK_INT(r.attempts, 1);
        CHECK_STR(r.reason, cases[i].reason);
        CHECK_STR(r.message, "the reason why");
        tk_rec_clear(&r);
    }
    /* A 2xx that is not JSON. */
    tk_srv_answer(s, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello");
    REQUIRE(k8s_get(c, &cms, "default", "a", tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(loop, &r), K8S_EBADMSG);
    tk_rec_clear(&r);
    /* An error without a Status body still says something. */
    tk_srv_answer(s, "HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    REQUIRE(k8s_get(c, &cms, "default", "a", tk_rec_cb, &r) == 0);
    CHECK_INT(tk_await(loop, &r), K8S_ENOTFOUND);
    CHECK_STR(r.message, "HTTP 404");
    tk_rec_clear(&r);
    /* Bad names never reach the server. */
    size_t before = tk_srv_requests(s);
    CHECK_INT(k8s_get(c, &cms, "default", "../secrets", tk_rec_cb, &r), -EINVAL);
    CHECK_INT(k8s_get(c, &cms, "bad ns", "a", tk_rec_cb, &r), -EINVAL);
    CHECK_INT(k8s_delete(c, &cms, "default", "", tk_rec_cb, &r), -EINVAL);
    json_t *arr = json_array();
    CHECK_INT(k8s_patch(c, &cms, "default", "a", NULL, K8S_PATCH_MERGE, arr, tk_rec_cb, &r),
              -EINVAL);
    json_decref(arr);
    CHECK_INT(k8s_set_scale(c, &cms, "default", "a", -1, tk_rec_cb, &r), -EINVAL);
    tk_run_for(loop, 200);
    CHECK_INT(tk_srv_requests(s), before);
    CHECK_INT(r.calls, 0);
    k8s_client_free(c);
    tk_srv_free(s);
    ev_loop_free(loop);
}

static void count_cb(k8s_watch *w, const k8s_watch_event *ev, void *arg)
{
    ((tk_rec *)arg)->calls++;
}

TEST(k8s_scripted_client_free_cancels_quietly)
{
    ev_loop *loop = ev_loop_new();
    tk_srv *s = tk_srv_start(loop);
    REQUIRE(s);
    k8s_client *c = tk_srv_client(loop, s);
    tk_rec r1 = { 0 }, r2 = { 0 }, r3 = { 0 };
    /* No answers queued: the server holds every request. */
    REQUIRE(k8s_get(c, &cms, "default", "a", tk_rec_cb, &r1) == 0);
    REQUIRE(k8s_list_all(c, &cms, "default", NULL, tk_rec_cb, &r2) == 0);
    REQUIRE(k8s_watch_start(c, &cms, "default", "1", NULL, count_cb, &r3) != NULL);
    CHECK(TK_WAIT(loop, tk_srv_requests(s) == 3));
    k8s_client_free(c); /* no callbacks, nothing leaked */
    tk_run_for(loop, 200);
    CHECK_INT(r1.calls + r2.calls + r3.calls, 0);
    tk_srv_free(s);
    ev_loop_free(loop);
}

/* ---- watch streams ---- */

typedef struct wrec {
    int n;
    k8s_event_type types[32];
    char rvs[32][K8S_RV_MAX];
    int rcs[32];
    int expired, restarts;
    bool free_on_add;
} wrec;

static void wrec_cb(k8s_watch *w, const k8s_watch_event *ev, void *arg)
{
    wrec *x = arg;
    if (x->n < 32) {
        x->types[x->n] = ev->type;
        snprintf(x->rvs[x->n], K8S_RV_MAX, "%s", ev->rv ? ev->rv : "");
        x->rcs[x->n] = ev->rc;
    }
    x->n++;
    if (ev->type == K8S_EV_EXPIRED)
        x->expired++;
    if (ev->type == K8S_EV_RESTART)
        x->restarts++;
    if (x->free_on_add && ev->type == K8S_EV_ADDED)
        k8s_watch_free(w);
}

#define STREAM_HEAD "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" \
                    "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
#define EV_ADDED(name, rv) "{\"type\":\"ADDED\",\"object\":{\"kind\":\"ConfigMap\",\"metadata\":" \
                           "{\"name\":\"" name "\",\"resourceVersion\":\"" rv "\"}}}\n"
#define EV_BOOKMARK(rv) "{\"type\":\"BOOKMARK\",\"object\":{\"metadata\":{\"resourceVersion\":\"" rv "\"}}}\n"

/* A watch answer: the head, then each part as one chunk, a pause between
 * parts (so each arrives in its own read), then the end of the body. */
static void queue_stream(tk_srv *s, const char *const parts[])
{
    char *a = xstrdup(STREAM_HEAD);
    for (size_t i = 0; parts[i]; i++) {
        char *ch = tk_chunk(parts[i]);
        char *next = xasprintf("%s%s%s", a, ch, "\x01");
        free(ch);
        free(a);
        a = next;
    }
    char *done = xasprintf("%s0\r\n\r\n", a);
    tk_srv_answer(s, done);
    free(a);
    free(done);
}

TEST(k8s_scripted_watch_joins_split_lines_and_resumes_from_bookmark)
{
    ev_loop *loop = ev_loop_new();
    tk_srv *s = tk_srv_start(loop);
    REQUIRE(s);
    k8s_client *c = tk_srv_client(loop, s);
    /* One event cut in the middle, then an event and a bookmark in one
     * chunk; then the stream ends (as with timeoutSeconds). */
    const char *ev1 = EV_ADDED("a", "10");
    char *first = xstrndup(ev1, 30), *second = xstrdup(ev1 + 30);
    const char *parts[] = { first, second, EV_ADDED("b", "11") EV_BOOKMARK("15"), NULL };
    queue_stream(s, parts);
    free(first);
    free(second);
    wrec w = { 0 };
    k8s_watch_opts o = { .timeout_s = 30, .label_selector = "app=web" };
    k8s_watch *wt = k8s_watch_start(c, &cms, "default", "7", &o, wrec_cb, &w);
    REQUIRE(wt);
    CHECK(TK_WAIT(loop, tk_srv_requests(s) == 2)); /* resumed */
    REQUIRE(w.n >= 3);
    CHECK_INT(w.types[0], K8S_EV_ADDED);
    CHECK_STR(w.rvs[0], "10");
    CHECK_INT(w.types[1], K8S_EV_ADDED);
    CHECK_STR(w.rvs[1], "11");
    CHECK_INT(w.types[2], K8S_EV_BOOKMARK);
    CHECK_STR(w.rvs[2], "15");
    CHECK_INT(w.types[3], K8S_EV_RESTART);
    CHECK_INT(w.rcs[3], 0); /* a clean end */
    CHECK_STR(k8s_watch_rv(wt), "15");
    CHECK_STR(tk_srv_request_line(s, 0),
              "GET /api/v1/namespaces/default/configmaps?watch=1&allowWatchBookmarks=true"
              "&timeoutSeconds=30&resourceVersion=7&labelSelector=app%3Dweb HTTP/1.1");
    CHECK_STR(tk_srv_request_line(s, 1),
              "GET /api/v1/namespaces/default/configmaps?watch=1&allowWatchBookmarks=true"
              "&timeoutSeconds=30&resourceVersion=15&labelSelector=app%3Dweb HTTP/1.1");
    k8s_watch_stats st;
    k8s_watch_stats_get(wt, &st);
    CHECK_INT(st.events, 2);
    CHECK_INT(st.bookmarks, 1);
    CHECK_INT(st.streams, 2);
    CHECK_INT(st.restarts, 1);
    CHECK_INT(st.failures, 0);
    k8s_watch_free(wt);
    k8s_client_free(c);
    tk_srv_free(s);
    ev_loop_free(loop);
}

TEST(k8s_scripted_watch_error_410_event_expires)
{
    ev_loop *loop = ev_loop_new();
    tk_srv *s = tk_srv_start(loop);
    REQUIRE(s);
    k8s_client *c = tk_srv_client(loop, s);
    const char *parts[] = {
        EV_ADDED("a", "20"),
        "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"status\":\"Failure\","
        "\"message\":\"too old resource version: 20 (40)\",\"reason\":\"Expired\",\"code\":410}}\n",
        EV_ADDED("never", "21"), /* after the ERROR: dropped */
        NULL,
    };
    queue_stream(s, parts);
    wrec w = { 0 };
    k8s_watch *wt = k8s_watch_start(c, &cms, NULL, "19", NULL, wrec_cb, &w);
    REQUIRE(wt);
    CHECK(TK_WAIT(loop, w.expired == 1));
    tk_run_for(loop, 200);
    CHECK_INT(w.n, 2); /* ADDED, EXPIRED: nothing after the error */
    CHECK_INT(w.types[0], K8S_EV_ADDED);
    CHECK_INT(w.types[1], K8S_EV_EXPIRED);
    CHECK_INT(w.rcs[1], K8S_EGONE);
    CHECK(!k8s_watch_running(wt));
    CHECK_INT(tk_srv_requests(s), 1); /* no blind retry after 410 */
    /* The owner lists again and resumes from the list's version. */
    tk_srv_answer(s, "HTTP/1.1 410 Gone\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    k8s_watch_resume(wt, "40");
    CHECK(TK_WAIT(loop, w.expired == 2)); /* an HTTP 410 expires it too */
    CHECK(strstr(tk_srv_request_line(s, 1), "resourceVersion=40") != NULL);
    CHECK_INT(tk_srv_requests(s), 2);
    k8s_watch_stats st;
    k8s_watch_stats_get(wt, &st);
    CHECK_INT(st.expired, 2);
    k8s_watch_free(wt);
    k8s_client_free(c);
    tk_srv_free(s);
    ev_loop_free(loop);
}

TEST(k8s_scripted_watch_backs_off_and_keeps_its_version)
{
    ev_loop *loop = ev_loop_new();
    tk_srv *s = tk_srv_start(loop);
    REQUIRE(s);
    k8s_client *c = tk_srv_client(loop, s);
    queue_status(s, 500, "Internal Server Error", "InternalError", "", "down");
    queue_status(s, 403, "Forbidden", "Forbidden", "", "no rights yet");
    const char *parts[] = { EV_ADDED("a", "31"), NULL };
    queue_stream(s, parts);
    wrec w = { 0 };
    k8s_watch_opts o = { .backoff_base_ms = 10, .backoff_max_ms = 50 };
    k8s_watch *wt = k8s_watch_start(c, &cms, "default", "30", &o, wrec_cb, &w);
    REQUIRE(wt);
    CHECK(TK_WAIT(loop, w.n >= 3 && w.types[2] == K8S_EV_ADDED));
    CHECK_INT(w.types[0], K8S_EV_RESTART);
    CHECK_INT(w.rcs[0], K8S_ESERVER);
    CHECK_INT(w.types[1], K8S_EV_RESTART);
    CHECK_INT(w.rcs[1], K8S_EFORBIDDEN);
    /* Every attempt asked for the same version. */
    for (size_t i = 0; i < 3; i++)
        CHECK(strstr(tk_srv_request_line(s, i), "resourceVersion=30 ") != NULL);
    k8s_watch_stats st;
    k8s_watch_stats_get(wt, &st);
    CHECK_INT(st.failures, 2);
    k8s_watch_free(wt);
    k8s_client_free(c);
    tk_srv_free(s);
    ev_loop_free(loop);
}

TEST(k8s_scripted_watch_oversized_line_restarts_the_stream)
{
    ev_loop *loop = ev_loop_new();
    tk_srv *s = tk_srv_start(loop);
    REQUIRE(s);
    k8s_client *c = tk_srv_client(loop, s);
    const char *parts[] = {
        EV_ADDED("a", "50"),
        EV_ADDED("a-name-long-enough-to-pass-the-limit-of-this-watch-xxxxxxxxxxxxxxxxxx", "51"),
        NULL,
    };
    queue_stream(s, parts);
    wrec w = { 0 };
    k8s_watch_opts o = { .max_line = 100, .backoff_base_ms = 10 };
    k8s_watch *wt = k8s_watch_start(c, &cms, "default", "49", &o, wrec_cb, &w);
    REQUIRE(wt);
    CHECK(TK_WAIT(loop, tk_srv_requests(s) == 2));
    REQUIRE(w.n >= 2);
    CHECK_INT(w.types[0], K8S_EV_ADDED);
    CHECK_INT(w.types[1], K8S_EV_RESTART);
    CHECK_INT(w.rcs[1], K8S_ETOOLARGE);
    CHECK(strstr(tk_srv_request_line(s, 1), "resourceVersion=50 ") != NULL);
    k8s_watch_free(wt);
    k8s_client_free(c);
    tk_srv_free(s);
    ev_loop_free(loop);
}

TEST(k8s_scripted_watch_freed_from_its_callback)
{
    ev_loop *loop = ev_loop_new();
    tk_srv *s = tk_srv_start(loop);
    REQUIRE(s);
    k8s_client *c = tk_srv_client(loop, s);
    const char *parts[] = { EV_ADDED("a", "60") EV_ADDED("b", "61"), NULL };
    queue_stream(s, parts);
    wrec w = { .free_on_add = true };
    REQUIRE(k8s_watch_start(c, &cms, "default", "59", NULL, wrec_cb, &w));
    CHECK(TK_WAIT(loop, w.n >= 1));
    tk_run_for(loop, 200);
    CHECK_INT(w.n, 1); /* the second event went with the watch */
    CHECK_INT(tk_srv_requests(s), 1);
    k8s_client_free(c);
    tk_srv_free(s);
    ev_loop_free(loop);
}
