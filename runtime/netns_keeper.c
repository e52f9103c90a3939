/* The netns keeper: a child process that keeps the privileges the
 * container netns's teardown needs after its parent gave them up (see
 * netns_keeper_start in netns.h).
 *
 * Protocol on a socketpair: the parent sends one byte (or dies: EOF); the
 * keeper runs netns_teardown_links on its copy of struct netns_net, whose
 * netlink socket is the parent's (same open file, bound in the container's
 * netns), answers "int32 rc, int32 errno, message" and exits. */
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/netns.h"
#include "runtime/netns_internal.h"

#define KEEPER_MSG_MAX 512

struct keeper_answer
{
  int32_t rc;
  int32_t errnum;
  char msg[KEEPER_MSG_MAX];
};

/* Everything but fds a and b (both >= 3) closed; stdio on /dev/null, so
 * the keeper never holds a caller's pipe or terminal open. */
static void
keeper_fds (int a, int b)
{
  int lo = a < b ? a : b, hi = a < b ? b : a;
  int null = open ("/dev/null", O_RDWR | O_CLOEXEC);

  for (int fd = 0; fd < 3 && null >= 0; fd++)
    dup2 (null, fd);
  if (lo > 3)
    close_range (3, (unsigned) lo - 1, 0);
  if (hi > lo + 1)
    close_range ((unsigned) lo + 1, (unsigned) hi - 1, 0);
  close_range ((unsigned) hi + 1, ~0u, 0);
}

static void __attribute__ ((noreturn))
keeper_main (struct netns_net *net, int fd)
{
  struct keeper_answer ans = { 0 };
  hull_error_t e = NULL;
  ssize_t n;
  char b;

  prctl (PR_SET_NAME, "hull-netns");
  /* The parent's tap fds stay the parent's: the taps must vanish when it
   * closes them. */
  for (unsigned i = 0; i < net->n_ifaces; i++)
    net->ifaces[i].tap_fd = -1;
  keeper_fds (fd, mnl_socket_get_fd (net->nl));
  do
    n = read (fd, &b, 1);
  while (n < 0 && errno == EINTR);
  ans.rc = netns_teardown_links (net, &e);
  if (ans.rc < 0)
    {
      ans.errnum = e != NULL ? e->status : EIO;
      snprintf (ans.msg, sizeof ans.msg, "%s", hull_error_msg (&e));
    }
  if (send (fd, &ans, sizeof ans, MSG_NOSIGNAL) < 0)
    {
      /* the parent is gone: the cleanup was all that mattered */
    }
  _exit (ans.rc < 0 ? 1 : 0);
}

int
netns_keeper_start (struct netns_net *net, hull_error_t *err)
{
  int sv[2];
  pid_t pid;

  if (net == NULL || net->n_ifaces == 0 || net->keeper_pid > 0)
    return 0;
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return hull_error (err, errno, "netns keeper: socketpair");
  pid = fork ();
  if (pid < 0)
    {
      int e = errno;
      close (sv[0]);
      close (sv[1]);
      return hull_error (err, e, "netns keeper: fork");
    }
  if (pid == 0)
    {
      close (sv[0]);
      keeper_main (net, sv[1]);
    }
  close (sv[1]);
  net->keeper_pid = pid;
  net->keeper_fd = sv[0];
  return 0;
}

int
netns_keeper_finish (struct netns_net *net, hull_error_t *err)
{
  struct keeper_answer ans = { 0 };
  size_t got = 0;
  ssize_t n;
  int status = 0;

  if (send (net->keeper_fd, "x", 1, MSG_NOSIGNAL) < 0 && errno != EPIPE)
    return hull_error (err, errno, "netns keeper: request");
  while (got < sizeof ans)
    {
      n = read (net->keeper_fd, (char *) &ans + got, sizeof ans - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      got += (size_t) n;
    }
  close (net->keeper_fd);
  net->keeper_fd = -1;
  while (waitpid (net->keeper_pid, &status, 0) < 0 && errno == EINTR)
    ;
  net->keeper_pid = 0;
  if (got < sizeof ans)
    return hull_error (err, EPIPE, "netns keeper: ended without an answer (wait status %d)",
                       status);
  if (ans.rc < 0)
    {
      ans.msg[sizeof ans.msg - 1] = '\0';
      return hull_error (err, ans.errnum > 0 ? ans.errnum : EIO, "%s", ans.msg);
    }
  return 0;
}
