/*
 * options.h — the command line and environment of liftoff-controller
 * (config.h: --name=value or LIFTOFF_<NAME>). The strings in the settings
 * belong to the option table until ctl_options_free().
 */
#ifndef LIFTOFF_CTL_OPTIONS_H
#define LIFTOFF_CTL_OPTIONS_H

#include "log.h"

#include "controller.h"

/* Parses argv and the environment into *s and *level; exits on --help,
 * --version and bad options. */
void ctl_options_load(int argc, char **argv, ctl_settings *s, log_level *level);
/* Frees the option strings. */
void ctl_options_free(void);

#endif
