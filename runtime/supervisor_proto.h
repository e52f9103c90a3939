/* The CLI <-> supervisor protocol (documented in runtime/README.md).
 *
 * Transport: a SOCK_SEQPACKET unix socket at $root/<id>/sock, so message
 * boundaries survive and fds ride on the message they belong to
 * (SCM_RIGHTS).  Each message is one JSON object.  A request carries "op";
 * its reply carries "ok" (true, or false with "error").  An exec
 * connection stays open after its reply: the supervisor later sends
 * {"event":"exit","status":N}, the relay may send "signal"/"resize". */
#ifndef HULL_SUPERVISOR_PROTO_H
#define HULL_SUPERVISOR_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "runtime/error.h"

#define PROTO_MAX_MSG (1u << 20)

/* Building a message: begin, put fields, send (which frees the builder). */
yajl_gen proto_begin (void);
/* proto_begin with "op" set. */
yajl_gen proto_begin_op (const char *op);
void proto_put_str (yajl_gen g, const char *key, const char *value);
void proto_put_int (yajl_gen g, const char *key, long long value);
void proto_put_bool (yajl_gen g, const char *key, bool value);
void proto_put_strv (yajl_gen g, const char *key, char *const *v);
int proto_send (int sock, yajl_gen g, const int *fds, size_t nfds, hull_error_t *err);
int proto_send_error (int sock, const hull_error_t *e);
int proto_send_ok (int sock);

/* 1 with *msg (free with yajl_tree_free) and fds, 0 on EOF, -1 on error. */
int proto_recv (int sock, yajl_val *msg, int *fds, size_t *nfds, hull_error_t *err);

int proto_listen (const char *path, hull_error_t *err);
int proto_connect (const char *path, hull_error_t *err);

/* Connect, send, and read the reply; a reply with "ok":false becomes an
 * error carrying the supervisor's message.  With keep_fd the connection
 * stays open and is returned in *conn (exec). */
int proto_call (const char *sock_path, yajl_gen req, const int *fds, size_t nfds, yajl_val *reply,
                int *rfds, size_t *rnfds, int *conn, hull_error_t *err);

/* Field access; NULL / false when absent or of another type. */
const char *proto_get_str (yajl_val msg, const char *key);
bool proto_get_int (yajl_val msg, const char *key, long long *out);
bool proto_get_bool (yajl_val msg, const char *key);
yajl_val proto_get (yajl_val msg, const char *key);

#endif
