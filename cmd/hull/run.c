/* hull run [options] ID: create + start; without --detach, wait for the
 * container, forward our signals to it, delete it and exit with its
 * status.  With process.terminal and no --console-socket, our own
 * terminal is connected to the container's pty. */
#include <stdlib.h>
#include <unistd.h>

#include "cmd/hull/commands.h"
#include "cmd/hull/lifecycle_opts.h"
#include "runtime/cleanup.h"
#include "runtime/log.h"
#include "runtime/oci_config.h"
#include "runtime/supervisor_client.h"

/* process.terminal of the bundle's config (false when unreadable: create
 * reports that properly). */
static bool
wants_terminal (const char *bundle)
{
  cleanup_free char *path = NULL;
  struct oci_config *cfg = NULL;
  hull_error_t err = NULL;
  bool t;

  if (asprintf (&path, "%s/config.json", bundle ? bundle : ".") < 0
      || oci_config_parse_file (path, &cfg, &err) < 0)
    {
      hull_error_free (&err);
      return false;
    }
  t = cfg->process != NULL && cfg->process->terminal;
  oci_config_free (cfg);
  return t;
}

static int
run_attached (struct hull_globals *g, struct hull_context *ctx, const char *id, pid_t sup,
              int console_fd)
{
  hull_error_t err = NULL;
  int status = console_fd >= 0 ? run_console_wait (console_fd, sup, &err)
                               : container_wait_child (sup, &err);

  if (status < 0)
    return cmd_fail (g, &err, 1);
  if (container_delete (ctx, id, true, &err) < 0)
    cmd_fail (g, &err, 1);
  return status;
}

int
hull_cmd_run (struct hull_globals *g, int argc, char **argv)
{
  struct hull_context ctx;
  struct create_opts o;
  hull_error_t err = NULL;
  bool detach = false;
  int n = create_opts_parse (argc, argv, &o, &detach, &err), status;
  cleanup_close int console_fd = -1;
  char *console_path = NULL;
  pid_t sup;

  if (n < 0)
    return cmd_fail (g, &err, 2);
  if (cmd_positional (g, "run", argc - n, 1, 1, "one container ID") < 0)
    return 2;
  o.id = argv[n];
  cmd_context (g, &ctx);
  if (! detach && o.console_socket == NULL && wants_terminal (o.bundle))
    {
      console_fd = run_console_listen (&console_path, &err);
      if (console_fd < 0)
        return cmd_fail (g, &err, 1);
      o.console_socket = console_path;
    }
  sup = container_create (&ctx, &o, &err);
  if (sup < 0 || container_start (&ctx, o.id, &err) < 0)
    {
      hull_error_t e2 = NULL;
      hull_error_prefix (&err, "run");
      cmd_fail (g, &err, 1);
      if (sup > 0 && container_delete (&ctx, o.id, true, &e2) < 0)
        cmd_fail (g, &e2, 1);
      run_console_unlink (console_path);
      return 1;
    }
  status = detach ? 0 : run_attached (g, &ctx, o.id, sup, console_fd);
  run_console_unlink (console_path);
  return status;
}
