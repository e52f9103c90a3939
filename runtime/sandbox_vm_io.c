/* The microVM backend's I/O thread: it alone drives the protocol
 * connection to hull-agent.  It sends the requests the supervisor queued,
 * completes them with their responses, relays every process's stdio
 * between host fds and protocol streams (credit flow control: at most one
 * window per stream is ever buffered here), forwards terminal size
 * changes, and turns EXIT events into sandbox exits once the process's
 * output has reached the host. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/log.h"
#include "runtime/sandbox_vm.h"
#include "vmm/machine.h"

#define IO_MAX_POLL 256

/* ---- the process table ---- */

static void
proc_streams_close (struct sandbox *sb, struct vm_proc *p)
{
  struct vm_relay *rs[3] = { &p->in, &p->out, &p->err };

  for (int i = 0; i < 3; i++)
    if (rs[i]->stream != 0)
      {
        hull_conn_stream_close (&sb->conn, rs[i]->stream);
        rs[i]->stream = 0;
      }
}

static int
proc_streams_open (struct sandbox *sb, struct vm_proc *p, hull_error_t *err)
{
  if ((p->in.stream && hull_conn_stream_open (&sb->conn, p->in.stream, HULL_STREAM_SEND, err) < 0)
      || (p->out.stream
          && hull_conn_stream_open (&sb->conn, p->out.stream, HULL_STREAM_RECV, err) < 0)
      || (p->err.stream
          && hull_conn_stream_open (&sb->conn, p->err.stream, HULL_STREAM_RECV, err) < 0))
    {
      proc_streams_close (sb, p);
      return -1;
    }
  return 0;
}

static void
proc_unlink (struct sandbox *sb, struct vm_proc *p)
{
  for (struct vm_proc **pp = &sb->procs; *pp != NULL; pp = &(*pp)->next)
    if (*pp == p)
      {
        *pp = p->next;
        break;
      }
  proc_streams_close (sb, p);
  vm_proc_free (p);
}

static struct vm_proc *
proc_find (struct sandbox *sb, uint32_t ctr, uint32_t proc)
{
  for (struct vm_proc *p = sb->procs; p != NULL; p = p->next)
    if (p->attached && p->ctr == ctr
        && (proc == SANDBOX_INIT ? p->is_init : (!p->is_init && p->proc == proc)))
      return p;
  return NULL;
}

/* ---- requests and events ---- */

static struct vm_call *
calls_take_locked (struct vm_call **list, uint32_t id)
{
  for (struct vm_call **pp = list; *pp != NULL; pp = &(*pp)->next)
    if ((*pp)->mb.id == id)
      {
        struct vm_call *c = *pp;
        *pp = c->next;
        c->next = NULL;
        return c;
      }
  return NULL;
}

static void
call_fail_locked (struct sandbox *sb, struct vm_call *c, int errnum, const char *msg)
{
  c->errnum = errnum;
  free (c->errmsg);
  c->errmsg = strdup (msg);
  vm_call_complete_locked (sb, c);
}

/* A copy of the response the waiter can read after the I/O thread moved
 * on: the attribute views are moved into the copied payload. */
static int
call_keep_response (struct vm_call *c, const struct hull_msg *m)
{
  c->payload = malloc (m->len ? m->len : 1);
  if (c->payload == NULL)
    return -1;
  memcpy (c->payload, m->payload, m->len);
  c->resp = *m;
  c->resp.payload = c->payload;
  for (unsigned i = 0; i < m->n_attrs; i++)
    c->resp.attrs[i].value = c->payload + (m->attrs[i].value - m->payload);
  return 0;
}

static void
io_on_response (struct sandbox *sb, const struct hull_msg *m)
{
  struct vm_call *c;
  uint32_t e = 0, pid = 0;
  const char *text;

  pthread_mutex_lock (&sb->lock);
  c = calls_take_locked (&sb->calls_sent, m->id);
  if (c == NULL)
    {
      /* Our own fire-and-forget requests (terminal resize). */
      pthread_mutex_unlock (&sb->lock);
      if (m->flags & HULL_FLAG_ERROR)
        log_debug (sb->log, "agent: %s failed: %s", hull_op_name (m->op),
                   hull_msg_get_str (m, HULL_ATTR_MESSAGE) ?: "?");
      return;
    }
  if (m->flags & HULL_FLAG_ERROR)
    {
      hull_msg_get_u32 (m, HULL_ATTR_ERRNO, &e);
      text = hull_msg_get_str (m, HULL_ATTR_MESSAGE);
      if (c->linked != NULL)
        proc_unlink (sb, c->linked);
      c->linked = NULL;
      call_fail_locked (sb, c, e ? (int) e : EIO, text ? text : "failed in the guest");
    }
  else
    {
      if (c->linked != NULL)
        {
          c->linked->attached = true;
          if (!c->linked->is_init && hull_msg_get_u32 (m, HULL_ATTR_PID, &pid) == 0)
            c->linked->proc = pid;
          c->linked = NULL;
        }
      if (call_keep_response (c, m) < 0)
        call_fail_locked (sb, c, ENOMEM, "keep the response");
      else
        vm_call_complete_locked (sb, c);
    }
  pthread_mutex_unlock (&sb->lock);
}

static int
status_from_wait (uint32_t ws)
{
  int w = (int) ws;
  if (WIFSIGNALED (w))
    return 128 + WTERMSIG (w);
  return WEXITSTATUS (w);
}

static int exit_push_locked (struct sandbox *sb, uint32_t ctr, uint32_t proc, int status);

static void
io_on_event (struct sandbox *sb, const struct hull_msg *m)
{
  const char *exec_id = hull_msg_get_str (m, HULL_ATTR_EXEC_ID);
  const char *cid = hull_msg_get_str (m, HULL_ATTR_CONTAINER_ID);
  uint32_t pid = 0, ws = 0, ctr;
  uint64_t kills = 0;
  struct vm_proc *p;

  /* Which container of the VM: a pod member that is gone is ignored. */
  pthread_mutex_lock (&sb->lock);
  ctr = vm_member_find_locked (sb, cid ? cid : "");
  pthread_mutex_unlock (&sb->lock);
  if (ctr == UINT32_MAX)
    return;
  if (m->op == HULL_EVENT_OOM)
    {
      hull_msg_get_u64 (m, HULL_ATTR_OOM_KILLS, &kills);
      log_warning (sb->log, "container `%s`: out of memory (oom kills: %llu)", cid,
                   (unsigned long long) kills);
      /* Queued with the exits, so the supervisor hears of it before the
       * exit it may have caused. */
      pthread_mutex_lock (&sb->lock);
      exit_push_locked (sb, ctr, SANDBOX_EVENT_OOM,
                        kills > 0 && kills < 1000000 ? (int) kills : 1);
      pthread_mutex_unlock (&sb->lock);
      return;
    }
  if (m->op != HULL_EVENT_EXIT)
    return;
  hull_msg_get_u32 (m, HULL_ATTR_PID, &pid);
  hull_msg_get_u32 (m, HULL_ATTR_WAIT_STATUS, &ws);
  /* The init's EXIT carries no exec_id; exec'd processes are found by pid. */
  p = proc_find (sb, ctr, exec_id == NULL ? SANDBOX_INIT : pid);
  if (p == NULL || p->exited)
    return;
  p->exited = true;
  p->status = status_from_wait (ws);
  p->exit_at_ms = vm_now_ms ();
}

/* Under lock. */
static int
exit_push_locked (struct sandbox *sb, uint32_t ctr, uint32_t proc, int status)
{
  uint64_t one = 1;

  if (sb->n_exits == sb->cap_exits)
    {
      size_t cap = sb->cap_exits ? sb->cap_exits * 2 : 8;
      struct sandbox_exit *n = realloc (sb->exits, cap * sizeof (*n));
      if (n == NULL)
        return -1;
      sb->exits = n;
      sb->cap_exits = cap;
    }
  sb->exits[sb->n_exits++] = (struct sandbox_exit){ .proc = proc, .status = status, .ctr = ctr };
  if (write (sb->exit_fd, &one, sizeof (one)) < 0)
    {
      /* The counter is already nonzero: the supervisor will look. */
    }
  return 0;
}

/* Exits whose output is all out (or that waited long enough). */
static void
io_report_exits (struct sandbox *sb)
{
  int64_t now = vm_now_ms ();
  struct vm_proc *p = sb->procs, *next;

  for (; p != NULL; p = next)
    {
      next = p->next;
      if (!p->exited)
        continue;
      if ((p->out.stream != 0 || p->err.stream != 0) && now - p->exit_at_ms < VM_EXIT_DRAIN_MS)
        continue;
      pthread_mutex_lock (&sb->lock);
      exit_push_locked (sb, p->ctr, p->is_init ? SANDBOX_INIT : p->proc, p->status);
      pthread_mutex_unlock (&sb->lock);
      proc_unlink (sb, p);
    }
}

static bool
exits_waiting (struct sandbox *sb)
{
  for (struct vm_proc *p = sb->procs; p != NULL; p = p->next)
    if (p->exited)
      return true;
  return false;
}

static bool
has_tty (struct sandbox *sb)
{
  for (struct vm_proc *p = sb->procs; p != NULL; p = p->next)
    if (p->tty >= 0 && p->attached && !p->exited)
      return true;
  return false;
}

/* The host pty's size is set by whoever holds its master (the console
 * socket's receiver): pass changes on to the guest's pty. */
/* ---- queued calls ---- */

static void
io_fin_call_locked (struct sandbox *sb, struct vm_call *c)
{
  hull_error_t e = NULL;
  struct vm_proc *p = proc_find (sb, c->fin_ctr, c->fin_proc);

  if (p == NULL || p->exited)
    {
      call_fail_locked (sb, c, ESRCH, "no such running process");
      return;
    }
  if (p->in.stream == 0)
    {
      call_fail_locked (sb, c, EINVAL, "the process has no stdin stream");
      return;
    }
  if (vm_relay_input_finish (sb, &p->in, &e) < 0)
    {
      call_fail_locked (sb, c, EPIPE, hull_error_msg (&e));
      hull_error_free (&e);
      return;
    }
  vm_call_complete_locked (sb, c);
}

static void
io_send_call_locked (struct sandbox *sb, struct vm_call *c)
{
  hull_error_t e = NULL;

  if (c->kind == VM_CALL_FIN)
    {
      io_fin_call_locked (sb, c);
      return;
    }
  if (c->kind == VM_CALL_FORGET)
    {
      /* A pod member removed: its processes' relays and streams go. */
      for (struct vm_proc *p = sb->procs, *next; p != NULL; p = next)
        {
          next = p->next;
          if (p->ctr == c->fin_ctr)
            proc_unlink (sb, p);
        }
      vm_call_complete_locked (sb, c);
      return;
    }
  if ((c->attach != NULL && proc_streams_open (sb, c->attach, &e) < 0)
      || hull_conn_send_msg (&sb->conn, &c->mb, &e) < 0)
    {
      if (c->attach != NULL)
        proc_streams_close (sb, c->attach);
      call_fail_locked (sb, c, EPIPE, hull_error_msg (&e));
      hull_error_free (&e);
      return;
    }
  if (c->attach != NULL)
    {
      c->linked = c->attach;
      c->attach = NULL;
      c->linked->next = sb->procs;
      sb->procs = c->linked;
    }
  c->next = sb->calls_sent;
  sb->calls_sent = c;
}

static void
io_send_calls (struct sandbox *sb)
{
  struct vm_call *fifo = NULL, *c;

  pthread_mutex_lock (&sb->lock);
  while ((c = sb->calls_new) != NULL)
    {
      sb->calls_new = c->next;
      c->next = fifo;
      fifo = c;
    }
  while ((c = fifo) != NULL)
    {
      fifo = c->next;
      c->next = NULL;
      io_send_call_locked (sb, c);
    }
  pthread_mutex_unlock (&sb->lock);
}

/* ---- the loop ---- */

static int
io_read_conn (struct sandbox *sb, hull_error_t *err)
{
  struct hull_msg *m = malloc (sizeof (*m));
  int r;

  if (m == NULL)
    return hull_error (err, ENOMEM, "protocol message");
  while ((r = hull_conn_next (&sb->conn, m, err)) == 1)
    {
      if (m->type == HULL_FRAME_RESPONSE)
        io_on_response (sb, m);
      else if (m->type == HULL_FRAME_EVENT)
        io_on_event (sb, m);
      else if (m->type == HULL_FRAME_DATA && vm_io_on_data (sb, m, err) < 0)
        {
          r = -1;
          break;
        }
      /* CREDIT: stdin is read again in the next round. */
    }
  free (m);
  if (hull_conn_ready (&sb->conn))
    {
      pthread_mutex_lock (&sb->lock);
      if (!sb->ready)
        {
          sb->ready = true;
          pthread_cond_broadcast (&sb->cond);
        }
      pthread_mutex_unlock (&sb->lock);
    }
  return r < 0 ? -1 : 0;
}

struct io_poll
{
  struct pollfd fds[IO_MAX_POLL];
  struct vm_relay *relay[IO_MAX_POLL];
  bool input[IO_MAX_POLL];
  size_t n;
};

static void
poll_add (struct io_poll *ps, struct vm_relay *r, bool input, short events)
{
  if (ps->n == IO_MAX_POLL)
    return;
  ps->fds[ps->n] = (struct pollfd){ .fd = r->fd, .events = events };
  ps->relay[ps->n] = r;
  ps->input[ps->n] = input;
  ps->n++;
}

static void
poll_fill (struct sandbox *sb, struct io_poll *ps)
{
  ps->fds[0] = (struct pollfd){ .fd = sb->chan_host,
                                .events = POLLIN | (hull_conn_want_write (&sb->conn) ? POLLOUT : 0) };
  ps->fds[1] = (struct pollfd){ .fd = sb->wake_fd, .events = POLLIN };
  ps->n = 2;
  for (struct vm_proc *p = sb->procs; p != NULL; p = p->next)
    {
      if (p->in.fd >= 0 && p->in.stream && !p->in.fin
          && hull_conn_send_space (&sb->conn, p->in.stream) > 0)
        poll_add (ps, &p->in, true, POLLIN);
      if (p->out.fd >= 0 && p->out.len > 0)
        poll_add (ps, &p->out, false, POLLOUT);
      if (p->err.fd >= 0 && p->err.len > 0)
        poll_add (ps, &p->err, false, POLLOUT);
    }
}

/* A virtio-fs back-end that goes away stops the VM with a bare "back-end
 * closed the connection": append which virtiofsd died and how.  Its socket
 * hangs up while the process is still exiting, so a dying one gets up to
 * half a second to become reapable.  Only this thread touches the daemons
 * until vm_io_stop has joined it. */
static void
io_dead_daemons (struct sandbox *sb, char *buf, size_t size)
{
  struct virtiofsd *ds[1 + VM_MAX_VOLS];
  const char *srcs[1 + VM_MAX_VOLS];
  size_t n = 0, len = 0;

  ds[n] = &sb->fsd;
  srcs[n++] = sb->rootfs;
  for (size_t k = 0; k < sb->n_vols && n < 1 + VM_MAX_VOLS; k++)
    {
      ds[n] = &sb->vols[k].fsd;
      srcs[n++] = sb->vols[k].source;
    }
  buf[0] = '\0';
  for (int tries = 0; tries < 50 && len == 0; tries++)
    {
      if (tries > 0)
        usleep (10 * 1000);
      for (size_t i = 0; i < n && len + 1 < size; i++)
        {
          pid_t pid = ds[i]->pid;
          int st;

          if (pid <= 0 || virtiofsd_running (ds[i]))
            continue;
          st = ds[i]->exit_status;
          len += (size_t) snprintf (buf + len, size - len, "; virtiofsd %d for `%s` died (%s %d)",
                                    (int) pid, srcs[i],
                                    st != -1 && WIFSIGNALED (st) ? "killed by signal" : "exit status",
                                    st == -1 ? -1 : WIFSIGNALED (st) ? WTERMSIG (st) : WEXITSTATUS (st));
        }
    }
}

/* The deadline svm_signal armed for SIGKILL: past it with init still
 * alive, stop the VM (which kills every process in it; io_abort then
 * reports init as killed).  Returns the poll timeout it needs, or -1. */
static int
io_kill_deadline (struct sandbox *sb)
{
  char msg[128];
  int64_t dl, now;

  pthread_mutex_lock (&sb->lock);
  dl = sb->kill_deadline_ms;
  pthread_mutex_unlock (&sb->lock);
  if (dl == 0)
    return -1;
  for (struct vm_proc *p = sb->procs; p != NULL; p = p->next)
    if (p->is_init && p->ctr == 0 && p->exited)
      return -1;
  now = vm_now_ms ();
  if (now < dl)
    return (int) (dl - now);
  snprintf (msg, sizeof (msg), "init did not exit within %d ms of SIGKILL: microVM stopped",
            VM_KILL_GRACE_MS);
  machine_stop (sb->m, VM_EXIT_POWEROFF, msg);
  pthread_mutex_lock (&sb->lock);
  sb->kill_deadline_ms = 0;
  pthread_mutex_unlock (&sb->lock);
  return -1;
}

/* A VM that died on its own (triple fault, VMM error) may have said why
 * on its console: that goes into the log with the error. */
static void
io_log_console (struct sandbox *sb)
{
  hull_error_t e = NULL;

  hull_error (&e, 0, "container `%s`: the microVM died", sb->id);
  vm_console_tail (sb, &e);
  log_error (sb->log, "%s", hull_error_msg (&e));
  hull_error_free (&e);
}

/* 0: go on; 1: stop (why filled); -1: the channel failed. */
static int
io_step (struct sandbox *sb, char *why, size_t why_len, hull_error_t *err)
{
  struct io_poll ps;
  int timeout = -1, kill_timeout;
  uint64_t v;

  io_send_calls (sb);
  pthread_mutex_lock (&sb->lock);
  if (sb->io_stop || sb->vm_done)
    {
      if (sb->io_stop)
        snprintf (why, why_len, "the container is being destroyed");
      else
        snprintf (why, why_len, "the microVM stopped (%s: %s)",
                  vm_exit_reason_name (sb->vm_reason), sb->vm_msg);
      bool lost = !sb->io_stop && !sb->shutting_down && sb->vm_reason == VM_EXIT_ERROR;
      pthread_mutex_unlock (&sb->lock);
      if (lost)
        {
          char dead[400];
          size_t l = strlen (why);
          io_dead_daemons (sb, dead, sizeof (dead));
          snprintf (why + l, why_len - l, "%s", dead);
          io_log_console (sb);
        }
      /* What the guest said before it went is still worth reading. */
      if (io_read_conn (sb, err) < 0)
        hull_error_free (err);
      io_report_exits (sb);
      return 1;
    }
  pthread_mutex_unlock (&sb->lock);
  if (hull_conn_flush (&sb->conn, err) < 0)
    return -1;
  poll_fill (sb, &ps);
  if (has_tty (sb))
    timeout = VM_WINSIZE_POLL_MS;
  if (exits_waiting (sb))
    timeout = 100;
  kill_timeout = io_kill_deadline (sb);
  if (kill_timeout >= 0 && (timeout < 0 || kill_timeout < timeout))
    timeout = kill_timeout;
  if (poll (ps.fds, ps.n, timeout) < 0 && errno != EINTR)
    return hull_error (err, errno, "poll");
  if (ps.fds[1].revents & POLLIN)
    {
      ssize_t r = read (sb->wake_fd, &v, sizeof (v));
      (void) r;
    }
  /* Relays before the connection: handling messages may free processes. */
  for (size_t i = 2; i < ps.n; i++)
    {
      if (ps.fds[i].revents == 0)
        continue;
      if ((ps.input[i] ? vm_relay_input (sb, ps.relay[i], err) : vm_relay_flush (sb, ps.relay[i], err))
          < 0)
        return -1;
    }
  if ((ps.fds[0].revents & (POLLIN | POLLHUP | POLLERR)) && io_read_conn (sb, err) < 0)
    return -1;
  if (vm_io_winsize (sb, err) < 0)
    return -1;
  io_report_exits (sb);
  return hull_conn_flush (&sb->conn, err) < 0 ? -1 : 0;
}

/* The connection is over: nobody gets answers any more, and every process
 * the agent had is gone with the VM. */
static void
io_abort (struct sandbox *sb, const char *why)
{
  struct vm_call *c;

  pthread_mutex_lock (&sb->lock);
  sb->io_dead = true;
  sb->io_error = strdup (why);
  while ((c = sb->calls_new) != NULL || (c = sb->calls_sent) != NULL)
    {
      if (c == sb->calls_new)
        sb->calls_new = c->next;
      else
        sb->calls_sent = c->next;
      c->next = NULL;
      c->linked = NULL; /* freed with the table */
      call_fail_locked (sb, c, EPIPE, why);
    }
  for (struct vm_proc *p = sb->procs; p != NULL; p = p->next)
    if (p->attached)
      exit_push_locked (sb, p->ctr, p->is_init ? SANDBOX_INIT : p->proc,
                        p->exited ? p->status : 128 + SIGKILL);
  pthread_cond_broadcast (&sb->cond);
  if (!sb->shutting_down)
    log_error (sb->log, "container `%s`: %s", sb->id, why);
  pthread_mutex_unlock (&sb->lock);
  while (sb->procs != NULL)
    proc_unlink (sb, sb->procs);
}

static void *
io_main (void *arg)
{
  struct sandbox *sb = arg;
  hull_error_t err = NULL;
  char why[600];
  int r;

  while ((r = io_step (sb, why, sizeof (why), &err)) == 0)
    ;
  if (r < 0)
    {
      snprintf (why, sizeof (why), "agent channel: %s", hull_error_msg (&err));
      machine_stop (sb->m, VM_EXIT_ERROR, why);
    }
  hull_error_free (&err);
  io_abort (sb, why);
  return NULL;
}

int
vm_io_start (struct sandbox *sb, hull_error_t *err)
{
  int r;

  if (hull_conn_init (&sb->conn, sb->chan_host, VM_STREAM_WINDOW, err) < 0)
    return -1;
  sb->conn_init = true;
  r = pthread_create (&sb->io_thread, NULL, io_main, sb);
  if (r != 0)
    return hull_error (err, r, "start the I/O thread");
  sb->io_thread_started = true;
  return 0;
}

void
vm_io_stop (struct sandbox *sb)
{
  uint64_t one = 1;

  if (sb->io_thread_started)
    {
      pthread_mutex_lock (&sb->lock);
      sb->io_stop = true;
      pthread_mutex_unlock (&sb->lock);
      if (write (sb->wake_fd, &one, sizeof (one)) < 0)
        {
          /* already awake */
        }
      pthread_join (sb->io_thread, NULL);
      sb->io_thread_started = false;
    }
  while (sb->procs != NULL)
    proc_unlink (sb, sb->procs);
  if (sb->conn_init)
    hull_conn_free (&sb->conn);
  sb->conn_init = false;
}
