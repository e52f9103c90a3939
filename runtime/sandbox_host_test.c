/* TEST ONLY: a backend that runs the container's processes as plain host
 * child processes (chrooted into the rootfs when hull runs as root).  It
 * exists so the lifecycle (CLI, supervisor, state, pid file, console
 * socket, hooks, signals, exit statuses) can be tested without a VM.  It
 * provides no isolation at all, so it is compiled only into build/hull-test
 * (-DHULL_TEST_BACKEND) and never into libhull.a or build/hull.
 *
 * Hooks: createContainer/startContainer belong "in the container's
 * namespaces"; this backend has none, so they run on the host from the
 * supervisor at the same points of the lifecycle. */
#ifdef HULL_TEST_BACKEND

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/hooks.h"
#include "runtime/log.h"
#include "runtime/sandbox.h"

struct host_proc
{
  pid_t pid;
  int pidfd;
  int master; /* dup of the pty master, for resize; -1 */
  bool is_init;
  struct host_proc *next;
};

struct sandbox
{
  int epfd;
  struct host_proc *procs;
  int start_fd; /* init blocks reading this until start */
  int err_fd;   /* init's exec error report */
  const struct oci_config *config;
  char *rootfs;
  int preserve_fds;
  struct hull_log *log;
  char *(*state_json) (void *ctx, enum container_status s);
  void *ctx;
};

/* ---- child side --------------------------------------------------------- */

static void __attribute__ ((noreturn))
child_fail (int err_fd, const char *what, const char *arg)
{
  dprintf (err_fd, "%s `%s`: %s", what, arg, strerror (errno));
  _exit (127);
}

static void
child_stdio (const char *slave, const int stdio[3], int err_fd)
{
  if (slave != NULL)
    {
      int fd = open (slave, O_RDWR);
      if (fd < 0)
        child_fail (err_fd, "open pty", slave);
      if (ioctl (fd, TIOCSCTTY, 0) < 0)
        child_fail (err_fd, "TIOCSCTTY", slave);
      for (int i = 0; i < 3; i++)
        dup2 (fd, i);
      if (fd > 2)
        close (fd);
      return;
    }
  for (int i = 0; i < 3; i++)
    if (stdio[i] != i && dup2 (stdio[i] >= 0 ? stdio[i] : open ("/dev/null", O_RDWR), i) < 0)
      child_fail (err_fd, "dup2", "stdio");
}

static void
child_user (const struct oci_process *p, int err_fd)
{
  if (geteuid () != 0)
    return; /* unprivileged tests run as the caller */
  if (setgroups (p->user.n_additional_gids, p->user.additional_gids) < 0)
    child_fail (err_fd, "setgroups", "user.additionalGids");
  if (setgid (p->user.gid) < 0)
    child_fail (err_fd, "setgid", "user.gid");
  if (setuid (p->user.uid) < 0)
    child_fail (err_fd, "setuid", "user.uid");
}

static void __attribute__ ((noreturn))
child_exec (const struct sandbox *sb, const struct oci_process *p, int keep_fds, int err_fd)
{
  extern char **environ;

  if (geteuid () == 0 && chroot (sb->rootfs) < 0)
    child_fail (err_fd, "chroot", sb->rootfs);
  if (chdir (p->cwd) < 0)
    child_fail (err_fd, "chdir", p->cwd);
  if (p->user.has_umask)
    umask (p->user.umask);
  child_user (p, err_fd);
  /* Everything but stdio and --preserve-fds stays behind; err_fd is
   * close-on-exec and reports a failing exec. */
  close_range (3 + keep_fds, ~0U, CLOSE_RANGE_CLOEXEC);
  environ = p->env.v ? p->env.v : (char *[]){ NULL };
  execvp (p->args.v[0], p->args.v);
  child_fail (err_fd, "exec", p->args.v[0]);
}

struct spawn
{
  const struct oci_process *p;
  const int *stdio;
  const char *slave;
  int keep_fds;
  int start_fd; /* -1: exec at once */
  int err_fd;
};

/* Close every fd from `from` up, except the (at most two) in keep[]: the
 * child must not hold the supervisor's descriptors (its ready pipe, its
 * socket) while it waits to be started. */
static void
close_fds_except (int from, int a, int b)
{
  int lo = a < b ? a : b, hi = a < b ? b : a;

  if (lo >= from)
    close_range ((unsigned) from, (unsigned) lo - 1, 0);
  if (hi > lo + 1 && hi >= from)
    close_range ((unsigned) (lo + 1 > from ? lo + 1 : from), (unsigned) hi - 1, 0);
  close_range ((unsigned) (hi + 1 > from ? hi + 1 : from), ~0U, 0);
}

static void __attribute__ ((noreturn))
child_main (const struct sandbox *sb, const struct spawn *s, pid_t parent)
{
  char go;

  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () != parent)
    _exit (137);
  hooks_child_reset_signals ();
  setsid ();
  child_stdio (s->slave, s->stdio, s->err_fd);
  close_fds_except (3 + s->keep_fds, s->start_fd >= 0 ? s->start_fd : s->err_fd, s->err_fd);
  if (s->start_fd >= 0)
    {
      ssize_t n;
      do
        n = read (s->start_fd, &go, 1);
      while (n < 0 && errno == EINTR);
      if (n != 1)
        _exit (137); /* destroyed before start */
      close (s->start_fd);
    }
  child_exec (sb, s->p, s->keep_fds, s->err_fd);
}

/* ---- supervisor side ---------------------------------------------------- */

static int
open_pty (const struct oci_process *p, int *master, char *slave, size_t len, hull_error_t *err)
{
  cleanup_close int m = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);

  if (m < 0 || grantpt (m) < 0 || unlockpt (m) < 0 || ptsname_r (m, slave, len) != 0)
    return hull_error (err, errno, "allocate pty");
  if (p->has_console_size)
    {
      struct winsize ws = { .ws_row = (unsigned short) p->console_height,
                            .ws_col = (unsigned short) p->console_width };
      ioctl (m, TIOCSWINSZ, &ws);
    }
  *master = hull_steal_fd (&m);
  return 0;
}

static int
track (struct sandbox *sb, pid_t pid, int master, bool is_init, hull_error_t *err)
{
  struct host_proc *hp = calloc (1, sizeof (*hp));
  struct epoll_event ev = { .events = EPOLLIN };

  if (hp == NULL)
    return hull_error (err, ENOMEM, "track process");
  hp->pid = pid;
  hp->master = master >= 0 ? fcntl (master, F_DUPFD_CLOEXEC, 3) : -1;
  hp->is_init = is_init;
  hp->pidfd = pidfd_open (pid, 0);
  ev.data.fd = hp->pidfd;
  if (hp->pidfd < 0 || epoll_ctl (sb->epfd, EPOLL_CTL_ADD, hp->pidfd, &ev) < 0)
    {
      if (hp->pidfd >= 0)
        close (hp->pidfd);
      free (hp);
      return hull_error (err, errno, "watch process %d", (int) pid);
    }
  hp->next = sb->procs;
  sb->procs = hp;
  return 0;
}

/* Fork a process per s; returns its pid and the parent end of err_fd. */
static pid_t
spawn (struct sandbox *sb, struct spawn *s, int *err_read, hull_error_t *err)
{
  int ep[2];
  pid_t parent = getpid (), pid;

  if (pipe2 (ep, O_CLOEXEC) < 0)
    return hull_error (err, errno, "pipe");
  s->err_fd = ep[1];
  pid = fork ();
  if (pid < 0)
    {
      close (ep[0]);
      close (ep[1]);
      return hull_error (err, errno, "fork");
    }
  if (pid == 0)
    {
      close (ep[0]);
      child_main (sb, s, parent);
    }
  close (ep[1]);
  *err_read = ep[0];
  return pid;
}

/* EOF on err_fd means the exec succeeded. */
static int
wait_exec (int fd, const char *what, hull_error_t *err)
{
  char buf[1024];
  ssize_t n, len = 0;

  while ((n = read (fd, buf + len, sizeof (buf) - 1 - (size_t) len)) > 0
         || (n < 0 && errno == EINTR))
    if (n > 0)
      len += n;
  close (fd);
  buf[len] = '\0';
  if (len > 0)
    return hull_error (err, 0, "%s: %s", what, buf);
  return 0;
}

static int
run_hooks (struct sandbox *sb, enum oci_hook_kind kind, enum container_status st,
           hull_error_t *err)
{
  cleanup_free char *json = sb->state_json (sb->ctx, st);

  if (json == NULL)
    return hull_error (err, ENOMEM, "state JSON");
  return hooks_run (&sb->config->hooks[kind], kind, json, sb->log, err);
}

static void host_destroy (struct sandbox *sb);

static int
host_create (const struct sandbox_create_args *a, struct sandbox **out, int *pty_master,
             hull_error_t *err)
{
  const struct oci_process *p = a->config->process;
  struct sandbox *sb = calloc (1, sizeof (*sb));
  char slave[128];
  int master = -1, sp[2];
  struct spawn s = { .p = p, .stdio = a->stdio, .keep_fds = a->preserve_fds };
  pid_t pid;

  *out = NULL;
  *pty_master = -1;
  if (sb == NULL)
    return hull_error (err, ENOMEM, "host sandbox");
  if (access (a->rootfs, F_OK) < 0)
    {
      free (sb);
      return hull_error (err, errno, "root.path: rootfs `%s`", a->rootfs);
    }
  *sb = (struct sandbox){ .epfd = epoll_create1 (EPOLL_CLOEXEC), .start_fd = -1, .err_fd = -1,
                          .config = a->config, .rootfs = strdup (a->rootfs),
                          .preserve_fds = a->preserve_fds, .log = a->log,
                          .state_json = a->state_json, .ctx = a->ctx };
  if (p->terminal && open_pty (p, &master, slave, sizeof (slave), err) < 0)
    goto fail;
  s.slave = p->terminal ? slave : NULL;
  if (pipe2 (sp, O_CLOEXEC) < 0)
    {
      hull_error (err, errno, "pipe");
      goto fail;
    }
  s.start_fd = sp[0];
  sb->start_fd = sp[1];
  pid = spawn (sb, &s, &sb->err_fd, err);
  close (sp[0]);
  if (pid < 0 || track (sb, pid, master, true, err) < 0)
    goto fail;
  if (a->run_host_hooks (a->ctx, err) < 0
      || run_hooks (sb, OCI_HOOK_CREATE_CONTAINER, STATUS_CREATING, err) < 0)
    goto fail;
  *out = sb;
  *pty_master = master;
  return 0;
fail:
  if (master >= 0)
    close (master);
  host_destroy (sb);
  return -1;
}

static int
host_start (struct sandbox *sb, hull_error_t *err)
{
  /* startContainer hooks: run by `hull start`, as for the VM backend. */
  if (write (sb->start_fd, "1", 1) != 1)
    return hull_error (err, errno, "start container process");
  close (sb->start_fd);
  sb->start_fd = -1;
  return wait_exec (hull_steal_fd (&sb->err_fd), "start", err);
}

static int
host_exec (struct sandbox *sb, const struct sandbox_exec_args *a, uint32_t *proc, int *pty_master,
           hull_error_t *err)
{
  struct spawn s = { .p = a->process, .stdio = a->stdio, .start_fd = -1 };
  cleanup_close int master = -1;
  char slave[128];
  int efd;
  pid_t pid;

  *pty_master = -1;
  if (a->process->terminal && open_pty (a->process, &master, slave, sizeof (slave), err) < 0)
    return -1;
  s.slave = a->process->terminal ? slave : NULL;
  pid = spawn (sb, &s, &efd, err);
  if (pid < 0)
    return -1;
  if (track (sb, pid, master, false, err) < 0)
    {
      kill (pid, SIGKILL);
      close (efd);
      return -1;
    }
  if (wait_exec (efd, "exec", err) < 0)
    return -1;
  *proc = (uint32_t) pid;
  *pty_master = hull_steal_fd (&master);
  return 0;
}

static struct host_proc *
find (struct sandbox *sb, uint32_t proc)
{
  for (struct host_proc *hp = sb->procs; hp != NULL; hp = hp->next)
    if (proc == SANDBOX_INIT ? hp->is_init : hp->pid == (pid_t) proc)
      return hp;
  return NULL;
}

static int
host_signal (struct sandbox *sb, uint32_t proc, int signo, bool all, hull_error_t *err)
{
  struct host_proc *hp;

  if (all)
    {
      for (hp = sb->procs; hp != NULL; hp = hp->next)
        if (kill (-hp->pid, signo) < 0)
          kill (hp->pid, signo);
      return 0;
    }
  hp = find (sb, proc);
  if (hp == NULL)
    return hull_error (err, ESRCH, "process %u", proc);
  if (pidfd_send_signal (hp->pidfd, signo, NULL, 0) < 0)
    return hull_error (err, errno, "signal %d to process %u", signo, proc);
  return 0;
}

static int
host_event_fd (struct sandbox *sb)
{
  return sb->epfd;
}

static void
unlink_proc (struct sandbox *sb, struct host_proc *hp)
{
  struct host_proc **pp = &sb->procs;

  while (*pp != hp)
    pp = &(*pp)->next;
  *pp = hp->next;
  epoll_ctl (sb->epfd, EPOLL_CTL_DEL, hp->pidfd, NULL);
  close (hp->pidfd);
  if (hp->master >= 0)
    close (hp->master);
  free (hp);
}

static int
host_next_exit (struct sandbox *sb, struct sandbox_exit *out, hull_error_t *err)
{
  (void) err;
  for (struct host_proc *hp = sb->procs; hp != NULL; hp = hp->next)
    {
      int status;
      if (waitpid (hp->pid, &status, WNOHANG) != hp->pid)
        continue;
      out->proc = hp->is_init ? SANDBOX_INIT : (uint32_t) hp->pid;
      out->status = WIFSIGNALED (status) ? 128 + WTERMSIG (status) : WEXITSTATUS (status);
      unlink_proc (sb, hp);
      return 1;
    }
  return 0;
}

static int
host_close_stdin (struct sandbox *sb, uint32_t proc, hull_error_t *err)
{
  (void) sb;
  return hull_error (err, ENOTSUP,
                     "close stdin of process %u: the host test backend hands stdin over directly",
                     proc);
}

static int
host_resize (struct sandbox *sb, uint32_t proc, unsigned rows, unsigned cols, hull_error_t *err)
{
  struct host_proc *hp = find (sb, proc);
  struct winsize ws = { .ws_row = (unsigned short) rows, .ws_col = (unsigned short) cols };

  if (hp == NULL || hp->master < 0)
    return hull_error (err, 0, "resize: process %u has no terminal", proc);
  if (ioctl (hp->master, TIOCSWINSZ, &ws) < 0)
    return hull_error (err, errno, "resize process %u", proc);
  return 0;
}

static int
host_pause (struct sandbox *sb, hull_error_t *err)
{
  return host_signal (sb, SANDBOX_INIT, SIGSTOP, true, err);
}

static int
host_resume (struct sandbox *sb, hull_error_t *err)
{
  return host_signal (sb, SANDBOX_INIT, SIGCONT, true, err);
}

/* Fields of /proc/<pid>/stat after the command name (field 3 first). */
static int
proc_stat_fields (pid_t pid, unsigned long long *f, int nf)
{
  char path[64], buf[1024], *p;
  cleanup_fclose FILE *fp = NULL;
  int i = 0;

  snprintf (path, sizeof (path), "/proc/%d/stat", (int) pid);
  fp = fopen (path, "re");
  if (fp == NULL || fgets (buf, sizeof (buf), fp) == NULL || (p = strrchr (buf, ')')) == NULL)
    return -1;
  p += 4; /* ") S " */
  for (i = 0; i < nf && *p; i++)
    {
      f[i] = strtoull (p, &p, 10);
      while (*p == ' ')
        p++;
    }
  return i == nf ? 0 : -1;
}

static bool
in_sandbox (struct sandbox *sb, pid_t pid)
{
  unsigned long long f[4]; /* ppid pgrp session tty */

  if (proc_stat_fields (pid, f, 4) < 0)
    return false;
  for (struct host_proc *hp = sb->procs; hp != NULL; hp = hp->next)
    if ((pid_t) f[2] == hp->pid || pid == hp->pid)
      return true;
  return false;
}

static int
host_ps (struct sandbox *sb, pid_t **pids, size_t *n, hull_error_t *err)
{
  cleanup_closedir DIR *d = opendir ("/proc");
  struct dirent *de;
  size_t cap = 0;

  *pids = NULL;
  *n = 0;
  if (d == NULL)
    return hull_error (err, errno, "open /proc");
  while ((de = readdir (d)) != NULL)
    {
      pid_t pid = (pid_t) atoi (de->d_name);
      if (pid <= 0 || ! in_sandbox (sb, pid))
        continue;
      if (*n == cap)
        {
          pid_t *nv = realloc (*pids, (cap = cap ? cap * 2 : 16) * sizeof (pid_t));
          if (nv == NULL)
            return hull_error (err, ENOMEM, "ps");
          *pids = nv;
        }
      (*pids)[(*n)++] = pid;
    }
  return 0;
}

static int
host_stats (struct sandbox *sb, struct sandbox_stats *out, hull_error_t *err)
{
  cleanup_free pid_t *pids = NULL;
  long tick = sysconf (_SC_CLK_TCK), page = sysconf (_SC_PAGESIZE);
  size_t n = 0;

  if (host_ps (sb, &pids, &n, err) < 0)
    return -1;
  memset (out, 0, sizeof (*out));
  for (size_t i = 0; i < n; i++)
    {
      unsigned long long f[22]; /* fields 4..25: utime 14, stime 15, rss 24 */
      if (proc_stat_fields (pids[i], f, 22) < 0)
        continue;
      out->cpu_user_ns += f[10] * (1000000000ULL / (unsigned long long) tick);
      out->cpu_kernel_ns += f[11] * (1000000000ULL / (unsigned long long) tick);
      out->memory_usage += f[20] * (unsigned long long) page;
    }
  out->cpu_total_ns = out->cpu_user_ns + out->cpu_kernel_ns;
  out->pids_current = n;
  return 0;
}

static int
host_update (struct sandbox *sb, const struct oci_linux_resources *r, hull_error_t *err)
{
  (void) sb, (void) r;
  return hull_error (err, ENOTSUP, "update: the host test backend has no cgroups to apply "
                                   "resources to");
}

static void
host_destroy (struct sandbox *sb)
{
  if (sb == NULL)
    return;
  for (struct host_proc *hp = sb->procs; hp != NULL; hp = hp->next)
    {
      kill (-hp->pid, SIGKILL);
      kill (hp->pid, SIGKILL);
    }
  while (sb->procs != NULL)
    {
      waitpid (sb->procs->pid, NULL, 0);
      unlink_proc (sb, sb->procs);
    }
  if (sb->start_fd >= 0)
    close (sb->start_fd);
  if (sb->err_fd >= 0)
    close (sb->err_fd);
  if (sb->epfd >= 0)
    close (sb->epfd);
  free (sb->rootfs);
  free (sb);
}

const struct sandbox_ops sandbox_host_test_ops = {
  .name = "host-test",
  .create = host_create,
  .start = host_start,
  .exec = host_exec,
  .signal = host_signal,
  .event_fd = host_event_fd,
  .next_exit = host_next_exit,
  .close_stdin = host_close_stdin,
  .resize = host_resize,
  .pause = host_pause,
  .resume = host_resume,
  .stats = host_stats,
  .update = host_update,
  .ps = host_ps,
  .destroy = host_destroy,
};

#endif /* HULL_TEST_BACKEND */
