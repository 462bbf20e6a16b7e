/*
 * file_read.h — reads a small file (credentials, secrets, configuration)
 * whole into memory, with a hard size limit. Blocking: for start-up or for
 * rare re-reads off the hot path.
 *
 * The file may hold a secret, so no copy of its bytes is left in freed
 * memory: buffers are wiped before they are freed, on growth and on every
 * error. Ownership: on success the caller owns *out and frees it (wiping
 * it first if it holds a secret).
 */
#ifndef LIFTOFF_FILE_READ_H
#define LIFTOFF_FILE_READ_H

#include <stddef.h>

#define FILE_READ_CHUNK 4096u   /* first buffer size; it doubles up to max + 1 */

/* Reads the file at path (at most max bytes, 1 <= max <= SIZE_MAX - 2) into
 * a fresh NUL-terminated buffer *out of *outlen bytes (it may hold NULs;
 * outlen may be NULL): 0, -EFBIG when the file is larger than max, -EINVAL
 * for a bad max, or -errno of open/read. On failure *out is not touched. */
int file_read_all(const char *path, size_t max, char **out, size_t *outlen);

/* Wipes the first len bytes of p and frees it; NULL-safe. */
void file_wipe_free(char *p, size_t len);

#endif
