/* test_predictor_policies.c — names of followed policies. */
#include "test.h"

#include <string.h>

#include "predictor/policies.h"

static bool valid(const char *s)
{
    return pred_k8s_name_valid(s, strlen(s));
}

TEST(predictor_policy_names_are_kubernetes_names)
{
    CHECK(valid("shop"));
    CHECK(valid("storefront-launch"));
    CHECK(valid("a.b-c9"));
    CHECK(valid("0"));
    CHECK(!valid(""));
    CHECK(!valid("Shop"));
    CHECK(!valid("-shop"));
    CHECK(!valid("shop-"));
    CHECK(!valid("sh/op"));
    CHECK(!valid("sh:op"));
    CHECK(!valid("sh op"));
    char long_name[300];
    memset(long_name, 'a', sizeof long_name);
    CHECK(pred_k8s_name_valid(long_name, PRED_NAME_MAX));
    CHECK(!pred_k8s_name_valid(long_name, PRED_NAME_MAX + 1));
}
