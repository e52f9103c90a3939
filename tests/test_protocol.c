/* Host <-> guest protocol: encoder/decoder round trips, partial delivery,
 * malformed input, flow control and the connection over a socketpair. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/protocol.h"

static const char config_json[] = "{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"sh\"]}}";
static const char process_json[] = "{\"args\":[\"ls\",\"-l\"],\"cwd\":\"/\"}";

/* Encode, then decode in one go; the single message is handed to check. */
static void
roundtrip (const struct hull_msgbuf *mb, void (*check) (const struct hull_msg *))
{
  struct hull_buf out = { 0 };
  struct hull_decoder d;
  struct hull_msg m;
  cleanup_error hull_error_t err = NULL;
  size_t used;

  cr_assert_eq (hull_proto_encode_msg (&out, mb, &err), 0, "%s", hull_error_msg (&err));
  hull_decoder_init (&d);
  cr_assert_eq (hull_decoder_feed (&d, out.data, out.len, &used, &m, &err), 1, "%s",
                hull_error_msg (&err));
  cr_assert_eq (used, out.len);
  cr_assert_eq (m.type, mb->type);
  cr_assert_eq (m.op, mb->op);
  cr_assert_eq (m.id, mb->id);
  cr_assert_eq (m.flags, mb->flags);
  check (&m);
  hull_decoder_free (&d);
  hull_buf_free (&out);
}

static void
expect_u32 (const struct hull_msg *m, uint16_t tag, uint32_t want)
{
  uint32_t v = 0;
  cr_assert_eq (hull_msg_get_u32 (m, tag, &v), 0, "attribute %u missing", tag);
  cr_assert_eq (v, want, "attribute %u: %u != %u", tag, v, want);
}

static void
expect_str (const struct hull_msg *m, uint16_t tag, const char *want)
{
  const char *s = hull_msg_get_str (m, tag);
  cr_assert_not_null (s, "attribute %u missing", tag);
  cr_assert_str_eq (s, want);
}

static void
check_create (const struct hull_msg *m)
{
  expect_str (m, HULL_ATTR_CONTAINER_ID, "c1");
  expect_str (m, HULL_ATTR_CONFIG_JSON, config_json);
  expect_str (m, HULL_ATTR_ROOTFS, "/run/hull/rootfs");
  expect_u32 (m, HULL_ATTR_STREAM_STDIN, 1);
  expect_u32 (m, HULL_ATTR_STREAM_STDOUT, 2);
  expect_u32 (m, HULL_ATTR_STREAM_STDERR, 3);
  expect_u32 (m, HULL_ATTR_TERMINAL, 0);
  cr_assert_eq (m->n_attrs, 7);
}

static void
check_exec (const struct hull_msg *m)
{
  expect_str (m, HULL_ATTR_CONTAINER_ID, "c1");
  expect_str (m, HULL_ATTR_EXEC_ID, "e7");
  expect_str (m, HULL_ATTR_PROCESS_JSON, process_json);
  expect_u32 (m, HULL_ATTR_STREAM_STDOUT, 9);
  expect_u32 (m, HULL_ATTR_TERMINAL, 1);
}

static void
check_pid (const struct hull_msg *m)
{
  expect_u32 (m, HULL_ATTR_PID, 4242);
  cr_assert_eq (m->n_attrs, 1);
}

static void
check_cid (const struct hull_msg *m)
{
  expect_str (m, HULL_ATTR_CONTAINER_ID, "c1");
  cr_assert_eq (m->n_attrs, 1);
}

static void
check_empty (const struct hull_msg *m)
{
  cr_assert_eq (m->n_attrs, 0);
  cr_assert_eq (m->len, 0);
}

static void
check_signal (const struct hull_msg *m)
{
  expect_str (m, HULL_ATTR_CONTAINER_ID, "c1");
  expect_u32 (m, HULL_ATTR_PID, 0);
  expect_u32 (m, HULL_ATTR_SIGNAL, SIGKILL);
  expect_u32 (m, HULL_ATTR_ALL, 1);
}

static void
check_wait_resp (const struct hull_msg *m)
{
  expect_u32 (m, HULL_ATTR_PID, 1);
  expect_u32 (m, HULL_ATTR_WAIT_STATUS, 3 << 8);
}

static void
check_resize (const struct hull_msg *m)
{
  expect_u32 (m, HULL_ATTR_ROWS, 24);
  expect_u32 (m, HULL_ATTR_COLS, 80);
  expect_u32 (m, HULL_ATTR_PID, 77);
}

static void
check_stats (const struct hull_msg *m)
{
  uint64_t v = 0;
  cr_assert_eq (hull_msg_get_u64 (m, HULL_ATTR_MEM_USAGE, &v), 0);
  cr_assert_eq (v, 5ull << 33);
  cr_assert_eq (hull_msg_get_u64 (m, HULL_ATTR_MEMINFO_AVAILABLE, &v), 0);
  cr_assert_eq (v, 123456789012ull);
  cr_assert_eq (hull_msg_get_u64 (m, HULL_ATTR_PIDS_LIMIT, &v), 1, "absent reads as 1");
}

static void
check_ps (const struct hull_msg *m)
{
  size_t len = 0;
  const uint8_t *p = hull_msg_get_bytes (m, HULL_ATTR_PIDS, &len);
  cr_assert_not_null (p);
  cr_assert_eq (len, 8);
  cr_assert_eq (p[0], 1);
  cr_assert_eq (p[4], 2);
}

static void
check_ping (const struct hull_msg *m)
{
  size_t len = 0;
  const uint8_t *p = hull_msg_get_bytes (m, HULL_ATTR_NONCE, &len);
  cr_assert_not_null (p);
  cr_assert_eq (len, 3);
  cr_assert_eq (memcmp (p, "abc", 3), 0);
}

static void
check_update (const struct hull_msg *m)
{
  expect_str (m, HULL_ATTR_RESOURCES_JSON, "{\"memory\":{\"limit\":1048576}}");
}

static void
check_error (const struct hull_msg *m)
{
  cr_assert (m->flags & HULL_FLAG_ERROR);
  expect_u32 (m, HULL_ATTR_ERRNO, ENOENT);
  expect_str (m, HULL_ATTR_MESSAGE, "no such container `c9`");
}

static void
check_exit (const struct hull_msg *m)
{
  expect_str (m, HULL_ATTR_CONTAINER_ID, "c1");
  expect_str (m, HULL_ATTR_EXEC_ID, "e7");
  expect_u32 (m, HULL_ATTR_PID, 99);
  expect_u32 (m, HULL_ATTR_WAIT_STATUS, SIGTERM);
}

static void
check_oom (const struct hull_msg *m)
{
  uint64_t v = 0;
  expect_str (m, HULL_ATTR_CONTAINER_ID, "c1");
  cr_assert_eq (hull_msg_get_u64 (m, HULL_ATTR_OOM_KILLS, &v), 0);
  cr_assert_eq (v, 2);
}

static void
req (struct hull_msgbuf *mb, uint16_t op)
{
  hull_msgbuf_init (mb, HULL_FRAME_REQUEST, op, 1000 + op);
}

static void
resp (struct hull_msgbuf *mb, uint16_t op)
{
  hull_msgbuf_init (mb, HULL_FRAME_RESPONSE, op, 1000 + op);
}

Test (protocol, roundtrip_every_request)
{
  struct hull_msgbuf mb;

  req (&mb, HULL_OP_PING);
  hull_msgbuf_put_bytes (&mb, HULL_ATTR_NONCE, "abc", 3);
  roundtrip (&mb, check_ping);
  hull_msgbuf_free (&mb);

  req (&mb, HULL_OP_CREATE);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONTAINER_ID, "c1");
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONFIG_JSON, config_json);
  hull_msgbuf_put_str (&mb, HULL_ATTR_ROOTFS, "/run/hull/rootfs");
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_STREAM_STDIN, 1);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_STREAM_STDOUT, 2);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_STREAM_STDERR, 3);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_TERMINAL, 0);
  roundtrip (&mb, check_create);
  hull_msgbuf_free (&mb);

  req (&mb, HULL_OP_EXEC);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONTAINER_ID, "c1");
  hull_msgbuf_put_str (&mb, HULL_ATTR_EXEC_ID, "e7");
  hull_msgbuf_put_str (&mb, HULL_ATTR_PROCESS_JSON, process_json);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_STREAM_STDOUT, 9);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_TERMINAL, 1);
  roundtrip (&mb, check_exec);
  hull_msgbuf_free (&mb);

  static const uint16_t cid_ops[] = { HULL_OP_START, HULL_OP_STATS, HULL_OP_PAUSE,
                                      HULL_OP_RESUME, HULL_OP_PS, HULL_OP_WAIT };
  for (size_t i = 0; i < sizeof cid_ops / sizeof cid_ops[0]; i++)
    {
      req (&mb, cid_ops[i]);
      hull_msgbuf_put_str (&mb, HULL_ATTR_CONTAINER_ID, "c1");
      roundtrip (&mb, check_cid);
      hull_msgbuf_free (&mb);
    }

  req (&mb, HULL_OP_SIGNAL);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONTAINER_ID, "c1");
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_PID, 0);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_SIGNAL, SIGKILL);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_ALL, 1);
  roundtrip (&mb, check_signal);
  hull_msgbuf_free (&mb);

  req (&mb, HULL_OP_RESIZE);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONTAINER_ID, "c1");
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_PID, 77);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_ROWS, 24);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_COLS, 80);
  roundtrip (&mb, check_resize);
  hull_msgbuf_free (&mb);

  req (&mb, HULL_OP_UPDATE);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONTAINER_ID, "c1");
  hull_msgbuf_put_str (&mb, HULL_ATTR_RESOURCES_JSON, "{\"memory\":{\"limit\":1048576}}");
  roundtrip (&mb, check_update);
  hull_msgbuf_free (&mb);

  req (&mb, HULL_OP_SHUTDOWN);
  roundtrip (&mb, check_empty);
  hull_msgbuf_free (&mb);
}

Test (protocol, roundtrip_every_response_and_event)
{
  struct hull_msgbuf mb;
  static const uint16_t empty_ops[] = { HULL_OP_START, HULL_OP_SIGNAL, HULL_OP_RESIZE,
                                        HULL_OP_SHUTDOWN, HULL_OP_PAUSE, HULL_OP_RESUME,
                                        HULL_OP_UPDATE };

  for (size_t i = 0; i < sizeof empty_ops / sizeof empty_ops[0]; i++)
    {
      resp (&mb, empty_ops[i]);
      roundtrip (&mb, check_empty);
      hull_msgbuf_free (&mb);
    }
  resp (&mb, HULL_OP_PING);
  hull_msgbuf_put_bytes (&mb, HULL_ATTR_NONCE, "abc", 3);
  roundtrip (&mb, check_ping);
  hull_msgbuf_free (&mb);

  resp (&mb, HULL_OP_CREATE);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_PID, 4242);
  roundtrip (&mb, check_pid);
  hull_msgbuf_free (&mb);

  resp (&mb, HULL_OP_EXEC);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_PID, 4242);
  roundtrip (&mb, check_pid);
  hull_msgbuf_free (&mb);

  resp (&mb, HULL_OP_WAIT);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_PID, 1);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_WAIT_STATUS, 3 << 8);
  roundtrip (&mb, check_wait_resp);
  hull_msgbuf_free (&mb);

  resp (&mb, HULL_OP_STATS);
  hull_msgbuf_put_u64 (&mb, HULL_ATTR_MEM_USAGE, 5ull << 33);
  hull_msgbuf_put_u64 (&mb, HULL_ATTR_MEMINFO_AVAILABLE, 123456789012ull);
  roundtrip (&mb, check_stats);
  hull_msgbuf_free (&mb);

  resp (&mb, HULL_OP_PS);
  hull_msgbuf_put_bytes (&mb, HULL_ATTR_PIDS, (uint8_t[]){ 1, 0, 0, 0, 2, 0, 0, 0 }, 8);
  roundtrip (&mb, check_ps);
  hull_msgbuf_free (&mb);

  hull_msgbuf_init_error (&mb, HULL_OP_START, 5, ENOENT, "no such container `c9`");
  roundtrip (&mb, check_error);
  hull_msgbuf_free (&mb);

  hull_msgbuf_init (&mb, HULL_FRAME_EVENT, HULL_EVENT_EXIT, 0);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONTAINER_ID, "c1");
  hull_msgbuf_put_str (&mb, HULL_ATTR_EXEC_ID, "e7");
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_PID, 99);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_WAIT_STATUS, SIGTERM);
  roundtrip (&mb, check_exit);
  hull_msgbuf_free (&mb);

  hull_msgbuf_init (&mb, HULL_FRAME_EVENT, HULL_EVENT_OOM, 0);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONTAINER_ID, "c1");
  hull_msgbuf_put_u64 (&mb, HULL_ATTR_OOM_KILLS, 2);
  roundtrip (&mb, check_oom);
  hull_msgbuf_free (&mb);
}

Test (protocol, encoder_refuses_invalid_messages)
{
  struct hull_msgbuf mb;
  struct hull_buf out = { 0 };
  cleanup_error hull_error_t err = NULL;

  req (&mb, HULL_OP_START); /* container id missing */
  cr_assert_eq (hull_proto_encode_msg (&out, &mb, &err), -1);
  cr_assert (strstr (hull_error_msg (&err), "missing required attribute") != NULL, "%s",
             hull_error_msg (&err));
  hull_msgbuf_free (&mb);
  cr_assert_eq (out.len, 0, "nothing queued on failure");

  req (&mb, HULL_OP_CREATE);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONTAINER_ID, "c1");
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONFIG_JSON, "{\"a\":");
  cr_assert_eq (hull_proto_encode_msg (&out, &mb, &err), -1);
  cr_assert (strstr (hull_error_msg (&err), "not a JSON object") != NULL);
  hull_msgbuf_free (&mb);
  cr_assert_eq (out.len, 0);
}

/* Helper for hand-made frames. */
static void
raw_frame (struct hull_buf *b, uint8_t type, uint8_t flags, uint16_t op, uint32_t id,
           const void *payload, uint32_t len)
{
  uint8_t hdr[HULL_PROTO_HEADER_SIZE];
  cleanup_error hull_error_t err = NULL;

  hull_frame_header_write (hdr, type, flags, op, id, len);
  cr_assert_eq (hull_buf_append (b, hdr, sizeof hdr, &err), 0);
  cr_assert_eq (hull_buf_append (b, payload, len, &err), 0);
}

static void
raw_attr (struct hull_buf *b, uint16_t tag, const void *v, uint32_t len)
{
  uint8_t h[8] = { tag & 0xff, tag >> 8, 0, 0, len & 0xff, (len >> 8) & 0xff,
                   (len >> 16) & 0xff, len >> 24 };
  cleanup_error hull_error_t err = NULL;
  cr_assert_eq (hull_buf_append (b, h, sizeof h, &err), 0);
  cr_assert_eq (hull_buf_append (b, v, len, &err), 0);
}

/* Feed everything; expect a decode error whose message contains `what`. */
static void
expect_reject (const struct hull_buf *b, const char *what)
{
  struct hull_decoder d;
  struct hull_msg m;
  cleanup_error hull_error_t err = NULL;
  size_t used, pos = 0;
  int r;

  hull_decoder_init (&d);
  do
    {
      r = hull_decoder_feed (&d, b->data + pos, b->len - pos, &used, &m, &err);
      pos += used;
    }
  while (r == 1 && pos < b->len);
  cr_assert_eq (r, -1, "expected rejection (%s), got %d", what, r);
  cr_assert (strstr (hull_error_msg (&err), what) != NULL, "`%s` lacks `%s`",
             hull_error_msg (&err), what);
  hull_error_free (&err);
  /* Sticky: a desynchronised stream cannot be resumed. */
  cr_assert_eq (hull_decoder_feed (&d, "x", 1, &used, &m, &err), -1);
  hull_decoder_free (&d);
}

Test (protocol, rejects_malformed_frames)
{
  struct hull_buf b = { 0 };
  uint8_t hello[16];

  memcpy (hello, "HULLAGNX", 8);
  memcpy (hello + 8, (uint8_t[]){ 1, 0, 1, 0, 0, 0, 4, 0 }, 8);
  raw_frame (&b, HULL_FRAME_HELLO, 0, 0, 0, hello, 16);
  expect_reject (&b, "bad magic");
  hull_buf_free (&b);

  memcpy (hello, HULL_PROTO_MAGIC, 8);
  memcpy (hello + 8, (uint8_t[]){ 3, 0, 2, 0, 0, 0, 4, 0 }, 8);
  raw_frame (&b, HULL_FRAME_HELLO, 0, 0, 0, hello, 16);
  expect_reject (&b, "bad version range");
  hull_buf_free (&b);

  memcpy (hello + 8, (uint8_t[]){ 1, 0, 1, 0, 0, 0, 0, 0x40 }, 8); /* 1 GiB window */
  raw_frame (&b, HULL_FRAME_HELLO, 0, 0, 0, hello, 16);
  expect_reject (&b, "window");
  hull_buf_free (&b);

  /* Oversize: rejected from the header alone, nothing buffered. */
  uint8_t hdr[HULL_PROTO_HEADER_SIZE];
  hull_frame_header_write (hdr, HULL_FRAME_DATA, 0, 0, 1, HULL_PROTO_MAX_PAYLOAD + 1);
  hull_buf_append (&b, hdr, sizeof hdr, NULL);
  expect_reject (&b, "exceeds");
  hull_buf_free (&b);

  raw_frame (&b, 9, 0, 0, 1, NULL, 0);
  expect_reject (&b, "unknown frame type 9");
  hull_buf_free (&b);

  raw_frame (&b, HULL_FRAME_REQUEST, 0, 200, 1, NULL, 0);
  expect_reject (&b, "unknown operation 200");
  hull_buf_free (&b);

  raw_frame (&b, HULL_FRAME_EVENT, 0, 9, 1, NULL, 0);
  expect_reject (&b, "unknown event 9");
  hull_buf_free (&b);

  raw_frame (&b, HULL_FRAME_DATA, 0x80, 0, 1, NULL, 0);
  expect_reject (&b, "unknown flags");
  hull_buf_free (&b);

  raw_frame (&b, HULL_FRAME_DATA, HULL_FLAG_MORE, 0, 1, NULL, 0);
  expect_reject (&b, "MORE flag on DATA");
  hull_buf_free (&b);

  raw_frame (&b, HULL_FRAME_DATA, 0, 0, 0, "x", 1);
  expect_reject (&b, "stream 0");
  hull_buf_free (&b);

  raw_frame (&b, HULL_FRAME_CREDIT, 0, 0, 1, "xx", 2);
  expect_reject (&b, "CREDIT frame length 2");
  hull_buf_free (&b);

  raw_frame (&b, HULL_FRAME_CREDIT, 0, 0, 1, "\0\0\0\0", 4);
  expect_reject (&b, "CREDIT of 0");
  hull_buf_free (&b);
}

Test (protocol, rejects_malformed_payloads)
{
  struct hull_buf b = { 0 }, p = { 0 };

  /* Truncated attribute header. */
  raw_frame (&b, HULL_FRAME_REQUEST, 0, HULL_OP_START, 1, "\1\0\0", 3);
  expect_reject (&b, "truncated attribute header");
  hull_buf_free (&b);

  /* Attribute length runs past the payload. */
  raw_attr (&p, HULL_ATTR_CONTAINER_ID, "c1", 3);
  p.data[4] = 50;
  raw_frame (&b, HULL_FRAME_REQUEST, 0, HULL_OP_START, 1, p.data, (uint32_t) p.len);
  expect_reject (&b, "overruns payload");
  hull_buf_free (&b);
  hull_buf_free (&p);

  raw_attr (&p, HULL_ATTR_CONTAINER_ID, "c1", 2); /* no NUL */
  raw_frame (&b, HULL_FRAME_REQUEST, 0, HULL_OP_START, 1, p.data, (uint32_t) p.len);
  expect_reject (&b, "NUL-terminated");
  hull_buf_free (&b);
  hull_buf_free (&p);

  raw_attr (&p, HULL_ATTR_CONTAINER_ID, "c\0001", 4); /* interior NUL */
  raw_frame (&b, HULL_FRAME_REQUEST, 0, HULL_OP_START, 1, p.data, (uint32_t) p.len);
  expect_reject (&b, "NUL-terminated");
  hull_buf_free (&b);
  hull_buf_free (&p);

  raw_attr (&p, HULL_ATTR_CONTAINER_ID, "c1", 3);
  raw_attr (&p, HULL_ATTR_CONTAINER_ID, "c2", 3);
  raw_frame (&b, HULL_FRAME_REQUEST, 0, HULL_OP_START, 1, p.data, (uint32_t) p.len);
  expect_reject (&b, "duplicate attribute");
  hull_buf_free (&b);
  hull_buf_free (&p);

  raw_attr (&p, HULL_ATTR_CONTAINER_ID, "c1", 3);
  raw_attr (&p, HULL_ATTR_ROWS, "\1\0\0\0", 4); /* not part of START */
  raw_frame (&b, HULL_FRAME_REQUEST, 0, HULL_OP_START, 1, p.data, (uint32_t) p.len);
  expect_reject (&b, "unexpected attribute 12");
  hull_buf_free (&b);
  hull_buf_free (&p);

  raw_attr (&p, HULL_ATTR_CONTAINER_ID, "c1", 3);
  raw_attr (&p, HULL_ATTR_SIGNAL, "\1\0", 2);
  raw_frame (&b, HULL_FRAME_REQUEST, 0, HULL_OP_SIGNAL, 1, p.data, (uint32_t) p.len);
  expect_reject (&b, "must be 4 bytes");
  hull_buf_free (&b);
  hull_buf_free (&p);

  raw_attr (&p, HULL_ATTR_CONTAINER_ID, "c1", 3);
  raw_attr (&p, HULL_ATTR_CONFIG_JSON, "{\"a\":[1,}", 10);
  raw_frame (&b, HULL_FRAME_REQUEST, 0, HULL_OP_CREATE, 1, p.data, (uint32_t) p.len);
  expect_reject (&b, "not a JSON object");
  hull_buf_free (&b);
  hull_buf_free (&p);

  raw_attr (&p, HULL_ATTR_CONTAINER_ID, "c1", 3);
  raw_attr (&p, HULL_ATTR_CONFIG_JSON, "[1]", 4); /* JSON, but not an object */
  raw_frame (&b, HULL_FRAME_REQUEST, 0, HULL_OP_CREATE, 1, p.data, (uint32_t) p.len);
  expect_reject (&b, "not a JSON object");
  hull_buf_free (&b);
  hull_buf_free (&p);

  raw_frame (&b, HULL_FRAME_RESPONSE, 0, HULL_OP_CREATE, 1, NULL, 0);
  expect_reject (&b, "missing required attribute 5");
  hull_buf_free (&b);

  raw_frame (&b, HULL_FRAME_RESPONSE, HULL_FLAG_ERROR, HULL_OP_CREATE, 1, NULL, 0);
  expect_reject (&b, "missing required attribute 15");
  hull_buf_free (&b);

  raw_attr (&p, HULL_ATTR_PIDS, "\1\0\0", 3);
  raw_frame (&b, HULL_FRAME_RESPONSE, 0, HULL_OP_PS, 1, p.data, (uint32_t) p.len);
  expect_reject (&b, "multiple of 4");
  hull_buf_free (&b);
  hull_buf_free (&p);
}

Test (protocol, truncated_frame_is_incomplete_not_a_message)
{
  struct hull_msgbuf mb;
  struct hull_buf out = { 0 };
  struct hull_decoder d;
  struct hull_msg m;
  cleanup_error hull_error_t err = NULL;
  size_t used;

  req (&mb, HULL_OP_START);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONTAINER_ID, "c1");
  cr_assert_eq (hull_proto_encode_msg (&out, &mb, &err), 0);
  hull_decoder_init (&d);
  cr_assert_eq (hull_decoder_feed (&d, out.data, out.len - 1, &used, &m, &err), 0);
  cr_assert_eq (used, out.len - 1);
  cr_assert_eq (hull_decoder_feed (&d, out.data + out.len - 1, 1, &used, &m, &err), 1);
  expect_str (&m, HULL_ATTR_CONTAINER_ID, "c1");
  hull_decoder_free (&d);
  hull_msgbuf_free (&mb);
  hull_buf_free (&out);
}

/* A stream of several frame kinds, fed one byte at a time, decodes to the
 * same messages as when fed whole. */
Test (protocol, byte_by_byte_delivery)
{
  struct hull_buf out = { 0 };
  struct hull_msgbuf mb;
  struct hull_decoder d;
  struct hull_msg m;
  cleanup_error hull_error_t err = NULL;
  cleanup_free char *big = NULL;
  size_t used, n_big = 150000;
  int seen[8] = { 0 };

  big = malloc (n_big + 1);
  big[0] = '{';
  big[1] = '"';
  big[2] = 'k';
  big[3] = '"';
  big[4] = ':';
  big[5] = '"';
  memset (big + 6, 'x', n_big - 8);
  big[n_big - 2] = '"';
  big[n_big - 1] = '}';
  big[n_big] = '\0';

  cr_assert_eq (hull_proto_encode_hello (&out, 65536, &err), 0);
  req (&mb, HULL_OP_CREATE);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONTAINER_ID, "big");
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONFIG_JSON, big);
  cr_assert_eq (hull_proto_encode_msg (&out, &mb, &err), 0, "%s", hull_error_msg (&err));
  hull_msgbuf_free (&mb);
  cr_assert_gt (out.len, 2 * HULL_PROTO_MAX_FRAME, "config must span frames");
  cr_assert_eq (hull_proto_encode_data (&out, 3, "hello", 5, false, &err), 0);
  cr_assert_eq (hull_proto_encode_data (&out, 3, NULL, 0, true, &err), 0);
  cr_assert_eq (hull_proto_encode_credit (&out, 4, 4096, &err), 0);

  hull_decoder_init (&d);
  for (size_t i = 0; i < out.len; i++)
    {
      int r = hull_decoder_feed (&d, out.data + i, 1, &used, &m, &err);
      cr_assert_neq (r, -1, "byte %zu: %s", i, hull_error_msg (&err));
      cr_assert_eq (used, 1);
      if (r == 0)
        continue;
      seen[m.type]++;
      switch (m.type)
        {
        case HULL_FRAME_HELLO:
          cr_assert_eq (m.window, 65536);
          cr_assert_eq (m.version_min, HULL_PROTO_VERSION_MIN);
          cr_assert_eq (m.version_max, HULL_PROTO_VERSION_MAX);
          break;
        case HULL_FRAME_REQUEST:
          expect_str (&m, HULL_ATTR_CONFIG_JSON, big);
          cr_assert_eq (m.flags & HULL_FLAG_MORE, 0);
          break;
        case HULL_FRAME_DATA:
          cr_assert_eq (m.id, 3);
          if (m.flags & HULL_FLAG_FIN)
            cr_assert_eq (m.len, 0);
          else
            cr_assert_eq (memcmp (m.payload, "hello", 5), 0);
          break;
        case HULL_FRAME_CREDIT:
          cr_assert_eq (m.id, 4);
          cr_assert_eq (m.credit, 4096);
          break;
        default:
          cr_assert_fail ("unexpected frame type %u", m.type);
        }
    }
  cr_assert_eq (seen[HULL_FRAME_HELLO], 1);
  cr_assert_eq (seen[HULL_FRAME_REQUEST], 1);
  cr_assert_eq (seen[HULL_FRAME_DATA], 2);
  cr_assert_eq (seen[HULL_FRAME_CREDIT], 1);
  hull_decoder_free (&d);
  hull_buf_free (&out);
}

Test (protocol, continuation_must_not_interleave)
{
  struct hull_buf b = { 0 }, p = { 0 };

  raw_attr (&p, HULL_ATTR_CONTAINER_ID, "c1", 3);
  raw_frame (&b, HULL_FRAME_REQUEST, HULL_FLAG_MORE, HULL_OP_START, 1, p.data, 4);
  raw_frame (&b, HULL_FRAME_DATA, 0, 0, 1, "x", 1);
  expect_reject (&b, "interleaved");
  hull_buf_free (&b);

  raw_frame (&b, HULL_FRAME_REQUEST, HULL_FLAG_MORE, HULL_OP_START, 1, p.data, 4);
  raw_frame (&b, HULL_FRAME_REQUEST, 0, HULL_OP_START, 2, p.data + 4, (uint32_t) p.len - 4);
  expect_reject (&b, "interleaved");
  hull_buf_free (&b);
  hull_buf_free (&p);
}

Test (protocol, message_size_is_bounded)
{
  struct hull_msgbuf mb;
  struct hull_buf out = { 0 }, b = { 0 };
  cleanup_error hull_error_t err = NULL;
  cleanup_free char *huge = malloc (HULL_PROTO_MAX_MESSAGE + 1);

  memset (huge, 'a', HULL_PROTO_MAX_MESSAGE);
  huge[HULL_PROTO_MAX_MESSAGE] = '\0';
  req (&mb, HULL_OP_CREATE);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONTAINER_ID, "c1");
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONFIG_JSON, huge);
  cr_assert (mb.overflow);
  cr_assert_eq (hull_proto_encode_msg (&out, &mb, &err), -1);
  cr_assert (strstr (hull_error_msg (&err), "exceeds") != NULL);
  hull_msgbuf_free (&mb);

  /* A peer that keeps sending MORE frames is cut off at the limit. */
  uint8_t *chunk = calloc (1, HULL_PROTO_MAX_PAYLOAD);
  b.limit = 2 * HULL_PROTO_MAX_MESSAGE;
  for (size_t sent = 0; sent <= HULL_PROTO_MAX_MESSAGE; sent += HULL_PROTO_MAX_PAYLOAD)
    raw_frame (&b, HULL_FRAME_REQUEST, HULL_FLAG_MORE, HULL_OP_CREATE, 1, chunk,
               HULL_PROTO_MAX_PAYLOAD);
  free (chunk);
  expect_reject (&b, "exceeds");
  hull_buf_free (&b);
}

/* ---- flow control ---- */

Test (flow, sender_blocks_at_zero_and_resumes_on_grant)
{
  struct hull_flow_send tx;
  struct hull_flow_recv rx;
  cleanup_error hull_error_t err = NULL;
  uint64_t sent = 0, received = 0;
  uint32_t window = 8192;

  hull_flow_send_init (&tx, window);
  hull_flow_recv_init (&rx, window);
  /* Push 1 MiB through a window of 8 KiB in 1000-byte writes, draining
   * the receiver 700 bytes at a time. */
  while (received < (1u << 20))
    {
      uint32_t n = hull_flow_send_avail (&tx) < 1000 ? hull_flow_send_avail (&tx) : 1000;
      if (n > 0)
        {
          cr_assert_eq (hull_flow_send_consume (&tx, n, &err), 0);
          cr_assert_eq (hull_flow_recv_data (&rx, n, &err), 0);
          sent += n;
        }
      cr_assert_leq (sent - received, window, "in flight beyond the window");
      cr_assert_eq (rx.outstanding + rx.buffered + rx.unacked, window);
      uint32_t drain = rx.buffered < 700 ? rx.buffered : 700;
      received += drain;
      uint32_t grant = hull_flow_recv_consumed (&rx, drain);
      if (grant)
        cr_assert_eq (hull_flow_send_grant (&tx, grant, &err), 0);
      cr_assert_eq (tx.credit, rx.outstanding, "sender and receiver agree");
    }
  cr_assert_eq (hull_flow_send_avail (&tx) + rx.buffered + rx.unacked, window);
}

Test (flow, zero_credit_refuses_send)
{
  struct hull_flow_send tx;
  cleanup_error hull_error_t err = NULL;

  hull_flow_send_init (&tx, 10);
  cr_assert_eq (hull_flow_send_consume (&tx, 10, &err), 0);
  cr_assert_eq (hull_flow_send_avail (&tx), 0);
  cr_assert_eq (hull_flow_send_consume (&tx, 1, &err), -1);
  hull_error_free (&err);
  cr_assert_eq (hull_flow_send_grant (&tx, 5, &err), 0);
  cr_assert_eq (hull_flow_send_avail (&tx), 5);
  cr_assert_eq (hull_flow_send_grant (&tx, HULL_PROTO_MAX_WINDOW, &err), -1,
                "grant past the maximum window");
  cr_assert_eq (hull_flow_send_grant (&tx, 0, &err), -1);
}

Test (flow, receiver_detects_overrun_and_batches)
{
  struct hull_flow_recv rx;
  cleanup_error hull_error_t err = NULL;

  hull_flow_recv_init (&rx, 4096);
  cr_assert_eq (hull_flow_recv_data (&rx, 4000, &err), 0);
  cr_assert_eq (hull_flow_recv_data (&rx, 97, &err), -1, "97 > 96 outstanding");
  hull_error_free (&err);
  cr_assert_eq (hull_flow_recv_consumed (&rx, 100), 0, "below window/4: batched");
  cr_assert_eq (hull_flow_recv_consumed (&rx, 1000), 1100);
  cr_assert_eq (rx.outstanding, 96 + 1100);
  cr_assert_eq (hull_flow_recv_consumed (&rx, 99999), 2900, "clamped to buffered");
  cr_assert_eq (rx.outstanding, 4096);
}

/* ---- connection over a socketpair ---- */

struct pair
{
  int fd[2];
  struct hull_conn host, guest;
};

static void
pair_open (struct pair *p, uint32_t host_window, uint32_t guest_window, bool nonblock)
{
  cleanup_error hull_error_t err = NULL;

  cr_assert_eq (socketpair (AF_UNIX, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0, p->fd), 0);
  cr_assert_eq (hull_conn_init (&p->host, p->fd[0], host_window, &err), 0);
  cr_assert_eq (hull_conn_init (&p->guest, p->fd[1], guest_window, &err), 0);
}

static void
pair_close (struct pair *p)
{
  hull_conn_free (&p->host);
  hull_conn_free (&p->guest);
  close (p->fd[0]);
  close (p->fd[1]);
}

/* Nonblocking pump: flush both, return the next message for `to`, or 0. */
static int
pump (struct pair *p, struct hull_conn *to, struct hull_msg *m)
{
  cleanup_error hull_error_t err = NULL;
  int r;

  cr_assert_geq (hull_conn_flush (&p->host, &err), 0, "%s", hull_error_msg (&err));
  cr_assert_geq (hull_conn_flush (&p->guest, &err), 0, "%s", hull_error_msg (&err));
  r = hull_conn_next (to, m, &err);
  cr_assert_geq (r, 0, "%s", hull_error_msg (&err));
  return r;
}

Test (conn, handshake_request_response)
{
  struct pair p;
  struct hull_msg m;
  struct hull_msgbuf mb;
  cleanup_error hull_error_t err = NULL;
  uint32_t id;

  pair_open (&p, 0, 0, false);
  cr_assert_eq (hull_conn_flush (&p.host, &err), 1);
  cr_assert_eq (hull_conn_flush (&p.guest, &err), 1);
  cr_assert_not (hull_conn_ready (&p.guest));

  id = hull_conn_next_id (&p.host);
  req (&mb, HULL_OP_PING);
  mb.id = id;
  hull_msgbuf_put_bytes (&mb, HULL_ATTR_NONCE, "abc", 3);
  cr_assert_eq (hull_conn_send_msg (&p.host, &mb, &err), 0);
  hull_msgbuf_free (&mb);
  cr_assert_eq (hull_conn_flush (&p.host, &err), 1);

  cr_assert_eq (hull_conn_next (&p.guest, &m, &err), 1, "%s", hull_error_msg (&err));
  cr_assert (hull_conn_ready (&p.guest), "HELLO consumed before the request");
  cr_assert_eq (p.guest.version, 1);
  cr_assert_eq (p.guest.peer_window, HULL_PROTO_DEFAULT_WINDOW);
  cr_assert_eq (m.type, HULL_FRAME_REQUEST);
  cr_assert_eq (m.op, HULL_OP_PING);
  check_ping (&m);

  hull_msgbuf_init (&mb, HULL_FRAME_RESPONSE, HULL_OP_PING, m.id);
  hull_msgbuf_put_bytes (&mb, HULL_ATTR_NONCE, "abc", 3);
  cr_assert_eq (hull_conn_send_msg (&p.guest, &mb, &err), 0);
  hull_msgbuf_free (&mb);
  cr_assert_eq (hull_conn_flush (&p.guest, &err), 1);
  cr_assert_eq (hull_conn_next (&p.host, &m, &err), 1, "%s", hull_error_msg (&err));
  cr_assert_eq (m.type, HULL_FRAME_RESPONSE);
  cr_assert_eq (m.id, id);
  pair_close (&p);
}

Test (conn, stream_flow_control_end_to_end)
{
  struct pair p;
  struct hull_msg m;
  cleanup_error hull_error_t err = NULL;
  const uint32_t window = 8192, total = 300000;
  uint8_t chunk[3000];
  uint32_t sent = 0, got = 0;
  bool fin = false;
  int stalls = 0;

  for (size_t i = 0; i < sizeof chunk; i++)
    chunk[i] = (uint8_t) i;
  pair_open (&p, window, 65536, true);
  /* guest -> host stdout stream 2, opened before the handshake completes */
  cr_assert_eq (hull_conn_stream_open (&p.guest, 2, HULL_STREAM_SEND, &err), 0);
  cr_assert_eq (hull_conn_stream_open (&p.host, 2, HULL_STREAM_RECV, &err), 0);
  cr_assert_eq (hull_conn_send_space (&p.guest, 2), 0, "no credit before HELLO");
  while (pump (&p, &p.guest, &m) == 1)
    ;
  cr_assert (hull_conn_ready (&p.guest));
  cr_assert_eq (hull_conn_send_space (&p.guest, 2), window);

  while (!fin)
    {
      /* Guest produces as fast as credit allows. */
      while (sent < total)
        {
          size_t off = sent % sizeof chunk, want = sizeof chunk - off;
          if (want > total - sent)
            want = total - sent;
          long n = hull_conn_send_data (&p.guest, 2, chunk + off, want, &err);
          cr_assert_geq (n, 0, "%s", hull_error_msg (&err));
          if (n == 0)
            {
              stalls++;
              break;
            }
          sent += (uint32_t) n;
          cr_assert_leq (sent - got, window, "in flight beyond the window");
        }
      if (sent == total && !p.guest.streams[0].fin_sent)
        cr_assert_eq (hull_conn_send_fin (&p.guest, 2, &err), 0);
      /* Host drains what arrived and grants credit. */
      while (pump (&p, &p.host, &m) == 1)
        {
          cr_assert_eq (m.type, HULL_FRAME_DATA);
          for (size_t i = 0; i < m.len; i++)
            cr_assert_eq (m.payload[i], (uint8_t) ((got + i) % sizeof chunk % 256),
                          "byte %zu", got + i);
          got += (uint32_t) m.len;
          cr_assert_eq (hull_conn_consumed (&p.host, 2, m.len, &err), 0);
          if (m.flags & HULL_FLAG_FIN)
            fin = true;
        }
      /* Guest applies the credit. */
      while (pump (&p, &p.guest, &m) == 1)
        cr_assert_eq (m.type, HULL_FRAME_CREDIT);
    }
  cr_assert_eq (got, total);
  cr_assert_gt (stalls, 10, "the sender must have waited for credit");
  pair_close (&p);
}

Test (conn, peer_overrunning_window_is_an_error)
{
  struct pair p;
  struct hull_msg m;
  struct hull_buf raw = { 0 };
  cleanup_error hull_error_t err = NULL;
  static uint8_t junk[8192];

  pair_open (&p, 4096, 0, false);
  cr_assert_eq (hull_conn_stream_open (&p.host, 5, HULL_STREAM_RECV, &err), 0);
  cr_assert_eq (hull_conn_flush (&p.guest, &err), 1);
  /* A rogue guest ignores the 4096-byte window. */
  cr_assert_eq (hull_proto_encode_data (&raw, 5, junk, 4096, false, &err), 0);
  cr_assert_eq (hull_proto_encode_data (&raw, 5, junk, 1, false, &err), 0);
  cr_assert_eq (write (p.fd[1], raw.data, raw.len), (ssize_t) raw.len);
  cr_assert_eq (hull_conn_next (&p.host, &m, &err), 1, "%s", hull_error_msg (&err));
  cr_assert_eq (m.len, 4096);
  cr_assert_eq (hull_conn_next (&p.host, &m, &err), -1);
  cr_assert (strstr (hull_error_msg (&err), "credit") != NULL, "%s", hull_error_msg (&err));
  hull_buf_free (&raw);
  pair_close (&p);
}

Test (conn, version_mismatch_and_frames_before_hello)
{
  struct pair p;
  struct hull_msg m;
  struct hull_buf raw = { 0 };
  cleanup_error hull_error_t err = NULL;
  uint8_t hello[16];

  pair_open (&p, 0, 0, false);
  memcpy (hello, HULL_PROTO_MAGIC, 8);
  memcpy (hello + 8, (uint8_t[]){ 2, 0, 3, 0, 0, 0, 4, 0 }, 8);
  raw_frame (&raw, HULL_FRAME_HELLO, 0, 0, 0, hello, 16);
  cr_assert_eq (write (p.fd[1], raw.data, raw.len), (ssize_t) raw.len);
  cr_assert_eq (hull_conn_next (&p.host, &m, &err), -1);
  cr_assert_eq (err->status, EPROTONOSUPPORT, "%s", hull_error_msg (&err));
  cr_assert (strstr (hull_error_msg (&err), "versions 2..3") != NULL);
  hull_buf_free (&raw);
  pair_close (&p);

  pair_open (&p, 0, 0, false);
  cr_assert_eq (hull_proto_encode_credit (&raw, 1, 10, &err), 0);
  cr_assert_eq (write (p.fd[1], raw.data, raw.len), (ssize_t) raw.len);
  cr_assert_eq (hull_conn_next (&p.host, &m, &err), -1);
  cr_assert (strstr (hull_error_msg (&err), "before HELLO") != NULL);
  hull_buf_free (&raw);
  pair_close (&p);
}

Test (conn, eof_is_reported)
{
  struct pair p;
  struct hull_msg m;
  cleanup_error hull_error_t err = NULL;

  pair_open (&p, 0, 0, false);
  cr_assert_eq (hull_conn_flush (&p.guest, &err), 1);
  close (p.fd[1]);
  p.fd[1] = open ("/dev/null", O_RDONLY);
  cr_assert_eq (hull_conn_next (&p.host, &m, &err), -1);
  cr_assert (hull_conn_eof (&p.host));
  cr_assert_eq (err->status, ECONNRESET);
  pair_close (&p);
}

Test (conn, data_for_closed_stream_is_dropped)
{
  struct pair p;
  struct hull_msg m;
  struct hull_msgbuf mb;
  cleanup_error hull_error_t err = NULL;

  pair_open (&p, 0, 0, true);
  cr_assert_eq (hull_conn_stream_open (&p.guest, 7, HULL_STREAM_SEND, &err), 0);
  while (pump (&p, &p.guest, &m) == 1)
    ;
  cr_assert_eq (hull_conn_send_data (&p.guest, 7, "late", 4, &err), 4);
  hull_msgbuf_init (&mb, HULL_FRAME_EVENT, HULL_EVENT_EXIT, 0);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONTAINER_ID, "c1");
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_PID, 1);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_WAIT_STATUS, 0);
  cr_assert_eq (hull_conn_send_msg (&p.guest, &mb, &err), 0);
  hull_msgbuf_free (&mb);
  /* The host never opened stream 7: the DATA is skipped, the event is next. */
  cr_assert_eq (pump (&p, &p.host, &m), 1);
  cr_assert_eq (m.type, HULL_FRAME_EVENT);
  cr_assert_eq (m.op, HULL_EVENT_EXIT);
  pair_close (&p);
}

/* A message close to the limit must not count against the next one. */
Test (protocol, large_message_then_another)
{
  struct hull_msgbuf mb;
  struct hull_buf out = { .limit = 2 * HULL_PROTO_MAX_MESSAGE };
  struct hull_decoder d;
  struct hull_msg m;
  cleanup_error hull_error_t err = NULL;
  size_t n = HULL_PROTO_MAX_MESSAGE - 100, used, pos = 0;
  cleanup_free char *big = malloc (n + 1);
  int got = 0;

  memset (big, ' ', n);
  big[0] = '{';
  big[n - 1] = '}';
  big[n] = '\0';
  req (&mb, HULL_OP_CREATE);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONTAINER_ID, "c1");
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONFIG_JSON, big);
  cr_assert_eq (hull_proto_encode_msg (&out, &mb, &err), 0, "%s", hull_error_msg (&err));
  hull_msgbuf_free (&mb);
  /* Then two multi-frame messages of 70000 bytes: the tail of big. */
  big[n - 70000] = '{';
  for (int i = 0; i < 2; i++)
    {
      req (&mb, HULL_OP_CREATE);
      hull_msgbuf_put_str (&mb, HULL_ATTR_CONTAINER_ID, "c1");
      hull_msgbuf_put_str (&mb, HULL_ATTR_CONFIG_JSON, big + n - 70000);
      cr_assert_eq (hull_proto_encode_msg (&out, &mb, &err), 0, "%s", hull_error_msg (&err));
      hull_msgbuf_free (&mb);
    }
  hull_decoder_init (&d);
  while (pos < out.len)
    {
      int r = hull_decoder_feed (&d, out.data + pos, out.len - pos, &used, &m, &err);
      cr_assert_neq (r, -1, "message %d: %s", got, hull_error_msg (&err));
      pos += used;
      got += r;
    }
  cr_assert_eq (got, 3);
  hull_decoder_free (&d);
  hull_buf_free (&out);
}
