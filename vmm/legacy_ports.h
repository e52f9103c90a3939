/* Legacy PC ports Linux touches that need an answer: CMOS/RTC (0x70/0x71),
 * the POST/delay port 0x80 and System Control Port A (0x92). */
#ifndef HULL_VMM_LEGACY_PORTS_H
#define HULL_VMM_LEGACY_PORTS_H

#include "runtime/error.h"
#include "vmm/vm.h"

struct legacy_ports;

int legacy_ports_create (struct vm *vm, struct legacy_ports **out, hull_error_t *err);
void legacy_ports_destroy (struct legacy_ports *l);

#endif
