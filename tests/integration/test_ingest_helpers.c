/* test_ingest_helpers.c — redis + liftoff-ingest peers and a raw HTTP client
 * for the ingest integration tests (see test_ingest_helpers.h). */
#include "test_ingest_helpers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common.h"
#include "ingest/signature.h"

const char *ih_binary(void)
{
    static char path[512];
    const char *dir = getenv("LIFTOFF_BIN");
    if (!dir)
        return NULL;
    snprintf(path, sizeof(path), "%s/liftoff-ingest", dir);
    return access(path, X_OK) == 0 ? path : NULL;
}

bool ih_start(ih_env *e, const char *extra_redis_conf, const char *extra_flags)
{
    return ih_start_env(e, extra_redis_conf, NULL, extra_flags);
}

bool ih_start_env(ih_env *e, const char *extra_redis_conf, const char *env,
                  const char *extra_flags)
{
    memset(e, 0, sizeof(*e));
    const char *bin = ih_binary();
    if (!bin) {
        fprintf(stderr, "    liftoff-ingest not found (LIFTOFF_BIN)\n");
        return false;
    }
    e->redis = peer_redis_start(extra_redis_conf);
    if (!e->redis)
        return false;
    char *cmd = xasprintf("printf '%%s\\n%%s\\n' '%s' '%s' > %%DIR%%/secret && exec env %s '%s' "
                          "--listen 127.0.0.1:%%PORT%% --redis redis://127.0.0.1:%d "
                          "--secret-file %%DIR%%/secret %s",
                          IH_SECRET, IH_SECRET_OLD, env ? env : "", bin, peer_port(e->redis),
                          extra_flags ? extra_flags : "");
    const char *argv[] = { "sh", "-c", cmd, NULL };
    e->ingest = peer_spawn("ingest", argv, 1);
    free(cmd);
    if (!e->ingest) {
        peer_stop(e->redis);
        e->redis = NULL;
        return false;
    }
    e->port = peer_port(e->ingest);
    return true;
}

void ih_stop(ih_env *e)
{
    peer_stop(e->ingest);
    peer_stop(e->redis);
    memset(e, 0, sizeof(*e));
}

int ih_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = { .tv_sec = IH_IO_TIMEOUT_MS / 1000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

int ih_read_response(int fd, ih_resp *out)
{
    static char buf[IH_RESP_MAX + 8192];
    size_t len = 0;
    memset(out, 0, sizeof(*out));
    for (;;) {
        char *end = memmem(buf, len, "\r\n\r\n", 4);
        if (end) {
            size_t hl = (size_t)(end - buf);
            size_t clen = 0;
            for (char *p = buf; p < end;) {
                char *eol = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);
                if ((size_t)(eol - p) > 15 && strncasecmp(p, "Content-Length:", 15) == 0)
                    clen = strtoul(p + 15, NULL, 10);
                p = eol + 2;
            }
            if (clen <= IH_RESP_MAX && len >= hl + 4 + clen) {
                size_t hcopy = LO_MIN(hl, sizeof(out->head) - 1);
                memcpy(out->head, buf, hcopy);
                out->head[hcopy] = '\0';
                memcpy(out->body, end + 4, clen);
                out->body_len = clen;
                out->body[LO_MIN(clen, (size_t)IH_RESP_MAX - 1)] = '\0';
                out->status = len > 12 ? atoi(buf + 9) : 0;
                return out->status;
            }
        }
        if (len == sizeof(buf))
            return 0;
        ssize_t n = recv(fd, buf + len, sizeof(buf) - len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        len += (size_t)n;
    }
}

int ih_request(int port, const char *method, const char *path, const char *headers,
               const char *body, size_t len, ih_resp *out)
{
    memset(out, 0, sizeof(*out));
    int fd = ih_connect(port);
    if (fd < 0)
        return 0;
    char *head = body ? xasprintf("%s %s HTTP/1.1\r\nHost: test\r\n%sContent-Length: %zu\r\n\r\n",
                                  method, path, headers ? headers : "", len)
                      : xasprintf("%s %s HTTP/1.1\r\nHost: test\r\n%s\r\n", method, path,
                                  headers ? headers : "");
    if (send_all(fd, head, strlen(head)) && (!body || send_all(fd, body, len)))
        ih_read_response(fd, out);
    free(head);
    close(fd);
    return out->status;
}

int ih_webhook(int port, const char *path, const char *secret, const char *extra_headers,
               const char *body, ih_resp *out)
{
    char sig[INGEST_SIG_PREFIX_MAX + 2 * INGEST_SIG_LEN + 1] = "";
    if (secret)
        ingest_sig_sign(secret, strlen(secret), "sha256=", body, strlen(body), sig, sizeof(sig));
    char *hdrs = xasprintf("Content-Type: application/json\r\n%s%s%s%s",
                           secret ? "X-Producthunt-Signature: " : "", sig, secret ? "\r\n" : "",
                           extra_headers ? extra_headers : "");
    int st = ih_request(port, "POST", path, hdrs, body, strlen(body), out);
    free(hdrs);
    return st;
}

const char *ih_header(const ih_resp *r, const char *name)
{
    static char val[1024];
    size_t nl = strlen(name);
    for (const char *p = r->head; p && *p;) {
        const char *eol = strstr(p, "\r\n");
        size_t ll = eol ? (size_t)(eol - p) : strlen(p);
        if (ll > nl && p[nl] == ':' && strncasecmp(p, name, nl) == 0) {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(val, sizeof(val), "%.*s", (int)(ll - (size_t)(v - p)), v);
            return val;
        }
        p = eol ? eol + 2 : NULL;
    }
    return NULL;
}

const char *ih_redis(const ih_env *e, const char *fmt, ...)
{
    static char out[65536];
    char args[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    out[0] = '\0';
    char *cmd = xasprintf("redis-cli -p %d %s", peer_port(e->redis), args);
    FILE *f = popen(cmd, "r");
    free(cmd);
    if (!f)
        return out;
    size_t n = fread(out, 1, sizeof(out) - 1, f);
    pclose(f);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        n--;
    out[n] = '\0';
    return out;
}
