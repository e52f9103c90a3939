/* create / start / delete: the parts of the lifecycle that start or end a
 * supervisor. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cgroup_host.h"
#include "runtime/cleanup.h"
#include "runtime/container_id.h"
#include "runtime/hooks.h"
#include "runtime/lock.h"
#include "runtime/oci_config.h"
#include "runtime/pidfile.h"
#include "runtime/pod.h"
#include "runtime/supervisor_client.h"
#include "runtime/supervisor_proto.h"

#define MAX_SUP_ARGS 32

static int
mkdir_p (const char *path, hull_error_t *err)
{
  cleanup_free char *copy = strdup (path);

  if (copy == NULL)
    return hull_error (err, ENOMEM, "mkdir `%s`", path);
  for (char *p = copy + 1; *p; p++)
    if (*p == '/')
      {
        *p = '\0';
        if (mkdir (copy, 0711) < 0 && errno != EEXIST)
          return hull_error (err, errno, "mkdir `%s`", copy);
        *p = '/';
      }
  if (mkdir (copy, 0711) < 0 && errno != EEXIST)
    return hull_error (err, errno, "mkdir `%s`", copy);
  return 0;
}

/* Under the root lock: make $root/<id> and take its lock.  Returns the
 * container lock fd. */
static int
claim_state_dir (const struct hull_context *ctx, const char *id, const char *dir,
                 hull_error_t *err)
{
  cleanup_free char *root_lock = NULL, *lock = NULL;
  cleanup_close int rfd = -1;

  if (mkdir_p (ctx->root, err) < 0)
    return -1;
  if (asprintf (&root_lock, "%s/.lock", ctx->root) < 0 || asprintf (&lock, "%s/lock", dir) < 0)
    return hull_error (err, ENOMEM, "lock path");
  rfd = lock_acquire (root_lock, true, true, err);
  if (rfd < 0)
    return -1;
  if (mkdir (dir, 0700) < 0)
    {
      if (errno == EEXIST)
        return hull_error (err, 0, "container `%s` already exists", id);
      return hull_error (err, errno, "mkdir `%s`", dir);
    }
  return lock_acquire (lock, true, true, err);
}

static void
push_arg (const char **argv, int *n, const char *a)
{
  if (*n < MAX_SUP_ARGS - 1)
    argv[(*n)++] = a;
  argv[*n] = NULL;
}

/* The container's process.args, for the supervisor's command line only:
 * the supervisor stands for the container's init on the host (its pid is
 * the container's pid), so `ps`, and Docker's `top` which filters ps(1)
 * by that pid, show what runs in the VM.  Errors are the supervisor's to
 * report: then there is nothing to show. */
static struct oci_config *
display_config (const char *bundle)
{
  cleanup_error hull_error_t err = NULL;
  cleanup_free char *path = NULL;
  struct oci_config *cfg = NULL;

  if (asprintf (&path, "%s/config.json", bundle) < 0
      || oci_config_parse_file (path, &cfg, &err) < 0)
    return NULL;
  return cfg;
}

static void __attribute__ ((noreturn))
exec_supervisor (const struct hull_context *ctx, const struct create_opts *o, const char *bundle,
                 int ready_fd)
{
  struct oci_config *cfg = display_config (bundle); /* freed by execv */
  const char *argv[MAX_SUP_ARGS];
  char ready[16], preserve[16];
  int n = 0;

  snprintf (ready, sizeof (ready), "%d", ready_fd);
  snprintf (preserve, sizeof (preserve), "%d", o->preserve_fds);
  push_arg (argv, &n, "hull");
  push_arg (argv, &n, "--root");
  push_arg (argv, &n, ctx->root);
  if (ctx->log_path != NULL)
    {
      push_arg (argv, &n, "--log");
      push_arg (argv, &n, ctx->log_path);
    }
  push_arg (argv, &n, "--log-format");
  push_arg (argv, &n, ctx->log_json ? "json" : "text");
  if (ctx->debug)
    push_arg (argv, &n, "--debug");
  if (ctx->systemd_cgroup)
    push_arg (argv, &n, "--systemd-cgroup");
  push_arg (argv, &n, "supervise");
  push_arg (argv, &n, "--bundle");
  push_arg (argv, &n, bundle);
  push_arg (argv, &n, "--ready-fd");
  push_arg (argv, &n, ready);
  push_arg (argv, &n, "--preserve-fds");
  push_arg (argv, &n, preserve);
  if (o->console_socket != NULL)
    {
      push_arg (argv, &n, "--console-socket");
      push_arg (argv, &n, o->console_socket);
    }
  push_arg (argv, &n, o->id);
  if (cfg != NULL && cfg->process != NULL && cfg->process->args.n > 0)
    {
      push_arg (argv, &n, "--");
      for (size_t i = 0; i < cfg->process->args.n; i++)
        push_arg (argv, &n, cfg->process->args.v[i]);
    }
  /* Own session and process group: terminal signals aimed at the caller
   * do not reach the container, but we stay its descendant so a
   * subreaper (containerd's shim) reaps us. */
  setsid ();
  fcntl (ready_fd, F_SETFD, 0);
  execv ("/proc/self/exe", (char **) argv);
  dprintf (ready_fd, "1exec /proc/self/exe: %s", strerror (errno));
  _exit (1);
}

/* Read the supervisor's report: "0" ready, "1<message>" failed. */
static int
read_ready (int fd, pid_t pid, hull_error_t *err)
{
  char buf[4096];
  size_t len = 0;
  ssize_t n;

  /* "0" is complete at once; a failure report ends at EOF. */
  while (len < sizeof (buf) - 1 && (n = read (fd, buf + len, sizeof (buf) - 1 - len)) != 0)
    {
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return hull_error (err, errno, "read supervisor report");
      len += (size_t) n;
      if (buf[0] == '0')
        break;
    }
  buf[len] = '\0';
  if (len >= 1 && buf[0] == '0')
    return 0;
  if (len > 1)
    return hull_error (err, 0, "%s", buf + 1);
  return hull_error (err, 0, "supervisor (pid %d) exited before the container was created",
                     (int) pid);
}

static int
resolve_bundle (const char *bundle, char **out, hull_error_t *err)
{
  char path[PATH_MAX];
  cleanup_free char *cfg = NULL;
  struct stat st;

  if (realpath (bundle != NULL ? bundle : ".", path) == NULL)
    return hull_error (err, errno, "bundle `%s`", bundle ? bundle : ".");
  if (asprintf (&cfg, "%s/config.json", path) < 0)
    return hull_error (err, ENOMEM, "bundle");
  /* A FIFO or device would pass access() and then block the supervisor in
   * open()/read() forever, with the CLI waiting on it: insist on a regular,
   * readable file here, before anything is started. */
  if (stat (cfg, &st) < 0)
    return hull_error (err, errno, "bundle `%s`: config.json", path);
  if (!S_ISREG (st.st_mode))
    return hull_error (err, EINVAL, "bundle `%s`: config.json is not a regular file", path);
  if (access (cfg, R_OK) < 0)
    return hull_error (err, errno, "bundle `%s`: config.json", path);
  *out = strdup (path);
  return *out ? 0 : hull_error (err, ENOMEM, "bundle");
}

static pid_t
spawn_supervisor (const struct hull_context *ctx, const struct create_opts *o, const char *bundle,
                  hull_error_t *err)
{
  int fds[2];
  pid_t pid;
  int r;

  if (pipe2 (fds, O_CLOEXEC) < 0)
    return hull_error (err, errno, "pipe");
  pid = fork ();
  if (pid < 0)
    {
      close (fds[0]);
      close (fds[1]);
      return hull_error (err, errno, "fork supervisor");
    }
  if (pid == 0)
    {
      close (fds[0]);
      exec_supervisor (ctx, o, bundle, fds[1]);
    }
  close (fds[1]);
  r = read_ready (fds[0], pid, err);
  close (fds[0]);
  if (r < 0)
    {
      while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
        ;
      return -1;
    }
  return pid;
}

/* The host cgroup directories the supervisor created (it is gone now). */
static int
remove_cgroups (const char *dir, hull_error_t *err)
{
  cleanup_free char *rec = NULL;

  if (asprintf (&rec, "%s/%s", dir, CGROUP_RECORD_FILE) < 0)
    return hull_error (err, ENOMEM, "cgroup record");
  return cgroup_host_remove_recorded (rec, err);
}

/* A create that failed may have left a pod share or a member's binds
 * (runtime/pod.h); the supervisor normally undoes them itself, this is
 * for one that died.  The record may not exist yet: the bundle's
 * annotations say what the container was. */
static void
remove_pod_leftovers (const struct hull_context *ctx, const char *id, const char *dir,
                      const char *bundle)
{
  cleanup_error hull_error_t err = NULL;
  struct oci_config *cfg = display_config (bundle);
  cleanup_free char **kv = NULL;

  if (cfg != NULL && (kv = calloc (2 * cfg->annotations.n + 1, sizeof (char *))) != NULL)
    for (size_t i = 0; i < cfg->annotations.n; i++)
      {
        kv[2 * i] = cfg->annotations.v[i].key;
        kv[2 * i + 1] = cfg->annotations.v[i].value;
      }
  if (pod_cleanup (ctx->root, dir, id, kv, &err) < 0)
    log_warning (ctx->log, "container `%s`: %s", id, hull_error_msg (&err));
  oci_config_free (cfg);
}

pid_t
container_create (const struct hull_context *ctx, const struct create_opts *o, hull_error_t *err)
{
  cleanup_free char *bundle = NULL, *dir = NULL;
  cleanup_close int lock = -1;
  pid_t pid;

  if (container_id_validate (o->id, err) < 0 || resolve_bundle (o->bundle, &bundle, err) < 0)
    return -1;
  if (o->preserve_fds < 0 || o->preserve_fds > 1024)
    return hull_error (err, 0, "--preserve-fds %d out of range 0..1024", o->preserve_fds);
  dir = state_dir_path (ctx->root, o->id);
  if (dir == NULL)
    return hull_error (err, ENOMEM, "state dir");
  lock = claim_state_dir (ctx, o->id, dir, err);
  if (lock < 0)
    return -1;
  pid = spawn_supervisor (ctx, o, bundle, err);
  if (pid > 0 && o->pid_file != NULL && pidfile_write (o->pid_file, pid, err) < 0)
    {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      pid = -1;
    }
  if (pid < 0)
    {
      cleanup_error hull_error_t e2 = NULL, e3 = NULL;
      if (remove_cgroups (dir, &e3) < 0)
        log_warning (ctx->log, "container `%s`: %s", o->id, hull_error_msg (&e3));
      remove_pod_leftovers (ctx, o->id, dir, bundle);
      state_dir_remove (dir, &e2);
    }
  return pid;
}

static int
run_config_hooks (const char *dir, enum oci_hook_kind kind, const struct container *c,
                  enum container_status st, struct hull_log *log, hull_error_t *err)
{
  cleanup_free char *path = NULL, *json = NULL;
  struct oci_config *cfg = NULL;
  int r;

  if (asprintf (&path, "%s/config.json", dir) < 0)
    return hull_error (err, ENOMEM, "config path");
  if (access (path, F_OK) < 0)
    return 0; /* a create that never got that far has no hooks to run */
  if (oci_config_parse_file (path, &cfg, err) < 0)
    return -1;
  json = state_to_json (&c->rec, st, c->rec.supervisor_pid, false);
  r = json ? hooks_run (&cfg->hooks[kind], kind, json, log, err)
           : hull_error (err, ENOMEM, "state JSON");
  oci_config_free (cfg);
  return r;
}

int
container_start (const struct hull_context *ctx, const char *id, hull_error_t *err)
{
  cleanup_error hull_error_t hook_err = NULL;
  struct container c;

  if (container_open (ctx, id, &c, err) < 0)
    return -1;
  if (state_check_op (id, c.status, OP_START, err) < 0)
    {
      container_close (&c);
      return -1;
    }
  /* startContainer hooks run here, on the host, not in the supervisor:
   * once created, the supervisor is confined and can no longer execute
   * anything (runtime/confine.h).  A failing one stops the container. */
  if (run_config_hooks (c.dir, OCI_HOOK_START_CONTAINER, &c, STATUS_CREATED, ctx->log, err) < 0)
    {
      cleanup_error hull_error_t e2 = NULL;
      yajl_gen g = proto_begin_op ("kill");

      proto_put_int (g, "signal", SIGKILL);
      proto_put_bool (g, "all", true);
      container_call (&c, g, NULL, &e2);
      container_close (&c);
      return -1;
    }
  if (container_call (&c, proto_begin_op ("start"), NULL, err) < 0)
    {
      container_close (&c);
      return -1;
    }
  /* poststart runs on the host after the process started; a failure is
   * only a warning (runtime-spec). */
  if (run_config_hooks (c.dir, OCI_HOOK_POSTSTART, &c, STATUS_RUNNING, ctx->log, &hook_err) < 0)
    log_warning (ctx->log, "container `%s`: %s", id, hull_error_msg (&hook_err));
  container_close (&c);
  return 0;
}

/* Wait up to timeout_ms for the supervisor to exit (not our child). */
static bool
wait_gone (const struct container_record *rec, int timeout_ms)
{
  cleanup_close int pfd = pidfd_open (rec->supervisor_pid, 0);
  struct pollfd p;

  if (pfd < 0 || ! container_record_supervisor_alive (rec))
    return true;
  p = (struct pollfd){ .fd = pfd, .events = POLLIN };
  while (poll (&p, 1, timeout_ms) < 0)
    if (errno != EINTR)
      return false;
  return ! container_record_supervisor_alive (rec);
}

static int
stop_supervisor (struct container *c, hull_error_t *err)
{
  cleanup_error hull_error_t e2 = NULL;
  yajl_gen g = proto_begin_op ("kill");

  proto_put_int (g, "signal", SIGKILL);
  proto_put_bool (g, "all", true);
  container_call (c, g, NULL, &e2);
  if (wait_gone (&c->rec, 10000))
    return 0;
  /* The supervisor does not react: kill it; its sandbox dies with it. */
  kill (c->rec.supervisor_pid, SIGKILL);
  if (wait_gone (&c->rec, 5000))
    return 0;
  return hull_error (err, 0, "container `%s`: supervisor %d does not exit", c->id,
                     (int) c->rec.supervisor_pid);
}

int
container_delete (const struct hull_context *ctx, const char *id, bool force, hull_error_t *err)
{
  cleanup_error hull_error_t hook_err = NULL;
  struct container c;
  int r = -1;

  if (container_open (ctx, id, &c, err) < 0)
    return -1;
  if (state_check_op (id, c.status, force ? OP_DELETE_FORCE : OP_DELETE, err) < 0)
    goto out;
  if (container_record_supervisor_alive (&c.rec) && stop_supervisor (&c, err) < 0)
    goto out;
  if (run_config_hooks (c.dir, OCI_HOOK_POSTSTOP, &c, STATUS_STOPPED, ctx->log, &hook_err) < 0)
    log_warning (ctx->log, "container `%s`: %s", id, hull_error_msg (&hook_err));
  if (remove_cgroups (c.dir, err) < 0)
    goto out;
  /* Its share (a sandbox) or its binds in the sandbox's (a pod member):
   * the supervisor, confined, cannot unmount (runtime/pod.h). */
  if (pod_cleanup (ctx->root, c.dir, id, c.rec.annotations, err) < 0)
    goto out;
  r = state_dir_remove (c.dir, err);
out:
  container_close (&c);
  return r;
}

static int
forward_one (int sfd, pid_t child)
{
  struct signalfd_siginfo si;

  while (read (sfd, &si, sizeof (si)) == sizeof (si))
    if (si.ssi_signo != SIGCHLD)
      kill (child, (int) si.ssi_signo);
  return 0;
}

int
container_wait_child (pid_t child, hull_error_t *err)
{
  cleanup_close int pfd = pidfd_open (child, 0), sfd = -1;
  sigset_t all, old;
  int status = 0;

  if (pfd < 0)
    return hull_error (err, errno, "pidfd_open %d", (int) child);
  sigfillset (&all);
  sigprocmask (SIG_BLOCK, &all, &old);
  sfd = signalfd (-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
  for (;;)
    {
      struct pollfd p[2] = { { .fd = pfd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
      if (poll (p, sfd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
        break;
      if (p[1].revents & POLLIN)
        forward_one (sfd, child);
      if (p[0].revents & POLLIN)
        break;
    }
  sigprocmask (SIG_SETMASK, &old, NULL);
  while (waitpid (child, &status, 0) < 0)
    if (errno != EINTR)
      return hull_error (err, errno, "wait for supervisor %d", (int) child);
  if (WIFSIGNALED (status))
    return 128 + WTERMSIG (status);
  return WEXITSTATUS (status);
}
