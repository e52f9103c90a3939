/* Hardware-reduced ACPI sleep registers.  Linux's acpi_power_off writes
 * SLP_TYP (bits 4:2, the \_S5 value from the DSDT) with SLP_EN (bit 5)
 * to the sleep control register; that ends the VM as VM_EXIT_POWEROFF at
 * once, instead of the guest halting and the VMM noticing.  Other sleep
 * states are not offered (no \_S1-\_S4), so any other request is ignored.
 * The status register reads WAK_STS set, so a guest that somehow keeps
 * running after the write does not spin waiting for it. */
#include "vmm/acpi_pm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/layout.h"

#define SLP_EN 0x20
#define SLP_TYP_SHIFT 2
#define SLP_TYP_MASK 0x1c
#define WAK_STS 0x80

struct acpi_pm
{
  struct vm *vm;
};

static void
acpi_pm_read (void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
  (void) opaque;
  memset (data, 0, len);
  if (off == LAYOUT_ACPI_SLEEP_STATUS - LAYOUT_ACPI_SLEEP_CONTROL)
    data[0] = WAK_STS;
}

static void
acpi_pm_write (void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
  struct acpi_pm *pm = opaque;

  (void) len;
  if (off == 0 && (data[0] & SLP_EN)
      && ((data[0] & SLP_TYP_MASK) >> SLP_TYP_SHIFT) == ACPI_PM_S5_TYPE)
    vm_request_exit (pm->vm, VM_EXIT_POWEROFF, "guest powered off (ACPI S5)");
}

static const struct io_ops acpi_pm_ops = { .read = acpi_pm_read, .write = acpi_pm_write };

int
acpi_pm_create (struct vm *vm, struct acpi_pm **out, hull_error_t *err)
{
  struct acpi_pm *pm = calloc (1, sizeof (*pm));

  if (pm == NULL)
    return hull_error (err, ENOMEM, "allocate ACPI PM registers");
  pm->vm = vm;
  if (io_bus_register (&vm->pio, LAYOUT_ACPI_SLEEP_CONTROL, 2, &acpi_pm_ops, pm, err) < 0)
    {
      free (pm);
      return hull_error_prefix (err, "ACPI sleep registers");
    }
  *out = pm;
  return 0;
}

void
acpi_pm_destroy (struct acpi_pm *pm)
{
  free (pm);
}
