#include "runtime/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/confine.h"
#include "runtime/fdio.h"
#include "runtime/console_socket.h"
#include "runtime/hooks.h"
#include "runtime/json.h"
#include "runtime/pod.h"
#include "runtime/supervisor_internal.h"
#include "runtime/supervisor_proto.h"

char *
supervisor_state_json (struct supervisor *s, enum container_status st)
{
  return state_to_json (&s->rec, st, getpid (), false);
}

static char *
state_json_cb (void *ctx, enum container_status st)
{
  return supervisor_state_json (ctx, st);
}

/* prestart (deprecated, same point) and createRuntime run on the host. */
static int
host_hooks_cb (void *ctx, hull_error_t *err)
{
  struct supervisor *s = ctx;
  cleanup_free char *json = supervisor_state_json (s, STATUS_CREATING);

  if (json == NULL)
    return hull_error (err, ENOMEM, "state JSON");
  if (hooks_run (&s->config->hooks[OCI_HOOK_PRESTART], OCI_HOOK_PRESTART, json, s->log, err) < 0)
    return -1;
  return hooks_run (&s->config->hooks[OCI_HOOK_CREATE_RUNTIME], OCI_HOOK_CREATE_RUNTIME, json,
                    s->log, err);
}

static int
epoll_add (int epfd, int fd, hull_error_t *err)
{
  struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

  if (epoll_ctl (epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
    return hull_error (err, errno, "epoll_ctl");
  return 0;
}

static int
block_signals (struct supervisor *s, hull_error_t *err)
{
  sigset_t all;

  sigfillset (&all);
  if (sigprocmask (SIG_BLOCK, &all, NULL) < 0)
    return hull_error (err, errno, "sigprocmask");
  s->sig_fd = signalfd (-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
  if (s->sig_fd < 0)
    return hull_error (err, errno, "signalfd");
  return 0;
}

static int
load_config (struct supervisor *s, hull_error_t *err)
{
  cleanup_free char *path = NULL, *copy = NULL;
  cleanup_close int fd = -1;

  if (asprintf (&path, "%s/config.json", s->args->bundle) < 0)
    return hull_error (err, ENOMEM, "config path");
  if (json_read_file (path, &s->config_text, &s->config_len, err) < 0)
    return -1;
  if (oci_config_parse_data (s->config_text, s->config_len, &s->config, err) < 0)
    return hull_error_prefix (err, "%s", path);
  if (s->config->process == NULL)
    return hull_error (err, 0, "%s: process: required by hull create", path);
  /* Keep the config as created: delete runs poststop hooks from it. */
  if (asprintf (&copy, "%s/config.json", s->state_dir) < 0)
    return hull_error (err, ENOMEM, "config copy");
  fd = open (copy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || write (fd, s->config_text, s->config_len) != (ssize_t) s->config_len)
    return hull_error (err, errno, "write `%s`", copy);
  return 0;
}

static int
fill_record (struct supervisor *s, hull_error_t *err)
{
  const struct oci_map *ann = &s->config->annotations;
  const char *rootfs = s->config->root.path;

  s->rec.id = strdup (s->args->id);
  s->rec.bundle = strdup (s->args->bundle);
  if (rootfs[0] == '/')
    s->rec.rootfs = strdup (rootfs);
  else if (asprintf (&s->rec.rootfs, "%s/%s", s->args->bundle, rootfs) < 0)
    s->rec.rootfs = NULL;
  s->rec.created = state_now_rfc3339 ();
  s->rec.supervisor_pid = getpid ();
  s->rec.systemd_cgroup = s->args->systemd_cgroup;
  s->rec.annotations = calloc (2 * ann->n + 1, sizeof (char *));
  if (s->rec.id == NULL || s->rec.bundle == NULL || s->rec.rootfs == NULL
      || s->rec.created == NULL || s->rec.annotations == NULL
      || proc_start_time (getpid (), &s->rec.supervisor_start) < 0)
    return hull_error (err, ENOMEM, "container record");
  for (size_t i = 0; i < ann->n; i++)
    {
      s->rec.annotations[2 * i] = strdup (ann->v[i].key);
      s->rec.annotations[2 * i + 1] = strdup (ann->v[i].value);
    }
  return 0;
}

/* Host paths the config names are checked before the backend starts
 * anything (virtiofsd, a VM), so a typo is reported against its field
 * instead of surfacing later as a boot or handshake failure. */
static int
check_host_paths (const struct supervisor *s, hull_error_t *err)
{
  const struct oci_linux *l = s->config->linux_spec;
  struct stat st;
  struct statfs sf;

  if (stat (s->rec.rootfs, &st) < 0)
    return hull_error (err, errno, "root.path `%s`", s->rec.rootfs);
  if (!S_ISDIR (st.st_mode))
    return hull_error (err, ENOTDIR, "root.path `%s`", s->rec.rootfs);
  for (size_t i = 0; l != NULL && i < l->n_namespaces; i++)
    {
      const char *p = l->namespaces[i].path;

      if (p == NULL)
        continue;
      if (statfs (p, &sf) < 0)
        return hull_error (err, errno, "linux.namespaces[%zu].path `%s`", i, p);
      if (sf.f_type != NSFS_MAGIC)
        return hull_error (err, EINVAL, "linux.namespaces[%zu].path `%s`: not a %s namespace",
                           i, p, oci_ns_type_name (l->namespaces[i].type));
    }
  return 0;
}

static int
create_sandbox (struct supervisor *s, hull_error_t *err)
{
  struct sandbox_create_args ca = {
    .root = s->args->root,
    .id = s->args->id,
    .bundle = s->args->bundle,
    .rootfs = s->rec.rootfs,
    .state_dir = s->state_dir,
    .config = s->config,
    .stdio = { 0, 1, 2 },
    .preserve_fds = s->args->preserve_fds,
    .log = s->log,
    .state_json = state_json_cb,
    .run_host_hooks = host_hooks_cb,
    .ctx = s,
  };
  cleanup_close int master = -1;

  if (s->config->process->terminal && s->args->console_socket == NULL)
    return hull_error (err, 0, "process.terminal is set but no --console-socket was given");
  if (check_host_paths (s, err) < 0)
    return -1;
  s->env_attempted = true;
  if (s->ops->create (&ca, &s->sb, &master, err) < 0)
    return -1;
  if (master >= 0
      && console_socket_send_fd (s->args->console_socket, master, "/dev/ptmx", err) < 0)
    return -1;
  return 0;
}

/* A pod's app container joins its sandbox's microVM: its backend is a
 * proxy to the sandbox's supervisor (runtime/pod.h). */
static int
choose_backend (struct supervisor *s, hull_error_t *err)
{
  enum pod_role role;
  const char *sid;

  if (s->ops != &sandbox_vm_ops)
    return 0;
  if (pod_role_of (s->config, s->args->id, &role, &sid, err) < 0)
    return -1;
  if (role == POD_MEMBER)
    {
      s->ops = &sandbox_pod_member_ops;
      log_debug (s->log, "container `%s` joins the pod of sandbox `%s`", s->args->id, sid);
    }
  return 0;
}

static int
supervisor_setup (struct supervisor *s, hull_error_t *err)
{
  cleanup_free char *sock = NULL;

  s->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (s->epfd < 0)
    return hull_error (err, errno, "epoll_create1");
  if (block_signals (s, err) < 0 || load_config (s, err) < 0 || fill_record (s, err) < 0
      || choose_backend (s, err) < 0)
    return -1;
  /* Into linux.cgroupsPath before the backend starts virtiofsd and the
   * VM's threads, so they are all inside (runtime/cgroup_host.h). */
  if (cgroup_host_place_self (&s->cg, s->config, s->args->systemd_cgroup, s->state_dir, err) < 0)
    return -1;
  if (asprintf (&sock, "%s/sock", s->state_dir) < 0)
    return hull_error (err, ENOMEM, "socket path");
  s->listen_fd = proto_listen (sock, err);
  if (s->listen_fd < 0)
    return -1;
  if (create_sandbox (s, err) < 0)
    return -1;
  /* --preserve-fds went to the container; they are not ours to hold. */
  for (int fd = 3; fd < 3 + s->args->preserve_fds; fd++)
    close (fd);
  s->backend_fd = s->ops->event_fd (s->sb);
  if (epoll_add (s->epfd, s->listen_fd, err) < 0 || epoll_add (s->epfd, s->sig_fd, err) < 0
      || (s->backend_fd >= 0 && epoll_add (s->epfd, s->backend_fd, err) < 0))
    return -1;
  if (container_record_write (s->state_dir, &s->rec, err) < 0)
    return -1;
  s->status = STATUS_CREATED;
  return 0;
}

static void
report_ready (int fd, const hull_error_t *err)
{
  const char *msg = err ? hull_error_msg (err) : "";
  size_t len = strlen (msg);
  char *buf = malloc (len + 1);
  ssize_t r;

  if (fd < 0 || buf == NULL)
    {
      free (buf);
      return;
    }
  buf[0] = err ? '1' : '0';
  memcpy (buf + 1, msg, len);
  r = write (fd, buf, err ? len + 1 : 1);
  (void) r; /* the CLI treats a short or missing report as a failure */
  free (buf);
  close (fd);
}

static struct sup_conn *
conn_find (struct supervisor *s, int fd)
{
  for (struct sup_conn *c = s->conns; c != NULL; c = c->next)
    if (c->fd == fd)
      return c;
  return NULL;
}

static void
conn_close (struct supervisor *s, struct sup_conn *c)
{
  struct sup_conn **pp = &s->conns;

  while (*pp != c)
    pp = &(*pp)->next;
  *pp = c->next;
  epoll_ctl (s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close (c->fd);
  free (c->member_id);
  free (c);
}

static void
accept_conn (struct supervisor *s)
{
  cleanup_error hull_error_t err = NULL;
  struct sup_conn *c;
  int fd = accept4 (s->listen_fd, NULL, NULL, SOCK_CLOEXEC);

  if (fd < 0)
    return;
  c = calloc (1, sizeof (*c));
  if (c == NULL || epoll_add (s->epfd, fd, &err) < 0)
    {
      free (c);
      close (fd);
      return;
    }
  c->fd = fd;
  c->next = s->conns;
  s->conns = c;
}

static void
conn_readable (struct supervisor *s, struct sup_conn *c)
{
  cleanup_error hull_error_t err = NULL;
  int fds[UNIX_FDS_MAX];
  size_t nfds = 0;
  yajl_val msg = NULL;
  int r = proto_recv (c->fd, &msg, fds, &nfds, &err);

  if (r <= 0)
    {
      /* An exec relay that goes away takes its process with it, a pod
       * member's supervisor its container. */
      if (c->ctr != 0)
        supervisor_pod_conn_gone (s, c);
      else if (c->is_exec && ! c->proc_exited)
        {
          cleanup_error hull_error_t e2 = NULL;
          log_debug (s->log, "exec relay of process %u went away: killing it", c->proc);
          s->ops->signal (s->sb, c->proc, SIGKILL, false, &e2);
        }
      conn_close (s, c);
      return;
    }
  supervisor_handle (s, c, msg, fds, nfds);
  yajl_tree_free (msg);
}

void
supervisor_send_exit (struct sup_conn *c, int status)
{
  cleanup_error hull_error_t err = NULL;
  yajl_gen g = proto_begin ();

  proto_put_str (g, "event", "exit");
  proto_put_int (g, "status", status);
  proto_send (c->fd, g, NULL, 0, &err);
  c->proc_exited = true;
}

static void
reap_exits (struct supervisor *s)
{
  cleanup_error hull_error_t err = NULL;
  /* Zeroed: a backend without pods leaves ctr alone. */
  struct sandbox_exit ex = { 0 };

  for (; s->ops->next_exit (s->sb, &ex, &err) > 0; ex = (struct sandbox_exit){ 0 })
    {
      if (ex.ctr != 0)
        {
          supervisor_pod_exit (s, &ex);
          continue;
        }
      if (ex.proc == SANDBOX_EVENT_OOM)
        {
          supervisor_oom (s, ex.status);
          continue;
        }
      if (ex.proc == SANDBOX_INIT)
        {
          log_debug (s->log, "container init exited with status %d", ex.status);
          s->status = STATUS_STOPPED;
          s->exit_status = ex.status;
          continue;
        }
      for (struct sup_conn *c = s->conns; c != NULL; c = c->next)
        if (c->is_exec && c->ctr == 0 && c->proc == ex.proc && ! c->proc_exited)
          supervisor_send_exit (c, ex.status);
    }
  if (err != NULL)
    log_error (s->log, "%s", hull_error_msg (&err));
}

/* Signals sent to the supervisor go to the container, as they would to
 * runc's container process (the shim may signal the pid it was given). */
static void
forward_signals (struct supervisor *s)
{
  struct signalfd_siginfo si;

  while (read (s->sig_fd, &si, sizeof (si)) == sizeof (si))
    {
      cleanup_error hull_error_t err = NULL;
      int sig = (int) si.ssi_signo;
      if (sig == SIGCHLD || sig == SIGPIPE || sig == SIGWINCH || sig == SIGURG)
        continue;
      log_debug (s->log, "forwarding signal %d to the container", sig);
      if (s->ops->signal (s->sb, SANDBOX_INIT, sig, false, &err) < 0)
        log_warning (s->log, "forward signal %d: %s", sig, hull_error_msg (&err));
    }
}

static void
event_loop (struct supervisor *s)
{
  while (s->status != STATUS_STOPPED)
    {
      struct epoll_event evs[16];
      int n = epoll_wait (s->epfd, evs, 16, -1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          log_error (s->log, "epoll_wait: %s", strerror (errno));
          return;
        }
      for (int i = 0; i < n; i++)
        {
          int fd = evs[i].data.fd;
          struct sup_conn *c;
          if (fd == s->listen_fd)
            accept_conn (s);
          else if (fd == s->sig_fd)
            forward_signals (s);
          else if (fd == s->backend_fd)
            reap_exits (s);
          else if ((c = conn_find (s, fd)) != NULL)
            conn_readable (s, c);
        }
    }
}

/* Init is gone: like a pid namespace losing its init, every other process
 * dies; relays still waiting learn their process was killed, and so do
 * the supervisors of a pod's other containers (the VM goes). */
static void
supervisor_finish (struct supervisor *s)
{
  cleanup_free char *sock = NULL;

  if (asprintf (&sock, "%s/sock", s->state_dir) >= 0)
    unlink (sock);
  /* Callers still queued on the socket (a `state` poll) learn at once that
   * the container stopped instead of waiting out the VM's teardown. */
  if (s->listen_fd >= 0)
    close (s->listen_fd);
  s->listen_fd = -1;
  s->ops->destroy (s->sb);
  s->sb = NULL;
  while (s->conns != NULL)
    {
      if ((s->conns->is_exec || s->conns->is_member) && ! s->conns->proc_exited)
        supervisor_send_exit (s->conns, 128 + SIGKILL);
      conn_close (s, s->conns);
    }
}

static void
supervisor_free (struct supervisor *s)
{
  if (s->sb != NULL)
    s->ops->destroy (s->sb);
  while (s->conns != NULL)
    conn_close (s, s->conns);
  oci_config_free (s->config);
  free (s->config_text);
  free (s->state_dir);
  container_record_free (&s->rec);
  cgroup_host_free (&s->cg);
  /* backend_fd belongs to the backend. */
  if (s->epfd >= 0)
    close (s->epfd);
  if (s->listen_fd >= 0)
    close (s->listen_fd);
  if (s->sig_fd >= 0)
    close (s->sig_fd);
}

/* A create that failed after the environment existed continues at the
 * spec's "delete" step: destroy, then poststop hooks (errors only logged). */
static void
create_failed_cleanup (struct supervisor *s)
{
  cleanup_error hull_error_t err = NULL;
  cleanup_free char *json = NULL;

  if (! s->env_attempted || s->config == NULL)
    return;
  if (s->sb != NULL)
    s->ops->destroy (s->sb);
  s->sb = NULL;
  json = supervisor_state_json (s, STATUS_STOPPED);
  if (json != NULL
      && hooks_run (&s->config->hooks[OCI_HOOK_POSTSTOP], OCI_HOOK_POSTSTOP, json, s->log, &err)
             < 0)
    log_warning (s->log, "%s", hull_error_msg (&err));
}

/* Only the production backend is confined: build/hull-test runs
 * containers as its own children and is never a VMM. */
static bool
confinable (const struct supervisor *s)
{
  return s->ops == &sandbox_vm_ops || s->ops == &sandbox_pod_member_ops;
}

/* Fds the caller leaked to us (not stdio, the ready pipe, --preserve-fds
 * or the log) are closed before setup opens anything of ours. */
static int
close_inherited (const struct supervisor *s, hull_error_t *err)
{
  const struct supervisor_args *a = s->args;
  cleanup_free int *keep = calloc ((size_t) a->preserve_fds + 2, sizeof (int));
  size_t n = 0;

  if (keep == NULL)
    return hull_error (err, ENOMEM, "fds to keep");
  keep[n++] = a->ready_fd;
  keep[n++] = a->log != NULL ? a->log->fd : -1;
  for (int fd = 3; fd < 3 + a->preserve_fds; fd++)
    keep[n++] = fd;
  return confine_close_fds (keep, n, err);
}

/* Everything privileged is done (virtiofsd, taps, cgroups, VM, createRuntime
 * and createContainer hooks): drop privileges and filter system calls for
 * the rest of the supervisor's life (runtime/confine.h). */
static int
supervisor_confine (const struct supervisor *s, hull_error_t *err)
{
  bool want = true;

  if (!confinable (s))
    return 0;
  if (confine_wanted (&want, err) < 0)
    return -1;
  if (!want)
    {
      log_warning (s->log, "container `%s`: the supervisor is not confined (settings "
                   "confineVmm is false)", s->args->id);
      return 0;
    }
  return confine_apply (err);
}

int
supervisor_main (const struct supervisor_args *a)
{
  struct supervisor s = { .args = a, .ops = a->ops, .log = a->log, .epfd = -1, .listen_fd = -1,
                          .sig_fd = -1, .backend_fd = -1, .status = STATUS_CREATING };
  cleanup_error hull_error_t err = NULL;
  int status;

  s.state_dir = state_dir_path (a->root, a->id);
  if (s.state_dir == NULL || (confinable (&s) && close_inherited (&s, &err) < 0)
      || supervisor_setup (&s, &err) < 0)
    {
      log_error (s.log, "create `%s`: %s", a->id, hull_error_msg (&err));
      create_failed_cleanup (&s);
      report_ready (a->ready_fd, &err);
      supervisor_free (&s);
      return 1;
    }
  /* The container has its own copies of the stdio it needs now; keeping
   * ours would hold the caller's pipes open after the container exits. */
  fdio_stdio_to_devnull ();
  if (supervisor_confine (&s, &err) < 0)
    {
      log_error (s.log, "create `%s`: %s", a->id, hull_error_msg (&err));
      create_failed_cleanup (&s);
      report_ready (a->ready_fd, &err);
      supervisor_free (&s);
      return 1;
    }
  log_debug (s.log, "container `%s` created (supervisor %d)", a->id, (int) getpid ());
  report_ready (a->ready_fd, NULL);
  event_loop (&s);
  supervisor_finish (&s);
  status = s.exit_status;
  log_debug (s.log, "container `%s` stopped with status %d", a->id, status);
  supervisor_free (&s);
  return status;
}
