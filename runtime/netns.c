/* The container netns wiring: a helper thread enters the netns, discovers
 * the interfaces and puts a tap with tc redirects next to each; teardown
 * undoes it through the netlink socket the thread left behind.  See
 * netns.h for the why. */
#include "runtime/netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/json_gen.h"
#include "runtime/netns_internal.h"

#define TAP_VNET_HDR_LEN 12 /* struct virtio_net_hdr, VERSION_1 layout */

int
netns_tap_open (const char *name, hull_error_t *err)
{
  cleanup_close int fd = -1;
  struct ifreq ifr = { 0 };
  int hdr = TAP_VNET_HDR_LEN;

  if (strlen (name) >= IFNAMSIZ)
    return hull_error (err, ENAMETOOLONG, "tap name `%s` is longer than %d bytes", name,
                       IFNAMSIZ - 1);
  fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return hull_error (err, errno, "open `/dev/net/tun`");
  /* IFF_TUN_EXCL: never attach to somebody else's existing tap. */
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_TUN_EXCL;
  memcpy (ifr.ifr_name, name, strlen (name));
  if (ioctl (fd, TUNSETIFF, &ifr) < 0)
    return hull_error (err, errno, "create tap `%s`", name);
  if (ioctl (fd, TUNSETVNETHDRSZ, &hdr) < 0)
    return hull_error (err, errno, "tap `%s`: set vnet header size", name);
  /* No offloads until a guest driver asks for them: virtio_net.c turns on
   * what it negotiated (TUNSETOFFLOAD) when the device starts. */
  if (ioctl (fd, TUNSETOFFLOAD, 0) < 0)
    return hull_error (err, errno, "tap `%s`: disable offloads", name);
  return hull_steal_fd (&fd);
}

/* ---- setup, in the netns ---- */

static int
iface_wire (struct netns_net *net, unsigned i, hull_error_t *err)
{
  struct netns_iface *ifc = &net->ifaces[i];

  snprintf (ifc->tap_name, sizeof ifc->tap_name, "tap%u_hull", i % NETNS_MAX_IFACES);
  ifc->tap_fd = netns_tap_open (ifc->tap_name, err);
  if (ifc->tap_fd < 0)
    return -1;
  ifc->tap_ifindex = (int) if_nametoindex (ifc->tap_name);
  if (ifc->tap_ifindex == 0)
    return hull_error (err, errno, "tap `%s`: no ifindex", ifc->tap_name);
  if (netns_nl_link_up (net, ifc->tap_ifindex, ifc->mtu, err) < 0)
    return -1;
  if (netns_nl_clsact_add (net, ifc->ifindex, err) < 0)
    {
      if ((*err)->status == EEXIST)
        return hull_error_prefix (err, "`%s` already has an ingress/clsact qdisc (another "
                                       "tc user?)", ifc->name);
      return -1;
    }
  ifc->iface_qdisc = true;
  if (netns_nl_clsact_add (net, ifc->tap_ifindex, err) < 0
      || netns_nl_redirect_add (net, ifc->ifindex, ifc->tap_ifindex, err) < 0
      || netns_nl_redirect_add (net, ifc->tap_ifindex, ifc->ifindex, err) < 0)
    return -1;
  return 0;
}

static int
setup_here (struct netns_net *net, const char *path, hull_error_t *err)
{
  cleanup_close int fd = open (path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return hull_error (err, errno, "open network namespace `%s`", path);
  if (setns (fd, CLONE_NEWNET) < 0)
    return hull_error (err, errno, "enter network namespace `%s`", path);
  if (netns_nl_open (net, err) < 0 || netns_nl_discover (net, err) < 0)
    return -1;
  for (unsigned i = 0; i < net->n_ifaces; i++)
    if (iface_wire (net, i, err) < 0)
      return hull_error_prefix (err, "interface `%s`", net->ifaces[i].name);
  return 0;
}

struct setup_job
{
  const char *path;
  struct netns_net *net;
  hull_error_t err;
  int rc;
};

static void *
setup_thread (void *arg)
{
  struct setup_job *job = arg;

  /* This thread's netns changes; it exits right after, so no other code
   * ever runs in the container's netns by accident. */
  job->rc = setup_here (job->net, job->path, &job->err);
  return NULL;
}

int
netns_setup (const char *netns_path, struct netns_net **out, hull_error_t *err)
{
  struct setup_job job = { .path = netns_path, .rc = -1 };
  pthread_t th;
  int r;

  job.net = calloc (1, sizeof *job.net);
  if (job.net == NULL)
    return hull_error (err, ENOMEM, "netns");
  job.net->keeper_fd = -1;
  r = pthread_create (&th, NULL, setup_thread, &job);
  if (r != 0)
    {
      free (job.net);
      return hull_error (err, r, "netns: start helper thread");
    }
  pthread_join (th, NULL);
  if (job.rc < 0)
    {
      *err = job.err;
      netns_teardown (job.net, NULL);
      return hull_error_prefix (err, "network namespace `%s`", netns_path);
    }
  *out = job.net;
  return 0;
}

/* ---- teardown, from any thread ---- */

static int
keep_first (hull_error_t *err, hull_error_t *e)
{
  if (err != NULL && *err == NULL)
    *err = *e;
  else
    hull_error_free (e);
  *e = NULL;
  return -1;
}

int
netns_teardown_links (struct netns_net *net, hull_error_t *err)
{
  int rc = 0;

  for (unsigned i = 0; i < net->n_ifaces; i++)
    {
      struct netns_iface *ifc = &net->ifaces[i];
      hull_error_t e = NULL;

      /* Deleting the tap takes its qdisc and filter with it. */
      if (ifc->tap_ifindex > 0 && net->nl != NULL
          && netns_nl_link_del (net, ifc->tap_ifindex, &e) < 0 && e->status != ENODEV)
        rc = keep_first (err, &e);
      hull_error_free (&e);
      if (ifc->tap_fd >= 0)
        close (ifc->tap_fd);
      ifc->tap_fd = -1;
      ifc->tap_ifindex = 0;
      /* The interface's qdisc takes its redirect filter with it. */
      if (ifc->iface_qdisc && netns_nl_clsact_del (net, ifc->ifindex, &e) < 0
          && e->status != ENODEV && e->status != ENOENT && e->status != EINVAL)
        rc = keep_first (err, &e);
      hull_error_free (&e);
      ifc->iface_qdisc = false;
    }
  return rc;
}

int
netns_teardown (struct netns_net *net, hull_error_t *err)
{
  int rc;

  if (net == NULL)
    return 0;
  /* A keeper process does the netlink part: this process may have lost
   * CAP_NET_ADMIN since setup (netns_keeper.c).  Closing the tap fds
   * first deletes the taps, which needs no privilege. */
  if (net->keeper_pid > 0)
    {
      for (unsigned i = 0; i < net->n_ifaces; i++)
        if (net->ifaces[i].tap_fd >= 0)
          {
            close (net->ifaces[i].tap_fd);
            net->ifaces[i].tap_fd = -1;
          }
      rc = netns_keeper_finish (net, err);
    }
  else
    rc = netns_teardown_links (net, err);
  if (net->nl != NULL)
    mnl_socket_close (net->nl);
  free (net);
  return rc;
}

/* ---- the guest's description ---- */

static void
gen_addr (struct json_gen *g, const char *key, int family, const uint8_t *addr)
{
  char text[INET6_ADDRSTRLEN];

  if (inet_ntop (family, addr, text, sizeof text) == NULL)
    text[0] = '\0';
  json_gen_kv_string (g, key, text);
}

static const char *
family_name (int family)
{
  return family == AF_INET ? "inet" : "inet6";
}

static void
gen_iface (struct json_gen *g, const struct netns_iface *ifc)
{
  char mac[18];

  snprintf (mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", ifc->mac[0], ifc->mac[1],
            ifc->mac[2], ifc->mac[3], ifc->mac[4], ifc->mac[5]);
  json_gen_open_object (g);
  json_gen_kv_string (g, "name", ifc->name);
  json_gen_kv_string (g, "mac", mac);
  json_gen_kv_uint (g, "mtu", ifc->mtu);
  json_gen_key (g, "addresses");
  json_gen_open_array (g);
  for (unsigned i = 0; i < ifc->n_addrs; i++)
    {
      const struct netns_addr *a = &ifc->addrs[i];
      json_gen_open_object (g);
      json_gen_kv_string (g, "family", family_name (a->family));
      gen_addr (g, "address", a->family, a->addr);
      json_gen_kv_uint (g, "prefix", a->prefix);
      json_gen_close_object (g);
    }
  json_gen_close_array (g);
  json_gen_key (g, "routes");
  json_gen_open_array (g);
  for (unsigned i = 0; i < ifc->n_routes; i++)
    {
      const struct netns_route *r = &ifc->routes[i];
      json_gen_open_object (g);
      json_gen_kv_string (g, "family", family_name (r->family));
      gen_addr (g, "destination", r->family, r->dst);
      json_gen_kv_uint (g, "prefix", r->dst_len);
      if (r->has_gateway)
        gen_addr (g, "gateway", r->family, r->gateway);
      else
        json_gen_kv_string (g, "gateway", NULL);
      json_gen_kv_string (g, "scope", r->scope_link ? "link" : "universe");
      json_gen_kv_uint (g, "metric", r->metric);
      json_gen_close_object (g);
    }
  json_gen_close_array (g);
  json_gen_close_object (g);
}

int
netns_to_json (const struct netns_net *net, char **out, size_t *len, hull_error_t *err)
{
  struct json_gen g;

  if (json_gen_init (&g, err) < 0)
    return -1;
  json_gen_open_object (&g);
  json_gen_key (&g, "interfaces");
  json_gen_open_array (&g);
  for (unsigned i = 0; net != NULL && i < net->n_ifaces; i++)
    gen_iface (&g, &net->ifaces[i]);
  json_gen_close_array (&g);
  json_gen_close_object (&g);
  return json_gen_finish (&g, out, len, err);
}
