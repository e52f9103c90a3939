/* Starting and stopping Debian's virtiofsd for one shared directory. */
#include "runtime/virtiofsd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/unix_socket.h"

#define VIRTIOFSD_MAX_ARGS 24
#define VIRTIOFSD_LOG_TAIL 512

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
virtiofsd_init (struct virtiofsd *d)
{
  memset (d, 0, sizeof (*d));
  d->log_fd = -1;
  d->exit_status = -1;
}

int
virtiofsd_socket_path (char **out, const char *state_dir, unsigned index,
                       hull_error_t *err)
{
  char *p = NULL;

  if (asprintf (&p, "%s/virtiofs-%u.sock", state_dir, index) < 0)
    return hull_error (err, ENOMEM, "virtiofsd socket path");
  /* Longer than sun_path is fine (see runtime/unix_socket.h); only a path
   * no system call takes is refused. */
  if (strlen (p) >= PATH_MAX)
    {
      hull_error (err, ENAMETOOLONG,
                  "virtiofsd socket `%s` is longer than %d bytes", p,
                  PATH_MAX - 1);
      free (p);
      return -1;
    }
  *out = p;
  return 0;
}

static bool
one_of (const char *v, const char *a, const char *b, const char *c)
{
  return strcmp (v, a) == 0 || strcmp (v, b) == 0
         || (c != NULL && strcmp (v, c) == 0);
}

/* Everything that can be checked before a process exists, so bad input
 * leaves nothing behind and the error names the field or path. */
static int
check_config (const struct virtiofsd_config *cfg, const char *binary,
              hull_error_t *err)
{
  struct stat st;

  if (cfg->source == NULL || cfg->source[0] == '\0')
    return hull_error (err, EINVAL, "virtiofsd: no source directory given");
  if (cfg->socket_path == NULL || cfg->socket_path[0] == '\0')
    return hull_error (err, EINVAL, "virtiofsd: no socket path given");
  if (stat (cfg->source, &st) < 0)
    return hull_error (err, errno, "virtiofsd source `%s`", cfg->source);
  if (!S_ISDIR (st.st_mode))
    return hull_error (err, ENOTDIR, "virtiofsd source `%s`", cfg->source);
  /* virtiofsd splits -o values at commas. */
  if (strchr (cfg->source, ',') != NULL)
    return hull_error (err, EINVAL,
                       "virtiofsd source `%s`: commas are not supported",
                       cfg->source);
  if (access (binary, X_OK) < 0)
    return hull_error (err, errno, "virtiofsd binary `%s`", binary);
  if (strlen (cfg->socket_path) >= PATH_MAX)
    return hull_error (err, ENAMETOOLONG, "virtiofsd socket `%s`",
                       cfg->socket_path);
  if (cfg->cache != NULL && !one_of (cfg->cache, "auto", "always", "none"))
    return hull_error (err, EINVAL,
                       "virtiofsd cache mode `%s`: want auto, always or none",
                       cfg->cache);
  if (cfg->sandbox != NULL && !one_of (cfg->sandbox, "chroot", "namespace", NULL))
    return hull_error (err, EINVAL,
                       "virtiofsd sandbox `%s`: want chroot or namespace",
                       cfg->sandbox);
  return 0;
}

/* A socket left by a previous run that died is removed; anything else at
 * that path is an error rather than something to delete. */
static int
remove_stale_socket (const char *path, hull_error_t *err)
{
  struct stat st;

  if (lstat (path, &st) < 0)
    {
      if (errno == ENOENT)
        return 0;
      return hull_error (err, errno, "virtiofsd socket `%s`", path);
    }
  if (!S_ISSOCK (st.st_mode))
    return hull_error (err, EEXIST, "virtiofsd socket `%s` exists and is not "
                       "a socket", path);
  if (unlink (path) < 0)
    return hull_error (err, errno, "remove stale virtiofsd socket `%s`", path);
  return 0;
}

struct argv_buf
{
  char *argv[VIRTIOFSD_MAX_ARGS];
  char *owned[VIRTIOFSD_MAX_ARGS];
  unsigned n, nowned;
};

static void
argv_free (struct argv_buf *a)
{
  for (unsigned i = 0; i < a->nowned; i++)
    free (a->owned[i]);
}

static int
argv_add (struct argv_buf *a, const char *fmt, ...)
    __attribute__ ((format (printf, 2, 3)));

static int
argv_add (struct argv_buf *a, const char *fmt, ...)
{
  va_list ap;
  char *s = NULL;
  int r;

  if (a->n + 1 >= VIRTIOFSD_MAX_ARGS)
    return -1;
  va_start (ap, fmt);
  r = vasprintf (&s, fmt, ap);
  va_end (ap);
  if (r < 0)
    return -1;
  a->owned[a->nowned++] = s;
  a->argv[a->n++] = s;
  a->argv[a->n] = NULL;
  return 0;
}

static int
build_argv (struct argv_buf *a, const struct virtiofsd_config *cfg,
            const char *sock_addr,
            const char *binary)
{
  int r = 0;

  memset (a, 0, sizeof (*a));
  r |= argv_add (a, "%s", binary);
  r |= argv_add (a, "--socket-path=%s", sock_addr);
  r |= argv_add (a, "-o");
  r |= argv_add (a, "source=%s", cfg->source);
  r |= argv_add (a, "-o");
  r |= argv_add (a, "cache=%s", cfg->cache ? cfg->cache : "auto");
  r |= argv_add (a, "-o");
  r |= argv_add (a, "sandbox=%s", cfg->sandbox ? cfg->sandbox : "namespace");
  r |= argv_add (a, "-o");
  r |= argv_add (a, "%s", cfg->xattr ? "xattr" : "no_xattr");
  if (!cfg->no_submounts)
    {
      r |= argv_add (a, "-o");
      r |= argv_add (a, "announce_submounts");
    }
  return r < 0 ? -1 : 0;
}

static int
open_log (const struct virtiofsd_config *cfg, hull_error_t *err)
{
  int fd;

  if (cfg->log_path != NULL)
    {
      fd = open (cfg->log_path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
      if (fd < 0)
        return hull_error (err, errno, "virtiofsd log `%s`", cfg->log_path);
      return fd;
    }
  fd = memfd_create ("virtiofsd-log", MFD_CLOEXEC);
  if (fd < 0)
    return hull_error (err, errno, "virtiofsd log memfd");
  return fd;
}

static void
child_say (const char *msg)
{
  if (write (2, msg, strlen (msg)) < 0)
    {
      /* nowhere else to report */
    }
}

/* A private mount namespace in which src and everything mounted below it
 * is read-only, so no guest request can write through this virtiofsd. */
static int
child_make_readonly (const char *src)
{
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

  if (unshare (CLONE_NEWNS) < 0
      || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
      || mount (src, src, NULL, MS_BIND | MS_REC, NULL) < 0)
    return -1;
  if (mount_setattr (AT_FDCWD, src, AT_RECURSIVE, &attr, sizeof attr) == 0)
    return 0;
  if (errno != ENOSYS)
    return -1;
  /* Kernels before 5.12: the top mount only. */
  return mount (NULL, src, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL);
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static void __attribute__ ((noreturn))
child_exec (char **argv, int log_fd, int null_fd, pid_t parent,
            const char *ro_source)
{
  sigset_t none;
  static const char msg[] = "hull: exec virtiofsd failed\n";

  /* Die with the supervisor; if it is already gone, do not start. */
  if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid () != parent)
    _exit (127);
  /* The supervisor blocks every signal and may ignore some: virtiofsd
   * must see SIGTERM and friends as usual. */
  sigemptyset (&none);
  for (int sig = 1; sig < NSIG; sig++)
    if (sig != SIGKILL && sig != SIGSTOP)
      {
        struct sigaction sa = { .sa_handler = SIG_DFL };
        sigaction (sig, &sa, NULL);
      }
  sigprocmask (SIG_SETMASK, &none, NULL);
  if (dup2 (null_fd, 0) < 0 || dup2 (log_fd, 1) < 0 || dup2 (log_fd, 2) < 0)
    _exit (127);
  if (ro_source != NULL && child_make_readonly (ro_source) < 0)
    {
      child_say ("hull: cannot make the virtiofsd source read-only: ");
      child_say (strerrordesc_np (errno) ? strerrordesc_np (errno) : "error");
      child_say ("\n");
      _exit (126);
    }
  /* Nothing of the supervisor (VM fds, container sockets) leaks in. */
  syscall (SYS_close_range, 3, ~0u, 0);
  execv (argv[0], argv);
  if (write (2, msg, sizeof (msg) - 1) < 0)
    _exit (127);
  _exit (127);
}

/* The end of what virtiofsd printed, single line, for error messages. */
static void
log_tail (int fd, char *buf, size_t size)
{
  struct stat st;
  off_t off = 0;
  ssize_t n;

  buf[0] = '\0';
  if (fd < 0 || fstat (fd, &st) < 0)
    return;
  if (st.st_size > (off_t) size - 1)
    off = st.st_size - (off_t) (size - 1);
  n = pread (fd, buf, size - 1, off);
  if (n <= 0)
    return;
  buf[n] = '\0';
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
    buf[--n] = '\0';
  for (ssize_t i = 0; i < n; i++)
    if (buf[i] == '\n')
      buf[i] = ' ';
}

static void
describe_status (int status, char *buf, size_t size)
{
  if (status == -1)
    snprintf (buf, size, "exited");
  else if (WIFEXITED (status))
    snprintf (buf, size, "exited with status %d", WEXITSTATUS (status));
  else if (WIFSIGNALED (status))
    snprintf (buf, size, "killed by signal %d", WTERMSIG (status));
  else
    snprintf (buf, size, "stopped (status %#x)", status);
}

/* Polls for the socket while watching the child. */
static int
wait_socket (struct virtiofsd *d, const struct virtiofsd_config *cfg,
             hull_error_t *err)
{
  int timeout = cfg->timeout_ms > 0 ? cfg->timeout_ms
                                    : VIRTIOFSD_DEFAULT_TIMEOUT_MS;
  int64_t deadline = now_ms () + timeout;
  char tail[VIRTIOFSD_LOG_TAIL], how[64];
  struct stat st;
  int status;
  pid_t r;

  for (;;)
    {
      if (stat (d->socket_path, &st) == 0 && S_ISSOCK (st.st_mode))
        return 0;
      r = waitpid (d->pid, &status, WNOHANG);
      if (r == d->pid || (r < 0 && errno == ECHILD))
        {
          /* ECHILD: someone else reaped it; it is gone all the same. */
          if (r < 0)
            status = -1;
          d->pid = 0;
          d->exit_status = status;
          describe_status (status, how, sizeof (how));
          log_tail (d->log_fd, tail, sizeof (tail));
          return hull_error (err, 0,
                             "virtiofsd for `%s` %s before creating socket "
                             "`%s`: %s",
                             cfg->source, how, d->socket_path,
                             tail[0] ? tail : "(no message)");
        }
      if (now_ms () >= deadline)
        {
          log_tail (d->log_fd, tail, sizeof (tail));
          return hull_error (err, ETIMEDOUT,
                             "virtiofsd for `%s` did not create socket `%s` "
                             "within %d ms (%s)",
                             cfg->source, d->socket_path, timeout,
                             tail[0] ? tail : "no message");
        }
      usleep (5 * 1000);
    }
}

static int
spawn (struct virtiofsd *d, struct argv_buf *a, const char *ro_source,
       hull_error_t *err)
{
  cleanup_close int null_fd = open ("/dev/null", O_RDWR | O_CLOEXEC);
  pid_t parent = getpid (), pid;

  if (null_fd < 0)
    return hull_error (err, errno, "open `/dev/null`");
  pid = fork ();
  if (pid < 0)
    return hull_error (err, errno, "fork virtiofsd");
  if (pid == 0)
    child_exec (a->argv, d->log_fd, null_fd, parent, ro_source);
  d->pid = pid;
  return 0;
}

int
virtiofsd_start (struct virtiofsd *d, const struct virtiofsd_config *cfg,
                 hull_error_t *err)
{
  const char *binary = cfg->binary ? cfg->binary : VIRTIOFSD_DEFAULT_PATH;
  struct argv_buf a;
  struct unix_addr ua;
  int r;

  virtiofsd_init (d);
  if (check_config (cfg, binary, err) < 0
      || remove_stale_socket (cfg->socket_path, err) < 0)
    return -1;
  /* virtiofsd binds the socket itself: a path too long for sun_path is
   * given to it as /proc/<our pid>/fd/<dir fd>/<name> (its own fds are
   * closed before exec), valid while ua is held, i.e. until it listens. */
  if (unix_addr_make (&ua, cfg->socket_path, getpid (), err) < 0)
    return hull_error_prefix (err, "virtiofsd");
  if (build_argv (&a, cfg, ua.sa.sun_path, binary) < 0)
    {
      unix_addr_release (&ua);
      argv_free (&a);
      return hull_error (err, ENOMEM, "virtiofsd arguments");
    }
  d->socket_path = strdup (cfg->socket_path);
  d->log_fd = open_log (cfg, err);
  if (d->socket_path == NULL || d->log_fd < 0)
    {
      unix_addr_release (&ua);
      argv_free (&a);
      if (d->log_fd >= 0)
        hull_error (err, ENOMEM, "virtiofsd socket path");
      virtiofsd_stop (d);
      return -1;
    }
  r = spawn (d, &a, cfg->readonly ? cfg->source : NULL, err);
  argv_free (&a);
  if (r == 0)
    r = wait_socket (d, cfg, err);
  unix_addr_release (&ua);
  if (r < 0)
    virtiofsd_stop (d);
  return r;
}

/* Waits up to ms for the child to exit; true once reaped. */
static bool
reap_within (struct virtiofsd *d, int ms)
{
  int64_t deadline = now_ms () + ms;
  int status;
  pid_t r;

  for (;;)
    {
      r = waitpid (d->pid, &status, WNOHANG);
      if (r == d->pid || (r < 0 && errno == ECHILD))
        {
          d->exit_status = r == d->pid ? status : -1;
          d->pid = 0;
          return true;
        }
      if (now_ms () >= deadline)
        return false;
      usleep (5 * 1000);
    }
}

void
virtiofsd_stop (struct virtiofsd *d)
{
  if (d->pid > 0)
    {
      kill (d->pid, SIGTERM);
      if (!reap_within (d, VIRTIOFSD_STOP_GRACE_MS))
        {
          kill (d->pid, SIGKILL);
          while (!reap_within (d, 1000))
            ;
        }
    }
  /* virtiofsd never removes its socket itself. */
  if (d->socket_path != NULL)
    unlink (d->socket_path);
  free (d->socket_path);
  d->socket_path = NULL;
  if (d->log_fd >= 0)
    close (d->log_fd);
  d->log_fd = -1;
}

bool
virtiofsd_running (struct virtiofsd *d)
{
  int status;
  pid_t r;

  if (d->pid <= 0)
    return false;
  r = waitpid (d->pid, &status, WNOHANG);
  if (r == d->pid || (r < 0 && errno == ECHILD))
    {
      d->exit_status = r == d->pid ? status : -1;
      d->pid = 0;
      return false;
    }
  return true;
}
