/* hull run [options] ID: create + start; without --detach, wait for the
 * container, forward our signals to it, delete it and exit with its
 * status. */
#include "cmd/hull/commands.h"
#include "cmd/hull/lifecycle_opts.h"
#include "runtime/log.h"
#include "runtime/supervisor_client.h"

int
hull_cmd_run (struct hull_globals *g, int argc, char **argv)
{
  struct hull_context ctx;
  struct create_opts o;
  hull_error_t err = NULL;
  bool detach = false;
  int n = create_opts_parse (argc, argv, &o, &detach, &err), status;
  pid_t sup;

  if (n < 0)
    return cmd_fail (g, &err, 2);
  if (cmd_positional (g, "run", argc - n, 1, 1, "one container ID") < 0)
    return 2;
  o.id = argv[n];
  cmd_context (g, &ctx);
  sup = container_create (&ctx, &o, &err);
  if (sup < 0)
    return cmd_fail (g, &err, 1);
  if (container_start (&ctx, o.id, &err) < 0)
    {
      hull_error_t e2 = NULL;
      cmd_fail (g, &err, 1);
      if (container_delete (&ctx, o.id, true, &e2) < 0)
        cmd_fail (g, &e2, 1);
      return 1;
    }
  if (detach)
    return 0;
  status = container_wait_child (sup, &err);
  if (status < 0)
    return cmd_fail (g, &err, 1);
  if (container_delete (&ctx, o.id, true, &err) < 0)
    cmd_fail (g, &err, 1);
  return status;
}
