/* k8s_watch_parse.c — the pure parts of a watch: splitting the stream into
 * lines and decoding one event per line (see k8s_watch.h). */
#include "k8s_watch.h"
#include "common.h"

#include <string.h>

void k8s_lines_init(k8s_lines *l, size_t max_line)
{
    l->max = max_line ? max_line : K8S_WATCH_LINE_MAX;
    /* +1: a "\r" before the newline is not part of the line. */
    buf_init(&l->partial, l->max + 1);
}

void k8s_lines_free(k8s_lines *l) { buf_free(&l->partial); }

void k8s_lines_reset(k8s_lines *l)
{
    buf_reset(&l->partial);
    buf_shrink_idle(&l->partial, 64u << 10);
}

static int emit(k8s_lines *l, const char *p, size_t n, k8s_line_cb *cb, void *arg)
{
    if (n && p[n - 1] == '\r')
        n--;
    if (n > l->max)
        return -EMSGSIZE;
    if (n == 0)
        return 0;
    return cb(p, n, arg);
}

int k8s_lines_feed(k8s_lines *l, const char *data, size_t len, k8s_line_cb *cb, void *arg)
{
    const char *p = data, *end = data + len;
    int rc = 0;
    if (!buf_empty(&l->partial)) {
        const char *nl = memchr(p, '\n', len);
        size_t seg = nl ? (size_t)(nl - p) : len;
        if (buf_append(&l->partial, p, seg) < 0) {
            rc = -EMSGSIZE;
            goto fail;
        }
        if (!nl)
            return 0;
        rc = emit(l, buf_data(&l->partial), buf_len(&l->partial), cb, arg);
        buf_reset(&l->partial);
        if (rc < 0)
            goto fail;
        p = nl + 1;
    }
    for (;;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        if ((rc = emit(l, p, (size_t)(nl - p), cb, arg)) < 0)
            goto fail;
        p = nl + 1;
    }
    if (p < end && buf_append(&l->partial, p, (size_t)(end - p)) < 0) {
        rc = -EMSGSIZE;
        goto fail;
    }
    return 0;
fail:
    k8s_lines_reset(l);
    return rc;
}

static const struct {
    const char *name;
    k8s_event_type type;
} types[] = {
    { "ADDED", K8S_EV_ADDED },
    { "MODIFIED", K8S_EV_MODIFIED },
    { "DELETED", K8S_EV_DELETED },
    { "BOOKMARK", K8S_EV_BOOKMARK },
    { "ERROR", K8S_EV_ERROR },
};

const char *k8s_event_type_name(k8s_event_type t)
{
    for (size_t i = 0; i < LO_ARRAY_SIZE(types); i++)
        if (types[i].type == t)
            return types[i].name;
    return t == K8S_EV_EXPIRED ? "EXPIRED" : t == K8S_EV_RESTART ? "RESTART" : "?";
}

int k8s_watch_event_decode(const char *line, size_t len, k8s_watch_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->message = "";
    json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
    const char *type = json_string_value(json_object_get(root, "type"));
    json_t *obj = json_object_get(root, "object");
    if (!type || !json_is_object(obj)) {
        json_decref(root);
        return -EBADMSG;
    }
    size_t i = 0;
    while (i < LO_ARRAY_SIZE(types) && strcmp(types[i].name, type) != 0)
        i++;
    if (i == LO_ARRAY_SIZE(types)) {
        json_decref(root);
        return -EBADMSG;
    }
    ev->type = types[i].type;
    ev->object = json_incref(obj);
    json_decref(root);
    if (ev->type == K8S_EV_ERROR) {
        ev->code = (int)json_integer_value(json_object_get(ev->object, "code"));
        const char *m = json_string_value(json_object_get(ev->object, "message"));
        ev->message = m ? m : "";
        return 0;
    }
    ev->rv = k8s_meta_str(ev->object, "resourceVersion");
    if (!ev->rv || !*ev->rv || strlen(ev->rv) >= K8S_RV_MAX) {
        k8s_watch_event_clear(ev);
        return -EBADMSG; /* an object event always carries its version */
    }
    return 0;
}

void k8s_watch_event_clear(k8s_watch_event *ev)
{
    json_decref(ev->object);
    memset(ev, 0, sizeof *ev);
    ev->message = "";
}
