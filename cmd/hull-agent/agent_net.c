/* The guest's network: the create request's network_json (the supervisor's
 * runtime/sandbox_vm_net.c) describes the interfaces of the container's
 * netns on the host; each arrived here as a virtio-net NIC carrying the
 * same MAC.  Before the container's init exists, every NIC found by MAC
 * gets the original name (eth0, ...), MTU, addresses and routes, and is
 * brought up, and so is lo.  The VM is the container's network namespace,
 * so all of it happens in the agent's own netns.
 *
 * Raw rtnetlink (the agent is static, without libmnl): the messages are
 * built by runtime/netns_guest.c, this file only sends them and reads the
 * acknowledgements. */
#include <errno.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cmd/hull-agent/agent.h"
#include "runtime/cleanup.h"
#include "runtime/netns_guest.h"

/* virtio-net is probed while its module loads, before the agent serves
 * requests; the wait only covers a slow probe. */
#define NET_FIND_WAIT_MS 5000
#define NET_ACK_TIMEOUT_S 5

struct net_ctx
{
  int nl;       /* NETLINK_ROUTE */
  int ioc;      /* AF_INET datagram socket for SIOCGIFHWADDR */
  uint32_t seq;
  struct netns_iface ifaces[NETNS_MAX_IFACES];
  unsigned n;
  int index[NETNS_MAX_IFACES]; /* guest ifindex of ifaces[i] */
};

static int
net_open (struct net_ctx *c, hull_error_t *err)
{
  struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
  struct timeval tv = { .tv_sec = NET_ACK_TIMEOUT_S };

  c->nl = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (c->nl < 0)
    return hull_error (err, errno, "rtnetlink socket");
  if (bind (c->nl, (struct sockaddr *) &sa, sizeof sa) < 0)
    return hull_error (err, errno, "bind rtnetlink socket");
  setsockopt (c->nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  c->ioc = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (c->ioc < 0)
    return hull_error (err, errno, "interface ioctl socket");
  return 0;
}

/* Send one request built into buf and wait for its acknowledgement. */
static int
net_talk (struct net_ctx *c, const void *buf, size_t len, hull_error_t *err)
{
  struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
  uint32_t seq = ((const struct nlmsghdr *) buf)->nlmsg_seq;
  char ans[8192];
  ssize_t n;
  int r;

  if (len == 0)
    return hull_error (err, EINVAL, "netlink request does not fit");
  if (sendto (c->nl, buf, len, 0, (struct sockaddr *) &kernel, sizeof kernel) < 0)
    return hull_error (err, errno, "netlink send");
  for (;;)
    {
      n = recv (c->nl, ans, sizeof ans, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return hull_error (err, errno == EAGAIN ? ETIMEDOUT : errno, "netlink answer");
      r = netns_guest_ack (ans, (size_t) n, seq);
      if (r <= 0)
        return r == 0 ? 0 : hull_error (err, -r, "rtnetlink");
    }
}

static int
mac_of (struct net_ctx *c, const char *name, uint8_t mac[6])
{
  struct ifreq ifr = { 0 };

  snprintf (ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
  if (ioctl (c->ioc, SIOCGIFHWADDR, &ifr) < 0 || ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
    return -1;
  memcpy (mac, ifr.ifr_hwaddr.sa_data, 6);
  return 0;
}

/* Match every described interface to a guest NIC by MAC; 1 when all were
 * found. */
static int
net_match (struct net_ctx *c)
{
  struct if_nameindex *all = if_nameindex ();
  unsigned found = 0;
  uint8_t mac[6];

  if (all == NULL)
    return 0;
  for (unsigned i = 0; i < c->n; i++)
    {
      c->index[i] = 0;
      for (struct if_nameindex *p = all; p->if_index != 0; p++)
        if (mac_of (c, p->if_name, mac) == 0 && memcmp (mac, c->ifaces[i].mac, 6) == 0)
          {
            c->index[i] = (int) p->if_index;
            found++;
            break;
          }
    }
  if_freenameindex (all);
  return found == c->n;
}

static int
net_find (struct net_ctx *c, hull_error_t *err)
{
  int64_t until = agent_now_ms () + NET_FIND_WAIT_MS;
  struct timespec pause = { 0, 50 * 1000 * 1000 };

  while (!net_match (c))
    {
      if (agent_now_ms () > until)
        for (unsigned i = 0; i < c->n; i++)
          if (c->index[i] == 0)
            {
              const uint8_t *m = c->ifaces[i].mac;
              return hull_error (err, ENODEV,
                                 "interface `%s`: no guest NIC has MAC "
                                 "%02x:%02x:%02x:%02x:%02x:%02x",
                                 c->ifaces[i].name, m[0], m[1], m[2], m[3], m[4], m[5]);
            }
      nanosleep (&pause, NULL);
    }
  return 0;
}

static int
link_set (struct net_ctx *c, int ifindex, const char *name, unsigned mtu, bool up,
          hull_error_t *err)
{
  uint8_t buf[NETNS_GUEST_MSG_MAX];

  return net_talk (c, buf, netns_guest_link_msg (buf, ++c->seq, ifindex, name, mtu, up), err);
}

/* Names first, in two steps: the guest's names may be a permutation of the
 * wanted ones (eth1 wanted where the guest said eth0 and the other way
 * round), so every NIC that changes name passes through a unique one. */
static int
net_rename (struct net_ctx *c, hull_error_t *err)
{
  char cur[IF_NAMESIZE], tmp[IF_NAMESIZE];

  for (unsigned i = 0; i < c->n; i++)
    {
      if (if_indextoname ((unsigned) c->index[i], cur) != NULL
          && strcmp (cur, c->ifaces[i].name) == 0)
        continue;
      snprintf (tmp, sizeof tmp, "hullnet%u", i % NETNS_MAX_IFACES);
      if (link_set (c, c->index[i], tmp, 0, false, err) < 0)
        return hull_error_prefix (err, "interface `%s`: rename", c->ifaces[i].name);
    }
  for (unsigned i = 0; i < c->n; i++)
    if (link_set (c, c->index[i], c->ifaces[i].name, c->ifaces[i].mtu, false, err) < 0)
      return hull_error_prefix (err, "interface `%s`: name and MTU %u", c->ifaces[i].name,
                                c->ifaces[i].mtu);
  return 0;
}

static int
iface_addrs (struct net_ctx *c, unsigned i, hull_error_t *err)
{
  const struct netns_iface *ifc = &c->ifaces[i];
  uint8_t buf[NETNS_GUEST_MSG_MAX];

  if (link_set (c, c->index[i], NULL, 0, true, err) < 0)
    return hull_error_prefix (err, "interface `%s`: up", ifc->name);
  for (unsigned k = 0; k < ifc->n_addrs; k++)
    if (net_talk (c, buf, netns_guest_addr_msg (buf, ++c->seq, c->index[i], &ifc->addrs[k]), err)
        < 0)
      return hull_error_prefix (err, "interface `%s`: address %u", ifc->name, k);
  return 0;
}

/* On-link routes before those through a gateway, which need the gateway's
 * network reachable first. */
static int
iface_routes (struct net_ctx *c, unsigned i, bool gateways, hull_error_t *err)
{
  const struct netns_iface *ifc = &c->ifaces[i];
  uint8_t buf[NETNS_GUEST_MSG_MAX];

  for (unsigned k = 0; k < ifc->n_routes; k++)
    {
      const struct netns_route *r = &ifc->routes[k];
      if (r->has_gateway != gateways)
        continue;
      if (net_talk (c, buf, netns_guest_route_msg (buf, ++c->seq, c->index[i], r), err) < 0)
        return hull_error_prefix (err, "interface `%s`: route %u", ifc->name, k);
    }
  return 0;
}

static int
net_configure (struct net_ctx *c, const char *json, hull_error_t *err)
{
  unsigned lo = if_nametoindex ("lo");

  if (lo == 0)
    return hull_error (err, errno, "no `lo` interface");
  if (link_set (c, (int) lo, NULL, 0, true, err) < 0)
    return hull_error_prefix (err, "`lo` up");
  if (json == NULL)
    return 0;
  if (netns_guest_parse (json, strlen (json), c->ifaces, &c->n, err) < 0)
    return hull_error_prefix (err, "network_json");
  if (net_find (c, err) < 0 || net_rename (c, err) < 0)
    return -1;
  for (unsigned i = 0; i < c->n; i++)
    if (iface_addrs (c, i, err) < 0)
      return -1;
  for (int gw = 0; gw < 2; gw++)
    for (unsigned i = 0; i < c->n; i++)
      if (iface_routes (c, i, gw == 1, err) < 0)
        return -1;
  return 0;
}

int
agent_net_apply (const char *json, hull_error_t *err)
{
  struct net_ctx *c = calloc (1, sizeof *c);
  int r;

  if (c == NULL)
    return hull_error (err, ENOMEM, "network");
  c->nl = c->ioc = -1;
  r = net_open (c, err);
  if (r == 0)
    r = net_configure (c, json, err);
  if (c->nl >= 0)
    close (c->nl);
  if (c->ioc >= 0)
    close (c->ioc);
  for (unsigned i = 0; r == 0 && i < c->n; i++)
    agent_log ("network: %s (ifindex %d) configured: mtu %u, %u address(es), %u route(s)",
               c->ifaces[i].name, c->index[i], c->ifaces[i].mtu, c->ifaces[i].n_addrs,
               c->ifaces[i].n_routes);
  free (c);
  return r < 0 ? hull_error_prefix (err, "network") : 0;
}
