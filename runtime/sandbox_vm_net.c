/* The container's network namespace in its microVM.
 *
 * Docker and CNI make the container's netns before `create` and name it in
 * linux.namespaces ({"type":"network","path":...}).  The VM is the
 * container's network namespace from the guest's point of view, so the
 * netns's Ethernet interfaces become the guest's NICs: netns_setup puts a
 * tap with tc redirects next to each (runtime/netns.h), one virtio-net
 * device per tap carries the interface's MAC and MTU, and the create
 * request tells hull-agent the names, addresses and routes to give them
 * (HULL_ATTR_NETWORK_JSON).
 *
 * No network entry, an entry without a path (a fresh netns: only lo), or a
 * netns without Ethernet interfaces (Docker's --network none): no NIC.
 *
 * Removing the qdiscs at the end needs CAP_NET_ADMIN, which the confined
 * supervisor no longer has: a keeper process forked at setup does it
 * (netns_keeper_start).
 *
 * Order: vm_net_setup before the machine exists, vm_net_add_devices with
 * the other devices, vm_net_destroy_devices once the vCPUs are stopped and
 * vm_net_teardown after the machine is gone (the tap fds must be idle). */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "runtime/cleanup.h"
#include "runtime/log.h"
#include "runtime/netns.h"
#include "runtime/pod.h"
#include "runtime/sandbox_vm.h"
#include "vmm/machine.h"
#include "vmm/virtio_net.h"

_Static_assert (VM_MAX_NICS == NETNS_MAX_IFACES, "one virtio-net device per netns interface");

/* The index of the network entry of linux.namespaces, -1 without one. */
static long
netns_entry (const struct oci_config *c)
{
  const struct oci_linux *l = c->linux_spec;

  for (size_t i = 0; l != NULL && i < l->n_namespaces; i++)
    if (l->namespaces[i].type == OCI_NS_NETWORK)
      return (long) i;
  return -1;
}

/* A path naming the supervisor's own network namespace is the host's:
 * wiring it would hand the host's interfaces to the VM.  CRI app
 * containers name /proc/<sandbox pid>/ns/net, and the sandbox's pid is a
 * hull supervisor: with their CRI annotations they join the sandbox's VM
 * instead and never get here (runtime/pods.md). */
static int
refuse_host_netns (const char *path, long i, hull_error_t *err)
{
  struct stat target, own;

  if (stat (path, &target) < 0)
    return 0; /* netns_setup reports it */
  if (stat ("/proc/self/ns/net", &own) == 0 && target.st_dev == own.st_dev
      && target.st_ino == own.st_ino)
    return hull_error (err, EINVAL,
                       "linux.namespaces[%ld].path `%s` is the host's network namespace "
                       "(the runtime's own): a microVM cannot share it (a pod's app container "
                       "names its sandbox with annotations " POD_ANN_CONTAINER_TYPE " and "
                       POD_ANN_SANDBOX_ID ", runtime/pods.md)",
                       i, path);
  return 0;
}

int
vm_net_setup (struct sandbox *sb, hull_error_t *err)
{
  long i = netns_entry (sb->config);
  const char *path;

  if (i < 0 || (path = sb->config->linux_spec->namespaces[i].path) == NULL)
    return 0;
  if (refuse_host_netns (path, i, err) < 0)
    return -1;
  if (netns_setup (path, &sb->net, err) < 0)
    return hull_error_prefix (err, "linux.namespaces[%ld].path", i);
  /* The supervisor confines itself once the container is created
   * (runtime/confine.h) and could not remove the qdiscs any more; no
   * thread exists yet, so forking is safe. */
  if (netns_keeper_start (sb->net, err) < 0)
    return hull_error_prefix (err, "linux.namespaces[%ld].path `%s`", i, path);
  log_debug (sb->log, "container `%s`: network namespace `%s` has %u interface(s)", sb->id,
             path, sb->net->n_ifaces);
  return 0;
}

int
vm_net_add_devices (struct sandbox *sb, hull_error_t *err)
{
  for (unsigned i = 0; sb->net != NULL && i < sb->net->n_ifaces; i++)
    {
      const struct netns_iface *ifc = &sb->net->ifaces[i];

      if (virtio_net_create (machine_vm (sb->m), ifc->tap_fd, ifc->mac, ifc->mtu, &sb->nics[i],
                             err)
          < 0)
        return hull_error_prefix (err, "virtio-net for `%s`", ifc->name);
    }
  return 0;
}

int
vm_net_request (struct sandbox *sb, struct hull_msgbuf *mb, hull_error_t *err)
{
  cleanup_free char *json = NULL;
  size_t len = 0;

  if (sb->net == NULL || sb->net->n_ifaces == 0)
    return 0;
  if (netns_to_json (sb->net, &json, &len, err) < 0)
    return hull_error_prefix (err, "network description");
  hull_msgbuf_put_str (mb, HULL_ATTR_NETWORK_JSON, json);
  return 0;
}

void
vm_net_destroy_devices (struct sandbox *sb)
{
  for (unsigned i = 0; i < VM_MAX_NICS; i++)
    {
      virtio_net_destroy (sb->nics[i]);
      sb->nics[i] = NULL;
    }
}

void
vm_net_teardown (struct sandbox *sb)
{
  hull_error_t e = NULL;

  vm_net_destroy_devices (sb);
  if (netns_teardown (sb->net, &e) < 0)
    log_warning (sb->log, "container `%s`: network teardown: %s", sb->id, hull_error_msg (&e));
  hull_error_free (&e);
  sb->net = NULL;
}
