/* The container's network namespace, host side: what the VM's NICs are
 * wired to.
 *
 * Docker and CNI hand a container a netns holding one or more Ethernet
 * interfaces (a veth end, macvlan, ...) with addresses and routes.  A VM
 * cannot use them directly, so for each one netns_setup:
 *   - records its name, MAC, MTU, addresses and routes (what hull-agent
 *     applies to the guest's virtio-net interface later),
 *   - creates a tap "tapN_hull" in the same netns (IFF_TAP | IFF_NO_PI |
 *     IFF_VNET_HDR, vnet header 12 bytes, non-blocking, offloads off until
 *     virtio-net turns on those the guest driver negotiates), up, with the
 *     interface's MTU,
 *   - adds a clsact qdisc to the interface and to the tap, and on each an
 *     ingress u32 match-all filter whose mirred action redirects the frame
 *     out of the other one.  Frames arriving on eth0 leave through the tap
 *     (the VM reads them), frames the VM writes to the tap leave through
 *     eth0.  The netns's own IP stack sees none of that traffic.
 * Loopback and non-Ethernet devices (sit0, tunl0, ...) are skipped; a
 * netns with only lo yields zero interfaces: the VM then gets no NIC.
 *
 * setns(CLONE_NEWNET) only moves the calling thread, and the supervisor
 * must stay in its own netns, so netns_setup does all of its work in a
 * short-lived thread that enters the target netns.  Everything it creates
 * stays bound to that netns after the thread is gone: the rtnetlink socket
 * (kept in struct netns_net for teardown) and the tap fds (a tun fd is tied
 * to the netns /dev/net/tun was opened in).  So after netns_setup returns,
 * any thread may use the tap fds and call netns_teardown.
 *
 * Teardown deletes the taps (which removes their qdiscs) and the clsact
 * qdisc on each container interface (which removes its filter).  The taps
 * are not persistent: should the supervisor die, closing its fds deletes
 * them too.
 *
 * Callers: runtime/sandbox_vm_net.c wires a container's netns into its
 * microVM with these; the guest half (runtime/netns_guest.h,
 * cmd/hull-agent/agent_net.c) reads netns_to_json's description and
 * configures the NICs. */
#ifndef HULL_NETNS_H
#define HULL_NETNS_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/error.h"

#define NETNS_MAX_IFACES 8
#define NETNS_MAX_ADDRS 16
#define NETNS_MAX_ROUTES 32

struct netns_addr
{
  int family;        /* AF_INET or AF_INET6 */
  uint8_t addr[16];  /* 4 or 16 bytes used, network order */
  uint8_t prefix;
};

/* A main-table unicast route through the interface.  Kernel-made prefix
 * routes (proto kernel) are left out: the guest kernel makes them itself
 * when the addresses are added. */
struct netns_route
{
  int family;
  uint8_t dst[16];
  uint8_t dst_len;      /* 0 with has_gateway: the default route */
  uint8_t gateway[16];
  bool has_gateway;
  bool scope_link;      /* RT_SCOPE_LINK: on-link, no gateway */
  uint32_t metric;
};

struct netns_iface
{
  /* What the guest gets (and what netns_to_json describes). */
  char name[IFNAMSIZ];
  int ifindex;
  uint8_t mac[6];
  unsigned mtu;
  unsigned n_addrs, n_routes;
  struct netns_addr addrs[NETNS_MAX_ADDRS];
  struct netns_route routes[NETNS_MAX_ROUTES];

  /* Host plumbing, owned by the struct netns_net. */
  char tap_name[IFNAMSIZ];
  int tap_ifindex;           /* 0 until created */
  int tap_fd;                /* -1 until created; give it to virtio_net_create */
  bool iface_qdisc;          /* clsact added to the interface by us */
};

struct mnl_socket;

struct netns_net
{
  struct mnl_socket *nl;     /* bound in the container's netns */
  uint32_t seq;
  unsigned n_ifaces;
  struct netns_iface ifaces[NETNS_MAX_IFACES];
  pid_t keeper_pid;          /* netns_keeper_start's process, 0: none */
  int keeper_fd;             /* our end of its socket, -1: none */
};

/* Enter the netns at netns_path (e.g. /proc/PID/ns/net or
 * /var/run/netns/NAME) in a helper thread, discover its interfaces and
 * wire a tap to each as described above.  On failure nothing is left
 * behind.  The result may hold zero interfaces. */
int netns_setup (const char *netns_path, struct netns_net **out, hull_error_t *err);

/* Remove the taps and qdiscs, close the tap fds and the netlink socket,
 * free net -- all of it even when a step fails (the first failure is
 * reported; err may be NULL).  The tap fds must no longer be in use
 * (virtio_net_destroy first).  Safe on NULL and on a partly set up net. */
int netns_teardown (struct netns_net *net, hull_error_t *err);

/* For a process that drops its privileges after setup (the confined
 * supervisor, runtime/confine.h): fork a keeper process now, while
 * privileged, that keeps CAP_NET_ADMIN and the netlink socket and does
 * nothing but wait; netns_teardown then closes the taps itself and has the
 * keeper remove the rest (the clsact qdisc on each interface cannot go
 * without CAP_NET_ADMIN), waiting until it has.  Should this process die
 * first, the keeper sees its socket close and cleans up alone.  The keeper
 * holds no other fd of ours (stdio is /dev/null).  No-op without
 * interfaces.  Call before starting threads. */
int netns_keeper_start (struct netns_net *net, hull_error_t *err);

/* The guest-side description for hull-agent:
 * {"interfaces":[{"name":"eth0","mac":"02:42:ac:11:00:02","mtu":1500,
 *   "addresses":[{"family":"inet","address":"172.17.0.2","prefix":16}],
 *   "routes":[{"family":"inet","destination":"0.0.0.0","prefix":0,
 *              "gateway":"172.17.0.1","scope":"universe","metric":0}]}]}
 * Interfaces appear in the order of ifaces[], which is the order the
 * supervisor adds the virtio-net devices in; the agent should still match
 * a guest NIC by its MAC (the virtio-net device carries it). */
int netns_to_json (const struct netns_net *net, char **out, size_t *len, hull_error_t *err);

/* Open a new tap named name in the calling thread's netns (IFF_TAP |
 * IFF_NO_PI | IFF_VNET_HDR | IFF_TUN_EXCL, vnet header 12 bytes, offloads
 * off, O_NONBLOCK | O_CLOEXEC).  Not persistent: closing the fd deletes
 * it.  Returns the fd. */
int netns_tap_open (const char *name, hull_error_t *err);

#endif
