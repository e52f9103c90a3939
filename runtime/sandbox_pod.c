/* The backend of a pod's app container (a *member*, runtime/pod.h): it
 * owns no VM.  Its supervisor still is the container's host process (pid
 * file, state, kill, delete, exit status), and this backend forwards
 * every operation to the pod sandbox's supervisor, which runs the
 * container in the pod's VM (runtime/supervisor_pod.c has the requests).
 *
 * create: find the sandbox (same --root, a pod sandbox, running), check
 * the namespaces the config names are the pod's, bind the rootfs and
 * volumes into the sandbox's share (privileged, so here, before the
 * supervisor confines itself; `hull delete` removes them), run the host
 * hooks, then send pod_create on a connection that stays open: the
 * member's init's exit (or the sandbox going away: 137) comes back on it.
 * Each exec gets a connection of its own, like `hull exec`'s relay.
 * event_fd is an epoll set over these connections.
 *
 * The supervisor's struct sandbox is the VM backend's type; this backend's
 * state is a struct pod_member behind the same opaque pointer (never
 * dereferenced as anything else). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/hooks.h"
#include "runtime/json.h"
#include "runtime/log.h"
#include "runtime/pod.h"
#include "runtime/resources_map.h"
#include "runtime/sandbox.h"
#include "runtime/sandbox_vm.h" /* vm_process_json */
#include "runtime/supervisor_proto.h"
#include "runtime/console_socket.h" /* UNIX_FDS_MAX */

struct member_exec
{
  uint32_t proc;
  int fd;
  struct member_exec *next;
};

struct pod_member
{
  char *id;
  struct pod_sandbox pod;
  const struct oci_config *config;
  struct hull_log *log;
  int conn; /* the member connection; -1 once it ended */
  int epfd;
  struct member_exec *execs;
};

static struct pod_member *
M (struct sandbox *sb)
{
  return (struct pod_member *) (void *) sb;
}

static void member_destroy (struct sandbox *sb);

/* ---- requests ---- */

/* A request naming this member; the reply (if wanted) is returned. */
static int
call (struct pod_member *m, yajl_gen g, yajl_val *reply, hull_error_t *err)
{
  proto_put_str (g, "id", m->id);
  if (proto_call (m->pod.sock, g, NULL, 0, reply, NULL, NULL, NULL, err) < 0)
    return hull_error_prefix (err, "pod sandbox `%s`", m->pod.id);
  return 0;
}

static int
simple (struct pod_member *m, const char *op, hull_error_t *err)
{
  return call (m, proto_begin_op (op), NULL, err);
}

static int
watch (struct pod_member *m, int fd, hull_error_t *err)
{
  struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

  if (epoll_ctl (m->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
    return hull_error (err, errno, "epoll_ctl");
  return 0;
}

static void
unwatch (struct pod_member *m, int fd)
{
  epoll_ctl (m->epfd, EPOLL_CTL_DEL, fd, NULL);
  close (fd);
}

/* ---- create ---- */

static int
run_create_hooks (struct pod_member *m, const struct sandbox_create_args *a, hull_error_t *err)
{
  cleanup_free char *json = NULL;

  if (m->config->hooks[OCI_HOOK_CREATE_CONTAINER].n == 0)
    return 0;
  json = a->state_json (a->ctx, STATUS_CREATING);
  if (json == NULL)
    return hull_error (err, ENOMEM, "state JSON");
  return hooks_run (&m->config->hooks[OCI_HOOK_CREATE_CONTAINER], OCI_HOOK_CREATE_CONTAINER,
                    json, m->log, err);
}

/* pod_create on the connection that stays the member's. */
static int
join (struct pod_member *m, const struct sandbox_create_args *a, const char *rootfs,
      const char *layout, int *pty_master, hull_error_t *err)
{
  cleanup_free char *path = NULL, *text = NULL;
  int rfds[UNIX_FDS_MAX];
  size_t len = 0, nr = 0;
  bool tty = a->config->process->terminal;
  yajl_gen g;

  if (asprintf (&path, "%s/config.json", a->state_dir) < 0)
    return hull_error (err, ENOMEM, "config path");
  if (json_read_file (path, &text, &len, err) < 0)
    return -1;
  g = proto_begin_op ("pod_create");
  proto_put_str (g, "id", m->id);
  proto_put_str (g, "config", text);
  proto_put_str (g, "rootfs", rootfs);
  proto_put_str (g, "pod", layout);
  if (proto_call (m->pod.sock, g, tty ? NULL : a->stdio, tty ? 0 : 3, NULL, rfds, &nr, &m->conn,
                  err)
      < 0)
    return hull_error_prefix (err, "join pod sandbox `%s`", m->pod.id);
  for (size_t i = 0; i < nr; i++)
    {
      if (tty && *pty_master < 0)
        *pty_master = rfds[i];
      else
        close (rfds[i]);
    }
  if (tty && *pty_master < 0)
    return hull_error (err, 0, "pod sandbox `%s` sent no pty", m->pod.id);
  return watch (m, m->conn, err);
}

static int
member_create (const struct sandbox_create_args *a, struct sandbox **out, int *pty_master,
               hull_error_t *err)
{
  struct pod_member *m = calloc (1, sizeof (*m));
  struct pod_layout layout = { 0 };
  cleanup_free char *guest_rootfs = NULL, *layout_json = NULL;
  cleanup_error hull_error_t e2 = NULL;
  enum pod_role role;
  const char *sid = NULL;
  bool bound = false;

  *out = NULL;
  *pty_master = -1;
  if (m == NULL)
    return hull_error (err, ENOMEM, "pod member");
  m->conn = -1;
  m->config = a->config;
  m->log = a->log;
  m->epfd = epoll_create1 (EPOLL_CLOEXEC);
  m->id = strdup (a->id);
  if (m->epfd < 0 || m->id == NULL)
    {
      hull_error (err, errno ? errno : ENOMEM, "pod member");
      goto fail;
    }
  if (a->preserve_fds > 0)
    {
      hull_error (err, ENOTSUP,
                  "--preserve-fds: host file descriptors cannot be passed into a microVM");
      goto fail;
    }
  if (pod_role_of (a->config, a->id, &role, &sid, err) < 0)
    goto fail;
  if (role != POD_MEMBER)
    {
      hull_error (err, EINVAL, "container `%s` is not a pod's app container", a->id);
      goto fail;
    }
  if (pod_sandbox_find (a->root, sid, &m->pod, err) < 0
      || pod_member_check_namespaces (a->config, &m->pod, err) < 0)
    goto fail;
  if (pod_bind_container (m->pod.share, a->id, a->rootfs, a->config, a->log, &layout,
                          &guest_rootfs, err) < 0)
    goto fail;
  bound = true;
  layout.share_with = strdup (sid);
  if (layout.share_with == NULL || pod_layout_to_json (&layout, &layout_json, err) < 0)
    {
      if (layout.share_with == NULL)
        hull_error (err, ENOMEM, "pod layout");
      goto fail;
    }
  if (a->run_host_hooks (a->ctx, err) < 0
      || join (m, a, guest_rootfs, layout_json, pty_master, err) < 0
      || run_create_hooks (m, a, err) < 0)
    goto fail;
  pod_layout_free (&layout);
  log_debug (a->log, "container `%s` created in the microVM of pod `%s`", a->id, sid);
  *out = (struct sandbox *) (void *) m;
  return 0;
fail:
  if (*pty_master >= 0)
    close (*pty_master);
  *pty_master = -1;
  pod_layout_free (&layout);
  /* Closing the connection removes the container from the VM; still
   * privileged here, the binds go too. */
  member_destroy ((struct sandbox *) (void *) m);
  if (bound && pod_unbind_container (m->pod.share, a->id, &e2) < 0)
    log_warning (a->log, "container `%s`: %s", a->id, hull_error_msg (&e2));
  pod_sandbox_free (&m->pod);
  free (m);
  return -1;
}

/* ---- operations ---- */

static struct member_exec *
exec_find (struct pod_member *m, uint32_t proc)
{
  for (struct member_exec *e = m->execs; e != NULL; e = e->next)
    if (e->proc == proc)
      return e;
  return NULL;
}

/* A message on an exec's connection (no reply). */
static int
exec_send (struct pod_member *m, uint32_t proc, yajl_gen g, hull_error_t *err)
{
  struct member_exec *e = exec_find (m, proc);

  if (e == NULL)
    {
      yajl_gen_free (g);
      return hull_error (err, ESRCH, "no process %u in container `%s`", proc, m->id);
    }
  return proto_send (e->fd, g, NULL, 0, err);
}

static int
member_start (struct sandbox *sb, hull_error_t *err)
{
  return simple (M (sb), "pod_start", err);
}

static int
member_exec (struct sandbox *sb, const struct sandbox_exec_args *a, uint32_t *proc,
             int *pty_master, hull_error_t *err)
{
  struct pod_member *m = M (sb);
  cleanup_free char *json = NULL;
  struct member_exec *e = NULL;
  bool tty = a->process->terminal;
  int rfds[UNIX_FDS_MAX], conn = -1;
  size_t nr = 0;
  yajl_val reply = NULL;
  long long pid = 0;
  yajl_gen g;

  *pty_master = -1;
  if (vm_process_json (a->process, &json, err) < 0)
    return hull_error_prefix (err, "exec");
  g = proto_begin_op ("pod_exec");
  proto_put_str (g, "id", m->id);
  proto_put_str (g, "process", json);
  if (proto_call (m->pod.sock, g, tty ? NULL : a->stdio, tty ? 0 : 3, &reply, rfds, &nr, &conn,
                  err)
      < 0)
    return hull_error_prefix (err, "pod sandbox `%s`", m->pod.id);
  proto_get_int (reply, "pid", &pid);
  yajl_tree_free (reply);
  for (size_t i = 0; i < nr; i++)
    {
      if (tty && *pty_master < 0)
        *pty_master = rfds[i];
      else
        close (rfds[i]);
    }
  e = calloc (1, sizeof (*e));
  if (e == NULL || (tty && *pty_master < 0) || watch (m, conn, err) < 0)
    {
      if (e == NULL)
        hull_error (err, ENOMEM, "exec");
      else if (tty && *pty_master < 0)
        hull_error (err, 0, "exec: pod sandbox `%s` sent no pty", m->pod.id);
      free (e);
      close (conn);
      if (*pty_master >= 0)
        close (*pty_master);
      *pty_master = -1;
      return -1;
    }
  e->proc = (uint32_t) pid;
  e->fd = conn;
  e->next = m->execs;
  m->execs = e;
  *proc = e->proc;
  return 0;
}

static int
member_signal (struct sandbox *sb, uint32_t proc, int signo, bool all, hull_error_t *err)
{
  struct pod_member *m = M (sb);
  yajl_gen g;

  if (proc == SANDBOX_INIT)
    {
      g = proto_begin_op ("pod_kill");
      proto_put_int (g, "signal", signo);
      proto_put_bool (g, "all", all);
      return call (m, g, NULL, err);
    }
  g = proto_begin_op ("signal");
  proto_put_int (g, "signal", signo);
  return exec_send (m, proc, g, err);
}

static int
member_event_fd (struct sandbox *sb)
{
  return M (sb)->epfd;
}

/* One message from connection fd of process proc. */
static int
read_event (struct pod_member *m, int fd, uint32_t proc, struct sandbox_exit *out)
{
  cleanup_error hull_error_t err = NULL;
  yajl_val msg = NULL;
  const char *ev;
  long long v = 0;
  int r = proto_recv (fd, &msg, NULL, NULL, &err);

  if (r <= 0)
    {
      /* The sandbox's supervisor (and with it the VM) is gone. */
      *out = (struct sandbox_exit){ .proc = proc, .status = 128 + SIGKILL };
      return 1;
    }
  ev = proto_get_str (msg, "event");
  r = 0;
  if (ev != NULL && strcmp (ev, "exit") == 0 && proto_get_int (msg, "status", &v))
    {
      *out = (struct sandbox_exit){ .proc = proc, .status = (int) v };
      r = 1;
    }
  else if (ev != NULL && strcmp (ev, "oom") == 0 && proto_get_int (msg, "oomKills", &v)
           && fd == m->conn)
    {
      *out = (struct sandbox_exit){ .proc = SANDBOX_EVENT_OOM, .status = (int) v };
      r = 2;
    }
  yajl_tree_free (msg);
  return r;
}

static int
member_next_exit (struct sandbox *sb, struct sandbox_exit *out, hull_error_t *err)
{
  struct pod_member *m = M (sb);
  struct epoll_event evs[8];
  int n = epoll_wait (m->epfd, evs, 8, 0);

  (void) err;
  for (int i = 0; i < n; i++)
    {
      int fd = evs[i].data.fd, r;
      if (fd == m->conn)
        {
          r = read_event (m, fd, SANDBOX_INIT, out);
          if (r == 1)
            {
              unwatch (m, m->conn);
              m->conn = -1;
            }
          if (r > 0)
            return 1;
          continue;
        }
      for (struct member_exec **pp = &m->execs; *pp != NULL; pp = &(*pp)->next)
        if ((*pp)->fd == fd)
          {
            struct member_exec *e = *pp;
            if (read_event (m, fd, e->proc, out) != 1)
              break;
            *pp = e->next;
            unwatch (m, e->fd);
            free (e);
            return 1;
          }
    }
  return 0;
}

static int
member_close_stdin (struct sandbox *sb, uint32_t proc, hull_error_t *err)
{
  struct pod_member *m = M (sb);

  if (proc == SANDBOX_INIT)
    return simple (m, "pod_close_stdin", err);
  return exec_send (m, proc, proto_begin_op ("close_stdin"), err);
}

static int
member_resize (struct sandbox *sb, uint32_t proc, unsigned rows, unsigned cols,
               hull_error_t *err)
{
  struct pod_member *m = M (sb);
  yajl_gen g = proto_begin_op (proc == SANDBOX_INIT ? "pod_resize" : "resize");

  proto_put_int (g, "rows", rows);
  proto_put_int (g, "cols", cols);
  if (proc == SANDBOX_INIT)
    return call (m, g, NULL, err);
  return exec_send (m, proc, g, err);
}

static int
member_pause (struct sandbox *sb, hull_error_t *err)
{
  return simple (M (sb), "pod_pause", err);
}

static int
member_resume (struct sandbox *sb, hull_error_t *err)
{
  return simple (M (sb), "pod_resume", err);
}

static uint64_t
reply_u64 (yajl_val reply, const char *key)
{
  long long v = 0;
  return proto_get_int (reply, key, &v) && v > 0 ? (uint64_t) v : 0;
}

static int
member_stats (struct sandbox *sb, struct sandbox_stats *out, hull_error_t *err)
{
  yajl_val reply = NULL;

  if (call (M (sb), proto_begin_op ("pod_stats"), &reply, err) < 0)
    return -1;
  out->cpu_total_ns = reply_u64 (reply, "cpuTotal");
  out->cpu_user_ns = reply_u64 (reply, "cpuUser");
  out->cpu_kernel_ns = reply_u64 (reply, "cpuKernel");
  out->memory_usage = reply_u64 (reply, "memUsage");
  out->memory_limit = reply_u64 (reply, "memLimit");
  out->pids_current = reply_u64 (reply, "pids");
  yajl_tree_free (reply);
  return 0;
}

/* What no VM can change is refused here (any size passes); the sandbox's
 * supervisor checks the rest against the pod VM's size. */
static int
member_update (struct sandbox *sb, const struct oci_linux_resources *r, hull_error_t *err)
{
  const struct vm_size any = { .vcpus = UINT32_MAX, .memory_mib = UINT64_MAX / (2u << 20) };
  cleanup_free char *json = NULL;
  yajl_gen g;

  if (resources_update_check (&any, r, err) < 0 || resources_live_json (r, &json, err) < 0)
    return hull_error_prefix (err, "update");
  g = proto_begin_op ("pod_update");
  proto_put_str (g, "resources", json);
  return call (M (sb), g, NULL, err);
}

static int
member_ps (struct sandbox *sb, pid_t **pids, size_t *n, hull_error_t *err)
{
  yajl_val reply = NULL, arr;

  *pids = NULL;
  *n = 0;
  if (call (M (sb), proto_begin_op ("pod_ps"), &reply, err) < 0)
    return -1;
  arr = proto_get (reply, "pids");
  *pids = calloc (arr && YAJL_IS_ARRAY (arr) ? arr->u.array.len + 1 : 1, sizeof (pid_t));
  for (size_t i = 0; *pids != NULL && arr && YAJL_IS_ARRAY (arr) && i < arr->u.array.len; i++)
    if (YAJL_IS_INTEGER (arr->u.array.values[i]))
      (*pids)[(*n)++] = (pid_t) YAJL_GET_INTEGER (arr->u.array.values[i]);
  yajl_tree_free (reply);
  return *pids ? 0 : hull_error (err, ENOMEM, "ps");
}

/* The binds stay: the supervisor is confined by now, `hull delete`
 * removes them (runtime/pod.h). */
static void
member_destroy (struct sandbox *sb)
{
  struct pod_member *m = M (sb);

  if (m == NULL)
    return;
  while (m->execs != NULL)
    {
      struct member_exec *e = m->execs;
      m->execs = e->next;
      close (e->fd);
      free (e);
    }
  if (m->conn >= 0)
    close (m->conn);
  m->conn = -1;
  if (m->epfd >= 0)
    close (m->epfd);
  m->epfd = -1;
  free (m->id);
  m->id = NULL;
}

static void
member_release (struct sandbox *sb)
{
  struct pod_member *m = M (sb);

  if (m == NULL)
    return;
  member_destroy (sb);
  pod_sandbox_free (&m->pod);
  free (m);
}

const struct sandbox_ops sandbox_pod_member_ops = {
  .name = "pod-member",
  .create = member_create,
  .start = member_start,
  .exec = member_exec,
  .signal = member_signal,
  .event_fd = member_event_fd,
  .next_exit = member_next_exit,
  .close_stdin = member_close_stdin,
  .resize = member_resize,
  .pause = member_pause,
  .resume = member_resume,
  .stats = member_stats,
  .update = member_update,
  .ps = member_ps,
  .guest_pids = true,
  .destroy = member_release,
};
