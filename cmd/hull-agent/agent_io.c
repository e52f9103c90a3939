/* A process's stdio as protocol streams.  Output is read from the process
 * only while the stream has credit (so a chatty process blocks on its own
 * pipe, not on agent memory); stdin from the host is buffered up to our
 * window and credited back as the process reads it. */
#include "cmd/hull-agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int
set_nonblock (int fd)
{
  int fl = fcntl (fd, F_GETFL);
  return fl < 0 ? -1 : fcntl (fd, F_SETFL, fl | O_NONBLOCK);
}

static int
open_pty (int *master, int *slave, hull_error_t *err)
{
  char name[64];

  *master = open ("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (*master < 0)
    return hull_error (err, errno, "open /dev/ptmx");
  if (grantpt (*master) < 0 || unlockpt (*master) < 0
      || ptsname_r (*master, name, sizeof name) != 0)
    {
      close (*master);
      return hull_error (err, errno, "set up pty");
    }
  *slave = open (name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (*slave < 0)
    {
      close (*master);
      return hull_error (err, errno, "open `%s`", name);
    }
  return 0;
}

static int
io_init (struct agent *a, struct agent_io *io, uint32_t stream, int fd, bool recv,
         hull_error_t *err)
{
  io->stream = stream;
  io->fd = fd;
  if (set_nonblock (fd) < 0)
    return hull_error (err, errno, "set O_NONBLOCK");
  if (recv)
    {
      io->buf = malloc (a->conn.local_window);
      if (io->buf == NULL)
        return hull_error (err, errno, "allocate stdin buffer");
    }
  return hull_conn_stream_open (&a->conn, stream,
                                recv ? HULL_STREAM_RECV : HULL_STREAM_SEND, err);
}

static void
io_clear (struct agent_io *io)
{
  memset (io, 0, sizeof *io);
  io->fd = -1;
}

int
agent_io_setup (struct agent *a, struct agent_proc *p, const struct hull_msg *m,
                bool terminal, struct agent_stdio *child, hull_error_t *err)
{
  uint32_t ids[3] = { 0, 0, 0 };
  static const uint16_t tags[3] = { HULL_ATTR_STREAM_STDIN, HULL_ATTR_STREAM_STDOUT,
                                    HULL_ATTR_STREAM_STDERR };
  struct agent_io *ios[3] = { &p->in, &p->out, &p->err };

  child->fds[0] = child->fds[1] = child->fds[2] = child->tty_slave = -1;
  p->tty_fd = -1;
  for (int i = 0; i < 3; i++)
    {
      io_clear (ios[i]);
      hull_msg_get_u32 (m, tags[i], &ids[i]);
    }
  if (terminal)
    {
      int master = -1, slave = -1;
      if (open_pty (&master, &slave, err) < 0)
        return -1;
      p->tty_fd = master;
      child->tty_slave = slave;
      /* One pty carries both directions; stderr shares it. */
      if (ids[0] && io_init (a, &p->in, ids[0], fcntl (master, F_DUPFD_CLOEXEC, 0), true, err) < 0)
        return -1;
      if (ids[1] && io_init (a, &p->out, ids[1], fcntl (master, F_DUPFD_CLOEXEC, 0), false, err) < 0)
        return -1;
      return 0;
    }
  for (int i = 0; i < 3; i++)
    {
      int fds[2];
      if (ids[i] == 0)
        continue;
      if (pipe2 (fds, O_CLOEXEC) < 0)
        return hull_error (err, errno, "pipe for stdio %d", i);
      /* stdin: the child reads fds[0]; stdout/err: the child writes fds[1]. */
      child->fds[i] = i == 0 ? fds[0] : fds[1];
      if (io_init (a, ios[i], ids[i], i == 0 ? fds[1] : fds[0], i == 0, err) < 0)
        return -1;
    }
  return 0;
}

void
agent_io_close_child (struct agent_stdio *child)
{
  for (int i = 0; i < 3; i++)
    if (child->fds[i] >= 0)
      close (child->fds[i]);
  if (child->tty_slave >= 0)
    close (child->tty_slave);
  child->fds[0] = child->fds[1] = child->fds[2] = child->tty_slave = -1;
}

void
agent_io_release (struct agent_io *io)
{
  if (io->fd >= 0)
    close (io->fd);
  free (io->buf);
  io_clear (io);
}

static struct agent_io *
find_stdin (struct agent *a, uint32_t stream)
{
  for (size_t i = 0; i < a->n_procs; i++)
    if (a->procs[i].in.stream == stream)
      return &a->procs[i].in;
  return NULL;
}

/* Write buffered stdin; credit what the process took. */
static int
stdin_flush (struct agent *a, struct agent_io *io, hull_error_t *err)
{
  while (io->len > 0 && io->fd >= 0)
    {
      ssize_t n = write (io->fd, io->buf, io->len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        break;
      if (n <= 0)
        {
          /* The reader is gone: drop what is left, but still credit it so
           * the host is never stuck on a dead stream. */
          close (io->fd);
          io->fd = -1;
          n = (ssize_t) io->len;
        }
      memmove (io->buf, io->buf + n, io->len - (size_t) n);
      io->len -= (size_t) n;
      if (hull_conn_consumed (&a->conn, io->stream, (size_t) n, err) < 0)
        return -1;
    }
  if (io->len == 0 && io->fin && io->fd >= 0)
    {
      close (io->fd); /* the process sees EOF on stdin */
      io->fd = -1;
    }
  return 0;
}

int
agent_io_on_data (struct agent *a, const struct hull_msg *m, hull_error_t *err)
{
  struct agent_io *io = find_stdin (a, m->id);

  if (io == NULL)
    return hull_error (err, EPROTO, "DATA on stream %u, which is no process's stdin", m->id);
  /* The connection enforces our window, which is the buffer size. */
  if (m->len > a->conn.local_window - io->len)
    return hull_error (err, EPROTO, "stream %u overflows its stdin buffer", m->id);
  memcpy (io->buf + io->len, m->payload, m->len);
  io->len += m->len;
  if (m->flags & HULL_FLAG_FIN)
    io->fin = true;
  if (io->fd < 0)
    {
      size_t n = io->len;
      io->len = 0;
      return hull_conn_consumed (&a->conn, io->stream, n, err);
    }
  return stdin_flush (a, io, err);
}

static int
output_ready (struct agent *a, struct agent_io *io, hull_error_t *err)
{
  uint8_t buf[16384];
  size_t space = hull_conn_send_space (&a->conn, io->stream);
  ssize_t n;

  if (space == 0)
    return 0;
  if (space > sizeof buf)
    space = sizeof buf;
  do
    n = read (io->fd, buf, space);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN)
    return 0;
  if (n > 0)
    return hull_conn_send_data (&a->conn, io->stream, buf, (size_t) n, err) < 0 ? -1 : 0;
  /* EOF, or EIO from a pty master whose slave side is all closed. */
  close (io->fd);
  io->fd = -1;
  io->done = true;
  if (hull_conn_send_fin (&a->conn, io->stream, err) < 0)
    return -1;
  hull_conn_stream_close (&a->conn, io->stream);
  return 0;
}

size_t
agent_io_poll_fill (struct agent *a, struct pollfd *fds, struct agent_io **owners,
                    size_t max)
{
  size_t n = 0;

  for (size_t i = 0; i < a->n_procs && n + 3 <= max; i++)
    {
      struct agent_proc *p = &a->procs[i];
      if (p->in.fd >= 0 && p->in.len > 0)
        {
          fds[n] = (struct pollfd){ .fd = p->in.fd, .events = POLLOUT };
          owners[n++] = &p->in;
        }
      struct agent_io *outs[2] = { &p->out, &p->err };
      for (int k = 0; k < 2; k++)
        if (outs[k]->fd >= 0 && hull_conn_send_space (&a->conn, outs[k]->stream) > 0)
          {
            fds[n] = (struct pollfd){ .fd = outs[k]->fd, .events = POLLIN };
            owners[n++] = outs[k];
          }
    }
  return n;
}

int
agent_io_on_ready (struct agent *a, struct agent_io *io, short revents, hull_error_t *err)
{
  if (revents == 0 || io->fd < 0)
    return 0;
  if (io->buf != NULL) /* stdin */
    return stdin_flush (a, io, err);
  return output_ready (a, io, err);
}
