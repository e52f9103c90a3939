/* hull supervise (hidden): the per-container supervisor, started by
 * create/run through /proc/self/exe.  Not for direct use. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/hull/commands.h"
#include "runtime/container_id.h"
#include "runtime/log.h"
#include "runtime/sandbox.h"
#include "runtime/state.h"
#include "runtime/supervisor.h"

#ifdef HULL_TEST_BACKEND
#define HULL_BACKEND (&sandbox_host_test_ops)
#else
#define HULL_BACKEND (&sandbox_vm_ops)
#endif

static int
parse_int (const char *text, int lo, int hi, int *out)
{
  char *end = NULL;
  long v;

  errno = 0;
  v = strtol (text ? text : "", &end, 10);
  if (text == NULL || errno != 0 || *end != '\0' || end == text || v < lo || v > hi)
    return -1;
  *out = (int) v;
  return 0;
}

/* Keep fds 3..3+n-1 (handed to the container) occupied so nothing we
 * open lands there. */
static void
reserve_preserved (int n)
{
  for (int fd = 3; fd < 3 + n; fd++)
    if (fcntl (fd, F_GETFD) < 0)
      {
        int nul = open ("/dev/null", O_RDWR);
        if (nul >= 0 && nul != fd)
          {
            dup2 (nul, fd);
            close (nul);
          }
      }
}

int
hull_cmd_supervise (struct hull_globals *g, int argc, char **argv)
{
  struct supervisor_args a = { .root = g->root, .systemd_cgroup = g->systemd_cgroup,
                               .ops = HULL_BACKEND, .ready_fd = -1 };
  const char *ready = NULL, *preserve = "0";
  const struct opt opts[] = {
    { "bundle", 0, OPT_VALUE, &a.bundle },
    { "ready-fd", 0, OPT_VALUE, &ready },
    { "preserve-fds", 0, OPT_VALUE, &preserve },
    { "console-socket", 0, OPT_VALUE, &a.console_socket },
    { NULL, 0, 0, NULL },
  };
  struct hull_log own = { .fd = -1 };
  hull_error_t err = NULL;
  int n = opts_parse (argc, argv, opts, &err), status;

  /* After the ID: "--" and the container's args, shown by ps only. */
  if (n < 0 || argc - n < 1 || (argc - n > 1 && strcmp (argv[n + 1], "--") != 0) || a.bundle == NULL || parse_int (ready, 3, 65535, &a.ready_fd) < 0
      || parse_int (preserve, 0, 1024, &a.preserve_fds) < 0)
    {
      if (err == NULL)
        hull_error (&err, 0, "supervise: internal command, started by `hull create`");
      return cmd_fail (g, &err, 2);
    }
  fcntl (a.ready_fd, F_SETFD, FD_CLOEXEC);
  reserve_preserved (a.preserve_fds);
  a.id = argv[n];
  if (container_id_validate (a.id, &err) < 0)
    return cmd_fail (g, &err, 2);
  a.log = g->log;
  /* Without --log the supervisor still keeps a log, in its state dir. */
  if (g->log_path == NULL)
    {
      char *path = state_file_path (g->root, a.id, "log");
      if (path != NULL && log_open (&own, path, g->log_json, g->debug, &err) == 0)
        a.log = &own;
      hull_error_free (&err);
      free (path);
    }
  a.log->to_stderr = false;
  status = supervisor_main (&a);
  log_close (&own);
  return status;
}
