/* Zero page and PVH start info: fields at the offsets the boot protocol
 * documents, the e820 map for one and two RAM regions, initrd placement
 * and the command line. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/boot_params.h"
#include "vmm/layout.h"

#define LOW_BUF (256 * 1024)

static uint32_t
r32 (const uint8_t *p, size_t off)
{
  uint32_t v;

  memcpy (&v, p + off, 4);
  return v;
}

static uint64_t
r64 (const uint8_t *p, size_t off)
{
  uint64_t v;

  memcpy (&v, p + off, 8);
  return v;
}

/* Describes size bytes of RAM of which only the first LOW_BUF are backed:
 * the code under test only touches low addresses. */
static void
fake_mem (struct guest_mem *m, uint8_t *buf, uint64_t size)
{
  guest_mem_init_fake (m, buf, LOW_BUF);
  m->total = size;
  m->regions[0].size = size < LAYOUT_MMIO_HOLE_START ? size : LAYOUT_MMIO_HOLE_START;
  if (size > LAYOUT_MMIO_HOLE_START)
    {
      m->nregions = 2;
      m->regions[1] = (struct guest_region){ .gpa = LAYOUT_HIGH_RAM_START,
                                             .size = size - LAYOUT_MMIO_HOLE_START };
    }
}

Test (boot_params, e820_two_regions)
{
  static uint8_t buf[LOW_BUF];
  struct guest_mem m;
  struct e820_entry e[E820_MAX];
  unsigned n;

  fake_mem (&m, buf, 5ULL << 30);
  n = e820_build (&m, e, E820_MAX);
  cr_assert_eq (n, 6);
  cr_expect (e[0].addr == 0 && e[0].size == 0x9fc00 && e[0].type == E820_TYPE_RAM);
  cr_expect (e[1].addr == 0x9fc00 && e[1].size == 0x400 && e[1].type == E820_TYPE_RESERVED);
  cr_expect (e[2].addr == 0xe0000 && e[2].size == 0x20000 && e[2].type == E820_TYPE_RESERVED);
  cr_expect (e[3].addr == 0x100000 && e[3].size == LAYOUT_MMIO_HOLE_START - 0x100000
             && e[3].type == E820_TYPE_RAM);
  cr_expect (e[4].addr == LAYOUT_KVM_IDENTITY_MAP && e[4].type == E820_TYPE_RESERVED);
  cr_expect (e[5].addr == LAYOUT_HIGH_RAM_START && e[5].size == 2ULL << 30
             && e[5].type == E820_TYPE_RAM);
  for (unsigned i = 1; i < n; i++)
    cr_expect_geq (e[i].addr, e[i - 1].addr + e[i - 1].size, "sorted, no overlap");
}

Test (boot_params, e820_one_region)
{
  static uint8_t buf[LOW_BUF];
  struct guest_mem m;
  struct e820_entry e[E820_MAX];
  uint64_t ram = 0;
  unsigned n;

  fake_mem (&m, buf, 256ULL << 20);
  n = e820_build (&m, e, E820_MAX);
  cr_assert_eq (n, 5);
  for (unsigned i = 0; i < n; i++)
    if (e[i].type == E820_TYPE_RAM)
      ram += e[i].size;
  cr_expect_eq (ram, (256ULL << 20) - 0x60400, "all RAM but the legacy areas");
  cr_expect_eq (e[3].addr + e[3].size, 256ULL << 20);
}

Test (boot_params, zero_page_layout)
{
  static uint8_t buf[LOW_BUF];
  uint8_t hdr[0x80];
  struct guest_mem m;
  struct boot_params_args a = { 0 };
  hull_error_t err = NULL;
  const uint8_t *zp = buf + LAYOUT_BOOT_ZERO_PAGE;

  fake_mem (&m, buf, 5ULL << 30);
  memset (hdr, 0, sizeof (hdr));
  hdr[0] = 4;                        /* 0x1f1 setup_sects */
  memcpy (hdr + 0x202 - 0x1f1, "HdrS", 4);
  hdr[0x206 - 0x1f1] = 0x0f;
  hdr[0x207 - 0x1f1] = 0x02;
  hdr[0x211 - 0x1f1] = 0x01;         /* loadflags */
  a.setup_header = hdr;
  a.setup_header_len = 0x26c - 0x1f1;
  a.cmdline_addr = LAYOUT_BOOT_CMDLINE;
  a.initrd_addr = 0x7f000000;
  a.initrd_size = 0x123456;
  a.rsdp_addr = LAYOUT_ACPI_START;
  cr_assert_eq (boot_params_write (&m, LAYOUT_BOOT_ZERO_PAGE, &a, &err), 0);
  cr_expect_eq (zp[0x1f1], 4, "setup header copied");
  cr_expect_eq (memcmp (zp + 0x202, "HdrS", 4), 0);
  cr_expect_eq (zp[0x210], 0xff, "type_of_loader");
  cr_expect_eq (zp[0x211], 0x01, "loadflags kept");
  cr_expect_eq (r32 (zp, 0x218), 0x7f000000, "ramdisk_image");
  cr_expect_eq (r32 (zp, 0x21c), 0x123456, "ramdisk_size");
  cr_expect_eq (r32 (zp, 0x228), LAYOUT_BOOT_CMDLINE, "cmd_line_ptr");
  cr_expect_eq (r32 (zp, 0x0c8), 0, "ext_cmd_line_ptr");
  cr_expect_eq (r64 (zp, 0x070), LAYOUT_ACPI_START, "acpi_rsdp_addr");
  cr_expect_eq (zp[0x1e8], 6, "e820_entries");
  /* e820_table at 0x2d0, 20 bytes per entry: addr, size, type. */
  cr_expect_eq (r64 (zp, 0x2d0 + 0 * 20 + 8), 0x9fc00);
  cr_expect_eq (r32 (zp, 0x2d0 + 3 * 20 + 16), E820_TYPE_RAM);
  cr_expect_eq (r64 (zp, 0x2d0 + 5 * 20), LAYOUT_HIGH_RAM_START, "high RAM entry");
  cr_expect_eq (r64 (zp, 0x2d0 + 5 * 20 + 8), 2ULL << 30);
}

Test (boot_params, initrd_placement)
{
  static uint8_t buf[LOW_BUF];
  struct guest_mem m;
  hull_error_t err = NULL;
  uint64_t addr = 0;

  fake_mem (&m, buf, 256ULL << 20);
  cr_assert_eq (initrd_place (&m, 1 << 20, 0x3000000, 0x7fffffff, &addr, &err), 0);
  cr_expect_eq (addr, (256ULL << 20) - (1 << 20), "top of RAM");
  cr_assert_eq (initrd_place (&m, 1000, 0x3000000, 0x7fffffff, &addr, &err), 0);
  cr_expect_eq (addr, (256ULL << 20) - 4096, "page aligned, still ends below RAM end");
  fake_mem (&m, buf, 3ULL << 30);
  cr_assert_eq (initrd_place (&m, 1 << 20, 0x3000000, 0x7fffffff, &addr, &err), 0);
  cr_expect_eq (addr, 0x80000000ULL - (1 << 20), "capped by initrd_addr_max");
  cr_expect_leq (addr + (1 << 20) - 1, 0x7fffffff);
  fake_mem (&m, buf, 64ULL << 20);
  cr_expect_lt (initrd_place (&m, 40 << 20, 0x3000000, 0x7fffffff, &addr, &err), 0,
                "overlaps the kernel");
  cr_expect_not_null (strstr (hull_error_msg (&err), "memory too small"));
  hull_error_free (&err);
  cr_expect_lt (initrd_place (&m, 128 << 20, 0, 0x7fffffff, &addr, &err), 0, "bigger than RAM");
  hull_error_free (&err);
}

Test (boot_params, cmdline)
{
  static uint8_t buf[LOW_BUF];
  struct guest_mem m;
  hull_error_t err = NULL;
  char long_line[300];

  fake_mem (&m, buf, 256ULL << 20);
  cr_assert_eq (boot_cmdline_write (&m, LAYOUT_BOOT_CMDLINE, "console=ttyS0 quiet", 2047, &err), 0);
  cr_expect_str_eq ((char *) buf + LAYOUT_BOOT_CMDLINE, "console=ttyS0 quiet");
  memset (long_line, 'a', sizeof (long_line) - 1);
  long_line[sizeof (long_line) - 1] = '\0';
  cr_expect_lt (boot_cmdline_write (&m, LAYOUT_BOOT_CMDLINE, long_line, 255, &err), 0);
  cr_expect_not_null (strstr (hull_error_msg (&err), "command line"));
  hull_error_free (&err);
}

Test (boot_params, pvh_start_info)
{
  static uint8_t buf[LOW_BUF];
  struct guest_mem m;
  hull_error_t err = NULL;
  const uint8_t *si = buf + LAYOUT_BOOT_PVH_INFO;
  uint64_t memmap, mod;

  fake_mem (&m, buf, 256ULL << 20);
  cr_assert_eq (pvh_start_info_write (&m, LAYOUT_BOOT_PVH_INFO, LAYOUT_BOOT_CMDLINE, 0x8000000,
                                      4096, LAYOUT_ACPI_START, &err), 0);
  cr_expect_eq (r32 (si, 0), 0x336ec578, "magic");
  cr_expect_eq (r32 (si, 4), 1, "version");
  cr_expect_eq (r32 (si, 12), 1, "nr_modules");
  cr_expect_eq (r64 (si, 24), LAYOUT_BOOT_CMDLINE, "cmdline_paddr");
  cr_expect_eq (r64 (si, 32), LAYOUT_ACPI_START, "rsdp_paddr");
  cr_expect_eq (r32 (si, 48), 5, "memmap_entries");
  memmap = r64 (si, 40);
  mod = r64 (si, 16);
  cr_assert (memmap > LAYOUT_BOOT_PVH_INFO && memmap < LAYOUT_BOOT_PVH_INFO + 0x1000);
  cr_expect_eq (r64 (buf, memmap + 24 * 3), 0x100000, "4th memmap entry starts at 1 MiB");
  cr_expect_eq (r32 (buf, memmap + 24 * 3 + 16), E820_TYPE_RAM);
  cr_expect_eq (r64 (buf, mod), 0x8000000, "initrd module paddr");
  cr_expect_eq (r64 (buf, mod + 8), 4096, "initrd module size");
}
