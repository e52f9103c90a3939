/* ACPI sleep control/status registers: the guest's poweroff (S5). */
#ifndef HULL_VMM_ACPI_PM_H
#define HULL_VMM_ACPI_PM_H

#include "runtime/error.h"
#include "vmm/vm.h"

/* The SLP_TYP value the DSDT's \_S5 package gives for soft-off. */
#define ACPI_PM_S5_TYPE 5

struct acpi_pm;

int acpi_pm_create (struct vm *vm, struct acpi_pm **out, hull_error_t *err);
void acpi_pm_destroy (struct acpi_pm *pm);

#endif
