/* Message payloads of the host <-> guest protocol: the TLV attribute
 * format, the per-operation schema, the builder and the accessors.
 * Every message is checked against the schema both when it is sent and
 * when it is received, so code above this layer can trust that required
 * attributes are present and well formed. */
#include "runtime/protocol.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#define ATTR_HDR 8 /* u16 tag, u16 reserved (0), u32 length */

static const uint8_t attr_kinds[HULL_ATTR__MAX + 1] = {
  [HULL_ATTR_CONTAINER_ID] = HULL_KIND_STR,
  [HULL_ATTR_EXEC_ID] = HULL_KIND_STR,
  [HULL_ATTR_CONFIG_JSON] = HULL_KIND_JSON,
  [HULL_ATTR_PROCESS_JSON] = HULL_KIND_JSON,
  [HULL_ATTR_PID] = HULL_KIND_U32,
  [HULL_ATTR_SIGNAL] = HULL_KIND_U32,
  [HULL_ATTR_ALL] = HULL_KIND_U32,
  [HULL_ATTR_STREAM_STDIN] = HULL_KIND_U32,
  [HULL_ATTR_STREAM_STDOUT] = HULL_KIND_U32,
  [HULL_ATTR_STREAM_STDERR] = HULL_KIND_U32,
  [HULL_ATTR_TERMINAL] = HULL_KIND_U32,
  [HULL_ATTR_ROWS] = HULL_KIND_U32,
  [HULL_ATTR_COLS] = HULL_KIND_U32,
  [HULL_ATTR_WAIT_STATUS] = HULL_KIND_U32,
  [HULL_ATTR_ERRNO] = HULL_KIND_U32,
  [HULL_ATTR_MESSAGE] = HULL_KIND_STR,
  [HULL_ATTR_RESOURCES_JSON] = HULL_KIND_JSON,
  [HULL_ATTR_NONCE] = HULL_KIND_BYTES,
  [HULL_ATTR_ROOTFS] = HULL_KIND_STR,
  [HULL_ATTR_PIDS] = HULL_KIND_BYTES,
  [HULL_ATTR_NETWORK_JSON] = HULL_KIND_JSON,
  [HULL_ATTR_POD_JSON] = HULL_KIND_JSON,
  [HULL_ATTR_MEM_USAGE] = HULL_KIND_U64,
  [HULL_ATTR_MEM_LIMIT] = HULL_KIND_U64,
  [HULL_ATTR_MEM_SWAP_USAGE] = HULL_KIND_U64,
  [HULL_ATTR_CPU_USAGE_USEC] = HULL_KIND_U64,
  [HULL_ATTR_CPU_USER_USEC] = HULL_KIND_U64,
  [HULL_ATTR_CPU_SYSTEM_USEC] = HULL_KIND_U64,
  [HULL_ATTR_PIDS_CURRENT] = HULL_KIND_U64,
  [HULL_ATTR_PIDS_LIMIT] = HULL_KIND_U64,
  [HULL_ATTR_MEMINFO_TOTAL] = HULL_KIND_U64,
  [HULL_ATTR_MEMINFO_FREE] = HULL_KIND_U64,
  [HULL_ATTR_MEMINFO_AVAILABLE] = HULL_KIND_U64,
  [HULL_ATTR_OOM_KILLS] = HULL_KIND_U64,
};

/* One allowed attribute of a message; lists end with tag 0. */
struct field
{
  uint16_t tag;
  bool required;
};

#define REQ(t) { HULL_ATTR_##t, true }
#define OPT(t) { HULL_ATTR_##t, false }
#define STREAMS OPT (STREAM_STDIN), OPT (STREAM_STDOUT), OPT (STREAM_STDERR), OPT (TERMINAL)

static const struct field f_none[] = { { 0, false } };
static const struct field f_cid[] = { REQ (CONTAINER_ID), { 0, false } };
static const struct field f_ping[] = { OPT (NONCE), { 0, false } };
static const struct field f_pid[] = { REQ (PID), { 0, false } };
static const struct field f_create[] = { REQ (CONTAINER_ID), REQ (CONFIG_JSON),
                                         OPT (ROOTFS), OPT (NETWORK_JSON), OPT (POD_JSON), STREAMS,
                                         { 0, false } };
static const struct field f_exec[] = { REQ (CONTAINER_ID), OPT (EXEC_ID),
                                       REQ (PROCESS_JSON), STREAMS, { 0, false } };
static const struct field f_signal[] = { REQ (CONTAINER_ID), OPT (PID), REQ (SIGNAL),
                                         OPT (ALL), { 0, false } };
static const struct field f_wait[] = { REQ (CONTAINER_ID), OPT (PID), { 0, false } };
static const struct field f_wait_resp[] = { REQ (PID), REQ (WAIT_STATUS), { 0, false } };
static const struct field f_resize[] = { REQ (CONTAINER_ID), OPT (PID), REQ (ROWS),
                                         REQ (COLS), { 0, false } };
static const struct field f_stats_resp[] = {
  OPT (MEM_USAGE),      OPT (MEM_LIMIT),       OPT (MEM_SWAP_USAGE),
  OPT (CPU_USAGE_USEC), OPT (CPU_USER_USEC),   OPT (CPU_SYSTEM_USEC),
  OPT (PIDS_CURRENT),   OPT (PIDS_LIMIT),      OPT (MEMINFO_TOTAL),
  OPT (MEMINFO_FREE),   OPT (MEMINFO_AVAILABLE), OPT (OOM_KILLS),
  { 0, false }
};
static const struct field f_update[] = { REQ (CONTAINER_ID), REQ (RESOURCES_JSON),
                                         { 0, false } };
static const struct field f_ps_resp[] = { REQ (PIDS), { 0, false } };
static const struct field f_error[] = { REQ (ERRNO), REQ (MESSAGE), { 0, false } };
static const struct field f_exit[] = { REQ (CONTAINER_ID), OPT (EXEC_ID), REQ (PID),
                                       REQ (WAIT_STATUS), { 0, false } };
static const struct field f_oom[] = { REQ (CONTAINER_ID), OPT (OOM_KILLS), { 0, false } };

struct op_schema
{
  const char *name;
  const struct field *request;
  const struct field *response;
};

static const struct op_schema ops[HULL_OP__MAX + 1] = {
  [HULL_OP_PING] = { "ping", f_ping, f_ping },
  [HULL_OP_CREATE] = { "create", f_create, f_pid },
  [HULL_OP_START] = { "start", f_cid, f_none },
  [HULL_OP_EXEC] = { "exec", f_exec, f_pid },
  [HULL_OP_SIGNAL] = { "signal", f_signal, f_none },
  [HULL_OP_WAIT] = { "wait", f_wait, f_wait_resp },
  [HULL_OP_RESIZE] = { "resize", f_resize, f_none },
  [HULL_OP_STATS] = { "stats", f_cid, f_stats_resp },
  [HULL_OP_SHUTDOWN] = { "shutdown", f_none, f_none },
  [HULL_OP_PAUSE] = { "pause", f_cid, f_none },
  [HULL_OP_RESUME] = { "resume", f_cid, f_none },
  [HULL_OP_UPDATE] = { "update", f_update, f_none },
  [HULL_OP_PS] = { "ps", f_cid, f_ps_resp },
  [HULL_OP_DELETE] = { "delete", f_cid, f_none },
};

static const struct
{
  const char *name;
  const struct field *fields;
} events[HULL_EVENT__MAX + 1] = {
  [HULL_EVENT_EXIT] = { "exit", f_exit },
  [HULL_EVENT_OOM] = { "oom", f_oom },
};

const char *
hull_op_name (uint16_t op)
{
  return op >= 1 && op <= HULL_OP__MAX ? ops[op].name : "?";
}

const char *
hull_event_name (uint16_t ev)
{
  return ev >= 1 && ev <= HULL_EVENT__MAX ? events[ev].name : "?";
}

static const struct field *
schema_fields (const struct hull_msg *m)
{
  switch (m->type)
    {
    case HULL_FRAME_REQUEST:
      return m->op >= 1 && m->op <= HULL_OP__MAX ? ops[m->op].request : NULL;
    case HULL_FRAME_RESPONSE:
      if (m->op < 1 || m->op > HULL_OP__MAX)
        return NULL;
      return (m->flags & HULL_FLAG_ERROR) ? f_error : ops[m->op].response;
    case HULL_FRAME_EVENT:
      return m->op >= 1 && m->op <= HULL_EVENT__MAX ? events[m->op].fields : NULL;
    default:
      return NULL;
    }
}

static const char *
msg_name (const struct hull_msg *m)
{
  return m->type == HULL_FRAME_EVENT ? hull_event_name (m->op) : hull_op_name (m->op);
}

/* Syntax check only: the guest parses the text again with the OCI model,
 * but a transport that rejects garbage early gives a better error. */
static int
check_json_object (const uint8_t *text, size_t len)
{
  yajl_handle h;
  size_t i = 0;
  int ok;

  while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t'
                     || text[i] == '\r'))
    i++;
  if (i == len || text[i] != '{')
    return -1;
  h = yajl_alloc (NULL, NULL, NULL);
  if (h == NULL)
    return -1;
  ok = yajl_parse (h, text, len) == yajl_status_ok
       && yajl_complete_parse (h) == yajl_status_ok;
  yajl_free (h);
  return ok ? 0 : -1;
}

static int
check_value (const struct hull_msg *m, uint16_t tag, const uint8_t *v,
             uint32_t len, hull_error_t *err)
{
  switch (attr_kinds[tag])
    {
    case HULL_KIND_U32:
      if (len != 4)
        return hull_error (err, EPROTO, "%s: attribute %u must be 4 bytes, got %u",
                           msg_name (m), tag, len);
      return 0;
    case HULL_KIND_U64:
      if (len != 8)
        return hull_error (err, EPROTO, "%s: attribute %u must be 8 bytes, got %u",
                           msg_name (m), tag, len);
      return 0;
    case HULL_KIND_STR:
    case HULL_KIND_JSON:
      if (len == 0 || v[len - 1] != '\0' || memchr (v, '\0', len - 1) != NULL)
        return hull_error (err, EPROTO,
                           "%s: attribute %u is not a NUL-terminated string",
                           msg_name (m), tag);
      if (attr_kinds[tag] == HULL_KIND_JSON && check_json_object (v, len - 1) < 0)
        return hull_error (err, EPROTO, "%s: attribute %u is not a JSON object",
                           msg_name (m), tag);
      return 0;
    case HULL_KIND_BYTES:
      if (tag == HULL_ATTR_PIDS && len % 4 != 0)
        return hull_error (err, EPROTO, "%s: pid list length %u not a multiple of 4",
                           msg_name (m), len);
      return 0;
    default:
      return hull_error (err, EPROTO, "%s: attribute %u has no kind", msg_name (m), tag);
    }
}

static const struct field *
field_find (const struct field *fields, uint16_t tag)
{
  for (; fields->tag != 0; fields++)
    if (fields->tag == tag)
      return fields;
  return NULL;
}

int
hull_msg_parse_attrs (struct hull_msg *m, hull_error_t *err)
{
  const struct field *fields = schema_fields (m);
  size_t pos = 0;

  m->n_attrs = 0;
  if (fields == NULL)
    return hull_error (err, EPROTO, "%s frame with unknown op %u",
                       hull_frame_type_name (m->type), m->op);
  while (pos < m->len)
    {
      const uint8_t *a = m->payload + pos;
      uint16_t tag;
      uint32_t alen;

      if (m->len - pos < ATTR_HDR)
        return hull_error (err, EPROTO, "%s: truncated attribute header at offset %zu",
                           msg_name (m), pos);
      tag = (uint16_t) (a[0] | (a[1] << 8));
      alen = (uint32_t) a[4] | ((uint32_t) a[5] << 8) | ((uint32_t) a[6] << 16)
             | ((uint32_t) a[7] << 24);
      if (a[2] != 0 || a[3] != 0)
        return hull_error (err, EPROTO, "%s: attribute %u has reserved bits set",
                           msg_name (m), tag);
      if (alen > m->len - pos - ATTR_HDR)
        return hull_error (err, EPROTO, "%s: attribute %u length %u overruns payload",
                           msg_name (m), tag, alen);
      if (tag > HULL_ATTR__MAX || field_find (fields, tag) == NULL)
        return hull_error (err, EPROTO, "%s %s: unexpected attribute %u",
                           hull_frame_type_name (m->type), msg_name (m), tag);
      for (unsigned i = 0; i < m->n_attrs; i++)
        if (m->attrs[i].tag == tag)
          return hull_error (err, EPROTO, "%s: duplicate attribute %u", msg_name (m), tag);
      if (m->n_attrs == HULL_PROTO_MAX_ATTRS)
        return hull_error (err, EPROTO, "%s: more than %d attributes", msg_name (m),
                           HULL_PROTO_MAX_ATTRS);
      if (check_value (m, tag, a + ATTR_HDR, alen, err) < 0)
        return -1;
      m->attrs[m->n_attrs++] = (struct hull_attr_view){ tag, alen, a + ATTR_HDR };
      pos += ATTR_HDR + alen;
    }
  for (; fields->tag != 0; fields++)
    if (fields->required)
      {
        unsigned i;
        for (i = 0; i < m->n_attrs && m->attrs[i].tag != fields->tag; i++)
          ;
        if (i == m->n_attrs)
          return hull_error (err, EPROTO, "%s %s: missing required attribute %u",
                             hull_frame_type_name (m->type), msg_name (m), fields->tag);
      }
  return 0;
}

/* ---- accessors ---- */

static const struct hull_attr_view *
attr_find (const struct hull_msg *m, uint16_t tag)
{
  for (unsigned i = 0; i < m->n_attrs; i++)
    if (m->attrs[i].tag == tag)
      return &m->attrs[i];
  return NULL;
}

int
hull_msg_get_u32 (const struct hull_msg *m, uint16_t tag, uint32_t *out)
{
  const struct hull_attr_view *a = attr_find (m, tag);
  if (a == NULL || a->len != 4)
    return 1;
  *out = (uint32_t) a->value[0] | ((uint32_t) a->value[1] << 8)
         | ((uint32_t) a->value[2] << 16) | ((uint32_t) a->value[3] << 24);
  return 0;
}

int
hull_msg_get_u64 (const struct hull_msg *m, uint16_t tag, uint64_t *out)
{
  const struct hull_attr_view *a = attr_find (m, tag);
  uint64_t v = 0;
  if (a == NULL || a->len != 8)
    return 1;
  for (int i = 7; i >= 0; i--)
    v = (v << 8) | a->value[i];
  *out = v;
  return 0;
}

const char *
hull_msg_get_str (const struct hull_msg *m, uint16_t tag)
{
  const struct hull_attr_view *a = attr_find (m, tag);
  if (a == NULL || a->len == 0 || a->value[a->len - 1] != '\0')
    return NULL;
  return (const char *) a->value;
}

const uint8_t *
hull_msg_get_bytes (const struct hull_msg *m, uint16_t tag, size_t *len)
{
  const struct hull_attr_view *a = attr_find (m, tag);
  if (a == NULL)
    return NULL;
  *len = a->len;
  /* A present but empty attribute must still read as present. */
  return a->len ? a->value : (const uint8_t *) "";
}

/* ---- builder ---- */

void
hull_msgbuf_init (struct hull_msgbuf *mb, uint8_t type, uint16_t op, uint32_t id)
{
  memset (mb, 0, sizeof *mb);
  mb->type = type;
  mb->op = op;
  mb->id = id;
  mb->payload.limit = HULL_PROTO_MAX_MESSAGE;
}

void
hull_msgbuf_free (struct hull_msgbuf *mb)
{
  hull_buf_free (&mb->payload);
}

static void
put_attr (struct hull_msgbuf *mb, uint16_t tag, const void *v, size_t len,
          bool nul)
{
  uint8_t hdr[ATTR_HDR];
  size_t total = len + (nul ? 1 : 0);
  size_t before = mb->payload.len;
  hull_error_t err = NULL;

  if (mb->overflow)
    return;
  if (total > UINT32_MAX)
    {
      mb->overflow = true;
      return;
    }
  hdr[0] = tag & 0xff;
  hdr[1] = tag >> 8;
  hdr[2] = hdr[3] = 0;
  for (int i = 0; i < 4; i++)
    hdr[4 + i] = (total >> (8 * i)) & 0xff;
  if (hull_buf_append (&mb->payload, hdr, sizeof hdr, &err) < 0
      || hull_buf_append (&mb->payload, v, len, &err) < 0
      || (nul && hull_buf_append (&mb->payload, "", 1, &err) < 0))
    {
      hull_error_free (&err);
      mb->payload.len = before;
      mb->overflow = true;
    }
}

void
hull_msgbuf_put_u32 (struct hull_msgbuf *mb, uint16_t tag, uint32_t v)
{
  uint8_t b[4];
  for (int i = 0; i < 4; i++)
    b[i] = (v >> (8 * i)) & 0xff;
  put_attr (mb, tag, b, sizeof b, false);
}

void
hull_msgbuf_put_u64 (struct hull_msgbuf *mb, uint16_t tag, uint64_t v)
{
  uint8_t b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (v >> (8 * i)) & 0xff;
  put_attr (mb, tag, b, sizeof b, false);
}

void
hull_msgbuf_put_str (struct hull_msgbuf *mb, uint16_t tag, const char *s)
{
  put_attr (mb, tag, s, strlen (s), true);
}

void
hull_msgbuf_put_bytes (struct hull_msgbuf *mb, uint16_t tag, const void *data,
                       size_t len)
{
  put_attr (mb, tag, data, len, false);
}

void
hull_msgbuf_init_error (struct hull_msgbuf *mb, uint16_t op, uint32_t id,
                        int errno_, const char *message)
{
  hull_msgbuf_init (mb, HULL_FRAME_RESPONSE, op, id);
  mb->flags = HULL_FLAG_ERROR;
  hull_msgbuf_put_u32 (mb, HULL_ATTR_ERRNO, (uint32_t) errno_);
  hull_msgbuf_put_str (mb, HULL_ATTR_MESSAGE, message ? message : "");
}
