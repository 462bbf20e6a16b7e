/*
 * selector.h — a Kubernetes LabelSelector object (matchLabels,
 * matchExpressions) as the string the API's labelSelector query takes
 * ("app=web,tier in (a,b),!canary"), as a Scale's status.selector gives it.
 *
 * Pure: no I/O; writes into the caller's buffer.
 */
#ifndef LIFTOFF_CTL_SELECTOR_H
#define LIFTOFF_CTL_SELECTOR_H

#include <stddef.h>

#include <jansson.h>

/* Writes sel as a selector string into out: its length, or -EINVAL (not a
 * selector, an unknown operator) or -ENOSPC (does not fit in outlen). An
 * empty selector gives "". */
int ctl_selector_string(const json_t *sel, char *out, size_t outlen);

#endif
