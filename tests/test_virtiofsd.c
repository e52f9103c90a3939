/* Host-lane integration: the real /usr/lib/qemu/virtiofsd, started and
 * stopped by runtime/virtiofsd.c, driven by the vhost-user front-end, down
 * to one FUSE_INIT round trip through a split virtqueue in memfd RAM. */
#include "tests/virtiofs_fixture.h"
#include "tests/watchdog.h"

static int
setup_queue (struct vhost_user *vu, struct ring *r, uint32_t q, int kick,
             int call, hull_error_t *err)
{
  uint64_t d = (uintptr_t) guest_mem_ptr (r->m, r->desc, 16ull * r->num);
  uint64_t a = (uintptr_t) guest_mem_ptr (r->m, r->avail, 6 + 2ull * r->num);
  uint64_t u = (uintptr_t) guest_mem_ptr (r->m, r->used, 6 + 8ull * r->num);

  if (vhost_user_set_vring_num (vu, q, r->num, err) < 0
      || vhost_user_set_vring_base (vu, q, 0, err) < 0
      || vhost_user_set_vring_addr (vu, q, d, a, u, err) < 0
      || vhost_user_set_vring_call (vu, q, call, err) < 0
      || vhost_user_set_vring_kick (vu, q, kick, err) < 0
      || vhost_user_set_vring_enable (vu, q, true, err) < 0)
    return -1;
  return 0;
}

/* Sends FUSE_INIT on the ring and checks virtiofsd's answer. */
static void
fuse_init_roundtrip (struct ring *r, int kick, int call)
{
  struct pollfd p = { .fd = call, .events = POLLIN };
  uint64_t one = 1, cnt;

  fuse_init_post (r);
  cr_assert_eq (write (kick, &one, 8), 8);
  /* The call fd may also fire for other reasons: wait for the used entry. */
  for (int i = 0; i < 50 && ring_used_idx (r) == 0; i++)
    if (poll (&p, 1, 100) == 1)
      cr_assert_eq (read (call, &cnt, 8), 8);
  fuse_init_check (r, 1);
}

/* One more request after FUSE_INIT; returns the answer's error. */
static int32_t
fuse_op (struct ring *r, int kick, int call, uint32_t opcode, uint64_t nodeid,
         const void *arg, uint32_t arglen)
{
  struct pollfd p = { .fd = call, .events = POLLIN };
  uint16_t want = ring_used_idx (r) + 1;
  uint64_t one = 1, cnt;

  fuse_post (r, opcode, nodeid, 77, arg, arglen);
  cr_assert_eq (write (kick, &one, 8), 8);
  for (int i = 0; i < 50 && ring_used_idx (r) != want; i++)
    if (poll (&p, 1, 100) == 1)
      cr_assert_eq (read (call, &cnt, 8), 8);
  cr_assert_eq (ring_used_idx (r), want, "no answer to opcode %u", opcode);
  return fuse_out_error (r);
}

/* FUSE_MKDIR "made-by-guest" in the share's root through a fresh session;
 * returns virtiofsd's answer. */
static int32_t
mkdir_through_virtiofsd (struct env *e, bool readonly, const char *sandbox)
{
  struct virtiofsd d;
  struct vhost_user vu;
  struct guest_mem m;
  hull_error_t err = NULL;
  struct ring r;
  struct
  {
    struct fuse_mkdir_in in;
    char name[16];
  } __attribute__ ((packed)) arg = { { .mode = 0755 }, "made-by-guest" };
  int kick = eventfd (0, EFD_CLOEXEC), call = eventfd (0, EFD_CLOEXEC);
  int32_t res;

  struct virtiofsd_config cfg = { .source = e->src, .socket_path = e->sock,
                                  .readonly = readonly, .sandbox = sandbox };
  cr_assert_eq (virtiofsd_start (&d, &cfg, &err), 0, "%s",
                hull_error_msg (&err));
  cr_assert_eq (guest_mem_create (&m, 2 << 20, &err), 0);
  cr_assert_eq (vhost_user_connect (&vu, e->sock, 2000, &err), 0);
  cr_assert_eq (vhost_user_handshake (&vu, 0, &err), 0);
  cr_assert_eq (vhost_user_set_features (&vu, F_VERSION_1, &err), 0);
  cr_assert_eq (vhost_user_set_mem_table (&vu, &m, &err), 0);
  r = (struct ring){ .m = &m, .desc = 0x1000, .avail = 0x2000,
                     .used = 0x3000, .buf = 0x10000, .num = 8 };
  cr_assert_eq (setup_queue (&vu, &r, 1, kick, call, &err), 0, "%s",
                hull_error_msg (&err));
  fuse_init_roundtrip (&r, kick, call);
  res = fuse_op (&r, kick, call, FUSE_MKDIR, FUSE_ROOT_ID, &arg,
                 sizeof (arg.in) + strlen (arg.name) + 1);
  vhost_user_close (&vu);
  virtiofsd_stop (&d);
  guest_mem_destroy (&m);
  close (kick);
  close (call);
  return res;
}

Test (virtiofsd, readonly_enforced_on_the_host)
{
  test_watchdog (30);
  struct env e;
  char made[160];

  env_init (&e);
  snprintf (made, sizeof (made), "%s/made-by-guest", e.src);
  cr_assert_eq (mkdir_through_virtiofsd (&e, true, "chroot"), -EROFS);
  cr_assert_eq (mkdir_through_virtiofsd (&e, true, "namespace"), -EROFS);
  cr_assert_not (path_exists (made));
  /* The same request on a writable share succeeds: the test can fail. */
  cr_assert_eq (mkdir_through_virtiofsd (&e, false, NULL), 0);
  cr_assert (path_exists (made));
  cr_assert_not (path_exists (e.sock));
  env_fini (&e);
}

Test (virtiofsd, full_session_then_nothing_left)
{
  test_watchdog (30);
  struct env e;
  struct virtiofsd d;
  struct vhost_user vu;
  struct guest_mem m;
  hull_error_t err = NULL;
  struct ring r;
  uint64_t features;
  uint32_t base = 99;
  int kick = eventfd (0, EFD_CLOEXEC), call = eventfd (0, EFD_CLOEXEC);
  pid_t pid;

  env_init (&e);
  start_ok (&d, &e);
  pid = d.pid;
  {
    /* The defaults hull asks for. */
    char path[64], cmd[1024] = "";
    snprintf (path, sizeof (path), "/proc/%d/cmdline", pid);
    FILE *f = fopen (path, "r");
    cr_assert_not_null (f);
    size_t n = fread (cmd, 1, sizeof (cmd) - 1, f);
    fclose (f);
    for (size_t i = 0; i < n; i++)
      cmd[i] = cmd[i] ? cmd[i] : ' ';
    cr_assert (strstr (cmd, " cache=auto ") && strstr (cmd, " sandbox=namespace ")
                   && strstr (cmd, " no_xattr ")
                   && strstr (cmd, " announce_submounts"),
               "virtiofsd %s", cmd);
  }
  cr_assert_eq (guest_mem_create (&m, 2 << 20, &err), 0);
  cr_assert_eq (vhost_user_connect (&vu, e.sock, 2000, &err), 0, "%s",
                hull_error_msg (&err));
  cr_assert_eq (vhost_user_handshake (&vu, 1ull << VHOST_USER_PROTOCOL_F_MQ,
                                      &err),
                0, "%s", hull_error_msg (&err));
  features = vu.backend_features;
  cr_assert (features & F_VERSION_1, "features %#llx",
             (unsigned long long) features);
  cr_assert (features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES));
  cr_assert (vu.protocol_features
                 & (1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK),
             "virtiofsd offers REPLY_ACK; every set is acknowledged");
  cr_assert_eq (vhost_user_set_features (&vu, F_VERSION_1, &err), 0, "%s",
                hull_error_msg (&err));
  cr_assert_eq (vhost_user_set_mem_table (&vu, &m, &err), 0, "%s",
                hull_error_msg (&err));

  r = (struct ring){ .m = &m, .desc = 0x1000, .avail = 0x2000,
                     .used = 0x3000, .buf = 0x10000, .num = 8 };
  cr_assert_eq (setup_queue (&vu, &r, 1, kick, call, &err), 0, "%s",
                hull_error_msg (&err));
  fuse_init_roundtrip (&r, kick, call);
  cr_assert_eq (vhost_user_get_vring_base (&vu, 1, &base, &err), 0, "%s",
                hull_error_msg (&err));
  cr_assert_eq (base, 1, "one request consumed");

  vhost_user_close (&vu);
  virtiofsd_stop (&d);
  cr_assert (process_gone (pid), "virtiofsd %d still running", pid);
  cr_assert_eq (procs_with (e.sock), 0, "a virtiofsd process is left");
  cr_assert_not (path_exists (e.sock), "socket left behind");
  cr_assert_eq (d.pid, 0);
  virtiofsd_stop (&d); /* idempotent */
  guest_mem_destroy (&m);
  close (kick);
  close (call);
  env_fini (&e);
}

/* Both sandbox modes work as root here; namespace mode runs a second
 * virtiofsd process that must go away too. */
Test (virtiofsd, namespace_sandbox_session)
{
  test_watchdog (30);
  struct env e;
  struct virtiofsd d;
  struct vhost_user vu;
  struct guest_mem m;
  hull_error_t err = NULL;

  env_init (&e);
  struct virtiofsd_config cfg = { .source = e.src, .socket_path = e.sock,
                                  .sandbox = "namespace" };
  cr_assert_eq (virtiofsd_start (&d, &cfg, &err), 0, "%s",
                hull_error_msg (&err));
  cr_assert_eq (guest_mem_create (&m, 2 << 20, &err), 0);
  cr_assert_eq (vhost_user_connect (&vu, e.sock, 2000, &err), 0);
  cr_assert_eq (vhost_user_handshake (&vu, 0, &err), 0, "%s",
                hull_error_msg (&err));
  cr_assert_eq (vhost_user_set_mem_table (&vu, &m, &err), 0, "%s",
                hull_error_msg (&err));
  cr_assert_geq (procs_with (e.sock), 1);
  vhost_user_close (&vu);
  virtiofsd_stop (&d);
  for (int i = 0; i < 200 && procs_with (e.sock) > 0; i++)
    usleep (5 * 1000);
  cr_assert_eq (procs_with (e.sock), 0, "namespace sandbox child left");
  cr_assert_not (path_exists (e.sock));
  guest_mem_destroy (&m);
  env_fini (&e);
}

Test (virtiofsd, missing_source_named_nothing_left)
{
  struct env e;
  struct virtiofsd d;
  char missing[128];
  hull_error_t err = NULL;

  env_init (&e);
  snprintf (missing, sizeof (missing), "%s/nope", e.dir);
  struct virtiofsd_config cfg = { .source = missing, .socket_path = e.sock };
  cr_assert_lt (virtiofsd_start (&d, &cfg, &err), 0);
  cr_assert (strstr (hull_error_msg (&err), missing) != NULL, "%s",
             hull_error_msg (&err));
  cr_assert_eq (err->status, ENOENT);
  cr_assert_eq (d.pid, 0);
  cr_assert_not (path_exists (e.sock));
  hull_error_free (&err);
  env_fini (&e);
}

/* virtiofsd itself fails (socket directory missing): its own message comes
 * back in the error, and it is reaped. */
Test (virtiofsd, child_failure_reports_its_message)
{
  struct env e;
  struct virtiofsd d;
  char sock[128];
  hull_error_t err = NULL;

  env_init (&e);
  snprintf (sock, sizeof (sock), "%s/no-such-dir/s.sock", e.dir);
  struct virtiofsd_config cfg = { .source = e.src, .socket_path = sock };
  cr_assert_lt (virtiofsd_start (&d, &cfg, &err), 0);
  cr_assert (strstr (hull_error_msg (&err), "exited with status") != NULL,
             "%s", hull_error_msg (&err));
  cr_assert (strstr (hull_error_msg (&err), sock) != NULL);
  cr_assert (strstr (hull_error_msg (&err), "bind") != NULL,
             "virtiofsd's own reason: %s", hull_error_msg (&err));
  cr_assert_eq (d.pid, 0);
  hull_error_free (&err);
  env_fini (&e);
}

Test (virtiofsd, bad_config_rejected_before_spawn)
{
  struct env e;
  struct virtiofsd d;
  hull_error_t err = NULL;
  char file[128];
  int fd;

  env_init (&e);
  struct virtiofsd_config cfg = { .source = e.src, .socket_path = e.sock,
                                  .cache = "sometimes" };
  cr_assert_lt (virtiofsd_start (&d, &cfg, &err), 0);
  cr_assert (strstr (hull_error_msg (&err), "sometimes") != NULL);
  hull_error_free (&err);

  cfg.cache = NULL;
  cfg.binary = "/nonexistent/virtiofsd";
  cr_assert_lt (virtiofsd_start (&d, &cfg, &err), 0);
  cr_assert (strstr (hull_error_msg (&err), "/nonexistent/virtiofsd") != NULL);
  hull_error_free (&err);

  /* Something that is not a socket at the socket path is never deleted. */
  cfg.binary = NULL;
  fd = open (e.sock, O_CREAT | O_WRONLY, 0600);
  close (fd);
  cr_assert_lt (virtiofsd_start (&d, &cfg, &err), 0);
  cr_assert_eq (err->status, EEXIST, "%s", hull_error_msg (&err));
  cr_assert (path_exists (e.sock));
  hull_error_free (&err);

  /* A source that is a file. */
  unlink (e.sock);
  snprintf (file, sizeof (file), "%s/f", e.dir);
  close (open (file, O_CREAT | O_WRONLY, 0600));
  cfg.source = file;
  cr_assert_lt (virtiofsd_start (&d, &cfg, &err), 0);
  cr_assert_eq (err->status, ENOTDIR);
  hull_error_free (&err);
  env_fini (&e);
}

Test (virtiofsd, socket_timeout_kills_the_child)
{
  test_watchdog (20);
  struct env e;
  struct virtiofsd d;
  hull_error_t err = NULL;
  char script[128], pidfile[128], cmd[512];
  FILE *f;
  int pid = 0;

  env_init (&e);
  snprintf (script, sizeof (script), "%s/fake-virtiofsd", e.dir);
  snprintf (pidfile, sizeof (pidfile), "%s/pid", e.dir);
  snprintf (cmd, sizeof (cmd),
            "printf '#!/bin/sh\\necho $$ > %s\\necho never listening >&2\\n"
            "exec sleep 30\\n' > %s && chmod +x %s",
            pidfile, script, script);
  cr_assert_eq (system (cmd), 0);
  struct virtiofsd_config cfg = { .binary = script, .source = e.src,
                                  .socket_path = e.sock,
                                  /* Long enough for the script to have
                                   * started and spoken even on a loaded
                                   * machine. */
                                  .timeout_ms = 2000 };
  cr_assert_lt (virtiofsd_start (&d, &cfg, &err), 0);
  cr_assert_eq (err->status, ETIMEDOUT);
  cr_assert (strstr (hull_error_msg (&err), "never listening") != NULL, "%s",
             hull_error_msg (&err));
  hull_error_free (&err);
  f = fopen (pidfile, "r");
  cr_assert_not_null (f);
  cr_assert_eq (fscanf (f, "%d", &pid), 1);
  fclose (f);
  cr_assert (process_gone (pid), "fake virtiofsd %d survived", pid);
  env_fini (&e);
}

static void
note_error (void *opaque, const char *msg)
{
  atomic_int *n = opaque;
  (void) msg;
  atomic_fetch_add (n, 1);
}

Test (virtiofsd, killed_mid_session_reported)
{
  test_watchdog (30);
  struct env e;
  struct virtiofsd d;
  struct vhost_user vu;
  hull_error_t err = NULL;
  atomic_int calls = 0;
  pid_t pid;

  env_init (&e);
  start_ok (&d, &e);
  pid = d.pid;
  cr_assert_eq (vhost_user_connect (&vu, e.sock, 2000, &err), 0, "%s",
                hull_error_msg (&err));
  vhost_user_set_error_cb (&vu, note_error, &calls);
  cr_assert_eq (vhost_user_handshake (&vu, 0, &err), 0, "%s",
                hull_error_msg (&err));
  cr_assert_eq (vhost_user_monitor_start (&vu, &err), 0);
  cr_assert_eq (kill (pid, SIGKILL), 0);
  for (int i = 0; i < 400 && atomic_load (&calls) == 0; i++)
    usleep (5 * 1000);
  cr_assert_eq (atomic_load (&calls), 1, "monitor did not report the death");
  cr_assert (vhost_user_is_dead (&vu));
  cr_assert_lt (vhost_user_set_vring_num (&vu, 0, 8, &err), 0);
  cr_assert (strstr (hull_error_msg (&err), e.sock) != NULL, "%s",
             hull_error_msg (&err));
  hull_error_free (&err);
  /* The socket closes a moment before the process can be reaped. */
  for (int i = 0; i < 400 && virtiofsd_running (&d); i++)
    usleep (5 * 1000);
  cr_assert_not (virtiofsd_running (&d));
  vhost_user_close (&vu);
  virtiofsd_stop (&d);
  cr_assert_not (path_exists (e.sock));
  env_fini (&e);
}

/* A request in flight when virtiofsd dies fails instead of hanging. */
Test (virtiofsd, killed_before_request_fails_fast)
{
  test_watchdog (30);
  struct env e;
  struct virtiofsd d;
  struct vhost_user vu;
  hull_error_t err = NULL;
  atomic_int calls = 0;
  uint64_t f;

  env_init (&e);
  start_ok (&d, &e);
  cr_assert_eq (vhost_user_connect (&vu, e.sock, 2000, &err), 0);
  vhost_user_set_error_cb (&vu, note_error, &calls);
  kill (d.pid, SIGKILL);
  while (virtiofsd_running (&d))
    usleep (1000);
  cr_assert_lt (vhost_user_get_features (&vu, &f, &err), 0);
  cr_assert_eq (atomic_load (&calls), 1);
  hull_error_free (&err);
  vhost_user_close (&vu);
  virtiofsd_stop (&d);
  cr_assert_not (path_exists (e.sock));
  env_fini (&e);
}

/* PR_SET_PDEATHSIG: the supervisor dying takes virtiofsd with it. */
Test (virtiofsd, dies_with_its_starter)
{
  test_watchdog (30);
  struct env e;
  int pfd[2];
  pid_t starter, vfs = 0;
  int status;

  env_init (&e);
  /* Orphans come back to us, so the dead virtiofsd can be reaped here. */
  cr_assert_eq (prctl (PR_SET_CHILD_SUBREAPER, 1), 0);
  cr_assert_eq (pipe (pfd), 0);
  starter = fork ();
  cr_assert_geq (starter, 0);
  if (starter == 0)
    {
      struct virtiofsd d;
      hull_error_t err = NULL;
      struct virtiofsd_config cfg = { .source = e.src, .socket_path = e.sock };
      if (virtiofsd_start (&d, &cfg, &err) < 0)
        _exit (1);
      if (write (pfd[1], &d.pid, sizeof (d.pid)) < 0)
        _exit (2);
      _exit (0); /* without stopping it */
    }
  close (pfd[1]);
  cr_assert_eq (read (pfd[0], &vfs, sizeof (vfs)), (ssize_t) sizeof (vfs));
  cr_assert_eq (waitpid (starter, &status, 0), starter);
  cr_assert_gt (vfs, 0);
  for (int i = 0; i < 400 && !process_gone (vfs); i++)
    usleep (5 * 1000);
  cr_assert (process_gone (vfs), "virtiofsd %d outlived its starter", vfs);
  cr_assert_eq (waitpid (vfs, &status, 0), vfs);
  cr_assert (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  unlink (e.sock);
  close (pfd[0]);
  env_fini (&e);
}

Test (virtiofsd, socket_path_helper)
{
  char *p = NULL;
  char longdir[200];
  hull_error_t err = NULL;

  cr_assert_eq (virtiofsd_socket_path (&p, "/run/hull/abc", 0, &err), 0);
  cr_assert_str_eq (p, "/run/hull/abc/virtiofs-0.sock");
  free (p);
  memset (longdir, 'a', sizeof (longdir) - 1);
  longdir[0] = '/';
  longdir[sizeof (longdir) - 1] = '\0';
  /* Longer than sun_path is fine (Docker state dirs); PATH_MAX is not. */
  cr_assert_eq (virtiofsd_socket_path (&p, longdir, 1, &err), 0);
  free (p);
  char *huge = malloc (PATH_MAX + 1);
  memset (huge, 'a', PATH_MAX);
  huge[0] = '/';
  huge[PATH_MAX] = '\0';
  cr_assert_lt (virtiofsd_socket_path (&p, huge, 1, &err), 0);
  cr_assert_eq (err->status, ENAMETOOLONG);
  free (huge);
  hull_error_free (&err);
}

/* Started from a supervisor-like process (every signal blocked, SIGTERM
 * ignored), virtiofsd still stops on SIGTERM, without the SIGKILL
 * fallback. */
Test (virtiofsd, stops_gracefully_from_blocked_parent)
{
  test_watchdog (30);
  struct env e;
  struct virtiofsd d;
  struct vhost_user vu;
  hull_error_t err = NULL;
  sigset_t all;

  sigfillset (&all);
  cr_assert_eq (sigprocmask (SIG_SETMASK, &all, NULL), 0);
  signal (SIGTERM, SIG_IGN);
  env_init (&e);
  start_ok (&d, &e);
  cr_assert_eq (vhost_user_connect (&vu, e.sock, 2000, &err), 0);
  cr_assert_eq (vhost_user_handshake (&vu, 0, &err), 0, "%s",
                hull_error_msg (&err));
  virtiofsd_stop (&d);
  cr_assert_neq (d.exit_status, -1);
  cr_assert (!WIFSIGNALED (d.exit_status) || WTERMSIG (d.exit_status) == SIGTERM,
             "virtiofsd needed SIGKILL (status %#x)", d.exit_status);
  vhost_user_close (&vu);
  cr_assert_not (path_exists (e.sock));
  env_fini (&e);
}
