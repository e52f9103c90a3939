/* virtio-rng (entropy device, virtio 1.2 section 5.4): the guest's
 * /dev/hwrng, filled from the host's getrandom(). */
#ifndef HULL_VMM_VIRTIO_RNG_H
#define HULL_VMM_VIRTIO_RNG_H

#include "runtime/error.h"
#include "vmm/virtio_pci.h"

struct vm;
struct virtio_rng;

/* Creates the device and adds it to vm->pci. */
int virtio_rng_create (struct vm *vm, struct virtio_rng **out, hull_error_t *err);
void virtio_rng_destroy (struct virtio_rng *r);

/* Unit tests: the device on its transport with fake host services, not on
 * any bus and with no thread (drive it with iothread_run_once). */
int virtio_rng_new (const struct guest_mem *mem, const struct virtio_pci_host *host,
                    struct virtio_rng **out, hull_error_t *err);
struct virtio_pci *virtio_rng_transport (struct virtio_rng *r);

#endif
