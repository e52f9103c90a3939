/* hull update --resources FILE|- ID: FILE holds a linux.resources object
 * ("-": stdin), as containerd sends it. */
#include <stdlib.h>
#include <string.h>

#include "cmd/hull/commands.h"
#include "runtime/json.h"
#include "runtime/supervisor_client.h"

int
hull_cmd_update (struct hull_globals *g, int argc, char **argv)
{
  const char *resources = NULL;
  const struct opt opts[] = { { "resources", 'r', OPT_VALUE, &resources },
                              { NULL, 0, 0, NULL } };
  struct hull_context ctx;
  hull_error_t err = NULL;
  char *text = NULL;
  size_t len;
  int n = opts_parse (argc, argv, opts, &err), r;

  if (n < 0)
    return cmd_fail (g, &err, 2);
  if (cmd_positional (g, "update", argc - n, 1, 1, "--resources FILE|- ID") < 0)
    return 2;
  if (resources == NULL)
    {
      hull_error (&err, 0, "update: --resources FILE|- is required (per-resource flags are "
                           "not supported)");
      return cmd_fail (g, &err, 2);
    }
  if (json_read_file (strcmp (resources, "-") == 0 ? "/dev/stdin" : resources, &text, &len,
                      &err)
      < 0)
    return cmd_fail (g, &err, 1);
  cmd_context (g, &ctx);
  r = container_update (&ctx, argv[n], text, &err);
  free (text);
  return r < 0 ? cmd_fail (g, &err, 1) : 0;
}
