/* libFuzzer target for the host <-> guest protocol.  The input is a byte
 * stream as the peer would send it.  Two paths run on every input:
 *   1. the bare decoder, fed in irregular chunks; every decoded message is
 *      re-encoded and must decode to the same bytes (round trip);
 *   2. a hull_conn reading the input from a socket, with streams open in
 *      both directions, so HELLO handling, flow-control accounting and
 *      stream bookkeeping see hostile input too.
 * Crashes, sanitizer reports and failed round trips are the findings;
 * protocol errors are the expected outcome for most inputs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/protocol.h"

static void
check_roundtrip (const struct hull_msg *m)
{
  struct hull_msgbuf mb;
  struct hull_buf out = { 0 };
  struct hull_decoder d;
  struct hull_msg again;
  hull_error_t err = NULL;
  size_t used;

  if (m->type != HULL_FRAME_REQUEST && m->type != HULL_FRAME_RESPONSE
      && m->type != HULL_FRAME_EVENT)
    return;
  hull_msgbuf_init (&mb, m->type, m->op, m->id);
  mb.flags = m->flags;
  for (unsigned i = 0; i < m->n_attrs; i++)
    hull_msgbuf_put_bytes (&mb, m->attrs[i].tag, m->attrs[i].value, m->attrs[i].len);
  /* The message was accepted, so it must be sendable as well. */
  if (hull_proto_encode_msg (&out, &mb, &err) < 0)
    abort ();
  hull_decoder_init (&d);
  if (hull_decoder_feed (&d, out.data, out.len, &used, &again, &err) != 1
      || used != out.len || again.len != m->len
      || (m->len && memcmp (again.payload, m->payload, m->len) != 0)
      || again.n_attrs != m->n_attrs)
    abort ();
  hull_decoder_free (&d);
  hull_buf_free (&out);
  hull_msgbuf_free (&mb);
}

static void
fuzz_decoder (const uint8_t *data, size_t size)
{
  struct hull_decoder d;
  struct hull_msg m;
  hull_error_t err = NULL;
  size_t pos = 0, step = 0;

  hull_decoder_init (&d);
  while (pos < size)
    {
      /* Irregular chunk sizes from the data itself: 1, 2, ... 97 bytes. */
      size_t chunk = 1 + (data[step % size] ^ step) % 97, used;
      int r;

      step++;
      if (chunk > size - pos)
        chunk = size - pos;
      r = hull_decoder_feed (&d, data + pos, chunk, &used, &m, &err);
      if (used > chunk)
        abort ();
      pos += used;
      if (r < 0)
        break;
      if (r == 1)
        check_roundtrip (&m);
    }
  hull_error_free (&err);
  hull_decoder_free (&d);
}

static void
fuzz_conn (const uint8_t *data, size_t size)
{
  struct hull_conn c;
  struct hull_msg m;
  hull_error_t err = NULL;
  int fd[2];

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fd) < 0)
    return;
  if (hull_conn_init (&c, fd[0], 4096, &err) < 0)
    abort ();
  /* Streams as after a CREATE with stdio: 1 in, 2 and 3 out, and one
   * opened both ways. */
  hull_conn_stream_open (&c, 1, HULL_STREAM_RECV, &err);
  hull_conn_stream_open (&c, 2, HULL_STREAM_SEND, &err);
  hull_conn_stream_open (&c, 3, HULL_STREAM_SEND, &err);
  hull_conn_stream_open (&c, 4, HULL_STREAM_SEND | HULL_STREAM_RECV, &err);
  if (size > 0 && write (fd[1], data, size) < 0)
    goto out;
  shutdown (fd[1], SHUT_WR);
  for (int i = 0; i < 100000; i++)
    {
      int r = hull_conn_next (&c, &m, &err);
      if (r <= 0)
        break;
      if (m.type == HULL_FRAME_DATA && hull_conn_consumed (&c, m.id, m.len, &err) < 0)
        abort (); /* a delivered DATA frame always belongs to a RECV stream */
      if (m.type == HULL_FRAME_CREDIT)
        {
          struct hull_stream *s = hull_conn_stream (&c, m.id);
          if (s != NULL && s->tx.credit > HULL_PROTO_MAX_WINDOW)
            abort ();
          /* Spend some credit so sends are exercised against grants. */
          if (hull_conn_send_data (&c, m.id, "xyz", 3, &err) < 0)
            hull_error_free (&err);
        }
      for (size_t s = 0; s < c.n_streams; s++)
        {
          const struct hull_flow_recv *rx = &c.streams[s].rx;
          if ((uint64_t) rx->outstanding + rx->buffered + rx->unacked != rx->window)
            abort ();
        }
    }
out:
  hull_error_free (&err);
  hull_conn_free (&c);
  close (fd[0]);
  close (fd[1]);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  fuzz_decoder (data, size);
  fuzz_conn (data, size);
  return 0;
}
