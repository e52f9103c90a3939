/* ACPI tables (hardware-reduced profile): RSDP, XSDT, FADT, MADT, DSDT. */
#ifndef HULL_VMM_ACPI_H
#define HULL_VMM_ACPI_H

#include <stdint.h>

#include "runtime/error.h"
#include "vmm/guest_mem.h"

#define ACPI_MAX_CPUS 64

struct acpi_args
{
  unsigned ncpus;
  const uint8_t *pci_slots;  /* slots of PCI devices using INTA#, for _PRT */
  unsigned npci;
};

/* Write the tables into [start, end) with the RSDP first (at start, so a
 * scan of the BIOS area finds it); *rsdp = its address. */
int acpi_write (struct guest_mem *mem, uint64_t start, uint64_t end, const struct acpi_args *a,
                uint64_t *rsdp, hull_error_t *err);

/* Checksum helper shared with the tests: the byte that makes the sum of
 * len bytes zero. */
uint8_t acpi_checksum (const uint8_t *p, uint64_t len);

#endif
