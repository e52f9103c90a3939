/* build/hull-agent end to end on the host: the agent runs in test mode
 * (--channel-fd, in a private mount namespace) over a socketpair and this
 * test plays the supervisor (tests/agent_host.h): create a busybox
 * container, start it, feed stdin, exec, signal, ps, stats, wait,
 * shutdown.  Needs root, busybox and build/hull-agent (`make all` builds
 * it before `make unit`). */
#include "tests/agent_host.h"

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
