/* Each hull subcommand lives in its own file under cmd/hull/ and is a thin
 * layer over runtime/ and vmm/ (the library).  main.c parses the global
 * options and dispatches here. */
#ifndef HULL_COMMANDS_H
#define HULL_COMMANDS_H

#include <stdbool.h>

struct hull_globals
{
  const char *root;       /* --root, default /run/hull */
  const char *log_path;   /* --log */
  bool log_json;          /* --log-format json */
  bool debug;             /* --debug */
  bool systemd_cgroup;    /* --systemd-cgroup */
  const char *argv0;      /* path hull was started as (for re-exec) */
};

/* argv[0] is the subcommand name; returns the process exit status. */
typedef int (*hull_command_fn) (struct hull_globals *g, int argc, char **argv);

int hull_cmd_boot (struct hull_globals *g, int argc, char **argv);

#endif
