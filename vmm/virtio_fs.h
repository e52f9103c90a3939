/* virtio-fs (virtio 1.2 section 5.11) as a vhost-user device: hull only
 * presents the PCI function and config space {tag, num_request_queues};
 * the FUSE requests on the queues are served by virtiofsd, which reads the
 * rings in the shared RAM memfd, is kicked through the queues' ioeventfds
 * and interrupts the guest through their irqfds.
 *
 * Lifecycle with runtime/virtiofsd.h and vmm/machine.h:
 *   virtiofsd_start -> machine_create -> virtio_fs_create(machine_vm(m))
 *   -> machine_run -> vcpus_stop(machine_vm(m)) -> virtio_fs_destroy
 *   -> machine_destroy -> virtiofsd_stop
 * (no vCPU may reach the freed BAR; the device goes before the VM it uses,
 * and before virtiofsd so that a normal stop is not reported as a lost
 * back-end).  In the guest: modules virtio_pci, fuse, virtiofs, then
 * `mount -t virtiofs TAG DIR`. */
#ifndef HULL_VMM_VIRTIO_FS_H
#define HULL_VMM_VIRTIO_FS_H

#include "runtime/error.h"
#include "vmm/vhost_user.h"
#include "vmm/virtio_pci.h"

struct vm;
struct virtio_fs;

#define VIRTIO_FS_TAG_LEN 36
/* One hiprio queue plus one request queue: Debian's virtiofsd (QEMU 7.2)
 * serves exactly two. */
#define VIRTIO_FS_NUM_QUEUES 2
#define VIRTIO_FS_QUEUE_SIZE 1024
#define VIRTIO_FS_CONNECT_TIMEOUT_MS 5000

/* Connects to the virtiofsd listening on socket_path, negotiates, shares
 * vm->mem with it and adds the device to vm->pci.  If virtiofsd goes away
 * later, the VM is stopped with VM_EXIT_ERROR naming the tag. */
int virtio_fs_create (struct vm *vm, const char *tag, const char *socket_path,
                      struct virtio_fs **out, hull_error_t *err);
/* Stops the rings in virtiofsd, closes the connection (virtiofsd then
 * exits) and frees the device. */
void virtio_fs_destroy (struct virtio_fs *fs);

/* Unit tests: the device on its transport with fake host services, not on
 * any bus and with no thread (drive the transport's iothread by hand).
 * on_error is called if the back-end connection is lost. */
int virtio_fs_new (const struct guest_mem *mem,
                   const struct virtio_pci_host *host, const char *tag,
                   const char *socket_path, vhost_user_error_fn on_error,
                   void *opaque, struct virtio_fs **out, hull_error_t *err);
struct virtio_pci *virtio_fs_transport (struct virtio_fs *fs);

#endif
