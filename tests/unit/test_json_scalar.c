/* test_json_scalar.c — JSON numbers and strings as settings text. */
#include "test.h"

#include "json_scalar.h"

TEST(json_scalar_text_spellings)
{
    char buf[64];
    json_t *i = json_integer(-42), *r = json_real(0.1), *s = json_string("10m"),
           *b = json_true(), *n = json_null(), *a = json_array();
    CHECK_STR(json_scalar_text(i, buf, sizeof buf), "-42");
    /* round-trip precision: the settings parser sees the same double */
    CHECK_STR(json_scalar_text(r, buf, sizeof buf), "0.10000000000000001");
    const char *t = json_scalar_text(s, buf, sizeof buf);
    CHECK_STR(t, "10m");
    CHECK(t != buf); /* the value's own string, not a copy */
    CHECK(json_scalar_text(b, buf, sizeof buf) == NULL);
    CHECK(json_scalar_text(n, buf, sizeof buf) == NULL);
    CHECK(json_scalar_text(a, buf, sizeof buf) == NULL);
    CHECK(json_scalar_text(NULL, buf, sizeof buf) == NULL);
    json_decref(i);
    json_decref(r);
    json_decref(s);
    json_decref(a);
}
