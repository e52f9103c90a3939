/* Assembling and running a microVM.  Order matters: the kernel is parsed
 * before /dev/kvm is touched (a bad kernel path is reported as such, even
 * on a host without KVM), devices are added before the ACPI/MP tables are
 * written (they list the PCI devices' interrupt wiring), the kernel is
 * placed after them (the zero page points at the RSDP), and vCPUs come
 * last. */
#include "vmm/machine.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "vmm/acpi.h"
#include "vmm/acpi_pm.h"
#include "vmm/i8042.h"
#include "vmm/kernel_load.h"
#include "vmm/layout.h"
#include "vmm/legacy_ports.h"
#include "vmm/mptable.h"
#include "vmm/serial.h"
#include "vmm/vcpu.h"
#include "vmm/virtio_console.h"
#include "vmm/virtio_rng.h"

/* How often the main loop wakes to look for an all-halted guest, and how
 * many consecutive all-halted looks end the VM (one could catch a CPU in
 * a transient cli;hlt). */
#define MACHINE_TICK_MS 100
#define MACHINE_HALT_PROBE_TICKS 5
#define MACHINE_HALT_CONFIRM 2

struct machine
{
  struct vm vm;
  bool vm_created;
  int console_in_fd;
  bool console_in_eof;
  struct serial *serial;
  struct i8042 *i8042;
  struct legacy_ports *legacy;
  struct acpi_pm *acpi_pm;
  struct virtio_console *vcon;
  struct virtio_rng *vrng;
};

const char *
vm_exit_reason_name (enum vm_exit_reason r)
{
  switch (r)
    {
    case VM_EXIT_NONE:
      return "running";
    case VM_EXIT_RESET:
      return "reset";
    case VM_EXIT_POWEROFF:
      return "poweroff";
    case VM_EXIT_TRIPLE_FAULT:
      return "triple fault";
    case VM_EXIT_ERROR:
      return "error";
    }
  return "unknown";
}

bool
machine_kvm_is_emulated (void)
{
  cleanup_fclose FILE *f = NULL;
  cleanup_free char *line = NULL;
  size_t n = 0;

  if (access ("/sys/module/kvm_pvm", F_OK) == 0)
    return true;
  f = fopen ("/proc/cpuinfo", "re");
  if (f == NULL)
    return false; /* cannot tell: let KVM speak for itself */
  while (getline (&line, &n, f) > 0)
    if (strncmp (line, "flags", 5) == 0)
      return strstr (line, " vmx") == NULL && strstr (line, " svm") == NULL;
  return false;
}

static int
machine_check_config (const struct machine_config *cfg, hull_error_t *err)
{
  if (cfg->kernel_path == NULL || cfg->kernel_path[0] == '\0')
    return hull_error (err, EINVAL, "no kernel given");
  if (cfg->cpus < 1 || cfg->cpus > MPTABLE_MAX_CPUS)
    return hull_error (err, EINVAL, "cpus: %u is out of range (1-%d)", cfg->cpus,
                       MPTABLE_MAX_CPUS);
  if (cfg->memory_mib < MACHINE_MIN_MEMORY_MIB || cfg->memory_mib > MACHINE_MAX_MEMORY_MIB)
    return hull_error (err, EINVAL, "memory: %llu MiB is out of range (%d-%d MiB)",
                       (unsigned long long) cfg->memory_mib, MACHINE_MIN_MEMORY_MIB,
                       MACHINE_MAX_MEMORY_MIB);
  return 0;
}

static char *
machine_cmdline (const struct machine_config *cfg, hull_error_t *err)
{
  const char *base = cfg->cmdline ? cfg->cmdline : MACHINE_DEFAULT_CMDLINE;
  char *s = NULL;
  int r;

  if (cfg->append != NULL && cfg->append[0] != '\0')
    r = asprintf (&s, "%s %s", base, cfg->append);
  else
    r = asprintf (&s, "%s", base);
  if (r < 0)
    {
      hull_error (err, ENOMEM, "build kernel command line");
      return NULL;
    }
  return s;
}

static int
machine_add_devices (struct machine *m, const struct machine_config *cfg, hull_error_t *err)
{
  struct vm *vm = &m->vm;

  if (serial_create (vm, SERIAL_COM1_PORT, SERIAL_COM1_IRQ, cfg->console_out_fd, &m->serial, err) < 0
      || i8042_create (vm, &m->i8042, err) < 0 || legacy_ports_create (vm, &m->legacy, err) < 0
      || acpi_pm_create (vm, &m->acpi_pm, err) < 0)
    return -1;
  if (cfg->no_virtio)
    return 0;
  if (virtio_console_create (vm, cfg->hvc_in_fd, cfg->console_out_fd, &m->vcon, err) < 0)
    return hull_error_prefix (err, "virtio-console");
  if (virtio_rng_create (vm, &m->vrng, err) < 0)
    return hull_error_prefix (err, "virtio-rng");
  return 0;
}

/* Describe CPUs, IOAPIC and interrupt wiring twice: ACPI (what kernels
 * without CONFIG_X86_MPPARSE, like Debian's cloud kernel, read) and the
 * MP table (what a kernel booted with acpi=off reads). */
static int
machine_write_tables (struct machine *m, uint64_t *rsdp, hull_error_t *err)
{
  struct mptable_args a = { .ncpus = m->vm.ncpus };
  struct acpi_args acpi = { .ncpus = m->vm.ncpus };
  uint8_t slots[PCI_MAX_DEVICES];

  if (cpuid_signature (m->vm.kvm_fd, &a.cpu_signature, &a.cpu_features, err) < 0)
    return -1;
  for (unsigned s = 1; s < PCI_MAX_DEVICES; s++)
    if (m->vm.pci.devices[s] != NULL && m->vm.pci.devices[s]->config[0x3D] != 0)
      slots[a.npci++] = (uint8_t) s;
  a.pci_slots = acpi.pci_slots = slots;
  acpi.npci = a.npci;
  if (mptable_write (&m->vm.mem, LAYOUT_MPTABLE, &a, err) < 0)
    return -1;
  return acpi_write (&m->vm.mem, LAYOUT_ACPI_START, LAYOUT_ACPI_END, &acpi, rsdp, err);
}

static int
machine_build (struct machine *m, const struct machine_config *cfg, hull_error_t *err)
{
  struct kernel_image img;
  struct boot_entry entry;
  cleanup_free char *cmdline = machine_cmdline (cfg, err);
  uint64_t rsdp = 0;
  int r;

  if (cmdline == NULL)
    return -1;
  if (kernel_image_read (cfg->kernel_path, cfg->initrd_path, &img, err) < 0)
    return -1;
  r = vm_create (&m->vm, cfg->memory_mib << 20, err);
  if (r == 0)
    {
      m->vm_created = true;
      m->vm.ncpus = cfg->cpus;
      r = machine_add_devices (m, cfg, err);
    }
  if (r == 0)
    r = machine_write_tables (m, &rsdp, err);
  if (r == 0 && kernel_image_load (&img, &m->vm.mem, cmdline, rsdp, &entry, err) < 0)
    r = hull_error_prefix (err, "kernel `%s`", cfg->kernel_path);
  kernel_image_free (&img);
  if (r < 0)
    return -1;
  return vcpus_create (&m->vm, cfg->cpus, &entry, err);
}

int
machine_create (const struct machine_config *cfg, struct machine **out, hull_error_t *err)
{
  struct machine *m;

  if (machine_check_config (cfg, err) < 0)
    return -1;
  m = calloc (1, sizeof (*m));
  if (m == NULL)
    return hull_error (err, ENOMEM, "allocate machine");
  m->console_in_fd = cfg->console_in_fd;
  if (machine_build (m, cfg, err) < 0)
    {
      machine_destroy (m);
      return -1;
    }
  *out = m;
  return 0;
}

struct vm *
machine_vm (struct machine *m)
{
  return &m->vm;
}

struct virtio_console *
machine_console (struct machine *m)
{
  return m->vcon;
}

void
machine_stop (struct machine *m, enum vm_exit_reason reason, const char *why)
{
  vm_request_exit (&m->vm, reason, "%s", why);
}

/* Move console input into the UART as far as its FIFO allows. */
static void
machine_console_input (struct machine *m)
{
  uint8_t buf[64];
  size_t space = serial_rx_space (m->serial);
  ssize_t r;

  if (space == 0)
    return;
  r = read (m->console_in_fd, buf, space < sizeof (buf) ? space : sizeof (buf));
  if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
    m->console_in_eof = true;
  else if (r > 0)
    serial_receive (m->serial, buf, (size_t) r);
}

/* Wait for an exit request, feeding console input and watching for a
 * guest that halted for good (halt/poweroff without ACPI: all vCPUs in
 * HLT with interrupts off, which the in-kernel irqchip never reports). */
static void
machine_wait (struct machine *m)
{
  unsigned tick = 0, halted = 0;

  while (vm_exit_requested (&m->vm) == VM_EXIT_NONE)
    {
      struct pollfd p[2] = { { .fd = m->vm.exit_eventfd, .events = POLLIN },
                             { .fd = -1, .events = POLLIN } };

      if (m->console_in_fd >= 0 && !m->console_in_eof && serial_rx_space (m->serial) > 0)
        p[1].fd = m->console_in_fd;
      if (poll (p, 2, MACHINE_TICK_MS) < 0 && errno != EINTR)
        {
          vm_request_exit (&m->vm, VM_EXIT_ERROR, "poll: %s", strerror (errno));
          break;
        }
      if (p[1].fd >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
        machine_console_input (m);
      if (++tick % MACHINE_HALT_PROBE_TICKS != 0)
        continue;
      halted = vcpus_all_halted (&m->vm) ? halted + 1 : 0;
      if (halted >= MACHINE_HALT_CONFIRM)
        vm_request_exit (&m->vm, VM_EXIT_POWEROFF,
                         "all vCPUs halted with interrupts disabled (guest halt or poweroff)");
    }
}

enum vm_exit_reason
machine_run (struct machine *m, char *msg, size_t msg_len)
{
  hull_error_t err = NULL;
  enum vm_exit_reason r;

  if (vcpus_start (&m->vm, &err) < 0)
    hull_error_free (&err); /* the exit request carries the message */
  else
    machine_wait (m);
  vcpus_stop (&m->vm);
  r = vm_exit_requested (&m->vm);
  pthread_mutex_lock (&m->vm.lock);
  snprintf (msg, msg_len, "%s", m->vm.exit_msg);
  pthread_mutex_unlock (&m->vm.lock);
  return r;
}

void
machine_destroy (struct machine *m)
{
  if (m == NULL)
    return;
  if (m->vm_created)
    vcpus_stop (&m->vm);
  /* Device threads first: they may still touch guest memory and the VM. */
  if (m->vcon != NULL)
    virtio_console_destroy (m->vcon);
  if (m->vrng != NULL)
    virtio_rng_destroy (m->vrng);
  serial_destroy (m->serial);
  i8042_destroy (m->i8042);
  legacy_ports_destroy (m->legacy);
  acpi_pm_destroy (m->acpi_pm);
  if (m->vm_created)
    {
      vcpus_destroy (&m->vm);
      vm_destroy (&m->vm);
    }
  free (m);
}
