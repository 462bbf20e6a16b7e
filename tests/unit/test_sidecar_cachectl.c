/* test_sidecar_cachectl.c — effective max-age from the factor, jitter
 * bounds, the modes, and the never-public cases. */
#include <string.h>

#include "test.h"

#include "sidecar/cacheable.h"
#include "sidecar/cachectl.h"

static sidecar_rule rule(sidecar_mode mode, uint32_t max, uint32_t min)
{
    sidecar_rule r;
    memset(&r, 0, sizeof r);
    r.mode = mode;
    r.has_max_age = true;
    r.max_age = max;
    r.min_max_age = min;
    r.jitter_pct = 0;
    return r;
}

TEST(sidecar_cachectl_max_age_shrinks_with_factor)
{
    sidecar_rule r = rule(SIDECAR_MODE_OVERRIDE, 600, 60);
    CHECK_INT(sidecar_cc_max_age(&r, 1.0, 0), 600);
    CHECK_INT(sidecar_cc_max_age(&r, 2.0, 0), 300);
    CHECK_INT(sidecar_cc_max_age(&r, 4.0, 0), 150);
    CHECK_INT(sidecar_cc_max_age(&r, 100.0, 0), 60);  /* clamped to minMaxAge */
    CHECK_INT(sidecar_cc_max_age(&r, 0.5, 0), 600);   /* clamped to maxAge */
    CHECK_INT(sidecar_cc_max_age(&r, 0.0, 0), 600);   /* invalid factor: 1 */
    CHECK_INT(sidecar_cc_max_age(&r, -3.0, 0), 600);
}

TEST(sidecar_cachectl_max_age_longer_under_load)
{
    sidecar_rule r = rule(SIDECAR_MODE_OVERRIDE, 600, 60);
    r.longer = true;
    CHECK_INT(sidecar_cc_max_age(&r, 1.0, 0), 60);
    CHECK_INT(sidecar_cc_max_age(&r, 3.0, 0), 180);
    CHECK_INT(sidecar_cc_max_age(&r, 50.0, 0), 600);
}

TEST(sidecar_cachectl_jitter_stays_within_percent_and_bounds)
{
    sidecar_rule r = rule(SIDECAR_MODE_OVERRIDE, 1000, 0);
    r.jitter_pct = 10;
    CHECK_INT(sidecar_cc_max_age(&r, 2.0, -1.0), 450);
    CHECK_INT(sidecar_cc_max_age(&r, 2.0, 1.0), 550);
    CHECK_INT(sidecar_cc_max_age(&r, 2.0, 0.5), 525);
    CHECK_INT(sidecar_cc_max_age(&r, 1.0, 1.0), 1000); /* never above maxAge */
    r.min_max_age = 480;
    CHECK_INT(sidecar_cc_max_age(&r, 2.0, -1.0), 480); /* never below minMaxAge */
}

static int decide(const sidecar_rule *r, const char *app_cc, bool cookie_out, bool cred_in,
                  int status, char *out)
{
    http_header cc = { { "Cache-Control", 13 }, { app_cc, app_cc ? strlen(app_cc) : 0 } };
    sidecar_cc_in in = { .rule = r, .factor = 2.0, .status = status,
                         .app = &cc, .napp = app_cc != NULL, .app_cc = app_cc != NULL,
                         .set_cookie = cookie_out, .req_credentials = cred_in, .jitter_u = 0 };
    out[0] = 0;
    return sidecar_cc_decide(&in, out, SIDECAR_CC_MAX);
}

TEST(sidecar_cachectl_modes)
{
    char out[SIDECAR_CC_MAX];
    sidecar_rule ov = rule(SIDECAR_MODE_OVERRIDE, 600, 60);
    sidecar_rule df = rule(SIDECAR_MODE_DEFAULT, 600, 60);
    sidecar_rule pt = rule(SIDECAR_MODE_PASSTHROUGH, 0, 0);
    CHECK_INT(decide(&ov, NULL, false, false, 200, out), 1);
    CHECK_STR(out, "public, max-age=300");
    CHECK_INT(decide(&ov, "max-age=5", false, false, 200, out), 1);
    CHECK_STR(out, "public, max-age=300");
    CHECK_INT(decide(&df, "max-age=5", false, false, 200, out), 0);
    CHECK_INT(decide(&df, NULL, false, false, 200, out), 1);
    CHECK_STR(out, "public, max-age=300");
    CHECK_INT(decide(&pt, NULL, false, false, 200, out), 0);
    CHECK_INT(decide(NULL, NULL, false, false, 200, out), 0);
    ov.swr = 30;
    ov.sie = 600;
    CHECK_INT(decide(&ov, NULL, false, false, 404, out), 1);
    CHECK_STR(out, "public, max-age=300, stale-while-revalidate=30, stale-if-error=600");
}

TEST(sidecar_cachectl_never_public_for_private_content)
{
    char out[SIDECAR_CC_MAX];
    sidecar_rule ov = rule(SIDECAR_MODE_OVERRIDE, 600, 60);
    CHECK_INT(decide(&ov, "private, max-age=60", false, false, 200, out), 0);
    CHECK_INT(decide(&ov, "no-store", false, false, 200, out), 0);
    CHECK_INT(decide(&ov, "max-age=0, PRIVATE", false, false, 200, out), 0);
    CHECK_INT(decide(&ov, NULL, true, false, 200, out), 0);   /* Set-Cookie */
    CHECK_INT(decide(&ov, NULL, false, true, 200, out), 0);   /* Authorization / Cookie */
    CHECK_INT(decide(&ov, NULL, false, false, 500, out), 0);  /* not cacheable by default */
    CHECK_INT(decide(&ov, NULL, false, false, 302, out), 0);
    /* a quoted value mentioning private is not the directive */
    CHECK_INT(decide(&ov, "no-cache=\"x, private\"", false, false, 200, out), 1);
    ov.force_public = true;
    CHECK_INT(decide(&ov, "private", true, true, 200, out), 1);
    CHECK_STR(out, "public, max-age=300");
}

TEST(sidecar_cachectl_directive_lookup)
{
    http_str cc = { "public, max-age=60 ,s-maxage=5", 30 };
    CHECK(sidecar_cc_has(cc, "max-age"));
    CHECK(sidecar_cc_has(cc, "s-maxage"));
    CHECK(sidecar_cc_has(cc, "PUBLIC"));
    CHECK(!sidecar_cc_has(cc, "private"));
    CHECK(!sidecar_cc_has(cc, "max"));
}

TEST(sidecar_cachectl_find_points_past_the_name)
{
    static const char v[] = "no-cache=\"a, max-age=1\", MAX-AGE = 60, private";
    http_str cc = { v, sizeof v - 1 };
    const char *p = sidecar_cc_find(cc, "max-age");
    REQUIRE(p != NULL);
    CHECK(strncmp(p, " = 60", 5) == 0); /* the quoted one is a value, not the directive */
    CHECK(sidecar_cc_find(cc, "private") == v + sizeof v - 1);
    CHECK(sidecar_cc_find(cc, "no-cache") == v + 8);
    CHECK(sidecar_cc_find(cc, "a") == NULL);
    CHECK(sidecar_cc_find(cc, "max") == NULL);
    http_str empty = { "", 0 };
    CHECK(sidecar_cc_find(empty, "max-age") == NULL);
}

TEST(sidecar_cachectl_escaped_quote_stays_inside_the_value)
{
    /* A backslash-escaped quote does not end a quoted value: the max-age
     * inside it is no directive, for the lookup and the seconds reader. */
    static const char v[] = "ext=\"x\\\", max-age=5\", public, s-maxage=7";
    http_str cc = { v, sizeof v - 1 };
    uint32_t secs = 0;
    CHECK(sidecar_cc_find(cc, "max-age") == NULL);
    CHECK(!sidecar_cc_has(cc, "max-age"));
    CHECK_INT(sidecar_cc_seconds(cc, "max-age", &secs), 0);
    CHECK(sidecar_cc_has(cc, "public"));
    CHECK_INT(sidecar_cc_seconds(cc, "s-maxage", &secs), 1);
    CHECK_INT(secs, 7);
}

TEST(sidecar_cachectl_private_in_any_field)
{
    static const struct {
        const char *value;
        bool private_;
    } cases[] = {
        { "private", true },          { "no-store", true },
        { "max-age=5, private", true }, { "No-Store", true },
        { "max-age=5", false },       { "public, max-age=5", false },
        { "private-extension=1", false }, { "x=\"private\"", false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        http_str v = { cases[i].value, strlen(cases[i].value) };
        CHECK(sidecar_cc_private(v) == cases[i].private_);
    }
    /* the decision reads every Cache-Control field: private in the second */
    char out[SIDECAR_CC_MAX];
    sidecar_rule ov = rule(SIDECAR_MODE_OVERRIDE, 600, 60);
    http_header app[3] = { { { "Cache-Control", 13 }, { "max-age=5", 9 } },
                           { { "ETag", 4 }, { "\"p\"", 3 } },
                           { { "cache-control", 13 }, { "private", 7 } } };
    sidecar_cc_in in = { .rule = &ov, .factor = 1.0, .status = 200, .app = app, .napp = 3,
                         .app_cc = true };
    CHECK_INT(sidecar_cc_decide(&in, out, sizeof out), 0);
    app[2].value = (http_str){ "no-transform", 12 };
    CHECK_INT(sidecar_cc_decide(&in, out, sizeof out), 1);
}
