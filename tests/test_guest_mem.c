/* guest_mem: region layout around the 32-bit hole and the bounds checks of
 * guest_mem_ptr, the VMM's only door into guest RAM. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/guest_mem.h"
#include "vmm/layout.h"

Test (guest_mem, fake_ptr_bounds)
{
  static uint8_t buf[8192];
  struct guest_mem m;

  guest_mem_init_fake (&m, buf, sizeof (buf));
  cr_assert_eq (m.nregions, 1);
  cr_expect_eq (guest_mem_ptr (&m, 0, 1), buf);
  cr_expect_eq (guest_mem_ptr (&m, 100, 8), buf + 100);
  cr_expect_eq (guest_mem_ptr (&m, 0, sizeof (buf)), buf);
  cr_expect_eq (guest_mem_ptr (&m, sizeof (buf) - 1, 1), buf + sizeof (buf) - 1);
  cr_expect_null (guest_mem_ptr (&m, sizeof (buf) - 1, 2), "straddles the end");
  cr_expect_null (guest_mem_ptr (&m, sizeof (buf), 1), "just past the end");
  cr_expect_null (guest_mem_ptr (&m, 0, sizeof (buf) + 1));
  cr_expect_null (guest_mem_ptr (&m, 0, 0), "len 0");
  cr_expect_null (guest_mem_ptr (NULL, 0, 1));
}

Test (guest_mem, overflow)
{
  static uint8_t buf[4096];
  struct guest_mem m;

  guest_mem_init_fake (&m, buf, sizeof (buf));
  /* gpa + len wraps to a small number: must not look in range. */
  cr_expect_null (guest_mem_ptr (&m, UINT64_MAX, 2));
  cr_expect_null (guest_mem_ptr (&m, 16, UINT64_MAX));
  cr_expect_null (guest_mem_ptr (&m, UINT64_MAX - 4095, 4096));
  cr_expect_null (guest_mem_ptr (&m, 1, UINT64_MAX - 0));
}

Test (guest_mem, split_around_hole)
{
  /* A description only: no memory behind it is touched. */
  struct guest_mem m;
  uint8_t *base = (uint8_t *) 0x10000;
  uint64_t size = LAYOUT_MMIO_HOLE_START + (1ULL << 30);

  guest_mem_init_fake (&m, base, size);
  cr_assert_eq (m.nregions, 2);
  cr_expect_eq (m.regions[0].gpa, 0);
  cr_expect_eq (m.regions[0].size, LAYOUT_MMIO_HOLE_START);
  cr_expect_eq (m.regions[1].gpa, LAYOUT_HIGH_RAM_START);
  cr_expect_eq (m.regions[1].size, 1ULL << 30);
  cr_expect_eq (m.regions[1].fd_offset, LAYOUT_MMIO_HOLE_START);
  cr_expect_eq (guest_mem_ptr (&m, LAYOUT_HIGH_RAM_START, 4096), base + LAYOUT_MMIO_HOLE_START);
  cr_expect_null (guest_mem_ptr (&m, LAYOUT_MMIO_HOLE_START, 1), "the hole is not RAM");
  cr_expect_null (guest_mem_ptr (&m, LAYOUT_MMIO_HOLE_START - 4, 8), "range ending in the hole");
  cr_expect_null (guest_mem_ptr (&m, LAYOUT_HIGH_RAM_START + (1ULL << 30), 1));
}

Test (guest_mem, create_real)
{
  struct guest_mem m;
  hull_error_t err = NULL;
  uint8_t *p;

  cr_assert_eq (guest_mem_create (&m, 2 << 20, &err), 0, "%s", hull_error_msg (&err));
  cr_expect_geq (m.memfd, 0);
  p = guest_mem_ptr (&m, 0x1000, 16);
  cr_assert_not_null (p);
  p[0] = 0xab;
  cr_expect_eq (m.base[0x1000], 0xab);
  guest_mem_destroy (&m);
  cr_expect_eq (m.memfd, -1);
  cr_expect_lt (guest_mem_create (&m, 12345, &err), 0, "size not a page multiple");
  cr_expect_not_null (strstr (hull_error_msg (&err), "12345"));
  hull_error_free (&err);
}
