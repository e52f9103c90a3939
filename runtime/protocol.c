/* Frames of the host <-> guest protocol: byte buffers, the encoder and the
 * incremental decoder.  Message payload schemas live in
 * protocol_schema.c, flow control in protocol_flow.c and the connection
 * in protocol_conn.c.  Wire format: runtime/protocol.md. */
#include "runtime/protocol.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static inline void
put_le16 (uint8_t *p, uint16_t v)
{
  p[0] = v & 0xff;
  p[1] = v >> 8;
}

static inline void
put_le32 (uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (v >> (8 * i)) & 0xff;
}

static inline uint16_t
get_le16 (const uint8_t *p)
{
  return (uint16_t) (p[0] | (p[1] << 8));
}

static inline uint32_t
get_le32 (const uint8_t *p)
{
  return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16)
         | ((uint32_t) p[3] << 24);
}

void
hull_buf_free (struct hull_buf *b)
{
  free (b->data);
  b->data = NULL;
  b->len = b->cap = b->off = 0;
}

int
hull_buf_append (struct hull_buf *b, const void *data, size_t len,
                 hull_error_t *err)
{
  size_t limit = b->limit ? b->limit : HULL_PROTO_MAX_MESSAGE;

  /* A send queue drains from the front: reclaim that space before growing
   * so a long-lived connection does not creep towards its limit. */
  if (b->off > 0 && (b->off == b->len || b->off >= b->cap / 2))
    {
      memmove (b->data, b->data + b->off, b->len - b->off);
      b->len -= b->off;
      b->off = 0;
    }
  if (len > limit || b->len > limit - len)
    return hull_error (err, ENOBUFS, "protocol buffer full (%zu + %zu > %zu bytes)",
                       b->len, len, limit);
  if (b->len + len > b->cap)
    {
      size_t cap = b->cap ? b->cap : 256;
      uint8_t *n;

      while (cap < b->len + len)
        cap *= 2;
      if (cap > limit)
        cap = limit;
      n = realloc (b->data, cap);
      if (n == NULL)
        return hull_error (err, errno, "allocate protocol buffer");
      b->data = n;
      b->cap = cap;
    }
  if (len > 0)
    memcpy (b->data + b->len, data, len);
  b->len += len;
  return 0;
}

void
hull_buf_consume (struct hull_buf *b, size_t n)
{
  if (n > hull_buf_pending (b))
    n = hull_buf_pending (b);
  b->off += n;
  if (b->off == b->len)
    b->off = b->len = 0;
}

void
hull_frame_header_write (uint8_t out[HULL_PROTO_HEADER_SIZE], uint8_t type,
                         uint8_t flags, uint16_t op, uint32_t id, uint32_t len)
{
  out[0] = type;
  out[1] = flags;
  put_le16 (out + 2, op);
  put_le32 (out + 4, id);
  put_le32 (out + 8, len);
}

static int
append_frame (struct hull_buf *out, uint8_t type, uint8_t flags, uint16_t op,
              uint32_t id, const void *payload, size_t len, hull_error_t *err)
{
  uint8_t hdr[HULL_PROTO_HEADER_SIZE];
  size_t before = out->len;

  if (len > HULL_PROTO_MAX_PAYLOAD)
    return hull_error (err, EMSGSIZE, "frame payload of %zu bytes exceeds %d",
                       len, HULL_PROTO_MAX_PAYLOAD);
  hull_frame_header_write (hdr, type, flags, op, id, (uint32_t) len);
  if (hull_buf_append (out, hdr, sizeof hdr, err) < 0)
    return -1;
  if (hull_buf_append (out, payload, len, err) < 0)
    {
      /* Never leave half a frame queued: the stream would desync. */
      out->len = before;
      return -1;
    }
  return 0;
}

int
hull_proto_encode_hello (struct hull_buf *out, uint32_t window,
                         hull_error_t *err)
{
  uint8_t p[HULL_PROTO_MAGIC_LEN + 8];

  if (window < HULL_PROTO_MIN_WINDOW || window > HULL_PROTO_MAX_WINDOW)
    return hull_error (err, EINVAL, "stream window %u outside [%u, %u]", window,
                       HULL_PROTO_MIN_WINDOW, HULL_PROTO_MAX_WINDOW);
  memcpy (p, HULL_PROTO_MAGIC, HULL_PROTO_MAGIC_LEN);
  put_le16 (p + 8, HULL_PROTO_VERSION_MIN);
  put_le16 (p + 10, HULL_PROTO_VERSION_MAX);
  put_le32 (p + 12, window);
  return append_frame (out, HULL_FRAME_HELLO, 0, 0, 0, p, sizeof p, err);
}

int
hull_proto_encode_msg (struct hull_buf *out, const struct hull_msgbuf *mb,
                       hull_error_t *err)
{
  struct hull_msg check = { .type = mb->type, .flags = mb->flags, .op = mb->op,
                            .id = mb->id, .payload = mb->payload.data,
                            .len = mb->payload.len };
  size_t before = out->len, off = 0;

  if (mb->overflow)
    return hull_error (err, EMSGSIZE, "%s %s message exceeds %u bytes",
                       hull_frame_type_name (mb->type),
                       mb->type == HULL_FRAME_EVENT ? hull_event_name (mb->op)
                                                    : hull_op_name (mb->op),
                       HULL_PROTO_MAX_MESSAGE);
  if (mb->type != HULL_FRAME_REQUEST && mb->type != HULL_FRAME_RESPONSE
      && mb->type != HULL_FRAME_EVENT)
    return hull_error (err, EINVAL, "frame type %u is not a message", mb->type);
  if (hull_msg_parse_attrs (&check, err) < 0)
    return hull_error_prefix (err, "refusing to send");
  do
    {
      size_t chunk = mb->payload.len - off;
      uint8_t flags = mb->flags & ~HULL_FLAG_MORE;

      if (chunk > HULL_PROTO_MAX_PAYLOAD)
        {
          chunk = HULL_PROTO_MAX_PAYLOAD;
          flags |= HULL_FLAG_MORE;
        }
      if (append_frame (out, mb->type, flags, mb->op, mb->id,
                        mb->payload.data ? mb->payload.data + off : NULL, chunk,
                        err)
          < 0)
        {
          out->len = before;
          return -1;
        }
      off += chunk;
    }
  while (off < mb->payload.len);
  return 0;
}

int
hull_proto_encode_data (struct hull_buf *out, uint32_t stream, const void *data,
                        size_t len, bool fin, hull_error_t *err)
{
  if (stream == 0)
    return hull_error (err, EINVAL, "stream id 0 is reserved");
  return append_frame (out, HULL_FRAME_DATA, fin ? HULL_FLAG_FIN : 0, 0, stream,
                       data, len, err);
}

int
hull_proto_encode_credit (struct hull_buf *out, uint32_t stream,
                          uint32_t increment, hull_error_t *err)
{
  uint8_t p[4];

  if (stream == 0 || increment == 0)
    return hull_error (err, EINVAL, "credit frame needs a stream id and an increment");
  put_le32 (p, increment);
  return append_frame (out, HULL_FRAME_CREDIT, 0, 0, stream, p, sizeof p, err);
}

/* ---- decoder ---- */

void
hull_decoder_init (struct hull_decoder *d)
{
  memset (d, 0, sizeof *d);
  d->buf.limit = HULL_PROTO_MAX_MESSAGE;
}

void
hull_decoder_free (struct hull_decoder *d)
{
  hull_buf_free (&d->buf);
}

static int
decoder_fail (struct hull_decoder *d, hull_error_t *err, const char *fmt, ...)
    __attribute__ ((format (printf, 3, 4)));

static int
decoder_fail (struct hull_decoder *d, hull_error_t *err, const char *fmt, ...)
{
  va_list ap;

  d->failed = true;
  va_start (ap, fmt);
  hull_verror (err, EPROTO, fmt, ap);
  va_end (ap);
  return -1;
}

/* Validate a complete header; everything about the frame that can be
 * judged before its payload arrives is judged here, so an oversize or
 * unknown frame is rejected without buffering a byte of it. */
static int
decoder_check_header (struct hull_decoder *d, uint32_t len, hull_error_t *err)
{
  bool is_msg = d->type == HULL_FRAME_REQUEST || d->type == HULL_FRAME_RESPONSE
                || d->type == HULL_FRAME_EVENT;

  if (d->type < HULL_FRAME_HELLO || d->type > HULL_FRAME_CREDIT)
    return decoder_fail (d, err, "unknown frame type %u", d->type);
  if (len > HULL_PROTO_MAX_PAYLOAD)
    return decoder_fail (d, err, "%s frame length %u exceeds %d",
                         hull_frame_type_name (d->type), len,
                         HULL_PROTO_MAX_PAYLOAD);
  if (d->flags & ~HULL_FLAGS_KNOWN)
    return decoder_fail (d, err, "unknown flags 0x%x on %s frame", d->flags,
                         hull_frame_type_name (d->type));
  if ((d->flags & HULL_FLAG_MORE) && !is_msg)
    return decoder_fail (d, err, "MORE flag on %s frame",
                         hull_frame_type_name (d->type));
  if ((d->flags & HULL_FLAG_FIN) && d->type != HULL_FRAME_DATA)
    return decoder_fail (d, err, "FIN flag on %s frame",
                         hull_frame_type_name (d->type));
  if ((d->flags & HULL_FLAG_ERROR) && d->type != HULL_FRAME_RESPONSE)
    return decoder_fail (d, err, "ERROR flag on %s frame",
                         hull_frame_type_name (d->type));
  if (is_msg)
    {
      uint16_t max = d->type == HULL_FRAME_EVENT ? HULL_EVENT__MAX : HULL_OP__MAX;
      if (d->op == 0 || d->op > max)
        return decoder_fail (d, err, "unknown %s %u",
                             d->type == HULL_FRAME_EVENT ? "event" : "operation",
                             d->op);
    }
  else if (d->op != 0)
    return decoder_fail (d, err, "op %u on %s frame", d->op,
                         hull_frame_type_name (d->type));
  if ((d->type == HULL_FRAME_DATA || d->type == HULL_FRAME_CREDIT) && d->id == 0)
    return decoder_fail (d, err, "%s frame on stream 0",
                         hull_frame_type_name (d->type));
  if (d->type == HULL_FRAME_CREDIT && len != 4)
    return decoder_fail (d, err, "CREDIT frame length %u, expected 4", len);
  if (d->type == HULL_FRAME_HELLO && len != HULL_PROTO_MAGIC_LEN + 8)
    return decoder_fail (d, err, "HELLO frame length %u, expected %d", len,
                         HULL_PROTO_MAGIC_LEN + 8);
  if (d->in_message
      && (d->type != d->msg_type || d->op != d->msg_op || d->id != d->msg_id))
    return decoder_fail (d, err,
                         "%s frame (id %u) interleaved with continued %s %u",
                         hull_frame_type_name (d->type), d->id,
                         hull_frame_type_name (d->msg_type), d->msg_id);
  /* buf still holds the previous message unless this frame continues one. */
  if (is_msg && (d->in_message ? d->buf.len : 0) + len > HULL_PROTO_MAX_MESSAGE)
    return decoder_fail (d, err, "%s message %u exceeds %u bytes",
                         hull_frame_type_name (d->type), d->id,
                         HULL_PROTO_MAX_MESSAGE);
  return 0;
}

static int
decoder_parse_hello (struct hull_decoder *d, struct hull_msg *msg,
                     hull_error_t *err)
{
  const uint8_t *p = d->buf.data;

  if (memcmp (p, HULL_PROTO_MAGIC, HULL_PROTO_MAGIC_LEN) != 0)
    return decoder_fail (d, err, "HELLO has bad magic (not a hull peer)");
  msg->version_min = get_le16 (p + 8);
  msg->version_max = get_le16 (p + 10);
  msg->window = get_le32 (p + 12);
  if (msg->version_min == 0 || msg->version_min > msg->version_max)
    return decoder_fail (d, err, "HELLO has bad version range %u..%u",
                         msg->version_min, msg->version_max);
  if (msg->window < HULL_PROTO_MIN_WINDOW || msg->window > HULL_PROTO_MAX_WINDOW)
    return decoder_fail (d, err, "HELLO window %u outside [%u, %u]", msg->window,
                         HULL_PROTO_MIN_WINDOW, HULL_PROTO_MAX_WINDOW);
  return 0;
}

/* The current frame's payload is complete in d->buf: decide whether it
 * finishes a message and fill *msg. */
static int
decoder_finish_frame (struct hull_decoder *d, struct hull_msg *msg,
                      hull_error_t *err)
{
  d->in_payload = false;
  d->hdr_len = 0;
  if (d->flags & HULL_FLAG_MORE)
    {
      d->in_message = true;
      d->msg_type = d->type;
      d->msg_op = d->op;
      d->msg_id = d->id;
      return 0;
    }
  d->in_message = false;
  /* attrs[] is left alone: only the first n_attrs entries mean anything. */
  msg->n_attrs = 0;
  msg->credit = 0;
  msg->version_min = msg->version_max = 0;
  msg->window = 0;
  msg->type = d->type;
  msg->flags = d->flags;
  msg->op = d->op;
  msg->id = d->id;
  msg->payload = d->buf.data;
  msg->len = d->buf.len;
  switch (d->type)
    {
    case HULL_FRAME_HELLO:
      return decoder_parse_hello (d, msg, err) < 0 ? -1 : 1;
    case HULL_FRAME_CREDIT:
      msg->credit = get_le32 (d->buf.data);
      if (msg->credit == 0)
        return decoder_fail (d, err, "CREDIT of 0 on stream %u", d->id);
      return 1;
    case HULL_FRAME_DATA:
      return 1;
    default:
      if (hull_msg_parse_attrs (msg, err) < 0)
        {
          d->failed = true;
          return -1;
        }
      return 1;
    }
}

int
hull_decoder_feed (struct hull_decoder *d, const void *data, size_t len,
                   size_t *used, struct hull_msg *msg, hull_error_t *err)
{
  const uint8_t *in = data;
  size_t pos = 0;
  int ret = 0;

  *used = 0;
  if (d->failed)
    return hull_error (err, EPROTO, "protocol stream already failed");
  while (ret == 0 && (pos < len || (d->in_payload && d->frame_left == 0)))
    {
      if (!d->in_payload)
        {
          size_t n = HULL_PROTO_HEADER_SIZE - d->hdr_len;
          if (n > len - pos)
            n = len - pos;
          memcpy (d->hdr + d->hdr_len, in + pos, n);
          d->hdr_len += n;
          pos += n;
          if (d->hdr_len < HULL_PROTO_HEADER_SIZE)
            break;
          d->type = d->hdr[0];
          d->flags = d->hdr[1];
          d->op = get_le16 (d->hdr + 2);
          d->id = get_le32 (d->hdr + 4);
          uint32_t flen = get_le32 (d->hdr + 8);
          if (decoder_check_header (d, flen, err) < 0)
            {
              ret = -1;
              break;
            }
          /* A new message (not a continuation) starts with an empty
           * buffer; the previous message's view is dead by contract. */
          if (!d->in_message)
            d->buf.len = 0;
          d->in_payload = true;
          d->frame_left = flen;
          continue;
        }
      if (d->frame_left > 0)
        {
          size_t n = d->frame_left < len - pos ? d->frame_left : len - pos;
          if (hull_buf_append (&d->buf, in + pos, n, err) < 0)
            {
              d->failed = true;
              ret = -1;
              break;
            }
          pos += n;
          d->frame_left -= n;
          if (d->frame_left > 0)
            break;
        }
      ret = decoder_finish_frame (d, msg, err);
    }
  *used = pos;
  return ret;
}

const char *
hull_frame_type_name (uint8_t type)
{
  static const char *const names[] = {
    [HULL_FRAME_HELLO] = "HELLO",       [HULL_FRAME_REQUEST] = "REQUEST",
    [HULL_FRAME_RESPONSE] = "RESPONSE", [HULL_FRAME_EVENT] = "EVENT",
    [HULL_FRAME_DATA] = "DATA",         [HULL_FRAME_CREDIT] = "CREDIT",
  };
  if (type < sizeof names / sizeof names[0] && names[type])
    return names[type];
  return "?";
}
