/* hull create [options] ID: the container exists, its process not started. */
#include <stdlib.h>

#include "cmd/hull/commands.h"
#include "cmd/hull/lifecycle_opts.h"
#include "runtime/supervisor_client.h"

int
hull_cmd_create (struct hull_globals *g, int argc, char **argv)
{
  struct hull_context ctx;
  struct create_opts o;
  hull_error_t err = NULL;
  bool detach = false;
  int n = create_opts_parse (argc, argv, &o, &detach, &err);

  if (n < 0)
    return cmd_fail (g, &err, 2);
  if (cmd_positional (g, "create", argc - n, 1, 1, "one container ID") < 0)
    return 2;
  o.id = argv[n];
  cmd_context (g, &ctx);
  if (container_create (&ctx, &o, &err) < 0)
    {
      hull_error_prefix (&err, "create");
      return cmd_fail (g, &err, 1);
    }
  return 0;
}
