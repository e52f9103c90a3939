/* hull events [--stats] [--interval D] ID: JSON lines {"type","id","data"}.
 * --stats prints one stats event; otherwise one every interval until the
 * container stops. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/hull/commands.h"
#include "runtime/supervisor_client.h"

/* "5s", "500ms", "1m", "2" (seconds) -> milliseconds. */
static long
parse_interval (const char *text, hull_error_t *err)
{
  char *end = NULL;
  double v;

  errno = 0;
  v = strtod (text, &end);
  if (errno != 0 || end == text || v <= 0)
    return hull_error (err, 0, "events: --interval `%s`: expected a positive duration", text);
  if (*end == '\0' || strcmp (end, "s") == 0)
    return (long) (v * 1000);
  if (strcmp (end, "ms") == 0)
    return (long) v;
  if (strcmp (end, "m") == 0)
    return (long) (v * 60000);
  return hull_error (err, 0, "events: --interval `%s`: unknown unit (use ms, s or m)", text);
}

int
hull_cmd_events (struct hull_globals *g, int argc, char **argv)
{
  bool stats_once = false;
  const char *interval = "5s";
  const struct opt opts[] = { { "stats", 0, OPT_FLAG, &stats_once },
                              { "interval", 0, OPT_VALUE, &interval },
                              { NULL, 0, 0, NULL } };
  struct hull_context ctx;
  hull_error_t err = NULL;
  int n = opts_parse (argc, argv, opts, &err);
  long ms;

  if (n < 0)
    return cmd_fail (g, &err, 2);
  if (cmd_positional (g, "events", argc - n, 1, 1, "one container ID") < 0)
    return 2;
  ms = parse_interval (interval, &err);
  if (ms < 0)
    return cmd_fail (g, &err, 2);
  cmd_context (g, &ctx);
  for (bool first = true;; first = false)
    {
      char *data = NULL;
      struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
      if (container_stats (&ctx, argv[n], &data, &err) < 0)
        /* The stream ends quietly when the container goes away. */
        return first ? cmd_fail (g, &err, 1) : (hull_error_free (&err), 0);
      /* The id is a validated container id: no JSON escaping needed. */
      printf ("{\"type\":\"stats\",\"id\":\"%s\",\"data\":%s}\n", argv[n], data);
      fflush (stdout);
      free (data);
      if (stats_once)
        return 0;
      nanosleep (&ts, NULL);
    }
}
