/* test_http_helpers.c — test server, raw client, curl runner and response
 * splitter for the http integration tests (see test_http_helpers.h). */
#include "test_http_helpers.h"
#include "common.h"
#include "http_parse.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

extern char **environ;

/* ---- the test server ---- */

static long query_num(const http_request *h, const char *key, long def)
{
    const char *q = memchr(h->path.p, '?', h->path.len);
    if (!q)
        return def;
    size_t klen = strlen(key);
    const char *end = h->path.p + h->path.len;
    for (const char *p = q + 1; p < end;) {
        if ((size_t)(end - p) > klen && memcmp(p, key, klen) == 0 && p[klen] == '=')
            return strtol(p + klen + 1, NULL, 10);
        const char *amp = memchr(p, '&', (size_t)(end - p));
        p = amp ? amp + 1 : end;
    }
    return def;
}

typedef struct late {
    tsrv *t;
    http_req *r;
    ev_timer timer;
} late;

static void late_fire(ev_loop *loop, ev_timer *tm, void *arg)
{
    late *l = arg;
    if (!http_req_alive(l->r))
        l->t->late_dead++;
    http_respond(l->r, 200, "text/plain", "late\n", 5);
}

static void late_cancel(http_req *r, void *arg)
{
    late *l = arg;
    l->t->cancels++;
    /* Keep the timer: the answer comes later and must find r dead. */
}

static void held_cancel(http_req *r, void *arg)
{
    tsrv *t = arg;
    t->cancels++;
}

static void sum_data(http_req *r, const char *d, size_t n, void *arg)
{
    tsrv *t = arg;
    t->sum_bytes += (long long)n;
    t->sum_pieces++;
}

static void sum_end(http_req *r, int err, void *arg)
{
    tsrv *t = arg;
    t->sum_end_err = err;
    if (err < 0) {
        http_req_release(r);
        return;
    }
    char *s = pool_printf(http_req_pool(r), "%lld\n", t->sum_bytes);
    http_respond(r, 200, "text/plain", s, strlen(s));
}

static void tsrv_handle(http_req *r, void *arg)
{
    tsrv *t = arg;
    const http_request *h = http_req_head(r);
    t->requests++;
    if (http_path_is(h, "/hello")) {
        http_respond(r, 200, "text/plain", "hello\n", 6);
    } else if (http_path_is(h, "/echo")) {
        size_t n;
        const char *b = http_req_body(r, &n);
        http_respond(r, 200, "application/octet-stream", b, b ? n : 0);
    } else if (http_path_is(h, "/info")) {
        size_t n = 0;
        http_req_body(r, &n);
        char *s = pool_printf(http_req_pool(r), "method=%.*s path=%.*s host=%.*s body=%zu ka=%d\n",
                              (int)h->method.len, h->method.p, (int)h->path.len, h->path.p,
                              (int)h->host.len, h->host.p, n, h->f.keep_alive);
        http_respond(r, 200, "text/plain", s, strlen(s));
    } else if (http_path_is(h, "/async")) {
        late *l = pool_zalloc(http_req_pool(r), sizeof *l);
        l->t = t;
        l->r = r;
        ev_timer_init(&l->timer, late_fire, l);
        ev_timer_start(t->loop, &l->timer, (uint64_t)query_num(h, "ms", 50));
        http_req_on_cancel(r, late_cancel, l);
    } else if (http_path_is(h, "/hold")) {
        if (t->held_n < 16)
            t->held[t->held_n++] = r;
        http_req_on_cancel(r, held_cancel, t);
    } else if (http_path_is(h, "/chunked")) {
        long n = query_num(h, "n", 3);
        http_res_header(r, "Content-Type", "text/plain");
        http_res_start(r, 200, -1);
        for (long i = 0; i < n; i++) {
            char line[32];
            int len = snprintf(line, sizeof line, "line %ld\n", i);
            http_res_write(r, line, (size_t)len);
        }
        http_res_end(r);
    } else if (http_path_is(h, "/big")) {
        long n = query_num(h, "n", 100000);
        char *b = pool_alloc(http_req_pool(r), (size_t)n);
        memset(b, 'x', (size_t)n);
        http_respond(r, 200, "application/octet-stream", b, (size_t)n);
    } else if (http_path_is(h, "/status")) {
        http_respond(r, (int)query_num(h, "code", 200), NULL, NULL, 0);
    } else if (http_path_is(h, "/short")) {
        http_res_start(r, 200, 10); /* promises 10 bytes, sends 3 */
        http_res_write(r, "abc", 3);
        http_res_end(r);
    } else if (http_path_is(h, "/framing")) {
        /* framing fields from the handler must not reach the wire */
        http_res_header(r, "Content-Length", "999");
        http_res_header(r, "Transfer-Encoding", "chunked");
        http_res_header(r, "Connection", "close");
        http_res_header(r, "Date", "Sun, 06 Nov 1994 08:49:37 GMT");
        http_respond(r, 200, "text/plain", "framed\n", 7);
    } else if (http_path_is(h, "/release")) {
        http_req_release(r);
    } else if (http_path_is(h, "/sum")) {
        t->sum_bytes = 0;
        t->sum_pieces = 0;
        t->sum_end_err = 1;
        http_req_read_body(r, sum_data, sum_end, t);
    } else {
        http_respond(r, 404, "text/plain", "not found\n", 10);
    }
}

tsrv *tsrv_start(ev_loop *loop, const http_server_opts *opts)
{
    tsrv *t = xcalloc(1, sizeof *t);
    t->loop = loop;
    http_server_opts o = { 0 };
    if (opts)
        o = *opts;
    o.host = "127.0.0.1";
    o.on_request = tsrv_handle;
    o.arg = t;
    char err[256];
    if (http_server_start(loop, &o, &t->s, err, sizeof err) < 0) {
        fprintf(stderr, "    http server: %s\n", err);
        free(t);
        return NULL;
    }
    t->port = http_server_port(t->s);
    return t;
}

void tsrv_release_held(tsrv *t)
{
    for (int i = 0; i < t->held_n; i++)
        http_respond(t->held[i], 200, "text/plain", "released\n", 9);
    t->held_n = 0;
}

void tsrv_stop(tsrv *t)
{
    if (!t)
        return;
    http_server_free(t->s);
    tsrv_release_held(t); /* dead by now: this frees them */
    free(t);
}

/* ---- raw client ---- */

static void rawc_connect(conn *c, int status, void *ud)
{
    rawc *r = ud;
    if (status == 0)
        r->connected = true;
    else
        r->err = status;
}

static void rawc_readable(conn *c, void *ud)
{
    rawc *r = ud;
    for (;;) {
        if (buf_reserve(&r->got, 16384) < 0) {
            conn_pause_read(c);
            return;
        }
        ssize_t n = conn_read(c, buf_tail(&r->got), 16384);
        if (n == -EAGAIN)
            return;
        if (n <= 0) {
            if (n == 0)
                r->eof = true;
            else
                r->err = (int)n;
            conn_pause_read(c);
            return;
        }
        buf_commit(&r->got, (size_t)n);
    }
}

static void rawc_error(conn *c, int err, void *ud)
{
    rawc *r = ud;
    r->err = err;
    conn_pause_read(c);
}

static const conn_cbs rawc_cbs = {
    .on_connect = rawc_connect,
    .on_readable = rawc_readable,
    .on_error = rawc_error,
};

rawc *rawc_open(ev_loop *loop, int port)
{
    rawc *r = xcalloc(1, sizeof *r);
    buf_init(&r->got, 1u << 20);
    conn_connect_opts o = { .host = "127.0.0.1", .port = port };
    if (conn_connect(loop, &o, &rawc_cbs, r, &r->c) < 0) {
        buf_free(&r->got);
        free(r);
        return NULL;
    }
    return r;
}

int rawc_send(rawc *r, const char *s, size_t n) { return conn_write(r->c, s, n); }
int rawc_sends(rawc *r, const char *s) { return rawc_send(r, s, strlen(s)); }

const char *rawc_text(rawc *r)
{
    static char text[(1u << 20) + 1];
    size_t n = buf_len(&r->got);
    if (n)
        memcpy(text, buf_data(&r->got), n);
    text[n] = '\0';
    return text;
}

bool rawc_has(rawc *r, const char *needle)
{
    return buf_len(&r->got) &&
           memmem(buf_data(&r->got), buf_len(&r->got), needle, strlen(needle)) != NULL;
}

void rawc_close(rawc *r)
{
    if (!r)
        return;
    conn_close(r->c);
    buf_free(&r->got);
    free(r);
}

int split_responses(const char *s, size_t n, int *statuses, int max, size_t *rest)
{
    size_t off = 0;
    int count = 0;
    for (;;) {
        http_head_parser p;
        http_head_parser_init(&p, NULL);
        http_header h[64];
        http_response res = { .headers = h, .headers_cap = 64 };
        ssize_t hl = http_parse_response(&p, s + off, n - off, false, &res);
        if (hl <= 0)
            break;
        http_body b;
        http_body_init(&b, res.f.body, res.f.content_length, NULL);
        size_t pos = off + (size_t)hl;
        while (!http_body_done(&b) && pos < n) {
            http_str d;
            ssize_t k = http_body_feed(&b, s + pos, n - pos, &d);
            if (k <= 0)
                break;
            pos += (size_t)k;
        }
        if (!http_body_done(&b) && res.f.body != HTTP_BODY_CLOSE)
            break;
        if (res.f.body == HTTP_BODY_CLOSE)
            pos = n;
        if (count < max)
            statuses[count] = res.status;
        count++;
        off = pos;
    }
    if (rest)
        *rest = off;
    return count;
}

/* ---- curl ---- */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return xstrdup("");
    buf_t b;
    buf_init(&b, 64u << 20);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_append(&b, chunk, n);
    fclose(f);
    char *s = buf_len(&b) ? xstrndup(buf_data(&b), buf_len(&b)) : xstrdup("");
    buf_free(&b);
    return s;
}

bool have_curl(void)
{
    return system("command -v curl >/dev/null 2>&1") == 0;
}

int run_curl(ev_loop *loop, const char *args, char **out, char **err)
{
    char *cmd = xasprintf("exec curl --max-time 20 %s", args);
    int rc = run_sh(loop, cmd, out, err);
    free(cmd);
    return rc;
}

int run_sh(ev_loop *loop, const char *cmdline, char **out, char **err)
{
    const char *tmp = getenv("TMPDIR");
    char dir[256];
    snprintf(dir, sizeof dir, "%s/liftoff-curl.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    char *cmd = xasprintf("( %s ) >'%s/out' 2>'%s/err'", cmdline, dir, dir);
    char *argv[] = { "sh", "-c", cmd, NULL };
    pid_t pid;
    int rc = posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ);
    free(cmd);
    int status = -1;
    if (rc == 0) {
        int st = 0;
        bool reaped = false;
        bool done = WAIT_FOR(loop, reaped || (reaped = waitpid(pid, &st, WNOHANG) == pid));
        if (!done) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
        } else if (WIFEXITED(st)) {
            status = WEXITSTATUS(st);
        }
    }
    char path[300];
    snprintf(path, sizeof path, "%s/out", dir);
    if (out)
        *out = slurp(path);
    unlink(path);
    snprintf(path, sizeof path, "%s/err", dir);
    if (err)
        *err = slurp(path);
    unlink(path);
    rmdir(dir);
    return status;
}
