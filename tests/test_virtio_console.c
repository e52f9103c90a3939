/* virtio-console against fake guest memory: console rx/tx through pipes,
 * backpressure, the multiport control protocol and a named port on a
 * socket, partial writes. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/virtio_test_driver.h"
#include "vmm/virtio_console.h"

#define RXQ0 0
#define TXQ0 1
#define CRX 2
#define CTX 3
#define RXQ1 4
#define TXQ1 5

struct ctrl
{
  uint32_t id;
  uint16_t event, value;
} __attribute__ ((packed));

static struct td t;
static struct virtio_console *con;
static int in_pipe[2], out_pipe[2];

static void
setup (void)
{
  hull_error_t err = NULL;

  td_init (&t);
  cr_assert_eq (pipe2 (in_pipe, O_CLOEXEC), 0);
  cr_assert_eq (pipe2 (out_pipe, O_CLOEXEC | O_NONBLOCK), 0);
  cr_assert_eq (virtio_console_new (&t.mem, &t.host, in_pipe[0], out_pipe[1], &con, &err), 0,
                "%s", hull_error_msg (&err));
  t.vp = virtio_console_transport (con);
  t.vp->pci.bars[0].addr = 0xc0000000;
}

static void
teardown (void)
{
  virtio_console_destroy (con);
  close (in_pipe[0]);
  close (in_pipe[1]);
  close (out_pipe[0]);
  close (out_pipe[1]);
  td_fini (&t);
}

TestSuite (virtio_console, .init = setup, .fini = teardown);

static void
poll_device (void)
{
  while (iothread_run_once (&t.vp->io, 0) > 0)
    ;
}

static int
pending_bytes (int fd)
{
  int n = -1;
  cr_assert_eq (ioctl (fd, FIONREAD, &n), 0);
  return n;
}

/* Multiport runs also use EVENT_IDX, with the driver kicking only when
 * the device asked to be kicked (so a missed avail_event update hangs). */
static void
start (bool mp)
{
  uint64_t f = (1ULL << VIRTIO_F_VERSION_1)
               | (mp ? (1ULL << VIRTIO_CONSOLE_F_MULTIPORT) | (1ULL << VIRTIO_F_EVENT_IDX) : 0);
  cr_assert (td_negotiate (&t, f) & VIRTIO_STATUS_FEATURES_OK);
  td_queue_enable (&t, RXQ0, 64, VIRTIO_MSI_NO_VECTOR);
  td_queue_enable (&t, TXQ0, 64, VIRTIO_MSI_NO_VECTOR);
  if (mp)
    for (unsigned q = CRX; q <= TXQ1; q++)
      td_queue_enable (&t, q, 64, VIRTIO_MSI_NO_VECTOR);
  td_driver_ok (&t);
}

Test (virtio_console, config_space)
{
  cr_assert_eq (td_read (&t, VIRTIO_PCI_DEVICE_OFF + 4, 4), VIRTIO_CONSOLE_MAX_PORTS);
  td_write (&t, VIRTIO_PCI_DF, 0, 4);
  cr_assert (td_read (&t, VIRTIO_PCI_DF, 4) & (1u << VIRTIO_CONSOLE_F_MULTIPORT));
  /* emerg_wr: one byte straight to the console output */
  td_write (&t, VIRTIO_PCI_DEVICE_OFF + 8, 'Z', 4);
  char ch = 0;
  cr_assert_eq (read (out_pipe[0], &ch, 1), 1);
  cr_assert_eq (ch, 'Z');
}

Test (virtio_console, console_tx_reaches_out_fd)
{
  struct virtq_used_elem e;
  char buf[32] = { 0 };

  start (false);
  td_post (&t, TXQ0, 6, false, "hello\n");
  td_post (&t, TXQ0, 5, false, "world");
  td_kick (&t, TXQ0);
  cr_assert_eq (read (out_pipe[0], buf, sizeof buf), 11);
  cr_assert_str_eq (buf, "hello\nworld");
  cr_assert (td_used_next (&t, TXQ0, &e));
  cr_assert (td_used_next (&t, TXQ0, &e));
  cr_assert_eq (e.len, 0);
}

Test (virtio_console, console_rx_with_backpressure)
{
  struct virtq_used_elem e;
  uint64_t a, b;

  start (false);
  /* Input before the guest has buffers stays in the host pipe. */
  cr_assert_eq (write (in_pipe[1], "abcdef", 6), 6);
  poll_device ();
  cr_assert_eq (pending_bytes (in_pipe[0]), 6);
  cr_assert (!td_used_next (&t, RXQ0, &e));

  a = td_post (&t, RXQ0, 4, true, NULL);
  td_kick (&t, RXQ0);
  cr_assert (td_used_next (&t, RXQ0, &e));
  cr_assert_eq (e.len, 4);
  cr_assert_eq (memcmp (t.ram + a, "abcd", 4), 0);
  cr_assert_eq (pending_bytes (in_pipe[0]), 2, "only what fits is taken");
  poll_device ();
  cr_assert_eq (pending_bytes (in_pipe[0]), 2, "no buffers: nothing read");

  b = td_post (&t, RXQ0, 64, true, NULL);
  td_kick (&t, RXQ0);
  cr_assert (td_used_next (&t, RXQ0, &e));
  cr_assert_eq (e.len, 2);
  cr_assert_eq (memcmp (t.ram + b, "ef", 2), 0);

  /* A buffer waits for data, then the data arrives. */
  b = td_post (&t, RXQ0, 64, true, NULL);
  td_kick (&t, RXQ0);
  cr_assert (!td_used_next (&t, RXQ0, &e));
  cr_assert_eq (write (in_pipe[1], "xyz", 3), 3);
  poll_device ();
  cr_assert (td_used_next (&t, RXQ0, &e));
  cr_assert_eq (e.len, 3);
  cr_assert_eq (memcmp (t.ram + b, "xyz", 3), 0);

  /* EOF on the input: the buffer stays with the device, nothing breaks. */
  td_post (&t, RXQ0, 64, true, NULL);
  close (in_pipe[1]);
  in_pipe[1] = -1;
  poll_device ();
  cr_assert (!td_used_next (&t, RXQ0, &e));
  cr_assert_eq (td_status (&t) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

static void
send_ctrl (uint32_t id, uint16_t event, uint16_t value)
{
  struct ctrl m = { id, event, value };
  td_post (&t, CTX, sizeof m, false, &m);
  td_kick (&t, CTX);
}

/* Next host-to-guest control message; name receives PORT_NAME's text. */
static bool
recv_ctrl (struct ctrl *m, char *name, size_t name_len)
{
  struct virtq_used_elem e;
  uint64_t a;

  if (!td_used_next (&t, CRX, &e))
    return false;
  a = td_desc_addr (&t, CRX, e.id);
  cr_assert_geq (e.len, sizeof *m);
  memcpy (m, t.ram + a, sizeof *m);
  if (name)
    {
      size_t n = e.len - sizeof *m;
      cr_assert_lt (n, name_len);
      memcpy (name, t.ram + a + sizeof *m, n);
      name[n] = 0;
    }
  return true;
}

static void
expect_ctrl (uint32_t id, uint16_t event, uint16_t value)
{
  struct ctrl m;
  char name[80];
  cr_assert (recv_ctrl (&m, name, sizeof name), "expected event %u for port %u", event, id);
  cr_assert_eq (m.event, event, "event %u, wanted %u", m.event, event);
  cr_assert_eq (m.id, id);
  cr_assert_eq (m.value, value);
}

static int
add_agent_port (int sv[2])
{
  hull_error_t err = NULL;
  int id;

  cr_assert_eq (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  id = virtio_console_add_port (con, "hull.agent", sv[0], &err);
  cr_assert_eq (id, 1, "%s", hull_error_msg (&err));
  return id;
}

static void
handshake (void)
{
  struct ctrl m;
  char name[80];

  for (int i = 0; i < 8; i++)
    td_post (&t, CRX, 128, true, NULL);
  td_kick (&t, CRX);
  send_ctrl (0, VIRTIO_CONSOLE_DEVICE_READY, 1);
  expect_ctrl (0, VIRTIO_CONSOLE_DEVICE_ADD, 0);
  expect_ctrl (1, VIRTIO_CONSOLE_DEVICE_ADD, 0);
  cr_assert (!recv_ctrl (&m, NULL, 0));

  send_ctrl (0, VIRTIO_CONSOLE_PORT_READY, 1);
  expect_ctrl (0, VIRTIO_CONSOLE_CONSOLE_PORT, 1);
  expect_ctrl (0, VIRTIO_CONSOLE_PORT_OPEN, 1);

  send_ctrl (1, VIRTIO_CONSOLE_PORT_READY, 1);
  cr_assert (recv_ctrl (&m, name, sizeof name));
  cr_assert_eq (m.event, VIRTIO_CONSOLE_PORT_NAME);
  cr_assert_eq (m.id, 1);
  cr_assert_str_eq (name, "hull.agent");
  expect_ctrl (1, VIRTIO_CONSOLE_PORT_OPEN, 1);
  cr_assert (!recv_ctrl (&m, NULL, 0));
}

Test (virtio_console, multiport_handshake_and_named_port)
{
  struct virtq_used_elem e;
  struct ctrl m;
  int sv[2];
  uint64_t a;
  char buf[64] = { 0 };

  add_agent_port (sv);
  start (true);
  handshake ();

  /* Host data for the agent port waits until the guest opens it. */
  a = td_post (&t, RXQ1, 64, true, NULL);
  td_kick (&t, RXQ1);
  cr_assert_eq (write (sv[1], "ping", 4), 4);
  poll_device ();
  cr_assert (!td_used_next (&t, RXQ1, &e));
  send_ctrl (1, VIRTIO_CONSOLE_PORT_OPEN, 1);
  poll_device ();
  cr_assert (td_used_next (&t, RXQ1, &e));
  cr_assert_eq (e.len, 4);
  cr_assert_eq (memcmp (t.ram + a, "ping", 4), 0);

  /* Guest to host on the named port. */
  td_post (&t, TXQ1, 4, false, "pong");
  td_kick (&t, TXQ1);
  cr_assert_eq (read (sv[1], buf, sizeof buf), 4);
  cr_assert_str_eq (buf, "pong");

  /* The console port still works independently. */
  td_post (&t, TXQ0, 3, false, "hi\n");
  td_kick (&t, TXQ0);
  cr_assert_eq (read (out_pipe[0], buf, sizeof buf), 3);

  /* Host end hangs up: the guest is told the port closed. */
  td_post (&t, RXQ1, 64, true, NULL);
  td_kick (&t, RXQ1);
  close (sv[1]);
  poll_device ();
  cr_assert (recv_ctrl (&m, NULL, 0));
  cr_assert_eq (m.event, VIRTIO_CONSOLE_PORT_OPEN);
  cr_assert_eq (m.id, 1);
  cr_assert_eq (m.value, 0);
  cr_assert (!td_used_next (&t, RXQ1, &e));
  close (sv[0]);
}

Test (virtio_console, guest_closing_port_stops_reading)
{
  struct virtq_used_elem e;
  int sv[2];

  add_agent_port (sv);
  start (true);
  handshake ();
  send_ctrl (1, VIRTIO_CONSOLE_PORT_OPEN, 1);
  send_ctrl (1, VIRTIO_CONSOLE_PORT_OPEN, 0);
  td_post (&t, RXQ1, 64, true, NULL);
  td_kick (&t, RXQ1);
  cr_assert_eq (write (sv[1], "data", 4), 4);
  poll_device ();
  cr_assert (!td_used_next (&t, RXQ1, &e));
  cr_assert_eq (pending_bytes (sv[0]), 4);
  close (sv[0]);
  close (sv[1]);
}

Test (virtio_console, partial_writes_lose_nothing)
{
  enum { CHUNK = 16384, CHUNKS = 16 };
  int sv[2], small = 4096;
  uint8_t *src = malloc (CHUNK * CHUNKS), *dst = malloc (CHUNK * CHUNKS);
  size_t got = 0;
  struct virtq_used_elem e;
  unsigned completions = 0;

  for (size_t i = 0; i < CHUNK * CHUNKS; i++)
    src[i] = (uint8_t) (i * 7 + i / 251);
  add_agent_port (sv);
  cr_assert_eq (setsockopt (sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  start (true);
  handshake ();
  for (int i = 0; i < CHUNKS; i++)
    td_post (&t, TXQ1, CHUNK, false, src + i * CHUNK);
  td_kick (&t, TXQ1);
  /* The socket cannot take it all at once; drain it as a slow reader. */
  for (int rounds = 0; got < CHUNK * CHUNKS && rounds < 100000; rounds++)
    {
      ssize_t n = recv (sv[1], dst + got, CHUNK * CHUNKS - got, MSG_DONTWAIT);
      if (n > 0)
        got += n;
      poll_device ();
    }
  cr_assert_eq (got, CHUNK * CHUNKS);
  cr_assert_eq (memcmp (src, dst, got), 0, "bytes arrive complete and in order");
  while (td_used_next (&t, TXQ1, &e))
    completions++;
  cr_assert_eq (completions, CHUNKS);
  free (src);
  free (dst);
  close (sv[0]);
  close (sv[1]);
}

Test (virtio_console, hostile_control_messages)
{
  struct ctrl m;
  int sv[2];

  add_agent_port (sv);
  start (true);
  for (int i = 0; i < 4; i++)
    td_post (&t, CRX, 128, true, NULL);
  td_kick (&t, CRX);
  /* too short, unknown port, unknown event: all ignored */
  td_post (&t, CTX, 3, false, "abc");
  td_kick (&t, CTX);
  send_ctrl (7, VIRTIO_CONSOLE_PORT_READY, 1);
  send_ctrl (12345, VIRTIO_CONSOLE_PORT_OPEN, 1);
  send_ctrl (0, 999, 1);
  cr_assert (!recv_ctrl (&m, NULL, 0));
  /* DEVICE_READY repeated many times is answered once and never grows
   * host memory. */
  for (int i = 0; i < 100; i++)
    send_ctrl (0, VIRTIO_CONSOLE_DEVICE_READY, 1);
  expect_ctrl (0, VIRTIO_CONSOLE_DEVICE_ADD, 0);
  expect_ctrl (1, VIRTIO_CONSOLE_DEVICE_ADD, 0);
  cr_assert (!recv_ctrl (&m, NULL, 0));
  cr_assert_eq (td_status (&t) & VIRTIO_STATUS_NEEDS_RESET, 0);
  close (sv[0]);
  close (sv[1]);
}

Test (virtio_console, reset_and_renegotiate)
{
  struct ctrl m;
  int sv[2];

  add_agent_port (sv);
  start (true);
  handshake ();
  td_write (&t, VIRTIO_PCI_STATUS, 0, 1);
  cr_assert_eq (td_status (&t), 0);
  memset (t.ram + TD_QUEUE_BASE, 0, 0x4000 * 6);
  start (true);
  handshake ();
  cr_assert (!recv_ctrl (&m, NULL, 0));
  close (sv[0]);
  close (sv[1]);
}

Test (virtio_console, add_port_validation)
{
  hull_error_t err = NULL;
  int sv[2];

  cr_assert_eq (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  cr_assert_lt (virtio_console_add_port (con, "", sv[0], &err), 0);
  hull_error_free (&err);
  cr_assert_lt (virtio_console_add_port (con, "bad/name", sv[0], &err), 0);
  cr_assert (strstr (hull_error_msg (&err), "bad/name"));
  hull_error_free (&err);
  cr_assert_lt (virtio_console_add_port (con, "ok", -1, &err), 0);
  hull_error_free (&err);
  cr_assert_eq (virtio_console_add_port (con, "a", sv[0], &err), 1);
  cr_assert_lt (virtio_console_add_port (con, "a", sv[0], &err), 0, "duplicate");
  cr_assert (strstr (hull_error_msg (&err), "already"));
  hull_error_free (&err);
  for (int i = 2; i < VIRTIO_CONSOLE_MAX_PORTS; i++)
    {
      char name[16];
      snprintf (name, sizeof name, "p%d", i);
      cr_assert_eq (virtio_console_add_port (con, name, sv[0], &err), i);
    }
  cr_assert_lt (virtio_console_add_port (con, "full", sv[0], &err), 0);
  hull_error_free (&err);
  close (sv[0]);
  close (sv[1]);
}

Test (virtio_console, port_added_after_boot_is_announced)
{
  struct ctrl m;
  hull_error_t err = NULL;
  char name[80];
  int sv[2];

  start (true);
  for (int i = 0; i < 8; i++)
    td_post (&t, CRX, 128, true, NULL);
  td_kick (&t, CRX);
  send_ctrl (0, VIRTIO_CONSOLE_DEVICE_READY, 1);
  expect_ctrl (0, VIRTIO_CONSOLE_DEVICE_ADD, 0);
  cr_assert_eq (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  cr_assert_eq (virtio_console_add_port (con, "late", sv[0], &err), 1);
  expect_ctrl (1, VIRTIO_CONSOLE_DEVICE_ADD, 0);
  send_ctrl (1, VIRTIO_CONSOLE_PORT_READY, 1);
  cr_assert (recv_ctrl (&m, name, sizeof name));
  cr_assert_eq (m.event, VIRTIO_CONSOLE_PORT_NAME);
  cr_assert_str_eq (name, "late");
  expect_ctrl (1, VIRTIO_CONSOLE_PORT_OPEN, 1);
  close (sv[0]);
  close (sv[1]);
}

Test (virtio_console, regular_file_input)
{
  struct virtio_console *c2;
  struct virtq_used_elem e;
  hull_error_t err = NULL;
  char path[] = "/tmp/hull-console-XXXXXX";
  int fd = mkstemp (path);
  uint64_t a;

  cr_assert_geq (fd, 0);
  unlink (path);
  cr_assert_eq (write (fd, "from a file", 11), 11);
  lseek (fd, 0, SEEK_SET);
  /* A second console on the same fake RAM, reading a regular file (which
   * epoll cannot watch: it is always ready). */
  virtio_console_destroy (con);
  cr_assert_eq (virtio_console_new (&t.mem, &t.host, fd, -1, &c2, &err), 0);
  con = c2;
  t.vp = virtio_console_transport (con);
  start (false);
  a = td_post (&t, RXQ0, 4, true, NULL);
  td_post (&t, RXQ0, 64, true, NULL);
  td_post (&t, RXQ0, 64, true, NULL);
  td_kick (&t, RXQ0);
  cr_assert (td_used_next (&t, RXQ0, &e));
  cr_assert_eq (e.len, 4);
  cr_assert_eq (memcmp (t.ram + a, "from", 4), 0);
  cr_assert (td_used_next (&t, RXQ0, &e));
  cr_assert_eq (e.len, 7);
  cr_assert (!td_used_next (&t, RXQ0, &e), "EOF: the last buffer stays posted");
  /* Output to nowhere (-1) is consumed and dropped. */
  td_post (&t, TXQ0, 5, false, "bye\n\n");
  td_kick (&t, TXQ0);
  cr_assert (td_used_next (&t, TXQ0, &e));
  close (fd);
}
