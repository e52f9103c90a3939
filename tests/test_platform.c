/* Platform devices driven through the port I/O bus of a VM that has no
 * KVM behind it (vm_fd -1: IRQ line changes are dropped): the 16550's
 * register and interrupt-identification behaviour, the i8042's probe
 * answers and reset, the CMOS clock, the ACPI sleep register. */
#include <criterion/criterion.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vmm/acpi_pm.h"
#include "vmm/i8042.h"
#include "vmm/layout.h"
#include "vmm/legacy_ports.h"
#include "vmm/serial.h"
#include "vmm/vm.h"

static void
fake_vm (struct vm *vm)
{
  hull_error_t err = NULL;

  memset (vm, 0, sizeof (*vm));
  vm->kvm_fd = vm->vm_fd = -1;
  pthread_mutex_init (&vm->lock, NULL);
  cr_assert_eq (io_bus_init (&vm->pio, &err), 0);
  vm->exit_eventfd = eventfd (0, EFD_CLOEXEC);
  cr_assert_geq (vm->exit_eventfd, 0);
}

static void
fake_vm_fini (struct vm *vm)
{
  io_bus_destroy (&vm->pio);
  close (vm->exit_eventfd);
  pthread_mutex_destroy (&vm->lock);
}

static uint8_t
in8 (struct vm *vm, uint16_t port)
{
  uint8_t v = 0;

  io_bus_access (&vm->pio, port, &v, 1, false);
  return v;
}

static void
out8 (struct vm *vm, uint16_t port, uint8_t v)
{
  io_bus_access (&vm->pio, port, &v, 1, true);
}

Test (serial, output_thre_and_iir)
{
  struct vm vm;
  struct serial *s = NULL;
  hull_error_t err = NULL;
  int p[2];
  char buf[8] = { 0 };

  fake_vm (&vm);
  cr_assert_eq (pipe (p), 0);
  cr_assert_eq (serial_create (&vm, 0x3f8, 4, p[1], &s, &err), 0);
  out8 (&vm, 0x3f8, 'h');
  out8 (&vm, 0x3f8, 'i');
  cr_assert_eq (read (p[0], buf, 2), 2);
  cr_expect_str_eq (buf, "hi");
  cr_expect_eq (in8 (&vm, 0x3fd) & 0x60, 0x60, "THR and transmitter empty");
  cr_expect_eq (in8 (&vm, 0x3fa) & 0x0f, 0x01, "no interrupt while IER is 0");
  /* Enabling THRI with an empty THR raises THRE at once (Linux's
   * UART_BUG_THRE probe relies on it); reading IIR clears it. */
  out8 (&vm, 0x3f9, 0x02);
  cr_expect_eq (in8 (&vm, 0x3fa) & 0x0f, 0x02, "THRE pending");
  cr_expect_eq (in8 (&vm, 0x3fa) & 0x0f, 0x01, "cleared by the IIR read");
  out8 (&vm, 0x3f8, 'x');
  cr_expect_eq (in8 (&vm, 0x3fa) & 0x0f, 0x02, "raised again after a write");
  /* FIFO enabled: IIR reports it in bits 7:6. */
  out8 (&vm, 0x3fa, 0x01);
  cr_expect_eq (in8 (&vm, 0x3fa) & 0xc0, 0xc0);
  /* Divisor latch. */
  out8 (&vm, 0x3fb, 0x83);
  out8 (&vm, 0x3f8, 0x01);
  cr_expect_eq (in8 (&vm, 0x3f8), 0x01, "DLL");
  out8 (&vm, 0x3fb, 0x03);
  out8 (&vm, 0x3ff, 0x5a);
  cr_expect_eq (in8 (&vm, 0x3ff), 0x5a, "scratch");
  serial_destroy (s);
  close (p[0]);
  close (p[1]);
  fake_vm_fini (&vm);
}

Test (serial, input_and_loopback)
{
  struct vm vm;
  struct serial *s = NULL;
  hull_error_t err = NULL;

  fake_vm (&vm);
  cr_assert_eq (serial_create (&vm, 0x3f8, 4, -1, &s, &err), 0);
  cr_expect_eq (serial_receive (s, (const uint8_t *) "ab", 2), 2);
  cr_expect_eq (in8 (&vm, 0x3fd) & 0x01, 0x01, "data ready");
  out8 (&vm, 0x3f9, 0x01);
  cr_expect_eq (in8 (&vm, 0x3fa) & 0x0f, 0x04, "receive interrupt");
  cr_expect_eq (in8 (&vm, 0x3f8), 'a');
  cr_expect_eq (in8 (&vm, 0x3f8), 'b');
  cr_expect_eq (in8 (&vm, 0x3fd) & 0x01, 0, "drained");
  cr_expect_eq (in8 (&vm, 0x3fa) & 0x0f, 0x01);
  cr_expect_eq (serial_rx_space (s), 64);
  /* Loopback: transmitted bytes come back, modem lines follow MCR. */
  out8 (&vm, 0x3fc, 0x10 | 0x0a);
  cr_expect_eq (in8 (&vm, 0x3fe) & 0xf0, 0x90, "CTS and DCD from RTS and OUT2");
  out8 (&vm, 0x3f8, 'z');
  cr_expect_eq (in8 (&vm, 0x3f8), 'z');
  serial_destroy (s);
  fake_vm_fini (&vm);
}

Test (i8042, probe_and_reset)
{
  struct vm vm;
  struct i8042 *k = NULL;
  hull_error_t err = NULL;

  fake_vm (&vm);
  cr_assert_eq (i8042_create (&vm, &k, &err), 0);
  cr_expect_eq (in8 (&vm, 0x64) & 0x01, 0, "output buffer empty");
  out8 (&vm, 0x64, 0xaa);
  cr_expect_eq (in8 (&vm, 0x64) & 0x01, 0x01);
  cr_expect_eq (in8 (&vm, 0x60), 0x55, "self test passed");
  out8 (&vm, 0x64, 0x60);
  out8 (&vm, 0x60, 0x47);
  out8 (&vm, 0x64, 0x20);
  cr_expect_eq (in8 (&vm, 0x60), 0x47, "command byte written and read back");
  out8 (&vm, 0x64, 0xd3);
  out8 (&vm, 0x60, 0x5a);
  cr_expect_eq (in8 (&vm, 0x64) & 0x21, 0x21, "AUX data in the output buffer");
  cr_expect_eq (in8 (&vm, 0x60), 0x5a, "AUX loopback");
  cr_expect_eq (vm_exit_requested (&vm), VM_EXIT_NONE);
  out8 (&vm, 0x64, 0xfe);
  cr_expect_eq (vm_exit_requested (&vm), VM_EXIT_RESET, "0xFE pulses the reset line");
  cr_expect_not_null (strstr (vm.exit_msg, "i8042"));
  i8042_destroy (k);
  fake_vm_fini (&vm);
}

Test (legacy_ports, cmos_clock_and_port_a)
{
  struct vm vm;
  struct legacy_ports *l = NULL;
  hull_error_t err = NULL;
  uint8_t sec, mon;

  fake_vm (&vm);
  cr_assert_eq (legacy_ports_create (&vm, &l, &err), 0);
  out8 (&vm, 0x70, 0x0a);
  cr_expect_eq (in8 (&vm, 0x71) & 0x80, 0, "never update-in-progress");
  out8 (&vm, 0x70, 0x0b);
  cr_expect_eq (in8 (&vm, 0x71) & 0x06, 0x02, "24h, BCD");
  out8 (&vm, 0x70, 0x80 | 0x00); /* NMI-mask bit is not part of the index */
  sec = in8 (&vm, 0x71);
  cr_expect (sec >> 4 <= 5 && (sec & 0xf) <= 9, "BCD seconds 0x%x", sec);
  out8 (&vm, 0x70, 0x08);
  mon = in8 (&vm, 0x71);
  cr_expect (mon >= 1 && mon <= 0x12, "BCD month 0x%x", mon);
  out8 (&vm, 0x70, 0x40);
  out8 (&vm, 0x71, 0x99);
  cr_expect_eq (in8 (&vm, 0x71), 0x99, "CMOS RAM");
  out8 (&vm, 0x92, 0x02);
  cr_expect_eq (vm_exit_requested (&vm), VM_EXIT_NONE);
  out8 (&vm, 0x92, 0x03);
  cr_expect_eq (vm_exit_requested (&vm), VM_EXIT_RESET, "port 0x92 fast reset");
  legacy_ports_destroy (l);
  fake_vm_fini (&vm);
}

Test (acpi_pm, s5_powers_off)
{
  struct vm vm;
  struct acpi_pm *pm = NULL;
  hull_error_t err = NULL;

  fake_vm (&vm);
  cr_assert_eq (acpi_pm_create (&vm, &pm, &err), 0);
  out8 (&vm, LAYOUT_ACPI_SLEEP_CONTROL, (3 << 2) | 0x20);
  cr_expect_eq (vm_exit_requested (&vm), VM_EXIT_NONE, "S3 is not offered");
  out8 (&vm, LAYOUT_ACPI_SLEEP_CONTROL, ACPI_PM_S5_TYPE << 2);
  cr_expect_eq (vm_exit_requested (&vm), VM_EXIT_NONE, "no SLP_EN");
  out8 (&vm, LAYOUT_ACPI_SLEEP_CONTROL, (ACPI_PM_S5_TYPE << 2) | 0x20);
  cr_expect_eq (vm_exit_requested (&vm), VM_EXIT_POWEROFF);
  acpi_pm_destroy (pm);
  fake_vm_fini (&vm);
}
