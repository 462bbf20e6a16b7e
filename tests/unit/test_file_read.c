/* test_file_read.c — whole small files into memory: exact contents (NULs
 * included), the size limit at max and max + 1, growth past the first
 * buffer, and the errors. Each test reads files of a scratch directory. */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "file_read.h"

#define SCRATCH_FILES_MAX 4

/* A scratch directory with up to SCRATCH_FILES_MAX files in it. */
typedef struct scratch {
    char *dir;
    char *path[SCRATCH_FILES_MAX];
    size_t n;
} scratch;

/* Creates the directory; 0 or -1. */
static int scratch_open(scratch *s)
{
    const char *tmp = getenv("TMPDIR");
    memset(s, 0, sizeof *s);
    s->dir = xasprintf("%s/liftoff-fread-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(s->dir) ? 0 : -1;
}

/* Adds a file holding data[0..len) and returns its path (NULL if it could
 * not be written whole). */
static const char *scratch_add(scratch *s, const char *data, size_t len)
{
    if (s->n == SCRATCH_FILES_MAX)
        return NULL;
    char *p = xasprintf("%s/f%zu", s->dir, s->n);
    s->path[s->n++] = p;
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return NULL;
    ssize_t w = len ? write(fd, data, len) : 0;
    close(fd);
    return w == (ssize_t)len ? p : NULL;
}

/* Removes the files and the directory. */
static void scratch_close(scratch *s)
{
    for (size_t i = 0; i < s->n; i++) {
        unlink(s->path[i]);
        free(s->path[i]);
    }
    rmdir(s->dir);
    free(s->dir);
}

TEST(file_read_all_returns_the_exact_bytes)
{
    scratch sc;
    REQUIRE(scratch_open(&sc) == 0);
    const char *bin = scratch_add(&sc, "a\0b\n", 4), *empty = scratch_add(&sc, "", 0);
    char *s = NULL;
    size_t len = 99;
    CHECK(bin && file_read_all(bin, 64, &s, &len) == 0);
    CHECK_INT(len, 4);
    CHECK(s && memcmp(s, "a\0b\n", 5) == 0); /* NUL-terminated after the bytes */
    free(s);
    s = NULL;
    CHECK(empty && file_read_all(empty, 64, &s, NULL) == 0);
    CHECK(s && s[0] == '\0');
    free(s);
    scratch_close(&sc);
}

TEST(file_read_all_limit_is_max_bytes)
{
    scratch sc;
    REQUIRE(scratch_open(&sc) == 0);
    const char *nine = scratch_add(&sc, "123456789", 9);
    REQUIRE(nine != NULL);
    char *s = NULL;
    size_t len = 0;
    CHECK_INT(file_read_all(nine, 9, &s, &len), 0);
    CHECK_INT(len, 9);
    CHECK(s && strcmp(s, "123456789") == 0);
    free(s);
    s = NULL;
    CHECK_INT(file_read_all(nine, 8, &s, &len), -EFBIG);
    CHECK(s == NULL); /* not touched on failure */
    CHECK_INT(len, 9);
    scratch_close(&sc);
}

TEST(file_read_all_grows_past_the_first_buffer)
{
    size_t n = 3 * FILE_READ_CHUNK + 123;
    char *data = xmalloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)('a' + i % 26);
    scratch sc;
    REQUIRE(scratch_open(&sc) == 0);
    const char *big = scratch_add(&sc, data, n);
    /* at the limit, below a roomy one, one byte over */
    size_t max[] = { n, 5 * FILE_READ_CHUNK, n - 1 };
    for (size_t i = 0; big && i < LO_ARRAY_SIZE(max); i++) {
        char *s = NULL;
        size_t len = 0;
        int rc = file_read_all(big, max[i], &s, &len);
        if (max[i] < n) {
            CHECK_INT(rc, -EFBIG);
            CHECK(s == NULL);
            continue;
        }
        CHECK_INT(rc, 0);
        CHECK_INT(len, n);
        CHECK(s && memcmp(s, data, n) == 0 && s[n] == '\0');
        free(s);
    }
    CHECK(big != NULL);
    scratch_close(&sc);
    free(data);
}

TEST(file_read_all_errors)
{
    scratch sc;
    REQUIRE(scratch_open(&sc) == 0);
    const char *x = scratch_add(&sc, "x", 1);
    char *missing = xasprintf("%s/missing", sc.dir);
    char *s = NULL;
    size_t len = 7;
    CHECK_INT(file_read_all(missing, 8, &s, &len), -ENOENT);
    CHECK_INT(file_read_all(sc.dir, 8, &s, &len), -EISDIR);
    CHECK(x && file_read_all(x, 0, &s, &len) == -EINVAL);
    CHECK(x && file_read_all(x, SIZE_MAX, &s, &len) == -EINVAL);
    CHECK(s == NULL);
    CHECK_INT(len, 7);
    free(missing);
    scratch_close(&sc);
}
