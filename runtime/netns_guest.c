/* Guest-side network configuration: the description's parser and the
 * rtnetlink requests (see netns_guest.h). */
#include "runtime/netns_guest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "runtime/cleanup.h"
#include "runtime/json.h"

/* ---- the description ---- */

int
netns_guest_parse_mac (const char *text, uint8_t mac[6])
{
  unsigned v[6];
  int used = 0;

  if (sscanf (text, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
              &used)
          != 6
      || used != 17 || text[used] != '\0')
    return -1;
  for (int i = 0; i < 6; i++)
    mac[i] = (uint8_t) v[i];
  return 0;
}

static int
get_family (const struct json_node *obj, int *family, hull_error_t *err)
{
  cleanup_free char *s = NULL;
  struct json_node n = json_child (obj, "family");

  if (json_get_string (obj, "family", JSON_REQUIRED, &s, err) < 0)
    return -1;
  if (strcmp (s, "inet") == 0)
    *family = AF_INET;
  else if (strcmp (s, "inet6") == 0)
    *family = AF_INET6;
  else
    return json_error (&n, err, "`%s` is neither `inet` nor `inet6`", s);
  return 0;
}

/* An address member of the object's family; absent or null -> 0 (only
 * when optional). */
static int
get_ip (const struct json_node *obj, const char *key, int family, bool required, uint8_t out[16],
        hull_error_t *err)
{
  cleanup_free char *s = NULL;
  struct json_node n = json_child (obj, key);

  if (!required && (n.v == NULL || YAJL_IS_NULL (n.v)))
    return 0;
  if (json_get_string (obj, key, JSON_REQUIRED, &s, err) < 0)
    return -1;
  if (inet_pton (family, s, out) != 1)
    return json_error (&n, err, "`%s` is not an %s address", s,
                       family == AF_INET ? "IPv4" : "IPv6");
  return 1;
}

static int
get_prefix (const struct json_node *obj, int family, uint8_t *out, hull_error_t *err)
{
  uint32_t p = 0;

  if (json_get_uint32 (obj, "prefix", JSON_REQUIRED, &p, err) < 0)
    return -1;
  if (p > (family == AF_INET ? 32u : 128u))
    {
      struct json_node n = json_child (obj, "prefix");
      return json_error (&n, err, "%u is too long for the family", p);
    }
  *out = (uint8_t) p;
  return 0;
}

static int
parse_addr (const struct json_node *n, struct netns_addr *a, hull_error_t *err)
{
  if (json_expect_object (n, err) < 0 || get_family (n, &a->family, err) < 0
      || get_ip (n, "address", a->family, true, a->addr, err) < 0
      || get_prefix (n, a->family, &a->prefix, err) < 0)
    return -1;
  return 0;
}

static int
parse_route (const struct json_node *n, struct netns_route *r, hull_error_t *err)
{
  cleanup_free char *scope = NULL;
  int gw;

  if (json_expect_object (n, err) < 0 || get_family (n, &r->family, err) < 0
      || get_ip (n, "destination", r->family, true, r->dst, err) < 0
      || get_prefix (n, r->family, &r->dst_len, err) < 0)
    return -1;
  gw = get_ip (n, "gateway", r->family, false, r->gateway, err);
  if (gw < 0 || json_get_uint32 (n, "metric", JSON_OPTIONAL, &r->metric, err) < 0
      || json_get_string (n, "scope", JSON_OPTIONAL, &scope, err) < 0)
    return -1;
  r->has_gateway = gw > 0;
  if (scope != NULL && strcmp (scope, "link") != 0 && strcmp (scope, "universe") != 0)
    {
      struct json_node s = json_child (n, "scope");
      return json_error (&s, err, "`%s` is neither `link` nor `universe`", scope);
    }
  r->scope_link = scope != NULL && strcmp (scope, "link") == 0;
  return 0;
}

/* An array member of at most max entries, each parsed by fn. */
static int
parse_list (const struct json_node *obj, const char *key, size_t max, void *items, size_t size,
            int (*fn) (const struct json_node *, void *, hull_error_t *), unsigned *n,
            hull_error_t *err)
{
  struct json_node arr;
  size_t len = 0;
  int r = json_member (obj, key, JSON_OPTIONAL, &arr, err);

  *n = 0;
  if (r <= 0)
    return r;
  if (json_expect_array (&arr, &len, err) < 0)
    return -1;
  if (len > max)
    return json_error (&arr, err, "%zu entries, at most %zu are supported", len, max);
  for (size_t i = 0; i < len; i++)
    {
      struct json_node e = json_element (&arr, i);
      if (fn (&e, (char *) items + i * size, err) < 0)
        return -1;
    }
  *n = (unsigned) len;
  return 0;
}

static int
addr_fn (const struct json_node *n, void *item, hull_error_t *err)
{
  return parse_addr (n, item, err);
}

static int
route_fn (const struct json_node *n, void *item, hull_error_t *err)
{
  return parse_route (n, item, err);
}

static int
parse_iface (const struct json_node *n, void *item, hull_error_t *err)
{
  struct netns_iface *ifc = item;
  cleanup_free char *name = NULL, *mac = NULL;
  struct json_node mn = json_child (n, "mac"), nn = json_child (n, "name");
  uint32_t mtu = 0;

  memset (ifc, 0, sizeof *ifc);
  ifc->tap_fd = -1;
  if (json_expect_object (n, err) < 0 || json_get_string (n, "name", JSON_REQUIRED, &name, err) < 0
      || json_get_string (n, "mac", JSON_REQUIRED, &mac, err) < 0
      || json_get_uint32 (n, "mtu", JSON_REQUIRED, &mtu, err) < 0)
    return -1;
  if (name[0] == '\0' || strlen (name) >= IFNAMSIZ || strchr (name, '/') != NULL)
    return json_error (&nn, err, "`%s` is not a valid interface name", name);
  if (netns_guest_parse_mac (mac, ifc->mac) < 0)
    return json_error (&mn, err, "`%s` is not a MAC address", mac);
  if (mtu < 68 || mtu > 65535)
    {
      struct json_node tn = json_child (n, "mtu");
      return json_error (&tn, err, "%u is outside 68..65535", mtu);
    }
  memcpy (ifc->name, name, strlen (name) + 1);
  ifc->mtu = mtu;
  return parse_list (n, "addresses", NETNS_MAX_ADDRS, ifc->addrs, sizeof ifc->addrs[0], addr_fn,
                     &ifc->n_addrs, err);
}

static int
iface_fn (const struct json_node *n, void *item, hull_error_t *err)
{
  struct netns_iface *ifc = item;

  if (parse_iface (n, item, err) < 0)
    return -1;
  return parse_list (n, "routes", NETNS_MAX_ROUTES, ifc->routes, sizeof ifc->routes[0],
                     route_fn, &ifc->n_routes, err);
}

int
netns_guest_parse (const char *json, size_t len, struct netns_iface ifaces[NETNS_MAX_IFACES],
                   unsigned *n, hull_error_t *err)
{
  yajl_val tree = NULL;
  struct json_node root;
  int r;

  *n = 0;
  if (json_parse (json, len, &tree, err) < 0)
    return -1;
  root = json_root (tree);
  r = json_expect_object (&root, err);
  if (r == 0)
    r = parse_list (&root, "interfaces", NETNS_MAX_IFACES, ifaces, sizeof ifaces[0], iface_fn, n,
                    err);
  json_free (tree);
  return r < 0 ? -1 : 0;
}

/* ---- rtnetlink requests ---- */

static struct nlmsghdr *
msg_start (void *buf, uint16_t type, uint16_t flags, uint32_t seq, size_t hdrlen)
{
  struct nlmsghdr *nlh = buf;

  memset (buf, 0, NETNS_GUEST_MSG_MAX);
  nlh->nlmsg_len = (uint32_t) NLMSG_LENGTH (hdrlen);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = (uint16_t) (NLM_F_REQUEST | NLM_F_ACK | flags);
  nlh->nlmsg_seq = seq;
  return nlh;
}

/* Append one attribute; false when it would not fit. */
static bool
put_attr (struct nlmsghdr *nlh, uint16_t type, const void *data, size_t len)
{
  size_t at = NLMSG_ALIGN (nlh->nlmsg_len);
  struct rtattr *rta = (struct rtattr *) ((char *) nlh + at);

  if (at + RTA_SPACE (len) > NETNS_GUEST_MSG_MAX)
    return false;
  rta->rta_type = type;
  rta->rta_len = (unsigned short) RTA_LENGTH (len);
  memcpy (RTA_DATA (rta), data, len);
  nlh->nlmsg_len = (uint32_t) (at + RTA_SPACE (len));
  return true;
}

static bool
put_u32 (struct nlmsghdr *nlh, uint16_t type, uint32_t v)
{
  return put_attr (nlh, type, &v, sizeof v);
}

static size_t
addr_len (int family)
{
  return family == AF_INET ? 4 : 16;
}

size_t
netns_guest_link_msg (void *buf, uint32_t seq, int ifindex, const char *name, unsigned mtu,
                      bool up)
{
  struct nlmsghdr *nlh = msg_start (buf, RTM_NEWLINK, 0, seq, sizeof (struct ifinfomsg));
  struct ifinfomsg *ifi = NLMSG_DATA (nlh);

  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = ifindex;
  ifi->ifi_flags = up ? IFF_UP : 0;
  ifi->ifi_change = IFF_UP;
  if (name != NULL
      && (strlen (name) >= IFNAMSIZ || !put_attr (nlh, IFLA_IFNAME, name, strlen (name) + 1)))
    return 0;
  if (mtu != 0 && !put_u32 (nlh, IFLA_MTU, mtu))
    return 0;
  return nlh->nlmsg_len;
}

size_t
netns_guest_addr_msg (void *buf, uint32_t seq, int ifindex, const struct netns_addr *a)
{
  struct nlmsghdr *nlh
      = msg_start (buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, seq, sizeof (struct ifaddrmsg));
  struct ifaddrmsg *ifa = NLMSG_DATA (nlh);
  size_t len = addr_len (a->family);

  ifa->ifa_family = (uint8_t) a->family;
  ifa->ifa_prefixlen = a->prefix;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = (uint32_t) ifindex;
  if (a->family == AF_INET6)
    ifa->ifa_flags = IFA_F_NODAD;
  /* IPv4: IFA_LOCAL is the interface's address, IFA_ADDRESS the peer's,
   * the same on a broadcast link.  IPv6 uses IFA_ADDRESS alone. */
  if (a->family == AF_INET && !put_attr (nlh, IFA_LOCAL, a->addr, len))
    return 0;
  if (!put_attr (nlh, IFA_ADDRESS, a->addr, len))
    return 0;
  return nlh->nlmsg_len;
}

size_t
netns_guest_route_msg (void *buf, uint32_t seq, int ifindex, const struct netns_route *r)
{
  struct nlmsghdr *nlh
      = msg_start (buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, seq, sizeof (struct rtmsg));
  struct rtmsg *rtm = NLMSG_DATA (nlh);
  size_t len = addr_len (r->family);

  rtm->rtm_family = (uint8_t) r->family;
  rtm->rtm_dst_len = r->dst_len;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_BOOT;
  rtm->rtm_scope = r->scope_link ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
  rtm->rtm_type = RTN_UNICAST;
  if (r->dst_len > 0 && !put_attr (nlh, RTA_DST, r->dst, len))
    return 0;
  if (r->has_gateway && !put_attr (nlh, RTA_GATEWAY, r->gateway, len))
    return 0;
  if (!put_u32 (nlh, RTA_OIF, (uint32_t) ifindex))
    return 0;
  if (r->metric != 0 && !put_u32 (nlh, RTA_PRIORITY, r->metric))
    return 0;
  return nlh->nlmsg_len;
}

int
netns_guest_ack (const void *buf, size_t len, uint32_t seq)
{
  int left = (int) len;

  for (const struct nlmsghdr *nlh = buf; NLMSG_OK (nlh, left); nlh = NLMSG_NEXT (nlh, left))
    {
      const struct nlmsgerr *e = NLMSG_DATA (nlh);

      if (nlh->nlmsg_seq != seq || nlh->nlmsg_type != NLMSG_ERROR)
        continue;
      if (nlh->nlmsg_len < NLMSG_LENGTH (sizeof *e))
        return -EBADMSG;
      return e->error > 0 ? -e->error : e->error;
    }
  return 1;
}
