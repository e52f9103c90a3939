/* Confinement of the running VMM: see runtime/confine.h. */
#include "runtime/confine.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "runtime/settings.h"

/* ---- fds ---- */

static bool
kept (int fd, const int *keep, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (keep[i] == fd)
      return true;
  return false;
}

int
confine_close_fds (const int *keep, size_t n, hull_error_t *err)
{
  DIR *d = opendir ("/proc/self/fd");
  struct dirent *e;
  int self, fds[1024];
  size_t nfds = 0;

  if (d == NULL)
    return hull_error (err, errno, "open `/proc/self/fd`");
  self = dirfd (d);
  /* Collect first: closing while reading the directory skips entries. */
  while ((e = readdir (d)) != NULL && nfds < sizeof (fds) / sizeof (fds[0]))
    {
      char *end;
      long fd = strtol (e->d_name, &end, 10);

      if (e->d_name[0] == '.' || *end != '\0' || fd < 3 || fd == self || kept ((int) fd, keep, n))
        continue;
      fds[nfds++] = (int) fd;
    }
  closedir (d);
  for (size_t i = 0; i < nfds; i++)
    close (fds[i]);
  return 0;
}

/* ---- capabilities ---- */

static bool
have_effective (cap_value_t c)
{
  cap_t cur = cap_get_proc ();
  cap_flag_value_t v = CAP_CLEAR;

  if (cur != NULL)
    cap_get_flag (cur, c, CAP_EFFECTIVE, &v);
  cap_free (cur);
  return v == CAP_SET;
}

/* Bounding and ambient sets of this thread (needs CAP_SETPCAP, so first).
 * Without CAP_SETPCAP (an unprivileged `hull boot`) the bounding set stays:
 * it only matters to execve, which the filter forbids. */
static int
drop_bounding_ambient (hull_error_t *err)
{
  cap_value_t last = cap_max_bits ();

  if (have_effective (CAP_SETPCAP))
    for (cap_value_t c = 0; c < last; c++)
      if (cap_get_bound (c) == 1 && cap_drop_bound (c) < 0)
        return hull_error (err, errno, "drop capability %d from the bounding set", (int) c);
  if (cap_reset_ambient () < 0 && errno != EINVAL)
    return hull_error (err, errno, "clear the ambient capabilities");
  return 0;
}

/* Every thread: effective uid CONFINE_UID, which clears each thread's
 * effective capabilities (glibc runs setresuid on all threads).  The real
 * and saved uids stay 0, so this thread may take filesystem uid 0 back
 * without any capability: the state directory stays reachable. */
static int
leave_euid_zero (hull_error_t *err)
{
  if (setresuid ((uid_t) -1, CONFINE_UID, (uid_t) -1) < 0)
    return hull_error (err, errno, "setresuid (-1, %d, -1)", CONFINE_UID);
  setfsuid (0);
  if (setfsuid ((uid_t) -1) != 0)
    return hull_error (err, EPERM, "filesystem uid 0 after leaving effective uid 0");
  return 0;
}

static int
drop_caps (hull_error_t *err)
{
  cap_t none;
  int r;

  if (drop_bounding_ambient (err) < 0)
    return -1;
  if (getuid () == 0 && geteuid () == 0 && leave_euid_zero (err) < 0)
    return -1;
  none = cap_init ();
  if (none == NULL)
    return hull_error (err, errno, "cap_init");
  r = cap_set_proc (none);
  cap_free (none);
  if (r < 0)
    return hull_error (err, errno, "clear the capability sets");
  return 0;
}

/* ---- the seccomp filter ---- */

/* Calls allowed with any arguments.  What needs them: I/O on the fds set
 * up at create (relays, agent channel, console, virtio devices: read,
 * write, vectors, pread for vhost-user and the log tail), epoll and
 * eventfd loops, signalfd, the CLI socket (accept4, SCM_RIGHTS over
 * sendmsg/recvmsg), reading config.json again for exec (openat, fstat),
 * ptys for terminal execs (posix_openpt opens /dev/ptmx), malloc and
 * thread stacks (mmap family, brk), pthread (futex, rseq, robust lists,
 * madvise on exit), vCPU kicks (tgkill, rt_sigtimedwait), stopping
 * virtiofsd (kill, pidfd, wait4), removing the socket and the volume file
 * copies (unlink, rmdir), time. */
static const int allowed[] = {
  SCMP_SYS (read), SCMP_SYS (write), SCMP_SYS (readv), SCMP_SYS (writev),
  SCMP_SYS (pread64), SCMP_SYS (pwrite64), SCMP_SYS (preadv), SCMP_SYS (pwritev),
  SCMP_SYS (preadv2), SCMP_SYS (pwritev2), SCMP_SYS (lseek), SCMP_SYS (close),
  SCMP_SYS (close_range), SCMP_SYS (dup), SCMP_SYS (dup2), SCMP_SYS (dup3),
  SCMP_SYS (fcntl), SCMP_SYS (openat), SCMP_SYS (open), SCMP_SYS (fstat),
  SCMP_SYS (newfstatat), SCMP_SYS (stat), SCMP_SYS (lstat), SCMP_SYS (statx),
  SCMP_SYS (fstatfs), SCMP_SYS (statfs), SCMP_SYS (access), SCMP_SYS (faccessat),
  SCMP_SYS (faccessat2), SCMP_SYS (readlink), SCMP_SYS (readlinkat), SCMP_SYS (getdents64),
  SCMP_SYS (unlink), SCMP_SYS (unlinkat), SCMP_SYS (rmdir), SCMP_SYS (ftruncate), SCMP_SYS (fsync),
  SCMP_SYS (fdatasync), SCMP_SYS (pipe2), SCMP_SYS (memfd_create),
  SCMP_SYS (epoll_create1), SCMP_SYS (epoll_ctl), SCMP_SYS (epoll_wait),
  SCMP_SYS (epoll_pwait), SCMP_SYS (epoll_pwait2), SCMP_SYS (poll), SCMP_SYS (ppoll),
  SCMP_SYS (select), SCMP_SYS (pselect6), SCMP_SYS (eventfd2), SCMP_SYS (signalfd4),
  SCMP_SYS (timerfd_create), SCMP_SYS (timerfd_settime), SCMP_SYS (timerfd_gettime),
  SCMP_SYS (socketpair), SCMP_SYS (connect), SCMP_SYS (accept4), SCMP_SYS (accept),
  SCMP_SYS (sendmsg), SCMP_SYS (recvmsg), SCMP_SYS (sendto), SCMP_SYS (recvfrom),
  SCMP_SYS (sendmmsg), SCMP_SYS (recvmmsg), SCMP_SYS (shutdown), SCMP_SYS (getsockopt),
  SCMP_SYS (setsockopt), SCMP_SYS (getsockname), SCMP_SYS (getpeername),
  SCMP_SYS (mmap), SCMP_SYS (munmap), SCMP_SYS (mprotect), SCMP_SYS (mremap),
  SCMP_SYS (madvise), SCMP_SYS (brk), SCMP_SYS (futex), SCMP_SYS (set_robust_list),
  SCMP_SYS (get_robust_list), SCMP_SYS (rseq), SCMP_SYS (sched_yield),
  SCMP_SYS (sched_getaffinity), SCMP_SYS (set_tid_address), SCMP_SYS (clock_gettime),
  SCMP_SYS (clock_getres), SCMP_SYS (clock_nanosleep), SCMP_SYS (nanosleep),
  SCMP_SYS (gettimeofday), SCMP_SYS (time), SCMP_SYS (rt_sigaction),
  SCMP_SYS (rt_sigprocmask), SCMP_SYS (rt_sigreturn), SCMP_SYS (rt_sigtimedwait),
  SCMP_SYS (rt_sigpending), SCMP_SYS (sigaltstack), SCMP_SYS (restart_syscall),
  SCMP_SYS (kill), SCMP_SYS (tgkill), SCMP_SYS (tkill), SCMP_SYS (pidfd_open),
  SCMP_SYS (pidfd_send_signal), SCMP_SYS (wait4), SCMP_SYS (waitid), SCMP_SYS (getpid),
  SCMP_SYS (gettid), SCMP_SYS (getppid), SCMP_SYS (getuid), SCMP_SYS (geteuid),
  SCMP_SYS (getgid), SCMP_SYS (getegid), SCMP_SYS (getresuid), SCMP_SYS (getresgid),
  SCMP_SYS (getrandom), SCMP_SYS (uname), SCMP_SYS (getrlimit), SCMP_SYS (getrusage),
  SCMP_SYS (sysinfo), SCMP_SYS (exit), SCMP_SYS (exit_group),
};

/* ioctl requests (the kernel takes 32 bits of them): the tty calls of
 * terminal execs (raw mode, window size, pty allocation) and virtio-net's
 * tap offloads.  KVM's are matched by type below. */
static const unsigned long ioctls[] = {
  TCGETS,     TCSETS,     TCSETSW,       TCSETSF,         TIOCGWINSZ, TIOCSWINSZ, TIOCGPTN,
  TIOCSPTLCK, TIOCGPTPEER, FIONBIO,      FIONREAD,        FIOCLEX,    FIONCLEX,   TUNSETOFFLOAD,
  TUNSETVNETHDRSZ, TUNGETIFF,
};

/* What libseccomp gives back is a negative errno. */
static int
rule (hull_error_t *err, const char *what, int r)
{
  if (r < 0)
    return hull_error (err, -r, "seccomp rule for %s", what);
  return 0;
}

static int
add_arg_rules (scmp_filter_ctx f, hull_error_t *err)
{
  const uint32_t allow = SCMP_ACT_ALLOW;

  for (size_t i = 0; i < sizeof (ioctls) / sizeof (ioctls[0]); i++)
    if (rule (err, "ioctl",
              seccomp_rule_add (f, allow, SCMP_SYS (ioctl), 1,
                                SCMP_A1 (SCMP_CMP_MASKED_EQ, 0xffffffffu, ioctls[i])))
        < 0)
      return -1;
  /* Every KVM ioctl: type KVMIO in bits 8-15 of the request. */
  if (rule (err, "ioctl (KVM)",
            seccomp_rule_add (f, allow, SCMP_SYS (ioctl), 1,
                              SCMP_A1 (SCMP_CMP_MASKED_EQ, 0xff00u, (unsigned) KVMIO << 8)))
      < 0)
    return -1;
  /* Threads (hull boot starts its vCPUs after confining), never a new
   * process.  glibc tries clone3 first, whose flags are behind a pointer
   * the filter cannot read: it gets ENOSYS and glibc falls back to clone. */
  if (rule (err, "clone",
            seccomp_rule_add (f, allow, SCMP_SYS (clone), 1,
                              SCMP_A0 (SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)))
          < 0
      || rule (err, "clone3",
               seccomp_rule_add (f, SCMP_ACT_ERRNO (ENOSYS), SCMP_SYS (clone3), 0))
             < 0)
    return -1;
  /* Unix sockets only; other families fail instead of killing, so code
   * that merely probes gets an error. */
  if (rule (err, "socket",
            seccomp_rule_add (f, allow, SCMP_SYS (socket), 1, SCMP_A0 (SCMP_CMP_EQ, AF_UNIX)))
          < 0
      || rule (err, "socket",
               seccomp_rule_add (f, SCMP_ACT_ERRNO (EAFNOSUPPORT), SCMP_SYS (socket), 1,
                                 SCMP_A0 (SCMP_CMP_NE, AF_UNIX)))
             < 0)
    return -1;
  /* Thread names only. */
  if (rule (err, "prctl",
            seccomp_rule_add (f, allow, SCMP_SYS (prctl), 1, SCMP_A0 (SCMP_CMP_EQ, PR_SET_NAME)))
          < 0
      || rule (err, "prctl",
               seccomp_rule_add (f, allow, SCMP_SYS (prctl), 1,
                                 SCMP_A0 (SCMP_CMP_EQ, PR_GET_NAME)))
             < 0)
    return -1;
  return 0;
}

int
confine_filter_build (scmp_filter_ctx *out, hull_error_t *err)
{
  scmp_filter_ctx f = seccomp_init (SCMP_ACT_KILL_PROCESS);

  *out = NULL;
  if (f == NULL)
    return hull_error (err, ENOMEM, "seccomp_init");
  for (size_t i = 0; i < sizeof (allowed) / sizeof (allowed[0]); i++)
    if (rule (err, "the allowlist", seccomp_rule_add (f, SCMP_ACT_ALLOW, allowed[i], 0)) < 0)
      goto fail;
  if (add_arg_rules (f, err) < 0)
    goto fail;
  /* One filter for every thread, including those that exist already. */
  if (rule (err, "TSYNC", seccomp_attr_set (f, SCMP_FLTATR_CTL_TSYNC, 1)) < 0)
    goto fail;
  *out = f;
  return 0;
fail:
  seccomp_release (f);
  return -1;
}

int
confine_apply (hull_error_t *err)
{
  scmp_filter_ctx f = NULL;
  int r;

  if (drop_caps (err) < 0)
    return hull_error_prefix (err, "confine the VMM");
  if (prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return hull_error (err, errno, "confine the VMM: PR_SET_NO_NEW_PRIVS");
  if (confine_filter_build (&f, err) < 0)
    return hull_error_prefix (err, "confine the VMM");
  r = seccomp_load (f);
  seccomp_release (f);
  if (r < 0)
    return hull_error (err, -r, "confine the VMM: load the seccomp filter");
  return 0;
}

int
confine_wanted (bool *out, hull_error_t *err)
{
  const char *path = getenv ("HULL_SETTINGS");
  struct hull_settings s;

  if (hull_settings_load (path && *path ? path : NULL, &s, err) < 0)
    return hull_error_prefix (err, "settings");
  *out = s.confine_vmm;
  hull_settings_free (&s);
  return 0;
}
