/* test_predictor_policy_crd.c — the LaunchPolicy CRD and the full example
 * against what the predictor reads: every spec field the CRD offers the
 * forecasting core is one the core knows, with the core's defaults and
 * bounds, and examples/launchpolicy-full.yaml sets no field the predictor
 * would ignore. Reads the files relative to the repository's root, where
 * the test runners run. */
#include "test.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <yaml.h>

#include "predictor/policy_json.h"

#define CRD_PATH "crds/launchpolicy.yaml"
#define FULL_EXAMPLE_PATH "examples/launchpolicy-full.yaml"
#define YAML_DEPTH_MAX 32
/* Fields of lib/forecast_policy.c's table, plus prediction.weights.<type>. */
#define CORE_FIELDS 34

/* Loads the first document of a YAML file: 0, or -1 (message printed). */
static int load_yaml(const char *path, yaml_document_t *doc)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "    cannot open %s (run from the repository's root)\n", path);
        return -1;
    }
    yaml_parser_t parser;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    int ok = yaml_parser_load(&parser, doc);
    if (!ok)
        fprintf(stderr, "    %s: %s\n", path, parser.problem ? parser.problem : "not YAML");
    yaml_parser_delete(&parser);
    fclose(f);
    if (!ok)
        return -1;
    if (!yaml_document_get_root_node(doc)) {
        yaml_document_delete(doc);
        return -1;
    }
    return 0;
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The value of key in a mapping node, or NULL. */
static yaml_node_t *map_get(yaml_document_t *d, const yaml_node_t *m, const char *key)
{
    if (!m || m->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top;
         pr++) {
        const char *k = scalar(yaml_document_get_node(d, pr->key));
        if (k && strcmp(k, key) == 0)
            return yaml_document_get_node(d, pr->value);
    }
    return NULL;
}

/* A plain scalar as JSON: an integer, a number, a boolean or null when it
 * reads as one, else a string. */
static json_t *plain_to_json(const char *s)
{
    if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)
        return json_boolean(s[0] == 't');
    if (strcmp(s, "null") == 0 || strcmp(s, "~") == 0 || !*s)
        return json_null();
    char *end;
    errno = 0;
    long long i = strtoll(s, &end, 10);
    if (*end == '\0' && errno == 0)
        return json_integer(i);
    double v = strtod(s, &end);
    if (*end == '\0' && isfinite(v))
        return json_real(v);
    return json_string(s);
}

/* A YAML node as JSON (new reference), or NULL for what JSON cannot hold. */
static json_t *to_json(yaml_document_t *d, const yaml_node_t *n, int depth)
{
    if (!n || depth > YAML_DEPTH_MAX)
        return NULL;
    json_t *out = NULL;
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE
                   ? plain_to_json((const char *)n->data.scalar.value)
                   : json_string((const char *)n->data.scalar.value);
    case YAML_SEQUENCE_NODE:
        out = json_array();
        for (yaml_node_item_t *it = n->data.sequence.items.start;
             it < n->data.sequence.items.top; it++) {
            json_t *v = to_json(d, yaml_document_get_node(d, *it), depth + 1);
            if (!v)
                goto fail;
            json_array_append_new(out, v);
        }
        return out;
    case YAML_MAPPING_NODE:
        out = json_object();
        for (yaml_node_pair_t *pr = n->data.mapping.pairs.start;
             pr < n->data.mapping.pairs.top; pr++) {
            const char *k = scalar(yaml_document_get_node(d, pr->key));
            json_t *v = to_json(d, yaml_document_get_node(d, pr->value), depth + 1);
            if (!k || !v) {
                json_decref(v);
                goto fail;
            }
            json_object_set_new(out, k, v);
        }
        return out;
    default:
        return NULL;
    }
fail:
    json_decref(out);
    return NULL;
}

TEST(predictor_policy_crd_full_example_sets_only_known_fields)
{
    yaml_document_t y;
    REQUIRE(load_yaml(FULL_EXAMPLE_PATH, &y) == 0);
    json_t *j = to_json(&y, yaml_document_get_root_node(&y), 0);
    yaml_document_delete(&y);
    REQUIRE(j != NULL);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    REQUIRE(text != NULL);
    pred_policy_doc doc;
    char err[256] = "";
    int rc = pred_policy_parse(text, strlen(text), "default", &doc, err, sizeof err);
    free(text);
    if (rc)
        fprintf(stderr, "    %s\n", err);
    REQUIRE(rc == 0);
    if (doc.unknown)
        fprintf(stderr, "    ignored, first: %s\n", doc.first_unknown);
    CHECK_INT(doc.unknown, 0);
    CHECK_STR(doc.launch, "spring-2025");
    CHECK_INT(doc.pol.max_replicas, 400);
    CHECK_INT(doc.pol.scale_down_forecast_stabilization_s, 120);
    CHECK_INT(doc.pol.scale_down_max_step_pods, 20);
    CHECK(doc.pol.headroom_percent == 20);
}

/* What the walk over the CRD's spec schema found. */
typedef struct crd_walk {
    yaml_document_t *y;
    fc_policy def;           /* the core's defaults */
    unsigned fields;         /* leaves checked */
    unsigned defaults;       /* of which with a stated default */
    unsigned bounds;         /* bounds checked */
} crd_walk;

/* Sets path to text on a copy of the defaults: fc_policy_set's result. */
static int set_on_default(const crd_walk *w, const char *path, const char *text, fc_policy *out)
{
    *out = w->def;
    return fc_policy_set(out, path, text);
}

/* The default a leaf states: its `default`, else "default N" in its
 * description (the model fields, which the API server does not fill in).
 * Writes the number's text to buf; NULL when it states none. */
static const char *stated_default(crd_walk *w, const yaml_node_t *schema, char *buf, size_t len)
{
    const char *d = scalar(map_get(w->y, schema, "default"));
    if (d)
        return d;
    const char *desc = scalar(map_get(w->y, schema, "description"));
    const char *at = desc ? strstr(desc, "default ") : NULL;
    if (!at)
        return NULL;
    at += strlen("default ");
    size_t n = strspn(at, "0123456789.");
    if (n == 0 || n >= len)
        return NULL;
    memcpy(buf, at, n);
    buf[n] = '\0';
    if (buf[n - 1] == '.')
        buf[n - 1] = '\0'; /* the end of a sentence */
    return buf;
}

/* A bound the CRD accepts must be one the core accepts. */
static void check_bound(crd_walk *w, const char *path, const char *what, const char *value)
{
    fc_policy p;
    if (set_on_default(w, path, value, &p) != 0) {
        fprintf(stderr, "    %s: the CRD's %s %s is outside the core's limits\n", path, what,
                value);
        test_fail(__FILE__, __LINE__, "CRD bound within the core's");
    }
    w->bounds++;
}

/* Bounds given as CEL rules: "self >= A && self <= B" or "self >= A". */
static void check_cel_bounds(crd_walk *w, const char *path, const yaml_node_t *schema)
{
    const yaml_node_t *rules = map_get(w->y, schema, "x-kubernetes-validations");
    if (!rules || rules->type != YAML_SEQUENCE_NODE)
        return;
    for (yaml_node_item_t *it = rules->data.sequence.items.start;
         it < rules->data.sequence.items.top; it++) {
        const char *rule = scalar(map_get(w->y, yaml_document_get_node(w->y, *it), "rule"));
        char lo[32], hi[32];
        int end = 0;
        if (!rule)
            continue;
        if (sscanf(rule, "self >= %31[0-9.] && self <= %31[0-9.]%n", lo, hi, &end) == 2 &&
            rule[end] == '\0') {
            check_bound(w, path, "lower bound", lo);
            check_bound(w, path, "upper bound", hi);
        } else if (sscanf(rule, "self >= %31[0-9.]%n", lo, &end) == 1 && rule[end] == '\0') {
            check_bound(w, path, "lower bound", lo);
        }
    }
}

static void check_leaf(crd_walk *w, const char *path, const yaml_node_t *schema)
{
    fc_policy p;
    w->fields++;
    if (set_on_default(w, path, "not-a-value", &p) == -ENOENT) {
        fprintf(stderr, "    %s is in the CRD but not in the core\n", path);
        test_fail(__FILE__, __LINE__, "field known to fc_policy_set");
        return;
    }
    static const char *const bounds[] = { "minimum", "maximum" };
    for (size_t i = 0; i < 2; i++) {
        const char *b = scalar(map_get(w->y, schema, bounds[i]));
        if (b)
            check_bound(w, path, bounds[i], b);
    }
    check_cel_bounds(w, path, schema);
    char buf[32];
    const char *d = stated_default(w, schema, buf, sizeof buf);
    if (!d)
        return;
    w->defaults++;
    if (set_on_default(w, path, d, &p) != 0 || memcmp(&p, &w->def, sizeof p) != 0) {
        fprintf(stderr, "    %s: the CRD's default %s is not the core's\n", path, d);
        test_fail(__FILE__, __LINE__, "CRD default == the core's");
    }
}

/* Walks the properties of an object schema; top-level sections that
 * belong to other components are left out. */
static void walk(crd_walk *w, const yaml_node_t *props, const char *prefix, int depth)
{
    static const char *const others[] = { "targetRef", "prewarm", "sidecar", "mode", "redis" };
    if (!props || props->type != YAML_MAPPING_NODE || depth > YAML_DEPTH_MAX)
        return;
    for (yaml_node_pair_t *pr = props->data.mapping.pairs.start; pr < props->data.mapping.pairs.top;
         pr++) {
        const char *key = scalar(yaml_document_get_node(w->y, pr->key));
        const yaml_node_t *schema = yaml_document_get_node(w->y, pr->value);
        bool other = false;
        for (size_t i = 0; depth == 0 && key && i < sizeof others / sizeof others[0]; i++)
            other = other || strcmp(key, others[i]) == 0;
        if (!key || other)
            continue;
        char path[PRED_FIELD_MAX];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "", key);
        const char *type = scalar(map_get(w->y, schema, "type"));
        if (!type || strcmp(type, "object") != 0) {
            check_leaf(w, path, schema);
            continue;
        }
        walk(w, map_get(w->y, schema, "properties"), path, depth + 1);
        const yaml_node_t *each = map_get(w->y, schema, "additionalProperties");
        if (each) { /* a map: prediction.weights.<type> */
            char leaf[PRED_FIELD_MAX + 8];
            snprintf(leaf, sizeof leaf, "%s.upvote", path);
            check_leaf(w, leaf, each);
        }
    }
}

TEST(predictor_policy_crd_fields_defaults_and_bounds_are_the_cores)
{
    yaml_document_t y;
    REQUIRE(load_yaml(CRD_PATH, &y) == 0);
    crd_walk w = { .y = &y };
    fc_policy_default(&w.def);
    yaml_node_t *n = yaml_document_get_root_node(&y);
    n = map_get(&y, n, "spec");
    n = map_get(&y, n, "versions");
    n = n && n->type == YAML_SEQUENCE_NODE && n->data.sequence.items.start < n->data.sequence.items.top
            ? yaml_document_get_node(&y, *n->data.sequence.items.start)
            : NULL;
    static const char *const to_spec[] = { "schema", "openAPIV3Schema", "properties", "spec",
                                           "properties" };
    for (size_t i = 0; i < sizeof to_spec / sizeof to_spec[0]; i++)
        n = map_get(&y, n, to_spec[i]);
    CHECK(n != NULL);
    walk(&w, n, "", 0);
    /* with every leaf known to the core, as many leaves as the core has
     * fields means the CRD offers all of them */
    CHECK_INT(w.fields, CORE_FIELDS);
    CHECK(w.defaults >= 25);
    CHECK(w.bounds >= 40);
    yaml_document_delete(&y);
}
