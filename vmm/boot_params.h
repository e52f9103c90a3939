/* What the VMM tells the kernel at entry: the e820 memory map, the zero
 * page (struct boot_params) for the 64-bit Linux boot protocol, the PVH
 * start info, the command line, and where the initrd goes. */
#ifndef HULL_VMM_BOOT_PARAMS_H
#define HULL_VMM_BOOT_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/error.h"
#include "vmm/guest_mem.h"

#define E820_TYPE_RAM 1
#define E820_TYPE_RESERVED 2
#define E820_MAX 16

struct e820_entry
{
  uint64_t addr, size;
  uint32_t type;
};

/* The guest's memory map: RAM regions minus the legacy areas. */
unsigned e820_build (const struct guest_mem *mem, struct e820_entry *out, unsigned max);

/* Copy cmdline (NUL-terminated) to gpa; fails when longer than max
 * bytes without the NUL. */
int boot_cmdline_write (struct guest_mem *mem, uint64_t gpa, const char *cmdline, size_t max,
                        hull_error_t *err);

/* Highest page-aligned address for size bytes that ends at or below
 * addr_max (inclusive) and below the end of low RAM and starts at or
 * above floor (the end of the kernel). */
int initrd_place (const struct guest_mem *mem, uint64_t size, uint64_t floor, uint64_t addr_max,
                  uint64_t *addr, hull_error_t *err);

struct boot_params_args
{
  const uint8_t *setup_header; /* the image's bytes from offset 0x1f1 */
  size_t setup_header_len;
  uint64_t cmdline_addr;
  uint64_t initrd_addr, initrd_size; /* size 0: none */
  uint64_t rsdp_addr;                /* ACPI RSDP, 0: none */
};

/* Build the zero page at gpa. */
int boot_params_write (struct guest_mem *mem, uint64_t gpa, const struct boot_params_args *a,
                       hull_error_t *err);

/* PVH: hvm_start_info (+ one module for the initrd, + memmap) at gpa. */
int pvh_start_info_write (struct guest_mem *mem, uint64_t gpa, uint64_t cmdline_addr,
                          uint64_t initrd_addr, uint64_t initrd_size, uint64_t rsdp_addr,
                          hull_error_t *err);

#endif
