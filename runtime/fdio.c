#include "runtime/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

bool
fdio_copy_once (int from, int to)
{
  char buf[8192];
  ssize_t n = read (from, buf, sizeof (buf));

  if (n <= 0)
    return n < 0 && errno == EINTR;
  for (ssize_t off = 0; off < n;)
    {
      ssize_t w = write (to, buf + off, (size_t) (n - off));

      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return false;
      off += w;
    }
  return true;
}

void
fdio_stdio_to_devnull (void)
{
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);

  if (null < 0)
    return;
  for (int fd = 0; fd < 3; fd++)
    dup2 (null, fd);
  close (null);
}
