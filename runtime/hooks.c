#include "runtime/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/log.h"

void
hooks_child_reset_signals (void)
{
  sigset_t none;

  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP)
      signal (s, SIG_DFL);
  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
}

static void __attribute__ ((noreturn))
hook_child (const struct oci_hook *h, int in_fd)
{
  char *default_argv[] = { h->path, NULL };
  char *empty_env[] = { NULL };

  hooks_child_reset_signals ();
  if (dup2 (in_fd, 0) < 0)
    _exit (127);
  execve (h->path, h->args.n > 0 ? h->args.v : default_argv, h->env.n > 0 ? h->env.v : empty_env);
  fprintf (stderr, "hull: exec hook `%s`: %s\n", h->path, strerror (errno));
  _exit (127);
}

/* A hook need not read its stdin: a hook that exits first must cost us
 * neither the state write nor a SIGPIPE, whatever the caller's signal
 * setup, so SIGPIPE is blocked around the write and a pending one that
 * the write raised is consumed. */
static void
write_state (int fd, const char *json)
{
  size_t len = strlen (json);
  sigset_t pipe_set, old, pending;
  bool was_pending;
  const struct timespec zero = { 0, 0 };

  sigemptyset (&pipe_set);
  sigaddset (&pipe_set, SIGPIPE);
  sigpending (&pending);
  was_pending = sigismember (&pending, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &pipe_set, &old);
  while (len > 0)
    {
      ssize_t n = write (fd, json, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          if (errno == EPIPE && ! was_pending)
            sigtimedwait (&pipe_set, NULL, &zero);
          break;
        }
      json += n;
      len -= (size_t) n;
    }
  pthread_sigmask (SIG_SETMASK, &old, NULL);
}

/* Wait for pid, at most timeout_s seconds (<= 0: forever).  Returns the
 * wait status, or -2 after killing it on timeout, -1 on error. */
static int
hook_wait (pid_t pid, int timeout_s)
{
  cleanup_close int pfd = -1;
  int status = 0;

  if (timeout_s > 0)
    {
      struct pollfd p;
      int r;
      pfd = pidfd_open (pid, 0);
      if (pfd < 0)
        return -1;
      p = (struct pollfd){ .fd = pfd, .events = POLLIN };
      do
        r = poll (&p, 1, timeout_s * 1000);
      while (r < 0 && errno == EINTR);
      if (r == 0)
        {
          kill (pid, SIGKILL);
          waitpid (pid, &status, 0);
          return -2;
        }
    }
  while (waitpid (pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return status;
}

static int
hook_run_one (const struct oci_hook *h, const char *what, const char *state_json,
              hull_error_t *err)
{
  int fds[2];
  pid_t pid;
  int status;

  if (pipe2 (fds, O_CLOEXEC) < 0)
    return hull_error (err, errno, "%s `%s`: pipe", what, h->path);
  pid = fork ();
  if (pid < 0)
    {
      close (fds[0]);
      close (fds[1]);
      return hull_error (err, errno, "%s `%s`: fork", what, h->path);
    }
  if (pid == 0)
    hook_child (h, fds[0]);
  close (fds[0]);
  write_state (fds[1], state_json);
  close (fds[1]);
  status = hook_wait (pid, h->has_timeout ? h->timeout : 0);
  if (status == -2)
    return hull_error (err, 0, "%s `%s` timed out after %d s", what, h->path, h->timeout);
  if (status == -1)
    return hull_error (err, errno, "%s `%s`: wait", what, h->path);
  if (WIFSIGNALED (status))
    return hull_error (err, 0, "%s `%s` killed by signal %d", what, h->path, WTERMSIG (status));
  if (WEXITSTATUS (status) != 0)
    return hull_error (err, 0, "%s `%s` exited with status %d", what, h->path,
                       WEXITSTATUS (status));
  return 0;
}

int
hooks_run (const struct oci_hook_list *list, enum oci_hook_kind kind, const char *state_json,
           struct hull_log *log, hull_error_t *err)
{
  for (size_t i = 0; i < list->n; i++)
    {
      char what[64];
      snprintf (what, sizeof (what), "%s hook %zu", oci_hook_kind_name (kind), i);
      log_debug (log, "running %s `%s`", what, list->v[i].path);
      if (hook_run_one (&list->v[i], what, state_json, err) < 0)
        return -1;
    }
  return 0;
}
