/* hull: an OCI runtime that runs each container in its own KVM microVM.
 * This file only parses global options and dispatches to a subcommand. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/hull/commands.h"
#include "runtime/log.h"

struct command
{
  const char *name;
  hull_command_fn fn;
  const char *help; /* NULL: hidden */
};

static const struct command commands[] = {
  { "create", hull_cmd_create, "create a container (not started)" },
  { "start", hull_cmd_start, "start a created container" },
  { "run", hull_cmd_run, "create and start a container, wait for it unless --detach" },
  { "state", hull_cmd_state, "print the state of a container (JSON)" },
  { "kill", hull_cmd_kill, "send a signal to a container's init (or --all processes)" },
  { "delete", hull_cmd_delete, "delete a container (--force: even when running)" },
  { "exec", hull_cmd_exec, "run another process in a running container" },
  { "ps", hull_cmd_ps, "list a container's processes" },
  { "pause", hull_cmd_pause, "suspend all processes of a container" },
  { "resume", hull_cmd_resume, "resume a paused container" },
  { "update", hull_cmd_update, "update a container's resources" },
  { "events", hull_cmd_events, "print container statistics as JSON events" },
  { "features", hull_cmd_features, "print the runtime's features (JSON)" },
  { "spec", hull_cmd_spec, "write a default config.json" },
  { "list", hull_cmd_list, "list containers" },
  { "version", hull_cmd_version, "print the version" },
  { "boot", hull_cmd_boot, "boot a kernel in a microVM (VMM debug entry point)" },
  { "supervise", hull_cmd_supervise, NULL },
};

static void
usage (FILE *out)
{
  fprintf (out, "usage: hull [global options] COMMAND [options] ...\n\n"
                "global options:\n"
                "  --root DIR            state directory (default /run/hull)\n"
                "  --log FILE            log file\n"
                "  --log-format FORMAT   text or json\n"
                "  --debug               debug logging\n"
                "  --systemd-cgroup      cgroupsPath is slice:prefix:name (systemd)\n"
                "  --version             print the version\n\ncommands:\n");
  for (size_t i = 0; i < sizeof (commands) / sizeof (commands[0]); i++)
    if (commands[i].help != NULL)
      fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].help);
}

/* -1: not a global option; 0: consumed (i advanced past any value);
 * 1: --help/--version handled; 2: error reported. */
static int
global_option (struct hull_globals *g, int argc, char **argv, int *i, hull_error_t *err)
{
  const char *a = argv[*i], *name = a + (a[1] == '-' ? 2 : 1), *eq = strchr (name, '=');
  size_t len = eq ? (size_t) (eq - name) : strlen (name);
  const char *value = eq ? eq + 1 : NULL;
  static const char *const valued[] = { "root", "log", "log-format", "criu", "rootless" };
  bool takes_value = false;

#define IS(s) (len == strlen (s) && strncmp (name, s, len) == 0)
  if (IS ("help") || IS ("h"))
    return usage (stdout), 1;
  if (IS ("version") || IS ("v"))
    return hull_print_version (), 1;
  if (IS ("debug"))
    return g->debug = true, 0;
  if (IS ("systemd-cgroup"))
    return g->systemd_cgroup = true, 0;
  for (size_t k = 0; k < sizeof (valued) / sizeof (valued[0]); k++)
    takes_value |= IS (valued[k]);
  if (! takes_value)
    return hull_error (err, 0, "unknown global option `%s`", a), 2;
  /* --rootless may come as a bare flag or as --rootless=true|false|auto. */
  if (IS ("rootless") && value == NULL)
    return 0;
  if (value == NULL)
    {
      if (*i + 1 >= argc)
        return hull_error (err, 0, "global option `%s` needs a value", a), 2;
      value = argv[++*i];
    }
  if (IS ("root"))
    g->root = value;
  else if (IS ("log"))
    g->log_path = value;
  else if (IS ("log-format") && log_parse_format (value, &g->log_json, err) < 0)
    return 2;
  /* --criu and --rootless: accepted for runc compatibility, unused. */
  return 0;
#undef IS
}

static int
dispatch (struct hull_globals *g, int argc, char **argv)
{
  for (size_t c = 0; c < sizeof (commands) / sizeof (commands[0]); c++)
    if (strcmp (commands[c].name, argv[0]) == 0)
      return commands[c].fn (g, argc, argv);
  fprintf (stderr, "hull: unknown command '%s'\n", argv[0]);
  usage (stderr);
  return 2;
}

int
main (int argc, char **argv)
{
  struct hull_globals g = { .root = "/run/hull", .argv0 = argv[0] };
  struct hull_log log = { .fd = -1, .to_stderr = true };
  hull_error_t err = NULL;
  char cwd[4096], *abs_root = NULL;
  int i, r;

  /* A reader that goes away (a closed pipe) is an error we report, not a
   * reason to die silently. */
  signal (SIGPIPE, SIG_IGN);
  g.log = &log;
  for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++)
    {
      r = global_option (&g, argc, argv, &i, &err);
      if (r == 1)
        return 0;
      if (r == 2)
        {
          log_report_error (&log, &err);
          hull_error_free (&err);
          return 2;
        }
    }
  if (i >= argc)
    {
      usage (stderr);
      return 2;
    }
  /* The supervisor and its socket outlive this process's cwd. */
  if (g.root[0] != '/' && asprintf (&abs_root, "%s/%s", getcwd (cwd, sizeof (cwd)) ? cwd : ".",
                                    g.root) >= 0)
    g.root = abs_root;
  if (log_open (&log, g.log_path, g.log_json, g.debug, &err) < 0)
    {
      log_report_error (&log, &err);
      hull_error_free (&err);
      return 1;
    }
  r = dispatch (&g, argc - i, argv + i);
  log_close (&log);
  free (abs_root);
  return r;
}
