/* io_bus: registration, overlap refusal, dispatch with relative offsets,
 * all-ones for unmapped reads. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "vmm/io_bus.h"

struct rec
{
  uint64_t off;
  uint32_t len;
  uint8_t last_write;
  int reads, writes;
};

static void
rec_read (void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
  struct rec *r = opaque;

  r->off = off;
  r->len = len;
  r->reads++;
  memset (data, 0x5a, len);
}

static void
rec_write (void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
  struct rec *r = opaque;

  r->off = off;
  r->len = len;
  r->writes++;
  r->last_write = data[0];
}

static const struct io_ops rec_ops = { .read = rec_read, .write = rec_write };

Test (io_bus, dispatch_and_offsets)
{
  struct io_bus bus;
  struct rec a = { 0 }, b = { 0 };
  hull_error_t err = NULL;
  uint8_t d[8];

  cr_assert_eq (io_bus_init (&bus, &err), 0);
  cr_assert_eq (io_bus_register (&bus, 0x3f8, 8, &rec_ops, &a, &err), 0);
  cr_assert_eq (io_bus_register (&bus, 0x100, 4, &rec_ops, &b, &err), 0);
  d[0] = 0x41;
  cr_expect (io_bus_access (&bus, 0x3fd, d, 1, true));
  cr_expect_eq (a.off, 5);
  cr_expect_eq (a.last_write, 0x41);
  cr_expect (io_bus_access (&bus, 0x100, d, 4, false));
  cr_expect_eq (b.off, 0);
  cr_expect_eq (b.len, 4);
  cr_expect_eq (d[3], 0x5a);
  cr_expect_eq (a.reads, 0);
  io_bus_destroy (&bus);
}

Test (io_bus, unmapped_reads_all_ones)
{
  struct io_bus bus;
  struct rec a = { 0 };
  hull_error_t err = NULL;
  uint8_t d[4] = { 0 };

  cr_assert_eq (io_bus_init (&bus, &err), 0);
  cr_assert_eq (io_bus_register (&bus, 0x60, 1, &rec_ops, &a, &err), 0);
  cr_expect_not (io_bus_access (&bus, 0x61, d, 4, false));
  cr_expect_eq (d[0] & d[1] & d[2] & d[3], 0xff);
  /* Straddling the end of a range is not delivered either. */
  memset (d, 0, sizeof (d));
  cr_expect_not (io_bus_access (&bus, 0x60, d, 2, false));
  cr_expect_eq (d[0], 0xff);
  cr_expect_eq (a.reads, 0);
  io_bus_destroy (&bus);
}

Test (io_bus, overlap_and_unregister)
{
  struct io_bus bus;
  struct rec a = { 0 };
  hull_error_t err = NULL;
  uint8_t d = 0;

  cr_assert_eq (io_bus_init (&bus, &err), 0);
  cr_assert_eq (io_bus_register (&bus, 0x1000, 0x100, &rec_ops, &a, &err), 0);
  cr_expect_lt (io_bus_register (&bus, 0x10ff, 1, &rec_ops, &a, &err), 0);
  cr_expect_eq (err->status, EEXIST);
  hull_error_free (&err);
  cr_expect_lt (io_bus_register (&bus, 0xf00, 0x101, &rec_ops, &a, &err), 0);
  hull_error_free (&err);
  cr_expect_lt (io_bus_register (&bus, UINT64_MAX, 2, &rec_ops, &a, &err), 0, "wraps");
  hull_error_free (&err);
  cr_expect_lt (io_bus_register (&bus, 0x5000, 0, &rec_ops, &a, &err), 0, "empty");
  hull_error_free (&err);
  cr_expect_eq (io_bus_register (&bus, 0x1100, 0x10, &rec_ops, &a, &err), 0, "adjacent is fine");
  cr_expect_eq (io_bus_register (&bus, 0xff0, 0x10, &rec_ops, &a, &err), 0);
  cr_expect_not (io_bus_unregister (&bus, 0x1001));
  cr_expect (io_bus_unregister (&bus, 0x1000));
  cr_expect_not (io_bus_access (&bus, 0x1080, &d, 1, true));
  cr_expect (io_bus_access (&bus, 0x1105, &d, 1, true));
  cr_expect (io_bus_access (&bus, 0xff5, &d, 1, true));
  cr_expect_eq (a.writes, 2);
  io_bus_destroy (&bus);
}

Test (io_bus, many_ranges_sorted)
{
  struct io_bus bus;
  struct rec r[40];
  hull_error_t err = NULL;
  uint8_t d = 0;

  memset (r, 0, sizeof (r));
  cr_assert_eq (io_bus_init (&bus, &err), 0);
  /* Registered out of order, found by binary search. */
  for (int i = 39; i >= 0; i--)
    cr_assert_eq (io_bus_register (&bus, 0x100 * (uint64_t) i, 0x10, &rec_ops, &r[i], &err), 0);
  for (int i = 0; i < 40; i++)
    {
      cr_expect (io_bus_access (&bus, 0x100 * (uint64_t) i + 0xf, &d, 1, true));
      cr_expect_eq (r[i].writes, 1);
      cr_expect_eq (r[i].off, 0xf);
    }
  for (unsigned i = 1; i < bus.count; i++)
    cr_expect_lt (bus.ranges[i - 1].base, bus.ranges[i].base);
  io_bus_destroy (&bus);
}
