/* ELF64 kernels (vmlinux, or a freestanding payload) booted through the
 * PVH entry point named by the XEN_ELFNOTE_PHYS32_ENTRY note. */
#ifndef HULL_VMM_ELF_KERNEL_H
#define HULL_VMM_ELF_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/error.h"
#include "vmm/guest_mem.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18

struct elf_kernel_info
{
  uint64_t pvh_entry;   /* 32-bit physical entry point */
  uint64_t phys_start;  /* lowest p_paddr of a PT_LOAD segment */
  uint64_t phys_end;    /* highest p_paddr + p_memsz */
};

/* Validate the ELF header and program headers and find the PVH note. */
int elf_kernel_parse (const uint8_t *buf, size_t len, struct elf_kernel_info *info,
                      hull_error_t *err);
/* Copy every PT_LOAD segment to its physical address (bss zeroed). */
int elf_kernel_load (struct guest_mem *mem, const uint8_t *buf, size_t len,
                     const struct elf_kernel_info *info, hull_error_t *err);

#endif
