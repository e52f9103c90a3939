/* Request handlers of the supervisor (protocol in runtime/README.md). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/hooks.h"
#include "runtime/json_gen.h"
#include "runtime/supervisor_internal.h"
#include "runtime/supervisor_proto.h"

static void
close_fds (int *fds, size_t nfds)
{
  for (size_t i = 0; i < nfds; i++)
    if (fds[i] >= 0)
      close (fds[i]);
}

static int
check (struct supervisor *s, enum container_op op, hull_error_t *err)
{
  return state_check_op (s->args->id, s->status, op, err);
}

static int
do_state (struct supervisor *s, struct sup_conn *c, hull_error_t *err)
{
  yajl_gen g = proto_begin ();

  proto_put_bool (g, "ok", true);
  proto_put_str (g, "status", container_status_name (s->status));
  proto_put_int (g, "pid", getpid ());
  return proto_send (c->fd, g, NULL, 0, err);
}

static int
do_start (struct supervisor *s, hull_error_t *err)
{
  if (check (s, OP_START, err) < 0)
    return -1;
  if (s->ops->start (s->sb, err) < 0)
    {
      /* startContainer hook or exec failure: the container stops. */
      cleanup_error hull_error_t e2 = NULL;
      s->ops->signal (s->sb, SANDBOX_INIT, SIGKILL, true, &e2);
      return -1;
    }
  s->status = STATUS_RUNNING;
  return 0;
}

static int
do_kill (struct supervisor *s, yajl_val msg, hull_error_t *err)
{
  long long sig = 0;

  if (! proto_get_int (msg, "signal", &sig) || sig <= 0 || sig > SIGRTMAX)
    return hull_error (err, 0, "kill: missing or invalid `signal`");
  if (check (s, OP_KILL, err) < 0)
    return -1;
  return s->ops->signal (s->sb, SANDBOX_INIT, (int) sig, proto_get_bool (msg, "all"), err);
}

static int
do_pause (struct supervisor *s, bool pause, hull_error_t *err)
{
  if (check (s, pause ? OP_PAUSE : OP_RESUME, err) < 0)
    return -1;
  if ((pause ? s->ops->pause : s->ops->resume) (s->sb, err) < 0)
    return -1;
  s->status = pause ? STATUS_PAUSED : STATUS_RUNNING;
  return 0;
}

/* The host processes standing for a VM's processes: this supervisor for
 * init (its pid is the container's pid in the state and the shim's pid
 * file) and each running exec's relay (the pid `exec --pid-file` wrote).
 * containerd matches these against the pids it knows, and Docker's `top`
 * runs the host's ps(1) on them: guest pids would name unrelated host
 * processes. */
static int
host_pids (struct supervisor *s, pid_t **pids, size_t *n, hull_error_t *err)
{
  size_t cap = 1;

  for (struct sup_conn *c = s->conns; c != NULL; c = c->next)
    cap++;
  *pids = calloc (cap, sizeof (pid_t));
  if (*pids == NULL)
    return hull_error (err, ENOMEM, "ps");
  (*pids)[(*n)++] = getpid ();
  for (struct sup_conn *c = s->conns; c != NULL; c = c->next)
    if (c->is_exec && ! c->proc_exited && c->peer_pid > 0)
      (*pids)[(*n)++] = c->peer_pid;
  return 0;
}

int
supervisor_reply_pids (struct sup_conn *c, const pid_t *pids, size_t n, hull_error_t *err)
{
  yajl_gen g = proto_begin ();

  proto_put_bool (g, "ok", true);
  yajl_gen_string (g, (const unsigned char *) "pids", 4);
  yajl_gen_array_open (g);
  for (size_t i = 0; i < n; i++)
    yajl_gen_integer (g, pids[i]);
  yajl_gen_array_close (g);
  return proto_send (c->fd, g, NULL, 0, err);
}

static int
do_ps (struct supervisor *s, struct sup_conn *c, hull_error_t *err)
{
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;

  if (check (s, OP_PS, err) < 0)
    return -1;
  if ((s->ops->guest_pids ? host_pids (s, &pids, &n, err) : s->ops->ps (s->sb, &pids, &n, err))
      < 0)
    return -1;
  return supervisor_reply_pids (c, pids, n, err);
}

/* The "data" of a runc stats event (the subset hull measures), sent as a
 * JSON string so the CLI can print it unchanged. */
char *
supervisor_stats_json (const struct sandbox_stats *st)
{
  cleanup_error hull_error_t err = NULL;
  struct json_gen g;
  char *out = NULL;

  if (json_gen_init (&g, &err) < 0)
    return NULL;
  json_gen_open_object (&g);
  json_gen_key (&g, "cpu");
  json_gen_open_object (&g);
  json_gen_key (&g, "usage");
  json_gen_open_object (&g);
  json_gen_kv_uint (&g, "total", st->cpu_total_ns);
  json_gen_kv_uint (&g, "user", st->cpu_user_ns);
  json_gen_kv_uint (&g, "kernel", st->cpu_kernel_ns);
  json_gen_close_object (&g);
  json_gen_close_object (&g);
  json_gen_key (&g, "memory");
  json_gen_open_object (&g);
  json_gen_key (&g, "usage");
  json_gen_open_object (&g);
  json_gen_kv_uint (&g, "usage", st->memory_usage);
  json_gen_kv_uint (&g, "limit", st->memory_limit);
  json_gen_close_object (&g);
  json_gen_close_object (&g);
  json_gen_key (&g, "pids");
  json_gen_open_object (&g);
  json_gen_kv_uint (&g, "current", st->pids_current);
  json_gen_close_object (&g);
  json_gen_close_object (&g);
  if (json_gen_finish (&g, &out, NULL, &err) < 0)
    return NULL;
  return out;
}

static int
do_stats (struct supervisor *s, struct sup_conn *c, hull_error_t *err)
{
  struct sandbox_stats st = { 0 };
  cleanup_free char *json = NULL;
  yajl_gen g;

  if (check (s, OP_STATS, err) < 0 || s->ops->stats (s->sb, &st, err) < 0)
    return -1;
  json = supervisor_stats_json (&st);
  if (json == NULL)
    return hull_error (err, ENOMEM, "stats");
  g = proto_begin ();
  proto_put_bool (g, "ok", true);
  proto_put_str (g, "stats", json);
  return proto_send (c->fd, g, NULL, 0, err);
}

static int
do_update (struct supervisor *s, yajl_val msg, hull_error_t *err)
{
  const char *text = proto_get_str (msg, "resources");
  struct oci_linux_resources *r = NULL;
  int ret;

  if (text == NULL)
    return hull_error (err, 0, "update: missing `resources`");
  if (check (s, OP_UPDATE, err) < 0)
    return -1;
  if (oci_resources_parse_data (text, strlen (text), &r, err) < 0)
    return hull_error_prefix (err, "update: resources");
  ret = s->ops->update (s->sb, r, err);
  /* The VM as a whole, in linux.cgroupsPath on the host. */
  if (ret == 0)
    ret = cgroup_host_update (&s->cg, r, err);
  oci_resources_free (r);
  return ret;
}

static int
do_exec (struct supervisor *s, struct sup_conn *c, yajl_val msg, int *fds, size_t nfds,
         hull_error_t *err)
{
  struct oci_process *p = NULL;
  struct sandbox_exec_args ea = { .stdio = { -1, -1, -1 } };
  cleanup_close int master = -1;
  uint32_t proc = 0;
  int r;

  if (check (s, OP_EXEC, err) < 0 || supervisor_exec_process (s, msg, &p, err) < 0)
    return -1;
  r = supervisor_exec_stdio (&ea, p, fds, nfds, "exec", err);
  if (r == 0)
    r = s->ops->exec (s->sb, &ea, &proc, &master, err);
  oci_process_free (p);
  if (r < 0)
    return -1;
  return supervisor_exec_reply (c, 0, proc, master, err);
}

/* Messages on an exec connection after its reply: no replies. */
static void
exec_conn_message (struct supervisor *s, struct sup_conn *c, yajl_val msg)
{
  cleanup_error hull_error_t err = NULL;
  const char *op = proto_get_str (msg, "op");
  long long a = 0, b = 0;

  if (c->proc_exited || op == NULL)
    return;
  if (c->ctr != 0)
    {
      supervisor_pod_exec_message (s, c, op, msg);
      return;
    }
  if (strcmp (op, "signal") == 0 && proto_get_int (msg, "signal", &a))
    s->ops->signal (s->sb, c->proc, (int) a, false, &err);
  else if (strcmp (op, "resize") == 0 && proto_get_int (msg, "rows", &a)
           && proto_get_int (msg, "cols", &b))
    s->ops->resize (s->sb, c->proc, (unsigned) a, (unsigned) b, &err);
  else if (strcmp (op, "close_stdin") == 0)
    s->ops->close_stdin (s->sb, c->proc, &err);
  if (err != NULL)
    log_warning (s->log, "exec process %u: %s: %s", c->proc, op, hull_error_msg (&err));
}

/* `hull events`: the connection stays open and gets {"event":"oom",
 * "oomKills":N} whenever the container has processes OOM-killed. */
static int
do_events (struct supervisor *s, struct sup_conn *c, hull_error_t *err)
{
  yajl_gen g = proto_begin ();

  proto_put_bool (g, "ok", true);
  proto_put_int (g, "oomKills", (long long) s->oom_kills);
  c->is_events = true;
  return proto_send (c->fd, g, NULL, 0, err);
}

void
supervisor_oom (struct supervisor *s, int kills)
{
  if (kills < 1)
    kills = 1;
  if ((uint64_t) kills <= s->oom_kills)
    kills = (int) s->oom_kills + 1;
  s->oom_kills = (uint64_t) kills;
  log_warning (s->log, "container `%s`: out of memory: %d process(es) OOM-killed so far",
               s->args->id, kills);
  for (struct sup_conn *c = s->conns; c != NULL; c = c->next)
    if (c->is_events)
      {
        cleanup_error hull_error_t err = NULL;
        yajl_gen g = proto_begin ();
        proto_put_str (g, "event", "oom");
        proto_put_int (g, "oomKills", kills);
        proto_send (c->fd, g, NULL, 0, &err);
      }
}

static int
dispatch (struct supervisor *s, struct sup_conn *c, const char *op, yajl_val msg, int *fds,
          size_t nfds, bool *replied, hull_error_t *err)
{
  *replied = true;
  if (strcmp (op, "state") == 0)
    return do_state (s, c, err);
  if (strcmp (op, "ps") == 0)
    return do_ps (s, c, err);
  if (strcmp (op, "stats") == 0)
    return do_stats (s, c, err);
  if (strcmp (op, "exec") == 0)
    return do_exec (s, c, msg, fds, nfds, err);
  if (strcmp (op, "events") == 0)
    return do_events (s, c, err);
  if (strncmp (op, "pod_", 4) == 0)
    return supervisor_pod_request (s, c, op, msg, fds, nfds, replied, err);
  *replied = false;
  if (strcmp (op, "start") == 0)
    return do_start (s, err);
  if (strcmp (op, "kill") == 0)
    return do_kill (s, msg, err);
  if (strcmp (op, "pause") == 0 || strcmp (op, "resume") == 0)
    return do_pause (s, op[0] == 'p', err);
  if (strcmp (op, "update") == 0)
    return do_update (s, msg, err);
  return hull_error (err, 0, "unknown request `%s`", op);
}

void
supervisor_handle (struct supervisor *s, struct sup_conn *c, yajl_val msg, int *fds, size_t nfds)
{
  cleanup_error hull_error_t err = NULL;
  const char *op = proto_get_str (msg, "op");
  bool replied = false;
  int r;

  if (c->is_exec || c->is_events || c->is_member)
    {
      if (c->is_exec)
        exec_conn_message (s, c, msg);
      close_fds (fds, nfds);
      return;
    }
  if (op == NULL)
    r = hull_error (&err, 0, "request without `op`");
  else
    r = dispatch (s, c, op, msg, fds, nfds, &replied, &err);
  /* exec hands the stdio fds to the backend, which dups what it keeps. */
  close_fds (fds, nfds);
  if (r < 0)
    {
      log_debug (s->log, "request `%s` failed: %s", op ? op : "?", hull_error_msg (&err));
      proto_send_error (c->fd, &err);
    }
  else if (! replied)
    proto_send_ok (c->fd);
}
