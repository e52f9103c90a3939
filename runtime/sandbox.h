/* The backend interface: how the per-container supervisor
 * (runtime/supervisor.c) runs the container's processes.
 *
 * The production backend is a microVM with hull-agent as its PID 1
 * (runtime/sandbox_vm*.c, see sandbox_vm.h).  The host
 * test backend (runtime/sandbox_host_test.c, compiled only into
 * build/hull-test) runs the process spec as plain host child processes so
 * the CLI, supervisor, state, hooks and signals can be tested without a VM.
 *
 * Processes are named by a backend-chosen id (uint32_t): the init process
 * is SANDBOX_INIT; exec'd processes get the id returned by exec (their pid
 * as the container sees it, which `hull ps` reports).
 *
 * Exit statuses passed back are shell-style: 0..255 for a normal exit,
 * 128 + N when the process was killed by signal N.
 *
 * The supervisor blocks every signal and reads them from a signalfd; a
 * backend that forks must reset the signal mask and dispositions in the
 * child before running anything. */
#ifndef HULL_SANDBOX_H
#define HULL_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/error.h"
#include "runtime/oci_config.h"
#include "runtime/state.h"

#define SANDBOX_INIT 0u
#define SANDBOX_EVENT_OOM 0xffffffffu

struct sandbox; /* backend private */
struct hull_log;

struct sandbox_create_args
{
  const char *root;      /* the state root (--root) */
  const char *id;
  const char *bundle;    /* absolute */
  const char *rootfs;    /* absolute */
  const char *state_dir; /* $root/<id>, for backend files (sockets...) */
  const struct oci_config *config;
  int stdio[3];          /* the container's stdin/out/err (ignored with a
                            terminal); the backend dups what it keeps */
  int preserve_fds;      /* fds 3 .. 3+preserve_fds-1 go to init as is */
  struct hull_log *log;

  /* The runtime-spec state document for hooks run by the backend. */
  char *(*state_json) (void *ctx, enum container_status s);
  /* Host-side hooks (prestart, createRuntime): the backend calls this
   * once the container environment exists and before it runs the
   * createContainer hooks in the container's namespaces. */
  int (*run_host_hooks) (void *ctx, hull_error_t *err);
  void *ctx;
};

struct sandbox_exec_args
{
  const struct oci_process *process;
  int stdio[3]; /* ignored with process->terminal */
};

struct sandbox_exit
{
  uint32_t proc;
  int status; /* 0..255, or 128 + signal */
  uint32_t ctr; /* 0: the supervisor's own container; else a pod member
                   (sandbox_pod_ops) */
};

struct sandbox_stats
{
  uint64_t cpu_total_ns;
  uint64_t cpu_user_ns;
  uint64_t cpu_kernel_ns;
  uint64_t memory_usage;
  uint64_t memory_limit; /* 0: unknown */
  uint64_t pids_current;
};

struct sandbox_ops
{
  const char *name;

  /* Prepare the container, init not started ("created").  With
   * config->process->terminal, *pty_master receives the pty master (the
   * supervisor sends it to --console-socket and closes it); else -1. */
  int (*create) (const struct sandbox_create_args *a, struct sandbox **out, int *pty_master,
                 hull_error_t *err);
  /* Run init's program (`hull start` ran the startContainer hooks). */
  int (*start) (struct sandbox *sb, hull_error_t *err);
  /* Start another process in the running container. */
  int (*exec) (struct sandbox *sb, const struct sandbox_exec_args *a, uint32_t *proc,
               int *pty_master, hull_error_t *err);
  /* Signal one process, or with `all` every process of the container. */
  int (*signal) (struct sandbox *sb, uint32_t proc, int signo, bool all, hull_error_t *err);
  /* Readable when next_exit may have something (for the supervisor's
   * epoll loop). */
  int (*event_fd) (struct sandbox *sb);
  /* 1 and *out filled when a process has exited, 0 when none is pending.
   * proc == SANDBOX_EVENT_OOM is no exit but a report that the container
   * had processes OOM-killed (status: its OOM kills so far, >= 1). */
  int (*next_exit) (struct sandbox *sb, struct sandbox_exit *out, hull_error_t *err);
  int (*close_stdin) (struct sandbox *sb, uint32_t proc, hull_error_t *err);
  int (*resize) (struct sandbox *sb, uint32_t proc, unsigned rows, unsigned cols,
                 hull_error_t *err);
  int (*pause) (struct sandbox *sb, hull_error_t *err);
  int (*resume) (struct sandbox *sb, hull_error_t *err);
  int (*stats) (struct sandbox *sb, struct sandbox_stats *out, hull_error_t *err);
  int (*update) (struct sandbox *sb, const struct oci_linux_resources *r, hull_error_t *err);
  /* The container's processes (ids as the container sees them). */
  int (*ps) (struct sandbox *sb, pid_t **pids, size_t *n, hull_error_t *err);
  /* ps ids are not host pids (a VM's own pid space): `hull ps` then lists
   * the host processes that stand for the container's (see do_ps). */
  bool guest_pids;
  /* Kill everything, reap, release.  sb may be NULL. */
  void (*destroy) (struct sandbox *sb);
  /* A pod sandbox's backend: the containers that join its VM; NULL when
   * the backend has no pods. */
  const struct sandbox_pod_ops *pod;
};

/* Pods (runtime/pods.md): the sandbox's supervisor runs the pod's other
 * containers (members) in its VM on behalf of their own supervisors.  A
 * member is named by the handle create returns (never 0); its processes
 * and exits are the same as a container's (struct sandbox_exit.ctr is the
 * handle). */
struct sandbox_member_args
{
  const char *id;
  const char *config_json;           /* the member's config.json text */
  const struct oci_config *config;   /* parsed */
  const char *rootfs;                /* guest path (runtime/pod.h) */
  const char *pod_json;              /* its layout (runtime/pod.h) */
  int stdio[3];                      /* ignored with a terminal */
};

struct sandbox_pod_ops
{
  /* Whether this sandbox can hold members (it is a pod sandbox). */
  bool (*is_pod) (struct sandbox *sb);
  int (*create) (struct sandbox *sb, const struct sandbox_member_args *a, uint32_t *ctr,
                 int *pty_master, hull_error_t *err);
  int (*start) (struct sandbox *sb, uint32_t ctr, hull_error_t *err);
  int (*exec) (struct sandbox *sb, uint32_t ctr, const struct sandbox_exec_args *a,
               uint32_t *proc, int *pty_master, hull_error_t *err);
  int (*signal) (struct sandbox *sb, uint32_t ctr, uint32_t proc, int signo, bool all,
                 hull_error_t *err);
  int (*close_stdin) (struct sandbox *sb, uint32_t ctr, uint32_t proc, hull_error_t *err);
  int (*resize) (struct sandbox *sb, uint32_t ctr, uint32_t proc, unsigned rows,
                 unsigned cols, hull_error_t *err);
  int (*pause) (struct sandbox *sb, uint32_t ctr, bool pause, hull_error_t *err);
  int (*stats) (struct sandbox *sb, uint32_t ctr, struct sandbox_stats *out, hull_error_t *err);
  int (*update) (struct sandbox *sb, uint32_t ctr, const struct oci_linux_resources *r,
                 hull_error_t *err);
  int (*ps) (struct sandbox *sb, uint32_t ctr, pid_t **pids, size_t *n, hull_error_t *err);
  /* Kill what is left of the member and forget it (its exits are no
   * longer reported). */
  void (*remove) (struct sandbox *sb, uint32_t ctr);
};

/* The microVM backend of the production binary. */
extern const struct sandbox_ops sandbox_vm_ops;
/* A pod member's backend (runtime/sandbox_pod.c): no VM of its own, every
 * operation goes to the pod sandbox's supervisor.  The supervisor picks it
 * instead of sandbox_vm_ops for a config that names a pod sandbox. */
extern const struct sandbox_ops sandbox_pod_member_ops;

#ifdef HULL_TEST_BACKEND
/* Host processes, for lifecycle tests only (build/hull-test). */
extern const struct sandbox_ops sandbox_host_test_ops;
#endif

#endif
