/* Intel MultiProcessor Specification 1.4 tables: how the guest learns
 * about its CPUs, the IOAPIC and interrupt wiring without ACPI. */
#ifndef HULL_VMM_MPTABLE_H
#define HULL_VMM_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/error.h"
#include "vmm/guest_mem.h"

#define MPTABLE_MAX_CPUS 64

struct mptable_args
{
  unsigned ncpus;
  uint32_t cpu_signature;    /* CPUID 1 EAX */
  uint32_t cpu_features;     /* CPUID 1 EDX */
  const uint8_t *pci_slots;  /* slots of PCI devices using INTA# */
  unsigned npci;
};

/* Write the floating pointer at gpa and the configuration table right
 * after it; returns the total size in bytes or -1. */
int mptable_write (struct guest_mem *mem, uint64_t gpa, const struct mptable_args *a,
                   hull_error_t *err);

#endif
