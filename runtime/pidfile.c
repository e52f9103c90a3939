#include "runtime/pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cleanup.h"

static int
write_all (int fd, const char *buf, size_t len)
{
  while (len > 0)
    {
      ssize_t n = write (fd, buf, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      buf += n;
      len -= (size_t) n;
    }
  return 0;
}

int
pidfile_write (const char *path, pid_t pid, hull_error_t *err)
{
  cleanup_free char *dircopy = NULL, *basecopy = NULL, *tmp = NULL;
  cleanup_close int fd = -1;
  char num[32];
  int len;

  if (pid <= 0)
    return hull_error (err, 0, "pid file `%s`: invalid pid %d", path, (int) pid);
  dircopy = strdup (path);
  basecopy = strdup (path);
  if (dircopy == NULL || basecopy == NULL)
    return hull_error (err, ENOMEM, "pid file `%s`", path);
  if (asprintf (&tmp, "%s/.%s.XXXXXX", dirname (dircopy), basename (basecopy)) < 0)
    return hull_error (err, ENOMEM, "pid file `%s`", path);
  fd = mkostemp (tmp, O_CLOEXEC);
  if (fd < 0)
    return hull_error (err, errno, "create temporary pid file `%s`", tmp);
  len = snprintf (num, sizeof (num), "%d", (int) pid);
  if (fchmod (fd, 0644) < 0 || write_all (fd, num, (size_t) len) < 0)
    {
      int saved = errno;
      unlink (tmp);
      return hull_error (err, saved, "write pid file `%s`", tmp);
    }
  if (rename (tmp, path) < 0)
    {
      int saved = errno;
      unlink (tmp);
      return hull_error (err, saved, "rename `%s` to `%s`", tmp, path);
    }
  return 0;
}

pid_t
pidfile_read (const char *path, hull_error_t *err)
{
  cleanup_fclose FILE *f = fopen (path, "re");
  char buf[32] = { 0 }, *end = NULL;
  long v;

  if (f == NULL)
    return hull_error (err, errno, "open pid file `%s`", path);
  if (fgets (buf, sizeof (buf), f) == NULL)
    return hull_error (err, 0, "pid file `%s` is empty", path);
  errno = 0;
  v = strtol (buf, &end, 10);
  if (errno != 0 || end == buf || (*end != '\0' && *end != '\n') || v <= 0 || v > 0x3fffffff)
    return hull_error (err, 0, "pid file `%s` does not hold a pid", path);
  return (pid_t) v;
}
