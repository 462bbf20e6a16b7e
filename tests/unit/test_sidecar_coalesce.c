/* test_sidecar_coalesce.c — the single-flight registry: one flight per
 * key, waiters in order, leaving from the middle, the flight limit. */
#include <stdio.h>
#include <string.h>

#include "test.h"

#include "sidecar/coalesce.h"

TEST(sidecar_coalesce_waiters_in_order_and_leave)
{
    sidecar_flights fl = { 0 };
    CHECK(sidecar_flight_find(&fl, "k", 1) == NULL);
    sidecar_flight *f = sidecar_flight_begin(&fl, "k", 1);
    REQUIRE(f);
    sidecar_flight *g = sidecar_flight_begin(&fl, "other", 5);
    REQUIRE(g);
    CHECK(sidecar_flight_find(&fl, "k", 1) == f);
    CHECK(sidecar_flight_find(&fl, "other", 5) == g);
    CHECK(sidecar_flight_find(&fl, "othe", 4) == NULL);
    sidecar_flight_waiter w[4] = { { 0 } };
    for (int i = 0; i < 4; i++)
        sidecar_flight_wait(f, &w[i]);
    CHECK_INT(f->nwaiters, 4);
    sidecar_flight_leave(&w[1]);
    sidecar_flight_leave(&w[1]); /* not waiting any more: no-op */
    CHECK(w[1].flight == NULL);
    CHECK_INT(f->nwaiters, 3);
    CHECK(sidecar_flight_pop(f) == &w[0]);
    CHECK(sidecar_flight_pop(f) == &w[2]);
    sidecar_flight_leave(&w[3]);
    CHECK(sidecar_flight_pop(f) == NULL);
    CHECK_INT(f->nwaiters, 0);
    sidecar_flight_end(&fl, f);
    CHECK(sidecar_flight_find(&fl, "k", 1) == NULL);
    CHECK_INT(fl.n, 1);
    sidecar_flight_end(&fl, g);
    CHECK_INT(fl.n, 0);
    CHECK(fl.head == NULL);
}

TEST(sidecar_coalesce_limit)
{
    sidecar_flights fl = { 0 };
    char key[16];
    for (int i = 0; i < SIDECAR_FLIGHTS_MAX; i++) {
        snprintf(key, sizeof key, "k%d", i);
        REQUIRE(sidecar_flight_begin(&fl, key, strlen(key)));
    }
    CHECK(sidecar_flight_begin(&fl, "one-more", 8) == NULL);
    while (fl.head)
        sidecar_flight_end(&fl, fl.head);
    CHECK_INT(fl.n, 0);
}
