/* json_scalar.c — JSON numbers and strings as settings text. */
#include "json_scalar.h"

#include <stdio.h>

const char *json_scalar_text(const json_t *v, char *buf, size_t len)
{
    if (json_is_integer(v)) {
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    if (json_is_real(v)) {
        snprintf(buf, len, "%.17g", json_real_value(v));
        return buf;
    }
    if (json_is_string(v))
        return json_string_value(v);
    return NULL;
}
