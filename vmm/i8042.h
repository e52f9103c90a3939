/* The PC keyboard controller, only as far as reset and probing go. */
#ifndef HULL_VMM_I8042_H
#define HULL_VMM_I8042_H

#include "runtime/error.h"
#include "vmm/vm.h"

struct i8042;

int i8042_create (struct vm *vm, struct i8042 **out, hull_error_t *err);
void i8042_destroy (struct i8042 *k);

#endif
