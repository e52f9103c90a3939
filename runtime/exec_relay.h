/* `hull exec`: the exec relay is the host process that stands for a
 * process exec'd in the container.  It lives exactly as long as that
 * process, forwards every signal it receives to it, hands it our stdio (or
 * a pty) and exits with its status; if the relay is SIGKILLed, the
 * supervisor sees its connection drop and kills the process. */
#ifndef HULL_EXEC_RELAY_H
#define HULL_EXEC_RELAY_H

#include <stdbool.h>
#include <sys/types.h>

#include "runtime/supervisor_client.h"

struct exec_opts
{
  const char *id;
  const char *process_path; /* --process F; else args */
  char **args;              /* NULL-terminated */
  const char *cwd;
  char **env;               /* --env, NULL-terminated (may be NULL) */
  bool has_user;
  unsigned uid, gid;
  bool tty;
  bool detach;
  const char *pid_file;
  const char *console_socket;
};

/* Parse --user "uid[:gid]". */
int exec_parse_user (const char *text, unsigned *uid, unsigned *gid, hull_error_t *err);

/* Runs the exec.  With detach: returns 0 once the process started (the
 * relay is a forked child).  Without: returns the process's exit status.
 * -1 with err when it could not start. */
int exec_relay_run (const struct hull_context *ctx, const struct exec_opts *o, hull_error_t *err);

#endif
