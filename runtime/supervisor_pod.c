/* The pod sandbox's supervisor serving its pod's other containers
 * (runtime/pods.md).  Each app container (member) has a supervisor of its
 * own whose backend (runtime/sandbox_pod.c) speaks for it here:
 *
 *   {"op":"pod_create","id":ID,"config":TEXT,"rootfs":GUEST,"pod":LAYOUT}
 *       + 3 stdio fds without a terminal; reply: ok (+ the pty master).
 *       The connection stays open: it is the member's.  The member's
 *       init's exit comes on it as {"event":"exit","status":N}, OOM kills
 *       as {"event":"oom","oomKills":N}; when it closes (the member's
 *       supervisor is gone) the container is removed from the VM.
 *   {"op":"pod_exec","id":ID,"process":TEXT} + fds: an exec connection as
 *       `hull exec`'s (the reply has "pid"; then the exit event; the
 *       member may send signal/resize/close_stdin on it).
 *   {"op":"pod_start"|"pod_pause"|"pod_resume"|"pod_ps","id":ID},
 *   {"op":"pod_kill","id":ID,"signal":N,"all":B},
 *   {"op":"pod_stats","id":ID}: reply with the numbers of sandbox_stats,
 *   {"op":"pod_update","id":ID,"resources":LIVE-JSON},
 *   {"op":"pod_resize","id":ID,"rows":R,"cols":C},
 *   {"op":"pod_close_stdin","id":ID}: init's.
 * The member's status (created, running, ...) is its own supervisor's
 * business; this side only needs the sandbox to be running. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "runtime/cleanup.h"
#include "runtime/supervisor_internal.h"
#include "runtime/supervisor_proto.h"

static const struct sandbox_pod_ops *
pod_ops (struct supervisor *s, hull_error_t *err)
{
  const struct sandbox_pod_ops *p = s->ops->pod;

  if (p == NULL || s->sb == NULL || !p->is_pod (s->sb))
    {
      hull_error (err, EINVAL, "container `%s` is not a pod sandbox", s->args->id);
      return NULL;
    }
  if (s->status != STATUS_RUNNING && s->status != STATUS_PAUSED)
    {
      hull_error (err, EINVAL, "the pod's sandbox `%s` is not running", s->args->id);
      return NULL;
    }
  return p;
}

static struct sup_conn *
member_find (struct supervisor *s, const char *id)
{
  for (struct sup_conn *c = s->conns; c != NULL; c = c->next)
    if (c->is_member && !c->proc_exited && strcmp (c->member_id, id) == 0)
      return c;
  return NULL;
}

/* The handle of the member the request names. */
static int
member_of (struct supervisor *s, yajl_val msg, uint32_t *ctr, hull_error_t *err)
{
  const char *id = proto_get_str (msg, "id");
  struct sup_conn *m;

  if (id == NULL)
    return hull_error (err, 0, "pod request without `id`");
  m = member_find (s, id);
  if (m == NULL)
    return hull_error (err, ESRCH, "container `%s` is not running in pod `%s`", id,
                       s->args->id);
  *ctr = m->ctr;
  return 0;
}

static int
reply_fd (struct sup_conn *c, yajl_gen g, int fd, hull_error_t *err)
{
  return proto_send (c->fd, g, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0, err);
}

static int
do_create (struct supervisor *s, const struct sandbox_pod_ops *p, struct sup_conn *c,
           yajl_val msg, int *fds, size_t nfds, hull_error_t *err)
{
  const char *id = proto_get_str (msg, "id"), *text = proto_get_str (msg, "config");
  struct sandbox_member_args a = { .id = id, .config_json = text,
                                   .rootfs = proto_get_str (msg, "rootfs"),
                                   .pod_json = proto_get_str (msg, "pod"),
                                   .stdio = { -1, -1, -1 } };
  struct oci_config *cfg = NULL;
  cleanup_close int master = -1;
  uint32_t ctr = 0;
  yajl_gen g;
  int r;

  if (id == NULL || text == NULL || a.rootfs == NULL || a.pod_json == NULL)
    return hull_error (err, 0, "pod_create: needs `id`, `config`, `rootfs` and `pod`");
  if (member_find (s, id) != NULL)
    return hull_error (err, EEXIST, "container `%s` is already in pod `%s`", id, s->args->id);
  if (oci_config_parse_data (text, strlen (text), &cfg, err) < 0)
    return hull_error_prefix (err, "pod_create `%s`: config", id);
  if (cfg->process == NULL || (!cfg->process->terminal && nfds != 3))
    {
      oci_config_free (cfg);
      return hull_error (err, 0, "pod_create `%s`: expected a process and 3 stdio fds", id);
    }
  a.config = cfg;
  for (size_t i = 0; i < 3 && i < nfds; i++)
    a.stdio[i] = fds[i];
  r = p->create (s->sb, &a, &ctr, &master, err);
  oci_config_free (cfg);
  if (r < 0)
    return -1;
  c->member_id = strdup (id);
  if (c->member_id == NULL)
    {
      p->remove (s->sb, ctr);
      return hull_error (err, ENOMEM, "pod member");
    }
  c->is_member = true;
  c->ctr = ctr;
  log_debug (s->log, "pod `%s`: container `%s` joined", s->args->id, id);
  g = proto_begin ();
  proto_put_bool (g, "ok", true);
  return reply_fd (c, g, master, err);
}

static int
do_exec (struct supervisor *s, const struct sandbox_pod_ops *p, struct sup_conn *c,
         yajl_val msg, int *fds, size_t nfds, hull_error_t *err)
{
  const char *text = proto_get_str (msg, "process");
  struct sandbox_exec_args ea = { .stdio = { -1, -1, -1 } };
  struct oci_process *proc = NULL;
  cleanup_close int master = -1;
  uint32_t ctr, pid = 0;
  int r;

  if (member_of (s, msg, &ctr, err) < 0)
    return -1;
  if (text == NULL)
    return hull_error (err, 0, "pod_exec: missing `process`");
  if (oci_process_parse_data (text, strlen (text), &proc, err) < 0)
    return hull_error_prefix (err, "pod_exec: process");
  r = supervisor_exec_stdio (&ea, proc, fds, nfds, "pod_exec", err);
  if (r == 0)
    r = p->exec (s->sb, ctr, &ea, &pid, &master, err);
  oci_process_free (proc);
  if (r < 0)
    return -1;
  return supervisor_exec_reply (c, ctr, pid, master, err);
}

static int
do_stats (struct supervisor *s, const struct sandbox_pod_ops *p, struct sup_conn *c,
          uint32_t ctr, hull_error_t *err)
{
  struct sandbox_stats st = { 0 };
  yajl_gen g;

  if (p->stats (s->sb, ctr, &st, err) < 0)
    return -1;
  g = proto_begin ();
  proto_put_bool (g, "ok", true);
  proto_put_int (g, "cpuTotal", (long long) st.cpu_total_ns);
  proto_put_int (g, "cpuUser", (long long) st.cpu_user_ns);
  proto_put_int (g, "cpuKernel", (long long) st.cpu_kernel_ns);
  proto_put_int (g, "memUsage", (long long) st.memory_usage);
  proto_put_int (g, "memLimit", (long long) st.memory_limit);
  proto_put_int (g, "pids", (long long) st.pids_current);
  return proto_send (c->fd, g, NULL, 0, err);
}

static int
do_ps (struct supervisor *s, const struct sandbox_pod_ops *p, struct sup_conn *c, uint32_t ctr,
       hull_error_t *err)
{
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;

  if (p->ps (s->sb, ctr, &pids, &n, err) < 0)
    return -1;
  return supervisor_reply_pids (c, pids, n, err);
}

static int
do_update (struct supervisor *s, const struct sandbox_pod_ops *p, uint32_t ctr, yajl_val msg,
           hull_error_t *err)
{
  const char *text = proto_get_str (msg, "resources");
  struct oci_linux_resources *r = NULL;
  int ret;

  if (text == NULL)
    return hull_error (err, 0, "pod_update: missing `resources`");
  if (oci_resources_parse_data (text, strlen (text), &r, err) < 0)
    return hull_error_prefix (err, "update: resources");
  ret = p->update (s->sb, ctr, r, err);
  oci_resources_free (r);
  return ret;
}

/* Requests answered with a plain ok. */
static int
do_simple (struct supervisor *s, const struct sandbox_pod_ops *p, const char *op, uint32_t ctr,
           yajl_val msg, hull_error_t *err)
{
  long long a = 0, b = 0;

  if (strcmp (op, "pod_start") == 0)
    return p->start (s->sb, ctr, err);
  if (strcmp (op, "pod_pause") == 0 || strcmp (op, "pod_resume") == 0)
    return p->pause (s->sb, ctr, op[5] == 'p', err);
  if (strcmp (op, "pod_kill") == 0)
    {
      if (!proto_get_int (msg, "signal", &a) || a <= 0 || a > SIGRTMAX)
        return hull_error (err, 0, "pod_kill: missing or invalid `signal`");
      return p->signal (s->sb, ctr, SANDBOX_INIT, (int) a, proto_get_bool (msg, "all"), err);
    }
  if (strcmp (op, "pod_resize") == 0)
    {
      if (!proto_get_int (msg, "rows", &a) || !proto_get_int (msg, "cols", &b))
        return hull_error (err, 0, "pod_resize: missing `rows` or `cols`");
      return p->resize (s->sb, ctr, SANDBOX_INIT, (unsigned) a, (unsigned) b, err);
    }
  if (strcmp (op, "pod_close_stdin") == 0)
    return p->close_stdin (s->sb, ctr, SANDBOX_INIT, err);
  if (strcmp (op, "pod_update") == 0)
    return do_update (s, p, ctr, msg, err);
  return hull_error (err, 0, "unknown request `%s`", op);
}

int
supervisor_pod_request (struct supervisor *s, struct sup_conn *c, const char *op, yajl_val msg,
                        int *fds, size_t nfds, bool *replied, hull_error_t *err)
{
  const struct sandbox_pod_ops *p = pod_ops (s, err);
  uint32_t ctr;

  *replied = true;
  if (p == NULL)
    return -1;
  if (strcmp (op, "pod_create") == 0)
    return do_create (s, p, c, msg, fds, nfds, err);
  if (strcmp (op, "pod_exec") == 0)
    return do_exec (s, p, c, msg, fds, nfds, err);
  if (member_of (s, msg, &ctr, err) < 0)
    return -1;
  if (strcmp (op, "pod_stats") == 0)
    return do_stats (s, p, c, ctr, err);
  if (strcmp (op, "pod_ps") == 0)
    return do_ps (s, p, c, ctr, err);
  *replied = false;
  return do_simple (s, p, op, ctr, msg, err);
}

void
supervisor_pod_exit (struct supervisor *s, const struct sandbox_exit *ex)
{
  for (struct sup_conn *c = s->conns; c != NULL; c = c->next)
    {
      if (c->ctr != ex->ctr || c->proc_exited)
        continue;
      if (ex->proc == SANDBOX_EVENT_OOM && c->is_member)
        {
          cleanup_error hull_error_t err = NULL;
          yajl_gen g = proto_begin ();
          proto_put_str (g, "event", "oom");
          proto_put_int (g, "oomKills", ex->status);
          proto_send (c->fd, g, NULL, 0, &err);
        }
      else if ((ex->proc == SANDBOX_INIT && c->is_member)
               || (ex->proc != SANDBOX_EVENT_OOM && c->is_exec && c->proc == ex->proc))
        {
          log_debug (s->log, "pod `%s`: process %u of `%s` exited with status %d", s->args->id,
                     ex->proc, c->is_member ? c->member_id : "(exec)", ex->status);
          supervisor_send_exit (c, ex->status);
        }
    }
}

void
supervisor_pod_conn_gone (struct supervisor *s, struct sup_conn *c)
{
  cleanup_error hull_error_t err = NULL;
  const struct sandbox_pod_ops *p = s->ops->pod;

  if (p == NULL || s->sb == NULL)
    return;
  if (c->is_member)
    {
      /* The member's supervisor is gone: so is the container. */
      log_debug (s->log, "pod `%s`: container `%s` left", s->args->id, c->member_id);
      p->remove (s->sb, c->ctr);
    }
  else if (c->is_exec && !c->proc_exited)
    p->signal (s->sb, c->ctr, c->proc, SIGKILL, false, &err);
}

void
supervisor_pod_exec_message (struct supervisor *s, struct sup_conn *c, const char *op,
                             yajl_val msg)
{
  cleanup_error hull_error_t err = NULL;
  const struct sandbox_pod_ops *p = s->ops->pod;
  long long a = 0, b = 0;

  if (p == NULL || s->sb == NULL)
    return;
  if (strcmp (op, "signal") == 0 && proto_get_int (msg, "signal", &a))
    p->signal (s->sb, c->ctr, c->proc, (int) a, false, &err);
  else if (strcmp (op, "resize") == 0 && proto_get_int (msg, "rows", &a)
           && proto_get_int (msg, "cols", &b))
    p->resize (s->sb, c->ctr, c->proc, (unsigned) a, (unsigned) b, &err);
  else if (strcmp (op, "close_stdin") == 0)
    p->close_stdin (s->sb, c->ctr, c->proc, &err);
  if (err != NULL)
    log_warning (s->log, "pod `%s`: exec process %u: %s: %s", s->args->id, c->proc, op,
                 hull_error_msg (&err));
}
