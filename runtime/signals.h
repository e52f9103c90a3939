/* Signal names as the CLI accepts them (`kill ID TERM`, `SIGTERM`, `15`,
 * `RTMIN+3`) and as hull prints them. */
#ifndef HULL_SIGNALS_H
#define HULL_SIGNALS_H

#include <stddef.h>

#include "runtime/error.h"

/* Parse a signal given by name (case-insensitive, with or without "SIG"),
 * by number, or as RTMIN+n / RTMAX-n.  Returns the signal number (> 0). */
int signal_parse (const char *text, hull_error_t *err);

/* Canonical name without "SIG" ("TERM", "RTMIN+2"), written into buf. */
const char *signal_name (int signo, char *buf, size_t len);

#endif
