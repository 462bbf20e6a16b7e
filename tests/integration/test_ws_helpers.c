/* test_ws_helpers.c — see test_ws_helpers.h. */
#include "test_ws_helpers.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC11B65";

void ws_accept_for(const char *key, char out[29])
{
    unsigned char md[SHA_DIGEST_LENGTH];
    char *cat = xasprintf("%s%s", key, ws_guid);
    SHA1((const unsigned char *)cat, strlen(cat), md);
    free(cat);
    EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
}

int ws_frame_append(buf_t *out, unsigned op, const void *p, size_t n, bool mask)
{
    unsigned char h[14];
    size_t hl = 2;
    h[0] = (unsigned char)(0x80 | (op & 0x0f));
    if (n < 126) {
        h[1] = (unsigned char)n;
    } else if (n <= 0xffff) {
        h[1] = 126;
        h[2] = (unsigned char)(n >> 8);
        h[3] = (unsigned char)n;
        hl = 4;
    } else {
        h[1] = 127;
        for (int i = 0; i < 8; i++)
            h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
        hl = 10;
    }
    static const unsigned char key[4] = { 0x37, 0xfa, 0x21, 0x3d };
    if (mask) {
        h[1] |= 0x80;
        memcpy(h + hl, key, 4);
        hl += 4;
    }
    if (buf_append(out, h, hl) < 0 || buf_reserve(out, n) < 0)
        return -ENOBUFS;
    unsigned char *dst = (unsigned char *)buf_tail(out);
    const unsigned char *src = p;
    for (size_t i = 0; i < n; i++)
        dst[i] = mask ? (unsigned char)(src[i] ^ key[i & 3]) : src[i];
    buf_commit(out, n);
    return 0;
}

ssize_t ws_frame_parse(char *s, size_t n, unsigned *op, char **payload, size_t *plen)
{
    const unsigned char *u = (const unsigned char *)s;
    if (n < 2)
        return 0;
    if (!(u[0] & 0x80) || (u[0] & 0x70))
        return -1; /* fragments and extensions are not used here */
    bool masked = u[1] & 0x80;
    uint64_t len = u[1] & 0x7f;
    size_t hl = 2;
    if (len == 126) {
        if (n < 4)
            return 0;
        len = (uint64_t)u[2] << 8 | u[3];
        hl = 4;
    } else if (len == 127) {
        if (n < 10)
            return 0;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | u[2 + i];
        hl = 10;
    }
    if (len > WS_FRAME_MAX)
        return -1;
    size_t kl = masked ? 4 : 0;
    if (n < hl + kl + len)
        return 0;
    char *pl = s + hl + kl;
    if (masked)
        for (size_t i = 0; i < len; i++)
            pl[i] = (char)(pl[i] ^ u[hl + (i & 3)]);
    *op = u[0] & 0x0f;
    *payload = pl;
    *plen = (size_t)len;
    return (ssize_t)(hl + kl + len);
}

/* ---- the echo peer ---- */

typedef struct wsconn {
    wsecho *w;
    conn *c;
    buf_t in;
    struct wsconn *next;
} wsconn;

static wsconn *all_conns; /* for wsecho_stop */

static void wsconn_end(wsconn *wc)
{
    for (wsconn **pp = &all_conns; *pp; pp = &(*pp)->next)
        if (*pp == wc) {
            *pp = wc->next;
            break;
        }
    wc->w->open--;
    if (conn_out_pending(wc->c) == 0)
        conn_close(wc->c); /* nothing left to send: no background close */
    else
        conn_close_flush(wc->c, 1000);
    buf_free(&wc->in);
    free(wc);
}

/* Answers the frames in wc->in; false once the connection has ended. */
static bool ws_process(wsconn *wc)
{
    for (;;) {
        unsigned op;
        char *pl;
        size_t plen;
        ssize_t n = ws_frame_parse(buf_data(&wc->in), buf_len(&wc->in), &op, &pl, &plen);
        if (n == 0)
            return true;
        if (n < 0) {
            wsconn_end(wc);
            return false;
        }
        buf_t out;
        buf_init(&out, WS_FRAME_MAX + 16);
        unsigned reply = op == WS_PING ? WS_PONG : op;
        if (op != WS_PONG)
            ws_frame_append(&out, reply, pl, plen, false);
        buf_consume(&wc->in, (size_t)n);
        int rc = buf_empty(&out) ? 0 : conn_write(wc->c, buf_data(&out), buf_len(&out));
        buf_free(&out);
        if (op == WS_TEXT || op == WS_BINARY)
            wc->w->frames++;
        if (rc < 0 || op == WS_CLOSE) {
            wsconn_end(wc);
            return false;
        }
    }
}

static void ws_readable(conn *c, void *ud)
{
    wsconn *wc = ud;
    for (;;) {
        if (buf_reserve(&wc->in, 16384) < 0) {
            wsconn_end(wc);
            return;
        }
        ssize_t n = conn_read(c, buf_tail(&wc->in), 16384);
        if (n == -EAGAIN)
            return;
        if (n <= 0) {
            wsconn_end(wc);
            return;
        }
        buf_commit(&wc->in, (size_t)n);
        if (!ws_process(wc))
            return;
    }
}

static void ws_error(conn *c, int err, void *ud) { wsconn_end(ud); }

static const conn_cbs ws_cbs = { .on_readable = ws_readable, .on_error = ws_error };

static void wsecho_handle(http_req *r, void *arg)
{
    wsecho *w = arg;
    const http_request *h = http_req_head(r);
    const http_header *key = http_req_header(r, "Sec-WebSocket-Key");
    if (!(h->upgrade && key && http_str_ieq(h->upgrade_proto, "websocket") &&
          h->path.len == 3 && memcmp(h->path.p, "/ws", 3) == 0)) {
        w->plain++;
        w->plain_upgrades += h->upgrade;
        http_respond(r, 200, "text/plain", "plain\n", 6);
        return;
    }
    w->saw_conn_upgrade = h->f.conn_upgrade;
    char k[128], acc[29];
    snprintf(k, sizeof k, "%.*s", (int)key->value.len, key->value.p);
    ws_accept_for(k, acc);
    wsconn *wc = xcalloc(1, sizeof *wc);
    wc->w = w;
    buf_init(&wc->in, WS_FRAME_MAX + 64);
    if (http_req_take_conn(r, &ws_cbs, wc, &wc->c, &wc->in) < 0) {
        buf_free(&wc->in);
        free(wc);
        return;
    }
    w->upgrades++;
    w->open++;
    wc->next = all_conns;
    all_conns = wc;
    char *head = xasprintf("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", acc);
    int rc = conn_write(wc->c, head, strlen(head));
    free(head);
    if (rc < 0)
        wsconn_end(wc);
    else
        ws_process(wc); /* frames sent right behind the handshake */
}

wsecho *wsecho_start(ev_loop *loop)
{
    wsecho *w = xcalloc(1, sizeof *w);
    w->loop = loop;
    http_server_opts o = { .host = "127.0.0.1", .on_request = wsecho_handle, .arg = w };
    if (http_server_start(loop, &o, &w->s, NULL, 0) < 0) {
        free(w);
        return NULL;
    }
    w->port = http_server_port(w->s);
    return w;
}

void wsecho_stop(wsecho *w)
{
    if (!w)
        return;
    for (wsconn *wc = all_conns, *next; wc; wc = next) {
        next = wc->next;
        if (wc->w == w)
            wsconn_end(wc);
    }
    http_server_free(w->s);
    free(w);
}
