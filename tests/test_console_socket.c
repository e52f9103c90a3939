/* --console-socket: a receiver gets exactly one fd via SCM_RIGHTS and can
 * use it (here: the master of a real pty, written through the slave). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "runtime/console_socket.h"

struct receiver
{
  int listen_fd;
  int fd;    /* received */
  int nfds;  /* how many came */
  char payload[64];
};

static void *
receive (void *arg)
{
  struct receiver *r = arg;
  char cbuf[CMSG_SPACE (8 * sizeof (int))];
  struct iovec iov = { r->payload, sizeof (r->payload) - 1 };
  struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                      .msg_controllen = sizeof (cbuf) };
  int conn = accept (r->listen_fd, NULL, NULL);

  r->fd = -1;
  if (conn < 0 || recvmsg (conn, &m, 0) < 0)
    return NULL;
  for (struct cmsghdr *c = CMSG_FIRSTHDR (&m); c; c = CMSG_NXTHDR (&m, c))
    if (c->cmsg_type == SCM_RIGHTS)
      {
        r->nfds += (int) ((c->cmsg_len - CMSG_LEN (0)) / sizeof (int));
        memcpy (&r->fd, CMSG_DATA (c), sizeof (int));
      }
  close (conn);
  return NULL;
}

static int
listen_at (const char *path)
{
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  int s = socket (AF_UNIX, SOCK_STREAM, 0);

  strcpy (a.sun_path, path);
  unlink (path);
  cr_assert_eq (bind (s, (struct sockaddr *) &a, sizeof (a)), 0);
  cr_assert_eq (listen (s, 1), 0);
  return s;
}

Test (console_socket, sends_one_usable_pty_master)
{
  char path[64], buf[16] = { 0 };
  struct receiver r = { 0 };
  hull_error_t err = NULL;
  pthread_t t;
  int master, slave;

  snprintf (path, sizeof (path), "/tmp/hull-test-console.%d", getpid ());
  r.listen_fd = listen_at (path);
  pthread_create (&t, NULL, receive, &r);
  master = posix_openpt (O_RDWR | O_NOCTTY);
  cr_assert_geq (master, 0);
  cr_assert_eq (grantpt (master), 0);
  cr_assert_eq (unlockpt (master), 0);
  slave = open (ptsname (master), O_RDWR | O_NOCTTY);
  cr_assert_geq (slave, 0);
  cr_assert_eq (console_socket_send_fd (path, master, "/dev/ptmx", &err), 0, "%s",
                hull_error_msg (&err));
  close (master); /* the receiver's copy must be enough */
  pthread_join (t, NULL);
  cr_assert_eq (r.nfds, 1);
  cr_assert_str_eq (r.payload, "/dev/ptmx");
  cr_assert_neq (r.fd, -1);
  /* Use it: what the slave writes comes out of the received master. */
  cr_assert_eq (write (slave, "ping", 4), 4);
  cr_assert_eq (read (r.fd, buf, sizeof (buf) - 1), 4);
  cr_assert_str_eq (buf, "ping");
  close (slave);
  close (r.fd);
  close (r.listen_fd);
  unlink (path);
}

Test (console_socket, recv_helper_round_trip)
{
  int sv[2], p[2], got;
  hull_error_t err = NULL;
  char c = 0;

  cr_assert_eq (socketpair (AF_UNIX, SOCK_STREAM, 0, sv), 0);
  cr_assert_eq (pipe (p), 0);
  cr_assert_eq (unix_send_with_fds (sv[0], "x", 1, &p[1], 1, &err), 0);
  got = console_socket_recv_fd (sv[1], &err);
  cr_assert_geq (got, 0, "%s", hull_error_msg (&err));
  cr_assert_eq (write (got, "z", 1), 1);
  cr_assert_eq (read (p[0], &c, 1), 1);
  cr_assert_eq (c, 'z');
  /* Zero fds is refused. */
  cr_assert_eq (unix_send_with_fds (sv[0], "y", 1, NULL, 0, &err), 0);
  cr_assert_lt (console_socket_recv_fd (sv[1], &err), 0);
  cr_assert_not_null (strstr (hull_error_msg (&err), "exactly one fd"));
  hull_error_free (&err);
  close (got);
  close (p[0]);
  close (p[1]);
  close (sv[0]);
  close (sv[1]);
}

Test (console_socket, errors_name_the_socket)
{
  hull_error_t err = NULL;

  cr_assert_lt (console_socket_send_fd ("/tmp/hull-no-such-socket", 0, NULL, &err), 0);
  cr_assert_not_null (strstr (hull_error_msg (&err), "/tmp/hull-no-such-socket"));
  hull_error_free (&err);
}
