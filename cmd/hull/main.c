/* hull: an OCI runtime that runs each container in its own KVM microVM.
 * This file only parses global options and dispatches to a subcommand. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/hull/commands.h"

struct command
{
  const char *name;
  hull_command_fn fn;
  const char *help;
};

static const struct command commands[] = {
  { "boot", hull_cmd_boot, "boot a kernel in a microVM (VMM debug entry point)" },
};

static void
usage (FILE *out)
{
  fprintf (out, "usage: hull [global options] COMMAND [options] ...\n\ncommands:\n");
  for (size_t i = 0; i < sizeof (commands) / sizeof (commands[0]); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].help);
}

int
main (int argc, char **argv)
{
  struct hull_globals g = { .root = "/run/hull", .argv0 = argv[0] };
  int i;

  for (i = 1; i < argc && argv[i][0] == '-'; i++)
    {
      if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0)
        {
          usage (stdout);
          return 0;
        }
      fprintf (stderr, "hull: unknown global option '%s'\n", argv[i]);
      return 2;
    }
  if (i >= argc)
    {
      usage (stderr);
      return 2;
    }
  for (size_t c = 0; c < sizeof (commands) / sizeof (commands[0]); c++)
    if (strcmp (commands[c].name, argv[i]) == 0)
      return commands[c].fn (&g, argc - i, argv + i);
  fprintf (stderr, "hull: unknown command '%s'\n", argv[i]);
  return 2;
}
