/* Process setup of hull-agent, on the host: capability sets and seccomp
 * filters are built and inspected; the parts that change the calling
 * process run in a forked child whose exit status reports the first
 * failed check (the line number), so the test runner is not altered. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/oci_config.h"
#include "runtime/process_setup.h"

static struct oci_process *
process_from (const char *json)
{
  cleanup_error hull_error_t err = NULL;
  struct oci_process *p = NULL;

  cr_assert_eq (oci_process_parse_data (json, strlen (json), &p, &err), 0, "%s",
                hull_error_msg (&err));
  return p;
}

static struct oci_config *
config_from (const char *json)
{
  cleanup_error hull_error_t err = NULL;
  struct oci_config *c = NULL;

  cr_assert_eq (oci_config_parse_data (json, strlen (json), &c, &err), 0, "%s",
                hull_error_msg (&err));
  return c;
}

/* Run fn in a child; returns its exit status (0 = every check passed). */
static int
in_child (int (*fn) (void *), void *arg)
{
  int status;
  pid_t pid = fork ();

  cr_assert_geq (pid, 0);
  if (pid == 0)
    _exit (fn (arg));
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  cr_assert (WIFEXITED (status), "child died with status 0x%x", status);
  return WEXITSTATUS (status);
}

#define CHECK(cond)                                                            \
  do                                                                           \
    {                                                                          \
      if (!(cond))                                                             \
        {                                                                      \
          fprintf (stderr, "child check failed line %d: %s\n", __LINE__, #cond); \
          return __LINE__ % 250 + 1;                                           \
        }                                                                      \
    }                                                                          \
  while (0)

static void
skip_unless_root (void)
{
  if (geteuid () != 0)
    cr_skip_test ("needs root");
}

/* ---- capabilities ---- */

static const char caps_json[] =
    "{\"args\":[\"true\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0},"
    "\"capabilities\":{\"bounding\":[\"CAP_KILL\",\"CAP_CHOWN\"],"
    "\"effective\":[\"CAP_KILL\"],\"permitted\":[\"CAP_KILL\",\"CAP_CHOWN\"],"
    "\"inheritable\":[\"CAP_KILL\"],\"ambient\":[\"CAP_KILL\"]}}";

static cap_flag_value_t
flag (cap_t c, cap_value_t v, cap_flag_t f)
{
  cap_flag_value_t on = CAP_CLEAR;
  cr_assert_eq (cap_get_flag (c, v, f, &on), 0);
  return on;
}

Test (process_caps, build_maps_oci_sets)
{
  struct oci_process *p = process_from (caps_json);
  cleanup_error hull_error_t err = NULL;
  cap_t c = NULL;

  cr_assert_eq (process_caps_build (p->capabilities, &c, &err), 0, "%s",
                hull_error_msg (&err));
  cr_expect_eq (flag (c, CAP_KILL, CAP_EFFECTIVE), CAP_SET);
  cr_expect_eq (flag (c, CAP_CHOWN, CAP_EFFECTIVE), CAP_CLEAR);
  cr_expect_eq (flag (c, CAP_CHOWN, CAP_PERMITTED), CAP_SET);
  cr_expect_eq (flag (c, CAP_KILL, CAP_INHERITABLE), CAP_SET);
  cr_expect_eq (flag (c, CAP_SYS_ADMIN, CAP_PERMITTED), CAP_CLEAR);
  cr_expect_eq (flag (c, CAP_SYS_ADMIN, CAP_EFFECTIVE), CAP_CLEAR);
  cap_free (c);
  oci_process_free (p);
}

static int
child_caps (void *arg)
{
  struct oci_process *p = arg;
  hull_error_t err = NULL;
  cap_t c;

  CHECK (process_caps_drop_bounding (p->capabilities, &err) == 0);
  CHECK (process_caps_apply (p->capabilities, &err) == 0);
  CHECK (prctl (PR_CAPBSET_READ, CAP_KILL, 0, 0, 0) == 1);
  CHECK (prctl (PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) == 0);
  CHECK (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_KILL, 0, 0) == 1);
  c = cap_get_proc ();
  CHECK (c != NULL);
  cap_flag_value_t v;
  CHECK (cap_get_flag (c, CAP_KILL, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET);
  CHECK (cap_get_flag (c, CAP_CHOWN, CAP_EFFECTIVE, &v) == 0 && v == CAP_CLEAR);
  CHECK (cap_get_flag (c, CAP_SYS_ADMIN, CAP_PERMITTED, &v) == 0 && v == CAP_CLEAR);
  /* Observable: without CAP_DAC_OVERRIDE root cannot write a 0400 file. */
  CHECK (access ("/proc/self/status", W_OK) < 0);
  cap_free (c);
  return 0;
}

Test (process_caps, apply_in_child)
{
  skip_unless_root ();
  struct oci_process *p = process_from (caps_json);
  cr_assert_eq (in_child (child_caps, p), 0);
  oci_process_free (p);
}

static int
child_ambient_needs_inheritable (void *arg)
{
  struct oci_process *p = arg;
  hull_error_t err = NULL;

  CHECK (process_caps_apply (p->capabilities, &err) < 0);
  CHECK (strstr (hull_error_msg (&err), "ambient: raise CAP_CHOWN") != NULL);
  return 0;
}

Test (process_caps, ambient_error_names_the_cap)
{
  skip_unless_root ();
  struct oci_process *p = process_from (
      "{\"args\":[\"true\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0},"
      "\"capabilities\":{\"permitted\":[\"CAP_CHOWN\"],\"inheritable\":[],"
      "\"effective\":[],\"ambient\":[\"CAP_CHOWN\"]}}");
  cr_assert_eq (in_child (child_ambient_needs_inheritable, p), 0);
  oci_process_free (p);
}

/* ---- user ---- */

static int
child_user (void *arg)
{
  struct oci_process *p = arg;
  hull_error_t err = NULL;
  gid_t groups[8];
  cap_t c;
  cap_flag_value_t v;

  CHECK (process_user_apply (&p->user, &err) == 0);
  CHECK (getuid () == 1000 && geteuid () == 1000);
  CHECK (getgid () == 1001 && getegid () == 1001);
  CHECK (getgroups (8, groups) == 2 && groups[0] == 5 && groups[1] == 6);
  CHECK (umask (0) == 077);
  /* Permitted caps survive the uid change so they can be applied. */
  CHECK (process_caps_apply (p->capabilities, &err) == 0);
  c = cap_get_proc ();
  CHECK (cap_get_flag (c, CAP_KILL, CAP_EFFECTIVE, &v) == 0 && v == CAP_SET);
  cap_free (c);
  return 0;
}

Test (process_user, apply_in_child)
{
  skip_unless_root ();
  struct oci_process *p = process_from (
      "{\"args\":[\"true\"],\"cwd\":\"/\",\"user\":{\"uid\":1000,\"gid\":1001,"
      "\"additionalGids\":[5,6],\"umask\":63},"
      "\"capabilities\":{\"effective\":[\"CAP_KILL\"],\"permitted\":[\"CAP_KILL\"]}}");
  cr_assert_eq (in_child (child_user, p), 0);
  oci_process_free (p);
}

/* ---- rlimits ---- */

static int
child_rlimits (void *arg)
{
  struct oci_process *p = arg;
  hull_error_t err = NULL;
  struct rlimit rl;

  CHECK (process_rlimits_apply (p->rlimits, p->n_rlimits, &err) == 0);
  CHECK (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur == 100 && rl.rlim_max == 200);
  CHECK (getrlimit (RLIMIT_CORE, &rl) == 0 && rl.rlim_cur == 0 && rl.rlim_max == RLIM_INFINITY);
  return 0;
}

Test (process_rlimits, apply_in_child)
{
  struct oci_process *p = process_from (
      "{\"args\":[\"true\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0},"
      "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":100,\"hard\":200},"
      "{\"type\":\"RLIMIT_CORE\",\"soft\":0,\"hard\":18446744073709551615}]}");
  cr_assert_eq (p->n_rlimits, 2);
  cr_assert_eq (p->rlimits[0].resource, RLIMIT_NOFILE);
  cr_assert_eq (in_child (child_rlimits, p), 0);
  oci_process_free (p);
}

static int
child_rlimit_error (void *arg)
{
  struct oci_process *p = arg;
  hull_error_t err = NULL;
  struct rlimit rl = { 10, 10 };

  CHECK (setrlimit (RLIMIT_NOFILE, &rl) == 0);
  /* Raising the hard limit needs CAP_SYS_RESOURCE, which we drop. */
  CHECK (prctl (PR_CAPBSET_DROP, CAP_SYS_RESOURCE, 0, 0, 0) == 0 || geteuid () != 0);
  cap_t c = cap_get_proc ();
  cap_value_t v = CAP_SYS_RESOURCE;
  cap_set_flag (c, CAP_EFFECTIVE, 1, &v, CAP_CLEAR);
  cap_set_flag (c, CAP_PERMITTED, 1, &v, CAP_CLEAR);
  cap_set_proc (c);
  cap_free (c);
  CHECK (process_rlimits_apply (p->rlimits, p->n_rlimits, &err) < 0);
  CHECK (strstr (hull_error_msg (&err), "process.rlimits[0]: set RLIMIT_NOFILE") != NULL);
  return 0;
}

Test (process_rlimits, error_names_the_limit)
{
  struct oci_process *p = process_from (
      "{\"args\":[\"true\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0},"
      "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":100,\"hard\":200}]}");
  cr_assert_eq (in_child (child_rlimit_error, p), 0);
  oci_process_free (p);
}

/* ---- seccomp ---- */

static const char seccomp_config[] =
    "{\"ociVersion\":\"1.1.0\",\"root\":{\"path\":\"rootfs\"},"
    "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
    "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\"],"
    "\"syscalls\":["
    "{\"names\":[\"mkdir\",\"mkdirat\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":28},"
    "{\"names\":[\"uname\"],\"action\":\"SCMP_ACT_ERRNO\"},"
    "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\","
    " \"args\":[{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_EQ\"},"
    "           {\"index\":0,\"value\":131080,\"op\":\"SCMP_CMP_EQ\"}]},"
    "{\"names\":[\"getpid\"],\"action\":\"SCMP_ACT_ALLOW\"},"
    "{\"names\":[\"no_such_syscall_in_any_kernel\"],\"action\":\"SCMP_ACT_ERRNO\"}"
    "]}}}";

static char *
export_pfc (scmp_filter_ctx ctx)
{
  int fd = memfd_create ("pfc", 0);
  char *buf = calloc (1, 65536);
  ssize_t n;

  cr_assert_geq (fd, 0);
  cr_assert_eq (seccomp_export_pfc (ctx, fd), 0);
  lseek (fd, 0, SEEK_SET);
  n = read (fd, buf, 65535);
  cr_assert_gt (n, 0);
  close (fd);
  return buf;
}

Test (process_seccomp, build_and_export)
{
  struct oci_config *c = config_from (seccomp_config);
  cleanup_error hull_error_t err = NULL;
  scmp_filter_ctx ctx = NULL;
  cleanup_free char *pfc = NULL;

  cr_assert_eq (process_seccomp_build (c->linux_spec->seccomp, &ctx, &err), 0, "%s",
                hull_error_msg (&err));
  pfc = export_pfc (ctx);
  cr_expect (strstr (pfc, "x86_64") != NULL, "%s", pfc);
  cr_expect (strstr (pfc, "if ($syscall == 83)") != NULL, "mkdir rule: %s", pfc);
  cr_expect (strstr (pfc, "action ERRNO(28)") != NULL, "%s", pfc);
  cr_expect (strstr (pfc, "action ERRNO(1)") != NULL, "uname gets EPERM: %s", pfc);
  cr_expect (strstr (pfc, "if ($a0 == 8)") != NULL, "personality arg: %s", pfc);
  cr_expect (strstr (pfc, "if ($a0 == 131080)") != NULL, "second alternative: %s", pfc);
  cr_expect (strstr (pfc, "action ALLOW;") != NULL, "default action: %s", pfc);
  seccomp_release (ctx);
  oci_config_free (c);
}

static int
child_seccomp (void *arg)
{
  struct oci_config *c = arg;
  hull_error_t err = NULL;
  struct utsname u;

  CHECK (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
  CHECK (process_seccomp_apply (c->linux_spec->seccomp, &err) == 0);
  errno = 0;
  CHECK (mkdir ("/tmp/hull-seccomp-test-never", 0700) < 0 && errno == ENOSPC);
  CHECK (uname (&u) < 0 && errno == EPERM);
  CHECK (personality (PER_LINUX32) < 0 && errno == EPERM);
  CHECK (personality (0xffffffff) >= 0); /* other arguments allowed */
  CHECK (getpid () > 0);
  return 0;
}

Test (process_seccomp, apply_in_child)
{
  struct oci_config *c = config_from (seccomp_config);
  cr_assert_eq (in_child (child_seccomp, c), 0);
  oci_config_free (c);
}

Test (process_seccomp, notify_refused_clearly)
{
  struct oci_config *c = config_from (
      "{\"ociVersion\":\"1.1.0\",\"root\":{\"path\":\"rootfs\"},"
      "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\","
      "\"listenerPath\":\"/run/l.sock\",\"syscalls\":[{\"names\":[\"mkdir\"],"
      "\"action\":\"SCMP_ACT_NOTIFY\"}]}}}");
  cleanup_error hull_error_t err = NULL;
  scmp_filter_ctx ctx = NULL;

  cr_assert_eq (process_seccomp_build (c->linux_spec->seccomp, &ctx, &err), -1);
  cr_expect (strstr (hull_error_msg (&err), "syscalls[0].action") != NULL, "%s",
             hull_error_msg (&err));
  cr_expect (strstr (hull_error_msg (&err), "NOTIFY is not supported") != NULL);
  cr_assert_null (ctx);
  oci_config_free (c);
}

/* ---- PATH lookup and exec ---- */

static void
touch (const char *path, mode_t mode)
{
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  cr_assert_geq (fd, 0, "%s", path);
  cr_assert_eq (write (fd, "#!/bin/sh\nexit 7\n", 17), 17);
  close (fd);
  cr_assert_eq (chmod (path, mode), 0);
}

Test (process_env, resolve_with_container_path)
{
  char dir[] = "/tmp/hull-env-XXXXXX", buf[512];
  cleanup_error hull_error_t err = NULL;
  char *found = NULL;

  cr_assert_not_null (mkdtemp (dir));
  snprintf (buf, sizeof buf, "%s/a", dir);
  mkdir (buf, 0755);
  snprintf (buf, sizeof buf, "%s/b", dir);
  mkdir (buf, 0755);
  snprintf (buf, sizeof buf, "%s/a/tool", dir);
  touch (buf, 0644); /* not executable: skipped */
  snprintf (buf, sizeof buf, "%s/b/tool", dir);
  touch (buf, 0755);
  snprintf (buf, sizeof buf, "%s/a/sub", dir);
  mkdir (buf, 0755); /* a directory named like the program: skipped */
  snprintf (buf, sizeof buf, "%s/b/sub", dir);
  touch (buf, 0755);

  cleanup_free char *path = NULL;
  cr_assert_gt (asprintf (&path, "PATH=%s/a:%s/b", dir, dir), 0);
  char *env[] = { "HOME=/root", path, NULL };

  cr_assert_eq (process_env_resolve ("tool", env, &found, &err), 0, "%s",
                hull_error_msg (&err));
  snprintf (buf, sizeof buf, "%s/b/tool", dir);
  cr_expect_str_eq (found, buf);
  free (found);
  cr_assert_eq (process_env_resolve ("sub", env, &found, &err), 0);
  snprintf (buf, sizeof buf, "%s/b/sub", dir);
  cr_expect_str_eq (found, buf);
  free (found);

  cr_assert_eq (process_env_resolve ("nope", env, &found, &err), -1);
  cr_expect_eq (err->status, ENOENT);
  cr_expect (strstr (hull_error_msg (&err), "`nope` not found in PATH") != NULL);
  hull_error_free (&err);

  char *env_a[] = { NULL, NULL };
  cr_assert_gt (asprintf (&env_a[0], "PATH=%s/a", dir), 0);
  /* Even root needs one x bit for X_OK. */
  cr_assert_eq (process_env_resolve ("tool", env_a, &found, &err), -1);
  cr_expect_eq (err->status, EACCES, "found but not executable: %s", hull_error_msg (&err));
  free (env_a[0]);
  hull_error_free (&err);

  snprintf (buf, sizeof buf, "%s/b/tool", dir);
  cr_assert_eq (process_env_resolve (buf, NULL, &found, &err), 0);
  cr_expect_str_eq (found, buf);
  free (found);
  cr_expect_str_eq (process_env_get (env, "HOME"), "/root");
  cr_expect_null (process_env_get (env, "HOM"));

  char cmd[600];
  snprintf (cmd, sizeof cmd, "rm -rf %s", dir);
  cr_assert_eq (system (cmd), 0);
}

static int
child_exec (void *arg)
{
  struct oci_process *p = arg;
  hull_error_t err = NULL;

  process_env_exec (p, NULL, &err);
  fprintf (stderr, "%s\n", hull_error_msg (&err));
  return 99;
}

Test (process_env, exec_uses_cwd_env_and_args)
{
  struct oci_process *p = process_from (
      "{\"args\":[\"sh\",\"-c\",\"test \\\"$PWD\\\" = /proc && test \\\"$X\\\" = y && exit 42\"],"
      "\"cwd\":\"/proc\",\"env\":[\"PATH=/usr/bin:/bin\",\"X=y\"],"
      "\"user\":{\"uid\":0,\"gid\":0}}");
  cr_assert_eq (in_child (child_exec, p), 42);
  oci_process_free (p);

  p = process_from ("{\"args\":[\"no-such-program\"],\"cwd\":\"/\","
                    "\"env\":[\"PATH=/nonexistent\"],\"user\":{\"uid\":0,\"gid\":0}}");
  cr_assert_eq (in_child (child_exec, p), 99);
  oci_process_free (p);
}

static int
child_oom (void *arg)
{
  (void) arg;
  hull_error_t err = NULL;
  char buf[16] = { 0 };
  int fd;

  CHECK (process_oom_score_adj_apply (500, &err) == 0);
  fd = open ("/proc/self/oom_score_adj", O_RDONLY);
  CHECK (fd >= 0 && read (fd, buf, sizeof buf - 1) > 0);
  CHECK (atoi (buf) == 500);
  return 0;
}

Test (process_env, oom_score_adj)
{
  cr_assert_eq (in_child (child_oom, NULL), 0);
}

/* ---- scheduler, I/O priority, personality ---- */

static int
child_sched (void *arg)
{
  struct oci_config *c = arg;
  const struct oci_process *p = c->process;
  hull_error_t err = NULL;

  CHECK (process_sched_apply (p->scheduler, &err) == 0);
  CHECK (process_ioprio_apply (p->io_priority, &err) == 0);
  CHECK (process_personality_apply (c->linux_spec->personality, &err) == 0);
  CHECK (sched_getscheduler (0) == SCHED_BATCH);
  errno = 0;
  CHECK (getpriority (PRIO_PROCESS, 0) == 7 && errno == 0);
  /* ioprio_get(IOPRIO_WHO_PROCESS, self): class BE (2) << 13 | 5 */
  CHECK (syscall (SYS_ioprio_get, 1, 0) == ((2 << 13) | 5));
  CHECK (personality (0xffffffff) == PER_LINUX32);
  CHECK (process_sched_apply (NULL, &err) == 0 && process_ioprio_apply (NULL, &err) == 0);
  return 0;
}

Test (process_sched, scheduler_ioprio_personality_in_child)
{
  struct oci_config *c = config_from (
      "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"
      "\"process\":{\"args\":[\"true\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0},"
      "\"scheduler\":{\"policy\":\"SCHED_BATCH\",\"nice\":7},"
      "\"ioPriority\":{\"class\":\"IOPRIO_CLASS_BE\",\"priority\":5}},"
      "\"linux\":{\"personality\":{\"domain\":\"LINUX32\"}}}");
  cr_assert_not_null (c->process->scheduler);
  cr_assert_eq (in_child (child_sched, c), 0);
  oci_config_free (c);
}

static int
child_sched_error (void *arg)
{
  struct oci_config *c = arg;
  hull_error_t err = NULL;

  /* SCHED_DEADLINE with a runtime above its deadline is refused. */
  CHECK (process_sched_apply (c->process->scheduler, &err) < 0);
  CHECK (strstr (hull_error_msg (&err), "process.scheduler: sched_setattr") != NULL);
  return 0;
}

Test (process_sched, error_names_the_field)
{
  struct oci_config *c = config_from (
      "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"
      "\"process\":{\"args\":[\"true\"],\"cwd\":\"/\",\"user\":{\"uid\":0,\"gid\":0},"
      "\"scheduler\":{\"policy\":\"SCHED_DEADLINE\",\"runtime\":20000000,"
      "\"deadline\":10000000,\"period\":30000000}}}");
  cr_assert_eq (in_child (child_sched_error, c), 0);
  oci_config_free (c);
}

Test (process_env, home_from_the_container_passwd)
{
  char dir[] = "/tmp/hull-home-XXXXXX", path[64];
  char *with_home[] = { "PATH=/bin", "HOME=/mine", NULL }, *plain[] = { "PATH=/bin", NULL };
  char **out = NULL;
  hull_error_t err = NULL;
  FILE *f;

  cr_assert_not_null (mkdtemp (dir));
  snprintf (path, sizeof path, "%s/passwd", dir);
  f = fopen (path, "w");
  cr_assert_not_null (f);
  fputs ("root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000::/home/tester:/bin/sh\n", f);
  fclose (f);

  cr_assert_eq (process_env_with_home (with_home, 1000, path, &out, &err), 0);
  cr_expect_null (out, "HOME given in process.env stays as it is");

  cr_assert_eq (process_env_with_home (plain, 1000, path, &out, &err), 0);
  cr_assert_not_null (out);
  cr_expect_str_eq (out[0], "PATH=/bin");
  cr_expect_str_eq (out[1], "HOME=/home/tester");
  cr_expect_null (out[2]);
  free (out[1]);
  free (out);

  cr_assert_eq (process_env_with_home (plain, 4242, path, &out, &err), 0);
  cr_expect_str_eq (out[1], "HOME=/", "no passwd entry: /");
  free (out[1]);
  free (out);

  cr_assert_eq (process_env_with_home (NULL, 0, "/nonexistent/passwd", &out, &err), 0);
  cr_expect_str_eq (out[0], "HOME=/", "no passwd file: /");
  cr_expect_null (out[1]);
  free (out[0]);
  free (out);
  unlink (path);
  rmdir (dir);
}
