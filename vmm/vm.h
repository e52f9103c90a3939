/* A KVM virtual machine: RAM, vCPUs (one thread each), the in-kernel
 * irqchip/PIT, the I/O buses and the PCI bus, and the interrupt plumbing
 * devices use (irqfd for interrupts, ioeventfd for notifications). */
#ifndef HULL_VMM_VM_H
#define HULL_VMM_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "runtime/error.h"
#include "vmm/guest_mem.h"
#include "vmm/io_bus.h"
#include "vmm/pci.h"

struct vcpu;

/* Why the VM stopped. */
enum vm_exit_reason
{
  VM_EXIT_NONE = 0,
  VM_EXIT_RESET,      /* guest asked to reboot (i8042, triple-fault is separate) */
  VM_EXIT_POWEROFF,   /* guest powered off or halted for good */
  VM_EXIT_TRIPLE_FAULT,
  VM_EXIT_ERROR,      /* VMM error; vm->exit_msg says what */
};

struct vm
{
  int kvm_fd, vm_fd;
  struct guest_mem mem;
  unsigned ncpus;
  struct vcpu *vcpus;
  struct io_bus pio, mmio;
  struct pci_bus pci;

  pthread_mutex_t lock;     /* gsi allocation/routing and exit state */
  uint32_t next_gsi;        /* GSIs above the IOAPIC pins, for MSI routes */
  void *gsi_routes;         /* struct kvm_irq_routing, kept to re-submit */

  enum vm_exit_reason exit_reason;
  char exit_msg[256];
  int exit_eventfd;         /* written once when the VM must stop */
};

/* Open /dev/kvm, create the VM with its in-kernel irqchip and PIT, and
 * mem_bytes of RAM registered as memory slots.  No vCPUs yet (vcpu.h). */
int vm_create (struct vm *vm, uint64_t mem_bytes, hull_error_t *err);
/* Call only after every vCPU thread has been joined. */
void vm_destroy (struct vm *vm);

/* Legacy IRQ line (IOAPIC pin / PIC) level. */
int vm_irq_line (struct vm *vm, uint32_t gsi, int level, hull_error_t *err);
/* Reserve a GSI for an MSI route. */
int vm_gsi_alloc (struct vm *vm, uint32_t *gsi, hull_error_t *err);
/* Point gsi at an MSI message (address/data as the guest programmed them). */
int vm_msi_route (struct vm *vm, uint32_t gsi, uint64_t addr, uint32_t data,
                  hull_error_t *err);
/* Remove an MSI route (e.g. MSI-X vector masked / table entry cleared). */
int vm_msi_unroute (struct vm *vm, uint32_t gsi, hull_error_t *err);
/* Writes to eventfd raise gsi (KVM_IRQFD); assign=false detaches. */
int vm_irqfd (struct vm *vm, int eventfd, uint32_t gsi, bool assign,
              hull_error_t *err);
/* A guest write of len bytes to MMIO addr signals eventfd (KVM_IOEVENTFD,
 * no datamatch); assign=false detaches. */
int vm_ioeventfd (struct vm *vm, uint64_t addr, uint32_t len, int eventfd,
                  bool assign, hull_error_t *err);

/* The reason set by vm_request_exit, VM_EXIT_NONE while running (any
 * thread, lock-free: vCPU loops poll it). */
enum vm_exit_reason vm_exit_requested (struct vm *vm);

/* Ask the VM to stop (any thread, idempotent: the first reason wins). */
void vm_request_exit (struct vm *vm, enum vm_exit_reason reason,
                      const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));

#endif
