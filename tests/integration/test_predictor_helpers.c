/* test_predictor_helpers.c — see test_predictor_helpers.h. */
#include "test_predictor_helpers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define PH_HTTP_MAX (1u << 20)

void ph_sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

const char *ph_binary(void)
{
    static char path[4096];
    const char *dir = getenv("LIFTOFF_BIN");
    if (!dir)
        return NULL;
    snprintf(path, sizeof path, "%s/liftoff-predictor", dir);
    return access(path, X_OK) == 0 ? path : NULL;
}

peer *ph_predictor(int redis_port, const char *flags)
{
    const char *bin = ph_binary();
    if (!bin) {
        fprintf(stderr, "    liftoff-predictor not found (LIFTOFF_BIN)\n");
        return NULL;
    }
    char *cmd = xasprintf("exec '%s' --listen 127.0.0.1:%%PORT%% --redis redis://127.0.0.1:%d "
                          "--log-level debug %s",
                          bin, redis_port, flags ? flags : "");
    const char *argv[] = { "sh", "-c", cmd, NULL };
    peer *p = peer_spawn("predictor", argv, 1);
    free(cmd);
    return p;
}

redisContext *ph_redis(int port)
{
    struct timeval tv = { 5, 0 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!c || c->err) {
        fprintf(stderr, "    cannot connect to redis on %d\n", port);
        if (c)
            redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    return c;
}

redisReply *ph_cmd(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    return r;
}

long long ph_int(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (r)
        freeReplyObject(r);
    return v;
}

char *ph_hget(redisContext *c, const char *key, const char *field)
{
    redisReply *r = redisCommand(c, "HGET %s %s", key, field);
    char *s = r && r->type == REDIS_REPLY_STRING ? xstrndup(r->str, r->len) : NULL;
    if (r)
        freeReplyObject(r);
    return s;
}

double ph_hget_num(redisContext *c, const char *key, const char *field)
{
    char *s = ph_hget(c, key, field);
    double v = s ? strtod(s, NULL) : NAN;
    free(s);
    return v;
}

void ph_policy_put(redisContext *c, const char *ns, const char *name, const char *json)
{
    redisReply *r = redisCommand(c, "SET liftoff:policy:%s:%s %s", ns, name, json);
    if (r)
        freeReplyObject(r);
    r = redisCommand(c, "SADD liftoff:policies %s/%s", ns, name);
    if (r)
        freeReplyObject(r);
    r = redisCommand(c, "PUBLISH liftoff:policy %s/%s", ns, name);
    if (r)
        freeReplyObject(r);
}

int ph_http_get(int port, const char *path, char *body, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = { 5, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    char *buf = NULL;
    int status = -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
        goto out;
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", path);
    if (write(fd, req, (size_t)n) != n)
        goto out;
    buf = xmalloc(PH_HTTP_MAX + 1);
    size_t len = 0;
    ssize_t r;
    while (len < PH_HTTP_MAX && (r = read(fd, buf + len, PH_HTTP_MAX - len)) > 0)
        len += (size_t)r;
    buf[len] = '\0';
    if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
        status = -1;
    char *b = strstr(buf, "\r\n\r\n");
    if (body && cap) {
        snprintf(body, cap, "%s", b ? b + 4 : "");
    }
out:
    free(buf);
    close(fd);
    return status;
}

double ph_metric(int port, const char *series)
{
    char *body = xmalloc(PH_HTTP_MAX);
    double v = NAN;
    if (ph_http_get(port, "/metrics", body, PH_HTTP_MAX) == 200) {
        size_t n = strlen(series);
        for (char *line = body; line && *line;) {
            char *nl = strchr(line, '\n');
            if (strncmp(line, series, n) == 0 && line[n] == ' ') {
                v = strtod(line + n + 1, NULL);
                break;
            }
            line = nl ? nl + 1 : NULL;
        }
    }
    free(body);
    return v;
}

const char *ph_xadd(redisContext *c, const char *stream, const char *id, const char *type,
                    long long ts_ms)
{
    static char out[64];
    redisReply *r = redisCommand(c, "XADD %s %s id ev-%lld type %s ts %lld source webhook data {}",
                                 stream, id ? id : "*", ts_ms, type, ts_ms);
    const char *res = NULL;
    if (r && r->type == REDIS_REPLY_STRING) {
        snprintf(out, sizeof out, "%s", r->str);
        res = out;
    } else if (r && r->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "    XADD: %s\n", r->str);
    }
    if (r)
        freeReplyObject(r);
    return res;
}
