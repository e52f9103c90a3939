/* The virtio PCI transport's host services backed by a real KVM VM.  Kept
 * apart from virtio_pci.c so unit tests can drive the transport with fakes
 * and never need a VM. */
#include "vmm/virtio_pci.h"
#include "vmm/vm.h"

static int
host_gsi_alloc (void *ctx, uint32_t *gsi, hull_error_t *err)
{
  return vm_gsi_alloc (ctx, gsi, err);
}

static int
host_msi_route (void *ctx, uint32_t gsi, uint64_t addr, uint32_t data, hull_error_t *err)
{
  return vm_msi_route (ctx, gsi, addr, data, err);
}

static int
host_irqfd (void *ctx, int fd, uint32_t gsi, bool assign, hull_error_t *err)
{
  return vm_irqfd (ctx, fd, gsi, assign, err);
}

static int
host_ioeventfd (void *ctx, uint64_t addr, uint32_t len, int fd, bool assign,
                hull_error_t *err)
{
  return vm_ioeventfd (ctx, addr, len, fd, assign, err);
}

static int
host_irq_line (void *ctx, uint32_t gsi, int level, hull_error_t *err)
{
  return vm_irq_line (ctx, gsi, level, err);
}

void
virtio_pci_host_vm (struct virtio_pci_host *host, struct vm *vm)
{
  *host = (struct virtio_pci_host){
    .ctx = vm,
    .gsi_alloc = host_gsi_alloc,
    .msi_route = host_msi_route,
    .irqfd = host_irqfd,
    .ioeventfd = host_ioeventfd,
    .irq_line = host_irq_line,
  };
}
