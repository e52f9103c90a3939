/* Option parsing shared by the subcommands (see commands.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/hull/commands.h"
#include "runtime/log.h"
#include "runtime/supervisor_client.h"

static const struct opt *
find_opt (const struct opt *opts, const char *name, size_t len, char short_name)
{
  for (const struct opt *o = opts; o->name != NULL; o++)
    {
      if (short_name != 0 && o->short_name == short_name)
        return o;
      if (short_name == 0 && strlen (o->name) == len && strncmp (o->name, name, len) == 0)
        return o;
    }
  return NULL;
}

static int
list_append (char ***list, const char *value, hull_error_t *err)
{
  size_t n = 0;
  char **v;

  while (*list != NULL && (*list)[n] != NULL)
    n++;
  v = realloc (*list, (n + 2) * sizeof (char *));
  if (v == NULL)
    return hull_error (err, ENOMEM, "options");
  v[n] = (char *) value;
  v[n + 1] = NULL;
  *list = v;
  return 0;
}

/* Apply option o; *i advances past a separate value argument. */
static int
apply (const struct opt *o, const char *inline_value, int argc, char **argv, int *i,
       hull_error_t *err)
{
  const char *value = inline_value;

  if (o->kind == OPT_FLAG || o->kind == OPT_IGNORE)
    {
      if (inline_value != NULL && o->kind == OPT_FLAG)
        {
          if (strcmp (inline_value, "true") != 0 && strcmp (inline_value, "false") != 0)
            return hull_error (err, 0, "option --%s takes no value (or true/false)", o->name);
          *(bool *) o->dst = strcmp (inline_value, "true") == 0;
          return 0;
        }
      if (o->kind == OPT_FLAG)
        *(bool *) o->dst = true;
      return 0;
    }
  if (value == NULL)
    {
      if (*i + 1 >= argc)
        return hull_error (err, 0, "option --%s needs a value", o->name);
      value = argv[++*i];
    }
  if (o->kind == OPT_VALUE)
    *(const char **) o->dst = value;
  else if (list_append ((char ***) o->dst, value, err) < 0)
    return -1;
  return 0;
}

int
opts_parse (int argc, char **argv, const struct opt *opts, hull_error_t *err)
{
  int i;

  for (i = 1; i < argc; i++)
    {
      const char *a = argv[i], *name, *eq;
      const struct opt *o;
      if (strcmp (a, "--") == 0)
        return i + 1;
      if (a[0] != '-' || a[1] == '\0')
        return i;
      name = a + (a[1] == '-' ? 2 : 1);
      eq = strchr (name, '=');
      o = find_opt (opts, name, eq ? (size_t) (eq - name) : strlen (name), 0);
      /* -x: a short flag when no long option is spelled that way. */
      if (o == NULL && a[1] != '-' && strlen (name) == 1)
        o = find_opt (opts, NULL, 0, name[0]);
      if (o == NULL)
        return hull_error (err, 0, "%s: unknown option `%s`", argv[0], a);
      if (apply (o, eq ? eq + 1 : NULL, argc, argv, &i, err) < 0)
        return hull_error_prefix (err, "%s", argv[0]);
    }
  return i;
}

int
cmd_fail (struct hull_globals *g, hull_error_t *err, int status)
{
  log_report_error (g->log, err);
  hull_error_free (err);
  return status;
}

int
cmd_positional (struct hull_globals *g, const char *cmd, int n, int min, int max,
                const char *usage)
{
  hull_error_t err = NULL;

  if (n >= min && (max < 0 || n <= max))
    return 0;
  hull_error (&err, 0, "%s: expected %s", cmd, usage);
  cmd_fail (g, &err, 2);
  return -1;
}

void
cmd_context (struct hull_globals *g, struct hull_context *ctx)
{
  *ctx = (struct hull_context){ .root = g->root, .log = g->log, .log_path = g->log_path,
                                .log_json = g->log_json, .debug = g->debug,
                                .systemd_cgroup = g->systemd_cgroup };
}
