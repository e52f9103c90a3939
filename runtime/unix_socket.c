#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/unix_socket.h"

static int
alias_path (struct unix_addr *a, const char *path, pid_t pid, hull_error_t *err)
{
  cleanup_free char *dir = NULL;
  const char *slash = strrchr (path, '/');
  const char *name = slash != NULL ? slash + 1 : path;
  int n;

  if (name[0] == '\0')
    return hull_error (err, EINVAL, "socket path `%s` names a directory", path);
  dir = slash == NULL ? strdup (".")
        : slash == path ? strdup ("/") : strndup (path, (size_t) (slash - path));
  if (dir == NULL)
    return hull_error (err, ENOMEM, "socket path `%s`", path);
  a->dir_fd = open (dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (a->dir_fd < 0)
    return hull_error (err, errno, "socket directory `%s`", dir);
  if (pid > 0)
    n = snprintf (a->sa.sun_path, sizeof (a->sa.sun_path), "/proc/%d/fd/%d/%s",
                  (int) pid, a->dir_fd, name);
  else
    n = snprintf (a->sa.sun_path, sizeof (a->sa.sun_path), "/proc/self/fd/%d/%s",
                  a->dir_fd, name);
  if (n < 0 || (size_t) n >= sizeof (a->sa.sun_path))
    {
      unix_addr_release (a);
      return hull_error (err, ENAMETOOLONG, "socket name `%s` in `%s`", name, dir);
    }
  return 0;
}

int
unix_addr_make (struct unix_addr *a, const char *path, pid_t pid,
                hull_error_t *err)
{
  memset (a, 0, sizeof (*a));
  a->sa.sun_family = AF_UNIX;
  a->dir_fd = -1;
  if (path == NULL || path[0] == '\0')
    return hull_error (err, EINVAL, "empty socket path");
  if (strlen (path) < sizeof (a->sa.sun_path))
    {
      strcpy (a->sa.sun_path, path);
      return 0;
    }
  return alias_path (a, path, pid, err);
}

void
unix_addr_release (struct unix_addr *a)
{
  if (a->dir_fd >= 0)
    close (a->dir_fd);
  a->dir_fd = -1;
}

int
unix_socket_listen (const char *path, int type, int backlog, hull_error_t *err)
{
  struct unix_addr a;
  cleanup_close int fd = -1;
  int r = -1;

  if (unix_addr_make (&a, path, 0, err) < 0)
    return -1;
  fd = socket (AF_UNIX, type, 0);
  if (fd < 0)
    hull_error (err, errno, "socket `%s`", path);
  else if (unlink (path) < 0 && errno != ENOENT)
    hull_error (err, errno, "remove stale socket `%s`", path);
  else if (bind (fd, (struct sockaddr *) &a.sa, sizeof (a.sa)) < 0)
    hull_error (err, errno, "bind `%s`", path);
  else if (listen (fd, backlog) < 0)
    hull_error (err, errno, "listen `%s`", path);
  else
    r = hull_steal_fd (&fd);
  unix_addr_release (&a);
  return r;
}

int
unix_socket_connect (const char *path, int type, hull_error_t *err)
{
  struct unix_addr a;
  cleanup_close int fd = -1;
  int saved;

  if (unix_addr_make (&a, path, 0, err) < 0)
    return -1;
  fd = socket (AF_UNIX, type, 0);
  if (fd < 0)
    {
      saved = errno;
      unix_addr_release (&a);
      errno = saved;
      return hull_error (err, saved, "socket `%s`", path);
    }
  if (connect (fd, (struct sockaddr *) &a.sa, sizeof (a.sa)) < 0)
    {
      saved = errno;
      unix_addr_release (&a);
      hull_error (err, saved, "connect to `%s`", path);
      errno = saved;
      return -1;
    }
  unix_addr_release (&a);
  return hull_steal_fd (&fd);
}
