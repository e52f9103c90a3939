/* The microVM backend's host-side pieces that need no VM: an exec'd
 * process serialised for the agent parses back to the same process, and
 * host stdio handles are private non-blocking opens that leave the
 * caller's open file as it was. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/sandbox_vm.h"

static const char full_process[]
    = "{\"terminal\":true,\"consoleSize\":{\"height\":24,\"width\":80},"
      "\"user\":{\"uid\":1000,\"gid\":100,\"umask\":18,\"additionalGids\":[5,6]},"
      "\"args\":[\"sh\",\"-c\",\"echo \\\"hi\\\"\"],\"env\":[\"A=1\",\"PATH=/bin\"],"
      "\"cwd\":\"/tmp\",\"capabilities\":{\"bounding\":[\"CAP_KILL\"],\"effective\":[]},"
      "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":10,\"hard\":20}],"
      "\"noNewPrivileges\":true,\"oomScoreAdj\":-5,"
      "\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\",\"priority\":3}}";

static struct oci_process *
parse (const char *json)
{
  cleanup_error hull_error_t err = NULL;
  struct oci_process *p = NULL;

  cr_assert_eq (oci_process_parse_data (json, strlen (json), &p, &err), 0, "%s",
                hull_error_msg (&err));
  return p;
}

Test (sandbox_vm, process_json_roundtrip)
{
  cleanup_error hull_error_t err = NULL;
  cleanup_free char *json = NULL;
  struct oci_process *a = parse (full_process), *b;

  cr_assert_eq (vm_process_json (a, &json, &err), 0, "%s", hull_error_msg (&err));
  b = parse (json);
  cr_assert (b->terminal && b->has_console_size);
  cr_assert_eq (b->console_height, 24);
  cr_assert_eq (b->console_width, 80);
  cr_assert_eq (b->user.uid, 1000);
  cr_assert_eq (b->user.gid, 100);
  cr_assert (b->user.has_umask && b->user.umask == 18);
  cr_assert_eq (b->user.n_additional_gids, 2);
  cr_assert_eq (b->user.additional_gids[1], 6);
  cr_assert_eq (b->args.n, 3);
  cr_assert_str_eq (b->args.v[2], "echo \"hi\"");
  cr_assert_eq (b->env.n, 2);
  cr_assert_str_eq (b->env.v[1], "PATH=/bin");
  cr_assert_str_eq (b->cwd, "/tmp");
  cr_assert_not_null (b->capabilities);
  cr_assert (b->capabilities->bounding.present);
  cr_assert_eq (b->capabilities->bounding.mask, a->capabilities->bounding.mask);
  cr_assert (b->capabilities->effective.present);
  cr_assert_eq (b->capabilities->effective.mask, 0);
  cr_assert (!b->capabilities->permitted.present);
  cr_assert_eq (b->n_rlimits, 1);
  cr_assert_eq (b->rlimits[0].soft, 10);
  cr_assert_eq (b->rlimits[0].hard, 20);
  cr_assert (b->no_new_privileges);
  cr_assert (b->has_oom_score_adj && b->oom_score_adj == -5);
  cr_assert_not_null (b->io_priority);
  cr_assert_eq (b->io_priority->class_, a->io_priority->class_);
  cr_assert_eq (b->io_priority->priority, 3);
  oci_process_free (a);
  oci_process_free (b);
}

Test (sandbox_vm, process_json_refuses_scheduler)
{
  cleanup_error hull_error_t err = NULL;
  char *json = NULL;
  struct oci_process *p
      = parse ("{\"args\":[\"true\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0},"
               "\"scheduler\":{\"policy\":\"SCHED_BATCH\"}}");

  cr_assert_lt (vm_process_json (p, &json, &err), 0);
  cr_assert_null (json);
  cr_assert_not_null (strstr (hull_error_msg (&err), "process.scheduler"));
  oci_process_free (p);
}

Test (sandbox_vm, relay_reopens_pipe_nonblocking_alone)
{
  cleanup_error hull_error_t err = NULL;
  struct vm_relay r = { 0 };
  int p[2];
  char c;

  cr_assert_eq (pipe (p), 0);
  cr_assert_eq (vm_relay_open (&r, p[0], true, &err), 0, "%s", hull_error_msg (&err));
  cr_assert (!r.sock);
  cr_assert (fcntl (r.fd, F_GETFL) & O_NONBLOCK);
  /* The caller's open file is untouched. */
  cr_assert_eq (fcntl (p[0], F_GETFL) & O_NONBLOCK, 0);
  cr_assert_eq (read (r.fd, &c, 1), -1);
  cr_assert_eq (errno, EAGAIN);
  cr_assert_eq (write (p[1], "x", 1), 1);
  cr_assert_eq (read (r.fd, &c, 1), 1);
  cr_assert_eq (c, 'x');
  close (r.fd);
  close (p[0]);
  close (p[1]);
}

Test (sandbox_vm, relay_socket_is_dup)
{
  cleanup_error hull_error_t err = NULL;
  struct vm_relay r = { 0 };
  int sp[2];

  cr_assert_eq (socketpair (AF_UNIX, SOCK_STREAM, 0, sp), 0);
  cr_assert_eq (vm_relay_open (&r, sp[1], false, &err), 0, "%s", hull_error_msg (&err));
  cr_assert (r.sock);
  cr_assert_eq (fcntl (sp[1], F_GETFL) & O_NONBLOCK, 0);
  close (r.fd);
  close (sp[0]);
  close (sp[1]);
}

Test (sandbox_vm, relay_bad_fd_names_it)
{
  cleanup_error hull_error_t err = NULL;
  struct vm_relay r = { 0 };

  cr_assert_lt (vm_relay_open (&r, 999, false, &err), 0);
  cr_assert_not_null (strstr (hull_error_msg (&err), "stdio fd 999"));
  cr_assert_eq (r.fd, -1);
}
