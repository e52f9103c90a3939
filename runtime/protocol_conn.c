/* The protocol connection over one fd: the socket end on the host (driven
 * by the supervisor's event loop) or the /dev/vportNpM character device in
 * the guest (driven by hull-agent).  It owns the decoder, a bounded send
 * queue and the table of open streams with their flow-control state. */
#include "runtime/protocol.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int
hull_conn_init (struct hull_conn *c, int fd, uint32_t window, hull_error_t *err)
{
  memset (c, 0, sizeof *c);
  c->fd = fd;
  c->local_window = window ? window : HULL_PROTO_DEFAULT_WINDOW;
  c->next_id = 1;
  c->out.limit = HULL_CONN_QUEUE_MAX;
  hull_decoder_init (&c->dec);
  if (hull_proto_encode_hello (&c->out, c->local_window, err) < 0)
    {
      hull_conn_free (c);
      return -1;
    }
  return 0;
}

void
hull_conn_free (struct hull_conn *c)
{
  hull_decoder_free (&c->dec);
  hull_buf_free (&c->out);
  free (c->streams);
  c->streams = NULL;
  c->n_streams = c->cap_streams = 0;
}

uint32_t
hull_conn_next_id (struct hull_conn *c)
{
  uint32_t id = c->next_id++;
  if (c->next_id == 0)
    c->next_id = 1;
  return id;
}

static int
conn_fail (struct hull_conn *c)
{
  c->failed = true;
  return -1;
}

/* ---- streams ---- */

struct hull_stream *
hull_conn_stream (struct hull_conn *c, uint32_t id)
{
  for (size_t i = 0; i < c->n_streams; i++)
    if (c->streams[i].id == id)
      return &c->streams[i];
  return NULL;
}

int
hull_conn_stream_open (struct hull_conn *c, uint32_t id, unsigned dirs,
                       hull_error_t *err)
{
  struct hull_stream *s;

  if (id == 0 || dirs == 0 || (dirs & ~(HULL_STREAM_SEND | HULL_STREAM_RECV)))
    return hull_error (err, EINVAL, "invalid stream %u (directions 0x%x)", id, dirs);
  if (hull_conn_stream (c, id) != NULL)
    return hull_error (err, EEXIST, "stream %u is already open", id);
  if (c->n_streams == HULL_PROTO_MAX_STREAMS)
    return hull_error (err, EMFILE, "more than %d open streams", HULL_PROTO_MAX_STREAMS);
  if (c->n_streams == c->cap_streams)
    {
      size_t cap = c->cap_streams ? c->cap_streams * 2 : 8;
      struct hull_stream *n = realloc (c->streams, cap * sizeof *n);
      if (n == NULL)
        return hull_error (err, errno, "allocate stream table");
      c->streams = n;
      c->cap_streams = cap;
    }
  s = &c->streams[c->n_streams++];
  memset (s, 0, sizeof *s);
  s->id = id;
  s->dirs = dirs;
  /* Before the peer's HELLO we do not know its window: credit stays 0
   * and is set when the HELLO arrives. */
  hull_flow_send_init (&s->tx, hull_conn_ready (c) ? c->peer_window : 0);
  hull_flow_recv_init (&s->rx, c->local_window);
  return 0;
}

void
hull_conn_stream_close (struct hull_conn *c, uint32_t id)
{
  struct hull_stream *s = hull_conn_stream (c, id);
  if (s == NULL)
    return;
  *s = c->streams[--c->n_streams];
}

size_t
hull_conn_send_space (struct hull_conn *c, uint32_t id)
{
  struct hull_stream *s = hull_conn_stream (c, id);
  size_t queued = hull_buf_pending (&c->out), n;

  if (s == NULL || !(s->dirs & HULL_STREAM_SEND) || s->fin_sent || c->failed
      || queued >= HULL_CONN_QUEUE_SOFT)
    return 0;
  n = hull_flow_send_avail (&s->tx);
  if (n > HULL_PROTO_MAX_PAYLOAD)
    n = HULL_PROTO_MAX_PAYLOAD;
  return n;
}

long
hull_conn_send_data (struct hull_conn *c, uint32_t id, const void *data,
                     size_t len, hull_error_t *err)
{
  struct hull_stream *s = hull_conn_stream (c, id);
  size_t n = hull_conn_send_space (c, id);

  if (s == NULL || !(s->dirs & HULL_STREAM_SEND))
    return hull_error (err, EBADF, "stream %u is not open for sending", id);
  if (s->fin_sent)
    return hull_error (err, EPIPE, "stream %u already finished", id);
  if (n > len)
    n = len;
  if (n == 0)
    return 0;
  if (hull_proto_encode_data (&c->out, id, data, n, false, err) < 0)
    return -1;
  if (hull_flow_send_consume (&s->tx, (uint32_t) n, err) < 0)
    return conn_fail (c);
  return (long) n;
}

int
hull_conn_send_fin (struct hull_conn *c, uint32_t id, hull_error_t *err)
{
  struct hull_stream *s = hull_conn_stream (c, id);

  if (s == NULL || !(s->dirs & HULL_STREAM_SEND))
    return hull_error (err, EBADF, "stream %u is not open for sending", id);
  if (s->fin_sent)
    return 0;
  if (hull_proto_encode_data (&c->out, id, NULL, 0, true, err) < 0)
    return -1;
  s->fin_sent = true;
  return 0;
}

int
hull_conn_consumed (struct hull_conn *c, uint32_t id, size_t n, hull_error_t *err)
{
  struct hull_stream *s = hull_conn_stream (c, id);
  uint32_t grant;

  if (s == NULL || !(s->dirs & HULL_STREAM_RECV))
    return hull_error (err, EBADF, "stream %u is not open for receiving", id);
  grant = hull_flow_recv_consumed (&s->rx, n > UINT32_MAX ? UINT32_MAX : (uint32_t) n);
  /* After FIN the peer sends nothing more: credit would be noise. */
  if (grant == 0 || s->fin_recv)
    return 0;
  return hull_proto_encode_credit (&c->out, id, grant, err);
}

/* ---- sending ---- */

int
hull_conn_send_msg (struct hull_conn *c, const struct hull_msgbuf *mb,
                    hull_error_t *err)
{
  if (c->failed)
    return hull_error (err, EPIPE, "protocol connection has failed");
  return hull_proto_encode_msg (&c->out, mb, err);
}

static ssize_t
conn_write (int fd, const void *p, size_t n)
{
  /* MSG_NOSIGNAL: a guest that died must surface as EPIPE in the
   * supervisor, not kill it with SIGPIPE.  The guest's vport is a
   * character device, where send() fails with ENOTSOCK. */
  ssize_t r = send (fd, p, n, MSG_NOSIGNAL);
  if (r < 0 && errno == ENOTSOCK)
    r = write (fd, p, n);
  return r;
}

int
hull_conn_flush (struct hull_conn *c, hull_error_t *err)
{
  while (hull_buf_pending (&c->out) > 0)
    {
      ssize_t r = conn_write (c->fd, c->out.data + c->out.off,
                              hull_buf_pending (&c->out));
      if (r < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
          conn_fail (c);
          return hull_error (err, errno, "write to agent channel");
        }
      hull_buf_consume (&c->out, (size_t) r);
    }
  return 1;
}

/* ---- receiving ---- */

static int
conn_on_hello (struct hull_conn *c, const struct hull_msg *m, hull_error_t *err)
{
  uint16_t lo = m->version_min > HULL_PROTO_VERSION_MIN ? m->version_min
                                                        : HULL_PROTO_VERSION_MIN;
  uint16_t hi = m->version_max < HULL_PROTO_VERSION_MAX ? m->version_max
                                                        : HULL_PROTO_VERSION_MAX;

  if (hull_conn_ready (c))
    return hull_error (err, EPROTO, "second HELLO from peer");
  if (lo > hi)
    return hull_error (err, EPROTONOSUPPORT,
                       "peer speaks protocol versions %u..%u, we speak %u..%u",
                       m->version_min, m->version_max, HULL_PROTO_VERSION_MIN,
                       HULL_PROTO_VERSION_MAX);
  c->version = hi;
  c->peer_window = m->window;
  for (size_t i = 0; i < c->n_streams; i++)
    hull_flow_send_init (&c->streams[i].tx, c->peer_window);
  return 0;
}

static int
conn_on_data (struct hull_conn *c, const struct hull_msg *m, hull_error_t *err)
{
  struct hull_stream *s = hull_conn_stream (c, m->id);

  /* We closed the stream (its process is gone): what was in flight is
   * dropped, and it cannot be a memory problem since nothing is kept. */
  if (s == NULL)
    return 0;
  if (!(s->dirs & HULL_STREAM_RECV))
    return hull_error (err, EPROTO, "DATA on stream %u, which only we send on", m->id);
  if (s->fin_recv)
    return hull_error (err, EPROTO, "DATA on stream %u after FIN", m->id);
  if (hull_flow_recv_data (&s->rx, (uint32_t) m->len, err) < 0)
    return hull_error_prefix (err, "stream %u", m->id);
  if (m->flags & HULL_FLAG_FIN)
    s->fin_recv = true;
  return 1;
}

static int
conn_on_credit (struct hull_conn *c, const struct hull_msg *m, hull_error_t *err)
{
  struct hull_stream *s = hull_conn_stream (c, m->id);

  if (s == NULL || !(s->dirs & HULL_STREAM_SEND))
    return 1; /* a grant racing with our close */
  if (hull_flow_send_grant (&s->tx, m->credit, err) < 0)
    return hull_error_prefix (err, "stream %u", m->id);
  return 1;
}

/* 1: deliver, 0: consumed internally, -1: protocol error. */
static int
conn_dispatch (struct hull_conn *c, const struct hull_msg *m, hull_error_t *err)
{
  if (m->type == HULL_FRAME_HELLO)
    return conn_on_hello (c, m, err) < 0 ? -1 : 0;
  if (!hull_conn_ready (c))
    return hull_error (err, EPROTO, "%s frame before HELLO",
                       hull_frame_type_name (m->type));
  if (m->type == HULL_FRAME_DATA)
    return conn_on_data (c, m, err);
  if (m->type == HULL_FRAME_CREDIT)
    return conn_on_credit (c, m, err);
  return 1;
}

int
hull_conn_next (struct hull_conn *c, struct hull_msg *msg, hull_error_t *err)
{
  if (c->failed)
    return hull_error (err, c->eof ? ECONNRESET : EPROTO,
                       "protocol connection has failed");
  for (;;)
    {
      while (c->in_off < c->in_len)
        {
          size_t used;
          int r = hull_decoder_feed (&c->dec, c->in + c->in_off,
                                     c->in_len - c->in_off, &used, msg, err);
          c->in_off += used;
          if (r < 0)
            return conn_fail (c);
          if (r == 0)
            continue;
          r = conn_dispatch (c, msg, err);
          if (r < 0)
            return conn_fail (c);
          if (r > 0)
            return 1;
        }
      ssize_t n = read (c->fd, c->in, sizeof c->in);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
          conn_fail (c);
          return hull_error (err, errno, "read from agent channel");
        }
      if (n == 0)
        {
          c->eof = true;
          conn_fail (c);
          if (c->dec.hdr_len > 0 || c->dec.in_payload || c->dec.in_message)
            return hull_error (err, ECONNRESET, "agent channel closed inside a frame");
          return hull_error (err, ECONNRESET, "agent channel closed by peer");
        }
      c->in_off = 0;
      c->in_len = (size_t) n;
    }
}
