/* Options shared by `create` and `run`. */
#ifndef HULL_LIFECYCLE_OPTS_H
#define HULL_LIFECYCLE_OPTS_H

#include "runtime/supervisor_client.h"

/* Parses create/run options; returns the index of the ID or -1. */
int create_opts_parse (int argc, char **argv, struct create_opts *o, bool *detach,
                       hull_error_t *err);

#endif
