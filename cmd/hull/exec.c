/* hull exec [options] ID [COMMAND ARGS...]: run a process in a running
 * container; see runtime/exec_relay.h for what the relay process does. */
#include <stdlib.h>

#include "cmd/hull/commands.h"
#include "runtime/exec_relay.h"

int
hull_cmd_exec (struct hull_globals *g, int argc, char **argv)
{
  struct exec_opts o = { 0 };
  const char *user = NULL;
  char **env = NULL;
  const struct opt opts[] = {
    { "process", 'p', OPT_VALUE, &o.process_path },
    { "detach", 'd', OPT_FLAG, &o.detach },
    { "pid-file", 0, OPT_VALUE, &o.pid_file },
    { "console-socket", 0, OPT_VALUE, &o.console_socket },
    { "tty", 't', OPT_FLAG, &o.tty },
    { "cwd", 0, OPT_VALUE, &o.cwd },
    { "env", 'e', OPT_LIST, &env },
    { "user", 'u', OPT_VALUE, &user },
    { NULL, 0, 0, NULL },
  };
  struct hull_context ctx;
  hull_error_t err = NULL;
  int n = opts_parse (argc, argv, opts, &err), status;

  if (n < 0)
    goto usage_error;
  if (cmd_positional (g, "exec", argc - n, 1, -1, "ID [COMMAND ARGS...]") < 0)
    {
      free (env);
      return 2;
    }
  o.id = argv[n];
  o.args = argv + n + 1;
  o.env = env;
  if (o.process_path != NULL && o.args[0] != NULL)
    {
      hull_error (&err, 0, "exec: give either --process or a command, not both");
      goto usage_error;
    }
  if (user != NULL && exec_parse_user (user, &o.uid, &o.gid, &err) < 0)
    goto usage_error;
  o.has_user = user != NULL;
  cmd_context (g, &ctx);
  status = exec_relay_run (&ctx, &o, &err);
  free (env);
  /* 255 as runc's exec: callers tell a failed exec from a process that
   * exited 1. */
  if (status < 0)
    return cmd_fail (g, &err, 255);
  return status;
usage_error:
  free (env);
  return cmd_fail (g, &err, 2);
}
