/* hull-agent: PID 1 of the microVM.  It boots the guest userspace (mounts,
 * modules), finds the "hull.agent" virtio-console port and serves the
 * protocol of runtime/protocol.md: the VM's container (a pod's VM holds
 * several: the sandbox first, then the app containers, runtime/pods.md),
 * their init and exec'd processes, their stdio as flow-controlled streams.
 *
 * Files: main.c (PID 1 duties, loop), agent_ops.c (requests),
 * agent_ctrs.c (the container table: create, lookup, delete, pods),
 * agent_spawn.c (fork + container/process setup), agent_io.c (stdio
 * streams), agent_cgroup.c (a container's cgroup: stats, freeze, ps),
 * agent_net.c (the guest NICs from the create request), agent_vols.c
 * (bind-mount sources). */
#ifndef HULL_AGENT_H
#define HULL_AGENT_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/error.h"
#include "runtime/oci_config.h"
#include "runtime/protocol.h"

/* One direction of a process's stdio. */
struct agent_io
{
  uint32_t stream; /* 0: not connected */
  int fd;          /* process side: write end for stdin, read end else; -1 closed */
  /* stdin only: bytes from the host not yet written to the process; never
   * more than our stream window, which the peer cannot exceed. */
  uint8_t *buf;
  size_t len;
  bool fin;  /* stdin: host sent FIN, close fd once buf is written */
  bool done; /* output: EOF reached and FIN sent */
};

struct agent_container;

struct agent_proc
{
  struct agent_container *ctr; /* the container it belongs to */
  pid_t pid;         /* in the agent's pid namespace (kill, waitpid) */
  uint32_t cpid;     /* as the container sees it (the protocol's pid) */
  char *exec_id;     /* NULL for init */
  bool exited;
  int wait_status;
  bool exit_sent;
  int64_t exit_at_ms; /* when it exited: EXIT waits a little for output */
  int tty_fd;        /* pty master for resize, -1 without terminal */
  struct agent_io in, out, err;
  uint32_t *waiters; /* WAIT request ids to answer at exit */
  size_t n_waiters;
};

struct agent_container
{
  char *id;
  struct oci_config *config;
  size_t n_mounts_total; /* config->n_mounts before skipped mounts were
                            moved behind it (agent_vols.c) */
  char *rootfs;
  pid_t init_pid;
  int start_fd;  /* write end: one byte lets init go on to exec */
  int status_fd; /* read end: child setup errors; EOF at exec */
  bool started;
  char cgroup[128]; /* /sys/fs/cgroup/<dir> of the container */
  uint64_t oom_kills; /* memory.events oom_kill last reported */
  /* A pod's app container (runtime/pod.h): namespaces its config names by
   * path (ipc, uts, pid) are those of `share`, the pod's sandbox. */
  struct agent_container *share;
  bool deleted; /* DELETE received: freed once its processes are gone */
};

struct agent
{
  struct hull_conn conn;
  int conn_fd;
  int sig_fd; /* signalfd for SIGCHLD */
  /* ctrs[0] is the VM's first container (a pod's sandbox); a pod's app
   * containers follow.  Pointers stay valid while the array grows. */
  struct agent_container **ctrs;
  size_t n_ctrs;
  struct agent_proc *procs;
  size_t n_procs, cap_procs;
  bool shutdown;        /* SHUTDOWN received: power off once flushed */
  bool test_mode;       /* --channel-fd: not PID 1, no power-off */
};

/* main.c */
int64_t agent_now_ms (void);
void agent_log (const char *fmt, ...) __attribute__ ((format (printf, 1, 2)));

/* agent_ops.c: one request; answers are queued on the connection. */
int agent_handle_request (struct agent *a, const struct hull_msg *m, hull_error_t *err);
/* Reap children; answer waiters; send EXIT events that are due. */
int agent_reap (struct agent *a, hull_error_t *err);
int agent_send_due_exits (struct agent *a, hull_error_t *err);
void agent_free (struct agent *a);

/* agent_ctrs.c */
/* Container `id` (not deleted), or NULL. */
struct agent_container *agent_ctr_find (struct agent *a, const char *id);
/* The container a request names (absent id: the VM's first one). */
struct agent_container *agent_ctr_of (struct agent *a, const struct hull_msg *m,
                                      hull_error_t *err);
/* A new container from a create request (config parsed, pod layout and
 * volumes applied, cgroup made; not yet in the table). */
int agent_ctr_new (struct agent *a, const struct hull_msg *m, struct agent_container **out,
                   hull_error_t *err);
int agent_ctr_add (struct agent *a, struct agent_container *c, hull_error_t *err);
void agent_ctr_free (struct agent_container *c);
/* Signal every process of the container (the VM's first: every process
 * but PID 1, as the VM is its). */
int agent_ctr_signal_all (struct agent *a, struct agent_container *c, int sig,
                          hull_error_t *err);
/* DELETE: kill what is left of a pod's app container and forget it. */
int agent_ctr_delete (struct agent *a, struct agent_container *c, hull_error_t *err);
/* Free deleted containers no process refers to any more. */
void agent_ctrs_collect (struct agent *a);

/* agent_spawn.c */
struct agent_stdio
{
  int fds[3];  /* child's stdin/stdout/stderr, -1 = /dev/null */
  int tty_slave; /* with a terminal: the slave, else -1 */
};
/* Create the container's init: new namespaces, mounts, root switch,
 * then it waits on start_fd.  Returns its pid; setup errors are read from
 * the status pipe before returning. */
int agent_spawn_init (struct agent_container *c, const struct agent_stdio *io,
                      hull_error_t *err);
/* Let init exec its process; returns once it has (or failed to). */
int agent_spawn_start (struct agent_container *c, hull_error_t *err);
/* Start a process inside the running container. */
int agent_spawn_exec (struct agent_container *c, const struct oci_process *p,
                      const struct agent_stdio *io, pid_t *out, hull_error_t *err);
/* The pid as seen from the innermost pid namespace of the process. */
uint32_t agent_ns_pid (pid_t pid);

/* agent_io.c */
/* Pipes or a pty for a new process according to the requested streams;
 * fills the child's side in *child and the agent's side in p. */
int agent_io_setup (struct agent *a, struct agent_proc *p, const struct hull_msg *m,
                    bool terminal, struct agent_stdio *child, hull_error_t *err);
void agent_io_close_child (struct agent_stdio *child);
/* DATA from the host. */
int agent_io_on_data (struct agent *a, const struct hull_msg *m, hull_error_t *err);
/* poll() set up and results. */
size_t agent_io_poll_fill (struct agent *a, struct pollfd *fds, struct agent_io **owners,
                           size_t max);
int agent_io_on_ready (struct agent *a, struct agent_io *io, short revents,
                       hull_error_t *err);
void agent_io_release (struct agent_io *io);

/* agent_cgroup.c */
int agent_cgroup_create (struct agent_container *c, hull_error_t *err);
int agent_cgroup_join (const struct agent_container *c, pid_t pid, hull_error_t *err);
int agent_cgroup_stats (const struct agent_container *c, struct hull_msgbuf *mb,
                        hull_error_t *err);
int agent_cgroup_freeze (const struct agent_container *c, bool frozen, hull_error_t *err);
int agent_cgroup_pids (const struct agent_container *c, struct hull_msgbuf *mb,
                       hull_error_t *err);
/* linux.resources into the container's cgroup (create: from the config;
 * update: the request's resources JSON).  Errors name the field. */
int agent_cgroup_apply (const struct agent_container *c, const struct oci_linux_resources *r,
                        hull_error_t *err);
int agent_cgroup_update (const struct agent_container *c, const char *json, hull_error_t *err);
/* Send an OOM event when the container's oom_kill count grew. */
int agent_cgroup_oom_check (struct agent *a, hull_error_t *err);
/* Signal (or, for SIGKILL, cgroup.kill) every process in the cgroup. */
int agent_cgroup_signal (const struct agent_container *c, int sig, hull_error_t *err);
/* Remove the (empty) cgroup directory. */
void agent_cgroup_remove (const struct agent_container *c);

/* agent_vols.c: bind-mount volumes from the kernel command line, or a
 * pod container's binds (runtime/pod.h). */
void agent_vols_boot (void);
int agent_vols_apply (struct oci_config *c, size_t *n_mounts_total, hull_error_t *err);
struct pod_layout;
int agent_vols_apply_pod (struct oci_config *c, const struct pod_layout *l,
                          size_t *n_mounts_total, hull_error_t *err);

/* agent_net.c: lo up, then the interfaces of network_json (NULL: none)
 * named, addressed and routed like the container netns's on the host. */
int agent_net_apply (const char *network_json, hull_error_t *err);

#endif
