/* Creating the container's processes.  The child side reports failures
 * through a status pipe (close-on-exec, so a successful exec reads as
 * EOF): 'R' = container set up and waiting for start, 'E' + message =
 * failed. */
#include "cmd/hull-agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/container_setup.h"
#include "runtime/process_setup.h"

/* ---- child side ---- */

static void
child_fail (int status_fd, hull_error_t *err)
{
  const char *msg = hull_error_msg (err);
  char e = 'E';

  if (write (status_fd, &e, 1) == 1 && write (status_fd, msg, strlen (msg)) < 0)
    {
      /* Nobody to tell: the agent sees an error-less EOF and says so. */
    }
  _exit (127);
}

static int
child_stdio (const struct agent_stdio *io, hull_error_t *err)
{
  sigset_t none;

  sigemptyset (&none);
  sigprocmask (SIG_SETMASK, &none, NULL);
  for (int s = 1; s < NSIG; s++)
    signal (s, SIG_DFL);
  if (setsid () < 0)
    return hull_error (err, errno, "setsid");
  if (io->tty_slave >= 0)
    {
      if (ioctl (io->tty_slave, TIOCSCTTY, 0) < 0)
        return hull_error (err, errno, "make the pty the controlling terminal");
      for (int i = 0; i < 3; i++)
        if (dup2 (io->tty_slave, i) < 0)
          return hull_error (err, errno, "dup2 pty");
      return 0;
    }
  for (int i = 0; i < 3; i++)
    {
      int fd = io->fds[i] >= 0 ? io->fds[i] : open ("/dev/null", O_RDWR);
      if (fd < 0 || dup2 (fd, i) < 0)
        return hull_error (err, errno, "set up stdio %d", i);
    }
  return 0;
}

static int
join_cgroup_self (const struct agent_container *c, hull_error_t *err)
{
  return agent_cgroup_join (c, 0, err); /* 0: the writer itself */
}

/* Everything of process.* that changes the calling process, then execve. */
static int
child_process (const struct oci_process *p, const struct oci_linux *l, hull_error_t *err)
{
  const struct oci_seccomp *sc = l ? l->seccomp : NULL;
  char **env = NULL; /* the process execs or exits: never freed */

  /* Not applied: apparmorProfile and selinuxLabel (the guest kernel runs
   * no LSM policy), execCPUAffinity. */
  if (process_rlimits_apply (p->rlimits, p->n_rlimits, err) < 0
      || process_sched_apply (p->scheduler, err) < 0
      || process_ioprio_apply (p->io_priority, err) < 0
      || process_personality_apply (l ? l->personality : NULL, err) < 0)
    return -1;
  if (p->has_oom_score_adj && process_oom_score_adj_apply (p->oom_score_adj, err) < 0)
    return -1;
  /* Before seccomp and the user switch, which may forbid the read. */
  if (process_env_with_home (p->env.v, p->user.uid, "/etc/passwd", &env, err) < 0)
    return -1;
  if (process_caps_drop_bounding (p->capabilities, err) < 0)
    return -1;
  if (p->no_new_privileges && prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return hull_error (err, errno, "process.noNewPrivileges");
  /* Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which the
   * user switch may drop: load it while still privileged. */
  if (!p->no_new_privileges && process_seccomp_apply (sc, err) < 0)
    return -1;
  if (process_user_apply (&p->user, err) < 0 || process_caps_apply (p->capabilities, err) < 0)
    return -1;
  if (p->no_new_privileges && process_seccomp_apply (sc, err) < 0)
    return -1;
  return process_env_exec (p, env, err);
}

static bool
config_mounts_dev (const struct oci_config *c)
{
  for (size_t i = 0; i < c->n_mounts; i++)
    if (strcmp (c->mounts[i].destination, "/dev") == 0)
      return true;
  return false;
}

static int
child_container_setup (struct agent_container *c, hull_error_t *err)
{
  const struct oci_config *cfg = c->config;

  if (join_cgroup_self (c, err) < 0)
    return -1;
  if (cfg->linux_spec && oci_linux_namespace (cfg->linux_spec, OCI_NS_CGROUP)
      && unshare (CLONE_NEWCGROUP) < 0)
    return hull_error (err, errno, "unshare cgroup namespace");
  if (container_mounts_apply (cfg, c->rootfs, err) < 0
      || container_root_switch (c->rootfs, err) < 0)
    return -1;
  /* Device nodes only on a /dev of the container's own (tmpfs); a /dev
   * from the rootfs is taken as is. */
  if (config_mounts_dev (cfg) && container_devices_create (cfg->linux_spec, err) < 0)
    return -1;
  if (container_system_apply (cfg, err) < 0 || container_paths_finish (cfg, err) < 0)
    return -1;
  return 0;
}

/* The namespaces of the pod's sandbox a pod app container joins (-1:
 * none): ipc and uts in the child, pid around the clone. */
struct shared_ns
{
  int ipc, uts, pid;
};

static void __attribute__ ((noreturn))
init_child (struct agent_container *c, const struct agent_stdio *io, int start_fd,
            int status_fd, const struct shared_ns *sh)
{
  hull_error_t err = NULL;
  char go;

  if (sh->ipc >= 0 && setns (sh->ipc, CLONE_NEWIPC) < 0)
    hull_error (&err, errno, "join the pod sandbox's ipc namespace");
  else if (sh->uts >= 0 && setns (sh->uts, CLONE_NEWUTS) < 0)
    hull_error (&err, errno, "join the pod sandbox's uts namespace");
  if (err != NULL || child_stdio (io, &err) < 0 || child_container_setup (c, &err) < 0)
    child_fail (status_fd, &err);
  if (write (status_fd, "R", 1) != 1)
    _exit (127);
  /* EOF instead of a byte: the agent dropped the container. */
  if (read (start_fd, &go, 1) != 1)
    _exit (127);
  close (start_fd);
  if (c->config->process == NULL)
    hull_error (&err, EINVAL, "config has no process to start");
  else
    child_process (c->config->process, c->config->linux_spec, &err);
  child_fail (status_fd, &err);
  _exit (127);
}

/* ---- agent side ---- */

/* Read the status pipe: 1 for 'R', 0 for EOF (exec happened), -1 with the
 * child's message. */
static int
read_status (int fd, const char *what, hull_error_t *err)
{
  char buf[4096];
  size_t len = 0;
  ssize_t n;

  do
    n = read (fd, buf, 1);
  while (n < 0 && errno == EINTR);
  if (n == 0)
    return 0;
  if (n < 0)
    return hull_error (err, errno, "%s: read status", what);
  if (buf[0] == 'R')
    return 1;
  while (len < sizeof buf - 1)
    {
      n = read (fd, buf + len, sizeof buf - 1 - len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      len += (size_t) n;
    }
  buf[len] = '\0';
  return hull_error (err, 0, "%s: %s", what, len ? buf : "failed without a message");
}

/* A namespace entry with a path in a pod app container's config names
 * the sandbox's (runtime/pod.h): joined, not created. */
static bool
shared (const struct agent_container *c, const struct oci_namespace *ns)
{
  return ns != NULL && ns->path != NULL && c->share != NULL;
}

static int
clone_flags (const struct agent_container *c, hull_error_t *err)
{
  int flags = CLONE_NEWNS;
  const struct oci_linux *l = c->config->linux_spec;
  const struct oci_namespace *ns;

  if (l == NULL)
    return flags;
  if (oci_linux_namespace (l, OCI_NS_USER))
    return hull_error (err, ENOTSUP, "linux.namespaces: user namespaces are not supported by hull-agent yet");
  if ((ns = oci_linux_namespace (l, OCI_NS_PID)) != NULL && !shared (c, ns))
    flags |= CLONE_NEWPID;
  if ((ns = oci_linux_namespace (l, OCI_NS_UTS)) != NULL && !shared (c, ns))
    flags |= CLONE_NEWUTS;
  if ((ns = oci_linux_namespace (l, OCI_NS_IPC)) != NULL && !shared (c, ns))
    flags |= CLONE_NEWIPC;
  /* network: the VM is the container's network namespace; cgroup: joined
   * after the move into the container cgroup (child_container_setup);
   * time: not needed in a VM of its own. */
  return flags;
}

static int open_ns (pid_t pid, const char *name);

static void
shared_ns_close (struct shared_ns *sh)
{
  if (sh->ipc >= 0)
    close (sh->ipc);
  if (sh->uts >= 0)
    close (sh->uts);
  if (sh->pid >= 0)
    close (sh->pid);
}

/* Open the sandbox's namespaces the config shares. */
static int
shared_ns_open (const struct agent_container *c, struct shared_ns *sh, hull_error_t *err)
{
  const struct oci_linux *l = c->config->linux_spec;
  static const struct
  {
    enum oci_ns_type type;
    const char *name;
    size_t off;
  } kinds[] = { { OCI_NS_IPC, "ns/ipc", offsetof (struct shared_ns, ipc) },
                { OCI_NS_UTS, "ns/uts", offsetof (struct shared_ns, uts) },
                { OCI_NS_PID, "ns/pid", offsetof (struct shared_ns, pid) } };

  sh->ipc = sh->uts = sh->pid = -1;
  for (size_t i = 0; l != NULL && i < sizeof kinds / sizeof kinds[0]; i++)
    {
      int *fd = (int *) (void *) ((char *) sh + kinds[i].off);
      if (!shared (c, oci_linux_namespace (l, kinds[i].type)))
        continue;
      *fd = open_ns (c->share->init_pid, kinds[i].name);
      if (*fd < 0)
        {
          hull_error (err, errno, "open the %s of pod sandbox `%s`", kinds[i].name,
                      c->share->id);
          shared_ns_close (sh);
          return -1;
        }
    }
  return 0;
}

int
agent_spawn_init (struct agent_container *c, const struct agent_stdio *io,
                  hull_error_t *err)
{
  cleanup_close int self_pid = -1;
  struct shared_ns sh;
  int start[2], status[2], flags, r;
  pid_t pid;

  flags = clone_flags (c, err);
  if (flags < 0 || shared_ns_open (c, &sh, err) < 0)
    return -1;
  /* The sandbox's pid namespace: the child is born in it (pid_for_children)
   * and stays our child. */
  if (sh.pid >= 0
      && ((self_pid = open ("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)) < 0
          || setns (sh.pid, CLONE_NEWPID) < 0))
    {
      shared_ns_close (&sh);
      return hull_error (err, errno, "join the pod sandbox's pid namespace");
    }
  if (pipe2 (start, O_CLOEXEC) < 0)
    {
      r = hull_error (err, errno, "pipe");
      goto restore;
    }
  if (pipe2 (status, O_CLOEXEC) < 0)
    {
      close (start[0]);
      close (start[1]);
      r = hull_error (err, errno, "pipe");
      goto restore;
    }
  /* clone(2) without a new stack behaves like fork, with namespaces. */
  pid = (pid_t) syscall (SYS_clone, (unsigned long) flags | SIGCHLD, NULL, NULL, NULL, 0);
  if (pid == 0)
    {
      close (start[1]);
      close (status[0]);
      init_child (c, io, start[0], status[1], &sh);
    }
  r = pid < 0 ? errno : 0;
  if (self_pid >= 0 && setns (self_pid, CLONE_NEWPID) < 0)
    agent_log ("cannot return to the agent's pid namespace: %s", strerror (errno));
  shared_ns_close (&sh);
  close (start[0]);
  close (status[1]);
  if (pid < 0)
    {
      close (start[1]);
      close (status[0]);
      return hull_error (err, r, "clone container init");
    }
  c->init_pid = pid;
  c->start_fd = start[1];
  c->status_fd = status[0];
  r = read_status (c->status_fd, "create container", err);
  if (r == 1)
    return 0;
  if (r == 0)
    hull_error (err, 0, "create container: init exited during setup");
  kill (pid, SIGKILL);
  return -1;
restore:
  if (self_pid >= 0 && setns (self_pid, CLONE_NEWPID) < 0)
    agent_log ("cannot return to the agent's pid namespace: %s", strerror (errno));
  shared_ns_close (&sh);
  return r;
}

int
agent_spawn_start (struct agent_container *c, hull_error_t *err)
{
  int r;

  if (c->start_fd < 0)
    return hull_error (err, EALREADY, "container `%s` already started", c->id);
  if (write (c->start_fd, "g", 1) != 1)
    return hull_error (err, errno, "start container: signal init");
  close (c->start_fd);
  c->start_fd = -1;
  r = read_status (c->status_fd, "start container", err);
  close (c->status_fd);
  c->status_fd = -1;
  if (r < 0)
    return -1;
  c->started = true;
  return 0;
}

static int
open_ns (pid_t pid, const char *name)
{
  char path[64];
  snprintf (path, sizeof path, "/proc/%d/%s", pid, name);
  return open (path, O_RDONLY | O_CLOEXEC);
}

/* Join `name` of the init unless it is ours already. */
static int
join_ns (pid_t init, const char *name, int type, hull_error_t *err)
{
  cleanup_close int fd = open_ns (init, name);
  char self_path[64];
  struct stat a, b;

  snprintf (self_path, sizeof self_path, "/proc/self/%s", name);
  if (fd < 0)
    return hull_error (err, errno, "open %s of the container init", name);
  if (fstat (fd, &a) == 0 && stat (self_path, &b) == 0 && a.st_ino == b.st_ino)
    return 0;
  if (setns (fd, type) < 0)
    return hull_error (err, errno, "join the container's %s", name);
  return 0;
}

static void __attribute__ ((noreturn))
exec_child (struct agent_container *c, const struct oci_process *p,
            const struct agent_stdio *io, int root_fd, int status_fd)
{
  hull_error_t err = NULL;

  if (child_stdio (io, &err) < 0 || join_cgroup_self (c, &err) < 0
      || join_ns (c->init_pid, "ns/cgroup", CLONE_NEWCGROUP, &err) < 0
      || join_ns (c->init_pid, "ns/ipc", CLONE_NEWIPC, &err) < 0
      || join_ns (c->init_pid, "ns/uts", CLONE_NEWUTS, &err) < 0
      || join_ns (c->init_pid, "ns/mnt", CLONE_NEWNS, &err) < 0)
    child_fail (status_fd, &err);
  /* setns(mnt) leaves us at the namespace's root mount, which may be the
   * overmounted initramfs: take init's root explicitly. */
  if (fchdir (root_fd) < 0 || chroot (".") < 0 || chdir ("/") < 0)
    {
      hull_error (&err, errno, "enter the container root");
      child_fail (status_fd, &err);
    }
  close (root_fd);
  child_process (p, c->config->linux_spec, &err);
  child_fail (status_fd, &err);
  _exit (127);
}

int
agent_spawn_exec (struct agent_container *c, const struct oci_process *p,
                  const struct agent_stdio *io, pid_t *out, hull_error_t *err)
{
  cleanup_close int root_fd = open_ns (c->init_pid, "root");
  cleanup_close int self_pid = open ("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
  cleanup_close int init_pidns = open_ns (c->init_pid, "ns/pid");
  int status[2], r;
  pid_t pid;

  if (root_fd < 0 || self_pid < 0 || init_pidns < 0)
    return hull_error (err, errno, "exec: open the container init's namespaces");
  if (pipe2 (status, O_CLOEXEC) < 0)
    return hull_error (err, errno, "pipe");
  /* The child must be born in the container's pid namespace, yet remain
   * our child so we can wait for it: switch pid_for_children around the
   * fork. */
  if (setns (init_pidns, CLONE_NEWPID) < 0)
    {
      close (status[0]);
      close (status[1]);
      return hull_error (err, errno, "exec: join the container's pid namespace");
    }
  pid = fork ();
  if (pid == 0)
    {
      close (status[0]);
      exec_child (c, p, io, root_fd, status[1]);
    }
  if (setns (self_pid, CLONE_NEWPID) < 0)
    agent_log ("cannot return to the agent's pid namespace: %s", strerror (errno));
  close (status[1]);
  if (pid < 0)
    {
      close (status[0]);
      return hull_error (err, errno, "exec: fork");
    }
  r = read_status (status[0], "exec", err);
  close (status[0]);
  if (r < 0)
    return -1;
  *out = pid;
  return 0;
}

uint32_t
agent_ns_pid (pid_t pid)
{
  char path[64], line[256];
  cleanup_fclose FILE *f = NULL;
  uint32_t last = (uint32_t) pid;

  snprintf (path, sizeof path, "/proc/%d/status", pid);
  f = fopen (path, "re");
  if (f == NULL)
    return last;
  while (fgets (line, sizeof line, f))
    if (strncmp (line, "NSpid:", 6) == 0)
      {
        char *p = line + 6, *end;
        for (;;)
          {
            unsigned long v = strtoul (p, &end, 10);
            if (end == p)
              break;
            last = (uint32_t) v;
            p = end;
          }
        break;
      }
  return last;
}
