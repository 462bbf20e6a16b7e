/* test_k8s_lease.c — the Lease record of the leader election: parsing,
 * the expiry rule on the observer's clock, the objects a candidate writes
 * (claim, renew, release) and the option checks. */
#include "test.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "k8s_lease.h"

#define NOW 1700000000123ULL   /* 2023-11-14T22:13:20.123Z */

static json_t *lease(const char *holder, int dur, const char *renew, int transitions)
{
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:i, s:s, s:s, s:i}}", "apiVersion",
                     "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name", "ctl",
                     "namespace", "sys", "resourceVersion", "42", "spec", "holderIdentity",
                     holder, "leaseDurationSeconds", dur, "acquireTime",
                     "2023-11-14T22:00:00.000000Z", "renewTime", renew, "leaseTransitions",
                     transitions);
}

static const char *spec_str(const json_t *obj, const char *k)
{
    return json_string_value(json_object_get(json_object_get(obj, "spec"), k));
}

static json_int_t spec_int(const json_t *obj, const char *k)
{
    return json_integer_value(json_object_get(json_object_get(obj, "spec"), k));
}

TEST(k8s_lease_record_parse_fields)
{
    json_t *l = lease("a", 15, "2023-11-14T22:13:00.000000Z", 3);
    k8s_lease_record r;
    REQUIRE(k8s_lease_record_parse(l, &r) == 0);
    CHECK_STR(r.holder, "a");
    CHECK_INT(r.duration_s, 15);
    CHECK_INT(r.transitions, 3);
    CHECK_STR(r.renew_time, "2023-11-14T22:13:00.000000Z");
    CHECK_STR(r.acquire_time, "2023-11-14T22:00:00.000000Z");
    json_decref(l);
}

TEST(k8s_lease_record_parse_rejects_bad_objects)
{
    k8s_lease_record r;
    json_t *nospec = json_pack("{s:{s:s}}", "metadata", "name", "x");
    CHECK_INT(k8s_lease_record_parse(nospec, &r), -EINVAL);
    json_decref(nospec);
    char big[K8S_LEASE_IDENTITY_MAX + 8];
    memset(big, 'h', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    json_t *l = lease(big, 15, "", 0);
    CHECK_INT(k8s_lease_record_parse(l, &r), -EINVAL);
    json_decref(l);
    /* an empty spec is a free Lease */
    json_t *empty = json_pack("{s:{}}", "spec");
    REQUIRE(k8s_lease_record_parse(empty, &r) == 0);
    CHECK_STR(r.holder, "");
    json_decref(empty);
}

TEST(k8s_lease_expiry_counts_from_the_first_sight_of_a_record)
{
    k8s_lease_observed o = { 0 };
    k8s_lease_record r = { .holder = "a", .duration_s = 15, .renew_time = "t1" };
    k8s_lease_observe(&o, &r, 1000);
    CHECK(k8s_lease_held_by_other(&o, "b", 1000));
    /* the same record read again does not move the clock */
    k8s_lease_observe(&o, &r, 10000);
    CHECK(k8s_lease_held_by_other(&o, "b", 15999));
    CHECK(!k8s_lease_held_by_other(&o, "b", 16000));
    /* a renewal (new renewTime) restarts it */
    snprintf(r.renew_time, sizeof r.renew_time, "t2");
    k8s_lease_observe(&o, &r, 17000);
    CHECK(k8s_lease_held_by_other(&o, "b", 17000));
    CHECK(k8s_lease_held_by_other(&o, "b", 31999));
    CHECK(!k8s_lease_held_by_other(&o, "b", 32000));
}

TEST(k8s_lease_own_empty_and_unseen_leases_are_not_held_by_other)
{
    k8s_lease_observed o = { 0 };
    CHECK(!k8s_lease_held_by_other(&o, "b", 0));
    k8s_lease_record r = { .holder = "b", .duration_s = 15 };
    k8s_lease_observe(&o, &r, 1000);
    CHECK(!k8s_lease_held_by_other(&o, "b", 1000));
    CHECK(k8s_lease_held_by_other(&o, "c", 1000));
    k8s_lease_record freed = { .holder = "", .duration_s = 1 };
    k8s_lease_observe(&o, &freed, 2000);
    CHECK(!k8s_lease_held_by_other(&o, "c", 2000));
    /* a missing duration counts as one second */
    k8s_lease_record nodur = { .holder = "a" };
    k8s_lease_observe(&o, &nodur, 3000);
    CHECK(k8s_lease_held_by_other(&o, "c", 3999));
    CHECK(!k8s_lease_held_by_other(&o, "c", 4000));
}

TEST(k8s_lease_time_format_micro)
{
    char t[K8S_LEASE_TIME_MAX];
    k8s_lease_time_format(NOW, t);
    CHECK_STR(t, "2023-11-14T22:13:20.123000Z");
}

TEST(k8s_lease_claim_of_a_new_lease)
{
    json_t *o = k8s_lease_claim_build(NULL, "sys", "ctl", "me", 15, NOW);
    REQUIRE(o != NULL);
    CHECK_STR(json_string_value(json_object_get(o, "kind")), "Lease");
    CHECK_STR(json_string_value(json_object_get(json_object_get(o, "metadata"), "name")), "ctl");
    CHECK_STR(json_string_value(json_object_get(json_object_get(o, "metadata"), "namespace")),
              "sys");
    CHECK_STR(spec_str(o, "holderIdentity"), "me");
    CHECK_INT(spec_int(o, "leaseDurationSeconds"), 15);
    CHECK_STR(spec_str(o, "renewTime"), "2023-11-14T22:13:20.123000Z");
    CHECK_STR(spec_str(o, "acquireTime"), "2023-11-14T22:13:20.123000Z");
    CHECK_INT(spec_int(o, "leaseTransitions"), 0);
    json_decref(o);
}

TEST(k8s_lease_renewal_keeps_acquire_time_and_transitions)
{
    json_t *l = lease("me", 15, "2023-11-14T22:13:00.000000Z", 4);
    json_t *o = k8s_lease_claim_build(l, "sys", "ctl", "me", 15, NOW);
    CHECK_STR(spec_str(o, "acquireTime"), "2023-11-14T22:00:00.000000Z");
    CHECK_STR(spec_str(o, "renewTime"), "2023-11-14T22:13:20.123000Z");
    CHECK_INT(spec_int(o, "leaseTransitions"), 4);
    /* the resourceVersion read guards the write */
    CHECK_STR(json_string_value(json_object_get(json_object_get(o, "metadata"),
                                                "resourceVersion")), "42");
    json_decref(o);
    json_decref(l);
}

TEST(k8s_lease_takeover_counts_a_transition)
{
    json_t *l = lease("other", 15, "2023-11-14T22:13:00.000000Z", 4);
    json_t *o = k8s_lease_claim_build(l, "sys", "ctl", "me", 20, NOW);
    CHECK_STR(spec_str(o, "holderIdentity"), "me");
    CHECK_INT(spec_int(o, "leaseDurationSeconds"), 20);
    CHECK_STR(spec_str(o, "acquireTime"), "2023-11-14T22:13:20.123000Z");
    CHECK_INT(spec_int(o, "leaseTransitions"), 5);
    /* the original is untouched */
    CHECK_STR(spec_str(l, "holderIdentity"), "other");
    json_decref(o);
    json_decref(l);
}

TEST(k8s_lease_release_frees_the_lease)
{
    json_t *l = lease("me", 15, "2023-11-14T22:13:00.000000Z", 4);
    json_t *o = k8s_lease_release_build(l, NOW);
    REQUIRE(o != NULL);
    CHECK_STR(spec_str(o, "holderIdentity"), "");
    CHECK_INT(spec_int(o, "leaseDurationSeconds"), 1);
    CHECK_INT(spec_int(o, "leaseTransitions"), 4);
    CHECK_STR(spec_str(o, "renewTime"), "2023-11-14T22:13:20.123000Z");
    CHECK_STR(json_string_value(json_object_get(json_object_get(o, "metadata"),
                                                "resourceVersion")), "42");
    CHECK(k8s_lease_release_build(NULL, NOW) == NULL);
    json_decref(o);
    json_decref(l);
}

TEST(k8s_lease_opts_check_orders_the_durations)
{
    char err[256];
    k8s_lease_opts o = { .ns = "sys", .name = "ctl", .identity = "me" };
    CHECK_INT(k8s_lease_opts_check(&o, err, sizeof err), 0);   /* 15 s, 10 s, 2 s */
    o.duration_ms = 10000;                                      /* not above the deadline */
    CHECK_INT(k8s_lease_opts_check(&o, err, sizeof err), -EINVAL);
    o.duration_ms = 15500;                                      /* not whole seconds */
    CHECK_INT(k8s_lease_opts_check(&o, err, sizeof err), -EINVAL);
    o.duration_ms = 6000;
    o.renew_deadline_ms = 4000;
    o.retry_ms = 4000;                                          /* 1.2 x retry > deadline */
    CHECK_INT(k8s_lease_opts_check(&o, err, sizeof err), -EINVAL);
    o.retry_ms = 1000;
    CHECK_INT(k8s_lease_opts_check(&o, err, sizeof err), 0);
    o.identity = "";
    CHECK_INT(k8s_lease_opts_check(&o, err, sizeof err), -EINVAL);
    o.identity = "me";
    o.ns = "Not/A/Name";
    CHECK_INT(k8s_lease_opts_check(&o, err, sizeof err), -EINVAL);
}

TEST(k8s_lease_default_identity_pod_name_or_host_pid)
{
    char id[K8S_LEASE_IDENTITY_MAX], pid[32];
    const char *saved = getenv("POD_NAME");
    char *keep = saved ? strdup(saved) : NULL;
    setenv("POD_NAME", "liftoff-controller-7d9f", 1);
    k8s_lease_default_identity(id, sizeof id);
    CHECK_STR(id, "liftoff-controller-7d9f");
    unsetenv("POD_NAME");
    k8s_lease_default_identity(id, sizeof id);
    snprintf(pid, sizeof pid, "_%ld", (long)getpid());
    CHECK(strlen(id) > strlen(pid));
    CHECK_STR(id + strlen(id) - strlen(pid), pid);
    if (keep)
        setenv("POD_NAME", keep, 1);
    free(keep);
}
