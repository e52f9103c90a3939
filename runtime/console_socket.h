/* --console-socket: the caller (containerd's shim, `ctr`, a test) listens
 * on a unix socket; hull connects and sends exactly one descriptor, the
 * master side of the container's pty, with SCM_RIGHTS.
 *
 * The fd-passing helpers underneath are also used by the CLI <-> supervisor
 * protocol (runtime/supervisor_proto.c). */
#ifndef HULL_CONSOLE_SOCKET_H
#define HULL_CONSOLE_SOCKET_H

#include <stddef.h>
#include <sys/types.h>

#include "runtime/error.h"

#define UNIX_FDS_MAX 8

/* Connect to the unix socket at `path` and send `fd` (one SCM_RIGHTS
 * message whose payload is `name`, e.g. the pty's path). */
int console_socket_send_fd (const char *path, int fd, const char *name, hull_error_t *err);

/* Accept-side helper: receive one fd from a connected socket.  Returns the
 * fd (close-on-exec), or -1 with err when no fd came. */
int console_socket_recv_fd (int conn, hull_error_t *err);

/* One sendmsg carrying `len` bytes and up to UNIX_FDS_MAX fds. */
int unix_send_with_fds (int sock, const void *data, size_t len, const int *fds, size_t nfds,
                        hull_error_t *err);

/* One recvmsg into buf; received fds (close-on-exec) go to fds/nfds (at
 * most UNIX_FDS_MAX; surplus ones are closed and reported as an error).
 * Returns the byte count, 0 on EOF. */
ssize_t unix_recv_with_fds (int sock, void *buf, size_t cap, int *fds, size_t *nfds,
                            hull_error_t *err);

#endif
