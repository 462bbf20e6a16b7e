/* file_read.c — a whole small file into memory (see file_read.h). */
#include "file_read.h"
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void file_wipe_free(char *p, size_t len)
{
    if (!p)
        return;
    explicit_bzero(p, len);
    free(p);
}

/* A buffer of size bytes holding the first len bytes of p, which is wiped
 * and freed (realloc could leave a copy behind in freed memory). */
static char *grow(char *p, size_t len, size_t size)
{
    char *q = xmalloc(size);
    if (p)
        memcpy(q, p, len);
    file_wipe_free(p, len);
    return q;
}

int file_read_all(const char *path, size_t max, char **out, size_t *outlen)
{
    int rc = 0;
    char *data = NULL;
    size_t len = 0, cap = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    if (max == 0 || max > SIZE_MAX - 2) {
        rc = -EINVAL;
        goto out;
    }
    /* Read up to max + 1 bytes: one more than allowed reveals a too-big file. */
    while (len <= max) {
        if (len == cap) {
            size_t want = cap == 0 ? FILE_READ_CHUNK : cap > (max + 1) / 2 ? max + 1 : cap * 2;
            want = LO_MIN(want, max + 1);
            data = grow(data, len, want + 1); /* + 1: the NUL */
            cap = want;
        }
        ssize_t n = read(fd, data + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len > max) {
        rc = -EFBIG;
        goto out;
    }
    data[len] = '\0';
    *out = data;
    if (outlen)
        *outlen = len;
    data = NULL;
out:
    file_wipe_free(data, len);
    close(fd);
    return rc;
}
