/* A complete hull microVM: RAM, vCPUs, the platform devices (COM1 serial,
 * i8042, CMOS, PCI host bridge), virtio-console and virtio-rng, and a
 * kernel loaded for its entry point.  The library entry point behind
 * `hull boot` and the container supervisor. */
#ifndef HULL_VMM_MACHINE_H
#define HULL_VMM_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/error.h"
#include "vmm/vm.h"

/* Why each piece is there:
 *  console=ttyS0   kernel messages on COM1 from the first line on (hvc0 only
 *                  exists once the virtio modules are loaded)
 *  reboot=k        reboot through the i8042 reset line -> VM_EXIT_RESET
 *                  (the ACPI FADT has no reset register)
 *  panic=-1        a panic reboots at once, so a dying guest ends the VM
 *  pci=conf1       PCI through ports 0xCF8/0xCFC, no MMCONFIG probing
 *  no_timer_check  skip the IO-APIC timer self-test: it measures with delay
 *                  loops and misfires under slow (nested, emulated) CPUs
 * ACPI stays on: Debian's cloud kernel finds CPUs and the IOAPIC only in
 * the MADT (no CONFIG_X86_MPPARSE); see acpi.c and mptable.c. */
#define MACHINE_DEFAULT_CMDLINE "console=ttyS0 reboot=k panic=-1 pci=conf1 no_timer_check"

#define MACHINE_MIN_MEMORY_MIB 16
#define MACHINE_MAX_MEMORY_MIB (1024 * 1024)

struct machine_config
{
  const char *kernel_path;   /* bzImage, or ELF with a PVH entry note */
  const char *initrd_path;   /* NULL: none */
  const char *cmdline;       /* NULL: MACHINE_DEFAULT_CMDLINE */
  const char *append;        /* NULL or added after cmdline */
  unsigned cpus;
  uint64_t memory_mib;
  int console_in_fd;         /* serial input, -1 for none */
  int console_out_fd;        /* serial and hvc0 output */
  int hvc_in_fd;             /* hvc0 input, -1 for none */
  bool no_virtio;            /* platform devices only */
};

struct machine;
struct virtio_console;

/* Validate the config and the kernel, create the VM and load everything;
 * nothing runs yet.  On failure nothing is left behind. */
int machine_create (const struct machine_config *cfg, struct machine **out, hull_error_t *err);
/* Run until the guest resets, powers off or halts for good, or the VMM
 * fails; returns why, with the detail in msg. */
enum vm_exit_reason machine_run (struct machine *m, char *msg, size_t msg_len);
void machine_destroy (struct machine *m);

/* The VM for attaching extra devices between create and run. */
struct vm *machine_vm (struct machine *m);
/* The virtio-console, for named ports (NULL with no_virtio). */
struct virtio_console *machine_console (struct machine *m);
/* Ask a running machine_run (in another thread) to return: any thread,
 * idempotent, the first reason wins. */
void machine_stop (struct machine *m, enum vm_exit_reason reason, const char *why);

const char *vm_exit_reason_name (enum vm_exit_reason r);

/* True when /dev/kvm cannot run a stock kernel at native speed: the PVM
 * flavour of KVM (kvm_pvm loaded) or a CPU without VMX/SVM, where a
 * mainstream kernel ends up in KVM's instruction emulator. */
bool machine_kvm_is_emulated (void);

#endif
