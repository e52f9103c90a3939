/* The microVM backend's stdio relays, run by the I/O thread
 * (sandbox_vm_io.c): each process's stdin/stdout/stderr between a host fd
 * and a protocol stream.  Output the host fd does not take stays buffered
 * here, at most one stream window (the agent never sends beyond our
 * credit); stdin is read only while the stream has credit.  Terminal
 * processes also get their host pty's size changes forwarded. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/sandbox_vm.h"

#define IO_READ_CHUNK 16384

/* ---- host stdio handles ---- */

/* The supervisor's stdio is shared with whoever started the container (a
 * terminal, containerd's fifos): switching that open file to O_NONBLOCK
 * would change it for them too.  So pipes, fifos and character devices are
 * reopened through /proc/self/fd, which gives a new open file of the same
 * object that can be non-blocking alone; sockets use MSG_DONTWAIT per
 * call; regular files never block and keep their shared offset (and
 * O_APPEND) through a plain dup. */
int
vm_relay_open (struct vm_relay *r, int fd, bool input, hull_error_t *err)
{
  struct stat st;
  char path[64];
  int nfd;

  r->fd = -1;
  if (fstat (fd, &st) < 0)
    return hull_error (err, errno, "stdio fd %d", fd);
  if (S_ISSOCK (st.st_mode) || S_ISREG (st.st_mode) || S_ISBLK (st.st_mode))
    {
      r->sock = S_ISSOCK (st.st_mode);
      nfd = fcntl (fd, F_DUPFD_CLOEXEC, 3);
    }
  else
    {
      snprintf (path, sizeof (path), "/proc/self/fd/%d", fd);
      nfd = open (path, (input ? O_RDONLY : O_WRONLY) | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
      if (nfd < 0)
        {
          /* No reopen (e.g. a fifo whose other end is gone): fall back to
           * a shared non-blocking dup; this open file is ours alone then
           * in practice, as its peer has gone. */
          nfd = fcntl (fd, F_DUPFD_CLOEXEC, 3);
          if (nfd >= 0)
            fcntl (nfd, F_SETFL, fcntl (nfd, F_GETFL) | O_NONBLOCK);
        }
    }
  if (nfd < 0)
    return hull_error (err, errno, "duplicate stdio fd %d", fd);
  r->fd = nfd;
  return 0;
}

static void
relay_close (struct vm_relay *r)
{
  if (r->fd >= 0)
    close (r->fd);
  r->fd = -1;
  free (r->buf);
  r->buf = NULL;
  r->off = r->len = 0;
}

void
vm_proc_free (struct vm_proc *p)
{
  if (p == NULL)
    return;
  relay_close (&p->in);
  relay_close (&p->out);
  relay_close (&p->err);
  if (p->tty >= 0)
    close (p->tty);
  free (p->cid);
  free (p);
}

static struct vm_relay *
relay_by_stream (struct sandbox *sb, uint32_t stream)
{
  for (struct vm_proc *p = sb->procs; p != NULL; p = p->next)
    {
      if (p->out.stream == stream)
        return &p->out;
      if (p->err.stream == stream)
        return &p->err;
    }
  return NULL;
}

/* ---- stdio relays ---- */

int
vm_relay_input_finish (struct sandbox *sb, struct vm_relay *r, hull_error_t *err)
{
  if (r->fd >= 0)
    close (r->fd);
  r->fd = -1;
  if (r->fin || r->stream == 0)
    return 0;
  r->fin = true;
  return hull_conn_send_fin (&sb->conn, r->stream, err);
}

/* Host -> guest, as far as the stream's credit allows. */
int
vm_relay_input (struct sandbox *sb, struct vm_relay *r, hull_error_t *err)
{
  uint8_t buf[IO_READ_CHUNK];
  size_t space = hull_conn_send_space (&sb->conn, r->stream);
  ssize_t n;

  if (space == 0)
    return 0;
  if (space > sizeof (buf))
    space = sizeof (buf);
  n = r->sock ? recv (r->fd, buf, space, MSG_DONTWAIT) : read (r->fd, buf, space);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return 0;
  if (n > 0)
    return hull_conn_send_data (&sb->conn, r->stream, buf, (size_t) n, err) < 0 ? -1 : 0;
  /* EOF, or EIO from a pty whose master was closed: close the stdin. */
  return vm_relay_input_finish (sb, r, err);
}

/* Guest -> host: write what the host fd takes now, return the credit. */
int
vm_relay_flush (struct sandbox *sb, struct vm_relay *r, hull_error_t *err)
{
  while (r->len > 0)
    {
      ssize_t n;
      if (r->fd < 0)
        n = (ssize_t) r->len; /* the host reader is gone: discard */
      else if (r->sock)
        n = send (r->fd, r->buf + r->off, r->len, MSG_DONTWAIT | MSG_NOSIGNAL);
      else
        n = write (r->fd, r->buf + r->off, r->len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        break;
      if (n < 0)
        {
          close (r->fd);
          r->fd = -1;
          continue;
        }
      r->off += (size_t) n;
      r->len -= (size_t) n;
      if (hull_conn_consumed (&sb->conn, r->stream, (size_t) n, err) < 0)
        return -1;
    }
  if (r->len == 0)
    r->off = 0;
  if (r->fin && r->len == 0 && r->stream != 0)
    {
      hull_conn_stream_close (&sb->conn, r->stream);
      r->stream = 0;
      if (r->fd >= 0)
        close (r->fd);
      r->fd = -1;
    }
  return 0;
}

int
vm_io_on_data (struct sandbox *sb, const struct hull_msg *m, hull_error_t *err)
{
  struct vm_relay *r = relay_by_stream (sb, m->id);

  if (r == NULL)
    return 0; /* hull_conn only delivers DATA of open streams */
  if (m->len > 0)
    {
      if (r->buf == NULL && (r->buf = malloc (VM_STREAM_WINDOW)) == NULL)
        return hull_error (err, ENOMEM, "stream buffer");
      if (r->off + r->len + m->len > VM_STREAM_WINDOW)
        {
          memmove (r->buf, r->buf + r->off, r->len);
          r->off = 0;
        }
      if (r->len + m->len > VM_STREAM_WINDOW)
        return hull_error (err, EPROTO, "stream %u: more data than its window", m->id);
      memcpy (r->buf + r->off + r->len, m->payload, m->len);
      r->len += m->len;
    }
  if (m->flags & HULL_FLAG_FIN)
    r->fin = true;
  return vm_relay_flush (sb, r, err);
}

int
vm_io_winsize (struct sandbox *sb, hull_error_t *err)
{
  for (struct vm_proc *p = sb->procs; p != NULL; p = p->next)
    {
      struct winsize ws;
      struct hull_msgbuf mb;
      uint32_t id;
      int r;

      if (p->tty < 0 || !p->attached || p->exited || ioctl (p->tty, TIOCGWINSZ, &ws) < 0
          || ws.ws_row == 0 || ws.ws_col == 0 || (ws.ws_row == p->rows && ws.ws_col == p->cols))
        continue;
      p->rows = ws.ws_row;
      p->cols = ws.ws_col;
      pthread_mutex_lock (&sb->lock);
      id = sb->next_id++;
      if (sb->next_id == 0)
        sb->next_id = 1;
      pthread_mutex_unlock (&sb->lock);
      hull_msgbuf_init (&mb, HULL_FRAME_REQUEST, HULL_OP_RESIZE, id);
      hull_msgbuf_put_str (&mb, HULL_ATTR_CONTAINER_ID, p->cid ? p->cid : sb->id);
      if (!p->is_init)
        hull_msgbuf_put_u32 (&mb, HULL_ATTR_PID, p->proc);
      hull_msgbuf_put_u32 (&mb, HULL_ATTR_ROWS, ws.ws_row);
      hull_msgbuf_put_u32 (&mb, HULL_ATTR_COLS, ws.ws_col);
      r = hull_conn_send_msg (&sb->conn, &mb, err);
      hull_msgbuf_free (&mb);
      if (r < 0)
        return -1;
    }
  return 0;
}

