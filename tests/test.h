/*
 * test.h — liftoff's tiny test framework. A test file defines tests with
 * TEST(name) { ... }; they register themselves at start-up, so adding a test
 * file to tests/unit/ or tests/integration/ is all it takes (the Makefile
 * picks up every test_*.c). The runner (tests/runner.c) runs them in file
 * order, or those whose name contains argv[1], and ends with the line
 * "N passed, N failed".
 *
 * CHECK(cond) records a failure and goes on; REQUIRE(cond) records it and
 * leaves the test; both print file:line and the expression.
 */
#ifndef LIFTOFF_TEST_H
#define LIFTOFF_TEST_H

#include <stdio.h>
#include <string.h>

typedef void test_fn(void);
void test_register(const char *name, test_fn *fn, const char *file);
void test_fail(const char *file, int line, const char *expr);
/* Marks the running test skipped (e.g. a peer binary is missing); the runner
 * counts it apart and says why. */
void test_skip(const char *why);

#define TEST(name)                                                            \
    static void test_##name(void);                                            \
    __attribute__((constructor)) static void test_register_##name(void)       \
    {                                                                         \
        test_register(#name, test_##name, __FILE__);                          \
    }                                                                         \
    static void test_##name(void)

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond))                                                          \
            test_fail(__FILE__, __LINE__, #cond);                             \
    } while (0)

#define REQUIRE(cond)                                                         \
    do {                                                                      \
        if (!(cond)) {                                                        \
            test_fail(__FILE__, __LINE__, #cond);                             \
            return;                                                           \
        }                                                                     \
    } while (0)

#define CHECK_STR(a, b)                                                       \
    do {                                                                      \
        const char *a_ = (a), *b_ = (b);                                      \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                              \
            fprintf(stderr, "    got \"%s\", want \"%s\"\n",                  \
                    a_ ? a_ : "(null)", b_ ? b_ : "(null)");                  \
            test_fail(__FILE__, __LINE__, #a " == " #b);                      \
        }                                                                     \
    } while (0)

#define CHECK_INT(a, b)                                                       \
    do {                                                                      \
        long long a_ = (long long)(a), b_ = (long long)(b);                   \
        if (a_ != b_) {                                                       \
            fprintf(stderr, "    got %lld, want %lld\n", a_, b_);             \
            test_fail(__FILE__, __LINE__, #a " == " #b);                      \
        }                                                                     \
    } while (0)

#endif
