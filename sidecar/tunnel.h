/*
 * tunnel.h — Upgrade (WebSocket and the like) after a 101: the proxy
 * forwards an Upgrade request with its Connection: upgrade and Upgrade
 * fields; when the upstream answers 101 Switching Protocols, the tunnel
 * takes both connections over (http_req_take_conn, http_creq_take_conn),
 * relays the 101 head, and from then on copies bytes both ways as they
 * come, without looking at them.
 *
 *   - Back-pressure: a side stops being read while the other side has more
 *     than SIDECAR_PIPE_HIGH bytes queued, and is read again once that
 *     output has drained.
 *   - Half-close: an end of stream from one side becomes a shutdown of the
 *     other side's write direction (after its queued bytes), and the other
 *     direction goes on; the tunnel ends when both directions are closed,
 *     on any error from either side (both are closed at once), or after
 *     the idle timeout with no byte in either direction.
 *   - Limits: at most the service's max_conns tunnels (more are answered
 *     503 in place of the 101). A tunnel holds a concurrency slot only
 *     while the handshake is at the upstream; it is never cached.
 *   - Drain: tunnels live on through the drain delay and while requests
 *     finish; once the HTTP side has drained, each tunnel sends what it
 *     has queued and closes both sides (the peers see an end of stream).
 *
 * Ownership: the service keeps the list of tunnels; a tunnel frees itself
 * when it ends; sidecar_tunnel_close_all() ends every one.
 */
#ifndef LIFTOFF_SIDECAR_TUNNEL_H
#define LIFTOFF_SIDECAR_TUNNEL_H

#include <stdbool.h>
#include <stddef.h>

#include "http_client.h"
#include "http_server.h"

#define SIDECAR_TUNNEL_IDLE_DEFAULT_MS 300000u /* settings.tunnel_idle_ms 0 */
#define SIDECAR_TUNNEL_READ (16u << 10)     /* bytes per read */
#define SIDECAR_TUNNEL_REST_MAX (1u << 20)  /* bytes read past a head, either side */
#define SIDECAR_TUNNEL_HEAD_MAX (64u << 10) /* the 101 head sent to the client */
#define SIDECAR_TUNNEL_CLOSE_MS 2000u       /* flushing the last bytes at the end */

typedef struct sidecar_service sidecar_service;
typedef struct sidecar_tunnel sidecar_tunnel;

/* From the upstream request q's on_head with res a 101 to the Upgrade
 * request r: takes both connections and starts copying. r and q are
 * finished by this call whatever it returns: 0, or -errno when no tunnel
 * was made (the client gone: -ECONNRESET; too many tunnels: -EBUSY, the
 * client got a 503). */
int sidecar_tunnel_start(sidecar_service *svc, http_req *r, http_creq *q,
                         const http_response *res);
/* Ends every tunnel: graceful sends the queued bytes first (bounded by
 * SIDECAR_TUNNEL_CLOSE_MS), else both sides are closed at once. */
void sidecar_tunnel_close_all(sidecar_service *svc, bool graceful);
/* Tunnels open now. */
size_t sidecar_tunnel_count(const sidecar_service *svc);

#endif
