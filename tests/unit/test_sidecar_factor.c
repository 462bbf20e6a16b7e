/* test_sidecar_factor.c — the predictor's factor: parsing the channel
 * message and the hash, ordering by updated_at, decay to 1.0 with age, and
 * the policy document from Redis (rules_parse_policy) and NS/NAME. */
#include <errno.h>
#include <string.h>

#include "test.h"

#include "sidecar/factor.h"
#include "sidecar/feed.h"
#include "sidecar/rules.h"

static const char *msg_web =
    "{\"namespace\":\"shop\",\"name\":\"web\",\"eps\":12.5,\"forecast_eps\":14.1,"
    "\"trend\":0.03,\"predicted_rps\":2870,\"predicted_upper\":3310,\"observed_rps\":-1,"
    "\"factor\":57.4,\"desired_replicas\":19,\"reason\":\"predicted\",\"tick\":1740816123,"
    "\"last_id\":\"1740816123456-0\",\"updated_at\":1740816124101}";

TEST(sidecar_factor_parse_msg_for_us)
{
    double f = 0;
    int64_t ua = 0;
    CHECK_INT(sidecar_forecast_parse_msg(msg_web, strlen(msg_web), "shop", "web", &f, &ua), 1);
    CHECK(f == 57.4);
    CHECK(ua == 1740816124101LL);
}

TEST(sidecar_factor_parse_msg_other_policy_or_garbage)
{
    double f = 3;
    int64_t ua = 7;
    CHECK_INT(sidecar_forecast_parse_msg(msg_web, strlen(msg_web), "shop", "api", &f, &ua), 0);
    CHECK_INT(sidecar_forecast_parse_msg(msg_web, strlen(msg_web), "shop2", "web", &f, &ua), 0);
    CHECK(f == 3 && ua == 7);
    const char *bad[] = {
        "", "[]", "{\"namespace\":\"shop\",\"name\":\"web\"}",
        "{\"namespace\":\"shop\",\"name\":\"web\",\"factor\":\"x\"}",
        "{\"namespace\":\"shop\",\"name\":\"web\",\"factor\":2,\"updated_at\":-5}",
        "{\"name\":\"web\",\"factor\":2}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_INT(sidecar_forecast_parse_msg(bad[i], strlen(bad[i]), "shop", "web", &f, &ua),
                  -EINVAL);
    /* A factor as decimal text is accepted (the hash's form). */
    const char *txt = "{\"namespace\":\"shop\",\"name\":\"web\",\"factor\":\"2.5\"}";
    CHECK_INT(sidecar_forecast_parse_msg(txt, strlen(txt), "shop", "web", &f, &ua), 1);
    CHECK(f == 2.5 && ua == 0);
}

TEST(sidecar_factor_parse_hash)
{
    const char *fields[] = { "eps", "factor", "updated_at" };
    const char *values[] = { "1", "4.25", "1740816124101" };
    size_t fl[] = { 3, 6, 10 }, vl[] = { 1, 4, 13 };
    double f = 0;
    int64_t ua = 0;
    CHECK_INT(sidecar_forecast_parse_hash(3, fields, fl, values, vl, &f, &ua), 1);
    CHECK(f == 4.25);
    CHECK(ua == 1740816124101LL);
    CHECK_INT(sidecar_forecast_parse_hash(0, NULL, NULL, NULL, NULL, &f, &ua), 0);
    CHECK_INT(sidecar_forecast_parse_hash(1, fields, fl, values, vl, &f, &ua), 0);
    const char *badv[] = { "1", "4x", "0" };
    size_t bvl[] = { 1, 2, 1 };
    CHECK_INT(sidecar_forecast_parse_hash(3, fields, fl, badv, bvl, &f, &ua), -EINVAL);
}

TEST(sidecar_factor_decays_after_max_age)
{
    sidecar_factor f;
    sidecar_factor_init(&f);
    CHECK(sidecar_factor_get(&f, 30, 1000) == 1.0);
    CHECK(sidecar_factor_age_ms(&f, 1000) == UINT64_MAX);
    /* Arrives at mono 1000 ms, already 2 s old by the wall clock. */
    CHECK_INT(sidecar_factor_set(&f, 8.0, 100000, 1000, 102000), 1);
    CHECK(sidecar_factor_age_ms(&f, 1000) == 2000);
    CHECK(sidecar_factor_get(&f, 30, 1000) == 8.0);
    CHECK(sidecar_factor_get(&f, 30, 1000 + 28000) == 8.0);  /* exactly 30 s old */
    CHECK(sidecar_factor_get(&f, 30, 1000 + 28001) == 1.0);
    CHECK(sidecar_factor_get(&f, 60, 1000 + 28001) == 8.0);
    /* A fresh value brings it back. */
    CHECK_INT(sidecar_factor_set(&f, 3.0, 140000, 40000, 140000), 1);
    CHECK(sidecar_factor_get(&f, 30, 40000) == 3.0);
}

TEST(sidecar_factor_ignores_older_and_invalid)
{
    sidecar_factor f;
    sidecar_factor_init(&f);
    CHECK_INT(sidecar_factor_set(&f, 5.0, 2000, 10, 2000), 1);
    CHECK_INT(sidecar_factor_set(&f, 9.0, 1999, 20, 2010), 0);  /* out of order */
    CHECK(sidecar_factor_get(&f, 30, 20) == 5.0);
    CHECK_INT(sidecar_factor_set(&f, 0.0, 3000, 30, 3000), -EINVAL);
    CHECK_INT(sidecar_factor_set(&f, -1.0, 3000, 30, 3000), -EINVAL);
    CHECK_INT(sidecar_factor_set(&f, 1e300 * 1e300, 3000, 30, 3000), -EINVAL);
    CHECK_INT(sidecar_factor_set(&f, SIDECAR_FACTOR_MAX * 2, 3000, 30, 3000), -EINVAL);
    CHECK(sidecar_factor_get(&f, 30, 30) == 5.0);
    /* Without updated_at (0) a value is always taken; a clock behind the
     * predictor's gives age 0, not a negative one. */
    CHECK_INT(sidecar_factor_set(&f, 6.0, 0, 40, 0), 1);
    CHECK_INT(sidecar_factor_set(&f, 7.0, 9000, 50, 100), 1);
    CHECK(sidecar_factor_age_ms(&f, 50) == 0);
}

TEST(sidecar_rules_parse_policy_document)
{
    sidecar_rules r;
    char err[256] = "";
    const char *whole =
        "{\"namespace\":\"shop\",\"name\":\"web\",\"generation\":7,\"spec\":{"
        "\"prediction\":{\"leadSeconds\":60},\"sidecar\":{\"factorMaxAgeSeconds\":9,"
        "\"routes\":[{\"match\":{\"prefix\":\"/\"},\"maxAge\":100}]}}}";
    REQUIRE(sidecar_rules_parse_policy(whole, strlen(whole), &r, err, sizeof err) == 0);
    CHECK_INT(r.factor_max_age_s, 9);
    CHECK_INT(r.nroutes, 1);
    sidecar_rules_free(&r);
    /* No sidecar section (whole policy or spec alone): the defaults. */
    const char *none = "{\"namespace\":\"shop\",\"name\":\"web\",\"spec\":{\"minReplicas\":2}}";
    REQUIRE(sidecar_rules_parse_policy(none, strlen(none), &r, err, sizeof err) == 0);
    CHECK_INT(r.nroutes, 0);
    CHECK_INT(r.factor_max_age_s, 30);
    const char *spec = "{\"minReplicas\":2,\"prediction\":{}}";
    REQUIRE(sidecar_rules_parse_policy(spec, strlen(spec), &r, err, sizeof err) == 0);
    CHECK_INT(r.nroutes, 0);
    /* ...whereas as a config file the same spec is an error. */
    CHECK(sidecar_rules_parse(spec, strlen(spec), &r, err, sizeof err) == -EINVAL);
    /* A bad sidecar section is still rejected. */
    const char *bad = "{\"spec\":{\"sidecar\":{\"routez\":[]}}}";
    CHECK(sidecar_rules_parse_policy(bad, strlen(bad), &r, err, sizeof err) == -EINVAL);
    CHECK(strstr(err, "routez") != NULL);
}

TEST(sidecar_policy_split_names)
{
    char ns[SIDECAR_POLICY_NAME_MAX + 1], name[SIDECAR_POLICY_NAME_MAX + 1];
    CHECK_INT(sidecar_policy_split("shop/web-1.a", ns, name), 0);
    CHECK_STR(ns, "shop");
    CHECK_STR(name, "web-1.a");
    const char *bad[] = { "", "shop", "/web", "shop/", "a/b/c", "Shop/web", "sh op/web",
                          "shop/we:b" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_INT(sidecar_policy_split(bad[i], ns, name), -EINVAL);
    CHECK_INT(sidecar_policy_split(NULL, ns, name), -EINVAL);
}
