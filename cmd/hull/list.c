/* hull list [--format table|json] [-q]: the containers under --root. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/hull/commands.h"
#include "runtime/json.h"
#include "runtime/supervisor_client.h"

static void
print_row (const struct container *c, bool quiet)
{
  if (quiet)
    printf ("%s\n", c->id);
  else
    printf ("%-20s %-8d %-10s %-40s %-32s %s\n", c->id,
            c->status == STATUS_STOPPED ? 0 : (int) c->rec.supervisor_pid,
            container_status_name (c->status), c->rec.bundle ? c->rec.bundle : "",
            c->rec.created ? c->rec.created : "", "root");
}

int
hull_cmd_list (struct hull_globals *g, int argc, char **argv)
{
  const char *format = "table";
  bool quiet = false;
  const struct opt opts[] = { { "format", 'f', OPT_VALUE, &format },
                              { "quiet", 'q', OPT_FLAG, &quiet },
                              { NULL, 0, 0, NULL } };
  struct hull_context ctx;
  hull_error_t err = NULL;
  char **ids = NULL;
  int n = opts_parse (argc, argv, opts, &err);
  bool json, first = true;

  if (n < 0)
    return cmd_fail (g, &err, 2);
  if (cmd_positional (g, "list", argc - n, 0, 0, "no arguments") < 0)
    return 2;
  json = strcmp (format, "json") == 0;
  if (! json && strcmp (format, "table") != 0)
    {
      hull_error (&err, 0, "list: --format `%s`: use table or json", format);
      return cmd_fail (g, &err, 2);
    }
  cmd_context (g, &ctx);
  if (container_list_ids (&ctx, &ids, &err) < 0)
    return cmd_fail (g, &err, 1);
  if (json)
    printf ("[");
  else if (! quiet)
    printf ("%-20s %-8s %-10s %-40s %-32s %s\n", "ID", "PID", "STATUS", "BUNDLE", "CREATED",
            "OWNER");
  for (char **id = ids; *id != NULL; id++)
    {
      struct container c;
      if (container_peek (&ctx, *id, &c, &err) < 0)
        {
          hull_error_free (&err);
          continue;
        }
      if (json)
        {
          char *s = state_to_json (&c.rec, c.status, c.rec.supervisor_pid, false);
          printf ("%s%s", first ? "" : ",", s ? s : "{}");
          free (s);
        }
      else
        print_row (&c, quiet);
      first = false;
      container_close (&c);
    }
  if (json)
    printf ("]\n");
  json_strv_free (ids);
  return 0;
}
