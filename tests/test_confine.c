/* runtime/confine.c: the filter's rules, checked in forked children (a
 * seccomp filter cannot be removed, so each check runs in a child and the
 * parent looks at how it ended). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/confine.h"
#include "runtime/settings.h"

/* Exit codes of the children: what went wrong before the interesting call. */
enum { CHILD_OK = 0, CHILD_NO_FILTER = 90, CHILD_ALLOWED_FAILED = 91 };

static void
load_filter_or_exit (void)
{
  hull_error_t err = NULL;
  scmp_filter_ctx f = NULL;

  if (confine_filter_build (&f, &err) < 0 || seccomp_load (f) < 0)
    _exit (CHILD_NO_FILTER);
  seccomp_release (f);
}

/* Runs fn in a child under the filter; returns its wait status. */
static int
in_filtered_child (void (*fn) (void))
{
  int status = 0;
  pid_t pid = fork ();

  cr_assert_geq (pid, 0);
  if (pid == 0)
    {
      load_filter_or_exit ();
      fn ();
      _exit (CHILD_OK);
    }
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  return status;
}

static void
assert_killed_by_sigsys (int status)
{
  cr_assert (WIFSIGNALED (status), "child was not killed: exit %d", WEXITSTATUS (status));
  cr_assert_eq (WTERMSIG (status), SIGSYS, "killed by signal %d", WTERMSIG (status));
}

static void
assert_exited_ok (int status)
{
  cr_assert (WIFEXITED (status), "child killed by signal %d", WTERMSIG (status));
  cr_assert_eq (WEXITSTATUS (status), CHILD_OK, "child exit %d", WEXITSTATUS (status));
}

Test (confine, filter_builds)
{
  hull_error_t err = NULL;
  scmp_filter_ctx f = NULL;

  cr_assert_eq (confine_filter_build (&f, &err), 0, "%s", hull_error_msg (&err));
  cr_assert_not_null (f);
  seccomp_release (f);
}

static void
allowed_calls (void)
{
  int p[2], sp[2];
  char c = 'x';

  if (getpid () <= 0 || pipe2 (p, O_CLOEXEC) < 0 || write (p[1], &c, 1) != 1
      || read (p[0], &c, 1) != 1 || socketpair (AF_UNIX, SOCK_SEQPACKET, 0, sp) < 0)
    _exit (CHILD_ALLOWED_FAILED);
  close (p[0]);
  close (p[1]);
  free (malloc (1 << 20));
}

Test (confine, allowed_calls_survive)
{
  assert_exited_ok (in_filtered_child (allowed_calls));
}

static void
call_getpgrp (void)
{
  syscall (SYS_getpgrp);
}

static void
call_fork (void)
{
  syscall (SYS_fork);
}

static void
call_execve (void)
{
  char *argv[] = { (char *) "/bin/true", NULL };
  execve ("/bin/true", argv, argv + 1);
}

static void
call_ptrace (void)
{
  syscall (SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, 0, 0);
}

static void
call_capset (void)
{
  syscall (SYS_capset, NULL, NULL);
}

static void
call_setuid (void)
{
  syscall (SYS_setuid, 0);
}

Test (confine, forbidden_calls_kill)
{
  void (*calls[]) (void) = { call_getpgrp, call_fork, call_execve, call_ptrace, call_capset,
                             call_setuid };

  for (size_t i = 0; i < sizeof (calls) / sizeof (calls[0]); i++)
    assert_killed_by_sigsys (in_filtered_child (calls[i]));
}

/* clone: a thread yes (pthread_create, which clone3's ENOSYS sends to
 * clone), a process no. */
static void *
thread_fn (void *arg)
{
  return arg;
}

static void
create_thread (void)
{
  pthread_t t;
  void *r = NULL;

  if (syscall (SYS_clone3, NULL, 0) != -1 || errno != ENOSYS)
    _exit (CHILD_ALLOWED_FAILED);
  if (pthread_create (&t, NULL, thread_fn, (void *) 7) != 0 || pthread_join (t, &r) != 0
      || r != (void *) 7)
    _exit (CHILD_ALLOWED_FAILED);
}

static void
clone_process (void)
{
  syscall (SYS_clone, SIGCHLD, 0, 0, 0, 0);
}

Test (confine, clone_threads_only)
{
  assert_exited_ok (in_filtered_child (create_thread));
  assert_killed_by_sigsys (in_filtered_child (clone_process));
}

/* socket: AF_UNIX only; another family is refused, not fatal. */
static void
sockets (void)
{
  int u = socket (AF_UNIX, SOCK_STREAM, 0);

  if (u < 0 || socket (AF_INET, SOCK_STREAM, 0) != -1 || errno != EAFNOSUPPORT
      || socket (AF_NETLINK, SOCK_RAW, 0) != -1 || errno != EAFNOSUPPORT)
    _exit (CHILD_ALLOWED_FAILED);
}

Test (confine, socket_families)
{
  assert_exited_ok (in_filtered_child (sockets));
}

/* ioctl: KVM's and the listed tty ones pass the filter (and fail in the
 * kernel on a pipe), anything else kills. */
static void
listed_ioctls (void)
{
  int p[2];
  struct winsize ws;

  if (pipe (p) < 0)
    _exit (CHILD_ALLOWED_FAILED);
  if (ioctl (p[0], KVM_RUN, 0) != -1 || ioctl (p[0], KVM_GET_API_VERSION, 0) != -1
      || ioctl (p[0], TIOCGWINSZ, &ws) != -1 || ioctl (p[0], FIONREAD, &ws) != 0)
    _exit (CHILD_ALLOWED_FAILED);
}

static void
tiocsti (void)
{
  char c = 'x';
  ioctl (0, TIOCSTI, &c);
}

static void
prctl_set_dumpable (void)
{
  prctl (PR_SET_DUMPABLE, 1, 0, 0, 0);
}

static void
thread_name (void)
{
  if (prctl (PR_SET_NAME, "confined", 0, 0, 0) < 0)
    _exit (CHILD_ALLOWED_FAILED);
}

Test (confine, argument_rules)
{
  assert_exited_ok (in_filtered_child (listed_ioctls));
  assert_exited_ok (in_filtered_child (thread_name));
  assert_killed_by_sigsys (in_filtered_child (tiocsti));
  assert_killed_by_sigsys (in_filtered_child (prctl_set_dumpable));
}

/* The whole confine_apply in a child: no capabilities left, no_new_privs,
 * seccomp mode 2, and the filesystem still reachable as uid 0. */
static long
status_hex (const char *key)
{
  char line[256];
  long v = -1;
  FILE *f = fopen ("/proc/self/status", "re");

  if (f == NULL)
    return -2;
  while (fgets (line, sizeof (line), f) != NULL)
    if (strncmp (line, key, strlen (key)) == 0)
      v = strtol (line + strlen (key) + 1, NULL, 16);
  fclose (f);
  return v;
}

Test (confine, apply_drops_everything)
{
  int status = 0;
  pid_t pid;

  if (geteuid () != 0)
    cr_skip_test ("needs root (capabilities to drop)");
  pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    {
      hull_error_t err = NULL;
      if (confine_apply (&err) < 0)
        _exit (CHILD_NO_FILTER);
      if (status_hex ("CapEff:") != 0 || status_hex ("CapPrm:") != 0
          || status_hex ("CapBnd:") != 0 || status_hex ("CapInh:") != 0
          || status_hex ("CapAmb:") != 0 || status_hex ("NoNewPrivs:") != 1
          || status_hex ("Seccomp:") != 2 || geteuid () != CONFINE_UID)
        _exit (CHILD_ALLOWED_FAILED);
      syscall (SYS_getpgrp);
      _exit (CHILD_OK); /* not reached */
    }
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  assert_killed_by_sigsys (status);
}

/* In a child: closing fds in the test process would close Criterion's. */
static void
close_fds_child (void)
{
  int keep = open ("/dev/null", O_RDONLY), gone = open ("/dev/null", O_RDONLY);
  hull_error_t err = NULL;

  if (keep < 3 || gone < 3 || confine_close_fds (&keep, 1, &err) < 0)
    _exit (CHILD_NO_FILTER);
  if (fcntl (keep, F_GETFD) < 0 || fcntl (gone, F_GETFD) != -1 || fcntl (2, F_GETFD) < 0)
    _exit (CHILD_ALLOWED_FAILED);
  _exit (CHILD_OK);
}

Test (confine, close_fds_keeps_listed)
{
  int status = 0;
  pid_t pid = fork ();

  cr_assert_geq (pid, 0);
  if (pid == 0)
    close_fds_child ();
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  assert_exited_ok (status);
}

Test (confine, setting_defaults_on)
{
  struct hull_settings s;
  hull_error_t err = NULL;
  const char off[] = "{\"confineVmm\": false}", bad[] = "{\"confineVmm\": 0}";

  cr_assert_eq (hull_settings_parse_data ("{}", 2, &s, &err), 0);
  cr_assert (s.confine_vmm);
  hull_settings_free (&s);
  cr_assert_eq (hull_settings_parse_data (off, strlen (off), &s, &err), 0);
  cr_assert_not (s.confine_vmm);
  hull_settings_free (&s);
  cr_assert_lt (hull_settings_parse_data (bad, strlen (bad), &s, &err), 0);
  cr_assert (strstr (hull_error_msg (&err), "confineVmm") != NULL, "%s", hull_error_msg (&err));
  hull_error_free (&err);
}
