/* Requests from the supervisor, and the process table they act on. */
#include "cmd/hull-agent/agent.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/cleanup.h"

/* How long EXIT waits for a dead process's output to reach EOF: a
 * daemonised grandchild may hold the pipe open forever. */
#define EXIT_OUTPUT_GRACE_MS 2000

static int
reply (struct agent *a, struct hull_msgbuf *mb, hull_error_t *err)
{
  int r = hull_conn_send_msg (&a->conn, mb, err);
  hull_msgbuf_free (mb);
  return r;
}

static int
reply_empty (struct agent *a, const struct hull_msg *m, hull_error_t *err)
{
  struct hull_msgbuf mb;
  hull_msgbuf_init (&mb, HULL_FRAME_RESPONSE, m->op, m->id);
  return reply (a, &mb, err);
}

static struct agent_proc *
proc_add (struct agent *a, struct agent_container *c, hull_error_t *err)
{
  if (a->n_procs == a->cap_procs)
    {
      size_t cap = a->cap_procs ? a->cap_procs * 2 : 8;
      struct agent_proc *n = realloc (a->procs, cap * sizeof *n);
      if (n == NULL)
        {
          hull_error (err, errno, "allocate process table");
          return NULL;
        }
      a->procs = n;
      a->cap_procs = cap;
    }
  struct agent_proc *p = &a->procs[a->n_procs++];
  memset (p, 0, sizeof *p);
  p->ctr = c;
  p->tty_fd = p->in.fd = p->out.fd = p->err.fd = -1;
  return p;
}

static void
proc_release (struct agent *a, struct agent_proc *p)
{
  struct agent_io *ios[3] = { &p->in, &p->out, &p->err };
  for (int i = 0; i < 3; i++)
    {
      if (ios[i]->stream)
        hull_conn_stream_close (&a->conn, ios[i]->stream);
      agent_io_release (ios[i]);
    }
  if (p->tty_fd >= 0)
    close (p->tty_fd);
  free (p->exec_id);
  free (p->waiters);
}

/* Undo a proc_add whose process never started. */
static void
proc_drop_last (struct agent *a)
{
  proc_release (a, &a->procs[a->n_procs - 1]);
  a->n_procs--;
}

/* By protocol pid within container c (pids are per pid namespace);
 * absent pid attribute = init. */
static struct agent_proc *
proc_lookup (struct agent *a, struct agent_container *c, const struct hull_msg *m,
             hull_error_t *err)
{
  uint32_t cpid;
  bool init = hull_msg_get_u32 (m, HULL_ATTR_PID, &cpid) != 0 || cpid == 0;

  for (size_t i = 0; i < a->n_procs; i++)
    if (a->procs[i].ctr == c
        && (init ? a->procs[i].exec_id == NULL && a->procs[i].pid == c->init_pid
                 : a->procs[i].cpid == cpid))
      return &a->procs[i];
  hull_error (err, ESRCH, "no process %u in container `%s`", init ? 0 : cpid, c->id);
  return NULL;
}

static void
set_winsize (int fd, unsigned rows, unsigned cols)
{
  struct winsize ws = { .ws_row = (unsigned short) rows, .ws_col = (unsigned short) cols };
  if (fd >= 0)
    ioctl (fd, TIOCSWINSZ, &ws);
}

static int
op_create (struct agent *a, const struct hull_msg *m, hull_error_t *err)
{
  struct agent_container *c;
  struct agent_stdio child;
  struct agent_proc *p;
  struct hull_msgbuf mb;

  if (agent_ctr_new (a, m, &c, err) < 0)
    return -1;
  if (agent_ctr_add (a, c, err) < 0)
    {
      agent_cgroup_remove (c);
      agent_ctr_free (c);
      return -1;
    }
  p = proc_add (a, c, err);
  if (p == NULL)
    goto fail;
  bool tty = c->config->process && c->config->process->terminal;
  if (agent_io_setup (a, p, m, tty, &child, err) < 0)
    {
      agent_io_close_child (&child);
      proc_drop_last (a);
      goto fail;
    }
  /* Before init runs: it may ask for its size at once. */
  if (tty && c->config->process->has_console_size)
    set_winsize (p->tty_fd, (unsigned) c->config->process->console_height,
                 (unsigned) c->config->process->console_width);
  if (agent_spawn_init (c, &child, err) < 0)
    {
      agent_io_close_child (&child);
      proc_drop_last (a);
      goto fail;
    }
  agent_io_close_child (&child);
  p->pid = c->init_pid;
  p->cpid = agent_ns_pid (p->pid);
  hull_msgbuf_init (&mb, HULL_FRAME_RESPONSE, m->op, m->id);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_PID, p->cpid);
  return reply (a, &mb, err);
fail:
  /* Last in the table: nothing refers to it yet. */
  a->n_ctrs--;
  agent_cgroup_remove (c);
  agent_ctr_free (c);
  return -1;
}

static int
op_exec (struct agent *a, struct agent_container *c, const struct hull_msg *m,
         hull_error_t *err)
{
  const char *json = hull_msg_get_str (m, HULL_ATTR_PROCESS_JSON);
  const char *exec_id = hull_msg_get_str (m, HULL_ATTR_EXEC_ID);
  struct oci_process *proc = NULL;
  struct agent_stdio child;
  struct agent_proc *p;
  struct hull_msgbuf mb;
  pid_t pid;

  if (!c->started)
    return hull_error (err, EINVAL, "container `%s` is not running", c->id);
  if (oci_process_parse_data (json, strlen (json), &proc, err) < 0)
    return hull_error_prefix (err, "process.json");
  p = proc_add (a, c, err);
  if (p == NULL)
    {
      oci_process_free (proc);
      return -1;
    }
  if (agent_io_setup (a, p, m, proc->terminal, &child, err) < 0)
    {
      agent_io_close_child (&child);
      proc_drop_last (a);
      oci_process_free (proc);
      return -1;
    }
  /* Before the process runs: it may ask for its size at once. */
  if (proc->terminal && proc->has_console_size)
    set_winsize (p->tty_fd, (unsigned) proc->console_height, (unsigned) proc->console_width);
  if (agent_spawn_exec (c, proc, &child, &pid, err) < 0)
    {
      agent_io_close_child (&child);
      proc_drop_last (a);
      oci_process_free (proc);
      return -1;
    }
  agent_io_close_child (&child);
  oci_process_free (proc);
  p->pid = pid;
  p->cpid = agent_ns_pid (pid);
  p->exec_id = strdup (exec_id ? exec_id : "");
  hull_msgbuf_init (&mb, HULL_FRAME_RESPONSE, m->op, m->id);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_PID, p->cpid);
  return reply (a, &mb, err);
}

static int
op_signal (struct agent *a, struct agent_container *c, const struct hull_msg *m,
           hull_error_t *err)
{
  uint32_t sig, all = 0;
  struct agent_proc *p;

  hull_msg_get_u32 (m, HULL_ATTR_SIGNAL, &sig);
  hull_msg_get_u32 (m, HULL_ATTR_ALL, &all);
  if (sig == 0 || sig >= NSIG)
    return hull_error (err, EINVAL, "signal %u out of range", sig);
  if (all)
    {
      if (agent_ctr_signal_all (a, c, (int) sig, err) < 0)
        return -1;
      return reply_empty (a, m, err);
    }
  p = proc_lookup (a, c, m, err);
  if (p == NULL)
    return -1;
  if (!p->exited && kill (p->pid, (int) sig) < 0)
    return hull_error (err, errno, "signal %u to pid %u", sig, p->cpid);
  return reply_empty (a, m, err);
}

static int
answer_wait (struct agent *a, const struct agent_proc *p, uint32_t id, hull_error_t *err)
{
  struct hull_msgbuf mb;
  hull_msgbuf_init (&mb, HULL_FRAME_RESPONSE, HULL_OP_WAIT, id);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_PID, p->cpid);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_WAIT_STATUS, (uint32_t) p->wait_status);
  return reply (a, &mb, err);
}

static int
op_wait (struct agent *a, struct agent_container *c, const struct hull_msg *m,
         hull_error_t *err)
{
  struct agent_proc *p = proc_lookup (a, c, m, err);
  uint32_t *w;

  if (p == NULL)
    return -1;
  if (p->exited)
    return answer_wait (a, p, m->id, err);
  w = realloc (p->waiters, (p->n_waiters + 1) * sizeof *w);
  if (w == NULL)
    return hull_error (err, errno, "allocate waiter");
  p->waiters = w;
  p->waiters[p->n_waiters++] = m->id;
  return 0; /* answered at exit */
}

static int
op_resize (struct agent *a, struct agent_container *c, const struct hull_msg *m,
           hull_error_t *err)
{
  struct agent_proc *p = proc_lookup (a, c, m, err);
  uint32_t rows = 0, cols = 0;

  if (p == NULL)
    return -1;
  if (p->tty_fd < 0)
    return hull_error (err, ENOTTY, "process %u has no terminal", p->cpid);
  hull_msg_get_u32 (m, HULL_ATTR_ROWS, &rows);
  hull_msg_get_u32 (m, HULL_ATTR_COLS, &cols);
  set_winsize (p->tty_fd, rows, cols);
  return reply_empty (a, m, err);
}

static int
op_with_cgroup (struct agent *a, struct agent_container *c, const struct hull_msg *m,
                hull_error_t *err)
{
  struct hull_msgbuf mb;

  hull_msgbuf_init (&mb, HULL_FRAME_RESPONSE, m->op, m->id);
  int r = 0;
  switch (m->op)
    {
    case HULL_OP_STATS:
      r = agent_cgroup_stats (c, &mb, err);
      break;
    case HULL_OP_PS:
      r = agent_cgroup_pids (c, &mb, err);
      break;
    case HULL_OP_PAUSE:
    case HULL_OP_RESUME:
      r = agent_cgroup_freeze (c, m->op == HULL_OP_PAUSE, err);
      break;
    }
  if (r < 0)
    {
      hull_msgbuf_free (&mb);
      return -1;
    }
  return reply (a, &mb, err);
}

static int
dispatch (struct agent *a, const struct hull_msg *m, hull_error_t *err)
{
  struct agent_container *c;
  struct hull_msgbuf mb;
  size_t len;
  const uint8_t *nonce;

  switch (m->op)
    {
    case HULL_OP_PING:
      hull_msgbuf_init (&mb, HULL_FRAME_RESPONSE, m->op, m->id);
      nonce = hull_msg_get_bytes (m, HULL_ATTR_NONCE, &len);
      if (nonce)
        hull_msgbuf_put_bytes (&mb, HULL_ATTR_NONCE, nonce, len);
      return reply (a, &mb, err);
    case HULL_OP_CREATE:
      return op_create (a, m, err);
    case HULL_OP_SHUTDOWN:
      a->shutdown = true;
      return reply_empty (a, m, err);
    default:
      break;
    }
  c = agent_ctr_of (a, m, err);
  if (c == NULL)
    return -1;
  switch (m->op)
    {
    case HULL_OP_START:
      if (agent_spawn_start (c, err) < 0)
        return -1;
      return reply_empty (a, m, err);
    case HULL_OP_EXEC:
      return op_exec (a, c, m, err);
    case HULL_OP_SIGNAL:
      return op_signal (a, c, m, err);
    case HULL_OP_WAIT:
      return op_wait (a, c, m, err);
    case HULL_OP_RESIZE:
      return op_resize (a, c, m, err);
    case HULL_OP_STATS:
    case HULL_OP_PS:
    case HULL_OP_PAUSE:
    case HULL_OP_RESUME:
      return op_with_cgroup (a, c, m, err);
    case HULL_OP_UPDATE:
      if (agent_cgroup_update (c, hull_msg_get_str (m, HULL_ATTR_RESOURCES_JSON), err) < 0)
        return -1;
      return reply_empty (a, m, err);
    case HULL_OP_DELETE:
      if (agent_ctr_delete (a, c, err) < 0)
        return -1;
      return reply_empty (a, m, err);
    default:
      return hull_error (err, ENOTSUP, "operation %u not handled", m->op);
    }
}

int
agent_handle_request (struct agent *a, const struct hull_msg *m, hull_error_t *err)
{
  cleanup_error hull_error_t failure = NULL;
  struct hull_msgbuf mb;

  if (m->type != HULL_FRAME_REQUEST)
    return 0; /* the host sends no responses or events we act on */
  if (dispatch (a, m, &failure) == 0)
    return 0;
  /* A failed request is the requester's business, not the connection's. */
  agent_log ("%s request %u failed: %s", hull_op_name (m->op), m->id,
             hull_error_msg (&failure));
  hull_msgbuf_init_error (&mb, m->op, m->id, failure && failure->status ? failure->status : EIO,
                          hull_error_msg (&failure));
  return reply (a, &mb, err);
}

/* ---- exits ---- */

int
agent_reap (struct agent *a, hull_error_t *err)
{
  int status;
  pid_t pid;

  (void) err;
  /* PID 1 reaps every orphan in the guest, tracked or not. */
  while ((pid = waitpid (-1, &status, WNOHANG)) > 0)
    for (size_t i = 0; i < a->n_procs; i++)
      {
        struct agent_proc *p = &a->procs[i];
        if (p->pid != pid || p->exited)
          continue;
        p->exited = true;
        p->wait_status = status;
        p->exit_at_ms = agent_now_ms ();
      }
  return 0;
}

static int
send_exit (struct agent *a, struct agent_proc *p, hull_error_t *err)
{
  struct hull_msgbuf mb;

  for (size_t k = 0; k < p->n_waiters; k++)
    if (answer_wait (a, p, p->waiters[k], err) < 0)
      return -1;
  p->n_waiters = 0;
  p->exit_sent = true;
  /* A deleted container's processes are nobody's business any more. */
  if (p->ctr->deleted)
    return 0;
  hull_msgbuf_init (&mb, HULL_FRAME_EVENT, HULL_EVENT_EXIT, 0);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONTAINER_ID, p->ctr->id);
  if (p->exec_id)
    hull_msgbuf_put_str (&mb, HULL_ATTR_EXEC_ID, p->exec_id);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_PID, p->cpid);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_WAIT_STATUS, (uint32_t) p->wait_status);
  return reply (a, &mb, err);
}

/* Forget exec'd processes whose exit was reported and whose output is
 * complete, so a long-lived container with many execs does not grow the
 * table.  Init stays: WAIT and signals address it until the VM ends, or
 * its container is deleted (then every exited process goes at once). */
static void
procs_collect (struct agent *a)
{
  for (size_t i = 0; i < a->n_procs;)
    {
      struct agent_proc *p = &a->procs[i];
      bool gone = p->ctr->deleted ? p->exited && p->exit_sent
                                  : p->exec_id != NULL && p->exit_sent && p->out.fd < 0
                                        && p->err.fd < 0;
      if (!gone)
        {
          i++;
          continue;
        }
      proc_release (a, p);
      a->procs[i] = a->procs[--a->n_procs];
    }
  agent_ctrs_collect (a);
}

int
agent_send_due_exits (struct agent *a, hull_error_t *err)
{
  int64_t now = agent_now_ms ();

  if (agent_cgroup_oom_check (a, err) < 0)
    return -1;
  for (size_t i = 0; i < a->n_procs; i++)
    {
      struct agent_proc *p = &a->procs[i];
      bool drained = (p->out.fd < 0 && p->err.fd < 0) || p->ctr->deleted;
      if (!p->exited || p->exit_sent)
        continue;
      /* Output first, so the host has it all when it sees the exit. */
      if (!drained && now - p->exit_at_ms < EXIT_OUTPUT_GRACE_MS)
        continue;
      if (send_exit (a, p, err) < 0)
        return -1;
    }
  procs_collect (a);
  return 0;
}

void
agent_free (struct agent *a)
{
  for (size_t i = 0; i < a->n_procs; i++)
    proc_release (a, &a->procs[i]);
  free (a->procs);
  for (size_t i = 0; i < a->n_ctrs; i++)
    agent_ctr_free (a->ctrs[i]);
  free (a->ctrs);
  hull_conn_free (&a->conn);
}
