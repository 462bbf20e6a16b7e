/* redis_resp.c — RESP encoding of commands given as argument vectors,
 * written straight into the caller's memory (see redis_int.h). The bytes are
 * exactly those of hiredis' redisFormatCommandArgv(): "*<argc>\r\n" then
 * "$<len>\r\n<arg>\r\n" per argument. */
#include "redis_int.h"

#include <string.h>

/* Decimal digits of v (1 for 0). */
static size_t dec_len(size_t v)
{
    size_t n = 1;
    while (v >= 10000) {
        v /= 10000;
        n += 4;
    }
    if (v >= 1000)
        return n + 3;
    if (v >= 100)
        return n + 2;
    return n + (v >= 10);
}

/* Writes v in decimal at p (dec_len(v) bytes); returns the end. */
static char *put_dec(char *p, size_t v)
{
    size_t n = dec_len(v);
    char *end = p + n;
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p + n;
}

static inline size_t arg_len(const char *const *argv, const size_t *argvlen, int i)
{
    return argvlen ? argvlen[i] : strlen(argv[i]);
}

size_t rds_resp_header_len(int argc)
{
    return 1 + dec_len((size_t)argc) + 2;
}

char *rds_resp_put_header(char *dst, int argc)
{
    *dst++ = '*';
    dst = put_dec(dst, (size_t)argc);
    *dst++ = '\r';
    *dst++ = '\n';
    return dst;
}

size_t rds_resp_bulk_len(size_t len)
{
    return 1 + dec_len(len) + 2 + len + 2;
}

char *rds_resp_put_bulk(char *dst, const char *p, size_t len)
{
    *dst++ = '$';
    dst = put_dec(dst, len);
    *dst++ = '\r';
    *dst++ = '\n';
    if (len)
        memcpy(dst, p, len);
    dst += len;
    *dst++ = '\r';
    *dst++ = '\n';
    return dst;
}

size_t rds_resp_argv_len(int argc, const char *const *argv, const size_t *argvlen)
{
    size_t total = rds_resp_header_len(argc);
    for (int i = 0; i < argc; i++)
        total += rds_resp_bulk_len(arg_len(argv, argvlen, i));
    return total;
}

char *rds_resp_encode_argv(char *dst, int argc, const char *const *argv, const size_t *argvlen)
{
    dst = rds_resp_put_header(dst, argc);
    for (int i = 0; i < argc; i++)
        dst = rds_resp_put_bulk(dst, argv[i], arg_len(argv, argvlen, i));
    return dst;
}
