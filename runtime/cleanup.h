/* __attribute__((cleanup)) helpers: a variable declared with one of these
 * is released when it goes out of scope, so early error returns leak
 * nothing.  Transfer ownership by setting the variable to NULL / -1. */
#ifndef HULL_CLEANUP_H
#define HULL_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtime/error.h"

static inline void
hull_cleanup_freep (void *p)
{
  void **pp = p;
  free (*pp);
}

static inline void
hull_cleanup_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
    }
}

static inline void
hull_cleanup_fclosep (FILE **f)
{
  if (*f != NULL)
    fclose (*f);
}

static inline void
hull_cleanup_closedirp (DIR **d)
{
  if (*d != NULL)
    closedir (*d);
}

static inline void
hull_cleanup_errorp (hull_error_t *e)
{
  hull_error_free (e);
}

#define cleanup_free __attribute__ ((cleanup (hull_cleanup_freep)))
#define cleanup_close __attribute__ ((cleanup (hull_cleanup_closep)))
#define cleanup_fclose __attribute__ ((cleanup (hull_cleanup_fclosep)))
#define cleanup_closedir __attribute__ ((cleanup (hull_cleanup_closedirp)))
#define cleanup_error __attribute__ ((cleanup (hull_cleanup_errorp)))

/* Hand ownership of an fd out of a cleanup_close variable. */
static inline int
hull_steal_fd (int *fd)
{
  int r = *fd;
  *fd = -1;
  return r;
}

/* Hand ownership of a pointer out of a cleanup_free variable. */
#define hull_steal_ptr(pp)                                                     \
  ({                                                                           \
    __typeof__ (*(pp)) _p = *(pp);                                             \
    *(pp) = NULL;                                                              \
    _p;                                                                        \
  })

#endif
