/*
 * launch_name.h — the rule for a launch name: 1..LAUNCH_NAME_MAX bytes of
 * A-Z a-z 0-9 _ - . . The name is part of Redis keys
 * (liftoff:events:<launch>) and of ingest URL paths, so every program
 * checks it the same way. Pure: no allocation, nothing to free.
 */
#ifndef LIFTOFF_LAUNCH_NAME_H
#define LIFTOFF_LAUNCH_NAME_H

#include <stdbool.h>
#include <stddef.h>

#define LAUNCH_NAME_MAX 64  /* bytes, without a NUL */

/* Whether name[0..len) is a valid launch name. */
bool launch_name_valid(const char *name, size_t len);

#endif
