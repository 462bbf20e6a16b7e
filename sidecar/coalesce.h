/*
 * coalesce.h — single-flight fills for the micro-cache: while one request
 * fetches a key from the origin (the flight), other requests for the same
 * key wait on it instead of going to the origin themselves. Pure data
 * structure: intrusive waiters, no I/O, no timers (the caller keeps each
 * waiter's deadline).
 *
 * Ownership: the registry owns its flights (and their key copies); waiters
 * are embedded in the caller's request state. A flight is ended by its
 * filler with sidecar_flight_end() after popping its waiters.
 */
#ifndef LIFTOFF_SIDECAR_COALESCE_H
#define LIFTOFF_SIDECAR_COALESCE_H

#include <stdbool.h>
#include <stddef.h>

#define SIDECAR_FLIGHTS_MAX 4096        /* fills at once; more are not coalesced */
#define SIDECAR_COALESCE_WAIT_MS 5000u  /* how long a waiter waits for a fill */

typedef struct sidecar_flight sidecar_flight;

typedef struct sidecar_flight_waiter {
    struct sidecar_flight_waiter *prev, *next;
    sidecar_flight *flight;     /* NULL when not waiting */
} sidecar_flight_waiter;

struct sidecar_flight {
    char *key;
    size_t key_len;
    sidecar_flight_waiter *head, *tail;
    size_t nwaiters;
    struct sidecar_flight *prev, *next;
};

typedef struct sidecar_flights {
    sidecar_flight *head;
    size_t n;
} sidecar_flights;

/* The flight for key, or NULL. */
sidecar_flight *sidecar_flight_find(sidecar_flights *fl, const char *key, size_t key_len);
/* Starts a flight for key (copied); NULL when SIDECAR_FLIGHTS_MAX are up. */
sidecar_flight *sidecar_flight_begin(sidecar_flights *fl, const char *key, size_t key_len);
/* Adds w (not waiting elsewhere) at the end of f's waiters. */
void sidecar_flight_wait(sidecar_flight *f, sidecar_flight_waiter *w);
/* Takes w off its flight's list; no-op when it is not waiting. */
void sidecar_flight_leave(sidecar_flight_waiter *w);
/* Takes the first waiter off f, or NULL when none is left. */
sidecar_flight_waiter *sidecar_flight_pop(sidecar_flight *f);
/* Ends f (its waiters must have been popped) and frees it. */
void sidecar_flight_end(sidecar_flights *fl, sidecar_flight *f);

#endif
