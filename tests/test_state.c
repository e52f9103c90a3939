/* The container record (state.json) round trip, the runtime-spec state
 * document, supervisor liveness, container ids, and the supervisor
 * protocol framing (SEQPACKET + fds). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "runtime/console_socket.h"
#include "runtime/container_id.h"
#include "runtime/state.h"
#include "runtime/supervisor_client.h"
#include "runtime/supervisor_proto.h"

static char dir[] = "/tmp/hull-test-state.XXXXXX";

static void
setup (void)
{
  cr_assert_not_null (mkdtemp (dir));
}

static void
teardown (void)
{
  char cmd[128];
  snprintf (cmd, sizeof (cmd), "rm -rf %s", dir);
  cr_assert_eq (system (cmd), 0);
}

static const char *
get (yajl_val v, const char *key)
{
  const char *path[] = { key, NULL };
  yajl_val s = yajl_tree_get (v, path, yajl_t_any);
  cr_assert_not_null (s, "missing %s", key);
  return YAJL_IS_STRING (s) ? YAJL_GET_STRING (s) : NULL;
}

Test (state, record_round_trip, .init = setup, .fini = teardown)
{
  char *ann[] = { "k\"1", "v\n1", "k2", "v2", NULL };
  struct container_record r = { .id = "c1", .bundle = "/b", .rootfs = "/b/rootfs",
                                .created = "2026-01-01T00:00:00.000000000Z",
                                .supervisor_pid = 1234, .supervisor_start = 98765,
                                .annotations = ann, .systemd_cgroup = true },
                          back;
  hull_error_t err = NULL;

  cr_assert_eq (container_record_write (dir, &r, &err), 0, "%s", hull_error_msg (&err));
  cr_assert_eq (container_record_read (dir, &back, &err), 0, "%s", hull_error_msg (&err));
  cr_assert_str_eq (back.id, "c1");
  cr_assert_str_eq (back.bundle, "/b");
  cr_assert_str_eq (back.rootfs, "/b/rootfs");
  cr_assert_str_eq (back.created, r.created);
  cr_assert_eq (back.supervisor_pid, 1234);
  cr_assert_eq (back.supervisor_start, 98765);
  cr_assert (back.systemd_cgroup);
  cr_assert_str_eq (back.annotations[0], "k\"1");
  cr_assert_str_eq (back.annotations[1], "v\n1");
  cr_assert_str_eq (back.annotations[3], "v2");
  cr_assert_null (back.annotations[4]);
  container_record_free (&back);
}

Test (state, read_errors, .init = setup, .fini = teardown)
{
  struct container_record back;
  hull_error_t err = NULL;
  char path[128];
  FILE *f;

  cr_assert_lt (container_record_read (dir, &back, &err), 0);
  hull_error_free (&err);
  snprintf (path, sizeof (path), "%s/state.json", dir);
  f = fopen (path, "w");
  fputs ("{not json", f);
  fclose (f);
  cr_assert_lt (container_record_read (dir, &back, &err), 0);
  cr_assert_not_null (strstr (hull_error_msg (&err), "state.json"));
  hull_error_free (&err);
}

Test (state, spec_state_document)
{
  char *ann[] = { "a", "b", NULL };
  struct container_record r = { .id = "c1", .bundle = "/b", .rootfs = "/b/r",
                                .created = "2026-01-01T00:00:00Z", .annotations = ann };
  char *json = state_to_json (&r, STATUS_RUNNING, 42, false), ebuf[128];
  yajl_val v = yajl_tree_parse (json, ebuf, sizeof (ebuf));
  const char *pidp[] = { "pid", NULL }, *annp[] = { "annotations", "a", NULL };

  cr_assert_not_null (v, "%s: %s", ebuf, json);
  cr_assert_str_eq (get (v, "ociVersion"), "1.2.0");
  cr_assert_str_eq (get (v, "id"), "c1");
  cr_assert_str_eq (get (v, "status"), "running");
  cr_assert_str_eq (get (v, "bundle"), "/b");
  cr_assert_str_eq (get (v, "created"), "2026-01-01T00:00:00Z");
  cr_assert_eq (YAJL_GET_INTEGER (yajl_tree_get (v, pidp, yajl_t_number)), 42);
  cr_assert_str_eq (YAJL_GET_STRING (yajl_tree_get (v, annp, yajl_t_string)), "b");
  yajl_tree_free (v);
  free (json);
  /* A stopped container reports pid 0. */
  json = state_to_json (&r, STATUS_STOPPED, 42, true);
  cr_assert_not_null (strstr (json, "\"pid\": 0"));
  free (json);
}

Test (state, supervisor_liveness)
{
  struct container_record r = { .supervisor_pid = getpid () };
  pid_t child;

  cr_assert_eq (proc_start_time (getpid (), &r.supervisor_start), 0);
  cr_assert (container_record_supervisor_alive (&r));
  r.supervisor_start++; /* same pid, another process: pid reuse */
  cr_assert_not (container_record_supervisor_alive (&r));
  child = fork ();
  cr_assert_geq (child, 0);
  if (child == 0)
    _exit (0);
  /* A zombie is not alive: wait until it is one (WNOWAIT leaves it
   * unreaped), however long the child takes to get there. */
  cr_assert_eq (waitid (P_PID, (id_t) child, &(siginfo_t){ 0 }, WEXITED | WNOWAIT), 0);
  r.supervisor_pid = child;
  cr_assert_lt (proc_start_time (child, &r.supervisor_start), 0);
  cr_assert_not (container_record_supervisor_alive (&r));
  r.supervisor_pid = 0;
  cr_assert_not (container_record_supervisor_alive (&r));
}

Test (state, container_ids)
{
  const char *good[] = { "a", "abc-DEF_1.2+3", "0123456789abcdef0123456789abcdef" };
  const char *bad[] = { "", ".", "..", "a/b", "../x", "a b", "a\n", "é" };
  char long_id[300];
  hull_error_t err = NULL;

  for (size_t i = 0; i < sizeof (good) / sizeof (good[0]); i++)
    cr_assert_eq (container_id_validate (good[i], &err), 0, "%s", good[i]);
  for (size_t i = 0; i < sizeof (bad) / sizeof (bad[0]); i++)
    {
      cr_assert_lt (container_id_validate (bad[i], &err), 0, "`%s` accepted", bad[i]);
      hull_error_free (&err);
    }
  memset (long_id, 'a', sizeof (long_id) - 1);
  long_id[sizeof (long_id) - 1] = '\0';
  cr_assert_lt (container_id_validate (long_id, &err), 0);
  cr_assert_not_null (strstr (hull_error_msg (&err), "limit"));
  hull_error_free (&err);
  cr_assert_lt (container_id_validate ("a/b", &err), 0);
  cr_assert_not_null (strstr (hull_error_msg (&err), "`a/b`"));
  hull_error_free (&err);
}

Test (state, dir_remove, .init = setup, .fini = teardown)
{
  char sub[128], f[160];
  hull_error_t err = NULL;

  snprintf (sub, sizeof (sub), "%s/c1", dir);
  cr_assert_eq (mkdir (sub, 0700), 0);
  for (int i = 0; i < 3; i++)
    {
      snprintf (f, sizeof (f), "%s/f%d", sub, i);
      close (open (f, O_CREAT | O_WRONLY, 0600));
    }
  cr_assert_eq (state_dir_remove (sub, &err), 0, "%s", hull_error_msg (&err));
  cr_assert_neq (access (sub, F_OK), 0);
  cr_assert_eq (state_dir_remove (sub, &err), 0, "a missing dir is already removed");
}

Test (state, proto_round_trip_with_fds)
{
  int sv[2], p[2], fds[UNIX_FDS_MAX];
  size_t nfds = 0;
  hull_error_t err = NULL;
  yajl_val msg = NULL;
  long long n = 0;
  char *argv[] = { "sh", "-c", "echo \"hi\"", NULL };
  yajl_gen g;
  char c = 0;

  cr_assert_eq (socketpair (AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
  cr_assert_eq (pipe (p), 0);
  g = proto_begin_op ("exec");
  proto_put_strv (g, "args", argv);
  proto_put_int (g, "n", 7);
  proto_put_bool (g, "tty", true);
  cr_assert_eq (proto_send (sv[0], g, &p[1], 1, &err), 0);
  cr_assert_eq (proto_recv (sv[1], &msg, fds, &nfds, &err), 1, "%s", hull_error_msg (&err));
  cr_assert_str_eq (proto_get_str (msg, "op"), "exec");
  cr_assert (proto_get_int (msg, "n", &n));
  cr_assert_eq (n, 7);
  cr_assert (proto_get_bool (msg, "tty"));
  cr_assert_str_eq (YAJL_GET_STRING (proto_get (msg, "args")->u.array.values[2]), "echo \"hi\"");
  cr_assert_eq (nfds, 1);
  cr_assert_eq (write (fds[0], "q", 1), 1);
  cr_assert_eq (read (p[0], &c, 1), 1);
  cr_assert_eq (c, 'q');
  yajl_tree_free (msg);
  close (fds[0]);
  /* EOF is 0; an error reply carries its message. */
  cr_assert_eq (proto_send_error (sv[0], &(hull_error_t){ NULL }), 0);
  cr_assert_eq (proto_recv (sv[1], &msg, NULL, NULL, &err), 1);
  cr_assert_not (proto_get_bool (msg, "ok"));
  yajl_tree_free (msg);
  close (sv[0]);
  cr_assert_eq (proto_recv (sv[1], &msg, NULL, NULL, &err), 0);
  close (sv[1]);
  close (p[0]);
  close (p[1]);
}
