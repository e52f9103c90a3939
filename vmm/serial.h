/* 16550A UART (COM1): the kernel console and early printk. */
#ifndef HULL_VMM_SERIAL_H
#define HULL_VMM_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/error.h"
#include "vmm/vm.h"

#define SERIAL_COM1_PORT 0x3f8
#define SERIAL_COM1_IRQ 4

struct serial;

/* Transmitted bytes are written to out_fd (not owned). */
int serial_create (struct vm *vm, uint16_t port, uint32_t irq, int out_fd, struct serial **out,
                   hull_error_t *err);
void serial_destroy (struct serial *s);
/* Queue input for the guest; returns how many bytes fit. */
size_t serial_receive (struct serial *s, const uint8_t *buf, size_t len);
/* Free space in the receive FIFO (0: stop reading the input fd). */
size_t serial_rx_space (struct serial *s);

#endif
