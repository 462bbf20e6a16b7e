/* test_k8s_path.c — API paths, query strings, status-to-error mapping,
 * retry backoff and name checks of the Kubernetes client. */
#include "test.h"
#include "k8s_client.h"
#include "common.h"

#include <stdlib.h>
#include <string.h>

static const k8s_res cms = K8S_RES("", "v1", "configmaps");
static const k8s_res deploys = K8S_RES("apps", "v1", "deployments");
static const k8s_res lps = K8S_RES("liftoff.dev", "v1alpha1", "launchpolicies");
static const k8s_res nodes = K8S_RES("", "v1", "nodes");

TEST(k8s_path_core_group_cluster_and_subresources)
{
    char *p;
    CHECK_STR(p = k8s_path(&cms, "default", "settings", NULL),
              "/api/v1/namespaces/default/configmaps/settings");
    free(p);
    CHECK_STR(p = k8s_path(&cms, "default", NULL, NULL), "/api/v1/namespaces/default/configmaps");
    free(p);
    CHECK_STR(p = k8s_path(&cms, NULL, NULL, NULL), "/api/v1/configmaps");
    free(p);
    CHECK_STR(p = k8s_path(&deploys, "shop", "web", "scale"),
              "/apis/apps/v1/namespaces/shop/deployments/web/scale");
    free(p);
    CHECK_STR(p = k8s_path(&lps, "shop", "launch", "status"),
              "/apis/liftoff.dev/v1alpha1/namespaces/shop/launchpolicies/launch/status");
    free(p);
    CHECK_STR(p = k8s_path(&nodes, NULL, "kwok-node-0", NULL), "/api/v1/nodes/kwok-node-0");
    free(p);
    /* A sub without a name is meaningless and dropped. */
    CHECK_STR(p = k8s_path(&cms, "a", NULL, "status"), "/api/v1/namespaces/a/configmaps");
    free(p);
    /* Segments are escaped: nothing can break out of its place. */
    CHECK_STR(p = k8s_path(&cms, "a b", "x/../y?z", NULL),
              "/api/v1/namespaces/a%20b/configmaps/x%2F..%2Fy%3Fz");
    free(p);
    CHECK_STR(p = k8s_path(&cms, NULL, "system:controller:x", NULL),
              "/api/v1/configmaps/system:controller:x");
    free(p);
}

TEST(k8s_url_query_is_escaped_and_chained)
{
    char *u = xstrdup("/api/v1/pods");
    k8s_url_add_query(&u, "labelSelector", "app=web,tier in (a,b)");
    CHECK_STR(u, "/api/v1/pods?labelSelector=app%3Dweb%2Ctier%20in%20%28a%2Cb%29");
    k8s_url_add_query(&u, "limit", "10");
    k8s_url_add_query(&u, "continue", NULL); /* nothing */
    k8s_url_add_query(&u, "continue", "eyJ2Ijo+/=");
    CHECK_STR(u, "/api/v1/pods?labelSelector=app%3Dweb%2Ctier%20in%20%28a%2Cb%29&limit=10"
                 "&continue=eyJ2Ijo%2B%2F%3D");
    free(u);
}

TEST(k8s_status_rc_maps_every_class)
{
    CHECK_INT(k8s_status_rc(200, NULL), 0);
    CHECK_INT(k8s_status_rc(201, NULL), 0);
    CHECK_INT(k8s_status_rc(400, "BadRequest"), K8S_EBADREQUEST);
    CHECK_INT(k8s_status_rc(401, NULL), K8S_EUNAUTHORIZED);
    CHECK_INT(k8s_status_rc(403, "Forbidden"), K8S_EFORBIDDEN);
    CHECK_INT(k8s_status_rc(404, "NotFound"), K8S_ENOTFOUND);
    CHECK_INT(k8s_status_rc(405, NULL), K8S_ENOTALLOWED);
    CHECK_INT(k8s_status_rc(409, "AlreadyExists"), K8S_EEXISTS);
    CHECK_INT(k8s_status_rc(409, "Conflict"), K8S_ECONFLICT);
    CHECK_INT(k8s_status_rc(409, NULL), K8S_ECONFLICT);
    CHECK_INT(k8s_status_rc(410, "Expired"), K8S_EGONE);
    CHECK_INT(k8s_status_rc(413, NULL), K8S_ETOOLARGE);
    CHECK_INT(k8s_status_rc(415, NULL), K8S_EBADREQUEST);
    CHECK_INT(k8s_status_rc(422, "Invalid"), K8S_EBADREQUEST);
    CHECK_INT(k8s_status_rc(429, "TooManyRequests"), K8S_ETOOMANY);
    CHECK_INT(k8s_status_rc(500, "InternalError"), K8S_ESERVER);
    CHECK_INT(k8s_status_rc(502, NULL), K8S_ESERVER);
    CHECK_INT(k8s_status_rc(503, "ServiceUnavailable"), K8S_EUNAVAILABLE);
    CHECK_INT(k8s_status_rc(504, "Timeout"), K8S_ETIMEOUT);
    CHECK_INT(k8s_status_rc(0, NULL), K8S_ESERVER);
    CHECK_INT(k8s_status_rc(302, NULL), K8S_ESERVER);
    /* Distinct codes for what callers branch on. */
    CHECK(K8S_EEXISTS != K8S_ECONFLICT && K8S_ECONFLICT != K8S_EGONE &&
          K8S_ENOTFOUND != K8S_EGONE && K8S_ETOOMANY != K8S_EUNAVAILABLE);
}

TEST(k8s_backoff_doubles_caps_and_jitters)
{
    CHECK_INT(k8s_backoff_ms(1, 200, 10000, 0), 200);
    CHECK_INT(k8s_backoff_ms(2, 200, 10000, 0), 400);
    CHECK_INT(k8s_backoff_ms(3, 200, 10000, 0), 800);
    CHECK_INT(k8s_backoff_ms(6, 200, 10000, 0), 6400);
    CHECK_INT(k8s_backoff_ms(7, 200, 10000, 0), 10000);
    CHECK_INT(k8s_backoff_ms(0, 200, 10000, 0), 200);        /* 0 counts as the first */
    CHECK_INT(k8s_backoff_ms(64, 200, 10000, 0), 10000);     /* no shift overflow */
    CHECK_INT(k8s_backoff_ms(4000000000u, 200, 10000, 0), 10000);
    CHECK_INT(k8s_backoff_ms(1, 0, 10000, 0), 1);             /* never zero */
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < 2000; i++) {
        uint64_t d = k8s_backoff_ms(3, 200, 10000, 0.2);
        lo = LO_MIN(lo, d);
        hi = LO_MAX(hi, d);
    }
    CHECK(lo >= 640 && hi <= 960);  /* 800 +- 20 % */
    CHECK(hi > lo);                 /* it does spread */
    for (int i = 0; i < 200; i++)
        CHECK(k8s_backoff_ms(30, 200, 10000, 0.2) <= 12000);
}

TEST(k8s_name_valid_rejects_path_tricks)
{
    CHECK(k8s_name_valid("web"));
    CHECK(k8s_name_valid("kube-system"));
    CHECK(k8s_name_valid("system:controller:x"));
    CHECK(k8s_name_valid("a.b-c"));
    CHECK(!k8s_name_valid(NULL));
    CHECK(!k8s_name_valid(""));
    CHECK(!k8s_name_valid("."));
    CHECK(!k8s_name_valid(".."));
    CHECK(!k8s_name_valid("a/b"));
    CHECK(!k8s_name_valid("a%2Fb"));
    CHECK(!k8s_name_valid("a b"));
    CHECK(!k8s_name_valid("a\nb"));
    char long_name[K8S_NAME_MAX + 2];
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    CHECK(!k8s_name_valid(long_name));
    long_name[K8S_NAME_MAX] = '\0';
    CHECK(k8s_name_valid(long_name));
}

TEST(k8s_meta_str_reads_metadata)
{
    json_t *o = json_pack("{s:{s:s,s:s}}", "metadata", "name", "web", "resourceVersion", "42");
    CHECK_STR(k8s_meta_str(o, "name"), "web");
    CHECK_STR(k8s_meta_str(o, "resourceVersion"), "42");
    CHECK(k8s_meta_str(o, "namespace") == NULL);
    CHECK(k8s_meta_str(NULL, "name") == NULL);
    json_decref(o);
}
