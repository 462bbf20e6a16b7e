/* test_launch_name.c — the launch name rule every program checks. */
#include "test.h"

#include <string.h>

#include "launch_name.h"

TEST(launch_name_accepts_the_allowed_characters)
{
    CHECK(launch_name_valid("default", 7));
    CHECK(launch_name_valid("ph-2024.05_v2", 13));
    CHECK(launch_name_valid("spring-2025.v_2", 15));
    CHECK(launch_name_valid("AZaz09_-.", 9));
    /* only len bytes count */
    CHECK(launch_name_valid("abc/def", 3));
}

TEST(launch_name_rejects_empty_and_other_characters)
{
    CHECK(!launch_name_valid("", 0));
    CHECK(!launch_name_valid("a b", 3));
    CHECK(!launch_name_valid("a:b", 3));
    CHECK(!launch_name_valid("a/b", 3));
    CHECK(!launch_name_valid("a\0b", 3));
    CHECK(!launch_name_valid("caf\xc3\xa9", 5));
}

TEST(launch_name_length_limit)
{
    char lng[LAUNCH_NAME_MAX + 1];
    memset(lng, 'x', sizeof lng);
    CHECK(!launch_name_valid(lng, sizeof lng));
    CHECK(launch_name_valid(lng, sizeof lng - 1));
}
