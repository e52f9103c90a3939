/* runtime/netns.c against real network namespaces the test makes itself.
 *
 * Two anonymous namespaces, each held by a child process that dies with
 * the test (PR_SET_PDEATHSIG), so nothing outlives a failed or crashed
 * test: "ctr" plays the container's netns (eth0 with addresses and
 * routes, like Docker makes it) and "out" the host side of the veth pair
 * (peer0).  iproute2 builds the fixture and checks the result; the code
 * under test uses only netlink.  No traffic leaves these namespaces.
 * Needs root (CAP_SYS_ADMIN + CAP_NET_ADMIN); skipped otherwise. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/capability.h>

#include "runtime/netns.h"
#include "tests/virtio_test_driver.h"
#include "tests/watchdog.h"
#include "vmm/virtio_net.h"

#define ETH_P_TEST 0x88b5 /* IEEE 802 local experimental */

static pid_t ctr = -1, out = -1;
static char ctr_path[64];

/* A child that sits in a fresh netns until killed or orphaned. */
static pid_t
ns_holder (void)
{
  int p[2];
  char c = 0;
  pid_t parent = getpid (), pid;

  cr_assert_eq (pipe (p), 0);
  pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    {
      prctl (PR_SET_PDEATHSIG, SIGKILL);
      if (getppid () != parent)
        _exit (1);
      c = unshare (CLONE_NEWNET) == 0 ? 'y' : 'n';
      if (write (p[1], &c, 1) != 1)
        _exit (1);
      for (;;)
        pause ();
    }
  close (p[1]);
  if (read (p[0], &c, 1) != 1)
    c = 'n';
  close (p[0]);
  if (c != 'y')
    {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      return -1;
    }
  return pid;
}

static int
sh_in (pid_t ns, const char *fmt, ...)
{
  char cmd[1024], full[1200];
  va_list ap;
  int st;

  va_start (ap, fmt);
  vsnprintf (cmd, sizeof cmd, fmt, ap);
  va_end (ap);
  snprintf (full, sizeof full, "nsenter --net=/proc/%d/ns/net sh -c '%s' >/dev/null 2>&1",
            (int) ns, cmd);
  st = system (full);
  return WIFEXITED (st) ? WEXITSTATUS (st) : -1;
}

/* The output of cmd run in ns (at most len - 1 bytes). */
static char *
capture_in (pid_t ns, const char *cmd, char *buf, size_t len)
{
  char full[1200];
  FILE *f;
  size_t n;

  snprintf (full, sizeof full, "nsenter --net=/proc/%d/ns/net sh -c '%s' 2>&1", (int) ns, cmd);
  f = popen (full, "r");
  cr_assert_not_null (f);
  n = fread (buf, 1, len - 1, f);
  buf[n] = '\0';
  pclose (f);
  return buf;
}

static void
kill_holder (pid_t *pid)
{
  if (*pid > 0)
    {
      kill (*pid, SIGKILL);
      waitpid (*pid, NULL, 0);
    }
  *pid = -1;
}

static void
setup (void)
{
  test_watchdog (60);
  if (geteuid () != 0)
    cr_skip_test ("needs root for network namespaces");
  ctr = ns_holder ();
  out = ns_holder ();
  if (ctr < 0 || out < 0)
    cr_skip_test ("cannot create network namespaces here");
  snprintf (ctr_path, sizeof ctr_path, "/proc/%d/ns/net", (int) ctr);
  cr_assert_eq (sh_in (ctr, "ip link add eth0 type veth peer name peer0 netns %d", (int) out), 0);
  cr_assert_eq (sh_in (ctr, "ip link set eth0 address 02:42:ac:1e:00:02 mtu 1400 up && "
                            "ip addr add 172.30.0.2/24 dev eth0 && "
                            "ip -6 addr add fd00:30::2/64 dev eth0 nodad && "
                            "ip route add default via 172.30.0.1 && "
                            "ip route add 10.9.0.0/16 via 172.30.0.254 metric 50 && "
                            "ip -6 route add default via fd00:30::1 && "
                            "ip route add 192.168.77.0/24 dev eth0"), 0);
  cr_assert_eq (sh_in (out, "ip link set peer0 mtu 1400 up"), 0);
}

static void
teardown (void)
{
  kill_holder (&ctr);
  kill_holder (&out);
}

TestSuite (netns, .init = setup, .fini = teardown);

static struct netns_net *
setup_ok (void)
{
  hull_error_t err = NULL;
  struct netns_net *net = NULL;

  cr_assert_eq (netns_setup (ctr_path, &net, &err), 0, "%s", hull_error_msg (&err));
  cr_assert_not_null (net);
  return net;
}

static void
teardown_ok (struct netns_net *net)
{
  hull_error_t err = NULL;
  cr_assert_eq (netns_teardown (net, &err), 0, "%s", hull_error_msg (&err));
}

static void
assert_no_residue (void)
{
  char buf[8192];

  cr_assert_null (strstr (capture_in (ctr, "ip -o link show", buf, sizeof buf), "_hull"),
                  "a tap is left: %s", buf);
  cr_assert_null (strstr (capture_in (ctr, "tc qdisc show dev eth0", buf, sizeof buf), "clsact"),
                  "eth0 keeps a clsact qdisc: %s", buf);
}

Test (netns, discovers_interfaces_addresses_routes)
{
  struct netns_net *net = setup_ok ();
  const struct netns_iface *e;
  const uint8_t mac[6] = { 0x02, 0x42, 0xac, 0x1e, 0x00, 0x02 };
  const uint8_t v4[4] = { 172, 30, 0, 2 }, gw4[4] = { 172, 30, 0, 1 };
  const uint8_t net9[4] = { 10, 9, 0, 0 }, gw9[4] = { 172, 30, 0, 254 };
  const uint8_t net77[4] = { 192, 168, 77, 0 };
  bool seen_v4 = false, seen_v6 = false, def4 = false, def6 = false, r9 = false, r77 = false;

  cr_assert_eq (net->n_ifaces, 1, "lo is skipped, eth0 is found");
  e = &net->ifaces[0];
  cr_assert_str_eq (e->name, "eth0");
  cr_assert_arr_eq (e->mac, mac, 6);
  cr_assert_eq (e->mtu, 1400);
  for (unsigned i = 0; i < e->n_addrs; i++)
    {
      const struct netns_addr *a = &e->addrs[i];
      if (a->family == AF_INET && memcmp (a->addr, v4, 4) == 0 && a->prefix == 24)
        seen_v4 = true;
      if (a->family == AF_INET6 && a->addr[0] == 0xfd && a->addr[15] == 2 && a->prefix == 64)
        seen_v6 = true;
      cr_assert (!(a->family == AF_INET6 && a->addr[0] == 0xfe), "link-local skipped");
    }
  cr_assert (seen_v4 && seen_v6);
  cr_assert_eq (e->n_addrs, 2);
  for (unsigned i = 0; i < e->n_routes; i++)
    {
      const struct netns_route *r = &e->routes[i];
      if (r->family == AF_INET && r->dst_len == 0 && r->has_gateway
          && memcmp (r->gateway, gw4, 4) == 0)
        def4 = true;
      if (r->family == AF_INET6 && r->dst_len == 0 && r->has_gateway && r->gateway[15] == 1)
        def6 = true;
      if (r->family == AF_INET && r->dst_len == 16 && memcmp (r->dst, net9, 4) == 0
          && memcmp (r->gateway, gw9, 4) == 0 && r->metric == 50)
        r9 = true;
      if (r->family == AF_INET && r->dst_len == 24 && memcmp (r->dst, net77, 4) == 0
          && !r->has_gateway && r->scope_link)
        r77 = true;
    }
  cr_assert (def4 && def6 && r9 && r77, "default v4 %d, default v6 %d, 10.9/16 %d, on-link %d",
             def4, def6, r9, r77);
  cr_assert_eq (e->n_routes, 4, "kernel prefix routes are left out, got %u", e->n_routes);
  teardown_ok (net);
  assert_no_residue ();
}

Test (netns, describes_interfaces_as_json)
{
  struct netns_net *net = setup_ok ();
  hull_error_t err = NULL;
  char *json = NULL;

  cr_assert_eq (netns_to_json (net, &json, NULL, &err), 0, "%s", hull_error_msg (&err));
  cr_assert (strstr (json, "\"name\":\"eth0\""), "%s", json);
  cr_assert (strstr (json, "\"mac\":\"02:42:ac:1e:00:02\""), "%s", json);
  cr_assert (strstr (json, "\"mtu\":1400"), "%s", json);
  cr_assert (strstr (json, "{\"family\":\"inet\",\"address\":\"172.30.0.2\",\"prefix\":24}"),
             "%s", json);
  cr_assert (strstr (json, "\"address\":\"fd00:30::2\",\"prefix\":64"), "%s", json);
  cr_assert (strstr (json, "\"destination\":\"0.0.0.0\",\"prefix\":0,\"gateway\":\"172.30.0.1\""),
             "%s", json);
  cr_assert (strstr (json, "\"gateway\":\"fd00:30::1\""), "%s", json);
  free (json);
  teardown_ok (net);
}

Test (netns, tap_and_filters_installed)
{
  struct netns_net *net = setup_ok ();
  char buf[8192];

  cr_assert_str_eq (net->ifaces[0].tap_name, "tap0_hull");
  cr_assert_geq (net->ifaces[0].tap_fd, 0);
  capture_in (ctr, "ip -d -o link show tap0_hull", buf, sizeof buf);
  cr_assert (strstr (buf, ",UP"), "tap up: %s", buf);
  cr_assert (strstr (buf, "mtu 1400"), "tap mtu: %s", buf);
  cr_assert (strstr (buf, "vnet_hdr on"), "vnet header: %s", buf);
  capture_in (ctr, "tc filter show dev eth0 ingress", buf, sizeof buf);
  cr_assert (strstr (buf, "Egress Redirect to device tap0_hull"), "eth0 -> tap: %s", buf);
  capture_in (ctr, "tc filter show dev tap0_hull ingress", buf, sizeof buf);
  cr_assert (strstr (buf, "Egress Redirect to device eth0"), "tap -> eth0: %s", buf);
  teardown_ok (net);
  assert_no_residue ();
}

/* ---- traffic ---- */

struct pkt_job
{
  pid_t ns;
  const char *ifname;
  int fd, err;
};

static void *
pkt_thread (void *arg)
{
  struct pkt_job *j = arg;
  char path[64];
  int nsfd;
  struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons (ETH_P_ALL) };

  snprintf (path, sizeof path, "/proc/%d/ns/net", (int) j->ns);
  nsfd = open (path, O_RDONLY | O_CLOEXEC);
  if (nsfd < 0 || setns (nsfd, CLONE_NEWNET) < 0)
    {
      j->err = errno;
      return NULL;
    }
  close (nsfd);
  j->fd = socket (AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons (ETH_P_ALL));
  sll.sll_ifindex = (int) if_nametoindex (j->ifname);
  if (j->fd < 0 || sll.sll_ifindex == 0 || bind (j->fd, (void *) &sll, sizeof sll) < 0)
    j->err = errno;
  return NULL;
}

/* A packet socket bound to ifname in ns's netns (made by a thread so this
 * process stays where it is). */
static int
packet_socket_in (pid_t ns, const char *ifname)
{
  struct pkt_job j = { ns, ifname, -1, 0 };
  pthread_t th;

  cr_assert_eq (pthread_create (&th, NULL, pkt_thread, &j), 0);
  pthread_join (th, NULL);
  cr_assert_eq (j.err, 0, "packet socket on %s: %s", ifname, strerror (j.err));
  return j.fd;
}

static size_t
test_frame (uint8_t *f, const char *tag)
{
  static const uint8_t src[6] = { 0x02, 0x42, 0xac, 0x1e, 0x00, 0x02 };
  memset (f, 0, 60);
  memset (f, 0xff, 6);
  memcpy (f + 6, src, 6);
  f[12] = ETH_P_TEST >> 8;
  f[13] = ETH_P_TEST & 0xff;
  memcpy (f + 14, tag, strlen (tag));
  return 60;
}

/* Wait up to 3 s for our test frame on fd (skip the namespaces' own IPv6
 * chatter); skip bytes of header first.  Returns the frame length. */
static ssize_t
wait_frame (int fd, size_t skip, uint8_t *buf, size_t len, const char *tag)
{
  for (int tries = 0; tries < 300; tries++)
    {
      struct pollfd p = { fd, POLLIN, 0 };
      ssize_t n;
      if (poll (&p, 1, 10) <= 0)
        continue;
      n = read (fd, buf, len);
      if (n >= (ssize_t) (skip + 14 + strlen (tag)) && buf[skip + 12] == (ETH_P_TEST >> 8)
          && buf[skip + 13] == (ETH_P_TEST & 0xff)
          && memcmp (buf + skip + 14, tag, strlen (tag)) == 0)
        return n - skip;
    }
  return -1;
}

Test (netns, frames_cross_both_ways)
{
  struct netns_net *net = setup_ok ();
  int tap = net->ifaces[0].tap_fd;
  int peer = packet_socket_in (out, "peer0");
  uint8_t msg[12 + 60] = { 0 }, buf[2048];
  size_t flen;

  /* VM -> world: a frame written to the tap leaves through eth0. */
  flen = test_frame (msg + 12, "hull-from-vm");
  cr_assert_eq (write (tap, msg, 12 + flen), (ssize_t) (12 + flen), "%s", strerror (errno));
  cr_assert_eq (wait_frame (peer, 0, buf, sizeof buf, "hull-from-vm"), (ssize_t) flen,
                "peer0 got the tap's frame");
  cr_assert_arr_eq (buf, msg + 12, flen);

  /* World -> VM: a frame arriving on eth0 comes out of the tap with a
   * plain virtio-net header in front. */
  flen = test_frame (msg + 12, "hull-to-vm");
  cr_assert_eq (write (peer, msg + 12, flen), (ssize_t) flen, "%s", strerror (errno));
  cr_assert_eq (wait_frame (tap, 12, buf, sizeof buf, "hull-to-vm"), (ssize_t) flen,
                "the tap got eth0's frame");
  cr_assert_arr_eq (buf + 12, msg + 12, flen);
  cr_assert_eq (buf[0], 0, "no offload flags");
  cr_assert_eq (buf[1], 0, "no GSO");
  close (peer);
  teardown_ok (net);
  assert_no_residue ();
}

/* The device model on the real tap: a guest transmit chain reaches peer0,
 * a frame from peer0 lands in a guest receive buffer. */
Test (netns, virtio_net_over_the_tap)
{
  struct netns_net *net = setup_ok ();
  int peer = packet_socket_in (out, "peer0");
  struct virtio_net *dev = NULL;
  hull_error_t err = NULL;
  struct td t;
  uint8_t msg[12 + 60] = { 0 }, buf[2048];
  size_t flen;
  bool found = false;

  td_init (&t);
  cr_assert_eq (virtio_net_new (&t.mem, &t.host, net->ifaces[0].tap_fd, net->ifaces[0].mac,
                                net->ifaces[0].mtu, &dev, &err), 0, "%s", hull_error_msg (&err));
  t.vp = virtio_net_transport (dev);
  t.vp->pci.bars[0].addr = 0xc0000000;
  cr_assert (td_negotiate (&t, (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MRG_RXBUF))
             & VIRTIO_STATUS_FEATURES_OK);
  td_queue_enable (&t, VIRTIO_NET_RXQ, 64, VIRTIO_MSI_NO_VECTOR);
  td_queue_enable (&t, VIRTIO_NET_TXQ, 64, VIRTIO_MSI_NO_VECTOR);
  td_driver_ok (&t);

  flen = test_frame (msg + 12, "hull-virtio-tx");
  td_post (&t, VIRTIO_NET_TXQ, 12 + flen, false, msg);
  td_kick (&t, VIRTIO_NET_TXQ);
  cr_assert_eq (wait_frame (peer, 0, buf, sizeof buf, "hull-virtio-tx"), (ssize_t) flen);
  cr_assert_arr_eq (buf, msg + 12, flen);

  for (int i = 0; i < 32; i++)
    td_post (&t, VIRTIO_NET_RXQ, 2048, true, NULL);
  td_kick (&t, VIRTIO_NET_RXQ);
  flen = test_frame (msg + 12, "hull-virtio-rx");
  cr_assert_eq (write (peer, msg + 12, flen), (ssize_t) flen);
  for (int tries = 0; tries < 300 && !found; tries++)
    {
      struct virtq_used_elem e;
      iothread_run_once (&t.vp->io, 10);
      while (!found && td_used_next (&t, VIRTIO_NET_RXQ, &e))
        {
          const uint8_t *b = t.ram + td_desc_addr (&t, VIRTIO_NET_RXQ, e.id);
          struct virtio_net_hdr h;
          memcpy (&h, b, sizeof h);
          cr_assert_eq (h.num_buffers, 1);
          found = e.len == 12 + flen && memcmp (b + 12, msg + 12, flen) == 0;
        }
    }
  cr_assert (found, "the frame from peer0 reached a guest buffer");
  virtio_net_destroy (dev);
  td_fini (&t);
  close (peer);
  teardown_ok (net);
  assert_no_residue ();
}

/* ---- edge cases ---- */

Test (netns, loopback_only_means_no_interfaces)
{
  struct netns_net *net;
  hull_error_t err = NULL;
  char *json = NULL;

  cr_assert_eq (sh_in (ctr, "ip link del eth0"), 0);
  net = setup_ok ();
  cr_assert_eq (net->n_ifaces, 0);
  cr_assert_eq (netns_to_json (net, &json, NULL, &err), 0);
  cr_assert_str_eq (json, "{\"interfaces\":[]}");
  free (json);
  teardown_ok (net);
}

Test (netns, bad_path_is_named)
{
  struct netns_net *net = NULL;
  hull_error_t err = NULL;

  cr_assert_lt (netns_setup ("/nonexistent/ns/net", &net, &err), 0);
  cr_assert (strstr (hull_error_msg (&err), "/nonexistent/ns/net"), "%s", hull_error_msg (&err));
  cr_assert_null (net);
  hull_error_free (&err);
}

Test (netns, busy_interface_fails_cleanly)
{
  struct netns_net *net = NULL;
  hull_error_t err = NULL;

  cr_assert_eq (sh_in (ctr, "tc qdisc add dev eth0 clsact"), 0);
  cr_assert_lt (netns_setup (ctr_path, &net, &err), 0);
  cr_assert (strstr (hull_error_msg (&err), "eth0"), "%s", hull_error_msg (&err));
  cr_assert (strstr (hull_error_msg (&err), "already has"), "%s", hull_error_msg (&err));
  hull_error_free (&err);
  {
    char buf[8192];
    cr_assert_null (strstr (capture_in (ctr, "ip -o link show", buf, sizeof buf), "_hull"),
                    "the tap was rolled back: %s", buf);
    cr_assert (strstr (capture_in (ctr, "tc qdisc show dev eth0", buf, sizeof buf), "clsact"),
               "somebody else's qdisc is left alone: %s", buf);
  }
}

Test (netns, tap_name_too_long)
{
  hull_error_t err = NULL;

  cr_assert_lt (netns_tap_open ("a_name_longer_than_ifnamsiz", &err), 0);
  cr_assert (strstr (hull_error_msg (&err), "a_name_longer_than_ifnamsiz"));
  hull_error_free (&err);
}

/* ---- the keeper (teardown after the process dropped its capabilities) ---- */

static void
drop_all_caps (void)
{
  cap_t none = cap_init ();

  if (none == NULL || cap_set_proc (none) < 0)
    _exit (90);
  cap_free (none);
}

/* In a child that has no capabilities left (like the confined supervisor):
 * exit 0 when netns_teardown succeeded, 1 with EPERM, 2 otherwise. */
static int
teardown_without_caps (struct netns_net *net)
{
  int status = 0;
  pid_t pid = fork ();

  cr_assert_geq (pid, 0);
  if (pid == 0)
    {
      hull_error_t err = NULL;
      drop_all_caps ();
      if (netns_teardown (net, &err) == 0)
        _exit (0);
      _exit (err != NULL && err->status == EPERM ? 1 : 2);
    }
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  cr_assert (WIFEXITED (status));
  return WEXITSTATUS (status);
}

Test (netns, without_keeper_unprivileged_teardown_fails)
{
  struct netns_net *net = setup_ok ();

  /* What the keeper is for: the qdiscs cannot go without CAP_NET_ADMIN. */
  cr_assert_eq (teardown_without_caps (net), 1);
  teardown_ok (net);
  assert_no_residue ();
}

Test (netns, keeper_tears_down_after_caps_are_dropped)
{
  struct netns_net *net = setup_ok ();
  hull_error_t err = NULL;
  pid_t keeper;

  cr_assert_eq (netns_keeper_start (net, &err), 0, "%s", hull_error_msg (&err));
  keeper = net->keeper_pid;
  cr_assert_gt (keeper, 0);
  cr_assert_eq (teardown_without_caps (net), 0);
  assert_no_residue ();
  /* The keeper ended with its work (it is our child, not the forked
   * tearer's: reap it here). */
  cr_assert_eq (waitpid (keeper, NULL, 0), keeper);
  /* Our own copy: the keeper is gone, so only free it. */
  net->keeper_pid = 0;
  close (net->keeper_fd);
  net->keeper_fd = -1;
  for (unsigned i = 0; i < net->n_ifaces; i++)
    net->ifaces[i].iface_qdisc = false, net->ifaces[i].tap_ifindex = 0;
  teardown_ok (net);
}

Test (netns, keeper_cleans_up_when_its_parent_dies)
{
  char buf[8192];
  int status = 0, p[2];
  pid_t pid;

  cr_assert_eq (pipe (p), 0);
  pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    {
      hull_error_t err = NULL;
      struct netns_net *net = NULL;
      if (netns_setup (ctr_path, &net, &err) < 0 || netns_keeper_start (net, &err) < 0)
        _exit (1);
      if (write (p[1], "r", 1) != 1)
        _exit (1);
      for (;;)
        pause ();
    }
  close (p[1]);
  cr_assert_eq (read (p[0], buf, 1), 1, "setup in the child failed");
  close (p[0]);
  cr_assert (strstr (capture_in (ctr, "tc qdisc show dev eth0", buf, sizeof buf), "clsact"));
  kill (pid, SIGKILL);
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  for (int i = 0; i < 100; i++)
    {
      if (strstr (capture_in (ctr, "ip -o link show; tc qdisc show dev eth0", buf, sizeof buf),
                  "clsact")
              == NULL
          && strstr (buf, "_hull") == NULL)
        break;
      usleep (50 * 1000);
    }
  assert_no_residue ();
}
