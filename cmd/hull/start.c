/* hull start ID: run the created container's process. */
#include "cmd/hull/commands.h"
#include "runtime/supervisor_client.h"

int
hull_cmd_start (struct hull_globals *g, int argc, char **argv)
{
  static const struct opt opts[] = { { NULL, 0, 0, NULL } };
  struct hull_context ctx;
  hull_error_t err = NULL;
  int n = opts_parse (argc, argv, opts, &err);

  if (n < 0)
    return cmd_fail (g, &err, 2);
  if (cmd_positional (g, "start", argc - n, 1, 1, "one container ID") < 0)
    return 2;
  cmd_context (g, &ctx);
  if (container_start (&ctx, argv[n], &err) < 0)
    return cmd_fail (g, &err, 1);
  return 0;
}
