/* Linux bzImage: setup header parsing and loading of the protected-mode
 * kernel for the 64-bit boot protocol (Documentation/arch/x86/boot.rst). */
#ifndef HULL_VMM_BZIMAGE_H
#define HULL_VMM_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/error.h"
#include "vmm/guest_mem.h"

#define BZIMAGE_HDR_START 0x1f1 /* the setup header's offset in the file */
#define BZIMAGE_MIN_VERSION 0x0206

struct bzimage_info
{
  uint16_t version;          /* boot protocol, 0x020f = 2.15 */
  uint8_t setup_sects;       /* 512-byte sectors of real-mode setup */
  uint8_t loadflags;
  uint16_t xloadflags;       /* 0 before 2.12 */
  uint32_t initrd_addr_max;  /* highest byte an initrd may occupy */
  uint32_t kernel_alignment;
  bool relocatable;
  uint64_t pref_address;
  uint32_t init_size;        /* bytes the kernel needs from its load address */
  uint32_t cmdline_size;     /* longest command line, without the NUL */
  size_t hdr_len;            /* setup header bytes from BZIMAGE_HDR_START */
  size_t kernel_offset;      /* protected-mode kernel inside the file */
  size_t kernel_size;
};

/* Validate the image and fill info; rejects truncated files, a missing
 * "HdrS" magic, protocols older than 2.06 and kernels without a 64-bit
 * entry point. */
int bzimage_parse (const uint8_t *buf, size_t len, struct bzimage_info *info, hull_error_t *err);

/* Where the kernel goes: pref_address when usable, else 16 MiB, aligned
 * to kernel_alignment. */
uint64_t bzimage_load_address (const struct bzimage_info *info);

/* Copy the protected-mode kernel into RAM at bzimage_load_address; fails
 * when RAM cannot hold init_size bytes there.  *end = first byte after
 * the kernel's init_size footprint. */
int bzimage_load (struct guest_mem *mem, const uint8_t *buf, const struct bzimage_info *info,
                  uint64_t *end, hull_error_t *err);

#endif
