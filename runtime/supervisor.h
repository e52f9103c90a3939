/* The per-container supervisor: `hull create` forks it (hull re-executed
 * with the hidden `supervise` command).  It owns the sandbox through a
 * backend (runtime/sandbox.h), serves the CLI over $root/<id>/sock
 * (runtime/supervisor_proto.h) and exits with the container's exit
 * status.  See runtime/README.md. */
#ifndef HULL_SUPERVISOR_H
#define HULL_SUPERVISOR_H

#include <stdbool.h>

#include "runtime/log.h"
#include "runtime/sandbox.h"

struct supervisor_args
{
  const char *root;
  const char *id;
  const char *bundle;          /* absolute */
  const char *console_socket;  /* NULL: none */
  int preserve_fds;
  int ready_fd;                /* '0' on success, '1' + message on failure */
  bool systemd_cgroup;
  struct hull_log *log;
  const struct sandbox_ops *ops;
};

/* Runs the supervisor; returns the process exit status (the container's,
 * or 1 when creation failed). */
int supervisor_main (const struct supervisor_args *a);

#endif
