/* test_buf.c — the growable byte buffer: append, consume, reserve, limits. */
#include "test.h"
#include "buf.h"

#include <errno.h>
#include <string.h>

TEST(buf_append_and_consume_keep_order)
{
    buf_t b;
    buf_init(&b, 1 << 20);
    CHECK(buf_empty(&b));
    CHECK_INT(buf_append(&b, "hello ", 6), 0);
    CHECK_INT(buf_append_str(&b, "world"), 0);
    CHECK_INT(buf_len(&b), 11);
    CHECK(memcmp(buf_data(&b), "hello world", 11) == 0);
    buf_consume(&b, 6);
    CHECK_INT(buf_len(&b), 5);
    CHECK(memcmp(buf_data(&b), "world", 5) == 0);
    buf_consume(&b, 100);
    CHECK(buf_empty(&b));
    buf_free(&b);
}

TEST(buf_grows_past_first_allocation)
{
    buf_t b;
    buf_init(&b, 1 << 20);
    char chunk[100];
    for (int i = 0; i < 100; i++) {
        memset(chunk, 'a' + i % 26, sizeof chunk);
        REQUIRE(buf_append(&b, chunk, sizeof chunk) == 0);
    }
    CHECK_INT(buf_len(&b), 10000);
    CHECK(b.cap >= 10000);
    for (int i = 0; i < 100; i++)
        CHECK(buf_data(&b)[i * 100 + 99] == 'a' + i % 26);
    buf_free(&b);
}

TEST(buf_refuses_growth_beyond_max)
{
    buf_t b;
    buf_init(&b, 10);
    CHECK_INT(buf_append(&b, "0123456789", 10), 0);
    CHECK_INT(buf_append(&b, "x", 1), -ENOBUFS);
    CHECK_INT(buf_len(&b), 10);
    CHECK(b.cap <= 10);
    buf_consume(&b, 4);
    /* Room comes back by moving the data down, not by growing. */
    CHECK_INT(buf_append(&b, "abcd", 4), 0);
    CHECK(memcmp(buf_data(&b), "456789abcd", 10) == 0);
    CHECK_INT(buf_reserve(&b, 1), -ENOBUFS);
    CHECK_INT(buf_reserve(&b, (size_t)-1), -ENOBUFS);
    buf_free(&b);
}

TEST(buf_reserve_tail_commit_reads_in_place)
{
    buf_t b;
    buf_init(&b, 4096);
    REQUIRE(buf_reserve(&b, 300) == 0);
    CHECK(buf_tail_room(&b) >= 300);
    memcpy(buf_tail(&b), "abc", 3);
    buf_commit(&b, 3);
    CHECK_INT(buf_len(&b), 3);
    CHECK(memcmp(buf_data(&b), "abc", 3) == 0);
    buf_free(&b);
    CHECK_INT(buf_len(&b), 0);
    /* Usable again after buf_free. */
    CHECK_INT(buf_append(&b, "z", 1), 0);
    buf_free(&b);
}

TEST(buf_appendf_formats_and_respects_max)
{
    buf_t b;
    buf_init(&b, 16);
    CHECK_INT(buf_appendf(&b, "%d-%s", 42, "x"), 0);
    CHECK_INT(buf_len(&b), 4);
    CHECK(memcmp(buf_data(&b), "42-x", 4) == 0);
    /* Exactly up to max: the NUL of vsnprintf must not count. */
    CHECK_INT(buf_appendf(&b, "%s", "0123456789ab"), 0);
    CHECK_INT(buf_len(&b), 16);
    CHECK(memcmp(buf_data(&b), "42-x0123456789ab", 16) == 0);
    CHECK_INT(buf_appendf(&b, "%s", "y"), -ENOBUFS);
    CHECK_INT(buf_len(&b), 16);
    buf_free(&b);

    buf_init(&b, 1 << 20);
    char big[1000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK_INT(buf_appendf(&b, "[%s]", big), 0);
    CHECK_INT(buf_len(&b), 1001);
    CHECK(buf_data(&b)[0] == '[' && buf_data(&b)[1000] == ']');
    buf_free(&b);
}

TEST(buf_shrink_idle_frees_only_empty_large_buffers)
{
    buf_t b;
    buf_init(&b, 1 << 20);
    char chunk[4096] = { 0 };
    REQUIRE(buf_append(&b, chunk, sizeof chunk) == 0);
    buf_shrink_idle(&b, 1024);
    CHECK(b.data != NULL); /* not empty: kept */
    buf_reset(&b);
    buf_shrink_idle(&b, 1 << 16);
    CHECK(b.data != NULL); /* small enough: kept */
    buf_shrink_idle(&b, 1024);
    CHECK(b.data == NULL);
    buf_free(&b);
}
