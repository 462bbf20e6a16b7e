/* test_sidecar_rules.c — rules JSON (the CRD's spec.sidecar shape),
 * validation messages, prefix and glob matching, /config rendering. */
#include <string.h>

#include "buf.h"
#include "test.h"

#include "sidecar/rules.h"

static int parse(const char *json, sidecar_rules *r, char *err)
{
    return sidecar_rules_parse(json, strlen(json), r, err, 256);
}

TEST(sidecar_rules_parse_full_section)
{
    sidecar_rules r;
    char err[256] = "";
    const char *j =
        "{\"factorMaxAgeSeconds\": 12, \"routes\": ["
        "{\"match\": {\"prefix\": \"/static/\"}, \"mode\": \"override\", \"underLoad\": \"longer\","
        " \"maxAge\": 600, \"minMaxAge\": 60, \"staleWhileRevalidate\": 30, \"staleIfError\": 90,"
        " \"jitterPercent\": 0, \"priority\": \"sheddable\", \"forcePublic\": true,"
        " \"microCache\": {\"enabled\": true, \"ttlSeconds\": 5}},"
        "{\"match\": {\"glob\": \"/api/*/items\"}, \"mode\": \"passthrough\", \"priority\": \"critical\"}],"
        "\"backpressure\": {\"maxConcurrency\": 8, \"minConcurrency\": 2, \"adaptive\": false,"
        " \"queueTimeoutMs\": 50, \"maxQueue\": 3, \"shedSheddableAboveFactor\": 4.5}}";
    REQUIRE(parse(j, &r, err) == 0);
    CHECK_INT(r.factor_max_age_s, 12);
    REQUIRE(r.nroutes == 2);
    CHECK_STR(r.routes[0].prefix, "/static/");
    CHECK_INT(r.routes[0].mode, SIDECAR_MODE_OVERRIDE);
    CHECK(r.routes[0].longer);
    CHECK_INT(r.routes[0].max_age, 600);
    CHECK_INT(r.routes[0].min_max_age, 60);
    CHECK_INT(r.routes[0].swr, 30);
    CHECK_INT(r.routes[0].sie, 90);
    CHECK_INT(r.routes[0].jitter_pct, 0);
    CHECK_INT(r.routes[0].prio, SIDECAR_PRIO_SHEDDABLE);
    CHECK(r.routes[0].force_public);
    CHECK(r.routes[0].micro_cache);
    CHECK_INT(r.routes[0].micro_ttl_s, 5);
    CHECK_STR(r.routes[1].glob, "/api/*/items");
    CHECK_INT(r.routes[1].mode, SIDECAR_MODE_PASSTHROUGH);
    CHECK_INT(r.routes[1].jitter_pct, 10);
    CHECK_INT(r.bp.max_conc, 8);
    CHECK_INT(r.bp.min_conc, 2);
    CHECK(!r.bp.adaptive);
    CHECK_INT(r.bp.queue_timeout_ms, 50);
    CHECK_INT(r.bp.max_queue, 3);
    CHECK(r.bp.shed_above_factor == 4.5);
    sidecar_rules_free(&r);
    CHECK_INT(r.nroutes, 0);
}

TEST(sidecar_rules_defaults_match_the_crd)
{
    sidecar_rules r;
    char err[256];
    REQUIRE(parse("{\"routes\": [{\"match\": {\"prefix\": \"/\"}, \"maxAge\": 5}]}", &r, err) == 0);
    CHECK_INT(r.factor_max_age_s, 30);
    CHECK_INT(r.routes[0].mode, SIDECAR_MODE_DEFAULT);
    CHECK(!r.routes[0].longer);
    CHECK_INT(r.routes[0].prio, SIDECAR_PRIO_NORMAL);
    CHECK_INT(r.routes[0].jitter_pct, 10);
    CHECK(!r.routes[0].micro_cache);
    CHECK_INT(r.bp.max_conc, 256);
    CHECK_INT(r.bp.min_conc, 4);
    CHECK(r.bp.adaptive);
    CHECK_INT(r.bp.queue_timeout_ms, 100);
    CHECK_INT(r.bp.max_queue, 128);
    CHECK(r.bp.shed_above_factor == 0);
    sidecar_rules_free(&r);
}

TEST(sidecar_rules_accepts_whole_policy_and_spec)
{
    sidecar_rules r;
    char err[256];
    REQUIRE(parse("{\"spec\": {\"targetRef\": {\"name\": \"web\"}, \"sidecar\": "
                  "{\"routes\": [{\"match\": {\"prefix\": \"/a\"}, \"maxAge\": 1}]}}}",
                  &r, err) == 0);
    CHECK_INT(r.nroutes, 1);
    sidecar_rules_free(&r);
    REQUIRE(parse("{\"sidecar\": {\"factorMaxAgeSeconds\": 7}}", &r, err) == 0);
    CHECK_INT(r.factor_max_age_s, 7);
    sidecar_rules_free(&r);
}

TEST(sidecar_rules_rejects_invalid_documents)
{
    static const struct { const char *json, *msg; } bad[] = {
        { "[]", "not a JSON object" },
        { "{\"routez\": []}", "sidecar.routez: unknown field" },
        { "{\"routes\": [{\"match\": {\"prefix\": \"/\"}}]}", "routes[0].maxAge is required" },
        { "{\"routes\": [{\"match\": {\"prefix\": \"/\"}, \"mode\": \"passthrough\"}]}", NULL },
        { "{\"routes\": [{\"match\": {\"prefix\": \"x\"}, \"maxAge\": 1}]}", "must be a string starting with '/'" },
        { "{\"routes\": [{\"match\": {\"prefix\": \"/\", \"glob\": \"/\"}, \"maxAge\": 1}]}", "exactly one of prefix or glob" },
        { "{\"routes\": [{\"match\": {\"glob\": \"/[]\"}, \"maxAge\": 1}]}", "balanced" },
        { "{\"routes\": [{\"match\": {\"glob\": \"/[ab\"}, \"maxAge\": 1}]}", "balanced" },
        { "{\"routes\": [{\"match\": {\"prefix\": \"/\"}, \"maxAge\": 5, \"minMaxAge\": 6}]}", "at least minMaxAge" },
        { "{\"routes\": [{\"match\": {\"prefix\": \"/\"}, \"maxAge\": 5, \"jitterPercent\": 51}]}", "jitterPercent must be an integer in 0..50" },
        { "{\"routes\": [{\"match\": {\"prefix\": \"/\"}, \"maxAge\": 5, \"priority\": \"high\"}]}", "priority must be one of" },
        { "{\"routes\": [{\"match\": {\"prefix\": \"/\"}, \"maxAge\": -1}]}", "maxAge must be" },
        { "{\"routes\": [{\"match\": {\"prefix\": \"/\"}, \"maxAge\": 5, \"microCache\": {\"ttlSeconds\": 0}}]}", "ttlSeconds" },
        { "{\"backpressure\": {\"maxConcurrency\": 2, \"minConcurrency\": 3}}", "minConcurrency must not exceed" },
        { "{\"backpressure\": {\"shedSheddableAboveFactor\": 0.5}}", "shedSheddableAboveFactor" },
        { "{\"factorMaxAgeSeconds\": 0}", "factorMaxAgeSeconds" },
        { "{\"a\": 1, \"a\": 2}", "not a JSON object" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sidecar_rules r;
        char err[256] = "";
        sidecar_rules_defaults(&r);
        int rc = parse(bad[i].json, &r, err);
        if (!bad[i].msg) {
            CHECK_INT(rc, 0);
            sidecar_rules_free(&r);
            continue;
        }
        CHECK_INT(rc, -22);
        if (!strstr(err, bad[i].msg))
            fprintf(stderr, "    case %zu: \"%s\" lacks \"%s\"\n", i, err, bad[i].msg);
        CHECK(strstr(err, bad[i].msg) != NULL);
        CHECK_INT(r.nroutes, 0);
    }
}

TEST(sidecar_rules_glob_matching)
{
    CHECK(sidecar_glob_match("/api/*/items", "/api/v1/items", 13));
    CHECK(!sidecar_glob_match("/api/*/items", "/api/v1/x/items", 15));
    CHECK(sidecar_glob_match("/api/**/items", "/api/v1/x/items", 15));
    CHECK(sidecar_glob_match("/api/**", "/api/", 5));
    CHECK(sidecar_glob_match("/*.css", "/a.css", 6));
    CHECK(!sidecar_glob_match("/*.css", "/a/b.css", 8));
    CHECK(sidecar_glob_match("/img/?.png", "/img/a.png", 10));
    CHECK(!sidecar_glob_match("/img/?.png", "/img/ab.png", 11));
    CHECK(sidecar_glob_match("/v[12]/x", "/v2/x", 5));
    CHECK(!sidecar_glob_match("/v[12]/x", "/v3/x", 5));
    CHECK(sidecar_glob_match("/v[0-9]/x", "/v7/x", 5));
    CHECK(sidecar_glob_match("/v[!0-9]/x", "/va/x", 5));
    CHECK(!sidecar_glob_match("/v[!0-9]/x", "/v1/x", 5));
    CHECK(!sidecar_glob_match("/exact", "/exactly", 8));
    CHECK(sidecar_glob_match("/exact", "/exact", 6));
    /* many stars against a long path stays linear: no blow-up */
    char path[4001];
    memset(path, 'a', 4000);
    path[0] = '/';
    path[4000] = 0;
    CHECK(!sidecar_glob_match("/*a*a*a*a*a*a*a*a*a*a*a*a*b", path, 4000));
}

TEST(sidecar_rules_match_first_rule_ignoring_query)
{
    sidecar_rules r;
    char err[256];
    REQUIRE(parse("{\"routes\": ["
                  "{\"match\": {\"glob\": \"/p/*.json\"}, \"maxAge\": 1},"
                  "{\"match\": {\"prefix\": \"/p/\"}, \"maxAge\": 2},"
                  "{\"match\": {\"prefix\": \"/\"}, \"maxAge\": 3}]}",
                  &r, err) == 0);
    const sidecar_rule *m = sidecar_rules_match(&r, "/p/a.json?x=/y", 14);
    REQUIRE(m != NULL);
    CHECK_INT(m->max_age, 1);
    m = sidecar_rules_match(&r, "/p/a.xml", 8);
    REQUIRE(m != NULL);
    CHECK_INT(m->max_age, 2);
    m = sidecar_rules_match(&r, "/q", 2);
    REQUIRE(m != NULL);
    CHECK_INT(m->max_age, 3);
    sidecar_rules_free(&r);
    sidecar_rules_defaults(&r);
    CHECK(sidecar_rules_match(&r, "/q", 2) == NULL);
}

TEST(sidecar_rules_to_json_round_trips)
{
    sidecar_rules r, r2;
    char err[256];
    REQUIRE(parse("{\"routes\": [{\"match\": {\"prefix\": \"/s\"}, \"maxAge\": 9, "
                  "\"priority\": \"critical\", \"microCache\": {\"enabled\": true, \"ttlSeconds\": 2}}],"
                  "\"backpressure\": {\"shedSheddableAboveFactor\": 3}}",
                  &r, err) == 0);
    buf_t b;
    buf_init(&b, 1 << 16);
    REQUIRE(sidecar_rules_to_json(&r, &b) == 0);
    REQUIRE(sidecar_rules_parse(buf_data(&b), buf_len(&b), &r2, err, sizeof err) == 0);
    CHECK_INT(r2.nroutes, 1);
    CHECK_STR(r2.routes[0].prefix, "/s");
    CHECK_INT(r2.routes[0].prio, SIDECAR_PRIO_CRITICAL);
    CHECK_INT(r2.routes[0].micro_ttl_s, 2);
    CHECK(r2.bp.shed_above_factor == 3);
    buf_free(&b);
    sidecar_rules_free(&r);
    sidecar_rules_free(&r2);
}
