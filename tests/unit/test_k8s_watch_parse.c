/* test_k8s_watch_parse.c — splitting a watch stream into lines (partial
 * lines across chunks, CRLF, oversized lines) and decoding events. */
#include "test.h"
#include "k8s_watch.h"
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SEEN 16

typedef struct seen {
    char *lines[MAX_SEEN];
    int n;
    int stop_after;     /* return -EINTR after this many lines (0: never) */
} seen;

static int collect(const char *line, size_t len, void *arg)
{
    seen *s = arg;
    if (s->n < MAX_SEEN)
        s->lines[s->n] = xstrndup(line, len);
    s->n++;
    if (s->stop_after && s->n == s->stop_after)
        return -EINTR;
    return 0;
}

static void seen_free(seen *s)
{
    for (int i = 0; i < s->n && i < MAX_SEEN; i++)
        free(s->lines[i]);
    memset(s, 0, sizeof *s);
}

TEST(k8s_lines_whole_chunk_crlf_and_blank_lines)
{
    k8s_lines l;
    k8s_lines_init(&l, 64);
    seen s = { 0 };
    const char *in = "one\ntwo\r\n\n\r\nthree\n";
    CHECK_INT(k8s_lines_feed(&l, in, strlen(in), collect, &s), 0);
    REQUIRE(s.n == 3);
    CHECK_STR(s.lines[0], "one");
    CHECK_STR(s.lines[1], "two");
    CHECK_STR(s.lines[2], "three");
    CHECK_INT(buf_len(&l.partial), 0);
    seen_free(&s);
    k8s_lines_free(&l);
}

TEST(k8s_lines_partial_tail_survives_chunks)
{
    k8s_lines l;
    k8s_lines_init(&l, 64);
    seen s = { 0 };
    const char *in = "{\"a\":1}\n{\"b\":22}\r\n{\"c\":333}\n";
    /* Byte by byte: every line is assembled from pieces. */
    for (size_t i = 0; i < strlen(in); i++)
        CHECK_INT(k8s_lines_feed(&l, in + i, 1, collect, &s), 0);
    REQUIRE(s.n == 3);
    CHECK_STR(s.lines[0], "{\"a\":1}");
    CHECK_STR(s.lines[1], "{\"b\":22}");
    CHECK_STR(s.lines[2], "{\"c\":333}");
    seen_free(&s);
    /* A chunk that ends mid-line, then one that finishes it and starts the next. */
    CHECK_INT(k8s_lines_feed(&l, "hel", 3, collect, &s), 0);
    CHECK_INT(s.n, 0);
    CHECK_INT(k8s_lines_feed(&l, "lo\nwor", 6, collect, &s), 0);
    CHECK_INT(s.n, 1);
    CHECK_INT(k8s_lines_feed(&l, "ld\n", 3, collect, &s), 0);
    REQUIRE(s.n == 2);
    CHECK_STR(s.lines[0], "hello");
    CHECK_STR(s.lines[1], "world");
    seen_free(&s);
    /* A "\r" split from its "\n" by a chunk boundary. */
    CHECK_INT(k8s_lines_feed(&l, "x\r", 2, collect, &s), 0);
    CHECK_INT(k8s_lines_feed(&l, "\n", 1, collect, &s), 0);
    REQUIRE(s.n == 1);
    CHECK_STR(s.lines[0], "x");
    seen_free(&s);
    /* reset forgets a partial line (a new stream). */
    CHECK_INT(k8s_lines_feed(&l, "stale", 5, collect, &s), 0);
    k8s_lines_reset(&l);
    CHECK_INT(k8s_lines_feed(&l, "fresh\n", 6, collect, &s), 0);
    REQUIRE(s.n == 1);
    CHECK_STR(s.lines[0], "fresh");
    seen_free(&s);
    k8s_lines_free(&l);
}

TEST(k8s_lines_oversized_lines_are_refused)
{
    k8s_lines l;
    k8s_lines_init(&l, 8);
    seen s = { 0 };
    /* Exactly the limit is fine, also with a CR and across chunks. */
    CHECK_INT(k8s_lines_feed(&l, "12345678\n", 9, collect, &s), 0);
    CHECK_INT(k8s_lines_feed(&l, "1234", 4, collect, &s), 0);
    CHECK_INT(k8s_lines_feed(&l, "5678\r\n", 6, collect, &s), 0);
    CHECK_INT(s.n, 2);
    seen_free(&s);
    /* One over, within one chunk. */
    CHECK_INT(k8s_lines_feed(&l, "ok\n123456789\nlater\n", 19, collect, &s), -EMSGSIZE);
    CHECK_INT(s.n, 1);
    seen_free(&s);
    /* Growing over the limit across chunks, without a newline yet. */
    CHECK_INT(k8s_lines_feed(&l, "12345", 5, collect, &s), 0);
    CHECK_INT(k8s_lines_feed(&l, "67890", 5, collect, &s), -EMSGSIZE);
    /* The splitter is reset: the next stream works. */
    CHECK_INT(buf_len(&l.partial), 0);
    CHECK_INT(k8s_lines_feed(&l, "next\n", 5, collect, &s), 0);
    REQUIRE(s.n == 1);
    CHECK_STR(s.lines[0], "next");
    seen_free(&s);
    /* A tail longer than the limit in one chunk. */
    CHECK_INT(k8s_lines_feed(&l, "a\n0123456789", 12, collect, &s), -EMSGSIZE);
    seen_free(&s);
    k8s_lines_free(&l);
}

TEST(k8s_lines_callback_error_stops_the_feed)
{
    k8s_lines l;
    k8s_lines_init(&l, 64);
    seen s = { .stop_after = 2 };
    CHECK_INT(k8s_lines_feed(&l, "a\nb\nc\nd", 7, collect, &s), -EINTR);
    CHECK_INT(s.n, 2);
    CHECK_INT(buf_len(&l.partial), 0); /* the rest is dropped */
    seen_free(&s);
    k8s_lines_free(&l);
}

TEST(k8s_watch_event_decode_object_events)
{
    k8s_watch_event ev;
    const char *added = "{\"type\":\"ADDED\",\"object\":{\"kind\":\"ConfigMap\","
                        "\"metadata\":{\"name\":\"a\",\"namespace\":\"n\",\"resourceVersion\":\"101\"}}}";
    REQUIRE(k8s_watch_event_decode(added, strlen(added), &ev) == 0);
    CHECK_INT(ev.type, K8S_EV_ADDED);
    CHECK_STR(ev.rv, "101");
    CHECK_STR(k8s_meta_str(ev.object, "name"), "a");
    CHECK_STR(k8s_event_type_name(ev.type), "ADDED");
    k8s_watch_event_clear(&ev);
    CHECK(ev.object == NULL);

    const char *mod = "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"resourceVersion\":\"7\"}}}";
    REQUIRE(k8s_watch_event_decode(mod, strlen(mod), &ev) == 0);
    CHECK_INT(ev.type, K8S_EV_MODIFIED);
    k8s_watch_event_clear(&ev);
    const char *del = "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"resourceVersion\":\"8\"}}}";
    REQUIRE(k8s_watch_event_decode(del, strlen(del), &ev) == 0);
    CHECK_INT(ev.type, K8S_EV_DELETED);
    k8s_watch_event_clear(&ev);

    /* A bookmark carries only the version. */
    const char *bm = "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"ConfigMap\","
                     "\"metadata\":{\"resourceVersion\":\"12345\",\"annotations\":"
                     "{\"k8s.io/initial-events-end\":\"true\"}}}}";
    REQUIRE(k8s_watch_event_decode(bm, strlen(bm), &ev) == 0);
    CHECK_INT(ev.type, K8S_EV_BOOKMARK);
    CHECK_STR(ev.rv, "12345");
    k8s_watch_event_clear(&ev);
}

TEST(k8s_watch_event_decode_error_410)
{
    k8s_watch_event ev;
    const char *gone = "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                       "\"status\":\"Failure\",\"message\":\"too old resource version: 1 (2077)\","
                       "\"reason\":\"Expired\",\"code\":410}}";
    REQUIRE(k8s_watch_event_decode(gone, strlen(gone), &ev) == 0);
    CHECK_INT(ev.type, K8S_EV_ERROR);
    CHECK_INT(ev.code, 410);
    CHECK_STR(ev.message, "too old resource version: 1 (2077)");
    CHECK(ev.rv == NULL);
    k8s_watch_event_clear(&ev);
}

TEST(k8s_watch_event_decode_rejects_non_events)
{
    static const char *bad[] = {
        "not json",
        "[]",
        "{\"type\":\"ADDED\"}",                                        /* no object */
        "{\"object\":{\"metadata\":{\"resourceVersion\":\"1\"}}}",     /* no type */
        "{\"type\":\"RENAMED\",\"object\":{\"metadata\":{\"resourceVersion\":\"1\"}}}",
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{}}}",           /* no version */
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"resourceVersion\":\"\"}}}",
        "{\"type\":\"ADDED\",\"object\":\"x\"}",
        "{\"type\":\"ADDED\",\"type\":\"DELETED\",\"object\":{\"metadata\":{\"resourceVersion\":\"1\"}}}",
    };
    for (size_t i = 0; i < LO_ARRAY_SIZE(bad); i++) {
        k8s_watch_event ev;
        CHECK_INT(k8s_watch_event_decode(bad[i], strlen(bad[i]), &ev), -EBADMSG);
        CHECK(ev.object == NULL);
    }
    /* A version longer than we keep is refused rather than cut. */
    char longrv[K8S_RV_MAX + 100];
    int n = snprintf(longrv, sizeof longrv,
                     "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"resourceVersion\":\"%0*d\"}}}",
                     K8S_RV_MAX, 1);
    k8s_watch_event ev;
    CHECK_INT(k8s_watch_event_decode(longrv, (size_t)n, &ev), -EBADMSG);
}
