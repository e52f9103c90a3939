/* runtime/netns_guest.c: the guest's reading of netns_to_json and the
 * rtnetlink requests hull-agent sends.  The messages are checked field by
 * field, then (as root) applied to a veth end in a private netns
 * to see the kernel take them and end up with what was asked. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/netns.h"
#include "runtime/netns_guest.h"
#include "runtime/protocol.h"

static void
ip4 (uint8_t out[16], const char *s)
{
  memset (out, 0, 16);
  cr_assert_eq (inet_pton (AF_INET, s, out), 1);
}

/* A netns_net as netns_setup would have recorded it (no plumbing). */
static struct netns_net *
sample_net (void)
{
  struct netns_net *net = calloc (1, sizeof *net);
  struct netns_iface *ifc = &net->ifaces[0];

  net->n_ifaces = 2;
  strcpy (ifc->name, "eth0");
  memcpy (ifc->mac, "\x02\x42\xac\x11\x00\x02", 6);
  ifc->mtu = 1400;
  ifc->n_addrs = 2;
  ifc->addrs[0].family = AF_INET;
  ip4 (ifc->addrs[0].addr, "172.17.0.2");
  ifc->addrs[0].prefix = 16;
  ifc->addrs[1].family = AF_INET6;
  cr_assert_eq (inet_pton (AF_INET6, "fd00::2", ifc->addrs[1].addr), 1);
  ifc->addrs[1].prefix = 64;
  ifc->n_routes = 2;
  ifc->routes[0].family = AF_INET;
  ifc->routes[0].has_gateway = true;
  ip4 (ifc->routes[0].gateway, "172.17.0.1");
  ifc->routes[0].metric = 7;
  ifc->routes[1].family = AF_INET;
  ip4 (ifc->routes[1].dst, "10.9.0.0");
  ifc->routes[1].dst_len = 24;
  ifc->routes[1].scope_link = true;
  strcpy (net->ifaces[1].name, "net1");
  memcpy (net->ifaces[1].mac, "\x0a\x00\x00\x00\x00\xff", 6);
  net->ifaces[1].mtu = 9000;
  return net;
}

Test (netns_guest, parses_what_netns_to_json_writes)
{
  struct netns_net *net = sample_net ();
  struct netns_iface got[NETNS_MAX_IFACES];
  hull_error_t err = NULL;
  char *json = NULL;
  size_t len = 0;
  unsigned n = 99;

  cr_assert_eq (netns_to_json (net, &json, &len, &err), 0);
  cr_assert_eq (netns_guest_parse (json, len, got, &n, &err), 0, "%s", hull_error_msg (&err));
  cr_assert_eq (n, 2);
  cr_assert_str_eq (got[0].name, "eth0");
  cr_assert_eq (memcmp (got[0].mac, net->ifaces[0].mac, 6), 0);
  cr_assert_eq (got[0].mtu, 1400);
  cr_assert_eq (got[0].n_addrs, 2);
  cr_assert_eq (memcmp (&got[0].addrs[0], &net->ifaces[0].addrs[0], sizeof got[0].addrs[0]), 0);
  cr_assert_eq (memcmp (&got[0].addrs[1], &net->ifaces[0].addrs[1], sizeof got[0].addrs[1]), 0);
  cr_assert_eq (got[0].n_routes, 2);
  cr_assert (got[0].routes[0].has_gateway);
  cr_assert_eq (got[0].routes[0].dst_len, 0);
  cr_assert_eq (got[0].routes[0].metric, 7);
  cr_assert_eq (memcmp (got[0].routes[0].gateway, net->ifaces[0].routes[0].gateway, 4), 0);
  cr_assert_not (got[0].routes[1].has_gateway);
  cr_assert (got[0].routes[1].scope_link);
  cr_assert_eq (got[0].routes[1].dst_len, 24);
  cr_assert_eq (memcmp (got[0].routes[1].dst, net->ifaces[0].routes[1].dst, 4), 0);
  cr_assert_str_eq (got[1].name, "net1");
  cr_assert_eq (got[1].mtu, 9000);
  cr_assert_eq (got[1].n_addrs, 0);
  cr_assert_eq (got[1].n_routes, 0);
  cr_assert_eq (got[1].tap_fd, -1);
  free (json);
  free (net);
}

static void
expect_error (const char *json, const char *needle)
{
  struct netns_iface got[NETNS_MAX_IFACES];
  hull_error_t err = NULL;
  unsigned n;

  cr_assert_eq (netns_guest_parse (json, strlen (json), got, &n, &err), -1, "accepted %s", json);
  cr_assert (strstr (hull_error_msg (&err), needle) != NULL, "`%s` lacks `%s`",
             hull_error_msg (&err), needle);
  hull_error_free (&err);
}

#define IFACE(extra)                                                                    \
  "{\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"02:00:00:00:00:01\"," extra "}]}"

Test (netns_guest, rejects_bad_descriptions_naming_the_field)
{
  expect_error ("{\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"02:00:00:00:00\",\"mtu\":1500}]}",
                "interfaces[0].mac");
  expect_error ("{\"interfaces\":[{\"name\":\"a/b\",\"mac\":\"02:00:00:00:00:01\",\"mtu\":1500}]}",
                "interfaces[0].name");
  expect_error (IFACE ("\"mtu\":20"), "interfaces[0].mtu");
  expect_error (IFACE ("\"mtu\":1500,\"addresses\":[{\"family\":\"inet\",\"address\":\"1.2.3.4\","
                       "\"prefix\":33}]"),
                "interfaces[0].addresses[0].prefix");
  expect_error (IFACE ("\"mtu\":1500,\"addresses\":[{\"family\":\"ipx\",\"address\":\"1.2.3.4\","
                       "\"prefix\":3}]"),
                "interfaces[0].addresses[0].family");
  expect_error (IFACE ("\"mtu\":1500,\"routes\":[{\"family\":\"inet\",\"destination\":\"::\","
                       "\"prefix\":0,\"gateway\":null}]"),
                "interfaces[0].routes[0].destination");
  expect_error (IFACE ("\"mtu\":1500,\"routes\":[{\"family\":\"inet\",\"destination\":\"0.0.0.0\","
                       "\"prefix\":0,\"gateway\":null,\"scope\":\"host\"}]"),
                "interfaces[0].routes[0].scope");
  expect_error ("[]", "object");
}

Test (netns_guest, empty_or_absent_list_means_no_interfaces)
{
  struct netns_iface got[NETNS_MAX_IFACES];
  hull_error_t err = NULL;
  unsigned n = 5;

  cr_assert_eq (netns_guest_parse ("{\"interfaces\":[]}", 17, got, &n, &err), 0);
  cr_assert_eq (n, 0);
  n = 5;
  cr_assert_eq (netns_guest_parse ("{}", 2, got, &n, &err), 0);
  cr_assert_eq (n, 0);
}

Test (netns_guest, mac_text)
{
  uint8_t mac[6];

  cr_assert_eq (netns_guest_parse_mac ("02:42:AC:11:00:0f", mac), 0);
  cr_assert_eq (memcmp (mac, "\x02\x42\xac\x11\x00\x0f", 6), 0);
  cr_assert_eq (netns_guest_parse_mac ("02:42:ac:11:00:0f:", mac), -1);
  cr_assert_eq (netns_guest_parse_mac ("2:42:ac:11:00:0f", mac), -1);
  cr_assert_eq (netns_guest_parse_mac ("", mac), -1);
}

/* The attribute of type t in a message whose fixed header is hdrlen. */
static const struct rtattr *
find_attr (const void *buf, size_t hdrlen, unsigned short t)
{
  const struct nlmsghdr *nlh = buf;
  int left = (int) (nlh->nlmsg_len - NLMSG_SPACE (hdrlen));

  const char *first = (const char *) NLMSG_DATA (nlh) + NLMSG_ALIGN (hdrlen);

  for (const struct rtattr *a = (const void *) first; RTA_OK (a, left); a = RTA_NEXT (a, left))
    if (a->rta_type == t)
      return a;
  return NULL;
}

Test (netns_guest, link_message)
{
  uint8_t buf[NETNS_GUEST_MSG_MAX];
  size_t len = netns_guest_link_msg (buf, 9, 3, "eth0", 1400, true);
  const struct nlmsghdr *nlh = (const void *) buf;
  const struct ifinfomsg *ifi = NLMSG_DATA (nlh);
  const struct rtattr *a;

  cr_assert_eq (len, nlh->nlmsg_len);
  cr_assert_eq (nlh->nlmsg_type, RTM_NEWLINK);
  cr_assert_eq (nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  cr_assert_eq (nlh->nlmsg_seq, 9);
  cr_assert_eq (ifi->ifi_index, 3);
  cr_assert_eq (ifi->ifi_flags & IFF_UP, IFF_UP);
  cr_assert_eq (ifi->ifi_change, IFF_UP);
  a = find_attr (buf, sizeof *ifi, IFLA_IFNAME);
  cr_assert_not_null (a);
  cr_assert_str_eq ((const char *) RTA_DATA (a), "eth0");
  a = find_attr (buf, sizeof *ifi, IFLA_MTU);
  cr_assert_not_null (a);
  cr_assert_eq (*(const uint32_t *) RTA_DATA (a), 1400);

  len = netns_guest_link_msg (buf, 10, 1, NULL, 0, false);
  cr_assert_eq (len, NLMSG_LENGTH (sizeof *ifi));
  cr_assert_eq (ifi->ifi_flags & IFF_UP, 0);
  cr_assert_eq (netns_guest_link_msg (buf, 11, 1, "a-name-much-too-long", 0, true), 0);
}

Test (netns_guest, address_messages)
{
  uint8_t buf[NETNS_GUEST_MSG_MAX];
  struct netns_addr v4 = { .family = AF_INET, .prefix = 24 };
  struct netns_addr v6 = { .family = AF_INET6, .prefix = 64 };
  const struct ifaddrmsg *ifa = NLMSG_DATA ((struct nlmsghdr *) buf);
  const struct nlmsghdr *nlh = (const void *) buf;
  const struct rtattr *a;

  ip4 (v4.addr, "10.1.2.3");
  cr_assert_eq (inet_pton (AF_INET6, "fd00::5", v6.addr), 1);
  cr_assert_gt (netns_guest_addr_msg (buf, 1, 4, &v4), 0);
  cr_assert_eq (nlh->nlmsg_type, RTM_NEWADDR);
  cr_assert_eq (nlh->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
  cr_assert_eq (ifa->ifa_family, AF_INET);
  cr_assert_eq (ifa->ifa_prefixlen, 24);
  cr_assert_eq (ifa->ifa_index, 4);
  a = find_attr (buf, sizeof *ifa, IFA_LOCAL);
  cr_assert (a != NULL && RTA_PAYLOAD (a) == 4 && memcmp (RTA_DATA (a), v4.addr, 4) == 0);
  a = find_attr (buf, sizeof *ifa, IFA_ADDRESS);
  cr_assert (a != NULL && RTA_PAYLOAD (a) == 4 && memcmp (RTA_DATA (a), v4.addr, 4) == 0);

  cr_assert_gt (netns_guest_addr_msg (buf, 2, 4, &v6), 0);
  cr_assert_eq (ifa->ifa_family, AF_INET6);
  cr_assert_eq (ifa->ifa_flags & IFA_F_NODAD, IFA_F_NODAD);
  cr_assert_null (find_attr (buf, sizeof *ifa, IFA_LOCAL));
  a = find_attr (buf, sizeof *ifa, IFA_ADDRESS);
  cr_assert (a != NULL && RTA_PAYLOAD (a) == 16 && memcmp (RTA_DATA (a), v6.addr, 16) == 0);
}

Test (netns_guest, route_messages)
{
  uint8_t buf[NETNS_GUEST_MSG_MAX];
  struct netns_route def = { .family = AF_INET, .has_gateway = true, .metric = 100 };
  struct netns_route link = { .family = AF_INET, .dst_len = 24, .scope_link = true };
  const struct rtmsg *rtm = NLMSG_DATA ((struct nlmsghdr *) buf);
  const struct rtattr *a;

  ip4 (def.gateway, "10.0.0.1");
  ip4 (link.dst, "10.2.0.0");
  cr_assert_gt (netns_guest_route_msg (buf, 1, 6, &def), 0);
  cr_assert_eq (((struct nlmsghdr *) buf)->nlmsg_type, RTM_NEWROUTE);
  cr_assert_eq (rtm->rtm_dst_len, 0);
  cr_assert_eq (rtm->rtm_table, RT_TABLE_MAIN);
  cr_assert_eq (rtm->rtm_scope, RT_SCOPE_UNIVERSE);
  cr_assert_eq (rtm->rtm_type, RTN_UNICAST);
  cr_assert_null (find_attr (buf, sizeof *rtm, RTA_DST));
  a = find_attr (buf, sizeof *rtm, RTA_GATEWAY);
  cr_assert (a != NULL && memcmp (RTA_DATA (a), def.gateway, 4) == 0);
  a = find_attr (buf, sizeof *rtm, RTA_OIF);
  cr_assert (a != NULL && *(const uint32_t *) RTA_DATA (a) == 6);
  a = find_attr (buf, sizeof *rtm, RTA_PRIORITY);
  cr_assert (a != NULL && *(const uint32_t *) RTA_DATA (a) == 100);

  cr_assert_gt (netns_guest_route_msg (buf, 2, 6, &link), 0);
  cr_assert_eq (rtm->rtm_scope, RT_SCOPE_LINK);
  cr_assert_null (find_attr (buf, sizeof *rtm, RTA_GATEWAY));
  cr_assert_null (find_attr (buf, sizeof *rtm, RTA_PRIORITY));
  a = find_attr (buf, sizeof *rtm, RTA_DST);
  cr_assert (a != NULL && memcmp (RTA_DATA (a), link.dst, 4) == 0);
}

static size_t
error_msg (void *buf, uint32_t seq, int error)
{
  struct nlmsghdr *nlh = buf;
  struct nlmsgerr *e = NLMSG_DATA (nlh);

  memset (buf, 0, NLMSG_SPACE (sizeof *e));
  nlh->nlmsg_len = NLMSG_LENGTH (sizeof *e);
  nlh->nlmsg_type = NLMSG_ERROR;
  nlh->nlmsg_seq = seq;
  e->error = error;
  return NLMSG_SPACE (sizeof *e);
}

Test (netns_guest, acknowledgements)
{
  uint8_t buf[512];
  size_t n;

  n = error_msg (buf, 5, 0);
  cr_assert_eq (netns_guest_ack (buf, n, 5), 0);
  cr_assert_eq (netns_guest_ack (buf, n, 6), 1);
  n = error_msg (buf, 5, -EEXIST);
  cr_assert_eq (netns_guest_ack (buf, n, 5), -EEXIST);
  /* An older answer first, then ours, in one read. */
  n = error_msg (buf, 4, -EPERM);
  n += error_msg (buf + n, 5, -ENODEV);
  cr_assert_eq (netns_guest_ack (buf, n, 5), -ENODEV);
  cr_assert_eq (netns_guest_ack (buf, 3, 5), 1);
}

/* ---- against the kernel ---- */

static int
talk (int fd, const void *buf, size_t len)
{
  uint8_t ans[4096];
  uint32_t seq = ((const struct nlmsghdr *) buf)->nlmsg_seq;
  ssize_t n;
  int r;

  if (len == 0 || send (fd, buf, len, 0) < 0)
    return -EINVAL;
  do
    {
      n = recv (fd, ans, sizeof ans, 0);
      if (n < 0)
        return -errno;
      r = netns_guest_ack (ans, (size_t) n, seq);
    }
  while (r == 1);
  return r;
}

static int
shell_has (const char *cmd, const char *needle)
{
  char line[512];
  FILE *f = popen (cmd, "r");
  int found = 0;

  if (f == NULL)
    return 0;
  while (fgets (line, sizeof line, f) != NULL)
    if (strstr (line, needle) != NULL)
      found = 1;
  pclose (f);
  return found;
}

/* In the child, in its own netns: exit status = the failed step. */
static int
kernel_child (void)
{
  struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
  struct netns_addr a = { .family = AF_INET, .prefix = 24 };
  struct netns_route gw = { .family = AF_INET, .has_gateway = true };
  uint8_t buf[NETNS_GUEST_MSG_MAX];
  unsigned idx;
  int fd;

  if (unshare (CLONE_NEWNET) < 0)
    return 10;
  if (system ("ip link add hullt0 type veth peer name hullt1") != 0)
    return 11;
  idx = if_nametoindex ("hullt0");
  fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (idx == 0 || fd < 0 || bind (fd, (struct sockaddr *) &sa, sizeof sa) < 0)
    return 12;
  if (talk (fd, buf, netns_guest_link_msg (buf, 1, 1, NULL, 0, true)) != 0)
    return 13;
  if (talk (fd, buf, netns_guest_link_msg (buf, 2, (int) idx, "eth7", 1280, false)) != 0)
    return 14;
  if (talk (fd, buf, netns_guest_link_msg (buf, 3, (int) idx, NULL, 0, true)) != 0)
    return 15;
  inet_pton (AF_INET, "10.77.0.2", a.addr);
  if (talk (fd, buf, netns_guest_addr_msg (buf, 4, (int) idx, &a)) != 0)
    return 16;
  /* Twice: create-or-replace, so a repeat is no error. */
  if (talk (fd, buf, netns_guest_addr_msg (buf, 5, (int) idx, &a)) != 0)
    return 17;
  inet_pton (AF_INET, "10.77.0.1", gw.gateway);
  if (talk (fd, buf, netns_guest_route_msg (buf, 6, (int) idx, &gw)) != 0)
    return 18;
  if (!shell_has ("ip -o link show eth7", "mtu 1280") || !shell_has ("ip -o link show lo", "UP"))
    return 19;
  if (!shell_has ("ip -o -4 addr show dev eth7", "10.77.0.2/24"))
    return 20;
  if (!shell_has ("ip -4 route show default", "default via 10.77.0.1 dev eth7"))
    return 21;
  /* A gateway nothing reaches is refused, with the kernel's errno. */
  inet_pton (AF_INET, "192.0.2.1", gw.gateway);
  gw.dst_len = 8;
  inet_pton (AF_INET, "11.0.0.0", gw.dst);
  if (talk (fd, buf, netns_guest_route_msg (buf, 7, (int) idx, &gw)) != -ENETUNREACH)
    return 22;
  return 0;
}

Test (netns_guest, kernel_applies_the_messages)
{
  int status = 0;
  pid_t pid;

  if (geteuid () != 0 || system ("command -v ip >/dev/null") != 0)
    cr_skip_test ("needs root and iproute2");
  pid = fork ();
  cr_assert_geq (pid, 0);
  if (pid == 0)
    _exit (kernel_child ());
  cr_assert_eq (waitpid (pid, &status, 0), pid);
  cr_assert (WIFEXITED (status));
  cr_assert_eq (WEXITSTATUS (status), 0, "step %d failed", WEXITSTATUS (status));
}

/* ---- on the wire ---- */

/* The create request carries network_json; the agent's decoder accepts it
 * (the schema allows it for create only) and gets the text back. */
Test (netns_guest, create_request_carries_network_json)
{
  const char *json = "{\"interfaces\":[]}";
  struct hull_msgbuf mb;
  struct hull_buf wire = { 0 };
  struct hull_decoder d;
  struct hull_msg m;
  hull_error_t err = NULL;
  size_t used = 0;

  hull_msgbuf_init (&mb, HULL_FRAME_REQUEST, HULL_OP_CREATE, 1);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONTAINER_ID, "c1");
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONFIG_JSON, "{}");
  hull_msgbuf_put_str (&mb, HULL_ATTR_NETWORK_JSON, json);
  cr_assert_eq (hull_proto_encode_msg (&wire, &mb, &err), 0, "%s", hull_error_msg (&err));
  hull_decoder_init (&d);
  cr_assert_eq (hull_decoder_feed (&d, wire.data, wire.len, &used, &m, &err), 1);
  cr_assert_str_eq (hull_msg_get_str (&m, HULL_ATTR_NETWORK_JSON), json);
  hull_decoder_free (&d);
  hull_msgbuf_free (&mb);
  hull_buf_free (&wire);

  /* Not part of exec. */
  hull_msgbuf_init (&mb, HULL_FRAME_REQUEST, HULL_OP_EXEC, 2);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONTAINER_ID, "c1");
  hull_msgbuf_put_str (&mb, HULL_ATTR_PROCESS_JSON, "{}");
  hull_msgbuf_put_str (&mb, HULL_ATTR_NETWORK_JSON, json);
  cr_assert_eq (hull_proto_encode_msg (&wire, &mb, &err), -1);
  hull_error_free (&err);
  hull_msgbuf_free (&mb);
  hull_buf_free (&wire);
}
