/* `hull --version` and `hull version`: runc's three-line format, which
 * containerd's go-runc parses ("X version V", "commit: C", "spec: S"). */
#include <stdio.h>

#include "cmd/hull/commands.h"
#include "runtime/state.h"

#ifndef HULL_COMMIT
#define HULL_COMMIT "unknown"
#endif
#define HULL_VERSION "0.1.0"

void
hull_print_version (void)
{
  printf ("hull version %s\ncommit: %s\nspec: %s\n", HULL_VERSION, HULL_COMMIT, HULL_OCI_VERSION);
}

int
hull_cmd_version (struct hull_globals *g, int argc, char **argv)
{
  (void) argv;
  if (cmd_positional (g, "version", argc - 1, 0, 0, "no arguments") < 0)
    return 2;
  hull_print_version ();
  return 0;
}
