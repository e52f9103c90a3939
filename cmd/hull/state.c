/* hull state ID: the runtime-spec state of a container, as JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/hull/commands.h"
#include "runtime/supervisor_client.h"

int
hull_cmd_state (struct hull_globals *g, int argc, char **argv)
{
  static const struct opt opts[] = { { NULL, 0, 0, NULL } };
  struct hull_context ctx;
  hull_error_t err = NULL;
  char *json = NULL;
  int n = opts_parse (argc, argv, opts, &err);

  if (n < 0)
    return cmd_fail (g, &err, 2);
  if (cmd_positional (g, "state", argc - n, 1, 1, "one container ID") < 0)
    return 2;
  cmd_context (g, &ctx);
  if (container_state (&ctx, argv[n], &json, &err) < 0)
    return cmd_fail (g, &err, 1);
  printf ("%s%s", json, json[0] && json[strlen (json) - 1] == '\n' ? "" : "\n");
  free (json);
  return 0;
}
