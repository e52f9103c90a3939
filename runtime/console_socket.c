#include "runtime/console_socket.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/unix_socket.h"

int
unix_send_with_fds (int sock, const void *data, size_t len, const int *fds, size_t nfds,
                    hull_error_t *err)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int) * UNIX_FDS_MAX)];
    struct cmsghdr align;
  } u;
  struct iovec iov = { .iov_base = (void *) data, .iov_len = len };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
  ssize_t n;

  if (nfds > UNIX_FDS_MAX)
    return hull_error (err, EINVAL, "too many fds to send (%zu)", nfds);
  if (nfds > 0)
    {
      struct cmsghdr *c;
      memset (&u, 0, sizeof (u));
      msg.msg_control = u.buf;
      msg.msg_controllen = CMSG_SPACE (sizeof (int) * nfds);
      c = CMSG_FIRSTHDR (&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN (sizeof (int) * nfds);
      memcpy (CMSG_DATA (c), fds, sizeof (int) * nfds);
    }
  do
    n = sendmsg (sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return hull_error (err, errno, "sendmsg");
  if ((size_t) n != len)
    return hull_error (err, 0, "sendmsg: short write (%zd of %zu bytes)", n, len);
  return 0;
}

static void
collect_fds (struct msghdr *msg, int *fds, size_t *nfds, int *overflow)
{
  for (struct cmsghdr *c = CMSG_FIRSTHDR (msg); c != NULL; c = CMSG_NXTHDR (msg, c))
    {
      size_t count;
      int *data;
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
        continue;
      count = (c->cmsg_len - CMSG_LEN (0)) / sizeof (int);
      data = (int *) CMSG_DATA (c);
      for (size_t i = 0; i < count; i++)
        {
          int fd;
          memcpy (&fd, data + i, sizeof (int));
          if (fds != NULL && *nfds < UNIX_FDS_MAX)
            fds[(*nfds)++] = fd;
          else
            {
              close (fd);
              *overflow = 1;
            }
        }
    }
}

ssize_t
unix_recv_with_fds (int sock, void *buf, size_t cap, int *fds, size_t *nfds, hull_error_t *err)
{
  union
  {
    char buf[CMSG_SPACE (sizeof (int) * UNIX_FDS_MAX)];
    struct cmsghdr align;
  } u;
  struct iovec iov = { .iov_base = buf, .iov_len = cap };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof (u.buf) };
  int overflow = 0;
  ssize_t n;

  if (nfds != NULL)
    *nfds = 0;
  do
    n = recvmsg (sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return hull_error (err, errno, "recvmsg");
  collect_fds (&msg, fds, nfds, &overflow);
  if (overflow || (msg.msg_flags & MSG_CTRUNC))
    return hull_error (err, 0, "recvmsg: more file descriptors than expected");
  if (msg.msg_flags & MSG_TRUNC)
    return hull_error (err, EMSGSIZE, "recvmsg: message larger than %zu bytes", cap);
  return n;
}

int
console_socket_send_fd (const char *path, int fd, const char *name, hull_error_t *err)
{
  cleanup_close int sock = -1;
  const char *payload = name != NULL && name[0] != '\0' ? name : "/dev/ptmx";

  /* The caller's path may be longer than sun_path, like the state dir. */
  sock = unix_socket_connect (path, SOCK_STREAM | SOCK_CLOEXEC, err);
  if (sock < 0)
    return hull_error_prefix (err, "console socket");
  if (unix_send_with_fds (sock, payload, strlen (payload), &fd, 1, err) < 0)
    return hull_error_prefix (err, "send pty master to console socket `%s`", path);
  return 0;
}

int
console_socket_recv_fd (int conn, hull_error_t *err)
{
  char buf[4096];
  int fds[UNIX_FDS_MAX];
  size_t nfds = 0;
  ssize_t n = unix_recv_with_fds (conn, buf, sizeof (buf), fds, &nfds, err);

  if (n < 0)
    return -1;
  if (nfds != 1)
    {
      for (size_t i = 0; i < nfds; i++)
        close (fds[i]);
      return hull_error (err, 0, "console socket: expected exactly one fd, got %zu", nfds);
    }
  return fds[0];
}
