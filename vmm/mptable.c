/* MP table (Intel MultiProcessor Specification 1.4).  It describes the
 * CPUs, the IOAPIC and the IRQ wiring to a kernel booted with `acpi=off`:
 * a few fixed-layout structures with checksums, no ACPI interpreter work,
 * and PCI is still found through the type-1 config ports (pci=conf1).
 *
 * It is not hull's default any more: Debian's cloud kernel, the guest
 * hull ships, is built without CONFIG_X86_MPPARSE ("MPS support code is
 * not built-in"), so with acpi=off it ignores this table and comes up with
 * one CPU in PIC mode.  hull therefore boots with ACPI on (acpi.c: a
 * hardware-reduced MADT/DSDT) and keeps writing the MP table for kernels
 * that have MPPARSE and are booted with acpi=off (e.g. `--append acpi=off`
 * on a custom kernel).  Both describe the same wiring.
 *
 * Wiring described: ISA IRQ n -> IOAPIC pin n (the identity KVM's GSI
 * routing implements, see vm.c), PCI INTA# of slot s -> IOAPIC pin
 * PCI_INTX_GSI(s) level/low, LINT0 = ExtINT, LINT1 = NMI. */
#include "vmm/mptable.h"

#include <errno.h>
#include <string.h>

#include "vmm/layout.h"
#include "vmm/pci.h"

#define MP_SPEC_REV 4 /* 1.4 */
#define MP_LAPIC_VERSION 0x14
#define MP_IOAPIC_VERSION 0x11
#define MP_BUS_PCI 0
#define MP_BUS_ISA 1

enum
{
  MP_ENTRY_CPU = 0,
  MP_ENTRY_BUS = 1,
  MP_ENTRY_IOAPIC = 2,
  MP_ENTRY_IOINT = 3,
  MP_ENTRY_LINT = 4,
};

enum
{
  MP_INT = 0,
  MP_NMI = 1,
  MP_EXTINT = 3,
};

struct __attribute__ ((packed)) mp_floating
{
  char signature[4];
  uint32_t config_addr;
  uint8_t length, spec_rev, checksum, feature1, feature2, feature3[3];
};

struct __attribute__ ((packed)) mp_config
{
  char signature[4];
  uint16_t length;
  uint8_t spec_rev, checksum;
  char oem[8], product[12];
  uint32_t oem_table;
  uint16_t oem_size, count;
  uint32_t lapic_addr;
  uint16_t ext_length;
  uint8_t ext_checksum, reserved;
};

struct __attribute__ ((packed)) mp_cpu
{
  uint8_t type, apic_id, apic_version, flags;
  uint32_t signature, features, reserved[2];
};

struct __attribute__ ((packed)) mp_bus
{
  uint8_t type, id;
  char name[6];
};

struct __attribute__ ((packed)) mp_ioapic
{
  uint8_t type, id, version, flags;
  uint32_t addr;
};

struct __attribute__ ((packed)) mp_irq
{
  uint8_t type, irq_type;
  uint16_t flags;
  uint8_t src_bus, src_irq, dst_id, dst_pin;
};

_Static_assert (sizeof (struct mp_floating) == 16, "MP floating pointer is 16 bytes");
_Static_assert (sizeof (struct mp_config) == 44, "MP config header is 44 bytes");
_Static_assert (sizeof (struct mp_cpu) == 20, "MP processor entry is 20 bytes");
_Static_assert (sizeof (struct mp_irq) == 8, "MP interrupt entry is 8 bytes");

static uint8_t
mp_checksum (const uint8_t *p, size_t len)
{
  uint8_t sum = 0;

  for (size_t i = 0; i < len; i++)
    sum = (uint8_t) (sum + p[i]);
  return (uint8_t) -sum;
}

/* Sequential writer of the configuration table's entries. */
struct mp_writer
{
  uint8_t *p;
  size_t off, cap;
  uint16_t count;
};

static void
mp_put (struct mp_writer *w, const void *entry, size_t len)
{
  if (w->off + len > w->cap)
    return; /* sized in advance by mptable_size; cannot happen */
  memcpy (w->p + w->off, entry, len);
  w->off += len;
  w->count++;
}

static size_t
mptable_size (const struct mptable_args *a)
{
  return sizeof (struct mp_floating) + sizeof (struct mp_config) + a->ncpus * sizeof (struct mp_cpu)
         + 2 * sizeof (struct mp_bus) + sizeof (struct mp_ioapic)
         + (16 + a->npci + 2) * sizeof (struct mp_irq);
}

static void
mp_put_irq (struct mp_writer *w, uint8_t entry, uint8_t irq_type, uint16_t flags, uint8_t bus,
            uint8_t src, uint8_t dst_id, uint8_t pin)
{
  struct mp_irq e = { .type = entry, .irq_type = irq_type, .flags = flags, .src_bus = bus,
                      .src_irq = src, .dst_id = dst_id, .dst_pin = pin };

  mp_put (w, &e, sizeof (e));
}

static void
mp_put_entries (struct mp_writer *w, const struct mptable_args *a)
{
  uint8_t ioapic_id = (uint8_t) a->ncpus;
  struct mp_bus pci = { .type = MP_ENTRY_BUS, .id = MP_BUS_PCI, .name = "PCI   " };
  struct mp_bus isa = { .type = MP_ENTRY_BUS, .id = MP_BUS_ISA, .name = "ISA   " };
  struct mp_ioapic io = { .type = MP_ENTRY_IOAPIC, .id = ioapic_id, .version = MP_IOAPIC_VERSION,
                          .flags = 1, .addr = (uint32_t) LAYOUT_IOAPIC_ADDR };

  for (unsigned i = 0; i < a->ncpus; i++)
    {
      struct mp_cpu c = { .type = MP_ENTRY_CPU, .apic_id = (uint8_t) i,
                          .apic_version = MP_LAPIC_VERSION,
                          .flags = (uint8_t) (1 | (i == 0 ? 2 : 0)), /* enabled, BSP */
                          .signature = a->cpu_signature, .features = a->cpu_features };

      mp_put (w, &c, sizeof (c));
    }
  mp_put (w, &pci, sizeof (pci));
  mp_put (w, &isa, sizeof (isa));
  mp_put (w, &io, sizeof (io));
  for (uint8_t irq = 0; irq < 16; irq++)
    if (irq != 2) /* the PIC cascade */
      mp_put_irq (w, MP_ENTRY_IOINT, MP_INT, 0, MP_BUS_ISA, irq, ioapic_id, irq);
  for (unsigned i = 0; i < a->npci; i++)
    /* Source IRQ = device << 2 | pin (INTA = 0); flags: active low (3),
     * level triggered (3 << 2). */
    mp_put_irq (w, MP_ENTRY_IOINT, MP_INT, 0x0f, MP_BUS_PCI, (uint8_t) (a->pci_slots[i] << 2),
                ioapic_id, (uint8_t) PCI_INTX_GSI (a->pci_slots[i]));
  mp_put_irq (w, MP_ENTRY_LINT, MP_EXTINT, 0, MP_BUS_ISA, 0, 0xff, 0);
  mp_put_irq (w, MP_ENTRY_LINT, MP_NMI, 0, MP_BUS_ISA, 0, 0xff, 1);
}

int
mptable_write (struct guest_mem *mem, uint64_t gpa, const struct mptable_args *a,
               hull_error_t *err)
{
  size_t size = mptable_size (a);
  uint8_t *base;
  struct mp_floating *fp;
  struct mp_config *cfg;
  struct mp_writer w;

  if (a->ncpus == 0 || a->ncpus > MPTABLE_MAX_CPUS)
    return hull_error (err, EINVAL, "MP table: %u CPUs (1-%d supported)", a->ncpus,
                       MPTABLE_MAX_CPUS);
  base = guest_mem_ptr (mem, gpa, size);
  if (base == NULL || gpa + size > UINT32_MAX)
    return hull_error (err, ERANGE, "MP table at 0x%llx (%zu bytes) is outside low RAM",
                       (unsigned long long) gpa, size);
  memset (base, 0, size);
  fp = (struct mp_floating *) base;
  cfg = (struct mp_config *) (base + sizeof (*fp));
  w = (struct mp_writer){ .p = (uint8_t *) cfg, .off = sizeof (*cfg),
                          .cap = size - sizeof (*fp) };
  mp_put_entries (&w, a);

  memcpy (cfg->signature, "PCMP", 4);
  cfg->length = (uint16_t) w.off;
  cfg->spec_rev = MP_SPEC_REV;
  memcpy (cfg->oem, "HULL    ", 8);
  memcpy (cfg->product, "MICROVM     ", 12);
  cfg->count = w.count;
  cfg->lapic_addr = (uint32_t) LAYOUT_LAPIC_ADDR;
  cfg->checksum = mp_checksum ((const uint8_t *) cfg, w.off);

  memcpy (fp->signature, "_MP_", 4);
  fp->config_addr = (uint32_t) (gpa + sizeof (*fp));
  fp->length = 1; /* in 16-byte units */
  fp->spec_rev = MP_SPEC_REV;
  fp->checksum = mp_checksum ((const uint8_t *) fp, sizeof (*fp));
  return (int) (sizeof (*fp) + w.off);
}
