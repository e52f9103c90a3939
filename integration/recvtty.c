/* Test helper for integration/test-lifecycle.sh: the receiving end of
 * --console-socket.  Listens on SOCKET, accepts one connection, expects
 * exactly one fd (the pty master) via SCM_RIGHTS, optionally writes INPUT
 * to it, then copies everything the pty prints to OUT until it closes.
 * With ROWS COLS, once the first output arrived it sets the master's window
 * size to that (a terminal resized by its user, for the resize tests).
 *   recvtty SOCKET OUT [INPUT [ROWS COLS]] */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int
recv_one_fd (int conn)
{
  char data[256], cbuf[CMSG_SPACE (4 * sizeof (int))];
  struct iovec iov = { data, sizeof (data) };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                      .msg_controllen = sizeof (cbuf) };
  struct cmsghdr *c;
  int fd = -1, count = 0;

  if (recvmsg (conn, &m, 0) < 0)
    return -1;
  for (c = CMSG_FIRSTHDR (&m); c; c = CMSG_NXTHDR (&m, c))
    if (c->cmsg_type == SCM_RIGHTS)
      {
        count += (int) ((c->cmsg_len - CMSG_LEN (0)) / sizeof (int));
        memcpy (&fd, CMSG_DATA (c), sizeof (int));
      }
  if (count != 1)
    {
      fprintf (stderr, "recvtty: expected exactly 1 fd, got %d\n", count);
      return -1;
    }
  return fd;
}

int
main (int argc, char **argv)
{
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  int s, conn, master, out;
  char buf[4096];
  ssize_t n;
  int resize = argc > 5;

  if (argc < 3 || strlen (argv[1]) >= sizeof (a.sun_path))
    return 2;
  strcpy (a.sun_path, argv[1]);
  s = socket (AF_UNIX, SOCK_STREAM, 0);
  if (s < 0 || bind (s, (struct sockaddr *) &a, sizeof (a)) < 0 || listen (s, 1) < 0)
    return perror ("recvtty: listen"), 1;
  conn = accept (s, NULL, NULL);
  master = conn < 0 ? -1 : recv_one_fd (conn);
  if (master < 0)
    return 1;
  out = open (argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out < 0)
    return 1;
  dprintf (out, "RECEIVED-FD\n");
  if (argc > 3 && write (master, argv[3], strlen (argv[3])) < 0)
    return 1;
  /* EIO once the last slave fd is closed (the process exited). */
  while ((n = read (master, buf, sizeof (buf))) > 0 || (n < 0 && errno == EINTR))
    {
      if (n > 0 && write (out, buf, (size_t) n) != n)
        return 1;
      if (n > 0 && resize)
        {
          struct winsize ws = { .ws_row = (unsigned short) atoi (argv[4]),
                                .ws_col = (unsigned short) atoi (argv[5]) };
          if (ioctl (master, TIOCSWINSZ, &ws) < 0)
            return perror ("recvtty: TIOCSWINSZ"), 1;
          resize = 0;
        }
    }
  return 0;
}
