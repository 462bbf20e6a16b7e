/* test_ingest_json_slice.c — raw compact member slices: taken only when they
 * equal a compact re-dump, and webhook data is the same either way. */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common.h"
#include "ingest/event.h"
#include "ingest/json_slice.h"

/* data values: canonical (slice taken) and not (slice refused). */
static const char *const canonical_vals[] = {
    "{}", "{\"a\":1}", "{\"post_id\":\"p\",\"voter\":\"u1\",\"n\":42}",
    "{\"a\":[1,-2,3],\"b\":{\"c\":null,\"d\":true,\"e\":false}}", "{\"s\":\"caf\xc3\xa9\"}",
    "{\"n\":0,\"m\":-7,\"x\":\"1.5e3 in a string\"}", "{\"k\":\"a,b}c]\"}",
};
static const char *const other_vals[] = {
    "{ }", "{\"a\": 1}", "{\"a\":1.5}", "{\"a\":1e3}", "{\"a\":-0}", "{\"a\":\"x\\/y\"}",
    "{\"a\":\"\\u00e9\"}", "{\"a\":[1, 2]}", "{\"a\":\"q\\\"q\"}", "{\"a\":1.0}",
};

static char *dumped(const char *v)
{
    json_t *j = json_loads(v, 0, NULL);
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}

static char *body_with(const char *data, const char *before, const char *after)
{
    return xasprintf("{%s\"id\":\"e1\",\"event_type\":\"t\",\"created_at\":1,\"data\":%s%s}",
                     before, data, after);
}

TEST(ingest_json_slice_takes_only_canonical_values)
{
    const char *v;
    size_t vl;
    for (size_t i = 0; i < LO_ARRAY_SIZE(canonical_vals); i++) {
        char *b = body_with(canonical_vals[i], "", ",\"z\":[1, 2.5]");
        CHECK(ingest_json_compact_member(b, strlen(b), "data", &v, &vl));
        char *d = dumped(canonical_vals[i]);
        REQUIRE(d != NULL);
        CHECK_INT(vl, strlen(d));
        CHECK(vl == strlen(d) && memcmp(v, d, vl) == 0);
        free(d);
        free(b);
    }
    for (size_t i = 0; i < LO_ARRAY_SIZE(other_vals); i++) {
        char *b = body_with(other_vals[i], "", "");
        CHECK(!ingest_json_compact_member(b, strlen(b), "data", &v, &vl));
        free(b);
    }
}

TEST(ingest_json_slice_finds_the_member_not_lookalikes)
{
    const char *v;
    size_t vl;
    const char *b = " { \"xdata\" : {\"a\":2} , \"d\\u0061ta\":{\"b\":3}, \"meta\":\"data\", "
                    "\"data\" :{\"c\":[{\"data\":1}]} } ";
    REQUIRE(ingest_json_compact_member(b, strlen(b), "data", &v, &vl));
    CHECK(vl == strlen("{\"c\":[{\"data\":1}]}") && memcmp(v, "{\"c\":[{\"data\":1}]}", vl) == 0);
    CHECK(!ingest_json_compact_member("{\"a\":1}", 7, "data", &v, &vl));
    CHECK(!ingest_json_compact_member("[1]", 3, "data", &v, &vl));
}

TEST(ingest_json_slice_webhook_data_matches_redump)
{
    const char *const *sets[2] = { canonical_vals, other_vals };
    size_t counts[2] = { LO_ARRAY_SIZE(canonical_vals), LO_ARRAY_SIZE(other_vals) };
    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; i < counts[s]; i++) {
            ingest_event ev;
            ingest_verr err;
            char *b = body_with(sets[s][i], "\"first\":[1,{\"data\":2}],", ", \"last\" : 1");
            REQUIRE(ingest_webhook_parse(b, strlen(b), NULL, &ev, &err) == 0);
            char *d = dumped(sets[s][i]);
            REQUIRE(d != NULL);
            CHECK_STR(ev.data, d);
            CHECK_INT(ev.data_len, strlen(d));
            free(d);
            ingest_event_clear(&ev);
            free(b);
        }
    }
}

static bool scan_ok(const char *text)
{
    ingest_json_member m[1] = { { .key = "id" } };
    return ingest_json_scan_object(text, strlen(text), 16, m, 1);
}

TEST(ingest_json_scan_finds_members_with_kinds)
{
    const char *b = " {\"id\":\"e-1\", \"n\" : -42,\"data\":{\"a\":[1,{\"b\":null}],\"t\":true},"
                    "\"l\":[],\"f\":false} ";
    ingest_json_member m[5] = { { .key = "id" }, { .key = "n" }, { .key = "data" },
                                { .key = "l" }, { .key = "absent" } };
    REQUIRE(ingest_json_scan_object(b, strlen(b), 4, m, 5));
    CHECK_INT(m[0].kind, INGEST_JSON_STRING);
    CHECK(m[0].len == 3 && memcmp(m[0].val, "e-1", 3) == 0);
    CHECK_INT(m[1].kind, INGEST_JSON_INT);
    CHECK_INT(m[1].ival, -42);
    CHECK_INT(m[2].kind, INGEST_JSON_OBJECT);
    const char *d = "{\"a\":[1,{\"b\":null}],\"t\":true}";
    CHECK(m[2].len == strlen(d) && memcmp(m[2].val, d, m[2].len) == 0);
    CHECK_INT(m[3].kind, INGEST_JSON_OTHER);
    CHECK_INT(m[4].kind, INGEST_JSON_MISSING);
    CHECK(!ingest_json_scan_object(b, strlen(b), 3, m, 5)); /* {"data":{"a":[{..}]}}: 4 deep */
}

TEST(ingest_json_scan_refuses_what_it_cannot_vouch_for)
{
    CHECK(scan_ok("{}"));
    CHECK(scan_ok("{\"id\":\"x\",\"o\":{\"id\":1}}"));
    const char *bad[] = {
        "", "[1]", "\"s\"", "{", "{\"id\":\"x\"", "{\"id\":\"x\"}x", "{\"id\":\"x\",}",
        "{\"id\" \"x\"}", "{\"id\":\"x\" \"y\":1}", "{\"id\":01}", "{\"id\":1.5}",
        "{\"id\":1e2}", "{\"id\":1234567890123456789}", "{\"id\":-}", "{\"id\":tru}",
        "{\"id\":\"a\\\"b\"}", "{\"id\":\"caf\xc3\xa9\"}", "{\"id\":\"tab\there\"}",
        "{\"id\":1,\"id\":2}", "{\"o\":{\"k\":1,\"k\":2}}", "{\"a\":[1,]}", "{\"a\":[1 2]}",
        "{\"a\":nul}", "{id:1}", "{\"a\":1}\x01",
    };
    for (size_t i = 0; i < LO_ARRAY_SIZE(bad); i++) {
        if (scan_ok(bad[i]))
            fprintf(stderr, "scan accepted: %s\n", bad[i]);
        CHECK(!scan_ok(bad[i]));
    }
}

TEST(ingest_json_scan_webhook_answers_match_the_full_parser)
{
    /* Bodies the scan takes and bodies it leaves to the full parser give
     * the same events and the same verdicts. */
    const char *const ok[] = {
        "{\"id\":\"a\",\"event_type\":\"t\",\"created_at\":1700000000,\"data\":{\"x\":1}}",
        "{\"data\":{\"x\":-0},\"created_at\":1700000000,\"event_type\":\"t\",\"id\":\"a\"}",
        ("{\"id\":\"a\",\"event_type\":\"t\",\"created_at\":\"2023-11-14T22:13:20Z\","
         "\"data\":{\"x\":[1, 2]}}"),
        "{\"id\":\"a\",\"event_type\":\"t\",\"created_at\":1700000000000,\"data\":{}}",
    };
    for (size_t i = 0; i < LO_ARRAY_SIZE(ok); i++) {
        ingest_event ev;
        ingest_verr err;
        REQUIRE(ingest_webhook_parse(ok[i], strlen(ok[i]), NULL, &ev, &err) == 0);
        CHECK_STR(ev.id, "a");
        CHECK_STR(ev.type, "t");
        CHECK_INT(ev.ts_ms, 1700000000000LL); /* seconds and milliseconds alike */
        CHECK_INT(ev.source, INGEST_SRC_WEBHOOK);
        const char *want[] = { "{\"x\":1}", "{\"x\":0}", "{\"x\":[1,2]}", "{}" };
        CHECK_STR(ev.data, want[i]);
        ingest_event_clear(&ev);
    }
    const char *const bad[] = {
        "{\"id\":\"a\",\"id\":\"b\",\"event_type\":\"t\",\"created_at\":1,\"data\":{}}",
        "{\"id\":\"a\",\"event_type\":\"t\",\"created_at\":1,\"data\":{\"k\":1,\"k\":2}}",
        "{\"id\":\"a\",\"event_type\":\"t t\",\"created_at\":1,\"data\":{}}",
        "{\"id\":\"a\",\"event_type\":\"t\",\"created_at\":-1,\"data\":{}}",
        "{\"id\":\"a\",\"event_type\":\"t\",\"created_at\":1,\"data\":[]}",
        "{\"id\":\"\",\"event_type\":\"t\",\"created_at\":1,\"data\":{}}",
        "{\"id\":\"a\",\"event_type\":\"t\",\"created_at\":1,\"data\":{}} x",
        ("{\"id\":\"a\",\"event_type\":\"t\",\"created_at\":1,\"data\":{\"a\":[[[[[[[[[[[[[[[[[["
         "]]]]]]]]]]]]]]]]]]}}"),
    };
    for (size_t i = 0; i < LO_ARRAY_SIZE(bad); i++) {
        ingest_event ev;
        ingest_verr err;
        CHECK(ingest_webhook_parse(bad[i], strlen(bad[i]), NULL, &ev, &err) < 0);
        CHECK(err.kind != INGEST_VERR_NONE);
        CHECK(ev.data == NULL);
    }
}
