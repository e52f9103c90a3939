#include "runtime/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/cleanup.h"

/* True when fd still refers to the file at path. */
static bool
lock_still_current (int fd, const char *path)
{
  struct stat a, b;

  if (fstat (fd, &a) < 0 || stat (path, &b) < 0)
    return false;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int
lock_take (const char *path, bool exclusive, bool create, bool wait, hull_error_t *err)
{
  int op = (exclusive ? LOCK_EX : LOCK_SH) | (wait ? 0 : LOCK_NB);

  for (int attempt = 0; attempt < 100; attempt++)
    {
      cleanup_close int fd = open (path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
      int r;

      if (fd < 0)
        return hull_error (err, errno, "open lock file `%s`", path);
      do
        r = flock (fd, op);
      while (r < 0 && errno == EINTR);
      if (r < 0)
        return hull_error (err, errno, "lock `%s`", path);
      if (lock_still_current (fd, path))
        return hull_steal_fd (&fd);
      if (! create && access (path, F_OK) < 0)
        return hull_error (err, ENOENT, "lock `%s`", path);
    }
  return hull_error (err, EAGAIN, "lock `%s`: file keeps being replaced", path);
}

int
lock_acquire (const char *path, bool exclusive, bool create, hull_error_t *err)
{
  return lock_take (path, exclusive, create, true, err);
}

int
lock_try_acquire (const char *path, bool exclusive, hull_error_t *err)
{
  return lock_take (path, exclusive, true, false, err);
}
