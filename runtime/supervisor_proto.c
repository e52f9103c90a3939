#include "runtime/supervisor_proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/console_socket.h"
#include "runtime/json.h"
#include "runtime/unix_socket.h"

yajl_gen
proto_begin (void)
{
  yajl_gen g = yajl_gen_alloc (NULL);

  if (g != NULL)
    yajl_gen_map_open (g);
  return g;
}

yajl_gen
proto_begin_op (const char *op)
{
  yajl_gen g = proto_begin ();

  proto_put_str (g, "op", op);
  return g;
}

static void
put_key (yajl_gen g, const char *key)
{
  yajl_gen_string (g, (const unsigned char *) key, strlen (key));
}

void
proto_put_str (yajl_gen g, const char *key, const char *value)
{
  if (g == NULL || value == NULL)
    return;
  put_key (g, key);
  yajl_gen_string (g, (const unsigned char *) value, strlen (value));
}

void
proto_put_int (yajl_gen g, const char *key, long long value)
{
  if (g == NULL)
    return;
  put_key (g, key);
  yajl_gen_integer (g, value);
}

void
proto_put_bool (yajl_gen g, const char *key, bool value)
{
  if (g == NULL)
    return;
  put_key (g, key);
  yajl_gen_bool (g, value);
}

void
proto_put_strv (yajl_gen g, const char *key, char *const *v)
{
  if (g == NULL)
    return;
  put_key (g, key);
  yajl_gen_array_open (g);
  for (; v != NULL && *v != NULL; v++)
    yajl_gen_string (g, (const unsigned char *) *v, strlen (*v));
  yajl_gen_array_close (g);
}

int
proto_send (int sock, yajl_gen g, const int *fds, size_t nfds, hull_error_t *err)
{
  const unsigned char *buf;
  size_t len;
  int r;

  if (g == NULL)
    return hull_error (err, ENOMEM, "build message");
  yajl_gen_map_close (g);
  if (yajl_gen_get_buf (g, &buf, &len) != yajl_gen_status_ok)
    {
      yajl_gen_free (g);
      return hull_error (err, 0, "build message: JSON generator error");
    }
  r = unix_send_with_fds (sock, buf, len, fds, nfds, err);
  yajl_gen_free (g);
  return r;
}

int
proto_send_error (int sock, const hull_error_t *e)
{
  yajl_gen g = proto_begin ();
  cleanup_error hull_error_t err = NULL;
  const char *msg = hull_error_msg (e);

  proto_put_bool (g, "ok", false);
  proto_put_str (g, "error", msg[0] ? msg : "unknown error");
  return proto_send (sock, g, NULL, 0, &err);
}

int
proto_send_ok (int sock)
{
  yajl_gen g = proto_begin ();
  cleanup_error hull_error_t err = NULL;

  proto_put_bool (g, "ok", true);
  return proto_send (sock, g, NULL, 0, &err);
}

int
proto_recv (int sock, yajl_val *msg, int *fds, size_t *nfds, hull_error_t *err)
{
  cleanup_free char *buf = NULL;
  ssize_t size, n;

  /* SEQPACKET: MSG_TRUNC with a zero-length peek reports the full size. */
  do
    size = recv (sock, NULL, 0, MSG_PEEK | MSG_TRUNC);
  while (size < 0 && errno == EINTR);
  if (size < 0)
    return hull_error (err, errno, "receive message");
  if ((size_t) size > PROTO_MAX_MSG)
    return hull_error (err, EMSGSIZE, "receive message of %zd bytes", size);
  buf = malloc ((size_t) size + 1);
  if (buf == NULL)
    return hull_error (err, ENOMEM, "receive message");
  n = unix_recv_with_fds (sock, buf, (size_t) size + 1, fds, nfds, err);
  if (n < 0)
    return -1;
  if (n == 0)
    return 0;
  if (json_parse (buf, (size_t) n, msg, err) < 0)
    {
      for (size_t i = 0; nfds != NULL && i < *nfds; i++)
        close (fds[i]);
      return hull_error_prefix (err, "malformed message");
    }
  return 1;
}

int
proto_listen (const char *path, hull_error_t *err)
{
  return unix_socket_listen (path, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
                             64, err);
}

int
proto_connect (const char *path, hull_error_t *err)
{
  int fd = unix_socket_connect (path, SOCK_SEQPACKET | SOCK_CLOEXEC, err);

  if (fd < 0)
    return hull_error_prefix (err, "supervisor");
  return fd;
}

int
proto_call (const char *sock_path, yajl_gen req, const int *fds, size_t nfds, yajl_val *reply,
            int *rfds, size_t *rnfds, int *conn, hull_error_t *err)
{
  cleanup_close int fd = proto_connect (sock_path, err);
  yajl_val msg = NULL;
  int r;

  if (fd < 0)
    {
      yajl_gen_free (req);
      return -1;
    }
  if (proto_send (fd, req, fds, nfds, err) < 0)
    return -1;
  r = proto_recv (fd, &msg, rfds, rnfds, err);
  if (r < 0)
    return -1;
  if (r == 0)
    return hull_error (err, 0, "the supervisor closed the connection without replying");
  if (! proto_get_bool (msg, "ok"))
    {
      const char *e = proto_get_str (msg, "error");
      hull_error (err, 0, "%s", e ? e : "request failed");
      yajl_tree_free (msg);
      for (size_t i = 0; rnfds != NULL && i < *rnfds; i++)
        close (rfds[i]);
      return -1;
    }
  if (reply != NULL)
    *reply = msg;
  else
    yajl_tree_free (msg);
  if (conn != NULL)
    *conn = hull_steal_fd (&fd);
  return 0;
}

yajl_val
proto_get (yajl_val msg, const char *key)
{
  const char *path[] = { key, NULL };
  return msg ? yajl_tree_get (msg, path, yajl_t_any) : NULL;
}

const char *
proto_get_str (yajl_val msg, const char *key)
{
  yajl_val v = proto_get (msg, key);
  return v && YAJL_IS_STRING (v) ? v->u.string : NULL;
}

bool
proto_get_int (yajl_val msg, const char *key, long long *out)
{
  yajl_val v = proto_get (msg, key);
  if (v == NULL || ! YAJL_IS_INTEGER (v))
    return false;
  *out = YAJL_GET_INTEGER (v);
  return true;
}

bool
proto_get_bool (yajl_val msg, const char *key)
{
  yajl_val v = proto_get (msg, key);
  return v != NULL && YAJL_IS_TRUE (v);
}
