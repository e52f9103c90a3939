/* build/hull-agent end to end on the host: the agent runs in test mode
 * (--channel-fd, in a private mount namespace) over a socketpair and this
 * test plays the supervisor: create a busybox container, start it, feed
 * stdin, exec, signal, ps, stats, wait, shutdown.  Needs root, busybox
 * and build/hull-agent (`make all` builds it before `make unit`). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/protocol.h"

#define AGENT "build/hull-agent"
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
  /* EXIT events by pid (< N_STREAMS). */
  bool exited[N_STREAMS];
  uint32_t exit_status[N_STREAMS];
};

static void
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

static void
start_agent (struct host *h)
{
  int sv[2];
  cleanup_error hull_error_t err = NULL;

  if (geteuid () != 0)
    cr_skip_test ("needs root");
  if (access (AGENT, X_OK) != 0 || access (BUSYBOX, X_OK) != 0)
    cr_skip_test (AGENT " or " BUSYBOX " missing (run `make all` first)");
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
      execl (AGENT, AGENT, "--channel-fd", "3", (char *) NULL);
      _exit (121);
    }
  close (sv[1]);
  h->fd = sv[0];
  cr_assert_eq (hull_conn_init (&h->conn, h->fd, 8192, &err), 0);
}

static void
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

static void
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
static void
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

static void
call (struct host *h, struct hull_msgbuf *mb)
{
  cleanup_error hull_error_t err = NULL;

  mb->id = hull_conn_next_id (&h->conn);
  cr_assert_eq (hull_conn_send_msg (&h->conn, mb, &err), 0, "%s", hull_error_msg (&err));
  hull_msgbuf_free (mb);
  pump (h, mb->id, NULL, NULL);
}

static void
request (struct host *h, struct hull_msgbuf *mb, uint16_t op)
{
  hull_msgbuf_init (mb, HULL_FRAME_REQUEST, op, 0);
  if (op != HULL_OP_PING && op != HULL_OP_SHUTDOWN)
    hull_msgbuf_put_str (mb, HULL_ATTR_CONTAINER_ID, h->cid);
}

static void
open_recv (struct host *h, uint32_t stream)
{
  cleanup_error hull_error_t err = NULL;
  cr_assert_eq (hull_conn_stream_open (&h->conn, stream, HULL_STREAM_RECV, &err), 0);
}

static bool
pid_exited (struct host *h, void *arg)
{
  uint32_t pid = *(uint32_t *) arg;
  return h->exited[pid];
}

static bool
output_has (struct host *h, void *arg)
{
  return strstr (h->out[14], arg) != NULL;
}

static uint32_t
exec (struct host *h, const char *process_json, uint32_t out_stream)
{
  struct hull_msgbuf mb;

  open_recv (h, out_stream);
  request (h, &mb, HULL_OP_EXEC);
  hull_msgbuf_put_str (&mb, HULL_ATTR_EXEC_ID, "e");
  hull_msgbuf_put_str (&mb, HULL_ATTR_PROCESS_JSON, process_json);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_STREAM_STDOUT, out_stream);
  call (h, &mb);
  return h->resp_pid;
}

Test (agent, container_lifecycle)
{
  struct host h;
  struct hull_msgbuf mb;
  cleanup_error hull_error_t err = NULL;
  cleanup_free char *config = NULL;
  uint32_t pid;

  start_agent (&h);

  request (&h, &mb, HULL_OP_PING);
  hull_msgbuf_put_bytes (&mb, HULL_ATTR_NONCE, "xyz", 3);
  call (&h, &mb);
  cr_assert_not (h.resp_error);

  cr_assert_gt (
      asprintf (
          &config,
          "{\"ociVersion\":\"1.1.0\",\"root\":{\"path\":\"%s\"},\"hostname\":\"agenttest\","
          "\"process\":{\"args\":[\"sh\",\"-c\",\"echo hello; read x; echo got $x; echo err >&2; exit 3\"],"
          "  \"cwd\":\"/\",\"env\":[\"PATH=/bin\"],\"user\":{\"uid\":0,\"gid\":0}},"
          "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
          "  {\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"mode=755\"]},"
          "  {\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
          "   \"options\":[\"newinstance\",\"ptmxmode=0666\"]}],"
          "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},"
          "  {\"type\":\"uts\"},{\"type\":\"ipc\"}]}}",
          h.root),
      0);
  open_recv (&h, 2);
  open_recv (&h, 3);
  cr_assert_eq (hull_conn_stream_open (&h.conn, 1, HULL_STREAM_SEND, &err), 0);
  request (&h, &mb, HULL_OP_CREATE);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONFIG_JSON, config);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_STREAM_STDIN, 1);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_STREAM_STDOUT, 2);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_STREAM_STDERR, 3);
  call (&h, &mb);
  cr_assert_not (h.resp_error, "create: %s", h.resp_msg);
  cr_assert_eq (h.resp_pid, 1, "init is pid 1 of its namespace");

  request (&h, &mb, HULL_OP_START);
  call (&h, &mb);
  cr_assert_not (h.resp_error, "start: %s", h.resp_msg);

  /* exec sees the container's root and UTS namespace. */
  pid = exec (&h, "{\"args\":[\"sh\",\"-c\",\"echo exec-ok; hostname; ls /bin/busybox\"],"
                  "\"cwd\":\"/\",\"env\":[\"PATH=/bin\"],\"user\":{\"uid\":0,\"gid\":0}}",
              10);
  cr_assert_not (h.resp_error, "exec: %s", h.resp_msg);
  cr_assert_gt (pid, 1);
  pump (&h, 0, pid_exited, &pid);
  cr_expect (WIFEXITED (h.exit_status[pid]) && WEXITSTATUS (h.exit_status[pid]) == 0);
  cr_expect_str_eq (h.out[10], "exec-ok\nagenttest\n/bin/busybox\n");
  cr_expect (h.fin[10], "output complete before the exit event");

  /* exec of a missing program fails with a message. */
  exec (&h, "{\"args\":[\"nope\"],\"cwd\":\"/\",\"env\":[\"PATH=/bin\"],"
            "\"user\":{\"uid\":0,\"gid\":0}}",
        11);
  cr_expect (h.resp_error);
  cr_expect (strstr (h.resp_msg, "`nope` not found in PATH `/bin`") != NULL, "%s", h.resp_msg);

  /* signal */
  pid = exec (&h, "{\"args\":[\"sleep\",\"100\"],\"cwd\":\"/\",\"env\":[\"PATH=/bin\"],"
                  "\"user\":{\"uid\":0,\"gid\":0}}",
              12);
  cr_assert_not (h.resp_error, "%s", h.resp_msg);
  request (&h, &mb, HULL_OP_PS);
  call (&h, &mb);
  cr_assert_not (h.resp_error, "ps: %s", h.resp_msg);
  cr_expect_geq (h.resp_pids_len, 8, "init and sleep");
  cr_expect_eq (h.resp_pids[0], 1);
  request (&h, &mb, HULL_OP_SIGNAL);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_PID, pid);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_SIGNAL, SIGKILL);
  call (&h, &mb);
  cr_assert_not (h.resp_error, "signal: %s", h.resp_msg);
  pump (&h, 0, pid_exited, &pid);
  cr_expect (WIFSIGNALED (h.exit_status[pid]) && WTERMSIG (h.exit_status[pid]) == SIGKILL);

  /* Flow control: 3 MB through an 8 KiB window. */
  pid = exec (&h, "{\"args\":[\"head\",\"-c\",\"3000000\",\"/dev/zero\"],\"cwd\":\"/\","
                  "\"env\":[\"PATH=/bin\"],\"user\":{\"uid\":0,\"gid\":0}}",
              13);
  cr_assert_not (h.resp_error, "%s", h.resp_msg);
  pump (&h, 0, pid_exited, &pid);
  cr_expect_eq (h.total[13], 3000000);

  /* A terminal: console size applied, then resized; output through the
   * pty (with its \r\n). */
  open_recv (&h, 14);
  request (&h, &mb, HULL_OP_EXEC);
  hull_msgbuf_put_str (&mb, HULL_ATTR_PROCESS_JSON,
                       "{\"terminal\":true,\"consoleSize\":{\"height\":30,\"width\":100},"
                       "\"args\":[\"sh\",\"-c\",\"stty size; read x; stty size\"],"
                       "\"cwd\":\"/\",\"env\":[\"PATH=/bin\"],\"user\":{\"uid\":0,\"gid\":0}}");
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_STREAM_STDIN, 15);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_STREAM_STDOUT, 14);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_TERMINAL, 1);
  cr_assert_eq (hull_conn_stream_open (&h.conn, 15, HULL_STREAM_SEND, &err), 0);
  call (&h, &mb);
  cr_assert_not (h.resp_error, "exec terminal: %s", h.resp_msg);
  pid = h.resp_pid;
  pump (&h, 0, output_has, "30 100\r\n");
  request (&h, &mb, HULL_OP_RESIZE);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_PID, pid);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_ROWS, 40);
  hull_msgbuf_put_u32 (&mb, HULL_ATTR_COLS, 120);
  call (&h, &mb);
  cr_assert_not (h.resp_error, "resize: %s", h.resp_msg);
  cr_assert_eq (hull_conn_send_data (&h.conn, 15, "go\n", 3, &err), 3);
  pump (&h, 0, pid_exited, &pid);
  /* The pty echoes what the host typed. */
  cr_expect_str_eq (h.out[14], "30 100\r\ngo\r\n40 120\r\n");

  request (&h, &mb, HULL_OP_STATS);
  call (&h, &mb);
  cr_assert_not (h.resp_error, "stats: %s", h.resp_msg);
  cr_expect_gt (h.resp_mem_total, 0, "meminfo reported");

  /* init: WAIT first, then let it finish through stdin. */
  struct hull_msgbuf wait;
  request (&h, &wait, HULL_OP_WAIT);
  wait.id = hull_conn_next_id (&h.conn);
  uint32_t wait_id = wait.id;
  cr_assert_eq (hull_conn_send_msg (&h.conn, &wait, &err), 0);
  hull_msgbuf_free (&wait);
  cr_assert_eq (hull_conn_send_data (&h.conn, 1, "world\n", 6, &err), 6);
  cr_assert_eq (hull_conn_send_fin (&h.conn, 1, &err), 0);
  pump (&h, wait_id, NULL, NULL);
  cr_assert_not (h.resp_error, "wait: %s", h.resp_msg);
  cr_expect_eq (h.resp_pid, 1);
  cr_expect (WIFEXITED (h.resp_status) && WEXITSTATUS (h.resp_status) == 3);
  pid = 1;
  pump (&h, 0, pid_exited, &pid);
  cr_expect_str_eq (h.out[2], "hello\ngot world\n");
  cr_expect_str_eq (h.out[3], "err\n");

  request (&h, &mb, HULL_OP_SHUTDOWN);
  call (&h, &mb);
  cr_assert_not (h.resp_error);
  stop_agent (&h);
}

Test (agent, bad_config_is_an_error_response)
{
  struct host h;
  struct hull_msgbuf mb;

  start_agent (&h);
  request (&h, &mb, HULL_OP_CREATE);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONFIG_JSON, "{\"ociVersion\":\"1.1.0\"}");
  call (&h, &mb);
  cr_expect (h.resp_error);
  cr_expect (strstr (h.resp_msg, "config.json") != NULL, "%s", h.resp_msg);

  request (&h, &mb, HULL_OP_START);
  call (&h, &mb);
  cr_expect (h.resp_error);
  cr_expect_eq (h.resp_errno, ENOENT);

  request (&h, &mb, HULL_OP_SHUTDOWN);
  call (&h, &mb);
  stop_agent (&h);
}
