/* Each hull subcommand lives in its own file under cmd/hull/ and is a thin
 * layer over runtime/ and vmm/ (the library).  main.c parses the global
 * options and dispatches here. */
#ifndef HULL_COMMANDS_H
#define HULL_COMMANDS_H

#include <stdbool.h>

#include "runtime/error.h"

struct hull_log;

struct hull_globals
{
  const char *root;       /* --root, default /run/hull */
  const char *log_path;   /* --log */
  bool log_json;          /* --log-format json */
  bool debug;             /* --debug */
  bool systemd_cgroup;    /* --systemd-cgroup (recorded for cgroup support) */
  const char *argv0;      /* path hull was started as (for re-exec) */
  struct hull_log *log;   /* opened by main from --log/--log-format */
};

/* argv[0] is the subcommand name; returns the process exit status. */
typedef int (*hull_command_fn) (struct hull_globals *g, int argc, char **argv);

int hull_cmd_boot (struct hull_globals *g, int argc, char **argv);
int hull_cmd_create (struct hull_globals *g, int argc, char **argv);
int hull_cmd_start (struct hull_globals *g, int argc, char **argv);
int hull_cmd_run (struct hull_globals *g, int argc, char **argv);
int hull_cmd_state (struct hull_globals *g, int argc, char **argv);
int hull_cmd_kill (struct hull_globals *g, int argc, char **argv);
int hull_cmd_delete (struct hull_globals *g, int argc, char **argv);
int hull_cmd_exec (struct hull_globals *g, int argc, char **argv);
int hull_cmd_ps (struct hull_globals *g, int argc, char **argv);
int hull_cmd_pause (struct hull_globals *g, int argc, char **argv);
int hull_cmd_resume (struct hull_globals *g, int argc, char **argv);
int hull_cmd_update (struct hull_globals *g, int argc, char **argv);
int hull_cmd_events (struct hull_globals *g, int argc, char **argv);
int hull_cmd_features (struct hull_globals *g, int argc, char **argv);
int hull_cmd_spec (struct hull_globals *g, int argc, char **argv);
int hull_cmd_list (struct hull_globals *g, int argc, char **argv);
int hull_cmd_version (struct hull_globals *g, int argc, char **argv);
int hull_cmd_supervise (struct hull_globals *g, int argc, char **argv);

/* `hull --version` / `hull version` text (3 lines, runc's format). */
void hull_print_version (void);

/* ---- option parsing shared by the commands (cmd/hull/options.c) ---------
 * Accepts --name value, --name=value, runc's single-dash -name forms and
 * -x short flags.  Parsing stops at the first positional argument or
 * "--", so `exec ID CMD -x` leaves -x to CMD. */
enum opt_kind
{
  OPT_FLAG,  /* bool */
  OPT_VALUE, /* const char * */
  OPT_LIST,  /* char ** (NULL-terminated, appended to, caller frees) */
  OPT_IGNORE /* accepted for compatibility, no effect, no value */
};

struct opt
{
  const char *name;
  char short_name;
  enum opt_kind kind;
  void *dst;
};

/* Returns the index of the first positional argument in argv (argv[0] is
 * the command name), or -1 with err. */
int opts_parse (int argc, char **argv, const struct opt *opts, hull_error_t *err);

/* Report err on stderr and in the log; returns `status`. */
int cmd_fail (struct hull_globals *g, hull_error_t *err, int status);

/* Checks there are between min and max positional args; reports usage. */
int cmd_positional (struct hull_globals *g, const char *cmd, int n, int min, int max,
                    const char *usage);

/* The library context for g. */
struct hull_context;
void cmd_context (struct hull_globals *g, struct hull_context *ctx);

#endif
