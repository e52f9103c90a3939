/* One error convention for all of hull (host and guest):
 * a function that can fail takes `hull_error_t *err`, returns a negative
 * value on failure and fills *err with an errno and a message.  The caller
 * either handles it (hull_error_free) or adds context and passes it up
 * (hull_error_prefix).  Success returns >= 0 and leaves *err untouched. */
#ifndef HULL_ERROR_H
#define HULL_ERROR_H

#include <stdarg.h>

struct hull_error_s
{
  int status; /* errno value, 0 when the failure is not a system error */
  char *msg;  /* full human-readable text, already includes strerror */
};
typedef struct hull_error_s *hull_error_t;

/* Always returns -1 so callers can write `return hull_error (err, ...)`.
 * When errno_ != 0 the message gets ": <strerror>" appended. */
int hull_error (hull_error_t *err, int errno_, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));
int hull_verror (hull_error_t *err, int errno_, const char *fmt, va_list ap);

/* Prepend "<prefix>: " to an existing error; returns -1. */
int hull_error_prefix (hull_error_t *err, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

void hull_error_free (hull_error_t *err);

/* The message, or "" when there is none. */
const char *hull_error_msg (const hull_error_t *err);

#endif
