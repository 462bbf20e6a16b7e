/*
 * json_scalar.h — a JSON number or string as the text a settings parser
 * takes ("12", "0.5", "10m"), so integer, real and string spellings of a
 * field go through one validation path.
 *
 * Ownership: the result is either the caller's buffer or the string inside
 * the JSON value (valid while the value lives); nothing is allocated.
 */
#ifndef LIFTOFF_JSON_SCALAR_H
#define LIFTOFF_JSON_SCALAR_H

#include <stddef.h>

#include <jansson.h>

/* v as text (an integer in decimal, a real with round-trip precision, a
 * string as is) written to buf (len bytes, at least 32) where needed; NULL
 * for any other type or a NULL v. */
const char *json_scalar_text(const json_t *v, char *buf, size_t len);

#endif
