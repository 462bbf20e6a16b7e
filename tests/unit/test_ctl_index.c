/* test_ctl_index.c — the controller's string multimap. */
#include "test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "controller/index.h"

static void count(void *val, void *arg)
{
    (void)val;
    (*(int *)arg)++;
}

TEST(ctl_index_maps_keys_to_several_values)
{
    ctl_index ix;
    int a, b, c;
    ctl_index_init(&ix);
    CHECK(ctl_index_get(&ix, "ns/x") == NULL);
    ctl_index_add(&ix, "ns/x", &a);
    ctl_index_add(&ix, "ns/x", &b);
    ctl_index_add(&ix, "ns/x", &a);   /* the same pair once */
    ctl_index_add(&ix, "ns/y", &c);
    CHECK_INT(ix.len, 3);
    int n = 0;
    ctl_index_each(&ix, "ns/x", count, &n);
    CHECK_INT(n, 2);
    CHECK(ctl_index_get(&ix, "ns/y") == &c);
    CHECK_INT(ctl_index_del(&ix, "ns/x", &c), -ENOENT);
    CHECK_INT(ctl_index_del(&ix, "ns/x", &a), 0);
    CHECK(ctl_index_get(&ix, "ns/x") == &b);
    CHECK_INT(ctl_index_del(&ix, "ns/x", &b), 0);
    CHECK(ctl_index_get(&ix, "ns/x") == NULL);
    ctl_index_free(&ix, NULL);
}

static bool is_str(const void *val, const void *arg)
{
    return strcmp(val, arg) == 0;
}

TEST(ctl_index_finds_by_value_and_frees_values)
{
    ctl_index ix;
    ctl_index_init(&ix);
    ctl_index_add(&ix, "ns/web", strdup("hpa-a"));
    ctl_index_add(&ix, "ns/web", strdup("hpa-b"));
    char *v = ctl_index_find(&ix, "ns/web", is_str, "hpa-b");
    REQUIRE(v != NULL);
    CHECK_STR(v, "hpa-b");
    CHECK(ctl_index_find(&ix, "ns/web", is_str, "hpa-c") == NULL);
    CHECK(ctl_index_find(&ix, "ns/api", is_str, "hpa-a") == NULL);
    CHECK_INT(ctl_index_del(&ix, "ns/web", v), 0);
    free(v);
    ctl_index_free(&ix, free);   /* hpa-a: valgrind sees it freed */
}

TEST(ctl_index_grows_and_keeps_everything)
{
    ctl_index ix;
    static int vals[5000];
    char key[64];
    ctl_index_init(&ix);
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "bench/app-%04d", i);
        ctl_index_add(&ix, key, &vals[i]);
    }
    CHECK_INT(ix.len, 5000);
    CHECK(ix.nbuckets >= 5000);
    int found = 0;
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "bench/app-%04d", i);
        found += ctl_index_get(&ix, key) == &vals[i];
    }
    CHECK_INT(found, 5000);
    ctl_index_key(key, sizeof key, "shop", "web");
    CHECK_STR(key, "shop/web");
    ctl_index_free(&ix, NULL);
}
