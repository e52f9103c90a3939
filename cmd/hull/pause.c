/* hull pause ID / hull resume ID */
#include "cmd/hull/commands.h"
#include "runtime/supervisor_client.h"

static int
pause_or_resume (struct hull_globals *g, int argc, char **argv, bool pause)
{
  static const struct opt opts[] = { { NULL, 0, 0, NULL } };
  struct hull_context ctx;
  hull_error_t err = NULL;
  int n = opts_parse (argc, argv, opts, &err);

  if (n < 0)
    return cmd_fail (g, &err, 2);
  if (cmd_positional (g, argv[0], argc - n, 1, 1, "one container ID") < 0)
    return 2;
  cmd_context (g, &ctx);
  if (container_simple_op (&ctx, argv[n], pause ? "pause" : "resume",
                           pause ? OP_PAUSE : OP_RESUME, &err)
      < 0)
    return cmd_fail (g, &err, 1);
  return 0;
}

int
hull_cmd_pause (struct hull_globals *g, int argc, char **argv)
{
  return pause_or_resume (g, argc, argv, true);
}

int
hull_cmd_resume (struct hull_globals *g, int argc, char **argv)
{
  return pause_or_resume (g, argc, argv, false);
}
