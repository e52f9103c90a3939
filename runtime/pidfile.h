/* The --pid-file contract containerd relies on: the file holds the decimal
 * pid with no newline and appears atomically (never half-written). */
#ifndef HULL_PIDFILE_H
#define HULL_PIDFILE_H

#include <sys/types.h>

#include "runtime/error.h"

/* Write `pid` to `path` via a temporary file in the same directory and
 * rename(2), so readers see either nothing or the whole number. */
int pidfile_write (const char *path, pid_t pid, hull_error_t *err);

/* Read a pid file written by pidfile_write (a trailing newline is
 * tolerated).  Returns the pid (> 0). */
pid_t pidfile_read (const char *path, hull_error_t *err);

#endif
