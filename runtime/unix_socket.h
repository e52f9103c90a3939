/* Unix socket addresses for paths longer than sun_path (107 bytes).
 * Docker and Kubernetes give hull state directories of 92-98 bytes, so
 * "<state dir>/sock" does not fit.  A too-long path is reached through an
 * O_PATH descriptor of its parent directory: "/proc/<pid>/fd/<n>/<name>"
 * is short, and bind()/connect() resolve it like any other path. */
#ifndef HULL_RUNTIME_UNIX_SOCKET_H
#define HULL_RUNTIME_UNIX_SOCKET_H

#include <sys/types.h>
#include <sys/un.h>

#include "runtime/error.h"

struct unix_addr
{
  struct sockaddr_un sa;
  int dir_fd; /* -1 when path fits sun_path as is */
};

/* Fills a->sa for path.  pid is the process whose /proc/<pid>/fd is named
 * in an alias (0: /proc/self, for bind/connect by the caller itself; the
 * caller's pid when another process, e.g. virtiofsd, binds it).  The alias
 * stays valid until unix_addr_release. */
int unix_addr_make (struct unix_addr *a, const char *path, pid_t pid,
                    hull_error_t *err);

void unix_addr_release (struct unix_addr *a);

/* socket()+bind()+listen() at path (any length); type may carry
 * SOCK_CLOEXEC/SOCK_NONBLOCK.  A stale socket at path is removed first. */
int unix_socket_listen (const char *path, int type, int backlog,
                        hull_error_t *err);

/* socket()+connect() to path (any length).  On failure errno is kept as
 * connect() left it so callers can retry on ENOENT/ECONNREFUSED. */
int unix_socket_connect (const char *path, int type, hull_error_t *err);

#endif
