/* Reading a kernel (and initrd) from disk and placing it, its command
 * line and its boot information in guest RAM. */
#ifndef HULL_VMM_KERNEL_LOAD_H
#define HULL_VMM_KERNEL_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/error.h"
#include "vmm/bzimage.h"
#include "vmm/elf_kernel.h"
#include "vmm/guest_mem.h"
#include "vmm/vcpu.h"

enum kernel_format
{
  KERNEL_BZIMAGE,
  KERNEL_ELF_PVH,
};

struct kernel_image
{
  enum kernel_format format;
  uint8_t *data;
  size_t len;
  struct bzimage_info bz;
  struct elf_kernel_info elf;
  uint8_t *initrd;
  size_t initrd_len;
};

/* Read and validate the kernel (format detected by magic) and the initrd
 * (may be NULL); every error names the path. */
int kernel_image_read (const char *kernel_path, const char *initrd_path, struct kernel_image *img,
                       hull_error_t *err);
void kernel_image_free (struct kernel_image *img);

/* Load into mem and describe how vCPU 0 must start. */
int kernel_image_load (const struct kernel_image *img, struct guest_mem *mem, const char *cmdline,
                       uint64_t rsdp, struct boot_entry *entry, hull_error_t *err);

#endif
