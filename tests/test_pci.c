/* PCI bus: type-1 config cycles through ports 0xCF8/0xCFC on the I/O bus,
 * absent devices, BAR sizing and moving, capabilities. */
#include <criterion/criterion.h>
#include <string.h>

#include "vmm/layout.h"
#include "vmm/pci.h"

struct fixture
{
  struct io_bus pio, mmio;
  struct pci_bus bus;
};

static void
fx_init (struct fixture *f)
{
  hull_error_t err = NULL;

  cr_assert_eq (io_bus_init (&f->pio, &err), 0);
  cr_assert_eq (io_bus_init (&f->mmio, &err), 0);
  cr_assert_eq (pci_bus_init (&f->bus, &f->pio, &f->mmio, &err), 0, "%s", hull_error_msg (&err));
}

static void
fx_fini (struct fixture *f)
{
  pci_bus_destroy (&f->bus);
  io_bus_destroy (&f->pio);
  io_bus_destroy (&f->mmio);
}

static uint32_t
cfg_read (struct fixture *f, unsigned slot, unsigned reg)
{
  uint32_t addr = 0x80000000u | slot << 11 | (reg & 0xfc), v = 0;

  io_bus_access (&f->pio, 0xcf8, (uint8_t *) &addr, 4, true);
  io_bus_access (&f->pio, 0xcfc, (uint8_t *) &v, 4, false);
  return v;
}

static void
cfg_write (struct fixture *f, unsigned slot, unsigned reg, uint32_t v)
{
  uint32_t addr = 0x80000000u | slot << 11 | (reg & 0xfc);

  io_bus_access (&f->pio, 0xcf8, (uint8_t *) &addr, 4, true);
  io_bus_access (&f->pio, 0xcfc, (uint8_t *) &v, 4, true);
}

struct bar_rec
{
  uint64_t off;
  int hits;
};

static void
bar_read (void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
  struct bar_rec *r = opaque;

  r->off = off;
  r->hits++;
  memset (data, 0x77, len);
}

static const struct io_ops bar_ops = { .read = bar_read };

/* dev->opaque points at the test's move counter. */
static void
on_moved (struct pci_device *dev, int bar, uint64_t old)
{
  (void) bar;
  (void) old;
  (*(int *) dev->opaque)++;
}

static const struct pci_device_ops dev_ops = { .bar_moved = on_moved };

Test (pci, host_bridge_and_absent)
{
  struct fixture f;
  uint32_t addr = 0x80000000u, back = 0;
  uint8_t b[2];

  fx_init (&f);
  cr_expect_eq (cfg_read (&f, 0, 0x00), 0x00081b36, "bridge vendor/device");
  cr_expect_eq (cfg_read (&f, 0, 0x08) >> 8, 0x060000, "host bridge class");
  cr_expect_eq (cfg_read (&f, 5, 0x00), 0xffffffff, "empty slot reads all-ones");
  /* A function other than 0 and another bus are absent too. */
  io_bus_access (&f.pio, 0xcf8, (uint8_t *) &(uint32_t){ 0x80000100u }, 4, true);
  io_bus_access (&f.pio, 0xcfc, (uint8_t *) &back, 4, false);
  cr_expect_eq (back, 0xffffffff);
  io_bus_access (&f.pio, 0xcf8, (uint8_t *) &(uint32_t){ 0x80010000u }, 4, true);
  io_bus_access (&f.pio, 0xcfc, (uint8_t *) &back, 4, false);
  cr_expect_eq (back, 0xffffffff);
  /* CONFIG_ADDRESS reads back (Linux's conf1 probe checks this). */
  io_bus_access (&f.pio, 0xcf8, (uint8_t *) &addr, 4, true);
  io_bus_access (&f.pio, 0xcf8, (uint8_t *) &back, 4, false);
  cr_expect_eq (back, addr);
  /* Sub-dword data access: offset within the dword selects the byte. */
  io_bus_access (&f.pio, 0xcfe, b, 2, false);
  cr_expect_eq (b[0] | b[1] << 8, 0x0008);
  fx_fini (&f);
}

Test (pci, bar_sizing_and_moving)
{
  struct fixture f;
  struct pci_device dev;
  struct bar_rec rec = { 0 };
  hull_error_t err = NULL;
  uint8_t d[4];
  int slot, moved_calls = 0;
  uint32_t bar;

  fx_init (&f);
  memset (&dev, 0, sizeof (dev));
  pci_device_init_header (&dev, 0x1af4, 0x1044, 0xff0000, 0x1af4, 4);
  dev.bars[0] = (struct pci_bar){ .size = 0x4000, .ops = &bar_ops, .opaque = &rec };
  dev.ops = &dev_ops;
  dev.opaque = &moved_calls;
  slot = pci_bus_add (&f.bus, &dev, &err);
  cr_assert_geq (slot, 1, "%s", hull_error_msg (&err));
  cr_expect_eq (cfg_read (&f, (unsigned) slot, 0), 0x10441af4);
  bar = cfg_read (&f, (unsigned) slot, 0x10);
  cr_expect_eq (bar, (uint32_t) LAYOUT_PCI_MMIO_START);
  cr_expect (io_bus_access (&f.mmio, LAYOUT_PCI_MMIO_START + 0x10, d, 4, false));
  cr_expect_eq (rec.off, 0x10);
  cr_expect_eq (moved_calls, 0, "initial placement is not a move");

  /* Linux: disable decoding, write all-ones, read the size mask. */
  cfg_write (&f, (unsigned) slot, 0x04, 0);
  cr_expect_not (io_bus_access (&f.mmio, LAYOUT_PCI_MMIO_START, d, 4, false),
                 "decode off unmaps the BAR");
  cfg_write (&f, (unsigned) slot, 0x10, 0xffffffff);
  cr_expect_eq (cfg_read (&f, (unsigned) slot, 0x10), ~(0x4000u - 1));
  /* Move it and turn decoding back on. */
  cfg_write (&f, (unsigned) slot, 0x10, 0xd0000000);
  cfg_write (&f, (unsigned) slot, 0x04, 0x2);
  cr_expect_eq (cfg_read (&f, (unsigned) slot, 0x10), 0xd0000000);
  cr_expect (io_bus_access (&f.mmio, 0xd0000004, d, 4, false));
  cr_expect_eq (rec.off, 4);
  cr_expect_not (io_bus_access (&f.mmio, LAYOUT_PCI_MMIO_START, d, 4, false), "old place empty");
  cr_expect_eq (dev.bars[0].addr, 0xd0000000);
  cr_expect_eq (moved_calls, 1);
  /* Read-only header fields stay put. */
  cfg_write (&f, (unsigned) slot, 0x00, 0x12345678);
  cr_expect_eq (cfg_read (&f, (unsigned) slot, 0x00), 0x10441af4);
  fx_fini (&f);
}

Test (pci, bar64_and_io_bar)
{
  struct fixture f;
  struct pci_device dev;
  struct bar_rec rec = { 0 };
  hull_error_t err = NULL;
  int slot;

  fx_init (&f);
  memset (&dev, 0, sizeof (dev));
  pci_device_init_header (&dev, 0x1af4, 0x1041, 0x020000, 0x1af4, 1);
  dev.bars[0] = (struct pci_bar){ .size = 0x100, .io = true, .ops = &bar_ops, .opaque = &rec };
  dev.bars[2] = (struct pci_bar){ .size = 0x100000, .is64 = true, .ops = &bar_ops, .opaque = &rec };
  slot = pci_bus_add (&f.bus, &dev, &err);
  cr_assert_geq (slot, 1, "%s", hull_error_msg (&err));
  cr_expect_eq (cfg_read (&f, (unsigned) slot, 0x10), LAYOUT_PCI_PIO_START | 1, "I/O BAR");
  cr_expect_eq (cfg_read (&f, (unsigned) slot, 0x18) & 0xf, 0x4, "64-bit type bits");
  cr_expect_eq (cfg_read (&f, (unsigned) slot, 0x1c), 0, "upper dword");
  cfg_write (&f, (unsigned) slot, 0x18, 0xffffffff);
  cfg_write (&f, (unsigned) slot, 0x1c, 0xffffffff);
  cr_expect_eq (cfg_read (&f, (unsigned) slot, 0x18), 0xfff00004u);
  cr_expect_eq (cfg_read (&f, (unsigned) slot, 0x1c), 0xffffffffu);
  cfg_write (&f, (unsigned) slot, 0x10, 0xffffffff);
  cr_expect_eq (cfg_read (&f, (unsigned) slot, 0x10), 0xffffff01u, "I/O size mask");
  fx_fini (&f);
}

Test (pci, capabilities_and_bad_bars)
{
  struct fixture f;
  struct pci_device dev;
  hull_error_t err = NULL;
  uint8_t cap[16] = { 0x11 };
  int a, b;

  fx_init (&f);
  memset (&dev, 0, sizeof (dev));
  pci_device_init_header (&dev, 0x1af4, 0x1043, 0x078000, 0x1af4, 3);
  a = pci_device_add_cap (&dev, cap, 12);
  cap[0] = 0x09;
  b = pci_device_add_cap (&dev, cap, 16);
  cr_expect_eq (a, 0x40);
  cr_expect_eq (b, 0x4c);
  cr_expect_eq (dev.config[0x34], 0x40);
  cr_expect_eq (dev.config[0x41], 0x4c);
  cr_expect_eq (dev.config[0x4d], 0);
  cr_expect (dev.config[0x06] & 0x10, "capability list bit");
  cr_expect_lt (pci_device_add_cap (&dev, cap, 250), 0, "does not fit");

  dev.bars[0] = (struct pci_bar){ .size = 0x3000, .ops = &(struct io_ops){ 0 } };
  cr_expect_lt (pci_bus_add (&f.bus, &dev, &err), 0, "size not a power of two");
  cr_expect_not_null (strstr (hull_error_msg (&err), "BAR0"));
  hull_error_free (&err);
  fx_fini (&f);
}
