/* test_http_body.c — body framing: Content-Length, close-delimited, and the
 * chunked decoder (sizes, extensions, trailers, CRLF rules, limits), fed in
 * one piece and split at every byte offset. */
#include "test.h"
#include "http_parse.h"

#include <stdlib.h>
#include <string.h>

#define LO_MIN_SZ(a, b) ((a) < (b) ? (a) : (b))

/* Decodes in[0..len) split into pieces of at most step bytes (0: one
 * piece), from a fresh copy per piece. Returns the last status: 1 done, 0
 * needs more, or -HTTP_E_...; out gets the data, *used the bytes consumed. */
static int decode(http_body_kind kind, uint64_t cl, const http_limits *lim, const char *in,
                  size_t len, size_t step, char *out, size_t *outlen, size_t *used)
{
    http_body b;
    http_body_init(&b, kind, cl, lim);
    size_t pos = 0, o = 0;
    int status = 0;
    while (!http_body_done(&b)) {
        size_t n = step ? LO_MIN_SZ(step, len - pos) : len - pos;
        if (n == 0)
            break;
        char *piece = malloc(n);
        memcpy(piece, in + pos, n);
        size_t off = 0;
        while (off < n && !http_body_done(&b)) {
            http_str d;
            ssize_t rc = http_body_feed(&b, piece + off, n - off, &d);
            if (rc < 0) {
                free(piece);
                *outlen = o;
                *used = pos + off;
                return (int)rc;
            }
            if (d.len) {
                memcpy(out + o, d.p, d.len);
                o += d.len;
            }
            if (rc == 0)
                break;
            off += (size_t)rc;
        }
        free(piece);
        pos += off;
        if (off < n)
            break; /* body ended (or stuck) inside this piece */
    }
    status = http_body_done(&b) ? 1 : 0;
    *outlen = o;
    *used = pos;
    return status;
}

/* Chunked input must decode to want (NULL: must fail with err), the same way
 * whatever the split. */
static void check_chunked(const char *in, const char *want, int err, const http_limits *lim,
                          int line)
{
    size_t len = strlen(in);
    char out[4096];
    for (size_t step = 0; step <= len; step++) {
        size_t olen, used;
        int rc = decode(HTTP_BODY_CHUNKED, 0, lim, in, len, step, out, &olen, &used);
        bool ok = want ? rc == 1 && olen == strlen(want) && memcmp(out, want, olen) == 0
                       : rc == -err;
        if (!ok) {
            fprintf(stderr, "    line %d step %zu: rc %d (%s) out \"%.*s\"\n", line, step, rc,
                    rc < 0 ? http_err_str(rc) : "", (int)olen, out);
            test_fail(__FILE__, line, "chunked decoding as expected");
            return;
        }
    }
}
#define CHUNKED_OK(in, want) check_chunked((in), (want), 0, NULL, __LINE__)
#define CHUNKED_ERR(in, err) check_chunked((in), NULL, (err), NULL, __LINE__)

TEST(http_body_content_length_pieces)
{
    const char *in = "hello worldGET /next";
    char out[64];
    size_t olen, used;
    for (size_t step = 0; step < 12; step++) {
        CHECK_INT(decode(HTTP_BODY_LENGTH, 11, NULL, in, strlen(in), step, out, &olen, &used), 1);
        CHECK_INT(olen, 11);
        CHECK_INT(used, 11); /* the next request is not consumed */
        CHECK(memcmp(out, "hello world", 11) == 0);
    }
    http_body b;
    http_body_init(&b, HTTP_BODY_LENGTH, 0, NULL);
    CHECK(http_body_done(&b));
    http_body_init(&b, HTTP_BODY_NONE, 0, NULL);
    CHECK(http_body_done(&b));
    http_str d;
    CHECK_INT(http_body_feed(&b, "x", 1, &d), 0);
    CHECK_INT(d.len, 0);
}

TEST(http_body_close_delimited)
{
    http_body b;
    http_limits lim = { .body_max = 10 };
    http_body_init(&b, HTTP_BODY_CLOSE, 0, &lim);
    http_str d;
    CHECK_INT(http_body_feed(&b, "12345", 5, &d), 5);
    CHECK_INT(d.len, 5);
    CHECK_INT(http_body_feed(&b, "12345", 5, &d), 5);
    CHECK(!http_body_done(&b));
    CHECK_INT(http_body_feed(&b, "1", 1, &d), -HTTP_E_BODY_TOO_LARGE);
}

TEST(http_body_chunked_basic)
{
    CHUNKED_OK("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world");
    CHUNKED_OK("0\r\n\r\n", "");
    CHUNKED_OK("A\r\n0123456789\r\n0\r\n\r\n", "0123456789");
    CHUNKED_OK("a\r\n0123456789\r\n0\r\n\r\n", "0123456789");
    CHUNKED_OK("00005\r\nhello\r\n000\r\n\r\n", "hello");
    CHUNKED_OK("1\r\n\r\r\n1\r\n\n\r\n0\r\n\r\n", "\r\n"); /* CR and LF as data are data */
}

TEST(http_body_chunked_stops_at_end)
{
    const char *in = "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
    char out[64];
    size_t olen, used;
    for (size_t step = 0; step < strlen(in); step++) {
        CHECK_INT(decode(HTTP_BODY_CHUNKED, 0, NULL, in, strlen(in), step, out, &olen, &used), 1);
        CHECK_INT(used, 13);
        CHECK_INT(olen, 3);
    }
}

TEST(http_body_chunked_needs_more)
{
    char out[64];
    size_t olen, used;
    const char *parts[] = { "", "5", "5\r", "5\r\nhel", "5\r\nhello", "5\r\nhello\r\n",
                            "5\r\nhello\r\n0\r\n", "5\r\nhello\r\n0\r\n\r",
                            "5\r\nhello\r\n0\r\nX: y\r\n" };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        CHECK_INT(decode(HTTP_BODY_CHUNKED, 0, NULL, parts[i], strlen(parts[i]), 0, out, &olen,
                         &used), 0);
}

TEST(http_body_chunked_extensions)
{
    CHUNKED_OK("5;name=value\r\nhello\r\n0\r\n\r\n", "hello");
    CHUNKED_OK("5;a;b=c;d=\"quoted; value\"\r\nhello\r\n0;last\r\n\r\n", "hello");
    CHUNKED_OK("5 ;a\r\nhello\r\n0\t; x\r\n\r\n", "hello");
    CHUNKED_ERR("5;a\nhello\r\n0\r\n\r\n", HTTP_E_BARE_LF);
    CHUNKED_ERR("5;a\rhello\r\n0\r\n\r\n", HTTP_E_BARE_CR);
    CHUNKED_ERR("5;a\x01\r\nhello\r\n0\r\n\r\n", HTTP_E_CHUNK_EXT);
    CHUNKED_ERR("5;a\x7f\r\nhello\r\n0\r\n\r\n", HTTP_E_CHUNK_EXT);
    /* a long extension hits the line limit */
    http_limits lim = { .chunk_line_max = 16 };
    check_chunked("5;aaaaaaaaaa\r\nhello\r\n0\r\n\r\n", "hello", 0, &lim, __LINE__);
    check_chunked("5;aaaaaaaaaaaaaaaa\r\nhello\r\n0\r\n\r\n", NULL, HTTP_E_CHUNK_LINE_TOO_LONG,
                  &lim, __LINE__);
    char *big = malloc(10000);
    strcpy(big, "1;");
    memset(big + 2, 'x', 5000);
    strcpy(big + 5002, "\r\na\r\n0\r\n\r\n");
    char out[16];
    size_t olen, used;
    CHECK_INT(decode(HTTP_BODY_CHUNKED, 0, NULL, big, strlen(big), 0, out, &olen, &used),
              -HTTP_E_CHUNK_LINE_TOO_LONG);
    free(big);
}

TEST(http_body_chunked_bad_sizes)
{
    CHUNKED_ERR("g\r\nhello\r\n0\r\n\r\n", HTTP_E_CHUNK_SIZE);
    CHUNKED_ERR("\r\nhello\r\n0\r\n\r\n", HTTP_E_CHUNK_SIZE);
    CHUNKED_ERR(";x\r\nhello\r\n0\r\n\r\n", HTTP_E_CHUNK_SIZE);
    CHUNKED_ERR("-5\r\nhello\r\n0\r\n\r\n", HTTP_E_CHUNK_SIZE);
    CHUNKED_ERR("+5\r\nhello\r\n0\r\n\r\n", HTTP_E_CHUNK_SIZE);
    CHUNKED_ERR("0x5\r\nhello\r\n0\r\n\r\n", HTTP_E_CHUNK_SIZE);
    CHUNKED_ERR(" 5\r\nhello\r\n0\r\n\r\n", HTTP_E_CHUNK_SIZE);
    CHUNKED_ERR("5 \r\nhello\r\n0\r\n\r\n", HTTP_E_CHUNK_SIZE);
    CHUNKED_ERR("5 x\r\nhello\r\n0\r\n\r\n", HTTP_E_CHUNK_SIZE);
    CHUNKED_ERR("5\nhello\r\n0\r\n\r\n", HTTP_E_BARE_LF);
    CHUNKED_ERR("5\rhello\r\n0\r\n\r\n", HTTP_E_BARE_CR);
    /* 2^64 + 5 would wrap around to 5 in a careless decoder */
    CHUNKED_ERR("10000000000000005\r\nhello\r\n0\r\n\r\n", HTTP_E_CHUNK_SIZE);
    CHUNKED_ERR("ffffffffffffffff\r\nhello\r\n0\r\n\r\n", HTTP_E_CHUNK_SIZE);
    /* leading zeros do not count toward the overflow guard */
    CHUNKED_OK("00000000000000000000005\r\nhello\r\n0\r\n\r\n", "hello");
}

TEST(http_body_chunked_missing_crlf_after_data)
{
    CHUNKED_ERR("5\r\nhelloX\r\n0\r\n\r\n", HTTP_E_CHUNK_CRLF);
    CHUNKED_ERR("5\r\nhello\rX0\r\n\r\n", HTTP_E_CHUNK_CRLF);
    CHUNKED_ERR("5\r\nhello\n0\r\n\r\n", HTTP_E_BARE_LF);
    CHUNKED_ERR("3\r\nhello\r\n0\r\n\r\n", HTTP_E_CHUNK_CRLF); /* size says 3, data is 5 */
    CHUNKED_ERR("5\r\nhello\r\n0\r\n\n", HTTP_E_BARE_LF);
    CHUNKED_ERR("5\r\nhello\r\n0\r\n\rX", HTTP_E_BARE_CR);
}

TEST(http_body_chunked_trailers)
{
    CHUNKED_OK("5\r\nhello\r\n0\r\nX-Checksum: abc\r\nY: z\r\n\r\n", "hello");
    CHUNKED_OK("0\r\nEmpty:\r\n\r\n", "");
    CHUNKED_ERR("0\r\nX-Checksum : abc\r\n\r\n", HTTP_E_TRAILER);
    CHUNKED_ERR("0\r\n: abc\r\n\r\n", HTTP_E_TRAILER);
    CHUNKED_ERR("0\r\nNoColon\r\n\r\n", HTTP_E_TRAILER);
    CHUNKED_ERR("0\r\nX: a\r\n folded\r\n\r\n", HTTP_E_TRAILER);
    CHUNKED_ERR("0\r\nX: a\x01\r\n\r\n", HTTP_E_TRAILER);
    CHUNKED_ERR("0\r\nX: a\nY: b\r\n\r\n", HTTP_E_BARE_LF);
    CHUNKED_ERR("0\r\nX: a\rY: b\r\n\r\n", HTTP_E_BARE_CR);
    http_limits lim = { .head_max = 20 };
    check_chunked("0\r\nX: 0123456789\r\n\r\n", "", 0, &lim, __LINE__);
    check_chunked("0\r\nX: 01234567890123456789\r\n\r\n", NULL, HTTP_E_TRAILER_TOO_LARGE, &lim,
                  __LINE__);
}

TEST(http_body_chunked_body_limit)
{
    http_limits lim = { .body_max = 10 };
    check_chunked("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", "helloworld", 0, &lim, __LINE__);
    /* refused when the size line announces too much, before any of it */
    check_chunked("5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n", NULL, HTTP_E_BODY_TOO_LARGE, &lim,
                  __LINE__);
    check_chunked("fffffff\r\nx", NULL, HTTP_E_BODY_TOO_LARGE, &lim, __LINE__);
}

TEST(http_body_chunked_data_slices_point_into_input)
{
    const char *in = "5\r\nhello\r\n0\r\n\r\n";
    http_body b;
    http_body_init(&b, HTTP_BODY_CHUNKED, 0, NULL);
    http_str d;
    ssize_t n = http_body_feed(&b, in, strlen(in), &d);
    CHECK_INT(n, 8); /* the size line and the data: one slice per call */
    CHECK(d.p == in + 3);
    CHECK_INT(d.len, 5);
    n = http_body_feed(&b, in + 8, strlen(in) - 8, &d);
    CHECK_INT(n, 7);
    CHECK_INT(d.len, 0);
    CHECK(http_body_done(&b));
    CHECK_INT(b.total, 5);
}
