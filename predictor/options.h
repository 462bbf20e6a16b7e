/*
 * options.h — liftoff-predictor's command line: every flag also as a
 * LIFTOFF_* environment variable, --help lists them (config.h).
 *
 * Ownership: the option values live in this module's statics until
 * pred_options_free(); the settings filled by pred_options_load() point
 * into them.
 */
#ifndef LIFTOFF_PREDICTOR_OPTIONS_H
#define LIFTOFF_PREDICTOR_OPTIONS_H

#include "log.h"

#include "service.h"

/* Parses argv and the environment into *s and *level; prints help, the
 * version or an error and exits as config.h does. */
void pred_options_load(int argc, char **argv, pred_settings *s, log_level *level);
/* Frees the option values. */
void pred_options_free(void);

#endif
