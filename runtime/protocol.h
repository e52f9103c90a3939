/* The host <-> guest protocol spoken between the supervisor (host) and
 * hull-agent (guest PID 1) over the "hull.agent" virtio-console port.
 * runtime/protocol.md is the written specification; this header is its
 * C form.  Layers, bottom up:
 *   - frames: a 12-byte header plus at most HULL_PROTO_MAX_PAYLOAD bytes;
 *   - messages: a request/response/event payload is a list of TLV
 *     attributes, split into several frames (HULL_FLAG_MORE) when large;
 *   - streams: DATA frames carry a process's stdio, each stream with
 *     credit-based flow control (struct hull_flow_*);
 *   - the connection (struct hull_conn): handshake, send queue, decoder
 *     and stream table over one fd, blocking or nonblocking. */
#ifndef HULL_PROTOCOL_H
#define HULL_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/error.h"

#define HULL_PROTO_MAGIC "HULLAGNT" /* 8 bytes, first bytes of HELLO */
#define HULL_PROTO_MAGIC_LEN 8
#define HULL_PROTO_VERSION_MIN 1
#define HULL_PROTO_VERSION_MAX 1

#define HULL_PROTO_HEADER_SIZE 12
#define HULL_PROTO_MAX_FRAME 65536
#define HULL_PROTO_MAX_PAYLOAD (HULL_PROTO_MAX_FRAME - HULL_PROTO_HEADER_SIZE)
/* A reassembled request/response/event never exceeds this (a config.json
 * with a large seccomp profile is the biggest thing we send). */
#define HULL_PROTO_MAX_MESSAGE (4u * 1024 * 1024)
#define HULL_PROTO_MAX_ATTRS 64
#define HULL_PROTO_MAX_STREAMS 1024
/* Per-stream receive window a side grants unless it chooses another one
 * in its HELLO; HULL_PROTO_MAX_WINDOW bounds what a peer may announce. */
#define HULL_PROTO_DEFAULT_WINDOW (256u * 1024)
#define HULL_PROTO_MIN_WINDOW 4096u
#define HULL_PROTO_MAX_WINDOW (16u * 1024 * 1024)

enum hull_frame_type
{
  HULL_FRAME_HELLO = 1,
  HULL_FRAME_REQUEST = 2,
  HULL_FRAME_RESPONSE = 3,
  HULL_FRAME_EVENT = 4,
  HULL_FRAME_DATA = 5,
  HULL_FRAME_CREDIT = 6,
};

enum hull_frame_flags
{
  HULL_FLAG_MORE = 1u << 0,  /* REQUEST/RESPONSE/EVENT: continues in next frame */
  HULL_FLAG_FIN = 1u << 1,   /* DATA: last frame of the stream */
  HULL_FLAG_ERROR = 1u << 2, /* RESPONSE: the request failed */
};
#define HULL_FLAGS_KNOWN (HULL_FLAG_MORE | HULL_FLAG_FIN | HULL_FLAG_ERROR)

enum hull_op
{
  HULL_OP_PING = 1,
  HULL_OP_CREATE = 2,
  HULL_OP_START = 3,
  HULL_OP_EXEC = 4,
  HULL_OP_SIGNAL = 5,
  HULL_OP_WAIT = 6,
  HULL_OP_RESIZE = 7,
  HULL_OP_STATS = 8,
  HULL_OP_SHUTDOWN = 9,
  HULL_OP_PAUSE = 10,
  HULL_OP_RESUME = 11,
  HULL_OP_UPDATE = 12,
  HULL_OP_PS = 13,
  HULL_OP_DELETE = 14, /* pods: forget a container that is not the VM's first */
  HULL_OP__MAX = 14,
};

enum hull_event
{
  HULL_EVENT_EXIT = 1,
  HULL_EVENT_OOM = 2,
  HULL_EVENT__MAX = 2,
};

enum hull_attr
{
  HULL_ATTR_CONTAINER_ID = 1,   /* str */
  HULL_ATTR_EXEC_ID = 2,        /* str */
  HULL_ATTR_CONFIG_JSON = 3,    /* json: the bundle's config.json text */
  HULL_ATTR_PROCESS_JSON = 4,   /* json: an OCI "process" object */
  HULL_ATTR_PID = 5,            /* u32, guest pid */
  HULL_ATTR_SIGNAL = 6,         /* u32 */
  HULL_ATTR_ALL = 7,            /* u32, 0 or 1 */
  HULL_ATTR_STREAM_STDIN = 8,   /* u32 stream id, host -> guest */
  HULL_ATTR_STREAM_STDOUT = 9,  /* u32 stream id, guest -> host */
  HULL_ATTR_STREAM_STDERR = 10, /* u32 stream id, guest -> host */
  HULL_ATTR_TERMINAL = 11,      /* u32, 0 or 1 */
  HULL_ATTR_ROWS = 12,          /* u32 */
  HULL_ATTR_COLS = 13,          /* u32 */
  HULL_ATTR_WAIT_STATUS = 14,   /* u32, Linux waitpid() status word */
  HULL_ATTR_ERRNO = 15,         /* u32 */
  HULL_ATTR_MESSAGE = 16,       /* str */
  HULL_ATTR_RESOURCES_JSON = 17, /* json: an OCI linux.resources object */
  HULL_ATTR_NONCE = 18,         /* bytes */
  HULL_ATTR_ROOTFS = 19,        /* str, guest path of the container rootfs */
  HULL_ATTR_PIDS = 20,          /* bytes: packed u32 LE pids */
  HULL_ATTR_NETWORK_JSON = 21,  /* json: the guest NICs to configure (runtime/netns.h) */
  HULL_ATTR_POD_JSON = 22,      /* json: pod layout of a container (runtime/pod.h) */
  HULL_ATTR_MEM_USAGE = 32,     /* u64 bytes, cgroup memory.current */
  HULL_ATTR_MEM_LIMIT = 33,     /* u64 bytes, cgroup memory.max */
  HULL_ATTR_MEM_SWAP_USAGE = 34, /* u64 bytes */
  HULL_ATTR_CPU_USAGE_USEC = 35, /* u64, cpu.stat usage_usec */
  HULL_ATTR_CPU_USER_USEC = 36, /* u64 */
  HULL_ATTR_CPU_SYSTEM_USEC = 37, /* u64 */
  HULL_ATTR_PIDS_CURRENT = 38,  /* u64 */
  HULL_ATTR_PIDS_LIMIT = 39,    /* u64, 0 = max */
  HULL_ATTR_MEMINFO_TOTAL = 40, /* u64 bytes, /proc/meminfo MemTotal */
  HULL_ATTR_MEMINFO_FREE = 41,  /* u64 bytes */
  HULL_ATTR_MEMINFO_AVAILABLE = 42, /* u64 bytes */
  HULL_ATTR_OOM_KILLS = 43,     /* u64, memory.events oom_kill */
  HULL_ATTR__MAX = 43,
};

enum hull_attr_kind
{
  HULL_KIND_NONE = 0,
  HULL_KIND_U32,
  HULL_KIND_U64,
  HULL_KIND_STR,   /* NUL-terminated on the wire, no interior NUL, UTF-8 not checked */
  HULL_KIND_JSON,  /* STR whose text must be one JSON object */
  HULL_KIND_BYTES,
};

/* ---- growable byte buffer, capped ---- */
struct hull_buf
{
  uint8_t *data;
  size_t len;
  size_t cap;
  size_t off; /* bytes already consumed from the front (send queue) */
  size_t limit; /* hard cap on len; 0 = HULL_PROTO_MAX_MESSAGE */
};

void hull_buf_free (struct hull_buf *b);
int hull_buf_append (struct hull_buf *b, const void *data, size_t len,
                     hull_error_t *err);
/* Bytes not yet consumed. */
static inline size_t
hull_buf_pending (const struct hull_buf *b)
{
  return b->len - b->off;
}
void hull_buf_consume (struct hull_buf *b, size_t n);

/* ---- a decoded message (a view into decoder memory) ---- */
struct hull_attr_view
{
  uint16_t tag;
  uint32_t len;
  const uint8_t *value;
};

struct hull_msg
{
  uint8_t type;  /* enum hull_frame_type */
  uint8_t flags; /* MORE is never set on a delivered message */
  uint16_t op;   /* enum hull_op / hull_event; 0 for DATA/CREDIT/HELLO */
  uint32_t id;   /* request id, or stream id for DATA/CREDIT */
  const uint8_t *payload;
  size_t len;
  /* Filled for REQUEST/RESPONSE/EVENT. */
  unsigned n_attrs;
  struct hull_attr_view attrs[HULL_PROTO_MAX_ATTRS];
  /* Filled for CREDIT. */
  uint32_t credit;
  /* Filled for HELLO. */
  uint16_t version_min, version_max;
  uint32_t window;
};

/* Accessors: return 0 and fill *out when the attribute is present, 1 when
 * it is absent.  The decoder has already checked presence of required
 * attributes and the kind of every attribute, so no error path here. */
int hull_msg_get_u32 (const struct hull_msg *m, uint16_t tag, uint32_t *out);
int hull_msg_get_u64 (const struct hull_msg *m, uint16_t tag, uint64_t *out);
/* NULL when absent. */
const char *hull_msg_get_str (const struct hull_msg *m, uint16_t tag);
const uint8_t *hull_msg_get_bytes (const struct hull_msg *m, uint16_t tag,
                                   size_t *len);

/* ---- message builder ---- */
struct hull_msgbuf
{
  uint8_t type;
  uint8_t flags;
  uint16_t op;
  uint32_t id;
  struct hull_buf payload;
  bool overflow; /* sticky: some put exceeded HULL_PROTO_MAX_MESSAGE */
};

void hull_msgbuf_init (struct hull_msgbuf *mb, uint8_t type, uint16_t op,
                       uint32_t id);
void hull_msgbuf_free (struct hull_msgbuf *mb);
/* Puts never fail on their own: an oversize message is reported once,
 * when it is encoded. */
void hull_msgbuf_put_u32 (struct hull_msgbuf *mb, uint16_t tag, uint32_t v);
void hull_msgbuf_put_u64 (struct hull_msgbuf *mb, uint16_t tag, uint64_t v);
void hull_msgbuf_put_str (struct hull_msgbuf *mb, uint16_t tag, const char *s);
void hull_msgbuf_put_bytes (struct hull_msgbuf *mb, uint16_t tag,
                            const void *data, size_t len);
/* An error RESPONSE to request `id` of operation `op`. */
void hull_msgbuf_init_error (struct hull_msgbuf *mb, uint16_t op, uint32_t id,
                             int errno_, const char *message);

/* ---- encoder: append whole frames to a buffer ---- */
void hull_frame_header_write (uint8_t out[HULL_PROTO_HEADER_SIZE], uint8_t type,
                              uint8_t flags, uint16_t op, uint32_t id,
                              uint32_t len);
int hull_proto_encode_hello (struct hull_buf *out, uint32_t window,
                             hull_error_t *err);
/* Splits the payload into frames of at most HULL_PROTO_MAX_PAYLOAD.  The
 * message is validated against the schema first, so a sender cannot put a
 * frame on the wire that the peer would reject. */
int hull_proto_encode_msg (struct hull_buf *out, const struct hull_msgbuf *mb,
                           hull_error_t *err);
int hull_proto_encode_data (struct hull_buf *out, uint32_t stream,
                            const void *data, size_t len, bool fin,
                            hull_error_t *err);
int hull_proto_encode_credit (struct hull_buf *out, uint32_t stream,
                              uint32_t increment, hull_error_t *err);

/* ---- incremental decoder ---- */
struct hull_decoder
{
  uint8_t hdr[HULL_PROTO_HEADER_SIZE];
  size_t hdr_len;        /* header bytes collected for the current frame */
  bool in_payload;       /* header complete, collecting payload */
  uint8_t type, flags;
  uint16_t op;
  uint32_t id;
  size_t frame_left;     /* payload bytes of the current frame still to come */
  bool in_message;       /* a MORE frame was seen; reassembling */
  uint8_t msg_type;
  uint16_t msg_op;
  uint32_t msg_id;
  struct hull_buf buf;   /* payload of the message being assembled */
  bool failed;           /* sticky: a stream with a protocol error is dead */
};

void hull_decoder_init (struct hull_decoder *d);
void hull_decoder_free (struct hull_decoder *d);
/* Consume bytes from data[0..len).  Returns 1 when a whole message is in
 * *msg (which stays valid until the next call), 0 when all input was used
 * and more is needed, -1 on a protocol error (and every later call fails).
 * *used is the number of input bytes consumed in every case. */
int hull_decoder_feed (struct hull_decoder *d, const void *data, size_t len,
                       size_t *used, struct hull_msg *msg, hull_error_t *err);

/* Checks a REQUEST/RESPONSE/EVENT payload: TLV syntax, every tag known
 * for this op, kinds and lengths, required attributes present, no
 * duplicates, JSON attributes are JSON objects.  Fills msg->attrs. */
int hull_msg_parse_attrs (struct hull_msg *msg, hull_error_t *err);

/* Names for logs and error messages ("?" when unknown). */
const char *hull_op_name (uint16_t op);
const char *hull_event_name (uint16_t ev);
const char *hull_frame_type_name (uint8_t type);

/* ---- credit-based flow control, one per stream direction ---- */
/* The sender side: never put more DATA bytes on the wire than `credit`. */
struct hull_flow_send
{
  uint32_t credit;
};
/* The receiver side: `outstanding` is what the peer may still send,
 * `buffered` what it sent that we have not consumed yet, `unacked` what we
 * consumed but not granted back.  outstanding + buffered + unacked ==
 * window at all times. */
struct hull_flow_recv
{
  uint32_t window;
  uint32_t outstanding;
  uint32_t buffered;
  uint32_t unacked;
};

void hull_flow_send_init (struct hull_flow_send *f, uint32_t window);
static inline uint32_t
hull_flow_send_avail (const struct hull_flow_send *f)
{
  return f->credit;
}
/* n must be <= hull_flow_send_avail(); returns -1 (bug) otherwise. */
int hull_flow_send_consume (struct hull_flow_send *f, uint32_t n,
                            hull_error_t *err);
/* A CREDIT frame arrived; a grant that pushes credit past
 * HULL_PROTO_MAX_WINDOW is a protocol violation. */
int hull_flow_send_grant (struct hull_flow_send *f, uint32_t increment,
                          hull_error_t *err);

void hull_flow_recv_init (struct hull_flow_recv *f, uint32_t window);
/* DATA of n bytes arrived: more than outstanding is a protocol violation. */
int hull_flow_recv_data (struct hull_flow_recv *f, uint32_t n,
                         hull_error_t *err);
/* The application drained n buffered bytes.  Returns the credit to grant
 * now (0 while below the batching threshold of window/4). */
uint32_t hull_flow_recv_consumed (struct hull_flow_recv *f, uint32_t n);

/* ---- the connection: one per agent port, host or guest side ---- */
enum hull_stream_dir
{
  HULL_STREAM_SEND = 1u << 0, /* we write DATA on it */
  HULL_STREAM_RECV = 1u << 1, /* the peer writes DATA on it */
};

struct hull_stream
{
  uint32_t id;
  unsigned dirs;
  bool fin_sent, fin_recv;
  struct hull_flow_send tx;
  struct hull_flow_recv rx;
};

/* Data frames are accepted into the send queue only while it holds less
 * than this, so a fast producer waits for the fd instead of growing the
 * queue; control messages may go up to HULL_CONN_QUEUE_MAX. */
#define HULL_CONN_QUEUE_SOFT (1024u * 1024)
#define HULL_CONN_QUEUE_MAX (2 * HULL_PROTO_MAX_MESSAGE + HULL_CONN_QUEUE_SOFT)
#define HULL_CONN_READ_SIZE 16384

struct hull_conn
{
  int fd;                 /* not owned */
  uint32_t local_window;  /* what we grant per stream we receive */
  uint32_t peer_window;   /* what the peer grants, from its HELLO */
  uint16_t version;       /* negotiated; 0 until the peer's HELLO */
  bool eof;               /* the peer closed its end */
  bool failed;            /* sticky protocol or I/O error */
  uint32_t next_id;
  struct hull_decoder dec;
  struct hull_buf out;
  uint8_t in[HULL_CONN_READ_SIZE];
  size_t in_off, in_len;
  struct hull_stream *streams;
  size_t n_streams, cap_streams;
};

/* Queues our HELLO granting `window` bytes per received stream (0 picks
 * HULL_PROTO_DEFAULT_WINDOW).  The fd may be blocking or nonblocking;
 * with a blocking fd hull_conn_next/flush simply never return 0. */
int hull_conn_init (struct hull_conn *c, int fd, uint32_t window,
                    hull_error_t *err);
void hull_conn_free (struct hull_conn *c);
/* The peer's HELLO has arrived and the version is agreed. */
static inline bool
hull_conn_ready (const struct hull_conn *c)
{
  return c->version != 0;
}
/* A fresh nonzero request id. */
uint32_t hull_conn_next_id (struct hull_conn *c);

/* Write queued frames: 1 when the queue is empty, 0 when the fd would
 * block (poll for POLLOUT), -1 on error. */
int hull_conn_flush (struct hull_conn *c, hull_error_t *err);
static inline bool
hull_conn_want_write (const struct hull_conn *c)
{
  return hull_buf_pending (&c->out) > 0;
}
/* The next message for the application: 1 with *msg filled (valid until
 * the next call), 0 when the fd would block, -1 on error.  A closed peer
 * is an error with hull_conn_eof() true.  HELLO is consumed here; CREDIT
 * is applied to the stream and still returned so a paused producer can
 * resume; DATA is checked against the stream's window; DATA for a stream
 * we already closed is dropped. */
int hull_conn_next (struct hull_conn *c, struct hull_msg *msg,
                    hull_error_t *err);
static inline bool
hull_conn_eof (const struct hull_conn *c)
{
  return c->eof;
}

int hull_conn_send_msg (struct hull_conn *c, const struct hull_msgbuf *mb,
                        hull_error_t *err);

int hull_conn_stream_open (struct hull_conn *c, uint32_t id, unsigned dirs,
                           hull_error_t *err);
void hull_conn_stream_close (struct hull_conn *c, uint32_t id);
struct hull_stream *hull_conn_stream (struct hull_conn *c, uint32_t id);
/* How many bytes hull_conn_send_data would take now. */
size_t hull_conn_send_space (struct hull_conn *c, uint32_t id);
/* Queue up to len bytes on a stream; returns how many were taken (0 when
 * out of credit or the queue is full: wait for CREDIT or POLLOUT), -1 on
 * error.  Never blocks. */
long hull_conn_send_data (struct hull_conn *c, uint32_t id, const void *data,
                          size_t len, hull_error_t *err);
/* End the stream (e.g. the process's stdin was closed). */
int hull_conn_send_fin (struct hull_conn *c, uint32_t id, hull_error_t *err);
/* The application has drained n received bytes of the stream; queues a
 * CREDIT frame when enough has accumulated. */
int hull_conn_consumed (struct hull_conn *c, uint32_t id, size_t n,
                        hull_error_t *err);

#endif
