/* hull ps [--format table|json] ID [PS-ARGS...]: json is the array of
 * pids; table runs ps(1) (default -ef) and keeps the container's rows. */
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/hull/commands.h"
#include "runtime/supervisor_client.h"

static bool
has_pid (const pid_t *pids, size_t n, long pid)
{
  for (size_t i = 0; i < n; i++)
    if (pids[i] == pid)
      return true;
  return false;
}

/* Column index of "PID" in a ps header line, or -1. */
static int
pid_column (const char *header)
{
  char *copy = strdup (header), *save = NULL, *tok;
  int col = 0, found = -1;

  for (tok = strtok_r (copy, " \t\n", &save); tok != NULL && copy != NULL;
       tok = strtok_r (NULL, " \t\n", &save), col++)
    if (strcmp (tok, "PID") == 0)
      {
        found = col;
        break;
      }
  free (copy);
  return found;
}

static long
field_at (const char *line, int col)
{
  char *copy = strdup (line), *save = NULL, *tok;
  long v = -1;

  tok = copy ? strtok_r (copy, " \t\n", &save) : NULL;
  for (int i = 0; tok != NULL && i < col; i++)
    tok = strtok_r (NULL, " \t\n", &save);
  if (tok != NULL)
    v = strtol (tok, NULL, 10);
  free (copy);
  return v;
}

/* ps(1) with the caller's arguments (no shell), stdout as a FILE. */
static FILE *
ps_spawn (char **ps_args, pid_t *child)
{
  char *def[] = { "ps", "-ef", NULL };
  int fds[2];
  size_t n = 0;
  char **argv;

  for (size_t i = 0; ps_args[i] != NULL; i++)
    n++;
  argv = calloc (n + 2, sizeof (char *));
  if (argv == NULL || pipe (fds) < 0)
    {
      free (argv);
      return NULL;
    }
  argv[0] = "ps";
  n = 0;
  /* containerd's Top passes its options as one argument, maybe empty. */
  for (size_t i = 0; ps_args[i] != NULL; i++)
    if (ps_args[i][0] != '\0')
      argv[1 + n++] = ps_args[i];
  *child = fork ();
  if (*child == 0)
    {
      dup2 (fds[1], 1);
      close (fds[0]);
      close (fds[1]);
      execvp ("ps", n > 0 ? argv : def);
      _exit (127);
    }
  free (argv);
  close (fds[1]);
  if (*child < 0)
    {
      close (fds[0]);
      return NULL;
    }
  return fdopen (fds[0], "r");
}

static int
ps_table (char **ps_args, const pid_t *pids, size_t n, hull_error_t *err)
{
  char *line = NULL;
  size_t cap = 0;
  int col = -1, status = 0;
  pid_t child = -1;
  FILE *p = ps_spawn (ps_args, &child);

  if (p == NULL)
    return hull_error (err, errno, "ps: cannot run ps(1)");
  while (getline (&line, &cap, p) > 0)
    {
      if (col < 0)
        {
          col = pid_column (line);
          fputs (line, stdout);
          if (col < 0)
            break;
          continue;
        }
      if (has_pid (pids, n, field_at (line, col)))
        fputs (line, stdout);
    }
  free (line);
  fclose (p);
  waitpid (child, &status, 0);
  if (status != 0 || col < 0)
    return hull_error (err, 0, "ps: ps(1) failed or printed no PID column");
  return 0;
}

int
hull_cmd_ps (struct hull_globals *g, int argc, char **argv)
{
  const char *format = "table";
  const struct opt opts[] = { { "format", 'f', OPT_VALUE, &format }, { NULL, 0, 0, NULL } };
  struct hull_context ctx;
  hull_error_t err = NULL;
  pid_t *pids = NULL;
  size_t np = 0;
  int n = opts_parse (argc, argv, opts, &err), r = 0;

  if (n < 0)
    return cmd_fail (g, &err, 2);
  if (cmd_positional (g, "ps", argc - n, 1, -1, "ID [PS-ARGS...]") < 0)
    return 2;
  if (strcmp (format, "table") != 0 && strcmp (format, "json") != 0)
    {
      hull_error (&err, 0, "ps: --format `%s`: use table or json", format);
      return cmd_fail (g, &err, 2);
    }
  cmd_context (g, &ctx);
  if (container_ps (&ctx, argv[n], &pids, &np, &err) < 0)
    return cmd_fail (g, &err, 1);
  if (strcmp (format, "json") == 0)
    {
      printf ("[");
      for (size_t i = 0; i < np; i++)
        printf ("%s%d", i ? "," : "", (int) pids[i]);
      printf ("]\n");
    }
  else
    r = ps_table (argv + n + 1, pids, np, &err);
  free (pids);
  return r < 0 ? cmd_fail (g, &err, 1) : 0;
}
