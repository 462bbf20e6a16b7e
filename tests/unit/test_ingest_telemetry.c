/* test_ingest_telemetry.c — the events counter by type and source, with
 * more types than the recent-type cache holds. */
#include "test.h"

#include <stdio.h>

#include "buf.h"
#include "ingest/telemetry.h"

TEST(ingest_tm_events_by_type_and_source)
{
    ingest_tm *t = ingest_tm_new(NULL, NULL);
    char type[16], want[128];
    /* 12 types in turn, three rounds: the cache of 8 keeps replacing */
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 12; i++) {
            snprintf(type, sizeof type, "t%d", i);
            for (int k = 0; k <= i; k++)
                ingest_tm_event(t, type, INGEST_SRC_WEBHOOK);
        }
    ingest_tm_event(t, "t0", INGEST_SRC_SITE);
    buf_t b;
    buf_init(&b, 4096);
    REQUIRE(ingest_tm_write(t, &b) == 0);
    buf_append(&b, "", 1);
    for (int i = 0; i < 12; i++) {
        snprintf(want, sizeof want,
                 "liftoff_ingest_events_total{type=\"t%d\",source=\"webhook\"} %d\n", i,
                 3 * (i + 1));
        CHECK(strstr(buf_data(&b), want) != NULL);
    }
    CHECK(strstr(buf_data(&b), "liftoff_ingest_events_total{type=\"t0\",source=\"site\"} 1\n") !=
          NULL);
    buf_free(&b);
    ingest_tm_free(t);
}
