/* The host side of build/hull-agent in test mode, for tests that play
 * the supervisor (test_container_agent.c, test_agent_pod.c): the agent
 * runs as a child (--channel-fd, in a private mount namespace) over a
 * socketpair; `call` sends a request and pumps messages until its
 * response, recording stream output and EXIT events.  Needs root and
 * busybox; HULL_AGENT overrides the agent binary (default
 * build/hull-agent, what `make all` builds before `make unit`). */
#ifndef HULL_TESTS_AGENT_HOST_H
#define HULL_TESTS_AGENT_HOST_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/protocol.h"

#define AGENT (getenv ("HULL_AGENT") ? getenv ("HULL_AGENT") : "build/hull-agent")
#define MAX_EXITS 32
#define BUSYBOX "/usr/bin/busybox"
#define N_STREAMS 64

struct host
{
  int fd;
  pid_t agent;
  struct hull_conn conn;
  char root[64];
  char cid[32];
  /* Output per stream id (< N_STREAMS), capped; total counts all. */
  char out[N_STREAMS][4096];
  size_t out_len[N_STREAMS];
  uint64_t total[N_STREAMS];
  bool fin[N_STREAMS];
  /* The last response awaited. */
  bool resp_error;
  uint32_t resp_errno, resp_pid, resp_status;
  char resp_msg[512];
  uint8_t resp_pids[256];
  size_t resp_pids_len;
  uint64_t resp_mem_total;
  /* EXIT events by pid (< N_STREAMS), and all of them in order with
   * their container (pids repeat across pid namespaces). */
  bool exited[N_STREAMS];
  uint32_t exit_status[N_STREAMS];
  struct
  {
    char cid[64];
    uint32_t pid, status;
  } exits[MAX_EXITS];
  size_t n_exits;
};

static inline void
make_rootfs (struct host *h)
{
  static const char *const tools[] = { "sh", "echo", "cat", "head", "sleep", "hostname",
                                       "ls", "true", "stty" };
  char path[256], cmd[512];

  strcpy (h->root, "/tmp/hull-agent-root-XXXXXX");
  cr_assert_not_null (mkdtemp (h->root));
  snprintf (cmd, sizeof cmd, "mkdir -p %s/bin && cp %s %s/bin/busybox", h->root, BUSYBOX,
            h->root);
  cr_assert_eq (system (cmd), 0);
  for (size_t i = 0; i < sizeof tools / sizeof tools[0]; i++)
    {
      snprintf (path, sizeof path, "%s/bin/%s", h->root, tools[i]);
      cr_assert_eq (symlink ("busybox", path), 0);
    }
}

/* Runs the agent as PID 1 of a new pid namespace, as in a VM, so that
 * nothing it started can outlive it: when the agent ends (or a failed
 * assertion ends the test process, which the PDEATHSIG chain passes on),
 * the kernel kills everything left in the namespace, nested container
 * namespaces included.  This process waits and exits with its status. */
static inline void __attribute__ ((noreturn))
exec_agent_pid1 (void)
{
  pid_t pid1;
  int status;

  if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || unshare (CLONE_NEWPID) < 0)
    _exit (122);
  pid1 = fork ();
  if (pid1 < 0)
    _exit (123);
  if (pid1 == 0)
    {
      /* Its pids are this namespace's: /proc must say the same. */
      if (prctl (PR_SET_PDEATHSIG, SIGKILL) < 0 || mount ("proc", "/proc", "proc", 0, NULL) < 0)
        _exit (125);
      execl (AGENT, AGENT, "--channel-fd", "3", (char *) NULL);
      _exit (121);
    }
  /* Only the agent may hold the channel: its end is the test's EOF. */
  close (3);
  while (waitpid (pid1, &status, 0) < 0)
    if (errno != EINTR)
      _exit (124);
  _exit (WIFEXITED (status) ? WEXITSTATUS (status) : 128 + WTERMSIG (status));
}

static inline void
start_agent (struct host *h)
{
  int sv[2];
  cleanup_error hull_error_t err = NULL;

  if (geteuid () != 0)
    cr_skip_test ("needs root");
  if (access (AGENT, X_OK) != 0 || access (BUSYBOX, X_OK) != 0)
    cr_skip_test ("%s or %s missing (run `make all` first)", AGENT, BUSYBOX);
  memset (h, 0, sizeof *h);
  snprintf (h->cid, sizeof h->cid, "agent-test-%d", getpid ());
  make_rootfs (h);
  cr_assert_eq (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  h->agent = fork ();
  cr_assert_geq (h->agent, 0);
  if (h->agent == 0)
    {
      /* A private view: the agent mounts a v2 cgroup tree where PID 1 of a
       * VM would find one. */
      if (unshare (CLONE_NEWNS) < 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
          || mount ("cgroup2", "/sys/fs/cgroup", "cgroup2", 0, NULL) < 0)
        _exit (120);
      /* Only the channel: the test runner's own fds must not live on
       * in the agent and its container. */
      dup2 (sv[1], 3);
      close_range (4, ~0u, 0);
      exec_agent_pid1 ();
    }
  close (sv[1]);
  h->fd = sv[0];
  cr_assert_eq (hull_conn_init (&h->conn, h->fd, 8192, &err), 0);
}

static inline void
stop_agent (struct host *h)
{
  int status;
  char cmd[512];

  hull_conn_free (&h->conn);
  close (h->fd);
  cr_assert_eq (waitpid (h->agent, &status, 0), h->agent);
  snprintf (cmd, sizeof cmd, "rm -rf %s; rmdir /sys/fs/cgroup/unified/hull-%s 2>/dev/null; true",
            h->root, h->cid);
  system (cmd);
  cr_expect (WIFEXITED (status) && WEXITSTATUS (status) == 0,
             "agent exit status 0x%x", status);
}

static inline void
on_message (struct host *h, const struct hull_msg *m, uint32_t want_id, bool *done)
{
  cleanup_error hull_error_t err = NULL;
  uint32_t pid = 0, st = 0;

  switch (m->type)
    {
    case HULL_FRAME_DATA:
      cr_assert_lt (m->id, N_STREAMS);
      cr_assert_not (h->fin[m->id], "data after FIN");
      if (h->out_len[m->id] + m->len < sizeof h->out[0])
        {
          memcpy (h->out[m->id] + h->out_len[m->id], m->payload, m->len);
          h->out_len[m->id] += m->len;
        }
      h->total[m->id] += m->len;
      if (m->flags & HULL_FLAG_FIN)
        h->fin[m->id] = true;
      cr_assert_eq (hull_conn_consumed (&h->conn, m->id, m->len, &err), 0);
      break;
    case HULL_FRAME_EVENT:
      cr_assert_eq (m->op, HULL_EVENT_EXIT);
      hull_msg_get_u32 (m, HULL_ATTR_PID, &pid);
      hull_msg_get_u32 (m, HULL_ATTR_WAIT_STATUS, &st);
      cr_assert_lt (pid, N_STREAMS);
      h->exited[pid] = true;
      h->exit_status[pid] = st;
      if (h->n_exits < MAX_EXITS)
        {
          const char *cid = hull_msg_get_str (m, HULL_ATTR_CONTAINER_ID);
          snprintf (h->exits[h->n_exits].cid, sizeof h->exits[0].cid, "%s", cid ? cid : "");
          h->exits[h->n_exits].pid = pid;
          h->exits[h->n_exits++].status = st;
        }
      break;
    case HULL_FRAME_RESPONSE:
      if (m->id != want_id)
        break;
      *done = true;
      h->resp_error = m->flags & HULL_FLAG_ERROR;
      h->resp_errno = h->resp_pid = h->resp_status = 0;
      h->resp_msg[0] = '\0';
      hull_msg_get_u32 (m, HULL_ATTR_ERRNO, &h->resp_errno);
      hull_msg_get_u32 (m, HULL_ATTR_PID, &h->resp_pid);
      hull_msg_get_u32 (m, HULL_ATTR_WAIT_STATUS, &h->resp_status);
      hull_msg_get_u64 (m, HULL_ATTR_MEMINFO_TOTAL, &h->resp_mem_total);
      if (hull_msg_get_str (m, HULL_ATTR_MESSAGE))
        snprintf (h->resp_msg, sizeof h->resp_msg, "%s", hull_msg_get_str (m, HULL_ATTR_MESSAGE));
      const uint8_t *pids = hull_msg_get_bytes (m, HULL_ATTR_PIDS, &h->resp_pids_len);
      if (pids && h->resp_pids_len <= sizeof h->resp_pids)
        memcpy (h->resp_pids, pids, h->resp_pids_len);
      break;
    default:
      break;
    }
}

/* Pump until `until` holds (response `want_id` seen, or the predicate). */
static inline void
pump (struct host *h, uint32_t want_id, bool (*until) (struct host *, void *), void *arg)
{
  cleanup_error hull_error_t err = NULL;
  struct hull_msg m;
  bool done = false;

  alarm (30); /* a hang fails the test instead of the whole run */
  while (!(want_id ? done : until (h, arg)))
    {
      cr_assert_geq (hull_conn_flush (&h->conn, &err), 0, "%s", hull_error_msg (&err));
      cr_assert_eq (hull_conn_next (&h->conn, &m, &err), 1, "%s", hull_error_msg (&err));
      on_message (h, &m, want_id, &done);
    }
  cr_assert_geq (hull_conn_flush (&h->conn, &err), 0);
  alarm (0);
}

static inline void
call (struct host *h, struct hull_msgbuf *mb)
{
  cleanup_error hull_error_t err = NULL;

  mb->id = hull_conn_next_id (&h->conn);
  cr_assert_eq (hull_conn_send_msg (&h->conn, mb, &err), 0, "%s", hull_error_msg (&err));
  hull_msgbuf_free (mb);
  pump (h, mb->id, NULL, NULL);
}

/* A request for container cid (none for ping and shutdown). */
static inline void
request_for (struct hull_msgbuf *mb, uint16_t op, const char *cid)
{
  hull_msgbuf_init (mb, HULL_FRAME_REQUEST, op, 0);
  if (op != HULL_OP_PING && op != HULL_OP_SHUTDOWN)
    hull_msgbuf_put_str (mb, HULL_ATTR_CONTAINER_ID, cid);
}

static inline void
request (struct host *h, struct hull_msgbuf *mb, uint16_t op)
{
  request_for (mb, op, h->cid);
}

static inline void
open_recv (struct host *h, uint32_t stream)
{
  cleanup_error hull_error_t err = NULL;
  cr_assert_eq (hull_conn_stream_open (&h->conn, stream, HULL_STREAM_RECV, &err), 0);
}

static inline bool
pid_exited (struct host *h, void *arg)
{
  uint32_t pid = *(uint32_t *) arg;
  return h->exited[pid];
}

#endif
