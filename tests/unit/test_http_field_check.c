/* test_http_field_check.c — the byte checks that guard what goes out in a
 * message head (field names and values, methods, targets, hosts; words at
 * a time with a byte-wise tail), the ASCII case-insensitive comparison and
 * the comma-list iterator. Every forbidden byte is tried at every offset of
 * strings long and short enough to take each path. */
#include "test.h"
#include "http_int.h"

#include <string.h>

#define LONGEST 40

static bool value_ok_at(size_t len, size_t at, unsigned char bad)
{
    char s[LONGEST];
    memset(s, 'v', sizeof s);
    s[at] = (char)bad;
    return http_field_ok((http_str){ s, len }, false);
}

static bool name_ok_at(size_t len, size_t at, unsigned char bad)
{
    char s[LONGEST];
    memset(s, 'n', sizeof s);
    s[at] = (char)bad;
    return http_field_ok((http_str){ s, len }, true);
}

static bool text_ok_at(size_t len, size_t at, unsigned char bad)
{
    char s[LONGEST];
    memset(s, 't', sizeof s);
    s[at] = (char)bad;
    return http_text_ok(s, len);
}

TEST(http_field_ok_rejects_line_breaks_and_nul_at_every_offset)
{
    static const unsigned char value_bad[] = { '\r', '\n', 0 };
    static const unsigned char name_bad[] = { '\r', '\n', 0, ':', ' ', '\t' };
    for (size_t len = 1; len < LONGEST; len++) {
        CHECK(http_field_ok((http_str){ "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv", len }, false));
        CHECK(http_field_ok((http_str){ "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn", len }, true));
        for (size_t at = 0; at < len; at++) {
            for (size_t k = 0; k < sizeof value_bad; k++)
                CHECK(!value_ok_at(len, at, value_bad[k]));
            for (size_t k = 0; k < sizeof name_bad; k++)
                CHECK(!name_ok_at(len, at, name_bad[k]));
        }
    }
}

TEST(http_field_ok_accepts_what_values_may_hold)
{
    /* HTAB, SP, other controls the old check let pass, DEL, obs-text */
    static const unsigned char fine[] = { '\t', ' ', 0x01, 0x0b, 0x0e, 0x1f, 0x7f, 0x80, 0xff,
                                          ':' };
    for (size_t len = 1; len < LONGEST; len++)
        for (size_t at = 0; at < len; at++)
            for (size_t k = 0; k < sizeof fine; k++)
                CHECK(value_ok_at(len, at, fine[k]));
    /* a byte past the slice is not looked at */
    CHECK(http_field_ok((http_str){ "abcdefghi\r", 9 }, false));
    CHECK(http_field_ok((http_str){ "", 0 }, false));
    CHECK(!http_field_ok((http_str){ "", 0 }, true));
    CHECK(http_field_ok((http_str){ "X-Liftoff-Factor", 16 }, true));
    CHECK(name_ok_at(12, 11, 0xe9));
}

TEST(http_text_ok_rejects_controls_space_and_del_at_every_offset)
{
    static const unsigned char bad[] = { 0, '\t', '\r', '\n', ' ', 0x1f, 0x7f };
    for (size_t len = 1; len < LONGEST; len++) {
        CHECK(text_ok_at(len, 0, '/'));
        for (size_t at = 0; at < len; at++) {
            for (size_t k = 0; k < sizeof bad; k++)
                CHECK(!text_ok_at(len, at, bad[k]));
            CHECK(text_ok_at(len, at, 0x80));
        }
    }
}

TEST(http_str_ieq_folds_letters_only)
{
    CHECK(http_str_ieq((http_str){ "X-FORWARDED-For", 15 }, "x-forwarded-for"));
    CHECK(http_str_ieq((http_str){ "te", 2 }, "TE"));
    /* pairs 0x20 apart that are not letters */
    CHECK(!http_str_ieq((http_str){ "@", 1 }, "`"));
    CHECK(!http_str_ieq((http_str){ "[", 1 }, "{"));
    CHECK(!http_str_ieq((http_str){ "-", 1 }, "\r"));
    CHECK(!http_str_ieq((http_str){ "\x01", 1 }, "!"));
    CHECK(!http_str_ieq((http_str){ "ab", 2 }, "abc"));
    CHECK(http_str_ieq((http_str){ "", 0 }, ""));
}

/* The byte-at-a-time definition http_str_ieq must agree with. */
static bool ieq_ref(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x |= 0x20;
        if (y >= 'A' && y <= 'Z')
            y |= 0x20;
        if (x != y)
            return false;
    }
    return true;
}

/* Word-at-a-time comparison: every byte value at every position of names
 * from 1 to 19 bytes, against the byte-at-a-time definition. */
TEST(http_str_ieq_words_match_bytes)
{
    static const char *const lits[] = { "te", "Age", "host", "close", "expect", "upgrade",
                                        "If-Match", "x-forwarded", "connection", "Content-Type",
                                        "cache-control", "content-length", "X-Forwarded-Proto",
                                        "proxy-authorization", "a[b]c@d`e{f}g^h_i~j" };
    char s[32];
    int bad = 0;
    for (size_t l = 0; l < sizeof lits / sizeof lits[0]; l++) {
        size_t n = strlen(lits[l]);
        for (size_t at = 0; at < n; at++)
            for (int c = 0; c < 256; c++) {
                memcpy(s, lits[l], n);
                s[at] = (char)c;
                if (http_str_ieq((http_str){ s, n }, lits[l]) != ieq_ref(s, lits[l], n))
                    bad++;
                /* and with every letter of the rest in the other case */
                for (size_t k = 0; k < n; k++)
                    if (k != at && ((s[k] | 0x20) >= 'a' && (s[k] | 0x20) <= 'z'))
                        s[k] ^= 0x20;
                if (http_str_ieq((http_str){ s, n }, lits[l]) != ieq_ref(s, lits[l], n))
                    bad++;
            }
    }
    CHECK_INT(bad, 0);
}

TEST(http_list_next_item_walks_trimmed_elements)
{
    http_str v = { " a ,, B\t,c,", 11 };
    size_t pos = 0;
    http_str it;
    REQUIRE(http_list_next_item(v, &pos, &it));
    CHECK(it.len == 1 && it.p[0] == 'a');
    REQUIRE(http_list_next_item(v, &pos, &it));
    CHECK(it.len == 1 && it.p[0] == 'B');
    REQUIRE(http_list_next_item(v, &pos, &it));
    CHECK(it.len == 1 && it.p[0] == 'c');
    CHECK(!http_list_next_item(v, &pos, &it));
    pos = 0;
    CHECK(!http_list_next_item((http_str){ " , ", 3 }, &pos, &it));
}
