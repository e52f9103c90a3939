/* VM-wide KVM state: the VM fd, in-kernel interrupt controllers and PIT,
 * memory slots, GSI routing (legacy pins + MSI routes), irqfd/ioeventfd,
 * and the "VM must stop" state shared by all threads. */
#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/layout.h"

/* GSIs 0-23 are the IOAPIC pins; MSI routes use the numbers above. */
#define VM_IOAPIC_PINS 24
#define VM_MAX_GSI 1024

struct vm_routes
{
  unsigned count, cap;
  struct kvm_irq_routing_entry *e;
};

static int
vm_open_kvm (struct vm *vm, hull_error_t *err)
{
  int version;

  vm->kvm_fd = open ("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (vm->kvm_fd < 0)
    {
      if (errno == ENOENT)
        return hull_error (err, errno, "open `/dev/kvm` (KVM is not available on this host:"
                                       " load kvm_intel/kvm_amd or enable virtualization)");
      if (errno == EACCES || errno == EPERM)
        return hull_error (err, errno, "open `/dev/kvm` (no permission: run as root or"
                                       " join the group owning /dev/kvm)");
      return hull_error (err, errno, "open `/dev/kvm`");
    }
  version = ioctl (vm->kvm_fd, KVM_GET_API_VERSION, 0);
  if (version != KVM_API_VERSION)
    return hull_error (err, 0, "`/dev/kvm` speaks KVM API %d, hull needs %d", version,
                       KVM_API_VERSION);
  return 0;
}

static int
vm_add_route (struct vm_routes *r, const struct kvm_irq_routing_entry *e, hull_error_t *err)
{
  if (r->count == r->cap)
    {
      unsigned ncap = r->cap ? r->cap * 2 : 64;
      struct kvm_irq_routing_entry *n = realloc (r->e, ncap * sizeof (*n));

      if (n == NULL)
        return hull_error (err, ENOMEM, "grow GSI routing table");
      r->e = n;
      r->cap = ncap;
    }
  r->e[r->count++] = *e;
  return 0;
}

static int
vm_submit_routes (struct vm *vm, hull_error_t *err)
{
  struct vm_routes *r = vm->gsi_routes;
  struct kvm_irq_routing *t;
  int ret;

  t = calloc (1, sizeof (*t) + r->count * sizeof (r->e[0]));
  if (t == NULL)
    return hull_error (err, ENOMEM, "allocate GSI routing table");
  t->nr = r->count;
  memcpy (t->entries, r->e, r->count * sizeof (r->e[0]));
  ret = ioctl (vm->vm_fd, KVM_SET_GSI_ROUTING, t);
  free (t);
  if (ret < 0)
    return hull_error (err, errno, "KVM_SET_GSI_ROUTING (%u routes)", r->count);
  return 0;
}

/* The routes KVM installs by itself with the irqchip, restated because
 * KVM_SET_GSI_ROUTING replaces the whole table: GSI n drives PIC pin n
 * (0-15) and IOAPIC pin n (0-23).  ISA IRQ n = IOAPIC pin n, which is
 * exactly what the MP table (mptable.c) tells the guest. */
static int
vm_default_routes (struct vm *vm, hull_error_t *err)
{
  struct vm_routes *r = calloc (1, sizeof (*r));

  if (r == NULL)
    return hull_error (err, ENOMEM, "allocate GSI routes");
  vm->gsi_routes = r;
  for (uint32_t gsi = 0; gsi < VM_IOAPIC_PINS; gsi++)
    {
      struct kvm_irq_routing_entry e = { .gsi = gsi, .type = KVM_IRQ_ROUTING_IRQCHIP };

      if (gsi < 16 && gsi != 2)
        {
          e.u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE;
          e.u.irqchip.pin = gsi % 8;
          if (vm_add_route (r, &e, err) < 0)
            return -1;
        }
      e.u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
      e.u.irqchip.pin = gsi;
      if (vm_add_route (r, &e, err) < 0)
        return -1;
    }
  vm->next_gsi = VM_IOAPIC_PINS;
  return vm_submit_routes (vm, err);
}

static int
vm_add_memory (struct vm *vm, hull_error_t *err)
{
  for (unsigned i = 0; i < vm->mem.nregions; i++)
    {
      const struct guest_region *g = &vm->mem.regions[i];
      struct kvm_userspace_memory_region slot = {
        .slot = i,
        .guest_phys_addr = g->gpa,
        .memory_size = g->size,
        .userspace_addr = (uintptr_t) g->host,
      };

      if (ioctl (vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
        return hull_error (err, errno, "KVM_SET_USER_MEMORY_REGION slot %u (gpa 0x%llx, %llu bytes)",
                           i, (unsigned long long) g->gpa, (unsigned long long) g->size);
    }
  return 0;
}

static int
vm_create_chips (struct vm *vm, hull_error_t *err)
{
  uint64_t ident = LAYOUT_KVM_IDENTITY_MAP;
  struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

  /* Intel needs these two pages for real-mode/TSS emulation; harmless
   * elsewhere.  Both lie in the MMIO hole where nothing else lives. */
  if (ioctl (vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0)
    return hull_error (err, errno, "KVM_SET_IDENTITY_MAP_ADDR");
  if (ioctl (vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long) LAYOUT_KVM_TSS) < 0)
    return hull_error (err, errno, "KVM_SET_TSS_ADDR");
  if (ioctl (vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
    return hull_error (err, errno, "KVM_CREATE_IRQCHIP");
  if (ioctl (vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
    return hull_error (err, errno, "KVM_CREATE_PIT2");
  return 0;
}

static int
vm_create_parts (struct vm *vm, uint64_t mem_bytes, hull_error_t *err)
{
  int r;

  memset (vm, 0, sizeof (*vm));
  vm->kvm_fd = vm->vm_fd = vm->exit_eventfd = -1;
  vm->mem.memfd = -1;
  pthread_mutex_init (&vm->lock, NULL);
  if (io_bus_init (&vm->pio, err) < 0 || io_bus_init (&vm->mmio, err) < 0)
    return -1;
  if (pci_bus_init (&vm->pci, &vm->pio, &vm->mmio, err) < 0)
    return -1;
  vm->exit_eventfd = eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (vm->exit_eventfd < 0)
    return hull_error (err, errno, "eventfd");
  if (vm_open_kvm (vm, err) < 0)
    return -1;
  do
    r = ioctl (vm->kvm_fd, KVM_CREATE_VM, 0);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return hull_error (err, errno, "KVM_CREATE_VM");
  vm->vm_fd = r;
  if (vm_create_chips (vm, err) < 0 || vm_default_routes (vm, err) < 0)
    return -1;
  if (guest_mem_create (&vm->mem, mem_bytes, err) < 0)
    return -1;
  return vm_add_memory (vm, err);
}

int
vm_create (struct vm *vm, uint64_t mem_bytes, hull_error_t *err)
{
  if (vm_create_parts (vm, mem_bytes, err) < 0)
    {
      vm_destroy (vm);
      return -1;
    }
  return 0;
}

void
vm_destroy (struct vm *vm)
{
  struct vm_routes *r = vm->gsi_routes;

  pci_bus_destroy (&vm->pci);
  io_bus_destroy (&vm->pio);
  io_bus_destroy (&vm->mmio);
  if (vm->vm_fd >= 0)
    close (vm->vm_fd);
  if (vm->kvm_fd >= 0)
    close (vm->kvm_fd);
  if (vm->exit_eventfd >= 0)
    close (vm->exit_eventfd);
  guest_mem_destroy (&vm->mem);
  if (r != NULL)
    free (r->e);
  free (r);
  pthread_mutex_destroy (&vm->lock);
  vm->vm_fd = vm->kvm_fd = vm->exit_eventfd = -1;
  vm->gsi_routes = NULL;
}

int
vm_irq_line (struct vm *vm, uint32_t gsi, int level, hull_error_t *err)
{
  struct kvm_irq_level l = { .irq = gsi, .level = level ? 1 : 0 };

  if (ioctl (vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
    return hull_error (err, errno, "KVM_IRQ_LINE gsi %u level %d", gsi, level);
  return 0;
}

int
vm_gsi_alloc (struct vm *vm, uint32_t *gsi, hull_error_t *err)
{
  int ret = 0;

  pthread_mutex_lock (&vm->lock);
  if (vm->next_gsi >= VM_MAX_GSI)
    ret = hull_error (err, ENOSPC, "no free GSI for an MSI route (limit %d)", VM_MAX_GSI);
  else
    *gsi = vm->next_gsi++;
  pthread_mutex_unlock (&vm->lock);
  return ret;
}

/* Index of gsi's MSI route, or -1. */
static int
vm_find_msi (struct vm_routes *r, uint32_t gsi)
{
  for (unsigned i = 0; i < r->count; i++)
    if (r->e[i].gsi == gsi && r->e[i].type == KVM_IRQ_ROUTING_MSI)
      return (int) i;
  return -1;
}

int
vm_msi_route (struct vm *vm, uint32_t gsi, uint64_t addr, uint32_t data, hull_error_t *err)
{
  struct kvm_irq_routing_entry e = { .gsi = gsi, .type = KVM_IRQ_ROUTING_MSI };
  struct vm_routes *r = vm->gsi_routes;
  int i, ret = 0;

  if (gsi < VM_IOAPIC_PINS)
    return hull_error (err, EINVAL, "GSI %u is an IOAPIC pin, not an MSI GSI", gsi);
  e.u.msi.address_lo = (uint32_t) addr;
  e.u.msi.address_hi = (uint32_t) (addr >> 32);
  e.u.msi.data = data;
  pthread_mutex_lock (&vm->lock);
  i = vm_find_msi (r, gsi);
  if (i >= 0 && memcmp (&r->e[i], &e, sizeof (e)) == 0)
    goto out; /* unchanged: spare the guest a routing-table rebuild */
  if (i >= 0)
    r->e[i] = e;
  else if (vm_add_route (r, &e, err) < 0)
    {
      ret = -1;
      goto out;
    }
  ret = vm_submit_routes (vm, err);
out:
  pthread_mutex_unlock (&vm->lock);
  return ret;
}

int
vm_msi_unroute (struct vm *vm, uint32_t gsi, hull_error_t *err)
{
  struct vm_routes *r = vm->gsi_routes;
  int i, ret = 0;

  pthread_mutex_lock (&vm->lock);
  i = vm_find_msi (r, gsi);
  if (i >= 0)
    {
      r->e[i] = r->e[r->count - 1];
      r->count--;
      ret = vm_submit_routes (vm, err);
    }
  pthread_mutex_unlock (&vm->lock);
  return ret;
}

int
vm_irqfd (struct vm *vm, int eventfd, uint32_t gsi, bool assign, hull_error_t *err)
{
  struct kvm_irqfd f = { .fd = (uint32_t) eventfd, .gsi = gsi,
                         .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN };

  if (ioctl (vm->vm_fd, KVM_IRQFD, &f) < 0)
    return hull_error (err, errno, "KVM_IRQFD %s gsi %u", assign ? "assign" : "deassign", gsi);
  return 0;
}

int
vm_ioeventfd (struct vm *vm, uint64_t addr, uint32_t len, int eventfd, bool assign,
              hull_error_t *err)
{
  struct kvm_ioeventfd io = { .addr = addr, .len = len, .fd = eventfd,
                              .flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN };

  if (ioctl (vm->vm_fd, KVM_IOEVENTFD, &io) < 0)
    return hull_error (err, errno, "KVM_IOEVENTFD %s at 0x%llx", assign ? "assign" : "deassign",
                       (unsigned long long) addr);
  return 0;
}

enum vm_exit_reason
vm_exit_requested (struct vm *vm)
{
  return __atomic_load_n (&vm->exit_reason, __ATOMIC_ACQUIRE);
}

void
vm_request_exit (struct vm *vm, enum vm_exit_reason reason, const char *fmt, ...)
{
  va_list ap;

  pthread_mutex_lock (&vm->lock);
  if (vm->exit_reason == VM_EXIT_NONE)
    {
      va_start (ap, fmt);
      vsnprintf (vm->exit_msg, sizeof (vm->exit_msg), fmt, ap);
      va_end (ap);
      __atomic_store_n (&vm->exit_reason, reason, __ATOMIC_RELEASE);
      if (eventfd_write (vm->exit_eventfd, 1) < 0)
        {
          /* Cannot happen with a valid eventfd; vCPUs still see the flag. */
        }
    }
  pthread_mutex_unlock (&vm->lock);
}
