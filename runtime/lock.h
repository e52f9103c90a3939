/* State-dir locking: flock(2) on a lock file.  One lock per container
 * ($root/<id>/lock) serialises CLI operations on that container; one for
 * the root ($root/.lock) serialises creating and listing.  Locks die with
 * the process, so a crashed hull never leaves a container locked. */
#ifndef HULL_LOCK_H
#define HULL_LOCK_H

#include <stdbool.h>

#include "runtime/error.h"

/* Open (creating if needed) and lock `path`; returns the fd holding the
 * lock (close it to unlock).  Retries when the file was replaced while we
 * waited (a concurrent delete+create), so the lock held is always on the
 * file currently at `path`.  With create=false, a missing file is ENOENT. */
int lock_acquire (const char *path, bool exclusive, bool create, hull_error_t *err);

/* Non-blocking variant: returns -1 with status EWOULDBLOCK when held. */
int lock_try_acquire (const char *path, bool exclusive, hull_error_t *err);

#endif
