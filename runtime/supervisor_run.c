/* `hull run` in the foreground with process.terminal and no
 * --console-socket (an interactive `hull run`, as with runc): the CLI
 * makes its own console socket, receives the pty master, puts its terminal
 * in raw mode and copies between it and the container until the
 * supervisor exits. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/fdio.h"
#include "runtime/console_socket.h"
#include "runtime/supervisor_client.h"

int
run_console_listen (char **path, hull_error_t *err)
{
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  char dir[] = "/tmp/hull-console.XXXXXX";
  cleanup_close int s = -1;

  if (mkdtemp (dir) == NULL)
    return hull_error (err, errno, "console socket directory");
  if (asprintf (path, "%s/sock", dir) < 0)
    return hull_error (err, ENOMEM, "console socket");
  strcpy (a.sun_path, *path);
  s = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0 || bind (s, (struct sockaddr *) &a, sizeof (a)) < 0 || listen (s, 1) < 0)
    return hull_error (err, errno, "console socket `%s`", *path);
  return hull_steal_fd (&s);
}

void
run_console_unlink (char *path)
{
  char *slash;

  if (path == NULL)
    return;
  unlink (path);
  slash = strrchr (path, '/');
  if (slash != NULL)
    {
      *slash = '\0';
      rmdir (path);
    }
  free (path);
}

static void
copy_winsize (int master)
{
  struct winsize ws;

  if (ioctl (0, TIOCGWINSZ, &ws) == 0)
    ioctl (master, TIOCSWINSZ, &ws);
}

/* Copy until the supervisor (our child) exits; signals go to it, window
 * size changes to the pty. */
static void
relay_console (int master, int pfd, int sfd, pid_t child)
{
  bool in_open = true, out_open = true;

  copy_winsize (master);
  for (;;)
    {
      struct pollfd p[4] = { { .fd = pfd, .events = POLLIN }, { .fd = sfd, .events = POLLIN },
                             { .fd = out_open ? master : -1, .events = POLLIN },
                             { .fd = in_open ? 0 : -1, .events = POLLIN } };
      struct signalfd_siginfo si;
      if (poll (p, 4, -1) < 0 && errno != EINTR)
        return;
      if (p[2].revents & (POLLIN | POLLHUP | POLLERR))
        out_open = fdio_copy_once (master, 1);
      if (p[3].revents & (POLLIN | POLLHUP | POLLERR))
        in_open = fdio_copy_once (0, master);
      while ((p[1].revents & POLLIN) && read (sfd, &si, sizeof (si)) == sizeof (si))
        if (si.ssi_signo == SIGWINCH)
          copy_winsize (master);
        else if (si.ssi_signo != SIGCHLD)
          kill (child, (int) si.ssi_signo);
      if (p[0].revents & POLLIN)
        {
          while (out_open && (out_open = fdio_copy_once (master, 1)))
            {
              struct pollfd q = { .fd = master, .events = POLLIN };
              if (poll (&q, 1, 0) <= 0)
                break;
            }
          return;
        }
    }
}

int
run_console_wait (int listen_fd, pid_t child, hull_error_t *err)
{
  cleanup_close int conn = accept4 (listen_fd, NULL, NULL, SOCK_CLOEXEC), master = -1;
  cleanup_close int pfd = pidfd_open (child, 0), sfd = -1;
  struct termios saved, raw;
  bool tty = isatty (0) && tcgetattr (0, &saved) == 0;
  sigset_t all;
  int status = 0;

  if (conn < 0 || (master = console_socket_recv_fd (conn, err)) < 0)
    return conn < 0 ? hull_error (err, errno, "console socket: accept") : -1;
  if (pfd < 0)
    return hull_error (err, errno, "pidfd_open %d", (int) child);
  sigfillset (&all);
  sigprocmask (SIG_BLOCK, &all, NULL);
  sfd = signalfd (-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
  if (tty)
    {
      raw = saved;
      cfmakeraw (&raw);
      tcsetattr (0, TCSANOW, &raw);
    }
  relay_console (master, pfd, sfd, child);
  if (tty)
    tcsetattr (0, TCSANOW, &saved);
  while (waitpid (child, &status, 0) < 0)
    if (errno != EINTR)
      return hull_error (err, errno, "wait for supervisor %d", (int) child);
  return WIFSIGNALED (status) ? 128 + WTERMSIG (status) : WEXITSTATUS (status);
}
