/* runner.c — runs the registered tests (see test.h) and prints the closing
 * "N passed, N failed" line. Exit status 0 only when nothing failed. */
#include "test.h"

#include <stdlib.h>
#include <time.h>

struct test_case {
    const char *name;
    const char *file;
    test_fn *fn;
    size_t seq;
};

static struct test_case *cases;
static size_t ncases, cap;
static int current_failures;
static const char *current_skip;

void test_register(const char *name, test_fn *fn, const char *file)
{
    if (ncases == cap) {
        cap = cap ? cap * 2 : 64;
        cases = realloc(cases, cap * sizeof *cases);
        if (!cases)
            abort();
    }
    cases[ncases] = (struct test_case){ name, file, fn, ncases };
    ncases++;
}

void test_fail(const char *file, int line, const char *expr)
{
    fprintf(stderr, "    FAIL %s:%d: %s\n", file, line, expr);
    current_failures++;
}

void test_skip(const char *why)
{
    current_skip = why;
}

static int by_file(const void *a, const void *b)
{
    const struct test_case *x = a, *y = b;
    int c = strcmp(x->file, y->file);
    return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0, skipped = 0;
    /* Group by file, keeping each file's own order. */
    qsort(cases, ncases, sizeof *cases, by_file);
    for (size_t i = 0; i < ncases; i++) {
        if (filter && !strstr(cases[i].name, filter))
            continue;
        current_failures = 0;
        current_skip = NULL;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        cases[i].fn();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        if (current_failures) {
            failed++;
            printf("not ok %s (%.0f ms)\n", cases[i].name, ms);
        } else if (current_skip) {
            skipped++;
            printf("skip %s: %s\n", cases[i].name, current_skip);
        } else {
            passed++;
            printf("ok %s (%.0f ms)\n", cases[i].name, ms);
        }
        fflush(stdout);
    }
    free(cases);
    if (skipped)
        printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    else
        printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
