/* A pod in one hull-agent (runtime/pods.md), on the host in test mode
 * (tests/agent_host.h): the sandbox container first, then app containers
 * with a pod layout.  An app container has its own root, pid namespace
 * and cgroup, the sandbox's uts and ipc namespaces (named by path in its
 * config), its bind mounts read from the layout's bindDir and skipped
 * mounts dropped; its exit is its own; `all` signals stay in its cgroup;
 * DELETE forgets it, and the VM's first container cannot be deleted. */
#include "tests/agent_host.h"

#include "runtime/pod.h"

struct pod
{
  struct host h;
  char sb[48], app[48], app2[48];
  char app_root[64], binds[64];
};

static void
add_tools (const char *root)
{
  static const char *const more[] = { "readlink", "grep", "kill" };
  char path[256];

  for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
    {
      snprintf (path, sizeof path, "%s/bin/%s", root, more[i]);
      cr_assert_eq (symlink ("busybox", path), 0);
    }
}

/* The app containers' root (with a marker the sandbox's lacks) and the
 * layout's bindDir with mounts[1]'s bind as m1. */
static void
make_app_dirs (struct pod *p)
{
  char cmd[768];

  strcpy (p->app_root, "/tmp/hull-pod-app-XXXXXX");
  strcpy (p->binds, "/tmp/hull-pod-binds-XXXXXX");
  cr_assert_not_null (mkdtemp (p->app_root));
  cr_assert_not_null (mkdtemp (p->binds));
  snprintf (cmd, sizeof cmd,
            "cp -a %s/bin %s/ && echo app-marker > %s/marker && mkdir %s/m1 && "
            "echo volume-data > %s/m1/f",
            p->h.root, p->app_root, p->app_root, p->binds, p->binds);
  cr_assert_eq (system (cmd), 0);
}

static char *
config (const char *root, const char *hostname, const char *ns, const char *mounts,
        const char *script)
{
  char *c = NULL;

  cr_assert_gt (
      asprintf (&c,
                "{\"ociVersion\":\"1.1.0\",\"root\":{\"path\":\"%s\"},%s"
                "\"process\":{\"args\":[\"sh\",\"-c\",\"%s\"],\"cwd\":\"/\","
                "  \"env\":[\"PATH=/bin\"],\"user\":{\"uid\":0,\"gid\":0}},"
                "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}%s],"
                "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},%s]}}",
                root, hostname, script, mounts, ns),
      0);
  return c;
}

static void
create (struct pod *p, const char *cid, const char *cfg, const char *rootfs, const char *layout,
        uint32_t out_stream, uint32_t in_stream)
{
  cleanup_error hull_error_t err = NULL;
  struct hull_msgbuf mb;

  open_recv (&p->h, out_stream);
  if (in_stream)
    cr_assert_eq (hull_conn_stream_open (&p->h.conn, in_stream, HULL_STREAM_SEND, &err), 0);
  request_for (&mb, HULL_OP_CREATE, cid);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONFIG_JSON, cfg);
  hull_msgbuf_put_str (&mb, HULL_ATTR_ROOTFS, rootfs);
  if (layout != NULL)
    hull_msgbuf_put_str (&mb, HULL_ATTR_POD_JSON, layout);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_STREAM_STDOUT, out_stream);
  if (in_stream)
    hull_msgbuf_put_u32 (&mb, HULL_ATTR_STREAM_STDIN, in_stream);
  call (&p->h, &mb);
}

static void
simple (struct pod *p, uint16_t op, const char *cid)
{
  struct hull_msgbuf mb;

  request_for (&mb, op, cid);
  call (&p->h, &mb);
}

static void
signal_all (struct pod *p, const char *cid, int sig)
{
  struct hull_msgbuf mb;

  request_for (&mb, HULL_OP_SIGNAL, cid);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_SIGNAL, (uint32_t) sig);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_ALL, 1);
  call (&p->h, &mb);
}

/* The exec's pid; output on out_stream. */
static uint32_t
exec_in (struct pod *p, const char *cid, const char *script, uint32_t out_stream)
{
  struct hull_msgbuf mb;
  char *proc = NULL;

  cr_assert_gt (asprintf (&proc,
                          "{\"args\":[\"sh\",\"-c\",\"%s\"],\"cwd\":\"/\",\"env\":[\"PATH=/bin\"],"
                          "\"user\":{\"uid\":0,\"gid\":0}}",
                          script),
                0);
  open_recv (&p->h, out_stream);
  request_for (&mb, HULL_OP_EXEC, cid);
  hull_msgbuf_put_str (&mb, HULL_ATTR_EXEC_ID, "e");
  hull_msgbuf_put_str (&mb, HULL_ATTR_PROCESS_JSON, proc);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_STREAM_STDOUT, out_stream);
  call (&p->h, &mb);
  free (proc);
  cr_assert_not (p->h.resp_error, "exec in %s: %s", cid, p->h.resp_msg);
  return p->h.resp_pid;
}

struct exit_wait
{
  const char *cid;
  uint32_t pid;
};

static int
exit_index (struct host *h, const struct exit_wait *w)
{
  for (size_t i = 0; i < h->n_exits; i++)
    if (strcmp (h->exits[i].cid, w->cid) == 0 && h->exits[i].pid == w->pid)
      return (int) i;
  return -1;
}

static bool
has_exit (struct host *h, void *arg)
{
  return exit_index (h, arg) >= 0;
}

static uint32_t
wait_exit (struct pod *p, const char *cid, uint32_t pid)
{
  struct exit_wait w = { cid, pid };

  pump (&p->h, 0, has_exit, &w);
  return p->h.exits[exit_index (&p->h, &w)].status;
}

static bool
stream_fin (struct host *h, void *arg)
{
  return h->fin[*(uint32_t *) arg];
}

static void
wait_output (struct pod *p, uint32_t stream)
{
  pump (&p->h, 0, stream_fin, &stream);
}

/* The length of the first two lines (with their newlines). */
static size_t
two_lines (const char *s)
{
  const char *nl = strchr (s, '\n');

  cr_assert_not_null (nl);
  nl = strchr (nl + 1, '\n');
  cr_assert_not_null (nl);
  return (size_t) (nl - s) + 1;
}

Test (agent_pod, sandbox_and_app_containers)
{
  struct pod p;
  struct hull_msgbuf mb;
  cleanup_error hull_error_t err = NULL;
  cleanup_free char *sb_cfg = NULL, *app_cfg = NULL, *app2_cfg = NULL, *layout = NULL,
                    *layout2 = NULL, *layout3 = NULL, *plain = NULL;
  /* Paths that mean nothing in the guest: the sandbox's namespaces. */
  const char *share_ns = "{\"type\":\"uts\",\"path\":\"/proc/1/ns/uts\"},"
                         "{\"type\":\"ipc\",\"path\":\"/proc/1/ns/ipc\"}";
  uint32_t pid, st;

  start_agent (&p.h);
  add_tools (p.h.root);
  make_app_dirs (&p);
  snprintf (p.sb, sizeof p.sb, "pod-sb-%d", getpid ());
  snprintf (p.app, sizeof p.app, "pod-app-%d", getpid ());
  snprintf (p.app2, sizeof p.app2, "pod-app2-%d", getpid ());

  /* The sandbox: its own uts (hostname) and ipc; waits for stdin. */
  sb_cfg = config (p.h.root, "\"hostname\":\"podhost\",",
                   "{\"type\":\"uts\"},{\"type\":\"ipc\"}", "", "read x; exit 0");
  cr_assert_gt (asprintf (&layout, "{\"bindDir\":\"/unused\",\"binds\":[],\"skip\":[]}"), 0);
  create (&p, p.sb, sb_cfg, p.h.root, layout, 2, 1);
  cr_assert_not (p.h.resp_error, "create sandbox: %s", p.h.resp_msg);
  simple (&p, HULL_OP_START, p.sb);
  cr_assert_not (p.h.resp_error, "start sandbox: %s", p.h.resp_msg);

  /* Without a pod layout a second container is refused, as ever. */
  plain = config (p.app_root, "", "{\"type\":\"uts\"}", "", "true");
  create (&p, "plain", plain, p.app_root, NULL, 3, 0);
  cr_expect (p.h.resp_error);
  cr_expect_eq (p.h.resp_errno, EEXIST, "%s", p.h.resp_msg);

  /* An app container: mounts[1] bound by the host (m1), mounts[2]
   * skipped; it reads both, then waits for SIGTERM. */
  app_cfg = config (p.app_root, "", share_ns,
                    ",{\"destination\":\"/vol\",\"type\":\"bind\",\"source\":\"/host/vol\","
                    "\"options\":[\"rbind\",\"ro\"]},"
                    "{\"destination\":\"/skipped\",\"type\":\"bind\",\"source\":\"/dev/null\"}",
                    "hostname; cat /marker /vol/f; [ -e /skipped ] && echo skipped-present; "
                    "echo pid=$$; "
                    "trap 'exit 7' TERM; while :; do sleep 1; done");
  cr_assert_gt (asprintf (&layout2,
                          "{\"bindDir\":\"%s\",\"binds\":[1],\"skip\":[2],\"shareWith\":\"%s\"}",
                          p.binds, p.sb),
                0);
  create (&p, p.app, app_cfg, p.app_root, layout2, 4, 0);
  cr_assert_not (p.h.resp_error, "create app: %s", p.h.resp_msg);
  cr_expect_eq (p.h.resp_pid, 1, "its own pid namespace");
  simple (&p, HULL_OP_START, p.app);
  cr_assert_not (p.h.resp_error, "start app: %s", p.h.resp_msg);

  /* Same uts and ipc namespaces as the sandbox, its own mount and pid. */
  pid = exec_in (&p, p.sb, "readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts; ls /marker 2>&1", 10);
  wait_exit (&p, p.sb, pid);
  pid = exec_in (&p, p.app, "readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts; cat /marker", 11);
  wait_exit (&p, p.app, pid);
  wait_output (&p, 11);
  cr_expect (strncmp (p.h.out[10], p.h.out[11], two_lines (p.h.out[10])) == 0,
             "ipc/uts differ:\n%s--\n%s", p.h.out[10], p.h.out[11]);
  cr_expect (strstr (p.h.out[10], "No such file") != NULL, "sandbox sees /marker: %s",
             p.h.out[10]);
  cr_expect (strstr (p.h.out[11], "app-marker") != NULL, "%s", p.h.out[11]);

  /* A second app container, killed with `all`: the sandbox survives. */
  app2_cfg = config (p.app_root, "", share_ns, "", "sleep 100 & sleep 100");
  cr_assert_gt (asprintf (&layout3, "{\"bindDir\":\"%s\",\"shareWith\":\"%s\"}", p.binds, p.sb),
                0);
  create (&p, p.app2, app2_cfg, p.app_root, layout3, 5, 0);
  cr_assert_not (p.h.resp_error, "create app2: %s", p.h.resp_msg);
  simple (&p, HULL_OP_START, p.app2);
  cr_assert_not (p.h.resp_error, "start app2: %s", p.h.resp_msg);
  signal_all (&p, p.app2, SIGKILL);
  cr_assert_not (p.h.resp_error, "kill all app2: %s", p.h.resp_msg);
  st = wait_exit (&p, p.app2, 1);
  cr_expect (WIFSIGNALED (st) && WTERMSIG (st) == SIGKILL, "app2 status 0x%x", st);
  pid = exec_in (&p, p.sb, "echo sandbox-alive", 12);
  cr_expect_eq (WEXITSTATUS (wait_exit (&p, p.sb, pid)), 0);
  cr_expect_str_eq (p.h.out[12], "sandbox-alive\n");

  /* The first app container's init: its own exit, for it alone. */
  signal_all (&p, p.app, SIGTERM);
  st = wait_exit (&p, p.app, 1);
  cr_expect (WIFEXITED (st) && WEXITSTATUS (st) == 7, "app status 0x%x", st);
  wait_output (&p, 4);
  cr_expect (strstr (p.h.out[4], "podhost\napp-marker\nvolume-data\n") != NULL,
             "the sandbox's hostname, its root and the bound volume: %s", p.h.out[4]);
  cr_expect (strstr (p.h.out[4], "skipped-present") == NULL, "%s", p.h.out[4]);
  cr_expect (strstr (p.h.out[4], "pid=1\n") != NULL, "%s", p.h.out[4]);

  /* DELETE forgets app containers; the sandbox ends with the VM only. */
  simple (&p, HULL_OP_DELETE, p.app);
  cr_expect_not (p.h.resp_error, "delete app: %s", p.h.resp_msg);
  simple (&p, HULL_OP_DELETE, p.app2);
  cr_expect_not (p.h.resp_error, "delete app2: %s", p.h.resp_msg);
  simple (&p, HULL_OP_STATS, p.app);
  cr_expect (p.h.resp_error && p.h.resp_errno == ENOENT, "app still known: %s", p.h.resp_msg);
  simple (&p, HULL_OP_DELETE, p.sb);
  cr_expect (p.h.resp_error && p.h.resp_errno == EINVAL, "sandbox deleted: %s", p.h.resp_msg);

  /* The sandbox's init ends through stdin. */
  cr_assert_eq (hull_conn_send_fin (&p.h.conn, 1, &err), 0);
  st = wait_exit (&p, p.sb, 1);
  cr_expect (WIFEXITED (st) && WEXITSTATUS (st) == 0, "sandbox status 0x%x", st);

  request_for (&mb, HULL_OP_SHUTDOWN, NULL);
  call (&p.h, &mb);
  stop_agent (&p.h);
  char cmd[512];
  snprintf (cmd, sizeof cmd,
            "rm -rf %s %s; rmdir /sys/fs/cgroup/hull-%s /sys/fs/cgroup/hull-%s "
            "/sys/fs/cgroup/hull-%s 2>/dev/null; true",
            p.app_root, p.binds, p.sb, p.app, p.app2);
  system (cmd);
}

Test (agent_pod, bad_layouts_are_refused)
{
  struct pod p;
  cleanup_free char *cfg = NULL;

  start_agent (&p.h);
  snprintf (p.sb, sizeof p.sb, "pod-bad-%d", getpid ());
  cfg = config (p.h.root, "", "{\"type\":\"uts\"}",
                ",{\"destination\":\"/v\",\"type\":\"bind\",\"source\":\"/x\"}", "true");
  /* A bind index past mounts[]. */
  create (&p, p.sb, cfg, p.h.root, "{\"bindDir\":\"/b\",\"binds\":[5]}", 2, 0);
  cr_expect (p.h.resp_error);
  cr_expect (strstr (p.h.resp_msg, "pod layout") != NULL, "%s", p.h.resp_msg);
  /* shareWith a container that is not there. */
  create (&p, p.sb, cfg, p.h.root, "{\"bindDir\":\"/b\",\"shareWith\":\"nope\"}", 3, 0);
  cr_expect (p.h.resp_error);
  cr_expect (strstr (p.h.resp_msg, "shareWith `nope`") != NULL, "%s", p.h.resp_msg);
  /* Nothing was created: a first container is still possible. */
  simple (&p, HULL_OP_START, p.sb);
  cr_expect_eq (p.h.resp_errno, ENOENT, "%s", p.h.resp_msg);

  struct hull_msgbuf mb;
  request_for (&mb, HULL_OP_SHUTDOWN, NULL);
  call (&p.h, &mb);
  stop_agent (&p.h);
}
