/* event.c — schema validation of webhook bodies and visitor-event batches. */
#include "event.h"

#include <stdlib.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common.h"
#include "json_slice.h"
#include "timestamp.h"

#define JSON_FLAGS (JSON_REJECT_DUPLICATES)
#define USER_ID_LEN 36 /* 8-4-4-4-12 */

static const char *const visitor_types[] = { "hover", "scroll", "cta_click", "form_submit" };

const char *ingest_source_name(ingest_source s)
{
    return s == INGEST_SRC_WEBHOOK ? "webhook" : "site";
}

int ingest_json_depth(const char *text, size_t len, int limit)
{
    int depth = 0, max = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max) {
                max = depth;
                if (max > limit)
                    return limit + 1;
            }
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--;
        }
    }
    return max;
}

static void limits_fill(const ingest_limits *in, ingest_limits *out)
{
    ingest_limits z = { 0 };
    *out = in ? *in : z;
    if (!out->max_body)
        out->max_body = INGEST_BODY_MAX_DEFAULT;
    if (out->max_depth <= 0)
        out->max_depth = INGEST_DEPTH_MAX_DEFAULT;
    if (!out->max_batch)
        out->max_batch = INGEST_BATCH_MAX_DEFAULT;
}

__attribute__((format(printf, 4, 5))) static int verr(ingest_verr *e, ingest_verr_kind kind,
                                                     const char *field, const char *fmt, ...)
{
    va_list ap;
    e->kind = kind;
    e->position = 0;
    snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
    va_end(ap);
    return kind == INGEST_VERR_TOO_LARGE ? -EMSGSIZE : -EINVAL;
}

/* Parses body into *root after the size and depth checks. */
static int load(const char *body, size_t len, const ingest_limits *lim, json_t **root,
                ingest_verr *e)
{
    json_error_t je;
    *root = NULL;
    if (len > lim->max_body)
        return verr(e, INGEST_VERR_TOO_LARGE, "", "body larger than %zu bytes", lim->max_body);
    if (ingest_json_depth(body, len, lim->max_depth) > lim->max_depth)
        return verr(e, INGEST_VERR_MALFORMED, "", "nested deeper than %d levels",
                    lim->max_depth);
    *root = json_loadb(body, len, JSON_FLAGS, &je);
    if (!*root) {
        verr(e, INGEST_VERR_MALFORMED, "", "%s", je.text);
        e->position = (size_t)(je.position > 0 ? je.position : 0);
        return -EINVAL;
    }
    return 0;
}

static bool no_control_chars(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static bool is_type_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.' || c == ':';
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_uuid(const char *s, size_t n)
{
    if (n != USER_ID_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex(s[i]))
            return false;
    }
    return true;
}

static char *dump_compact(const json_t *v, size_t *len)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s)
        abort(); /* only out of memory: every value we dump came from the parser */
    *len = strlen(s);
    return s;
}

/* ---- webhook ---- */

static int webhook_ts(const json_t *v, int64_t *ms, ingest_verr *e)
{
    int rc;
    if (json_is_integer(v)) {
        rc = ingest_ts_from_int(json_integer_value(v), ms);
    } else if (json_is_string(v)) {
        rc = ingest_ts_parse(json_string_value(v), json_string_length(v), ms);
        if (rc == -EINVAL)
            return verr(e, INGEST_VERR_INVALID, "created_at",
                        "must be Unix seconds/milliseconds or an RFC 3339 date-time");
    } else {
        return verr(e, INGEST_VERR_INVALID, "created_at",
                    v ? "must be an integer or a string" : "is required");
    }
    if (rc < 0)
        return verr(e, INGEST_VERR_INVALID, "created_at", "out of range (1970 to 9999)");
    return 0;
}

/* The common case without building a JSON tree: a body the scan knows is
 * valid and whose fields all pass. Returns false (ev untouched) otherwise;
 * the full parse then decides and names any error. */
static bool webhook_fast(const char *body, size_t len, int max_depth, ingest_event *ev)
{
    ingest_json_member m[4] = { { .key = "id" }, { .key = "event_type" },
                                { .key = "created_at" }, { .key = "data" } };
    int64_t ts_ms;
    if (!ingest_json_scan_object(body, len, max_depth, m, 4))
        return false;
    const ingest_json_member *id = &m[0], *type = &m[1], *created = &m[2], *data = &m[3];
    if (id->kind != INGEST_JSON_STRING || id->len == 0 || id->len > INGEST_ID_MAX ||
        !no_control_chars(id->val, id->len))
        return false;
    if (type->kind != INGEST_JSON_STRING || type->len == 0 || type->len > INGEST_TYPE_MAX)
        return false;
    for (size_t i = 0; i < type->len; i++)
        if (!is_type_char(type->val[i]))
            return false;
    if (created->kind == INGEST_JSON_INT) {
        if (ingest_ts_from_int(created->ival, &ts_ms) < 0)
            return false;
    } else if (created->kind == INGEST_JSON_STRING) {
        if (ingest_ts_parse(created->val, created->len, &ts_ms) < 0)
            return false;
    } else {
        return false;
    }
    if (data->kind != INGEST_JSON_OBJECT || !ingest_json_is_compact(data->val, data->len))
        return false;
    memcpy(ev->id, id->val, id->len);
    ev->id[id->len] = '\0';
    memcpy(ev->type, type->val, type->len);
    ev->type[type->len] = '\0';
    ev->ts_ms = ts_ms;
    ev->source = INGEST_SRC_WEBHOOK;
    ev->data = xmalloc(data->len + 1);
    memcpy(ev->data, data->val, data->len);
    ev->data[data->len] = '\0';
    ev->data_len = data->len;
    return true;
}

int ingest_webhook_parse(const char *body, size_t len, const ingest_limits *lim_in,
                         ingest_event *ev, ingest_verr *e)
{
    ingest_limits lim;
    json_t *root = NULL;
    int rc;
    memset(ev, 0, sizeof(*ev));
    memset(e, 0, sizeof(*e));
    limits_fill(lim_in, &lim);
    if (len <= lim.max_body && webhook_fast(body, len, lim.max_depth, ev))
        return 0;
    rc = load(body, len, &lim, &root, e);
    if (rc < 0)
        goto out;
    if (!json_is_object(root)) {
        rc = verr(e, INGEST_VERR_INVALID, "", "body must be a JSON object");
        goto out;
    }
    const json_t *id = json_object_get(root, "id");
    const json_t *type = json_object_get(root, "event_type");
    const json_t *created = json_object_get(root, "created_at");
    const json_t *data = json_object_get(root, "data");
    if (!json_is_string(id)) {
        rc = verr(e, INGEST_VERR_INVALID, "id", id ? "must be a string" : "is required");
        goto out;
    }
    size_t n = json_string_length(id);
    if (n == 0 || n > INGEST_ID_MAX || !no_control_chars(json_string_value(id), n)) {
        rc = verr(e, INGEST_VERR_INVALID, "id",
                  "must be 1 to %d bytes without control characters", INGEST_ID_MAX);
        goto out;
    }
    memcpy(ev->id, json_string_value(id), n + 1);
    if (!json_is_string(type)) {
        rc = verr(e, INGEST_VERR_INVALID, "event_type",
                  type ? "must be a string" : "is required");
        goto out;
    }
    n = json_string_length(type);
    const char *ts = json_string_value(type);
    bool ok = n > 0 && n <= INGEST_TYPE_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = is_type_char(ts[i]);
    if (!ok) {
        rc = verr(e, INGEST_VERR_INVALID, "event_type",
                  "must be 1 to %d characters of A-Z a-z 0-9 _ - . :", INGEST_TYPE_MAX);
        goto out;
    }
    memcpy(ev->type, ts, n + 1);
    rc = webhook_ts(created, &ev->ts_ms, e);
    if (rc < 0)
        goto out;
    if (!json_is_object(data)) {
        rc = verr(e, INGEST_VERR_INVALID, "data", data ? "must be an object" : "is required");
        goto out;
    }
    ev->source = INGEST_SRC_WEBHOOK;
    const char *raw;
    size_t rawlen;
    if (ingest_json_compact_member(body, len, "data", &raw, &rawlen)) {
        /* Already compact: the same bytes a re-dump would make. */
        ev->data = xmalloc(rawlen + 1);
        memcpy(ev->data, raw, rawlen);
        ev->data[rawlen] = '\0';
        ev->data_len = rawlen;
    } else {
        ev->data = dump_compact(data, &ev->data_len);
    }
    rc = 0;
out:
    json_decref(root);
    if (rc < 0)
        memset(ev, 0, sizeof(*ev));
    return rc;
}

/* ---- visitor batch ---- */

/* "s-" + 32 hex digits of SHA-256(userId NUL eventType NUL ts NUL payload). */
static void visitor_id(const char *user, const char *type, int64_t ts, const char *payload,
                       size_t plen, char out[INGEST_ID_MAX + 1])
{
    static const char digits[] = "0123456789abcdef";
    uint8_t md[32];
    unsigned int mdlen = 0;
    char tsbuf[24];
    int tslen = snprintf(tsbuf, sizeof(tsbuf), "%lld", (long long)ts);
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(c, user, strlen(user) + 1) != 1 ||
        EVP_DigestUpdate(c, type, strlen(type) + 1) != 1 ||
        EVP_DigestUpdate(c, tsbuf, (size_t)tslen + 1) != 1 ||
        EVP_DigestUpdate(c, payload, plen) != 1 || EVP_DigestFinal_ex(c, md, &mdlen) != 1)
        abort(); /* SHA-256 cannot fail short of memory exhaustion */
    EVP_MD_CTX_free(c);
    out[0] = 's';
    out[1] = '-';
    for (int i = 0; i < 16; i++) {
        out[2 + 2 * i] = digits[md[i] >> 4];
        out[3 + 2 * i] = digits[md[i] & 15];
    }
    out[34] = '\0';
}

static int visitor_one(const json_t *item, size_t idx, ingest_event *ev, ingest_verr *e)
{
    char field[INGEST_FIELD_MAX];
#define FIELD(name) (snprintf(field, sizeof(field), "[%zu]%s", idx, name), field)
    if (!json_is_object(item))
        return verr(e, INGEST_VERR_INVALID, FIELD(""), "must be an object");
    const json_t *user = json_object_get(item, "userId");
    const json_t *type = json_object_get(item, "eventType");
    const json_t *payload = json_object_get(item, "payload");
    const json_t *ts = json_object_get(item, "timestamp");
    if (!json_is_string(user) || !is_uuid(json_string_value(user), json_string_length(user)))
        return verr(e, INGEST_VERR_INVALID, FIELD(".userId"),
                    user ? "must be a UUID (8-4-4-4-12 hex digits)" : "is required");
    if (!json_is_string(type))
        return verr(e, INGEST_VERR_INVALID, FIELD(".eventType"),
                    type ? "must be a string" : "is required");
    const char *tname = NULL;
    for (size_t i = 0; i < LO_ARRAY_SIZE(visitor_types); i++)
        if (strcmp(json_string_value(type), visitor_types[i]) == 0 &&
            json_string_length(type) == strlen(visitor_types[i]))
            tname = visitor_types[i];
    if (!tname)
        return verr(e, INGEST_VERR_INVALID, FIELD(".eventType"),
                    "must be one of hover, scroll, cta_click, form_submit");
    if (!json_is_object(payload))
        return verr(e, INGEST_VERR_INVALID, FIELD(".payload"),
                    payload ? "must be an object" : "is required");
    if (!json_is_integer(ts))
        return verr(e, INGEST_VERR_INVALID, FIELD(".timestamp"),
                    ts ? "must be an integer (Unix milliseconds)" : "is required");
    if (ingest_ts_from_int(json_integer_value(ts), &ev->ts_ms) != 0)
        return verr(e, INGEST_VERR_INVALID, FIELD(".timestamp"), "out of range (1970 to 9999)");
#undef FIELD
    char user_lc[USER_ID_LEN + 1];
    for (size_t i = 0; i <= USER_ID_LEN; i++) {
        char c = json_string_value(user)[i];
        user_lc[i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
    }
    snprintf(ev->type, sizeof(ev->type), "%s", tname);
    ev->source = INGEST_SRC_SITE;
    size_t plen = 0;
    char *pjson = dump_compact(payload, &plen);
    visitor_id(user_lc, tname, ev->ts_ms, pjson, plen, ev->id);
    free(pjson);
    json_t *data = json_object();
    json_object_set_new(data, "userId", json_string(user_lc));
    json_object_set(data, "payload", (json_t *)payload);
    ev->data = dump_compact(data, &ev->data_len);
    json_decref(data);
    return 0;
}

int ingest_batch_parse(const char *body, size_t len, const ingest_limits *lim_in,
                       ingest_event **evs_out, size_t *n_out, ingest_verr *e)
{
    ingest_limits lim;
    json_t *root = NULL;
    ingest_event *evs = NULL;
    size_t n = 0, i = 0;
    int rc;
    *evs_out = NULL;
    *n_out = 0;
    memset(e, 0, sizeof(*e));
    limits_fill(lim_in, &lim);
    rc = load(body, len, &lim, &root, e);
    if (rc < 0)
        goto out;
    if (!json_is_array(root)) {
        rc = verr(e, INGEST_VERR_INVALID, "", "body must be a JSON array of events");
        goto out;
    }
    n = json_array_size(root);
    if (n == 0) {
        rc = verr(e, INGEST_VERR_INVALID, "", "batch is empty");
        goto out;
    }
    if (n > lim.max_batch) {
        rc = verr(e, INGEST_VERR_TOO_LARGE, "", "batch holds more than %zu events",
                  lim.max_batch);
        goto out;
    }
    evs = xcalloc(n, sizeof(*evs));
    for (i = 0; i < n; i++) {
        rc = visitor_one(json_array_get(root, i), i, &evs[i], e);
        if (rc < 0)
            goto out;
    }
    *evs_out = evs;
    *n_out = n;
    evs = NULL;
    rc = 0;
out:
    ingest_events_free(evs, i);
    json_decref(root);
    return rc;
}

void ingest_event_clear(ingest_event *ev)
{
    if (!ev)
        return;
    free(ev->data);
    ev->data = NULL;
    ev->data_len = 0;
}

void ingest_events_free(ingest_event *evs, size_t n)
{
    if (!evs)
        return;
    for (size_t i = 0; i < n; i++)
        ingest_event_clear(&evs[i]);
    free(evs);
}

char *ingest_verr_json(const ingest_verr *err)
{
    static const char *const kinds[] = { "none", "malformed", "invalid", "too_large" };
    json_t *o = json_object();
    json_object_set_new(o, "error", json_string(kinds[err->kind]));
    if (err->field[0])
        json_object_set_new(o, "field", json_string(err->field));
    char reason[INGEST_REASON_MAX];
    size_t i = 0;
    for (; i + 1 < sizeof(reason) && err->reason[i]; i++) {
        unsigned char c = (unsigned char)err->reason[i];
        reason[i] = c < 0x20 || c >= 0x7f ? '?' : (char)c; /* parser text may quote input */
    }
    reason[i] = '\0';
    json_object_set_new(o, "reason", json_string(reason));
    if (err->kind == INGEST_VERR_MALFORMED && err->position)
        json_object_set_new(o, "position", json_integer((json_int_t)err->position));
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!s)
        abort();
    return s;
}
