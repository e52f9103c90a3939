/* Writes the seed corpus of fuzz_protocol: one file per message kind, each
 * a byte stream as a peer would send it (HELLO first, so the connection
 * path gets past the handshake), all produced by the real encoder.
 *   build/fuzz/gen_protocol_seeds tests/fuzz/corpus/protocol */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/protocol.h"

struct seed
{
  struct hull_buf b;
  hull_error_t err;
};

static void
die (struct seed *s, const char *what)
{
  fprintf (stderr, "gen_protocol_seeds: %s: %s\n", what, hull_error_msg (&s->err));
  exit (1);
}

static void
start (struct seed *s)
{
  memset (s, 0, sizeof *s);
  s->b.limit = 8u * 1024 * 1024;
  if (hull_proto_encode_hello (&s->b, 4096, &s->err) < 0)
    die (s, "hello");
}

static void
add (struct seed *s, struct hull_msgbuf *mb)
{
  if (hull_proto_encode_msg (&s->b, mb, &s->err) < 0)
    die (s, hull_op_name (mb->op));
  hull_msgbuf_free (mb);
}

static void
finish (struct seed *s, const char *dir, const char *name)
{
  char path[4096];
  FILE *f;

  snprintf (path, sizeof path, "%s/%s", dir, name);
  f = fopen (path, "wb");
  if (f == NULL || fwrite (s->b.data, 1, s->b.len, f) != s->b.len || fclose (f) != 0)
    {
      fprintf (stderr, "gen_protocol_seeds: write %s: %s\n", path, strerror (errno));
      exit (1);
    }
  hull_buf_free (&s->b);
}

static void
req_cid (struct hull_msgbuf *mb, uint8_t type, uint16_t op, uint32_t id)
{
  hull_msgbuf_init (mb, type, op, id);
  hull_msgbuf_put_str (mb, HULL_ATTR_CONTAINER_ID, "c1");
}

int
main (int argc, char **argv)
{
  static const char config[] =
      "{\"ociVersion\":\"1.1.0\",\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\","
      "\"user\":{\"uid\":0,\"gid\":0}},\"root\":{\"path\":\"rootfs\"}}";
  struct hull_msgbuf mb;
  struct seed s;
  const char *dir;

  if (argc != 2)
    {
      fprintf (stderr, "usage: %s DIR\n", argv[0]);
      return 2;
    }
  dir = argv[1];

  start (&s);
  finish (&s, dir, "hello");

  start (&s);
  hull_msgbuf_init (&mb, HULL_FRAME_REQUEST, HULL_OP_PING, 1);
  hull_msgbuf_put_bytes (&mb, HULL_ATTR_NONCE, "n0nce", 5);
  add (&s, &mb);
  hull_msgbuf_init (&mb, HULL_FRAME_RESPONSE, HULL_OP_PING, 1);
  add (&s, &mb);
  finish (&s, dir, "ping");

  start (&s);
  req_cid (&mb, HULL_FRAME_REQUEST, HULL_OP_CREATE, 2);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONFIG_JSON, config);
  hull_msgbuf_put_str (&mb, HULL_ATTR_ROOTFS, "/run/hull/c1/rootfs");
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_STREAM_STDIN, 1);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_STREAM_STDOUT, 2);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_STREAM_STDERR, 3);
  add (&s, &mb);
  hull_msgbuf_init (&mb, HULL_FRAME_RESPONSE, HULL_OP_CREATE, 2);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_PID, 17);
  add (&s, &mb);
  finish (&s, dir, "create");

  /* A pod's app container (runtime/pod.h), then its removal. */
  start (&s);
  req_cid (&mb, HULL_FRAME_REQUEST, HULL_OP_CREATE, 5);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONFIG_JSON, config);
  hull_msgbuf_put_str (&mb, HULL_ATTR_ROOTFS, "/run/hull/rootfs/c1/rootfs");
  hull_msgbuf_put_str (&mb, HULL_ATTR_POD_JSON,
                       "{\"bindDir\":\"/run/hull/rootfs/c1\",\"binds\":[0],\"skip\":[],"
                       "\"shareWith\":\"sb\"}");
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_STREAM_STDOUT, 2);
  add (&s, &mb);
  hull_msgbuf_init (&mb, HULL_FRAME_RESPONSE, HULL_OP_CREATE, 5);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_PID, 1);
  add (&s, &mb);
  req_cid (&mb, HULL_FRAME_REQUEST, HULL_OP_DELETE, 6);
  add (&s, &mb);
  hull_msgbuf_init (&mb, HULL_FRAME_RESPONSE, HULL_OP_DELETE, 6);
  add (&s, &mb);
  finish (&s, dir, "pod");

  start (&s);
  req_cid (&mb, HULL_FRAME_REQUEST, HULL_OP_EXEC, 3);
  hull_msgbuf_put_str (&mb, HULL_ATTR_EXEC_ID, "e1");
  hull_msgbuf_put_str (&mb, HULL_ATTR_PROCESS_JSON, "{\"args\":[\"ls\"],\"cwd\":\"/\"}");
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_STREAM_STDIN, 4);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_TERMINAL, 1);
  add (&s, &mb);
  hull_msgbuf_init (&mb, HULL_FRAME_RESPONSE, HULL_OP_EXEC, 3);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_PID, 18);
  add (&s, &mb);
  finish (&s, dir, "exec");

  start (&s);
  static const uint16_t cid_ops[] = { HULL_OP_START, HULL_OP_STATS, HULL_OP_PAUSE,
                                      HULL_OP_RESUME, HULL_OP_PS, HULL_OP_WAIT };
  for (size_t i = 0; i < sizeof cid_ops / sizeof cid_ops[0]; i++)
    {
      req_cid (&mb, HULL_FRAME_REQUEST, cid_ops[i], 10 + (uint32_t) i);
      add (&s, &mb);
    }
  hull_msgbuf_init (&mb, HULL_FRAME_REQUEST, HULL_OP_SHUTDOWN, 20);
  add (&s, &mb);
  finish (&s, dir, "simple-requests");

  start (&s);
  req_cid (&mb, HULL_FRAME_REQUEST, HULL_OP_SIGNAL, 30);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_SIGNAL, SIGTERM);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_ALL, 1);
  add (&s, &mb);
  req_cid (&mb, HULL_FRAME_REQUEST, HULL_OP_RESIZE, 31);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_PID, 18);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_ROWS, 50);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_COLS, 132);
  add (&s, &mb);
  req_cid (&mb, HULL_FRAME_REQUEST, HULL_OP_UPDATE, 32);
  hull_msgbuf_put_str (&mb, HULL_ATTR_RESOURCES_JSON, "{\"pids\":{\"limit\":10}}");
  add (&s, &mb);
  finish (&s, dir, "signal-resize-update");

  start (&s);
  hull_msgbuf_init (&mb, HULL_FRAME_RESPONSE, HULL_OP_WAIT, 15);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_PID, 17);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_WAIT_STATUS, 1 << 8);
  add (&s, &mb);
  hull_msgbuf_init (&mb, HULL_FRAME_RESPONSE, HULL_OP_STATS, 11);
  hull_msgbuf_put_u64 (&mb, HULL_ATTR_MEM_USAGE, 1u << 20);
  hull_msgbuf_put_u64 (&mb, HULL_ATTR_CPU_USAGE_USEC, 12345);
  hull_msgbuf_put_u64 (&mb, HULL_ATTR_MEMINFO_TOTAL, 512u << 20);
  add (&s, &mb);
  hull_msgbuf_init (&mb, HULL_FRAME_RESPONSE, HULL_OP_PS, 14);
  hull_msgbuf_put_bytes (&mb, HULL_ATTR_PIDS, (uint8_t[]){ 1, 0, 0, 0, 17, 0, 0, 0 }, 8);
  add (&s, &mb);
  hull_msgbuf_init_error (&mb, HULL_OP_START, 10, ENOENT, "container `c1` not created");
  add (&s, &mb);
  finish (&s, dir, "responses");

  start (&s);
  req_cid (&mb, HULL_FRAME_EVENT, HULL_EVENT_EXIT, 0);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_PID, 17);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_WAIT_STATUS, SIGKILL);
  add (&s, &mb);
  req_cid (&mb, HULL_FRAME_EVENT, HULL_EVENT_OOM, 0);
  hull_msgbuf_put_u64 (&mb, HULL_ATTR_OOM_KILLS, 1);
  add (&s, &mb);
  finish (&s, dir, "events");

  /* Streams 1 (we receive) and 2..4 as opened by the fuzzer. */
  start (&s);
  if (hull_proto_encode_data (&s.b, 1, "echo hi\n", 8, false, &s.err) < 0
      || hull_proto_encode_data (&s.b, 4, "tty", 3, false, &s.err) < 0
      || hull_proto_encode_credit (&s.b, 2, 4096, &s.err) < 0
      || hull_proto_encode_credit (&s.b, 3, 100, &s.err) < 0
      || hull_proto_encode_data (&s.b, 1, NULL, 0, true, &s.err) < 0)
    die (&s, "streams");
  finish (&s, dir, "streams");

  /* A config big enough to need continuation frames. */
  {
    size_t n = 70000;
    char *big = malloc (n + 1);
    if (big == NULL)
      return 1;
    memset (big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = '\0';
    start (&s);
    req_cid (&mb, HULL_FRAME_REQUEST, HULL_OP_CREATE, 40);
    hull_msgbuf_put_str (&mb, HULL_ATTR_CONFIG_JSON, big);
    add (&s, &mb);
    finish (&s, dir, "fragmented");
    free (big);
  }
  return 0;
}
