/* test_ingest_cors.c — origin allow-list parsing and matching. */
#include "test.h"

#include <errno.h>

#include "ingest/cors.h"

#define ALLOWED(c, s) ingest_cors_allowed(c, s, strlen(s))

TEST(ingest_cors_exact_and_wildcard_origins)
{
    ingest_cors *c = NULL;
    char err[160];
    REQUIRE(ingest_cors_parse("https://shop.example.com, http://localhost:3000  https://*.example.org",
                              &c, err, sizeof(err)) == 0);
    CHECK_INT(ingest_cors_count(c), 3);
    CHECK(!ingest_cors_any(c));
    CHECK(ALLOWED(c, "https://shop.example.com"));
    CHECK(ALLOWED(c, "HTTPS://Shop.Example.com"));
    CHECK(ALLOWED(c, "http://localhost:3000"));
    CHECK(ALLOWED(c, "https://a.example.org"));
    CHECK(ALLOWED(c, "https://a.b.example.org"));
    CHECK(!ALLOWED(c, "https://example.org"));        /* wildcard means a subdomain */
    CHECK(!ALLOWED(c, "https://evilexample.org"));
    CHECK(!ALLOWED(c, "http://a.example.org"));       /* scheme matters */
    CHECK(!ALLOWED(c, "https://a.example.org:8443")); /* port matters */
    CHECK(!ALLOWED(c, "https://x/.example.org"));
    CHECK(!ALLOWED(c, "http://shop.example.com"));
    CHECK(!ALLOWED(c, "https://shop.example.com.evil.net"));
    CHECK(!ALLOWED(c, "http://localhost:30000"));
    CHECK(!ALLOWED(c, "null"));
    CHECK(!ALLOWED(c, ""));
    ingest_cors_free(c);
}

TEST(ingest_cors_star_and_empty)
{
    ingest_cors *c = NULL;
    char err[160];
    REQUIRE(ingest_cors_parse("*", &c, err, sizeof(err)) == 0);
    CHECK(ingest_cors_any(c));
    CHECK(ALLOWED(c, "https://anything.test"));
    ingest_cors_free(c);
    REQUIRE(ingest_cors_parse("", &c, err, sizeof(err)) == 0);
    CHECK(!ALLOWED(c, "https://anything.test"));
    ingest_cors_free(c);
    REQUIRE(ingest_cors_parse(NULL, &c, err, sizeof(err)) == 0);
    CHECK_INT(ingest_cors_count(c), 0);
    ingest_cors_free(c);
}

TEST(ingest_cors_rejects_entries_that_are_not_origins)
{
    ingest_cors *c = NULL;
    char err[160] = "";
    const char *bad[] = { "example.com", "https://", "https://a.com/path", "https://a*.com",
                          "https://*.a.*.com", "https://x.*.com", "https://*", "://x.com" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT(ingest_cors_parse(bad[i], &c, err, sizeof(err)), -EINVAL);
        CHECK(c == NULL);
    }
    CHECK(strstr(err, "://x.com") != NULL);
}
