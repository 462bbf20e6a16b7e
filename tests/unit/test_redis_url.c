/* test_redis_url.c — redis:// and rediss:// URLs: what is accepted, and
 * that every rejection says why. */
#include "test.h"
#include "redis_url.h"

#include <errno.h>
#include <stdlib.h>

TEST(redis_url_plain_host_port_db)
{
    rds_url u;
    char err[256] = "";
    REQUIRE(rds_url_parse("redis://cache.example:6380/3", &u, err, sizeof err) == 0);
    CHECK(!u.tls);
    CHECK_STR(u.host, "cache.example");
    CHECK_INT(u.port, 6380);
    CHECK_INT(u.db, 3);
    CHECK(u.user == NULL && u.password == NULL);
    rds_url_free(&u);

    REQUIRE(rds_url_parse("redis://127.0.0.1", &u, err, sizeof err) == 0);
    CHECK_STR(u.host, "127.0.0.1");
    CHECK_INT(u.port, 6379);
    CHECK_INT(u.db, 0);
    rds_url_free(&u);

    REQUIRE(rds_url_parse("REDIS://h/", &u, err, sizeof err) == 0);
    CHECK_STR(u.host, "h");
    CHECK_INT(u.db, 0);
    rds_url_free(&u);
}

TEST(redis_url_ipv6_literal)
{
    rds_url u;
    char err[256] = "";
    REQUIRE(rds_url_parse("redis://[::1]:7000/1", &u, err, sizeof err) == 0);
    CHECK_STR(u.host, "::1");
    CHECK_INT(u.port, 7000);
    CHECK_INT(u.db, 1);
    rds_url_free(&u);
    REQUIRE(rds_url_parse("redis://[fe80::1]", &u, err, sizeof err) == 0);
    CHECK_STR(u.host, "fe80::1");
    CHECK_INT(u.port, 6379);
    rds_url_free(&u);
}

TEST(redis_url_user_and_password_are_percent_decoded)
{
    rds_url u;
    char err[256] = "";
    REQUIRE(rds_url_parse("redis://alice:s%40cr%3At%2F@h:1", &u, err, sizeof err) == 0);
    CHECK_STR(u.user, "alice");
    CHECK_STR(u.password, "s@cr:t/");
    rds_url_free(&u);

    /* Password only. */
    REQUIRE(rds_url_parse("redis://:secret@h", &u, err, sizeof err) == 0);
    CHECK(u.user == NULL);
    CHECK_STR(u.password, "secret");
    rds_url_free(&u);

    /* A raw '@' in the password: the last '@' ends the user info. */
    REQUIRE(rds_url_parse("redis://bob:p@ss@h", &u, err, sizeof err) == 0);
    CHECK_STR(u.user, "bob");
    CHECK_STR(u.password, "p@ss");
    CHECK_STR(u.host, "h");
    rds_url_free(&u);
}

TEST(redis_url_tls_options)
{
    rds_url u;
    char err[256] = "";
    REQUIRE(rds_url_parse("rediss://h:6390?ca_file=%2Ftmp%2Fca.pem&server_name=redis.internal"
                          "&insecure=false",
                          &u, err, sizeof err) == 0);
    CHECK(u.tls);
    CHECK_STR(u.ca_file, "/tmp/ca.pem");
    CHECK_STR(u.server_name, "redis.internal");
    CHECK(!u.insecure);
    CHECK(u.cert_file == NULL);
    rds_url_free(&u);

    REQUIRE(rds_url_parse("rediss://h/2?insecure=true&cert_file=c.pem&key_file=k.pem", &u, err,
                          sizeof err) == 0);
    CHECK(u.insecure);
    CHECK_INT(u.db, 2);
    CHECK_STR(u.cert_file, "c.pem");
    CHECK_STR(u.key_file, "k.pem");
    rds_url_free(&u);
}

/* Parses url expecting failure; the message must contain want. */
static void check_bad(const char *url, const char *want)
{
    rds_url u;
    char err[256] = "";
    int rc = rds_url_parse(url, &u, err, sizeof err);
    CHECK_INT(rc, -EINVAL);
    if (!strstr(err, want)) {
        fprintf(stderr, "    url %s: error \"%s\" lacks \"%s\"\n", url, err, want);
        test_fail(__FILE__, __LINE__, "error text");
    }
    CHECK(u.host == NULL && u.password == NULL && u.ca_file == NULL);
}

TEST(redis_url_rejections_say_why)
{
    check_bad("http://h", "redis:// or rediss://");
    check_bad("redis:/h", "redis:// or rediss://");
    check_bad("redis://", "missing host");
    check_bad("redis://:6379", "missing host");
    check_bad("redis://h:0", "bad port");
    check_bad("redis://h:65536", "bad port");
    check_bad("redis://h:12ab", "bad port");
    check_bad("redis://h:", "bad port");
    check_bad("redis://h/db", "bad database");
    check_bad("redis://h/-1", "bad database");
    check_bad("redis://h/99999999", "bad database");
    check_bad("redis://alice@h", "without a password");
    check_bad("redis://alice:@h", "empty password");
    check_bad("redis://:pa%zzss@h", "percent-escape");
    check_bad("redis://:pa%00ss@h", "percent-escape");
    check_bad("redis://:pass%4@h", "percent-escape");
    check_bad("redis://[::1:6379", "missing ']'");
    check_bad("redis://[::1]x", "unexpected text");
    check_bad("redis://h h", "space");
    check_bad("redis://h#frag", "fragment");
    check_bad("redis://h?ca_file=/x", "needs a rediss://");
    check_bad("rediss://h?colour=blue", "unknown option");
    check_bad("rediss://h?insecure=maybe", "want true or false");
    check_bad("rediss://h?ca_file", "has no value");
    check_bad("rediss://h?ca_file=", "is empty");
    check_bad("rediss://h?ca_file=a&ca_file=b", "given twice");
    check_bad("rediss://h?cert_file=c.pem", "go together");
    check_bad("redis://h$x", "bad character");
    rds_url u;
    CHECK_INT(rds_url_parse(NULL, &u, NULL, 0), -EINVAL);
    char *huge = malloc(RDS_URL_MAX + 64);
    REQUIRE(huge);
    memset(huge, 'a', RDS_URL_MAX + 63);
    memcpy(huge, "redis://", 8);
    huge[RDS_URL_MAX + 63] = '\0';
    check_bad(huge, "longer than");
    free(huge);
}
