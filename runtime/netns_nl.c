/* rtnetlink with libmnl for netns.c: link/address/route dumps, link
 * up/MTU/delete, clsact qdiscs and u32 match-all mirred redirects.
 *
 * Why u32 and not matchall: cls_matchall is not built into every kernel
 * (it is missing on hull's own CI host), u32 always is; with an all-zero
 * mask at offset 0 it matches every frame that has 4 bytes of network
 * header, which every real frame does. */
#include "runtime/netns_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/cleanup.h"

#define NL_BUF_LEN 32768
#define NETNS_TAP_SUFFIX "_hull"
#define REDIRECT_PRIO 1

/* ---- request/response ---- */

/* Send nlh and run cb over the answer until the dump ends or the ack
 * arrives.  Kernel errors come back as errno from mnl_cb_run. */
static int
nl_talk (struct netns_net *net, struct nlmsghdr *nlh, mnl_cb_t cb, void *data,
         hull_error_t *err)
{
  cleanup_free char *buf = malloc (NL_BUF_LEN);
  uint32_t portid = mnl_socket_get_portid (net->nl);

  if (buf == NULL)
    return hull_error (err, ENOMEM, "netlink buffer");
  nlh->nlmsg_seq = ++net->seq;
  if (mnl_socket_sendto (net->nl, nlh, nlh->nlmsg_len) < 0)
    return hull_error (err, errno, "netlink send");
  for (;;)
    {
      ssize_t n = mnl_socket_recvfrom (net->nl, buf, NL_BUF_LEN);
      int r;

      if (n < 0)
        return hull_error (err, errno, "netlink receive");
      r = mnl_cb_run (buf, n, nlh->nlmsg_seq, portid, cb, data);
      if (r < 0)
        return hull_error (err, errno, "netlink");
      if (r == MNL_CB_STOP)
        return 0;
    }
}

static struct nlmsghdr *
nl_msg (char *buf, uint16_t type, uint16_t flags)
{
  struct nlmsghdr *nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  return nlh;
}

int
netns_nl_open (struct netns_net *net, hull_error_t *err)
{
  net->nl = mnl_socket_open2 (NETLINK_ROUTE, SOCK_CLOEXEC);
  if (net->nl == NULL)
    return hull_error (err, errno, "open rtnetlink socket");
  if (mnl_socket_bind (net->nl, 0, MNL_SOCKET_AUTOPID) < 0)
    return hull_error (err, errno, "bind rtnetlink socket");
  net->seq = (uint32_t) time (NULL);
  return 0;
}

/* ---- attribute tables ---- */

struct attr_table
{
  const struct nlattr **tb;
  unsigned max;
};

static int
attr_store (const struct nlattr *attr, void *data)
{
  struct attr_table *t = data;
  unsigned type = mnl_attr_get_type (attr);

  if (type <= t->max)
    t->tb[type] = attr;
  return MNL_CB_OK;
}

static void
attr_parse (const struct nlmsghdr *nlh, size_t hdrlen, const struct nlattr **tb, unsigned max)
{
  struct attr_table t = { tb, max };
  memset (tb, 0, (max + 1) * sizeof *tb);
  mnl_attr_parse (nlh, hdrlen, attr_store, &t);
}

static struct netns_iface *
iface_by_index (struct netns_net *net, int ifindex)
{
  for (unsigned i = 0; i < net->n_ifaces; i++)
    if (net->ifaces[i].ifindex == ifindex)
      return &net->ifaces[i];
  return NULL;
}

/* A dump callback's failure, reported after the dump: "too many X". */
struct dump_ctx
{
  struct netns_net *net;
  const char *overflow; /* set when a fixed table ran out */
};

static int
dump_overflow (struct dump_ctx *c, const char *what)
{
  c->overflow = what;
  errno = E2BIG;
  return MNL_CB_ERROR;
}

/* ---- links ---- */

static bool
name_is_ours (const char *name)
{
  size_t n = strlen (name), s = strlen (NETNS_TAP_SUFFIX);
  return n >= s && strcmp (name + n - s, NETNS_TAP_SUFFIX) == 0;
}

static int
link_cb (const struct nlmsghdr *nlh, void *data)
{
  struct dump_ctx *c = data;
  const struct ifinfomsg *ifm = mnl_nlmsg_get_payload (nlh);
  const struct nlattr *tb[IFLA_MAX + 1];
  struct netns_iface *ifc;

  attr_parse (nlh, sizeof *ifm, tb, IFLA_MAX);
  if (ifm->ifi_type != ARPHRD_ETHER || (ifm->ifi_flags & IFF_LOOPBACK)
      || tb[IFLA_IFNAME] == NULL || mnl_attr_validate (tb[IFLA_IFNAME], MNL_TYPE_NUL_STRING) < 0
      || tb[IFLA_ADDRESS] == NULL || mnl_attr_get_payload_len (tb[IFLA_ADDRESS]) != 6
      || tb[IFLA_MTU] == NULL || mnl_attr_validate (tb[IFLA_MTU], MNL_TYPE_U32) < 0
      || name_is_ours (mnl_attr_get_str (tb[IFLA_IFNAME])))
    return MNL_CB_OK;
  if (c->net->n_ifaces == NETNS_MAX_IFACES)
    return dump_overflow (c, "Ethernet interfaces");
  ifc = &c->net->ifaces[c->net->n_ifaces++];
  memset (ifc, 0, sizeof *ifc);
  ifc->tap_fd = -1;
  ifc->ifindex = ifm->ifi_index;
  snprintf (ifc->name, sizeof ifc->name, "%s", mnl_attr_get_str (tb[IFLA_IFNAME]));
  memcpy (ifc->mac, mnl_attr_get_payload (tb[IFLA_ADDRESS]), 6);
  ifc->mtu = mnl_attr_get_u32 (tb[IFLA_MTU]);
  return MNL_CB_OK;
}

/* ---- addresses ---- */

static bool
addr_copy (int family, const struct nlattr *a, uint8_t out[16])
{
  size_t len = family == AF_INET ? 4 : 16;
  if (a == NULL || mnl_attr_get_payload_len (a) != len)
    return false;
  memcpy (out, mnl_attr_get_payload (a), len);
  return true;
}

static int
addr_cb (const struct nlmsghdr *nlh, void *data)
{
  struct dump_ctx *c = data;
  const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload (nlh);
  const struct nlattr *tb[IFA_MAX + 1];
  struct netns_iface *ifc = iface_by_index (c->net, ifa->ifa_index);
  struct netns_addr a = { .family = ifa->ifa_family, .prefix = ifa->ifa_prefixlen };

  if (ifc == NULL || (a.family != AF_INET && a.family != AF_INET6))
    return MNL_CB_OK;
  /* IPv6 link-local addresses derive from the MAC: the guest makes the
   * same one itself. */
  if (a.family == AF_INET6 && ifa->ifa_scope == RT_SCOPE_LINK)
    return MNL_CB_OK;
  attr_parse (nlh, sizeof *ifa, tb, IFA_MAX);
  /* IFA_LOCAL is the local end on point-to-point links; else IFA_ADDRESS. */
  if (!addr_copy (a.family, tb[IFA_LOCAL], a.addr)
      && !addr_copy (a.family, tb[IFA_ADDRESS], a.addr))
    return MNL_CB_OK;
  if (ifc->n_addrs == NETNS_MAX_ADDRS)
    return dump_overflow (c, "addresses on one interface");
  ifc->addrs[ifc->n_addrs++] = a;
  return MNL_CB_OK;
}

/* ---- routes ---- */

static int
route_cb (const struct nlmsghdr *nlh, void *data)
{
  struct dump_ctx *c = data;
  const struct rtmsg *rtm = mnl_nlmsg_get_payload (nlh);
  const struct nlattr *tb[RTA_MAX + 1];
  struct netns_route r = { .family = rtm->rtm_family, .dst_len = rtm->rtm_dst_len,
                           .scope_link = rtm->rtm_scope == RT_SCOPE_LINK };
  struct netns_iface *ifc;
  uint32_t table = rtm->rtm_table;

  if ((r.family != AF_INET && r.family != AF_INET6) || rtm->rtm_type != RTN_UNICAST
      || rtm->rtm_protocol == RTPROT_KERNEL || (rtm->rtm_flags & RTM_F_CLONED))
    return MNL_CB_OK;
  attr_parse (nlh, sizeof *rtm, tb, RTA_MAX);
  if (tb[RTA_TABLE] && mnl_attr_validate (tb[RTA_TABLE], MNL_TYPE_U32) == 0)
    table = mnl_attr_get_u32 (tb[RTA_TABLE]);
  if (table != RT_TABLE_MAIN || tb[RTA_OIF] == NULL
      || mnl_attr_validate (tb[RTA_OIF], MNL_TYPE_U32) < 0)
    return MNL_CB_OK;
  ifc = iface_by_index (c->net, (int) mnl_attr_get_u32 (tb[RTA_OIF]));
  if (ifc == NULL)
    return MNL_CB_OK;
  if (r.dst_len > 0 && !addr_copy (r.family, tb[RTA_DST], r.dst))
    return MNL_CB_OK;
  r.has_gateway = addr_copy (r.family, tb[RTA_GATEWAY], r.gateway);
  if (tb[RTA_PRIORITY] && mnl_attr_validate (tb[RTA_PRIORITY], MNL_TYPE_U32) == 0)
    r.metric = mnl_attr_get_u32 (tb[RTA_PRIORITY]);
  if (ifc->n_routes == NETNS_MAX_ROUTES)
    return dump_overflow (c, "routes through one interface");
  ifc->routes[ifc->n_routes++] = r;
  return MNL_CB_OK;
}

static int
dump (struct netns_net *net, uint16_t type, int family, mnl_cb_t cb, const char *what,
      hull_error_t *err)
{
  char buf[256];
  struct nlmsghdr *nlh = nl_msg (buf, type, NLM_F_DUMP);
  struct dump_ctx c = { net, NULL };

  /* rtgenmsg-sized family header; the kernel reads only the family. */
  struct rtmsg *rtm = mnl_nlmsg_put_extra_header (nlh, sizeof *rtm);
  rtm->rtm_family = family;
  if (nl_talk (net, nlh, cb, &c, err) < 0)
    {
      if (c.overflow)
        {
          hull_error_free (err);
          return hull_error (err, 0, "the network namespace has too many %s (hull supports "
                                     "%u interfaces, %u addresses and %u routes each)",
                             c.overflow, NETNS_MAX_IFACES, NETNS_MAX_ADDRS,
                             NETNS_MAX_ROUTES);
        }
      return hull_error_prefix (err, "list %s", what);
    }
  return 0;
}

int
netns_nl_discover (struct netns_net *net, hull_error_t *err)
{
  net->n_ifaces = 0;
  if (dump (net, RTM_GETLINK, AF_UNSPEC, link_cb, "links", err) < 0)
    return -1;
  if (net->n_ifaces == 0)
    return 0;
  if (dump (net, RTM_GETADDR, AF_UNSPEC, addr_cb, "addresses", err) < 0
      || dump (net, RTM_GETROUTE, AF_INET, route_cb, "IPv4 routes", err) < 0
      || dump (net, RTM_GETROUTE, AF_INET6, route_cb, "IPv6 routes", err) < 0)
    return -1;
  return 0;
}

/* ---- links: up/mtu, delete ---- */

int
netns_nl_link_up (struct netns_net *net, int ifindex, unsigned mtu, hull_error_t *err)
{
  char buf[256];
  struct nlmsghdr *nlh = nl_msg (buf, RTM_NEWLINK, NLM_F_ACK);
  struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header (nlh, sizeof *ifm);

  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = ifindex;
  ifm->ifi_flags = IFF_UP;
  ifm->ifi_change = IFF_UP;
  mnl_attr_put_u32 (nlh, IFLA_MTU, mtu);
  if (nl_talk (net, nlh, NULL, NULL, err) < 0)
    return hull_error_prefix (err, "set link %d up with mtu %u", ifindex, mtu);
  return 0;
}

int
netns_nl_link_del (struct netns_net *net, int ifindex, hull_error_t *err)
{
  char buf[256];
  struct nlmsghdr *nlh = nl_msg (buf, RTM_DELLINK, NLM_F_ACK);
  struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header (nlh, sizeof *ifm);

  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = ifindex;
  if (nl_talk (net, nlh, NULL, NULL, err) < 0)
    return hull_error_prefix (err, "delete link %d", ifindex);
  return 0;
}

/* ---- tc ---- */

static struct tcmsg *
tc_msg (struct nlmsghdr *nlh, int ifindex, uint32_t parent, uint32_t handle)
{
  struct tcmsg *tcm = mnl_nlmsg_put_extra_header (nlh, sizeof *tcm);
  tcm->tcm_family = AF_UNSPEC;
  tcm->tcm_ifindex = ifindex;
  tcm->tcm_parent = parent;
  tcm->tcm_handle = handle;
  return tcm;
}

int
netns_nl_clsact_add (struct netns_net *net, int ifindex, hull_error_t *err)
{
  char buf[256];
  struct nlmsghdr *nlh = nl_msg (buf, RTM_NEWQDISC, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);

  tc_msg (nlh, ifindex, TC_H_CLSACT, TC_H_MAKE (TC_H_CLSACT, 0));
  mnl_attr_put_strz (nlh, TCA_KIND, "clsact");
  if (nl_talk (net, nlh, NULL, NULL, err) < 0)
    return hull_error_prefix (err, "add clsact qdisc to link %d", ifindex);
  return 0;
}

int
netns_nl_clsact_del (struct netns_net *net, int ifindex, hull_error_t *err)
{
  char buf[256];
  struct nlmsghdr *nlh = nl_msg (buf, RTM_DELQDISC, NLM_F_ACK);

  tc_msg (nlh, ifindex, TC_H_CLSACT, TC_H_MAKE (TC_H_CLSACT, 0));
  mnl_attr_put_strz (nlh, TCA_KIND, "clsact");
  if (nl_talk (net, nlh, NULL, NULL, err) < 0)
    return hull_error_prefix (err, "delete clsact qdisc of link %d", ifindex);
  return 0;
}

/* actions list: [1] = mirred egress redirect to ifindex, frame stolen. */
static void
put_mirred (struct nlmsghdr *nlh, uint16_t type, int to)
{
  struct tc_mirred parms = { .action = TC_ACT_STOLEN, .eaction = TCA_EGRESS_REDIR,
                             .ifindex = (uint32_t) to };
  struct nlattr *acts = mnl_attr_nest_start (nlh, type);
  struct nlattr *act = mnl_attr_nest_start (nlh, 1);
  struct nlattr *opts;

  mnl_attr_put_strz (nlh, TCA_ACT_KIND, "mirred");
  opts = mnl_attr_nest_start (nlh, TCA_ACT_OPTIONS);
  mnl_attr_put (nlh, TCA_MIRRED_PARMS, sizeof parms, &parms);
  mnl_attr_nest_end (nlh, opts);
  mnl_attr_nest_end (nlh, act);
  mnl_attr_nest_end (nlh, acts);
}

int
netns_nl_redirect_add (struct netns_net *net, int from, int to, hull_error_t *err)
{
  char buf[512];
  struct nlmsghdr *nlh = nl_msg (buf, RTM_NEWTFILTER, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  struct tcmsg *tcm = tc_msg (nlh, from, TC_H_MAKE (TC_H_CLSACT, TC_H_MIN_INGRESS), 0);
  struct
  {
    struct tc_u32_sel sel;
    struct tc_u32_key key;
  } sel = { .sel = { .flags = TC_U32_TERMINAL, .nkeys = 1 } }; /* mask 0: any frame */
  struct nlattr *opts;

  tcm->tcm_info = TC_H_MAKE (REDIRECT_PRIO << 16, htons (ETH_P_ALL));
  mnl_attr_put_strz (nlh, TCA_KIND, "u32");
  opts = mnl_attr_nest_start (nlh, TCA_OPTIONS);
  mnl_attr_put (nlh, TCA_U32_SEL, sizeof sel, &sel);
  put_mirred (nlh, TCA_U32_ACT, to);
  mnl_attr_nest_end (nlh, opts);
  if (nl_talk (net, nlh, NULL, NULL, err) < 0)
    return hull_error_prefix (err, "add redirect filter from link %d to link %d", from, to);
  return 0;
}
