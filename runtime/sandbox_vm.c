/* The production backend: every container is a microVM whose PID 1 is
 * hull-agent (cmd/hull-agent).  create boots the VM with the rootfs shared
 * through virtio-fs and the agent's channel on the virtio-console port
 * "hull.agent", then asks the agent to create the container; the other
 * operations are requests of runtime/protocol.md.  See sandbox_vm.h for
 * the threads and files.
 *
 * Hooks: prestart/createRuntime run on the host (run_host_hooks) once the
 * VM is up and before the agent creates the container.  createContainer
 * and startContainer hooks belong in the container's namespaces, which
 * live in the guest where host binaries do not exist; they run on the host
 * at the same points of the lifecycle instead: createContainer from here,
 * startContainer from `hull start` (the supervisor is confined by then and
 * cannot execute anything, runtime/confine.h). */
#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/hooks.h"
#include "runtime/json.h"
#include "runtime/log.h"
#include "runtime/resources_map.h"
#include "runtime/sandbox_vm.h"

static void svm_destroy (struct sandbox *sb);

/* ---- processes and their stdio ---- */

struct vm_proc *
vm_proc_new (uint32_t ctr, const char *cid)
{
  struct vm_proc *p = calloc (1, sizeof (*p));

  if (p == NULL)
    return NULL;
  p->in.fd = p->out.fd = p->err.fd = p->tty = -1;
  p->ctr = ctr;
  if (cid != NULL && (p->cid = strdup (cid)) == NULL)
    {
      free (p);
      return NULL;
    }
  return p;
}

/* A host pty for a terminal process: the master goes to the caller (the
 * console socket), the raw slave is relayed to the guest's own pty, which
 * does the line discipline. */
static int
proc_pty (struct vm_proc *p, const struct oci_process *op, int *master, hull_error_t *err)
{
  cleanup_close int m = posix_openpt (O_RDWR | O_NOCTTY | O_CLOEXEC);
  char name[128];
  struct termios t;
  int s;

  if (m < 0 || grantpt (m) < 0 || unlockpt (m) < 0 || ptsname_r (m, name, sizeof (name)) != 0)
    return hull_error (err, errno, "allocate a pty");
  s = open (name, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  if (s < 0)
    return hull_error (err, errno, "open `%s`", name);
  if (tcgetattr (s, &t) == 0)
    {
      cfmakeraw (&t);
      tcsetattr (s, TCSANOW, &t);
    }
  if (op->has_console_size)
    {
      struct winsize ws = { .ws_row = (unsigned short) op->console_height,
                            .ws_col = (unsigned short) op->console_width };
      ioctl (m, TIOCSWINSZ, &ws);
      p->rows = ws.ws_row; /* the agent applies consoleSize itself */
      p->cols = ws.ws_col;
    }
  p->tty = s;
  p->in.fd = fcntl (s, F_DUPFD_CLOEXEC, 3);
  p->out.fd = fcntl (s, F_DUPFD_CLOEXEC, 3);
  if (p->in.fd < 0 || p->out.fd < 0)
    return hull_error (err, errno, "dup pty");
  *master = hull_steal_fd (&m);
  return 0;
}

/* Relays and stream ids for a new process; the request gets the ids. */
int
vm_proc_stdio (struct sandbox *sb, struct vm_proc *p, const struct oci_process *op,
            const int stdio[3], int *master, struct hull_msgbuf *mb, hull_error_t *err)
{
  struct vm_relay *rs[3] = { &p->in, &p->out, &p->err };
  const uint16_t tags[3] = { HULL_ATTR_STREAM_STDIN, HULL_ATTR_STREAM_STDOUT,
                             HULL_ATTR_STREAM_STDERR };

  *master = -1;
  if (op->terminal)
    {
      if (proc_pty (p, op, master, err) < 0)
        return -1;
    }
  else
    for (int i = 0; i < 3; i++)
      if (stdio[i] >= 0 && vm_relay_open (rs[i], stdio[i], i == 0, err) < 0)
        return -1;
  pthread_mutex_lock (&sb->lock);
  for (int i = 0; i < 3; i++)
    if (rs[i]->fd >= 0)
      rs[i]->stream = vm_next_stream_locked (sb);
  pthread_mutex_unlock (&sb->lock);
  for (int i = 0; i < 3; i++)
    if (rs[i]->stream != 0)
      hull_msgbuf_put_u32 (mb, tags[i], rs[i]->stream);
  hull_msgbuf_put_u32 (mb, HULL_ATTR_TERMINAL, op->terminal ? 1 : 0);
  return 0;
}

/* ---- create ---- */

static int
run_hooks (struct sandbox *sb, enum oci_hook_kind kind, enum container_status st,
           hull_error_t *err)
{
  cleanup_free char *json = NULL;

  if (sb->config->hooks[kind].n == 0)
    return 0;
  json = sb->state_json (sb->ctx, st);
  if (json == NULL)
    return hull_error (err, ENOMEM, "state JSON");
  return hooks_run (&sb->config->hooks[kind], kind, json, sb->log, err);
}

static struct sandbox *
sandbox_new (const struct sandbox_create_args *a)
{
  struct sandbox *sb = calloc (1, sizeof (*sb));
  pthread_condattr_t ca;

  if (sb == NULL)
    return NULL;
  sb->chan_guest = sb->chan_host = sb->console_fd = -1;
  sb->wake_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  sb->exit_fd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  virtiofsd_init (&sb->fsd);
  pthread_mutex_init (&sb->lock, NULL);
  pthread_condattr_init (&ca);
  pthread_condattr_setclock (&ca, CLOCK_MONOTONIC);
  pthread_cond_init (&sb->cond, &ca);
  pthread_condattr_destroy (&ca);
  sb->next_id = sb->next_stream = 1;
  sb->id = strdup (a->id);
  sb->state_dir = strdup (a->state_dir);
  sb->rootfs = strdup (a->rootfs);
  sb->config = a->config;
  sb->log = a->log;
  sb->state_json = a->state_json;
  sb->ctx = a->ctx;
  if (sb->wake_fd < 0 || sb->exit_fd < 0 || sb->id == NULL || sb->state_dir == NULL
      || sb->rootfs == NULL)
    {
      svm_destroy (sb);
      return NULL;
    }
  return sb;
}

/* The container's config.json as the supervisor kept it at create. */
static int
create_request (struct sandbox *sb, struct vm_call *c, hull_error_t *err)
{
  cleanup_free char *path = NULL, *text = NULL;
  size_t len = 0;

  if (asprintf (&path, "%s/config.json", sb->state_dir) < 0)
    return hull_error (err, ENOMEM, "config path");
  if (json_read_file (path, &text, &len, err) < 0)
    return -1;
  hull_msgbuf_put_str (&c->mb, HULL_ATTR_CONFIG_JSON, text);
  hull_msgbuf_put_str (&c->mb, HULL_ATTR_ROOTFS, sb->pod ? sb->guest_rootfs : VM_GUEST_ROOTFS);
  if (sb->pod)
    hull_msgbuf_put_str (&c->mb, HULL_ATTR_POD_JSON, sb->pod_json);
  return vm_net_request (sb, &c->mb, err);
}

static int
svm_create (const struct sandbox_create_args *a, struct sandbox **out, int *pty_master,
           hull_error_t *err)
{
  struct sandbox *sb = sandbox_new (a);
  struct vm_proc *init = vm_proc_new (0, NULL);
  struct vm_call *c = NULL;
  int master = -1;
  int64_t t0;

  *out = NULL;
  *pty_master = -1;
  if (sb == NULL || init == NULL)
    {
      hull_error (err, ENOMEM, "microVM sandbox");
      goto fail;
    }
  init->is_init = true;
  if (vm_boot_prepare (sb, a, err) < 0 || vm_boot_start (sb, err) < 0)
    goto fail;
  t0 = vm_now_ms ();
  if (vm_wait_ready (sb, sb->timeout_ms, err) < 0)
    {
      vm_console_tail (sb, err);
      goto fail;
    }
  log_debug (sb->log, "container `%s`: hull-agent answered %lld ms after the VM started", sb->id,
             (long long) (vm_now_ms () - t0));
  if (a->run_host_hooks (a->ctx, err) < 0)
    goto fail;
  c = vm_call_new (sb, HULL_OP_CREATE, true);
  if (c == NULL)
    {
      hull_error (err, ENOMEM, "create request");
      goto fail;
    }
  if (create_request (sb, c, err) < 0
      || vm_proc_stdio (sb, init, a->config->process, a->stdio, &master, &c->mb, err) < 0)
    goto fail;
  c->attach = init;
  init = NULL;
  if (vm_call_run (sb, c, sb->timeout_ms, err) < 0)
    {
      c = NULL; /* consumed */
      if ((*err)->status == EPIPE || (*err)->status == ETIMEDOUT)
        vm_console_tail (sb, err);
      goto fail;
    }
  vm_call_free (hull_steal_ptr (&c));
  if (run_hooks (sb, OCI_HOOK_CREATE_CONTAINER, STATUS_CREATING, err) < 0)
    goto fail;
  *out = sb;
  *pty_master = master;
  return 0;
fail:
  vm_call_free (c);
  vm_proc_free (init);
  if (master >= 0)
    close (master);
  if (sb != NULL)
    {
      /* Still privileged here: the share goes with the failed create. */
      vm_boot_teardown (sb);
      vm_pod_undo (sb);
    }
  svm_destroy (sb);
  return -1;
}

/* ---- requests, for the VM's own container (ctr 0) or a pod member ---- */

/* A copy of member ctr's id, NULL when it is gone (or out of memory). */
static char *
member_id_dup (struct sandbox *sb, uint32_t ctr)
{
  const char *id;
  char *copy;

  pthread_mutex_lock (&sb->lock);
  id = vm_member_id_locked (sb, ctr);
  copy = id ? strdup (id) : NULL;
  pthread_mutex_unlock (&sb->lock);
  return copy;
}

int
vm_call_ctr (struct sandbox *sb, uint16_t op, uint32_t ctr, struct vm_call **out,
             hull_error_t *err)
{
  struct vm_call *c;
  char *id;

  *out = NULL;
  if (ctr == 0)
    {
      *out = vm_call_new (sb, op, true);
      return *out ? 0 : hull_error (err, ENOMEM, "agent request");
    }
  id = member_id_dup (sb, ctr);
  if (id == NULL)
    return hull_error (err, ESRCH, "%s: no such container in the pod", hull_op_name (op));
  c = vm_call_new (sb, op, false);
  if (c != NULL)
    hull_msgbuf_put_str (&c->mb, HULL_ATTR_CONTAINER_ID, id);
  free (id);
  *out = c;
  return c ? 0 : hull_error (err, ENOMEM, "agent request");
}

int
vm_simple_call (struct sandbox *sb, struct vm_call *c, hull_error_t *err)
{
  if (c == NULL)
    return hull_error (err, ENOMEM, "agent request");
  if (vm_call_run (sb, c, sb->timeout_ms, err) < 0)
    return -1;
  vm_call_free (c);
  return 0;
}

/* start, pause, resume.  startContainer hooks were run by `hull start`
 * (runtime/README.md). */
int
vm_ctr_simple (struct sandbox *sb, uint32_t ctr, uint16_t op, hull_error_t *err)
{
  struct vm_call *c;

  if (vm_call_ctr (sb, op, ctr, &c, err) < 0)
    return -1;
  return vm_simple_call (sb, c, err);
}

int
vm_ctr_exec (struct sandbox *sb, uint32_t ctr, const struct sandbox_exec_args *a, uint32_t *proc,
             int *pty_master, hull_error_t *err)
{
  cleanup_free char *json = NULL, *cid = NULL;
  struct vm_proc *p = NULL;
  struct vm_call *c = NULL;
  int master = -1;
  uint32_t pid = 0;

  *pty_master = -1;
  if (vm_process_json (a->process, &json, err) < 0)
    return hull_error_prefix (err, "exec");
  if (vm_call_ctr (sb, HULL_OP_EXEC, ctr, &c, err) < 0)
    return -1;
  cid = ctr ? member_id_dup (sb, ctr) : NULL;
  p = vm_proc_new (ctr, cid);
  if (p == NULL || (ctr && cid == NULL))
    {
      hull_error (err, ENOMEM, "exec request");
      goto fail;
    }
  hull_msgbuf_put_str (&c->mb, HULL_ATTR_PROCESS_JSON, json);
  if (vm_proc_stdio (sb, p, a->process, a->stdio, &master, &c->mb, err) < 0)
    goto fail;
  c->attach = hull_steal_ptr (&p);
  if (vm_call_run (sb, c, sb->timeout_ms, err) < 0)
    {
      c = NULL; /* consumed */
      goto fail;
    }
  hull_msg_get_u32 (&c->resp, HULL_ATTR_PID, &pid);
  vm_call_free (c);
  *proc = pid;
  *pty_master = master;
  return 0;
fail:
  vm_call_free (c);
  vm_proc_free (p);
  if (master >= 0)
    close (master);
  return -1;
}

int
vm_ctr_signal (struct sandbox *sb, uint32_t ctr, uint32_t proc, int signo, bool all,
               hull_error_t *err)
{
  struct vm_call *c;

  if (vm_call_ctr (sb, HULL_OP_SIGNAL, ctr, &c, err) < 0)
    return -1;
  if (proc != SANDBOX_INIT)
    hull_msgbuf_put_u32 (&c->mb, HULL_ATTR_PID, proc);
  hull_msgbuf_put_u32 (&c->mb, HULL_ATTR_SIGNAL, (uint32_t) signo);
  if (all)
    hull_msgbuf_put_u32 (&c->mb, HULL_ATTR_ALL, 1);
  if (ctr != 0 || signo != SIGKILL || (proc != SANDBOX_INIT && !all))
    return vm_simple_call (sb, c, err);
  /* SIGKILL ends the container even in a guest too busy to act on it
   * (a fork bomb starving the agent): the I/O thread stops the VM when
   * init outlives the grace period, and a request lost with the VM is
   * then a kill done. */
  pthread_mutex_lock (&sb->lock);
  if (sb->kill_deadline_ms == 0)
    sb->kill_deadline_ms = vm_now_ms () + VM_KILL_GRACE_MS;
  pthread_mutex_unlock (&sb->lock);
  if (vm_simple_call (sb, c, err) == 0)
    return 0;
  pthread_mutex_lock (&sb->lock);
  bool gone = sb->vm_done || sb->io_dead;
  pthread_mutex_unlock (&sb->lock);
  if (!gone)
    return -1;
  hull_error_free (err);
  return 0;
}

int
vm_ctr_close_stdin (struct sandbox *sb, uint32_t ctr, uint32_t proc, hull_error_t *err)
{
  struct vm_call *c = calloc (1, sizeof (*c));

  if (c == NULL)
    return hull_error (err, ENOMEM, "close stdin");
  c->kind = VM_CALL_FIN;
  c->fin_ctr = ctr;
  c->fin_proc = proc;
  hull_msgbuf_init (&c->mb, HULL_FRAME_REQUEST, HULL_OP_PING, 0);
  return vm_simple_call (sb, c, err);
}

int
vm_ctr_resize (struct sandbox *sb, uint32_t ctr, uint32_t proc, unsigned rows, unsigned cols,
               hull_error_t *err)
{
  struct vm_call *c;

  if (vm_call_ctr (sb, HULL_OP_RESIZE, ctr, &c, err) < 0)
    return -1;
  if (proc != SANDBOX_INIT)
    hull_msgbuf_put_u32 (&c->mb, HULL_ATTR_PID, proc);
  hull_msgbuf_put_u32 (&c->mb, HULL_ATTR_ROWS, rows);
  hull_msgbuf_put_u32 (&c->mb, HULL_ATTR_COLS, cols);
  return vm_simple_call (sb, c, err);
}

int
vm_ctr_stats (struct sandbox *sb, uint32_t ctr, struct sandbox_stats *out, hull_error_t *err)
{
  struct vm_call *c;
  uint64_t v;

  if (vm_call_ctr (sb, HULL_OP_STATS, ctr, &c, err) < 0
      || vm_call_run (sb, c, sb->timeout_ms, err) < 0)
    return -1;
  memset (out, 0, sizeof (*out));
  if (hull_msg_get_u64 (&c->resp, HULL_ATTR_CPU_USAGE_USEC, &v) == 0)
    out->cpu_total_ns = v * 1000;
  if (hull_msg_get_u64 (&c->resp, HULL_ATTR_CPU_USER_USEC, &v) == 0)
    out->cpu_user_ns = v * 1000;
  if (hull_msg_get_u64 (&c->resp, HULL_ATTR_CPU_SYSTEM_USEC, &v) == 0)
    out->cpu_kernel_ns = v * 1000;
  hull_msg_get_u64 (&c->resp, HULL_ATTR_MEM_USAGE, &out->memory_usage);
  hull_msg_get_u64 (&c->resp, HULL_ATTR_MEM_LIMIT, &out->memory_limit);
  hull_msg_get_u64 (&c->resp, HULL_ATTR_PIDS_CURRENT, &out->pids_current);
  vm_call_free (c);
  return 0;
}

/* What can change live goes to the agent (the container's guest cgroup);
 * the rest is refused naming the field (resources_map.h), against the
 * VM's size (a pod member's limits must fit in the pod's VM).  The
 * supervisor then updates the host cgroup. */
int
vm_ctr_update (struct sandbox *sb, uint32_t ctr, const struct oci_linux_resources *r,
               hull_error_t *err)
{
  cleanup_free char *json = NULL;
  struct vm_size vm;
  struct vm_call *c;

  if (resources_vm_size (sb->config, sb->settings.default_vcpus, sb->settings.default_memory_mib,
                         NULL, &vm, err) < 0
      || resources_update_check (&vm, r, err) < 0 || resources_live_json (r, &json, err) < 0)
    return hull_error_prefix (err, "update");
  if (vm_call_ctr (sb, HULL_OP_UPDATE, ctr, &c, err) < 0)
    return -1;
  hull_msgbuf_put_str (&c->mb, HULL_ATTR_RESOURCES_JSON, json);
  return vm_simple_call (sb, c, err);
}

int
vm_ctr_ps (struct sandbox *sb, uint32_t ctr, pid_t **pids, size_t *n, hull_error_t *err)
{
  struct vm_call *c;
  const uint8_t *b;
  size_t len = 0;

  *pids = NULL;
  *n = 0;
  if (vm_call_ctr (sb, HULL_OP_PS, ctr, &c, err) < 0
      || vm_call_run (sb, c, sb->timeout_ms, err) < 0)
    return -1;
  b = hull_msg_get_bytes (&c->resp, HULL_ATTR_PIDS, &len);
  *pids = calloc (len / 4 + 1, sizeof (pid_t));
  if (*pids == NULL)
    {
      vm_call_free (c);
      return hull_error (err, ENOMEM, "ps");
    }
  for (size_t i = 0; b != NULL && i + 4 <= len; i += 4)
    (*pids)[(*n)++] = (pid_t) ((uint32_t) b[i] | (uint32_t) b[i + 1] << 8
                               | (uint32_t) b[i + 2] << 16 | (uint32_t) b[i + 3] << 24);
  vm_call_free (c);
  return 0;
}

/* ---- the ops of the VM's own container ---- */

static int
svm_start (struct sandbox *sb, hull_error_t *err)
{
  return vm_ctr_simple (sb, 0, HULL_OP_START, err);
}

static int
svm_exec (struct sandbox *sb, const struct sandbox_exec_args *a, uint32_t *proc, int *pty_master,
          hull_error_t *err)
{
  return vm_ctr_exec (sb, 0, a, proc, pty_master, err);
}

static int
svm_signal (struct sandbox *sb, uint32_t proc, int signo, bool all, hull_error_t *err)
{
  return vm_ctr_signal (sb, 0, proc, signo, all, err);
}

static int
svm_event_fd (struct sandbox *sb)
{
  return sb->exit_fd;
}

static int
svm_next_exit (struct sandbox *sb, struct sandbox_exit *out, hull_error_t *err)
{
  uint64_t v;
  int r = 0;

  (void) err;
  pthread_mutex_lock (&sb->lock);
  if (sb->n_exits > 0)
    {
      *out = sb->exits[0];
      memmove (sb->exits, sb->exits + 1, (sb->n_exits - 1) * sizeof (*sb->exits));
      sb->n_exits--;
      r = 1;
    }
  /* Reset the eventfd with the queue: the I/O thread writes it under the
   * same lock after queueing. */
  if (sb->n_exits == 0 && read (sb->exit_fd, &v, sizeof (v)) < 0)
    {
      /* EAGAIN: already reset */
    }
  pthread_mutex_unlock (&sb->lock);
  return r;
}

static int
svm_close_stdin (struct sandbox *sb, uint32_t proc, hull_error_t *err)
{
  return vm_ctr_close_stdin (sb, 0, proc, err);
}

static int
svm_resize (struct sandbox *sb, uint32_t proc, unsigned rows, unsigned cols, hull_error_t *err)
{
  return vm_ctr_resize (sb, 0, proc, rows, cols, err);
}

static int
svm_pause (struct sandbox *sb, hull_error_t *err)
{
  return vm_ctr_simple (sb, 0, HULL_OP_PAUSE, err);
}

static int
svm_resume (struct sandbox *sb, hull_error_t *err)
{
  return vm_ctr_simple (sb, 0, HULL_OP_RESUME, err);
}

static int
svm_stats (struct sandbox *sb, struct sandbox_stats *out, hull_error_t *err)
{
  return vm_ctr_stats (sb, 0, out, err);
}

static int
svm_update (struct sandbox *sb, const struct oci_linux_resources *r, hull_error_t *err)
{
  return vm_ctr_update (sb, 0, r, err);
}

static int
svm_ps (struct sandbox *sb, pid_t **pids, size_t *n, hull_error_t *err)
{
  return vm_ctr_ps (sb, 0, pids, n, err);
}

static void
svm_destroy (struct sandbox *sb)
{
  if (sb == NULL)
    return;
  vm_boot_teardown (sb);
  if (sb->wake_fd >= 0)
    close (sb->wake_fd);
  if (sb->exit_fd >= 0)
    close (sb->exit_fd);
  if (sb->settings_loaded)
    hull_settings_free (&sb->settings);
  vm_pod_free (sb);
  pthread_mutex_destroy (&sb->lock);
  pthread_cond_destroy (&sb->cond);
  free (sb->io_error);
  free (sb->exits);
  free (sb->id);
  free (sb->state_dir);
  free (sb->rootfs);
  free (sb);
}

const struct sandbox_ops sandbox_vm_ops = {
  .name = "microvm",
  .create = svm_create,
  .start = svm_start,
  .exec = svm_exec,
  .signal = svm_signal,
  .event_fd = svm_event_fd,
  .next_exit = svm_next_exit,
  .close_stdin = svm_close_stdin,
  .resize = svm_resize,
  .pause = svm_pause,
  .resume = svm_resume,
  .stats = svm_stats,
  .update = svm_update,
  .ps = svm_ps,
  .guest_pids = true,
  .destroy = svm_destroy,
  .pod = &sandbox_vm_pod_ops,
};
