/* RESP encoding of argv commands, byte for byte against hiredis' own. */
#include "test.h"
#include "redis_int.h"

#include <stdlib.h>
#include <string.h>

/* Encodes with both and compares; 1 if identical. */
static int same_as_hiredis(int argc, const char *const *argv, const size_t *argvlen)
{
    char *want = NULL;
    int wlen = redisFormatCommandArgv(&want, argc, (const char **)argv, argvlen);
    if (wlen < 0)
        return 0;
    size_t len = rds_resp_argv_len(argc, argv, argvlen);
    char *got = malloc(len + 1);
    char *end = rds_resp_encode_argv(got, argc, argv, argvlen);
    int ok = (size_t)(end - got) == len && len == (size_t)wlen && memcmp(got, want, len) == 0;
    free(got);
    redisFreeCommand(want);
    return ok;
}

TEST(redis_resp_encodes_simple_commands)
{
    const char *a1[] = { "PING" };
    const char *a2[] = { "GET", "key" };
    const char *a3[] = { "SET", "k", "" };
    const char *a4[] = { "XADD", "s", "*", "f", "v", "g", "w" };
    CHECK(same_as_hiredis(1, a1, NULL));
    CHECK(same_as_hiredis(2, a2, NULL));
    CHECK(same_as_hiredis(3, a3, NULL));
    CHECK(same_as_hiredis(7, a4, NULL));
}

TEST(redis_resp_encodes_exact_bytes)
{
    const char *argv[] = { "SET", "k", "v" };
    char out[64];
    char *end = rds_resp_encode_argv(out, 3, argv, NULL);
    const char *want = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
    CHECK_INT((int)(end - out), (int)strlen(want));
    CHECK(memcmp(out, want, strlen(want)) == 0);
    CHECK_INT((int)rds_resp_argv_len(3, argv, NULL), (int)strlen(want));
}

TEST(redis_resp_encodes_binary_and_length_boundaries)
{
    /* lengths around every power of ten, with NULs and CRLF inside */
    static char big[100001];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7);
    const size_t lens[] = { 0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 1001,
                            9999, 10000, 10001, 99999, 100000, 100001 };
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        const char *argv[3] = { "SET", "bin\r\n\0key", big };
        size_t argvlen[3] = { 3, 9, lens[i] };
        CHECK(same_as_hiredis(3, argv, argvlen));
    }
}

TEST(redis_resp_encodes_many_arguments)
{
    /* argc around powers of ten; pseudo-random argument sizes */
    enum { MAXARGS = 1001 };
    static const char *argv[MAXARGS];
    static size_t argvlen[MAXARGS];
    static char data[4096];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)('a' + i % 26);
    unsigned seed = 12345;
    const int counts[] = { 1, 2, 9, 10, 11, 99, 100, 101, 999, 1000, 1001 };
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        for (int i = 0; i < counts[c]; i++) {
            seed = seed * 1103515245u + 12345u;
            argv[i] = data + (seed >> 8) % 64;
            argvlen[i] = (seed >> 16) % 2048;
        }
        CHECK(same_as_hiredis(counts[c], argv, argvlen));
    }
}
