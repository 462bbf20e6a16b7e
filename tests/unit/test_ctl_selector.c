/* test_ctl_selector.c — LabelSelector objects as selector strings. */
#include "test.h"

#include <errno.h>
#include <string.h>

#include "controller/selector.h"

static int conv(const char *json, char *out, size_t len)
{
    json_t *o = json_loads(json, 0, NULL);
    int rc = ctl_selector_string(o, out, len);
    json_decref(o);
    return rc;
}

TEST(ctl_selector_match_labels_and_expressions)
{
    char s[256];
    CHECK_INT(conv("{\"matchLabels\":{\"app\":\"web\",\"tier\":\"fe\"}}", s, sizeof s), 15);
    CHECK_STR(s, "app=web,tier=fe");
    REQUIRE(conv("{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":["
                 "{\"key\":\"env\",\"operator\":\"In\",\"values\":[\"a\",\"b\"]},"
                 "{\"key\":\"x\",\"operator\":\"NotIn\",\"values\":[\"c\"]},"
                 "{\"key\":\"canary\",\"operator\":\"DoesNotExist\"},"
                 "{\"key\":\"team\",\"operator\":\"Exists\"}]}", s, sizeof s) > 0);
    CHECK_STR(s, "app=web,env in (a,b),x notin (c),!canary,team");
    CHECK_INT(conv("{}", s, sizeof s), 0);
    CHECK_STR(s, "");
}

TEST(ctl_selector_rejects_bad_and_too_long)
{
    char s[8];
    CHECK_INT(conv("[]", s, sizeof s), -EINVAL);
    CHECK_INT(conv("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Near\"}]}", s, sizeof s),
              -EINVAL);
    CHECK_INT(conv("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[]}]}", s,
                   sizeof s), -EINVAL);
    CHECK_INT(conv("{\"matchLabels\":{\"app\":\"a-long-name\"}}", s, sizeof s), -ENOSPC);
    CHECK_STR(s, "");
}
