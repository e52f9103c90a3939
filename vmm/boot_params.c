/* Boot information for the guest kernel.  The zero page uses the UAPI
 * struct boot_params so every field lands at the offset the boot protocol
 * documents; the PVH start info follows the Xen PVH ABI (version 1). */
#include "vmm/boot_params.h"

#include <asm/bootparam.h>
#include <errno.h>
#include <string.h>

#include "vmm/layout.h"

#define LOADER_TYPE_UNDEFINED 0xff
#define VIDEO_MODE_NORMAL 0xffff

static void
e820_add (struct e820_entry *out, unsigned max, unsigned *n, uint64_t addr, uint64_t end,
          uint32_t type)
{
  if (end <= addr || *n >= max)
    return;
  out[*n] = (struct e820_entry){ .addr = addr, .size = end - addr, .type = type };
  (*n)++;
}

unsigned
e820_build (const struct guest_mem *mem, struct e820_entry *out, unsigned max)
{
  uint64_t low_end = mem->nregions ? mem->regions[0].size : 0;
  unsigned n = 0;

  /* Base memory, then the EBDA stand-in; the VGA window is a hole. */
  e820_add (out, max, &n, 0, low_end < LAYOUT_EBDA_START ? low_end : LAYOUT_EBDA_START,
            E820_TYPE_RAM);
  e820_add (out, max, &n, LAYOUT_EBDA_START, LAYOUT_VGA_START, E820_TYPE_RESERVED);
  e820_add (out, max, &n, LAYOUT_BIOS_START, LAYOUT_BIOS_END, E820_TYPE_RESERVED);
  e820_add (out, max, &n, LAYOUT_BIOS_END, low_end, E820_TYPE_RAM);
  /* KVM's identity map and TSS pages: keep the guest from putting a BAR
   * there. */
  e820_add (out, max, &n, LAYOUT_KVM_IDENTITY_MAP, LAYOUT_HIGH_RAM_START, E820_TYPE_RESERVED);
  if (mem->nregions > 1)
    e820_add (out, max, &n, mem->regions[1].gpa, mem->regions[1].gpa + mem->regions[1].size,
              E820_TYPE_RAM);
  return n;
}

int
boot_cmdline_write (struct guest_mem *mem, uint64_t gpa, const char *cmdline, size_t max,
                    hull_error_t *err)
{
  size_t len = strlen (cmdline);
  char *dst;

  if (len > max)
    return hull_error (err, E2BIG, "kernel command line is %zu bytes, the kernel accepts %zu",
                       len, max);
  dst = guest_mem_ptr (mem, gpa, len + 1);
  if (dst == NULL)
    return hull_error (err, ERANGE, "kernel command line at 0x%llx is outside RAM",
                       (unsigned long long) gpa);
  memcpy (dst, cmdline, len + 1);
  return 0;
}

int
initrd_place (const struct guest_mem *mem, uint64_t size, uint64_t floor, uint64_t addr_max,
              uint64_t *addr, hull_error_t *err)
{
  uint64_t top = mem->nregions ? mem->regions[0].size : 0;

  if (addr_max != UINT64_MAX && addr_max + 1 < top)
    top = addr_max + 1;
  if (size == 0 || size > top || ((top - size) & ~0xfffULL) < floor)
    return hull_error (err, ENOMEM, "memory too small for the initrd: %llu bytes do not fit"
                                    " between the kernel end (0x%llx) and 0x%llx",
                       (unsigned long long) size, (unsigned long long) floor,
                       (unsigned long long) top);
  *addr = (top - size) & ~0xfffULL;
  return 0;
}

static void
boot_params_e820 (const struct guest_mem *mem, struct boot_params *bp)
{
  struct e820_entry e[E820_MAX];
  unsigned n = e820_build (mem, e, E820_MAX);

  for (unsigned i = 0; i < n; i++)
    {
      bp->e820_table[i].addr = e[i].addr;
      bp->e820_table[i].size = e[i].size;
      bp->e820_table[i].type = e[i].type;
    }
  bp->e820_entries = (uint8_t) n;
}

int
boot_params_write (struct guest_mem *mem, uint64_t gpa, const struct boot_params_args *a,
                   hull_error_t *err)
{
  struct boot_params *bp = guest_mem_ptr (mem, gpa, sizeof (*bp));
  size_t hdr_len = a->setup_header_len;

  if (bp == NULL)
    return hull_error (err, ERANGE, "zero page at 0x%llx is outside RAM",
                       (unsigned long long) gpa);
  memset (bp, 0, sizeof (*bp));
  /* Start from the kernel's own header (it tells us its capabilities and
   * reads some of its own fields back), then fill in the loader's part. */
  if (hdr_len > sizeof (bp->hdr))
    hdr_len = sizeof (bp->hdr);
  memcpy (&bp->hdr, a->setup_header, hdr_len);
  bp->hdr.type_of_loader = LOADER_TYPE_UNDEFINED;
  bp->hdr.vid_mode = VIDEO_MODE_NORMAL;
  bp->hdr.cmd_line_ptr = (uint32_t) a->cmdline_addr;
  bp->ext_cmd_line_ptr = (uint32_t) (a->cmdline_addr >> 32);
  if (a->initrd_size > 0)
    {
      bp->hdr.ramdisk_image = (uint32_t) a->initrd_addr;
      bp->ext_ramdisk_image = (uint32_t) (a->initrd_addr >> 32);
      bp->hdr.ramdisk_size = (uint32_t) a->initrd_size;
      bp->ext_ramdisk_size = (uint32_t) (a->initrd_size >> 32);
    }
  /* Protocol 2.14+ kernels take the RSDP from here instead of scanning. */
  bp->acpi_rsdp_addr = a->rsdp_addr;
  boot_params_e820 (mem, bp);
  return 0;
}

/* The Xen PVH ABI structures (version 1 of hvm_start_info). */
#define HVM_START_MAGIC 0x336ec578u

struct hvm_start_info
{
  uint32_t magic, version, flags, nr_modules;
  uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
  uint32_t memmap_entries, reserved;
};

struct hvm_modlist_entry
{
  uint64_t paddr, size, cmdline_paddr, reserved;
};

struct hvm_memmap_table_entry
{
  uint64_t addr, size;
  uint32_t type, reserved;
};

#define PVH_MODLIST_OFF 0x40
#define PVH_MEMMAP_OFF 0x80

int
pvh_start_info_write (struct guest_mem *mem, uint64_t gpa, uint64_t cmdline_addr,
                      uint64_t initrd_addr, uint64_t initrd_size, uint64_t rsdp_addr,
                      hull_error_t *err)
{
  size_t total = PVH_MEMMAP_OFF + E820_MAX * sizeof (struct hvm_memmap_table_entry);
  uint8_t *base = guest_mem_ptr (mem, gpa, total);
  struct hvm_start_info *si = (struct hvm_start_info *) base;
  struct hvm_modlist_entry *mod = (struct hvm_modlist_entry *) (base + PVH_MODLIST_OFF);
  struct hvm_memmap_table_entry *mm = (struct hvm_memmap_table_entry *) (base + PVH_MEMMAP_OFF);
  struct e820_entry e[E820_MAX];
  unsigned n;

  if (base == NULL)
    return hull_error (err, ERANGE, "PVH start info at 0x%llx is outside RAM",
                       (unsigned long long) gpa);
  memset (base, 0, total);
  n = e820_build (mem, e, E820_MAX);
  for (unsigned i = 0; i < n; i++)
    mm[i] = (struct hvm_memmap_table_entry){ .addr = e[i].addr, .size = e[i].size,
                                             .type = e[i].type };
  si->magic = HVM_START_MAGIC;
  si->version = 1;
  si->cmdline_paddr = cmdline_addr;
  si->rsdp_paddr = rsdp_addr;
  si->memmap_paddr = gpa + PVH_MEMMAP_OFF;
  si->memmap_entries = n;
  if (initrd_size > 0)
    {
      mod->paddr = initrd_addr;
      mod->size = initrd_size;
      si->nr_modules = 1;
      si->modlist_paddr = gpa + PVH_MODLIST_OFF;
    }
  return 0;
}
