/* hull-agent: PID 1 of hull's microVM (see agent.h).
 *   hull-agent                    as /init: boot the guest, serve the port
 *   hull-agent --channel-fd N     serve an already open channel (tests) */
#include "cmd/hull-agent/agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "runtime/cleanup.h"

#define AGENT_PORT_NAME "hull.agent"
#define PORT_WAIT_MS 10000
#define MAX_POLL 256

int64_t
agent_now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
agent_log (const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  fputs ("hull-agent: ", stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
}

/* ---- PID 1 boot ---- */

static void
boot_mount (const char *src, const char *dst, const char *type, unsigned long flags,
            const char *data)
{
  mkdir (dst, 0755);
  if (mount (src, dst, type, flags, data) < 0 && errno != EBUSY)
    agent_log ("mount %s on %s: %s", type, dst, strerror (errno));
}

static void
boot_console (void)
{
  /* The initramfs has no /dev/console node, so the kernel gave us no
   * stdio; devtmpfs has one. */
  if (fcntl (2, F_GETFD) >= 0)
    return;
  int fd = open ("/dev/console", O_RDWR | O_NOCTTY);
  if (fd < 0)
    return;
  for (int i = 0; i < 3; i++)
    if (fd != i)
      dup2 (fd, i);
  if (fd > 2)
    close (fd);
}

static void
boot_filesystems (void)
{
  const unsigned long safe = MS_NOSUID | MS_NODEV | MS_NOEXEC;

  boot_mount ("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
  boot_console ();
  boot_mount ("proc", "/proc", "proc", safe, NULL);
  boot_mount ("sysfs", "/sys", "sysfs", safe, NULL);
  boot_mount ("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=0620,ptmxmode=0666");
  boot_mount ("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
  boot_mount ("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  boot_mount ("cgroup2", "/sys/fs/cgroup", "cgroup2", safe, NULL);
}

/* Modules listed in /lib/modules/load-order, dependencies first. */
static void
boot_modules (void)
{
  cleanup_fclose FILE *f = fopen ("/lib/modules/load-order", "re");
  char line[256], path[300];

  if (f == NULL)
    {
      agent_log ("no /lib/modules/load-order: %s", strerror (errno));
      return;
    }
  while (fgets (line, sizeof line, f))
    {
      line[strcspn (line, "\r\n")] = '\0';
      if (line[0] == '\0' || line[0] == '#')
        continue;
      snprintf (path, sizeof path, "/lib/modules/%s", line);
      cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd < 0)
        {
          agent_log ("module %s: %s", path, strerror (errno));
          continue;
        }
      if (syscall (SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
        agent_log ("load %s: %s", line, strerror (errno));
    }
}

/* hull.rootfs=TAG on the kernel command line (the supervisor's microVM
 * backend, runtime/sandbox_vm_boot.c): the container rootfs is shared as
 * virtio-fs TAG; mount it where the create request's rootfs attribute
 * points.  A failure is only logged: create then names the missing path. */
#define AGENT_ROOTFS_DIR "/run/hull/rootfs"

static void
boot_rootfs (void)
{
  cleanup_fclose FILE *f = fopen ("/proc/cmdline", "re");
  char line[4096], tag[64];
  const char *p;
  size_t n;

  if (f == NULL || fgets (line, sizeof line, f) == NULL)
    return;
  for (p = line; (p = strstr (p, "hull.rootfs=")) != NULL; p++)
    if (p == line || p[-1] == ' ')
      break;
  if (p == NULL)
    return;
  p += strlen ("hull.rootfs=");
  n = strcspn (p, " \n");
  if (n == 0 || n >= sizeof tag)
    {
      agent_log ("hull.rootfs: bad virtio-fs tag");
      return;
    }
  memcpy (tag, p, n);
  tag[n] = '\0';
  mkdir ("/run/hull", 0755);
  mkdir (AGENT_ROOTFS_DIR, 0755);
  if (mount (tag, AGENT_ROOTFS_DIR, "virtiofs", 0, NULL) < 0)
    agent_log ("mount virtio-fs `%s` on %s: %s", tag, AGENT_ROOTFS_DIR, strerror (errno));
}

/* /dev/vportNpM of the port named AGENT_PORT_NAME, or -1. */
static int
port_open (void)
{
  cleanup_closedir DIR *d = opendir ("/sys/class/virtio-ports");
  struct dirent *e;

  if (d == NULL)
    return -1;
  while ((e = readdir (d)) != NULL)
    {
      char path[300], name[64] = { 0 };
      if (e->d_name[0] == '.')
        continue;
      snprintf (path, sizeof path, "/sys/class/virtio-ports/%s/name", e->d_name);
      cleanup_close int nfd = open (path, O_RDONLY | O_CLOEXEC);
      if (nfd < 0 || read (nfd, name, sizeof name - 1) <= 0)
        continue;
      name[strcspn (name, "\n")] = '\0';
      if (strcmp (name, AGENT_PORT_NAME) != 0)
        continue;
      snprintf (path, sizeof path, "/dev/%s", e->d_name);
      return open (path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
    }
  return -1;
}

static int
port_wait (hull_error_t *err)
{
  int64_t deadline = agent_now_ms () + PORT_WAIT_MS;
  int fd;

  /* The port appears once virtio_console has probed the device. */
  while ((fd = port_open ()) < 0)
    {
      if (agent_now_ms () > deadline)
        return hull_error (err, ENODEV, "no virtio port named `%s` after %d ms",
                           AGENT_PORT_NAME, PORT_WAIT_MS);
      usleep (20000);
    }
  /* A port whose host end is not open reads as EOF (POLLHUP): wait for
   * the supervisor instead of mistaking that for a hang-up. */
  for (;;)
    {
      struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };
      if (poll (&p, 1, 100) >= 0 && !(p.revents & POLLHUP))
        return fd;
    }
}

/* ---- the loop ---- */

static int
handle_conn (struct agent *a, hull_error_t *err)
{
  struct hull_msg m;
  int r;

  while ((r = hull_conn_next (&a->conn, &m, err)) == 1)
    {
      if (m.type == HULL_FRAME_DATA)
        r = agent_io_on_data (a, &m, err);
      else if (m.type == HULL_FRAME_REQUEST)
        r = agent_handle_request (a, &m, err);
      else
        r = 0; /* CREDIT: the next poll() round reads output again */
      if (r < 0)
        return -1;
    }
  return r;
}

static int
handle_signals (struct agent *a, hull_error_t *err)
{
  struct signalfd_siginfo si;

  while (read (a->sig_fd, &si, sizeof si) == sizeof si)
    ;
  return agent_reap (a, err);
}

static bool
exits_pending (const struct agent *a)
{
  for (size_t i = 0; i < a->n_procs; i++)
    if (a->procs[i].exited && !a->procs[i].exit_sent)
      return true;
  return false;
}

static int
loop_once (struct agent *a, hull_error_t *err)
{
  struct pollfd fds[MAX_POLL];
  struct agent_io *owners[MAX_POLL];
  size_t n;

  fds[0] = (struct pollfd){ .fd = a->conn_fd,
                            .events = POLLIN | (hull_conn_want_write (&a->conn) ? POLLOUT : 0) };
  fds[1] = (struct pollfd){ .fd = a->sig_fd, .events = POLLIN };
  n = 2 + agent_io_poll_fill (a, fds + 2, owners + 2, MAX_POLL - 2);
  if (poll (fds, n, exits_pending (a) ? 100 : -1) < 0 && errno != EINTR)
    return hull_error (err, errno, "poll");
  /* Stdio first: `owners` points into the process table, which requests
   * below may grow. */
  for (size_t i = 2; i < n; i++)
    if (agent_io_on_ready (a, owners[i], fds[i].revents, err) < 0)
      return -1;
  if ((fds[1].revents & POLLIN) && handle_signals (a, err) < 0)
    return -1;
  if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) && handle_conn (a, err) < 0)
    return -1;
  if (agent_send_due_exits (a, err) < 0)
    return -1;
  return hull_conn_flush (&a->conn, err) < 0 ? -1 : 0;
}

static int
serve (struct agent *a, int fd, hull_error_t *err)
{
  sigset_t chld;

  sigemptyset (&chld);
  sigaddset (&chld, SIGCHLD);
  sigprocmask (SIG_BLOCK, &chld, NULL);
  signal (SIGPIPE, SIG_IGN);
  a->sig_fd = signalfd (-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (a->sig_fd < 0)
    return hull_error (err, errno, "signalfd");
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK);
  a->conn_fd = fd;
  if (hull_conn_init (&a->conn, fd, 0, err) < 0)
    return -1;
  while (!(a->shutdown && !hull_conn_want_write (&a->conn)))
    if (loop_once (a, err) < 0)
      return -1;
  return 0;
}

static void __attribute__ ((noreturn))
power_off (void)
{
  sync ();
  reboot (RB_POWER_OFF);
  /* Still here: nothing else PID 1 may do but wait. */
  for (;;)
    pause ();
}

int
main (int argc, char **argv)
{
  cleanup_error hull_error_t err = NULL;
  struct agent a = { .sig_fd = -1, .conn_fd = -1 };
  int fd = -1, r;

  if (argc == 3 && strcmp (argv[1], "--channel-fd") == 0)
    {
      a.test_mode = true;
      fd = atoi (argv[2]);
    }
  else if (argc != 1)
    {
      fprintf (stderr, "usage: hull-agent [--channel-fd FD]\n");
      return 2;
    }
  else
    {
      boot_filesystems ();
      boot_modules ();
      boot_rootfs ();
      agent_vols_boot ();
      fd = port_wait (&err);
      if (fd < 0)
        {
          agent_log ("%s", hull_error_msg (&err));
          power_off ();
        }
    }
  r = serve (&a, fd, &err);
  if (r < 0)
    agent_log ("%s", hull_error_msg (&err));
  agent_free (&a);
  if (a.test_mode)
    return r < 0 ? 1 : 0;
  power_off ();
}
