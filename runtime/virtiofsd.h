/* One Debian virtiofsd (the C one shipped with QEMU) per shared directory:
 * started by the supervisor before the VM, serving one vhost-user session on
 * a socket in the container's state directory, and always killed, reaped
 * and its socket removed when hull is done with it.  The child also gets
 * PR_SET_PDEATHSIG so it dies with the thread that started it. */
#ifndef HULL_RUNTIME_VIRTIOFSD_H
#define HULL_RUNTIME_VIRTIOFSD_H

#include <stdbool.h>
#include <sys/types.h>

#include "runtime/error.h"

#define VIRTIOFSD_DEFAULT_PATH "/usr/lib/qemu/virtiofsd"
#define VIRTIOFSD_DEFAULT_TIMEOUT_MS 5000
#define VIRTIOFSD_STOP_GRACE_MS 2000

struct virtiofsd_config
{
  const char *binary;      /* NULL: VIRTIOFSD_DEFAULT_PATH */
  const char *source;      /* directory to share; required */
  const char *socket_path; /* vhost-user socket to create; required */
  const char *cache;       /* auto | always | none; NULL: auto */
  const char *sandbox;     /* chroot | namespace; NULL: namespace, i.e.
                              virtiofsd's own sandbox: new pid, mount and
                              net namespaces, pivot_root into source; it
                              also always drops to a few capabilities and
                              installs its own seccomp filter (the C
                              virtiofsd has no switch to turn it off).
                              chroot is for hosts without namespaces. */
  bool xattr;              /* default off (no_xattr) */
  bool no_submounts;       /* do not pass announce_submounts (which gives
                              each host mount below source its own st_dev
                              and mount in the guest; on by default) */
  bool readonly;           /* enforced on the host: virtiofsd runs in its own
                              mount namespace where source (and every mount
                              below it) is a read-only bind mount; this
                              virtiofsd has no read-only option itself */
  const char *log_path;    /* its stderr (appended); NULL: kept in memory,
                              only used to explain a failure */
  int timeout_ms;          /* wait for the socket; 0: default */
};

struct virtiofsd
{
  pid_t pid;          /* 0 when not running */
  char *socket_path;
  int log_fd;         /* its stderr, read back to explain failures */
  int exit_status;    /* wait status once reaped, -1 before */
};

/* Validates cfg (source must be a directory, binary executable, socket path
 * may be longer than sun_path but must not be anything but a stale
 * socket), starts
 * virtiofsd and waits until its socket exists.  On failure nothing is left:
 * no process, no socket; the error names the offending path and carries the
 * tail of virtiofsd's own message. */
int virtiofsd_start (struct virtiofsd *d, const struct virtiofsd_config *cfg,
                     hull_error_t *err);

/* SIGTERM, then SIGKILL after VIRTIOFSD_STOP_GRACE_MS; reaps it, removes the
 * socket, closes everything.  Idempotent; safe on a zeroed struct whose
 * log_fd is -1 (see virtiofsd_init). */
void virtiofsd_stop (struct virtiofsd *d);

void virtiofsd_init (struct virtiofsd *d);

/* Reaps it if it exited; true while the process is alive. */
bool virtiofsd_running (struct virtiofsd *d);

/* "<state_dir>/virtiofs-<index>.sock"; longer than sun_path is fine (it is
 * bound through runtime/unix_socket.h), only PATH_MAX is refused. */
int virtiofsd_socket_path (char **out, const char *state_dir, unsigned index,
                           hull_error_t *err);

#endif
