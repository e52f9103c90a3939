/* Shared between supervisor.c (setup, event loop) and
 * supervisor_requests.c (request handlers). */
#ifndef HULL_SUPERVISOR_INTERNAL_H
#define HULL_SUPERVISOR_INTERNAL_H

#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "runtime/cgroup_host.h"
#include "runtime/oci_config.h"
#include "runtime/sandbox.h"
#include "runtime/state.h"
#include "runtime/supervisor.h"

struct sup_conn
{
  int fd;
  bool is_exec;     /* an exec relay's connection */
  uint32_t proc;    /* its process, when is_exec */
  uint32_t ctr;     /* 0, or the pod member (exec and member connections) */
  bool is_member;   /* a pod member's supervisor (runtime/supervisor_pod.c):
                       gets its init's exit and OOM events */
  char *member_id;  /* when is_member */
  pid_t peer_pid;   /* the exec relay's host pid (SO_PEERCRED), when is_exec */
  bool proc_exited;
  bool is_events; /* a `hull events` subscriber: gets {"event":"oom"} */
  struct sup_conn *next;
};

struct supervisor
{
  const struct supervisor_args *args;
  const struct sandbox_ops *ops;
  struct sandbox *sb;
  struct oci_config *config;
  char *config_text; /* kept to give exec'd processes a fresh copy of
                        config.process */
  size_t config_len;
  char *state_dir;
  struct container_record rec;
  enum container_status status;
  bool env_attempted; /* backend create was called: poststop hooks apply */
  int exit_status;
  int epfd;
  int listen_fd;
  int sig_fd;
  int backend_fd;
  struct sup_conn *conns;
  struct hull_log *log;
  struct cgroup_host cg; /* linux.cgroupsPath on the host, if any */
  uint64_t oom_kills;    /* OOM kills the backend reported */
};

/* Handle one request from conn; replies on conn.  Takes the fds. */
void supervisor_handle (struct supervisor *s, struct sup_conn *c, yajl_val msg, int *fds,
                        size_t nfds);

/* The state document for hooks and `hull state`. */
char *supervisor_state_json (struct supervisor *s, enum container_status st);

/* The backend reported OOM kills (kills: the container's count so far):
 * record it and tell the `hull events` subscribers. */
void supervisor_oom (struct supervisor *s, int kills);

/* The "data" of a runc stats event as JSON text (NULL: out of memory). */
char *supervisor_stats_json (const struct sandbox_stats *st);

/* An exit event {"event":"exit","status":N} to an exec or member
 * connection (marks its process exited). */
void supervisor_send_exit (struct sup_conn *c, int status);

/* supervisor_pod.c: requests whose op starts with "pod_" (a pod member's
 * supervisor speaking for it), exits of members, and what happens when
 * one's connection goes away. */
int supervisor_pod_request (struct supervisor *s, struct sup_conn *c, const char *op,
                            yajl_val msg, int *fds, size_t nfds, bool *replied, hull_error_t *err);
void supervisor_pod_exit (struct supervisor *s, const struct sandbox_exit *ex);
void supervisor_pod_conn_gone (struct supervisor *s, struct sup_conn *c);
/* A message on a member's exec connection (signal, resize, close_stdin). */
void supervisor_pod_exec_message (struct supervisor *s, struct sup_conn *c, const char *op,
                                  yajl_val msg);

/* The {"ok":true,"pids":[...]} reply of ps. */
int supervisor_reply_pids (struct sup_conn *c, const pid_t *pids, size_t n, hull_error_t *err);
/* Build an exec'd process from a request (see README: "exec"). */
int supervisor_exec_process (struct supervisor *s, yajl_val msg, struct oci_process **out,
                             hull_error_t *err);
/* The request's stdio fds into EA for process P (3 unless it has a tty);
 * WHAT names the request in errors. */
int supervisor_exec_stdio (struct sandbox_exec_args *ea, struct oci_process *p, const int *fds,
                           size_t nfds, const char *what, hull_error_t *err);
/* C becomes the exec connection of process PID of container CTR (0: the
 * VM's own) and gets the reply, with the pty MASTER when there is one. */
int supervisor_exec_reply (struct sup_conn *c, uint32_t ctr, uint32_t pid, int master,
                           hull_error_t *err);

#endif
