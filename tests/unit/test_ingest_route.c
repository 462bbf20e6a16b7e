/* test_ingest_route.c — endpoint matching, Content-Type and client address. */
#include "test.h"

#include <errno.h>

#include "ingest/route.h"

#define M(p) ingest_route_match(p, strlen(p), "producthunt", "default", &r)

TEST(ingest_route_paths)
{
    ingest_route r;
    CHECK_INT(M("/v1/webhooks/producthunt"), INGEST_ROUTE_WEBHOOK);
    CHECK_STR(r.launch, "default");
    CHECK_INT(M("/v1/webhooks/producthunt/ph-may"), INGEST_ROUTE_WEBHOOK);
    CHECK_STR(r.launch, "ph-may");
    CHECK_INT(M("/v1/webhooks/producthunt?x=1"), INGEST_ROUTE_WEBHOOK);
    CHECK_STR(r.launch, "default");
    CHECK_INT(M("/v1/events"), INGEST_ROUTE_EVENTS);
    CHECK_STR(r.launch, "default");
    CHECK_INT(M("/v1/events/site.v2?utm=x"), INGEST_ROUTE_EVENTS);
    CHECK_STR(r.launch, "site.v2");
    CHECK_INT(M("/healthz"), INGEST_ROUTE_HEALTHZ);
    CHECK_INT(M("/readyz?verbose"), INGEST_ROUTE_READYZ);
    CHECK_INT(M("/metrics"), INGEST_ROUTE_METRICS);
    /* not found */
    CHECK_INT(M("/"), INGEST_ROUTE_NOT_FOUND);
    CHECK_INT(M("/v1/webhooks/other"), INGEST_ROUTE_NOT_FOUND);
    CHECK_INT(M("/v1/webhooks/producthuntx"), INGEST_ROUTE_NOT_FOUND);
    CHECK_INT(M("/v1/webhooks/producthunt/"), INGEST_ROUTE_NOT_FOUND);
    CHECK_INT(M("/v1/webhooks/producthunt/a/b"), INGEST_ROUTE_NOT_FOUND);
    CHECK_INT(M("/v1/events/%2e%2e"), INGEST_ROUTE_NOT_FOUND);
    CHECK_INT(M("/v1/eventsx"), INGEST_ROUTE_NOT_FOUND);
    CHECK_INT(M("/healthz/"), INGEST_ROUTE_NOT_FOUND);
    CHECK_INT(M("/v1/events/a:b"), INGEST_ROUTE_NOT_FOUND); /* would reach into other keys */
    CHECK_INT(ingest_route_match("/v1/webhooks/launchpad", 22, "launchpad", "d", &r),
              INGEST_ROUTE_WEBHOOK);
}

TEST(ingest_route_content_type_json)
{
#define J(s) ingest_content_type_is_json(s, strlen(s))
    CHECK(J("application/json"));
    CHECK(J("Application/JSON; charset=utf-8"));
    CHECK(J(" application/json ;charset=UTF-8"));
    CHECK(!J("application/jsonx"));
    CHECK(!J("text/plain"));
    CHECK(!J("application/x-www-form-urlencoded"));
    CHECK(!J(""));
#undef J
}

TEST(ingest_route_client_address)
{
    char a[64];
    CHECK_INT(ingest_client_addr("192.0.2.1:5555", NULL, 0, false, a, sizeof(a)), 0);
    CHECK_STR(a, "192.0.2.1");
    CHECK_INT(ingest_client_addr("[2001:db8::1]:443", NULL, 0, false, a, sizeof(a)), 0);
    CHECK_STR(a, "2001:db8::1");
    const char *xff = "203.0.113.9, 198.51.100.2 ";
    CHECK_INT(ingest_client_addr("10.0.0.1:1", xff, strlen(xff), true, a, sizeof(a)), 0);
    CHECK_STR(a, "198.51.100.2");
    CHECK_INT(ingest_client_addr("10.0.0.1:1", xff, strlen(xff), false, a, sizeof(a)), 0);
    CHECK_STR(a, "10.0.0.1");
    CHECK_INT(ingest_client_addr("10.0.0.1:1", "", 0, true, a, sizeof(a)), 0);
    CHECK_STR(a, "10.0.0.1");
    CHECK_INT(ingest_client_addr("[::1", NULL, 0, false, a, sizeof(a)), -EINVAL);
}
