/* ACPI for the guest.  Debian's cloud kernel is built without
 * CONFIG_X86_MPPARSE, so the MP table alone leaves it with one CPU and no
 * IOAPIC; ACPI's MADT is what it reads.  hull describes a
 * hardware-reduced ACPI platform (FADT flag HW_REDUCED_ACPI): no SCI, no
 * PM1 blocks or PM timer, no GPEs -- nothing the VMM would have to
 * emulate.  The DSDT carries just what Linux needs to enumerate PCI: one
 * PNP0A03 root bridge with its resource windows (_CRS) and INTx routing
 * (_PRT), the ISA devices whose IRQs it must know (COM1, RTC, i8042),
 * and \_S5 so that poweroff goes through the FADT sleep control register
 * (acpi_pm.c).  Reboot stays on the i8042 (reboot=k). */
#include "vmm/acpi.h"

#include <errno.h>
#include <string.h>

#include "vmm/acpi_pm.h"
#include "vmm/layout.h"
#include "vmm/pci.h"

#define ACPI_HDR_LEN 36
#define FADT_LEN 276
#define FADT_FLAG_PWR_BUTTON (1u << 4)   /* no fixed power button */
#define FADT_FLAG_SLP_BUTTON (1u << 5)   /* no fixed sleep button */
#define FADT_FLAG_HW_REDUCED (1u << 20)
#define FADT_BOOT_8042 (1u << 1)
#define FADT_BOOT_NO_VGA (1u << 2)

/* A bounded byte buffer for tables and AML; overflow sticks as an error. */
struct abuf
{
  uint8_t *p;
  uint64_t len, cap;
  bool overflow;
};

static void
put (struct abuf *b, const void *data, uint64_t n)
{
  if (b->overflow || n > b->cap - b->len)
    {
      b->overflow = true;
      return;
    }
  memcpy (b->p + b->len, data, n);
  b->len += n;
}

static void
put8 (struct abuf *b, uint8_t v)
{
  put (b, &v, 1);
}

static void
put16 (struct abuf *b, uint16_t v)
{
  put (b, &v, 2);
}

static void
put32 (struct abuf *b, uint32_t v)
{
  put (b, &v, 4);
}

static void
put64 (struct abuf *b, uint64_t v)
{
  put (b, &v, 8);
}

uint8_t
acpi_checksum (const uint8_t *p, uint64_t len)
{
  uint8_t sum = 0;

  for (uint64_t i = 0; i < len; i++)
    sum = (uint8_t) (sum + p[i]);
  return (uint8_t) -sum;
}

static void
put_header (struct abuf *b, const char *sig, uint8_t revision)
{
  put (b, sig, 4);
  put32 (b, 0); /* length, patched by finish_table */
  put8 (b, revision);
  put8 (b, 0); /* checksum, patched */
  put (b, "HULL  ", 6);
  put (b, "HULLVM  ", 8);
  put32 (b, 1);
  put (b, "HULL", 4);
  put32 (b, 1);
}

/* Patch length and checksum of the table that starts at offset start. */
static void
finish_table (struct abuf *b, uint64_t start)
{
  uint32_t len = (uint32_t) (b->len - start);

  if (b->overflow)
    return;
  memcpy (b->p + start + 4, &len, 4);
  b->p[start + 9] = acpi_checksum (b->p + start, len);
}

static void
align16 (struct abuf *b)
{
  while (!b->overflow && (b->len & 15) != 0)
    put8 (b, 0);
}

/* --- AML: just the encodings the DSDT below uses ---------------------- */

#define AML_ZERO 0x00
#define AML_NAME 0x08
#define AML_BYTE 0x0a
#define AML_DWORD 0x0c
#define AML_SCOPE 0x10
#define AML_BUFFER 0x11
#define AML_PACKAGE 0x12
#define AML_EXT 0x5b
#define AML_DEVICE 0x82

/* Open an element with a PkgLength: reserve 2 bytes, fixed up in close. */
static uint64_t
aml_open (struct abuf *b)
{
  uint64_t at = b->len;

  put16 (b, 0);
  return at;
}

/* Two-byte PkgLength: bits 7-6 = 1 more byte, bits 3-0 = low nibble,
 * next byte = the rest; the length counts itself (max 4095 bytes). */
static void
aml_close (struct abuf *b, uint64_t at)
{
  uint64_t len = b->len - at;

  if (b->overflow || len > 0xfff)
    {
      b->overflow = true;
      return;
    }
  b->p[at] = (uint8_t) (0x40 | (len & 0xf));
  b->p[at + 1] = (uint8_t) (len >> 4);
}

static void
aml_name (struct abuf *b, const char seg[4])
{
  put8 (b, AML_NAME);
  put (b, seg, 4);
}

static void
aml_dword (struct abuf *b, uint32_t v)
{
  put8 (b, AML_DWORD);
  put32 (b, v);
}

/* Word address space descriptor (bus numbers or I/O window). */
static void
res_word (struct abuf *b, uint8_t type, uint8_t type_flags, uint16_t min, uint16_t max)
{
  put8 (b, 0x88);
  put16 (b, 13);
  put8 (b, type);
  put8 (b, 0x0c); /* producer, min and max fixed */
  put8 (b, type_flags);
  put16 (b, 0);   /* granularity */
  put16 (b, min);
  put16 (b, max);
  put16 (b, 0);   /* translation */
  put16 (b, (uint16_t) (max - min + 1));
}

static void
res_dword_mem (struct abuf *b, uint32_t min, uint32_t max)
{
  put8 (b, 0x87);
  put16 (b, 23);
  put8 (b, 0);    /* memory */
  put8 (b, 0x0c);
  put8 (b, 0x01); /* read-write, non-cacheable */
  put32 (b, 0);
  put32 (b, min);
  put32 (b, max);
  put32 (b, 0);
  put32 (b, max - min + 1);
}

/* Name (_CRS, ResourceTemplate () { bus 0-255, config ports, I/O
 * around them, the 32-bit MMIO window }). */
static void
aml_pci_crs (struct abuf *b)
{
  uint64_t pkg, size_at;

  aml_name (b, "_CRS");
  put8 (b, AML_BUFFER);
  pkg = aml_open (b);
  put8 (b, 0x0b); /* WordConst buffer size, patched below */
  size_at = b->len;
  put16 (b, 0);
  res_word (b, 2, 0, 0, 0xff);
  put8 (b, 0x47); /* IO (Decode16, 0xCF8, 0xCF8, 1, 8) */
  put8 (b, 1);
  put16 (b, 0xcf8);
  put16 (b, 0xcf8);
  put8 (b, 1);
  put8 (b, 8);
  res_word (b, 1, 3, 0x0000, 0x0cf7);
  res_word (b, 1, 3, 0x0d00, 0xffff);
  res_dword_mem (b, (uint32_t) LAYOUT_PCI_MMIO_START, (uint32_t) (LAYOUT_PCI_MMIO_END - 1));
  put8 (b, 0x79); /* end tag, checksum 0 = "not checked" */
  put8 (b, 0);
  if (!b->overflow)
    {
      uint16_t n = (uint16_t) (b->len - size_at - 2);

      memcpy (b->p + size_at, &n, 2);
    }
  aml_close (b, pkg);
}

/* Name (_PRT, Package () { Package () { 0xSSSSFFFF, 0, 0, GSI }, ... })
 * for INTA# of every slot that uses it. */
static void
aml_pci_prt (struct abuf *b, const struct acpi_args *a)
{
  uint64_t outer;

  aml_name (b, "_PRT");
  put8 (b, AML_PACKAGE);
  outer = aml_open (b);
  put8 (b, (uint8_t) a->npci);
  for (unsigned i = 0; i < a->npci; i++)
    {
      uint64_t inner;

      put8 (b, AML_PACKAGE);
      inner = aml_open (b);
      put8 (b, 4);
      aml_dword (b, ((uint32_t) a->pci_slots[i] << 16) | 0xffff);
      put8 (b, AML_ZERO); /* INTA */
      put8 (b, AML_ZERO); /* no link device: the last element is a GSI */
      put8 (b, AML_BYTE);
      put8 (b, (uint8_t) PCI_INTX_GSI (a->pci_slots[i]));
      aml_close (b, inner);
    }
  aml_close (b, outer);
}

/* EISAID ("PNPxxxx") as AML stores it: the compressed vendor letters and
 * the product number, big-endian, read as a little-endian dword. */
static uint32_t
eisa_pnp (uint16_t product)
{
  uint16_t vendor = (uint16_t) ((('P' - '@') << 10) | (('N' - '@') << 5) | ('P' - '@'));

  return (uint32_t) (vendor >> 8) | (uint32_t) (vendor & 0xff) << 8
         | (uint32_t) (product >> 8) << 16 | (uint32_t) (product & 0xff) << 24;
}

/* Name (_CRS, ResourceTemplate () { IO (Decode16, port, port, 1, len)...,
 * IRQNoFlags () { irq } }): an ISA device, edge-triggered, active high. */
static void
aml_isa_crs (struct abuf *b, const uint16_t *ports, const uint8_t *lens, unsigned nports,
             uint8_t irq)
{
  uint8_t n = (uint8_t) (nports * 8 + 3 + 2);

  aml_name (b, "_CRS");
  put8 (b, AML_BUFFER);
  put8 (b, (uint8_t) (n + 3)); /* one-byte PkgLength: itself + size + data */
  put8 (b, AML_BYTE);
  put8 (b, n);
  for (unsigned i = 0; i < nports; i++)
    {
      put8 (b, 0x47);
      put8 (b, 1);
      put16 (b, ports[i]);
      put16 (b, ports[i]);
      put8 (b, 1);
      put8 (b, lens[i]);
    }
  put8 (b, 0x22); /* IRQNoFlags */
  put16 (b, (uint16_t) (1u << irq));
  put8 (b, 0x79);
  put8 (b, 0);
}

/* Without a legacy PIC (hardware-reduced ACPI) Linux maps no ISA IRQ by
 * itself: the serial port, RTC and i8042 get theirs from these devices'
 * _CRS, through the PNP drivers. */
static void
aml_isa_device (struct abuf *b, const char name[4], uint16_t pnp, const uint16_t *ports,
                const uint8_t *lens, unsigned nports, uint8_t irq)
{
  uint64_t dev;

  put8 (b, AML_EXT);
  put8 (b, AML_DEVICE);
  dev = aml_open (b);
  put (b, name, 4);
  aml_name (b, "_HID");
  aml_dword (b, eisa_pnp (pnp));
  aml_isa_crs (b, ports, lens, nports, irq);
  aml_close (b, dev);
}

static void
aml_isa_devices (struct abuf *b)
{
  static const uint16_t com1[] = { 0x3f8 }, rtc[] = { 0x70 }, kbd[] = { 0x60, 0x64 };
  static const uint8_t com1_len[] = { 8 }, rtc_len[] = { 2 }, kbd_len[] = { 1, 1 };

  aml_isa_device (b, "COM1", 0x0501, com1, com1_len, 1, 4);
  aml_isa_device (b, "RTC_", 0x0b00, rtc, rtc_len, 1, 8);
  aml_isa_device (b, "KBD_", 0x0303, kbd, kbd_len, 2, 1);
}

static void
put_dsdt (struct abuf *b, const struct acpi_args *a)
{
  uint64_t start = b->len, scope, dev;

  put_header (b, "DSDT", 2);
  put8 (b, AML_SCOPE);
  scope = aml_open (b);
  put (b, "\\_SB_", 5);
  put8 (b, AML_EXT);
  put8 (b, AML_DEVICE);
  dev = aml_open (b);
  put (b, "PCI0", 4);
  aml_name (b, "_HID");
  aml_dword (b, eisa_pnp (0x0a03));
  aml_name (b, "_UID");
  put8 (b, AML_ZERO);
  aml_pci_crs (b);
  aml_pci_prt (b, a);
  aml_close (b, dev);
  aml_isa_devices (b);
  aml_close (b, scope);
  /* Name (\_S5, Package () { SLP_TYPa, SLP_TYPb, 0, 0 }) */
  aml_name (b, "_S5_");
  put8 (b, AML_PACKAGE);
  put8 (b, 7); /* one-byte PkgLength: itself, count, 5 bytes of elements */
  put8 (b, 4);
  put8 (b, AML_BYTE);
  put8 (b, ACPI_PM_S5_TYPE);
  put8 (b, AML_ZERO);
  put8 (b, AML_ZERO);
  put8 (b, AML_ZERO);
  finish_table (b, start);
}

/* Generic Address Structure for one byte-wide I/O port. */
static void
put_gas_io (uint8_t *p, uint64_t port)
{
  p[0] = 1; /* system I/O space */
  p[1] = 8; /* register bit width */
  p[2] = 0; /* bit offset */
  p[3] = 1; /* byte access */
  memcpy (p + 4, &port, 8);
}

static void
put_fadt (struct abuf *b, uint64_t dsdt)
{
  uint64_t start = b->len;
  uint8_t body[FADT_LEN - ACPI_HDR_LEN];
  uint32_t flags = FADT_FLAG_HW_REDUCED | FADT_FLAG_PWR_BUTTON | FADT_FLAG_SLP_BUTTON;
  uint16_t boot = FADT_BOOT_8042 | FADT_BOOT_NO_VGA;

  /* Offsets below are from the table start, as in the specification. */
  memset (body, 0, sizeof (body));
  memcpy (body + 40 - ACPI_HDR_LEN, &(uint32_t){ (uint32_t) dsdt }, 4);  /* DSDT */
  memcpy (body + 109 - ACPI_HDR_LEN, &boot, 2);                           /* IAPC_BOOT_ARCH */
  memcpy (body + 112 - ACPI_HDR_LEN, &flags, 4);                          /* Flags */
  body[131 - ACPI_HDR_LEN] = 5;                                          /* minor version */
  memcpy (body + 140 - ACPI_HDR_LEN, &dsdt, 8);                           /* X_DSDT */
  put_gas_io (body + 244 - ACPI_HDR_LEN, LAYOUT_ACPI_SLEEP_CONTROL);      /* SLEEP_CONTROL_REG */
  put_gas_io (body + 256 - ACPI_HDR_LEN, LAYOUT_ACPI_SLEEP_STATUS);       /* SLEEP_STATUS_REG */
  memcpy (body + 268 - ACPI_HDR_LEN, "HULLVMM\0", 8);                     /* hypervisor id */
  put_header (b, "FACP", 6);
  put (b, body, sizeof (body));
  finish_table (b, start);
}

static void
put_madt (struct abuf *b, const struct acpi_args *a)
{
  uint64_t start = b->len;

  put_header (b, "APIC", 5);
  put32 (b, (uint32_t) LAYOUT_LAPIC_ADDR);
  put32 (b, 0); /* no PC-AT 8259 pair to mask: hardware-reduced */
  for (unsigned i = 0; i < a->ncpus; i++)
    {
      put8 (b, 0); /* Processor Local APIC */
      put8 (b, 8);
      put8 (b, (uint8_t) i); /* processor UID */
      put8 (b, (uint8_t) i); /* APIC id = vCPU index (cpuid.c) */
      put32 (b, 1);          /* enabled */
    }
  put8 (b, 1); /* I/O APIC */
  put8 (b, 12);
  put8 (b, (uint8_t) a->ncpus); /* id after the CPUs' */
  put8 (b, 0);
  put32 (b, (uint32_t) LAYOUT_IOAPIC_ADDR);
  put32 (b, 0); /* GSI base: pin n = GSI n, as vm.c routes */
  finish_table (b, start);
}

int
acpi_write (struct guest_mem *mem, uint64_t start, uint64_t end, const struct acpi_args *a,
            uint64_t *rsdp, hull_error_t *err)
{
  struct abuf b = { .p = guest_mem_ptr (mem, start, end - start), .cap = end - start };
  uint64_t xsdt, fadt, madt, dsdt;
  uint8_t *r;

  if (a->ncpus == 0 || a->ncpus > ACPI_MAX_CPUS || a->npci > 31)
    return hull_error (err, EINVAL, "ACPI: %u CPUs / %u PCI devices not supported", a->ncpus,
                       a->npci);
  if (b.p == NULL || end <= start)
    return hull_error (err, ERANGE, "ACPI tables area 0x%llx-0x%llx is outside RAM",
                       (unsigned long long) start, (unsigned long long) end);
  memset (b.p, 0, b.cap);
  b.len = 36; /* the RSDP, filled in last */
  align16 (&b);
  dsdt = start + b.len;
  put_dsdt (&b, a);
  align16 (&b);
  fadt = start + b.len;
  put_fadt (&b, dsdt);
  align16 (&b);
  madt = start + b.len;
  put_madt (&b, a);
  align16 (&b);
  xsdt = start + b.len;
  put_header (&b, "XSDT", 1);
  put64 (&b, fadt);
  put64 (&b, madt);
  finish_table (&b, xsdt - start);
  if (b.overflow)
    return hull_error (err, ENOSPC, "ACPI tables do not fit in 0x%llx-0x%llx",
                       (unsigned long long) start, (unsigned long long) end);
  r = b.p;
  memcpy (r, "RSD PTR ", 8);
  memcpy (r + 9, "HULL  ", 6);
  r[15] = 2; /* ACPI 2.0+: XSDT */
  memcpy (r + 20, &(uint32_t){ 36 }, 4);
  memcpy (r + 24, &xsdt, 8);
  r[8] = acpi_checksum (r, 20);
  r[32] = acpi_checksum (r, 36);
  *rsdp = start;
  return 0;
}
