/* ev.c — epoll event loop with a timer heap (see ev.h). */
#include "ev.h"
#include "common.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#define EV_MAX_EVENTS 256
#define EV_MAX_SIGNAL 65

struct fd_slot {
    ev_io_cb *cb;
    void *arg;
    unsigned events;     /* what the caller asked for */
    bool registered;     /* known to the loop (ev_io_set called) */
    bool in_epoll;       /* in the epoll set: only while events != 0, since
                          * epoll reports hang-ups even for an empty mask */
};

struct deferred {
    ev_defer_cb *cb;
    void *arg;
};

struct ev_loop {
    int epfd;
    bool stopping;
    uint64_t now_ms;

    struct fd_slot *fds;
    size_t nfds;

    ev_timer **heap;     /* 1-based binary min-heap on key_ms */
    size_t heap_len;
    size_t heap_cap;

    struct deferred *defer;
    size_t defer_len, defer_cap;

    int sigfd;
    sigset_t sigmask;
    ev_signal_cb *sig_cb[EV_MAX_SIGNAL];
    void *sig_arg[EV_MAX_SIGNAL];
};

ev_loop *ev_loop_new(void)
{
    ev_loop *loop = xcalloc(1, sizeof *loop);
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (loop->epfd < 0) {
        free(loop);
        return NULL;
    }
    loop->sigfd = -1;
    sigemptyset(&loop->sigmask);
    loop->heap_cap = 64;
    loop->heap = xmalloc(loop->heap_cap * sizeof *loop->heap);
    loop->now_ms = lo_mono_ms();
    return loop;
}

void ev_loop_free(ev_loop *loop)
{
    if (!loop)
        return;
    if (loop->sigfd >= 0)
        close(loop->sigfd);
    close(loop->epfd);
    free(loop->fds);
    free(loop->heap);
    free(loop->defer);
    free(loop);
}

uint64_t ev_now(const ev_loop *loop) { return loop->now_ms; }
void ev_update_time(ev_loop *loop) { loop->now_ms = lo_mono_ms(); }
void ev_stop(ev_loop *loop) { loop->stopping = true; }

/* ---- file descriptors ---- */

static struct fd_slot *slot_for(ev_loop *loop, int fd)
{
    if ((size_t)fd >= loop->nfds) {
        size_t n = loop->nfds ? loop->nfds : 64;
        while (n <= (size_t)fd)
            n *= 2;
        loop->fds = xrealloc(loop->fds, n * sizeof *loop->fds);
        memset(loop->fds + loop->nfds, 0, (n - loop->nfds) * sizeof *loop->fds);
        loop->nfds = n;
    }
    return &loop->fds[fd];
}

static uint32_t epoll_mask(unsigned events)
{
    uint32_t m = 0;
    if (events & EV_READ)
        m |= EPOLLIN | EPOLLRDHUP;
    if (events & EV_WRITE)
        m |= EPOLLOUT;
    return m;
}

static int apply_mask(ev_loop *loop, int fd, struct fd_slot *s, unsigned events)
{
    if (events == 0) {
        if (s->in_epoll && epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL) < 0)
            return -errno;
        s->in_epoll = false;
    } else {
        struct epoll_event ee = { .events = epoll_mask(events), .data.fd = fd };
        int op = s->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
        if (epoll_ctl(loop->epfd, op, fd, &ee) < 0)
            return -errno;
        s->in_epoll = true;
    }
    s->registered = true;
    s->events = events;
    return 0;
}

int ev_io_set(ev_loop *loop, int fd, unsigned events, ev_io_cb *cb, void *arg)
{
    if (fd < 0)
        return -EBADF;
    struct fd_slot *s = slot_for(loop, fd);
    s->cb = cb;
    s->arg = arg;
    if (s->registered && s->events == events)
        return 0;
    return apply_mask(loop, fd, s, events);
}

int ev_io_events(ev_loop *loop, int fd, unsigned events)
{
    if (fd < 0 || (size_t)fd >= loop->nfds || !loop->fds[fd].registered)
        return -EBADF;
    struct fd_slot *s = &loop->fds[fd];
    if (s->events == events)
        return 0;
    return apply_mask(loop, fd, s, events);
}

void ev_io_del(ev_loop *loop, int fd)
{
    if (fd < 0 || (size_t)fd >= loop->nfds || !loop->fds[fd].registered)
        return;
    if (loop->fds[fd].in_epoll)
        epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
    memset(&loop->fds[fd], 0, sizeof loop->fds[fd]);
}

/* ---- timers ---- */

static void heap_set(ev_loop *loop, size_t i, ev_timer *t)
{
    loop->heap[i] = t;
    t->heap_index = i;
}

static void heap_up(ev_loop *loop, size_t i)
{
    ev_timer *t = loop->heap[i];
    while (i > 1 && loop->heap[i / 2]->key_ms > t->key_ms) {
        heap_set(loop, i, loop->heap[i / 2]);
        i /= 2;
    }
    heap_set(loop, i, t);
}

static void heap_down(ev_loop *loop, size_t i)
{
    ev_timer *t = loop->heap[i];
    for (;;) {
        size_t c = 2 * i;
        if (c > loop->heap_len)
            break;
        if (c + 1 <= loop->heap_len && loop->heap[c + 1]->key_ms < loop->heap[c]->key_ms)
            c++;
        if (loop->heap[c]->key_ms >= t->key_ms)
            break;
        heap_set(loop, i, loop->heap[c]);
        i = c;
    }
    heap_set(loop, i, t);
}

void ev_timer_init(ev_timer *t, ev_timer_cb *cb, void *arg)
{
    t->due_ms = 0;
    t->key_ms = 0;
    t->heap_index = 0;
    t->cb = cb;
    t->arg = arg;
}

void ev_timer_stop(ev_loop *loop, ev_timer *t)
{
    size_t i = t->heap_index;
    if (i == 0)
        return;
    ev_timer *last = loop->heap[loop->heap_len--];
    t->heap_index = 0;
    if (last == t)
        return;
    heap_set(loop, i, last);
    heap_up(loop, i);
    heap_down(loop, last->heap_index);
}

void ev_timer_start(ev_loop *loop, ev_timer *t, uint64_t after_ms)
{
    uint64_t due = loop->now_ms + after_ms;
    t->due_ms = due;
    if (t->heap_index != 0) {
        /* Re-arming (per request, per read): a later deadline waits for the
         * current key to come up (see run_timers); only an earlier one moves. */
        if (due < t->key_ms) {
            t->key_ms = due;
            heap_up(loop, t->heap_index);
        }
        return;
    }
    t->key_ms = due;
    if (loop->heap_len + 1 >= loop->heap_cap) {
        loop->heap_cap *= 2;
        loop->heap = xrealloc(loop->heap, loop->heap_cap * sizeof *loop->heap);
    }
    heap_set(loop, ++loop->heap_len, t);
    heap_up(loop, loop->heap_len);
}

static void run_timers(ev_loop *loop)
{
    while (loop->heap_len > 0 && loop->heap[1]->key_ms <= loop->now_ms) {
        ev_timer *t = loop->heap[1];
        if (t->due_ms > loop->now_ms) { /* re-armed later meanwhile */
            t->key_ms = t->due_ms;
            heap_down(loop, 1);
            continue;
        }
        ev_timer_stop(loop, t);
        t->cb(loop, t, t->arg);
    }
}

static int next_timeout(const ev_loop *loop, int cap_ms)
{
    if (loop->defer_len > 0)
        return 0;
    if (loop->heap_len == 0)
        return cap_ms;
    uint64_t due = loop->heap[1]->key_ms; /* at worst a wake-up that re-keys */
    uint64_t wait = due > loop->now_ms ? due - loop->now_ms : 0;
    if (cap_ms >= 0 && wait > (uint64_t)cap_ms)
        return cap_ms;
    return wait > 3600000u ? 3600000 : (int)wait;
}

/* ---- deferred callbacks ---- */

void ev_defer(ev_loop *loop, ev_defer_cb *cb, void *arg)
{
    if (loop->defer_len == loop->defer_cap) {
        loop->defer_cap = loop->defer_cap ? loop->defer_cap * 2 : 16;
        loop->defer = xrealloc(loop->defer, loop->defer_cap * sizeof *loop->defer);
    }
    loop->defer[loop->defer_len++] = (struct deferred){ cb, arg };
}

static void run_deferred(ev_loop *loop)
{
    /* Callbacks may defer more work: that runs in the next iteration. */
    size_t n = loop->defer_len;
    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++)
        loop->defer[i].cb(loop->defer[i].arg);
    memmove(loop->defer, loop->defer + n, (loop->defer_len - n) * sizeof *loop->defer);
    loop->defer_len -= n;
}

/* ---- signals ---- */

static void on_signalfd(ev_loop *loop, int fd, unsigned events, void *arg)
{
    LO_UNUSED(events);
    LO_UNUSED(arg);
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
        int signo = (int)si.ssi_signo;
        if (signo > 0 && signo < EV_MAX_SIGNAL && loop->sig_cb[signo])
            loop->sig_cb[signo](loop, signo, loop->sig_arg[signo]);
    }
}

int ev_signal(ev_loop *loop, int signo, ev_signal_cb *cb, void *arg)
{
    if (signo <= 0 || signo >= EV_MAX_SIGNAL)
        return -EINVAL;
    sigaddset(&loop->sigmask, signo);
    if (sigprocmask(SIG_BLOCK, &loop->sigmask, NULL) < 0)
        return -errno;
    int fd = signalfd(loop->sigfd, &loop->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (loop->sigfd < 0) {
        loop->sigfd = fd;
        int rc = ev_io_set(loop, fd, EV_READ, on_signalfd, NULL);
        if (rc < 0)
            return rc;
    }
    loop->sig_cb[signo] = cb;
    loop->sig_arg[signo] = arg;
    return 0;
}

/* ---- running ---- */

int ev_run_once(ev_loop *loop, int timeout_ms)
{
    struct epoll_event events[EV_MAX_EVENTS];
    int n = epoll_wait(loop->epfd, events, EV_MAX_EVENTS, next_timeout(loop, timeout_ms));
    if (n < 0 && errno != EINTR)
        return -errno;
    loop->now_ms = lo_mono_ms();
    for (int i = 0; i < n; i++) {
        int fd = events[i].data.fd;
        if ((size_t)fd >= loop->nfds)
            continue;
        struct fd_slot *s = &loop->fds[fd];
        if (!s->registered || !s->cb)
            continue; /* removed by an earlier callback in this batch */
        uint32_t e = events[i].events;
        unsigned ready = 0;
        if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            ready |= EV_READ;
        if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
            ready |= EV_WRITE;
        ready &= s->events;
        if (ready)
            s->cb(loop, fd, ready, s->arg);
    }
    run_timers(loop);
    run_deferred(loop);
    return 0;
}

int ev_run(ev_loop *loop)
{
    loop->stopping = false;
    while (!loop->stopping) {
        int rc = ev_run_once(loop, -1);
        if (rc < 0)
            return rc;
    }
    return 0;
}
