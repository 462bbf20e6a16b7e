/*
 * byte_relay.c — the floor under any HTTP proxy on this machine, for
 * bench-sidecar: a relay that gives each client connection its own upstream
 * connection and moves bytes as they arrive, parsing nothing. With one
 * request in flight per connection (wrk, keep-alive) it makes the same
 * system calls per request as a proxy at its minimum (one recv and one send
 * each way, epoll_wait shared), so its CPU time per request is the kernel's
 * loopback TCP cost that a real proxy pays on top of its own work.
 *
 * Not a proxy: no HTTP, no timeouts, blocking sends. A measuring device only.
 *
 *   byte_relay LISTEN_PORT UPSTREAM_PORT      (both on 127.0.0.1)
 *
 * Ownership: every fd lives until its connection or its peer's closes;
 * the process runs until it is killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { MAX_FDS = 65536, MAX_EVENTS = 256, BUF_SIZE = 65536 };

static int peer_of[MAX_FDS];   /* the other side of each relayed fd */

static int loopback(int port, struct sockaddr_in *a)
{
    if (port <= 0 || port > 65535)
        return -1;
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_port = htons((unsigned short)port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return 0;
}

static void no_delay(int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int watch(int ep, int fd)
{
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* Closes a pair (each fd leaves the epoll set as it closes). */
static void drop(int fd)
{
    int p = peer_of[fd];
    close(fd);
    if (p >= 0)
        close(p);
    peer_of[fd] = -1;
    if (p >= 0)
        peer_of[p] = -1;
}

/* Accepts one client and connects its upstream; -1 when either fails. */
static int pair_up(int ep, int listener, const struct sockaddr_in *up)
{
    int c = accept(listener, NULL, NULL);
    if (c < 0)
        return -1;
    int u = socket(AF_INET, SOCK_STREAM, 0);
    if (c >= MAX_FDS || u < 0 || u >= MAX_FDS ||
        connect(u, (const struct sockaddr *)up, sizeof *up) < 0) {
        fprintf(stderr, "byte_relay: upstream: %s\n", strerror(errno));
        close(c);
        if (u >= 0)
            close(u);
        return -1;
    }
    no_delay(c);
    no_delay(u);
    peer_of[c] = u;
    peer_of[u] = c;
    if (watch(ep, c) < 0 || watch(ep, u) < 0) {
        drop(c);
        return -1;
    }
    return 0;
}

/* Moves what fd has to its peer. */
static void relay(int fd)
{
    static char buf[BUF_SIZE];
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;   /* a stale event for a reused fd number */
    if (n <= 0) {
        drop(fd);
        return;
    }
    for (ssize_t off = 0; off < n;) {
        ssize_t w = send(peer_of[fd], buf + off, (size_t)(n - off), MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            drop(fd);
            return;
        }
        off += w;
    }
}

int main(int argc, char **argv)
{
    struct sockaddr_in la, ua;
    if (argc != 3 || loopback(atoi(argv[1]), &la) < 0 || loopback(atoi(argv[2]), &ua) < 0) {
        fprintf(stderr, "usage: byte_relay LISTEN_PORT UPSTREAM_PORT\n");
        return 2;
    }
    int one = 1, listener = socket(AF_INET, SOCK_STREAM, 0), ep = epoll_create1(0);
    if (listener < 0 || ep < 0 ||
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(listener, (const struct sockaddr *)&la, sizeof la) < 0 || listen(listener, 1024) < 0 ||
        watch(ep, listener) < 0) {
        fprintf(stderr, "byte_relay: listen on port %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    for (int i = 0; i < MAX_FDS; i++)
        peer_of[i] = -1;
    struct epoll_event evs[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(ep, evs, MAX_EVENTS, -1);
        if (n < 0 && errno != EINTR) {
            fprintf(stderr, "byte_relay: epoll_wait: %s\n", strerror(errno));
            return 1;
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == listener)
                (void)pair_up(ep, listener, &ua);
            else if (peer_of[fd] >= 0)
                relay(fd);
        }
    }
}
