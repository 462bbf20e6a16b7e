/* test_ingest_event.c — webhook and visitor-batch validation, normalisation
 * and limits. */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "common.h"
#include "ingest/event.h"

#define WH(s) ingest_webhook_parse(s, strlen(s), NULL, &ev, &err)

static const char *uuid = "0f8fad5b-d9cb-469f-a165-70867728950e";

TEST(ingest_event_webhook_normalises_fields)
{
    ingest_event ev;
    ingest_verr err;
    const char *b = "{\"id\":\"evt_1\",\"event_type\":\"upvote\",\"created_at\":1700000000,"
                    "\"data\":{ \"post\" : \"p1\", \"n\": [1, 2] },\"extra\":true}";
    REQUIRE(WH(b) == 0);
    CHECK_STR(ev.id, "evt_1");
    CHECK_STR(ev.type, "upvote");
    CHECK_INT(ev.ts_ms, 1700000000000LL);
    CHECK_INT(ev.source, INGEST_SRC_WEBHOOK);
    CHECK_STR(ingest_source_name(ev.source), "webhook");
    CHECK_STR(ev.data, "{\"post\":\"p1\",\"n\":[1,2]}");
    CHECK_INT(ev.data_len, strlen(ev.data));
    ingest_event_clear(&ev);
    CHECK(ev.data == NULL);

    REQUIRE(WH("{\"id\":\"e2\",\"event_type\":\"maker_comment\","
               "\"created_at\":\"2023-11-14T22:13:20.250Z\",\"data\":{}}") == 0);
    CHECK_INT(ev.ts_ms, 1700000000250LL);
    CHECK_STR(ev.data, "{}");
    ingest_event_clear(&ev);
}

static void expect_invalid(const char *body, const char *field, const char *reason_part)
{
    ingest_event ev;
    ingest_verr err;
    int rc = WH(body);
    CHECK_INT(rc, -EINVAL);
    CHECK_INT(err.kind, INGEST_VERR_INVALID);
    CHECK_STR(err.field, field);
    if (!strstr(err.reason, reason_part))
        fprintf(stderr, "    reason \"%s\" lacks \"%s\"\n", err.reason, reason_part);
    CHECK(strstr(err.reason, reason_part) != NULL);
    CHECK(ev.data == NULL);
}

TEST(ingest_event_webhook_schema_violations_name_the_field)
{
    expect_invalid("[]", "", "object");
    expect_invalid("{\"event_type\":\"u\",\"created_at\":1,\"data\":{}}", "id", "required");
    expect_invalid("{\"id\":7,\"event_type\":\"u\",\"created_at\":1,\"data\":{}}", "id", "string");
    expect_invalid("{\"id\":\"\",\"event_type\":\"u\",\"created_at\":1,\"data\":{}}", "id", "1 to");
    expect_invalid("{\"id\":\"a\\nb\",\"event_type\":\"u\",\"created_at\":1,\"data\":{}}", "id",
                   "control");
    expect_invalid("{\"id\":\"a\",\"created_at\":1,\"data\":{}}", "event_type", "required");
    expect_invalid("{\"id\":\"a\",\"event_type\":\"up vote\",\"created_at\":1,\"data\":{}}",
                   "event_type", "characters");
    expect_invalid("{\"id\":\"a\",\"event_type\":\"u\",\"data\":{}}", "created_at", "required");
    expect_invalid("{\"id\":\"a\",\"event_type\":\"u\",\"created_at\":1.5,\"data\":{}}",
                   "created_at", "integer or a string");
    expect_invalid("{\"id\":\"a\",\"event_type\":\"u\",\"created_at\":\"soon\",\"data\":{}}",
                   "created_at", "RFC 3339");
    expect_invalid("{\"id\":\"a\",\"event_type\":\"u\",\"created_at\":-5,\"data\":{}}",
                   "created_at", "range");
    expect_invalid("{\"id\":\"a\",\"event_type\":\"u\",\"created_at\":1}", "data", "required");
    expect_invalid("{\"id\":\"a\",\"event_type\":\"u\",\"created_at\":1,\"data\":[]}", "data",
                   "object");
}

TEST(ingest_event_limits_on_id_and_type_length)
{
    ingest_event ev;
    ingest_verr err;
    char id[INGEST_ID_MAX + 2];
    memset(id, 'i', sizeof(id) - 1);
    id[sizeof(id) - 1] = '\0';
    char *b = xasprintf("{\"id\":\"%s\",\"event_type\":\"u\",\"created_at\":1,\"data\":{}}", id);
    CHECK_INT(WH(b), -EINVAL);
    CHECK_STR(err.field, "id");
    free(b);
    id[INGEST_ID_MAX] = '\0'; /* exactly the maximum */
    b = xasprintf("{\"id\":\"%s\",\"event_type\":\"u\",\"created_at\":1,\"data\":{}}", id);
    CHECK_INT(WH(b), 0);
    CHECK_INT(strlen(ev.id), INGEST_ID_MAX);
    ingest_event_clear(&ev);
    free(b);
    char type[INGEST_TYPE_MAX + 2];
    memset(type, 't', sizeof(type) - 1);
    type[sizeof(type) - 1] = '\0';
    b = xasprintf("{\"id\":\"a\",\"event_type\":\"%s\",\"created_at\":1,\"data\":{}}", type);
    CHECK_INT(WH(b), -EINVAL);
    CHECK_STR(err.field, "event_type");
    free(b);
}

TEST(ingest_event_malformed_json)
{
    ingest_event ev;
    ingest_verr err;
    const char *bad[] = {
        "", "{", "{\"id\":}", "nul", "{\"id\":\"a\",\"id\":\"b\"}", /* duplicate key */
        "{\"id\":\"a\\u0000b\"}",                                      /* NUL in a string */
        "{\"a\":\"\xff\"}",                                            /* not UTF-8 */
        "{} {}",                                                       /* trailing data */
        "{\"n\":123456789012345678901234567890}",                      /* integer overflow */
    };
    for (size_t i = 0; i < LO_ARRAY_SIZE(bad); i++) {
        CHECK_INT(WH(bad[i]), -EINVAL);
        CHECK_INT(err.kind, INGEST_VERR_MALFORMED);
        CHECK(err.reason[0] != '\0');
    }
    char *js = ingest_verr_json(&err);
    CHECK(strstr(js, "\"error\":\"malformed\"") != NULL);
    free(js);
}

TEST(ingest_event_depth_limit_is_checked_before_parsing)
{
    CHECK_INT(ingest_json_depth("{}", 2, 16), 1);
    CHECK_INT(ingest_json_depth("[[{\"a\":[]}]]", 12, 16), 4);
    CHECK_INT(ingest_json_depth("{\"a\":\"[[[[\\\"[[[\"}", 17, 16), 1); /* brackets in strings */
    CHECK_INT(ingest_json_depth("[[[[[", 5, 3), 4);

    ingest_event ev;
    ingest_verr err;
    ingest_limits lim = { .max_depth = 4 };
    const char *ok = "{\"id\":\"a\",\"event_type\":\"u\",\"created_at\":1,\"data\":{\"x\":{\"y\":[1]}}}";
    CHECK_INT(ingest_webhook_parse(ok, strlen(ok), &lim, &ev, &err), 0);
    ingest_event_clear(&ev);
    const char *deep = "{\"id\":\"a\",\"event_type\":\"u\",\"created_at\":1,\"data\":{\"x\":{\"y\":[[1]]}}}";
    CHECK_INT(ingest_webhook_parse(deep, strlen(deep), &lim, &ev, &err), -EINVAL);
    CHECK_INT(err.kind, INGEST_VERR_MALFORMED);
    CHECK(strstr(err.reason, "deeper") != NULL);
    /* A default-limit document far deeper than jansson's own recursion limit. */
    size_t n = 60000; /* under the body limit */
    char *big = xmalloc(n + 1);
    memset(big, '[', n);
    big[n] = '\0';
    CHECK_INT(WH(big), -EINVAL);
    CHECK_INT(err.kind, INGEST_VERR_MALFORMED);
    free(big);
}

TEST(ingest_event_body_size_limit)
{
    ingest_event ev;
    ingest_verr err;
    ingest_limits lim = { .max_body = 64 };
    const char *b = "{\"id\":\"a\",\"event_type\":\"u\",\"created_at\":1,\"data\":{\"pad\":\"xxxxxxxxxx\"}}";
    CHECK_INT(ingest_webhook_parse(b, strlen(b), &lim, &ev, &err), -EMSGSIZE);
    CHECK_INT(err.kind, INGEST_VERR_TOO_LARGE);
    char *js = ingest_verr_json(&err);
    CHECK(strstr(js, "\"error\":\"too_large\"") != NULL);
    free(js);
}

TEST(ingest_event_batch_normalises_and_derives_ids)
{
    ingest_event *evs = NULL;
    size_t n = 0;
    ingest_verr err;
    char *b = xasprintf("[{\"userId\":\"%s\",\"eventType\":\"hover\",\"payload\":{\"el\":\"#buy\"},"
                        "\"timestamp\":1700000000123},"
                        "{\"userId\":\"0F8FAD5B-D9CB-469F-A165-70867728950E\",\"eventType\":\"cta_click\","
                        "\"payload\":{},\"timestamp\":1700000000124},"
                        "{\"userId\":\"%s\",\"eventType\":\"hover\",\"payload\":{\"el\":\"#buy\"},"
                        "\"timestamp\":1700000000123}]",
                        uuid, uuid);
    REQUIRE(ingest_batch_parse(b, strlen(b), NULL, &evs, &n, &err) == 0);
    REQUIRE(n == 3);
    CHECK_STR(evs[0].type, "hover");
    CHECK_INT(evs[0].ts_ms, 1700000000123LL);
    CHECK_INT(evs[0].source, INGEST_SRC_SITE);
    CHECK_STR(evs[0].data, "{\"userId\":\"0f8fad5b-d9cb-469f-a165-70867728950e\",\"payload\":{\"el\":\"#buy\"}}");
    CHECK_INT(strlen(evs[0].id), 34);
    CHECK(strncmp(evs[0].id, "s-", 2) == 0);
    CHECK_STR(evs[0].id, evs[2].id);        /* the same event sent twice: same id */
    CHECK(strcmp(evs[0].id, evs[1].id) != 0);
    /* user ids are lower-cased */
    CHECK(strstr(evs[1].data, uuid) != NULL);
    ingest_events_free(evs, n);
    free(b);
}

static void expect_batch_invalid(const char *body, ingest_verr_kind kind, const char *field)
{
    ingest_event *evs = NULL;
    size_t n = 7;
    ingest_verr err;
    int rc = ingest_batch_parse(body, strlen(body), NULL, &evs, &n, &err);
    CHECK(rc < 0);
    CHECK_INT(err.kind, kind);
    CHECK_STR(err.field, field);
    CHECK(evs == NULL);
    CHECK_INT(n, 0);
}

TEST(ingest_event_batch_schema_violations_name_the_item_and_field)
{
    char *b;
    expect_batch_invalid("{}", INGEST_VERR_INVALID, "");
    expect_batch_invalid("[]", INGEST_VERR_INVALID, "");
    expect_batch_invalid("[1]", INGEST_VERR_INVALID, "[0]");
    b = xasprintf("[{\"userId\":\"%s\",\"eventType\":\"hover\",\"payload\":{},\"timestamp\":1},"
                  "{\"userId\":\"%s\",\"eventType\":\"purchase\",\"payload\":{},\"timestamp\":1}]",
                  uuid, uuid);
    expect_batch_invalid(b, INGEST_VERR_INVALID, "[1].eventType");
    free(b);
    expect_batch_invalid("[{\"userId\":\"not-a-uuid\",\"eventType\":\"hover\",\"payload\":{},"
                         "\"timestamp\":1}]",
                         INGEST_VERR_INVALID, "[0].userId");
    expect_batch_invalid("[{\"eventType\":\"hover\",\"payload\":{},\"timestamp\":1}]",
                         INGEST_VERR_INVALID, "[0].userId");
    b = xasprintf("[{\"userId\":\"%s\",\"eventType\":\"hover\",\"payload\":[],\"timestamp\":1}]", uuid);
    expect_batch_invalid(b, INGEST_VERR_INVALID, "[0].payload");
    free(b);
    b = xasprintf("[{\"userId\":\"%s\",\"eventType\":\"scroll\",\"payload\":{},\"timestamp\":\"1\"}]", uuid);
    expect_batch_invalid(b, INGEST_VERR_INVALID, "[0].timestamp");
    free(b);
    b = xasprintf("[{\"userId\":\"%s\",\"eventType\":\"scroll\",\"payload\":{}}]", uuid);
    expect_batch_invalid(b, INGEST_VERR_INVALID, "[0].timestamp");
    free(b);
    expect_batch_invalid("[", INGEST_VERR_MALFORMED, "");
}

TEST(ingest_event_batch_count_limit)
{
    ingest_limits lim = { .max_batch = 2 };
    ingest_event *evs = NULL;
    size_t n = 0;
    ingest_verr err;
    char *one = xasprintf("{\"userId\":\"%s\",\"eventType\":\"form_submit\",\"payload\":{},\"timestamp\":1}", uuid);
    char *two = xasprintf("[%s,%s]", one, one);
    char *three = xasprintf("[%s,%s,%s]", one, one, one);
    CHECK_INT(ingest_batch_parse(two, strlen(two), &lim, &evs, &n, &err), 0);
    CHECK_INT(n, 2);
    ingest_events_free(evs, n);
    CHECK_INT(ingest_batch_parse(three, strlen(three), &lim, &evs, &n, &err), -EMSGSIZE);
    CHECK_INT(err.kind, INGEST_VERR_TOO_LARGE);
    free(one);
    free(two);
    free(three);
}

TEST(ingest_event_error_json_names_field_and_escapes_reason)
{
    ingest_verr err = { .kind = INGEST_VERR_INVALID };
    snprintf(err.field, sizeof(err.field), "data.created_at");
    snprintf(err.reason, sizeof(err.reason), "bad \"quote\" \x01 and \xc3\xa9");
    char *js = ingest_verr_json(&err);
    CHECK_STR(js, "{\"error\":\"invalid\",\"field\":\"data.created_at\",\"reason\":\"bad \\\"quote\\\" ? and ??\"}");
    free(js);
}
