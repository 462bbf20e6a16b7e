/*
 * test_ws_helpers.h — a WebSocket echo peer (RFC 6455) for the tunnel
 * tests, on the http_server core with the connection taken over after the
 * handshake, and the client side's framing helpers.
 *
 * The peer: GET /ws with Upgrade: websocket and a Sec-WebSocket-Key is
 * answered 101 with the right Sec-WebSocket-Accept; then every text or
 * binary frame (masked, as clients must send them) comes back unmasked,
 * a ping gets a pong, a close frame gets a close frame and the
 * connection ends; an end of stream from the client ends it too. Any
 * other request (an Upgrade to another path included) gets 200 "plain\n".
 */
#ifndef LIFTOFF_TEST_WS_HELPERS_H
#define LIFTOFF_TEST_WS_HELPERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ev.h"
#include "http_server.h"

#define WS_FRAME_MAX (8u << 20)    /* largest frame the peer takes */

enum { WS_TEXT = 1, WS_BINARY = 2, WS_CLOSE = 8, WS_PING = 9, WS_PONG = 10 };

typedef struct wsecho {
    ev_loop *loop;
    http_server *s;
    int port;
    int upgrades;      /* 101s sent */
    int open;          /* WebSocket connections open now */
    int frames;        /* data frames echoed */
    int plain;         /* requests answered 200 */
    int plain_upgrades; /* ... of them Upgrade requests */
    bool saw_conn_upgrade; /* the last /ws request had Connection: upgrade */
} wsecho;

wsecho *wsecho_start(ev_loop *loop);
/* Closes the server and every WebSocket connection. */
void wsecho_stop(wsecho *w);

/* The Sec-WebSocket-Accept value for key (28 characters + NUL). */
void ws_accept_for(const char *key, char out[29]);
/* Appends a frame (FIN set) with payload p[0..n), masked if mask. 0 or -errno. */
int ws_frame_append(buf_t *out, unsigned op, const void *p, size_t n, bool mask);
/* Parses a frame at s[0..n): its length (> 0; *op, *payload (unmasked in
 * place when masked), *plen set), 0 if incomplete, -1 if malformed. */
ssize_t ws_frame_parse(char *s, size_t n, unsigned *op, char **payload, size_t *plen);

#endif
