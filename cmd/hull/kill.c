/* hull kill [--all] ID [SIGNAL]: SIGNAL is a name (TERM, SIGTERM) or a
 * number; the default is TERM. */
#include <signal.h>
#include <stdlib.h>

#include "cmd/hull/commands.h"
#include "runtime/signals.h"
#include "runtime/supervisor_client.h"

int
hull_cmd_kill (struct hull_globals *g, int argc, char **argv)
{
  bool all = false;
  const struct opt opts[] = { { "all", 'a', OPT_FLAG, &all }, { NULL, 0, 0, NULL } };
  struct hull_context ctx;
  hull_error_t err = NULL;
  int n = opts_parse (argc, argv, opts, &err), sig = SIGTERM;

  if (n < 0)
    return cmd_fail (g, &err, 2);
  if (cmd_positional (g, "kill", argc - n, 1, 2, "ID [SIGNAL]") < 0)
    return 2;
  cmd_context (g, &ctx);
  if (argc - n == 2 && (sig = signal_parse (argv[n + 1], &err)) < 0)
    {
      /* Like runc, a missing container is reported before a bad signal:
       * callers match "does not exist" to treat the container as gone. */
      hull_error_t e2 = NULL;
      char *json = NULL;
      if (container_state (&ctx, argv[n], &json, &e2) < 0)
        {
          hull_error_free (&err);
          return cmd_fail (g, &e2, 1);
        }
      free (json);
      return cmd_fail (g, &err, 2);
    }
  if (container_kill (&ctx, argv[n], sig, all, &err) < 0)
    return cmd_fail (g, &err, 1);
  return 0;
}
