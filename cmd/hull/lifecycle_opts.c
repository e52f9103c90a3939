#include "cmd/hull/lifecycle_opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/hull/commands.h"

int
create_opts_parse (int argc, char **argv, struct create_opts *o, bool *detach,
                   hull_error_t *err)
{
  const char *preserve = NULL;
  struct opt opts[] = {
    { "bundle", 'b', OPT_VALUE, &o->bundle },
    { "pid-file", 0, OPT_VALUE, &o->pid_file },
    { "console-socket", 0, OPT_VALUE, &o->console_socket },
    { "preserve-fds", 0, OPT_VALUE, &preserve },
    { "no-pivot", 0, OPT_FLAG, &o->no_pivot },
    { "no-new-keyring", 0, OPT_FLAG, &o->no_new_keyring },
    { "detach", 'd', OPT_FLAG, detach },
    { "no-subreaper", 0, OPT_IGNORE, NULL },
    { NULL, 0, 0, NULL },
  };
  int n;

  memset (o, 0, sizeof (*o));
  n = opts_parse (argc, argv, opts, err);
  if (n < 0)
    return -1;
  if (preserve != NULL)
    {
      char *end = NULL;
      long v;
      errno = 0;
      v = strtol (preserve, &end, 10);
      if (errno != 0 || *end != '\0' || end == preserve || v < 0 || v > 1024)
        return hull_error (err, 0, "%s: --preserve-fds `%s`: expected 0..1024", argv[0],
                           preserve);
      o->preserve_fds = (int) v;
    }
  return n;
}
