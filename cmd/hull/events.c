/* hull events [--stats] [--interval D] ID: JSON lines {"type","id","data"}.
 * --stats prints one stats event; otherwise a stats event every interval
 * and an {"type":"oom","id":ID} event (as runc prints it) whenever the
 * container has processes OOM-killed, until the container stops.  OOM
 * events come from the supervisor over a connection that stays open
 * ({"op":"events"}, runtime/README.md), so one that kills the container
 * is still printed before the stream ends. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/hull/commands.h"
#include "runtime/cleanup.h"
#include "runtime/supervisor_client.h"
#include "runtime/supervisor_proto.h"

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

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The id is a validated container id: no JSON escaping needed. */
static int
print_stats (struct hull_context *ctx, const char *id, hull_error_t *err)
{
  char *data = NULL;

  if (container_stats (ctx, id, &data, err) < 0)
    return -1;
  printf ("{\"type\":\"stats\",\"id\":\"%s\",\"data\":%s}\n", id, data);
  fflush (stdout);
  free (data);
  return 0;
}

/* Wait up to ms for supervisor events; 1 when the connection ended. */
static int
wait_events (int conn, const char *id, long ms)
{
  int64_t deadline = now_ms () + ms;

  for (;;)
    {
      int64_t left = deadline - now_ms ();
      struct pollfd p = { .fd = conn, .events = POLLIN };
      cleanup_error hull_error_t err = NULL;
      yajl_val msg = NULL;
      int fds[4];
      size_t nfds = 0;

      if (left <= 0)
        return 0;
      if (poll (&p, 1, (int) left) < 0)
        {
          if (errno == EINTR)
            continue;
          return 1;
        }
      if (p.revents == 0)
        return 0;
      if (proto_recv (conn, &msg, fds, &nfds, &err) <= 0)
        return 1;
      for (size_t i = 0; i < nfds; i++)
        close (fds[i]);
      if (proto_get_str (msg, "event") != NULL && strcmp (proto_get_str (msg, "event"), "oom") == 0)
        {
          printf ("{\"type\":\"oom\",\"id\":\"%s\"}\n", id);
          fflush (stdout);
        }
      yajl_tree_free (msg);
    }
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
  cleanup_free char *sock = NULL;
  cleanup_close int conn = -1;
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
  /* The first stats call checks the container exists and runs. */
  if (print_stats (&ctx, argv[n], &err) < 0)
    return cmd_fail (g, &err, 1);
  if (stats_once)
    return 0;
  sock = state_file_path (ctx.root, argv[n], "sock");
  if (sock == NULL)
    hull_error (&err, ENOMEM, "events: socket path");
  if (sock == NULL
      || proto_call (sock, proto_begin_op ("events"), NULL, 0, NULL, NULL, NULL, &conn, &err) < 0)
    return cmd_fail (g, &err, 1);
  /* The stream ends quietly when the container goes away. */
  while (wait_events (conn, argv[n], ms) == 0)
    if (print_stats (&ctx, argv[n], &err) < 0)
      {
        hull_error_free (&err);
        return 0;
      }
  return 0;
}
