#include "runtime/error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
hull_verror (hull_error_t *err, int errno_, const char *fmt, va_list ap)
{
  char *base = NULL, *full = NULL;

  if (err == NULL)
    return -1;
  hull_error_free (err);
  if (vasprintf (&base, fmt, ap) < 0)
    base = NULL;
  if (base != NULL && errno_ != 0)
    {
      if (asprintf (&full, "%s: %s", base, strerror (errno_)) < 0)
        full = NULL;
      free (base);
    }
  else
    full = base;

  *err = calloc (1, sizeof (**err));
  if (*err == NULL)
    {
      /* Out of memory while reporting: keep going with no message rather
       * than crash; callers still see the negative return. */
      free (full);
      return -1;
    }
  (*err)->status = errno_;
  (*err)->msg = full;
  return -1;
}

int
hull_error (hull_error_t *err, int errno_, const char *fmt, ...)
{
  va_list ap;
  int ret;

  va_start (ap, fmt);
  ret = hull_verror (err, errno_, fmt, ap);
  va_end (ap);
  return ret;
}

int
hull_error_prefix (hull_error_t *err, const char *fmt, ...)
{
  char *prefix = NULL, *full = NULL;
  va_list ap;

  if (err == NULL || *err == NULL)
    return -1;
  va_start (ap, fmt);
  if (vasprintf (&prefix, fmt, ap) < 0)
    prefix = NULL;
  va_end (ap);
  if (prefix == NULL)
    return -1;
  if (asprintf (&full, "%s: %s", prefix, (*err)->msg ? (*err)->msg : "") < 0)
    full = NULL;
  free (prefix);
  if (full != NULL)
    {
      free ((*err)->msg);
      (*err)->msg = full;
    }
  return -1;
}

void
hull_error_free (hull_error_t *err)
{
  if (err == NULL || *err == NULL)
    return;
  free ((*err)->msg);
  free (*err);
  *err = NULL;
}

const char *
hull_error_msg (const hull_error_t *err)
{
  if (err == NULL || *err == NULL || (*err)->msg == NULL)
    return "";
  return (*err)->msg;
}
