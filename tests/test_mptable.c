/* MP table and ACPI tables: signatures, checksums of every structure,
 * entry counts for the CPUs. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/acpi.h"
#include "vmm/layout.h"
#include "vmm/mptable.h"

#define RAM (2 << 20)

static uint8_t
sum (const uint8_t *p, size_t len)
{
  uint8_t s = 0;

  for (size_t i = 0; i < len; i++)
    s = (uint8_t) (s + p[i]);
  return s;
}

static uint32_t
r32 (const uint8_t *p)
{
  uint32_t v;

  memcpy (&v, p, 4);
  return v;
}

static uint16_t
r16 (const uint8_t *p)
{
  return (uint16_t) (p[0] | p[1] << 8);
}

static void
check_mptable (unsigned ncpus, unsigned npci)
{
  uint8_t *ram = calloc (1, RAM);
  uint8_t slots[2] = { 1, 2 };
  struct guest_mem mem;
  struct mptable_args a = { .ncpus = ncpus, .cpu_signature = 0x806f8, .cpu_features = 0x201,
                            .pci_slots = slots, .npci = npci };
  hull_error_t err = NULL;
  const uint8_t *fp, *cfg, *e;
  unsigned cpus = 0, bsp = 0, ioapics = 0, ioints = 0, count;
  int size;

  cr_assert_not_null (ram);
  guest_mem_init_fake (&mem, ram, RAM);
  size = mptable_write (&mem, LAYOUT_MPTABLE, &a, &err);
  cr_assert_gt (size, 0, "%s", hull_error_msg (&err));
  fp = ram + LAYOUT_MPTABLE;
  cr_expect_eq (memcmp (fp, "_MP_", 4), 0);
  cr_expect_eq (fp[8], 1, "length in paragraphs");
  cr_expect_eq (fp[9], 4, "spec 1.4");
  cr_expect_eq (sum (fp, 16), 0, "floating pointer checksum");
  cr_assert_eq (r32 (fp + 4), LAYOUT_MPTABLE + 16);
  cfg = ram + r32 (fp + 4);
  cr_expect_eq (memcmp (cfg, "PCMP", 4), 0);
  cr_expect_eq (sum (cfg, r16 (cfg + 4)), 0, "configuration table checksum");
  cr_expect_eq ((size_t) size, 16 + (size_t) r16 (cfg + 4));
  cr_expect_eq (r32 (cfg + 36), LAYOUT_LAPIC_ADDR);
  count = r16 (cfg + 34);
  e = cfg + 44;
  for (unsigned i = 0; i < count; i++)
    {
      switch (e[0])
        {
        case 0:
          cr_expect_eq (e[1], cpus, "APIC ids in order");
          cr_expect (e[3] & 1, "enabled");
          bsp += (e[3] & 2) != 0;
          cpus++;
          e += 20;
          break;
        case 2:
          cr_expect_eq (e[1], ncpus, "IOAPIC id follows the CPUs");
          cr_expect_eq (r32 (e + 4), LAYOUT_IOAPIC_ADDR);
          ioapics++;
          e += 8;
          break;
        case 3:
          ioints++;
          e += 8;
          break;
        default:
          cr_expect_leq (e[0], 4, "entry type");
          e += 8;
        }
    }
  cr_expect_eq (e - cfg, r16 (cfg + 4), "entries fill the table exactly");
  cr_expect_eq (cpus, ncpus);
  cr_expect_eq (bsp, 1, "exactly one BSP");
  cr_expect_eq (ioapics, 1);
  cr_expect_eq (ioints, 15 + npci, "ISA IRQs but the cascade, plus PCI INTA#s");
  free (ram);
}

Test (mptable, one_cpu)
{
  check_mptable (1, 0);
}

Test (mptable, many_cpus_with_pci)
{
  check_mptable (8, 2);
  check_mptable (MPTABLE_MAX_CPUS, 2);
}

Test (mptable, limits)
{
  uint8_t *ram = calloc (1, RAM);
  struct guest_mem mem;
  struct mptable_args a = { .ncpus = 0 };
  hull_error_t err = NULL;

  guest_mem_init_fake (&mem, ram, RAM);
  cr_expect_lt (mptable_write (&mem, LAYOUT_MPTABLE, &a, &err), 0);
  hull_error_free (&err);
  a.ncpus = MPTABLE_MAX_CPUS + 1;
  cr_expect_lt (mptable_write (&mem, LAYOUT_MPTABLE, &a, &err), 0);
  hull_error_free (&err);
  a.ncpus = 2;
  cr_expect_lt (mptable_write (&mem, RAM - 64, &a, &err), 0, "does not fit in RAM");
  hull_error_free (&err);
  free (ram);
}

/* Walk RSDP -> XSDT -> tables, checking every checksum. */
Test (acpi, tables_and_checksums)
{
  uint8_t *ram = calloc (1, RAM);
  uint8_t slots[1] = { 1 };
  struct guest_mem mem;
  struct acpi_args a = { .ncpus = 4, .pci_slots = slots, .npci = 1 };
  hull_error_t err = NULL;
  uint64_t rsdp = 0, xsdt, entry;
  const uint8_t *r, *x, *madt = NULL, *fadt = NULL;
  unsigned lapics = 0;

  guest_mem_init_fake (&mem, ram, RAM);
  cr_assert_eq (acpi_write (&mem, LAYOUT_ACPI_START, LAYOUT_ACPI_END, &a, &rsdp, &err), 0, "%s",
                hull_error_msg (&err));
  cr_assert_eq (rsdp, LAYOUT_ACPI_START);
  r = ram + rsdp;
  cr_expect_eq (memcmp (r, "RSD PTR ", 8), 0);
  cr_expect_eq (sum (r, 20), 0, "RSDP checksum");
  cr_expect_eq (sum (r, 36), 0, "RSDP extended checksum");
  memcpy (&xsdt, r + 24, 8);
  x = ram + xsdt;
  cr_expect_eq (memcmp (x, "XSDT", 4), 0);
  cr_expect_eq (sum (x, r32 (x + 4)), 0, "XSDT checksum");
  cr_assert_eq (r32 (x + 4), 36 + 16, "two entries");
  for (int i = 0; i < 2; i++)
    {
      const uint8_t *t;

      memcpy (&entry, x + 36 + 8 * i, 8);
      t = ram + entry;
      cr_expect_eq (sum (t, r32 (t + 4)), 0, "%.4s checksum", (const char *) t);
      if (memcmp (t, "APIC", 4) == 0)
        madt = t;
      if (memcmp (t, "FACP", 4) == 0)
        fadt = t;
    }
  cr_assert_not_null (madt);
  cr_assert_not_null (fadt);
  cr_expect_eq (r32 (fadt + 4), 276, "FADT revision 6 length");
  cr_expect (r32 (fadt + 112) & (1u << 20), "hardware-reduced");
  cr_expect_eq (fadt[244], 1, "sleep control register in I/O space");
  cr_expect_eq (r32 (fadt + 248), LAYOUT_ACPI_SLEEP_CONTROL);
  cr_expect_eq (r32 (fadt + 260), LAYOUT_ACPI_SLEEP_STATUS);
  {
    uint64_t dsdt;
    const uint8_t *d;

    memcpy (&dsdt, fadt + 140, 8);
    d = ram + dsdt;
    cr_expect_eq (memcmp (d, "DSDT", 4), 0);
    cr_expect_eq (sum (d, r32 (d + 4)), 0, "DSDT checksum");
    cr_expect_not_null (memmem (d, r32 (d + 4), "PCI0", 4));
    cr_expect_not_null (memmem (d, r32 (d + 4), "COM1", 4));
    cr_expect_not_null (memmem (d, r32 (d + 4), "_S5_", 4));
  }
  for (const uint8_t *e = madt + 44; e < madt + r32 (madt + 4); e += e[1])
    {
      cr_assert_gt (e[1], 0);
      if (e[0] == 0)
        {
          cr_expect_eq (e[3], lapics, "APIC id");
          lapics++;
        }
    }
  cr_expect_eq (lapics, 4);
  free (ram);
}
