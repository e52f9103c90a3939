/* Credit-based flow control for protocol streams.  The receiver of a
 * stream grants the sender a window of bytes; DATA spends it, CREDIT
 * frames give back what the receiver has drained.  A process printing
 * gigabytes therefore never has more than one window in flight or
 * buffered per stream, on either side. */
#include "runtime/protocol.h"

#include <errno.h>

void
hull_flow_send_init (struct hull_flow_send *f, uint32_t window)
{
  f->credit = window;
}

int
hull_flow_send_consume (struct hull_flow_send *f, uint32_t n, hull_error_t *err)
{
  if (n > f->credit)
    return hull_error (err, ENOBUFS, "sending %u bytes with only %u of credit", n,
                       f->credit);
  f->credit -= n;
  return 0;
}

int
hull_flow_send_grant (struct hull_flow_send *f, uint32_t increment,
                      hull_error_t *err)
{
  if (increment == 0 || increment > HULL_PROTO_MAX_WINDOW
      || f->credit > HULL_PROTO_MAX_WINDOW - increment)
    return hull_error (err, EPROTO, "credit grant of %u on top of %u exceeds the %u window limit",
                       increment, f->credit, HULL_PROTO_MAX_WINDOW);
  f->credit += increment;
  return 0;
}

void
hull_flow_recv_init (struct hull_flow_recv *f, uint32_t window)
{
  f->window = window;
  f->outstanding = window;
  f->buffered = 0;
  f->unacked = 0;
}

int
hull_flow_recv_data (struct hull_flow_recv *f, uint32_t n, hull_error_t *err)
{
  if (n > f->outstanding)
    return hull_error (err, EPROTO, "peer sent %u bytes with only %u of credit", n,
                       f->outstanding);
  f->outstanding -= n;
  f->buffered += n;
  return 0;
}

uint32_t
hull_flow_recv_consumed (struct hull_flow_recv *f, uint32_t n)
{
  uint32_t grant;

  /* Consuming more than was buffered is a caller bug; clamping keeps the
   * invariant outstanding + buffered + unacked == window intact. */
  if (n > f->buffered)
    n = f->buffered;
  f->buffered -= n;
  f->unacked += n;
  /* Batch grants so a reader draining a byte at a time does not answer
   * every byte with a 16-byte CREDIT frame; window/4 keeps the sender
   * streaming while the rest of the window is still in flight. */
  if (f->unacked == 0 || f->unacked < f->window / 4)
    return 0;
  grant = f->unacked;
  f->unacked = 0;
  f->outstanding += grant;
  return grant;
}
