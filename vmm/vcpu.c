/* vCPU threads.  Each loops on KVM_RUN, forwards port I/O and MMIO exits
 * to the buses and turns the terminal exits (triple fault, system events,
 * KVM errors) into a VM exit request.  Stopping works by signal: the kick
 * signal is blocked in the thread except inside KVM_RUN (KVM_SET_SIGNAL_
 * MASK), so a kick sent at any moment either interrupts KVM_RUN or makes
 * the next one return EINTR at once -- no window where it is lost. */
#include "vmm/vcpu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define RFLAGS_IF (1ULL << 9)

static const char *
vcpu_internal_error_name (uint32_t suberror)
{
  switch (suberror)
    {
    case KVM_INTERNAL_ERROR_EMULATION:
      return "instruction emulation failed";
    case KVM_INTERNAL_ERROR_SIMUL_EX:
      return "exception while delivering another exception";
    case KVM_INTERNAL_ERROR_DELIVERY_EV:
      return "event delivery failed";
    case KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON:
      return "unexpected exit reason";
    default:
      return "unknown suberror";
    }
}

static uint64_t
vcpu_rip (struct vcpu *v)
{
  struct kvm_regs regs;

  if (ioctl (v->fd, KVM_GET_REGS, &regs) < 0)
    return 0;
  return regs.rip;
}

/* KVM could not run the guest: say what, where, and (for emulation
 * failures) which instruction bytes. */
static void
vcpu_internal_error (struct vcpu *v)
{
  const struct kvm_run *run = v->run;
  uint32_t sub = run->internal.suberror, n = run->internal.ndata;
  char bytes[64] = "";

  if (sub == KVM_INTERNAL_ERROR_EMULATION && n >= 3
      && (run->internal.data[0] & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES))
    {
      const uint8_t *insn = (const uint8_t *) &run->internal.data[2];
      uint64_t len = run->internal.data[1] < 15 ? run->internal.data[1] : 15;
      size_t o = (size_t) snprintf (bytes, sizeof (bytes), ", instruction bytes");

      for (uint64_t i = 0; i < len && o < sizeof (bytes) - 4; i++)
        o += (size_t) snprintf (bytes + o, sizeof (bytes) - o, " %02x", insn[i]);
    }
  vm_request_exit (v->vm, VM_EXIT_ERROR,
                   "KVM internal error on vCPU %u: %s (suberror %u) at RIP 0x%llx%s", v->id,
                   vcpu_internal_error_name (sub), sub, (unsigned long long) vcpu_rip (v), bytes);
}

static void
vcpu_system_event (struct vcpu *v)
{
  switch (v->run->system_event.type)
    {
    case KVM_SYSTEM_EVENT_SHUTDOWN:
      vm_request_exit (v->vm, VM_EXIT_POWEROFF, "guest powered off (vCPU %u)", v->id);
      break;
    case KVM_SYSTEM_EVENT_RESET:
      vm_request_exit (v->vm, VM_EXIT_RESET, "guest requested a reset (vCPU %u)", v->id);
      break;
    default:
      vm_request_exit (v->vm, VM_EXIT_ERROR, "guest system event %u on vCPU %u",
                       v->run->system_event.type, v->id);
    }
}

/* Returns false when the thread must stop. */
static bool
vcpu_handle_exit (struct vcpu *v)
{
  struct kvm_run *run = v->run;
  struct vm *vm = v->vm;

  switch (run->exit_reason)
    {
    case KVM_EXIT_IO:
      {
        uint8_t *data = (uint8_t *) run + run->io.data_offset;

        /* String I/O (rep outsb ...) arrives as count items. */
        for (uint32_t i = 0; i < run->io.count; i++)
          io_bus_access (&vm->pio, run->io.port, data + i * run->io.size, run->io.size,
                         run->io.direction == KVM_EXIT_IO_OUT);
        return true;
      }
    case KVM_EXIT_MMIO:
      io_bus_access (&vm->mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
                     run->mmio.is_write);
      return true;
    case KVM_EXIT_INTR:
    case KVM_EXIT_IRQ_WINDOW_OPEN:
      return true;
    case KVM_EXIT_HLT:
      /* Only without an in-kernel LAPIC, which hull always has. */
      vm_request_exit (vm, VM_EXIT_POWEROFF, "vCPU %u halted", v->id);
      return false;
    case KVM_EXIT_SHUTDOWN:
      vm_request_exit (vm, VM_EXIT_TRIPLE_FAULT, "guest triple fault on vCPU %u at RIP 0x%llx",
                       v->id, (unsigned long long) vcpu_rip (v));
      return false;
    case KVM_EXIT_SYSTEM_EVENT:
      vcpu_system_event (v);
      return false;
    case KVM_EXIT_FAIL_ENTRY:
      vm_request_exit (vm, VM_EXIT_ERROR, "KVM could not enter vCPU %u: hardware reason 0x%llx",
                       v->id,
                       (unsigned long long) run->fail_entry.hardware_entry_failure_reason);
      return false;
    case KVM_EXIT_INTERNAL_ERROR:
      vcpu_internal_error (v);
      return false;
    default:
      vm_request_exit (vm, VM_EXIT_ERROR, "unhandled KVM exit reason %u on vCPU %u",
                       run->exit_reason, v->id);
      return false;
    }
}

/* Consume pending kicks (they stay pending once KVM_RUN restores the
 * mask) and answer a halt probe if one was asked for. */
static void
vcpu_after_kick (struct vcpu *v)
{
  struct timespec zero = { 0, 0 };
  struct kvm_mp_state mp;
  struct kvm_regs regs;
  sigset_t set;
  bool halted;

  sigemptyset (&set);
  sigaddset (&set, VCPU_KICK_SIGNAL);
  while (sigtimedwait (&set, NULL, &zero) == VCPU_KICK_SIGNAL)
    ;
  pthread_mutex_lock (&v->probe_lock);
  if (v->probe_done != v->probe_req)
    {
      /* Stopped for good: HLT with interrupts off, or never started (an
       * AP still waiting for INIT/SIPI, which no halted CPU can send). */
      halted = false;
      if (ioctl (v->fd, KVM_GET_MP_STATE, &mp) == 0)
        halted = mp.mp_state == KVM_MP_STATE_UNINITIALIZED
                 || mp.mp_state == KVM_MP_STATE_INIT_RECEIVED
                 || (mp.mp_state == KVM_MP_STATE_HALTED
                     && ioctl (v->fd, KVM_GET_REGS, &regs) == 0 && !(regs.rflags & RFLAGS_IF));
      v->halted_no_irq = halted;
      v->probe_done = v->probe_req;
      pthread_cond_broadcast (&v->probe_cond);
    }
  pthread_mutex_unlock (&v->probe_lock);
}

static int
vcpu_block_kick (struct vcpu *v, hull_error_t *err)
{
  struct
  {
    struct kvm_signal_mask hdr;
    uint8_t set[8]; /* the kernel's sigset_t is 64 bits on x86-64 */
  } kmask;
  sigset_t block, during_run;
  int r;

  sigemptyset (&block);
  sigaddset (&block, VCPU_KICK_SIGNAL);
  r = pthread_sigmask (SIG_BLOCK, &block, &during_run);
  if (r != 0)
    return hull_error (err, r, "block vCPU kick signal");
  sigdelset (&during_run, VCPU_KICK_SIGNAL);
  kmask.hdr.len = 8;
  memcpy (kmask.set, &during_run, 8);
  if (ioctl (v->fd, KVM_SET_SIGNAL_MASK, &kmask) < 0)
    return hull_error (err, errno, "KVM_SET_SIGNAL_MASK on vCPU %u", v->id);
  return 0;
}

static void *
vcpu_thread (void *arg)
{
  struct vcpu *v = arg;
  hull_error_t err = NULL;

  if (vcpu_block_kick (v, &err) < 0)
    {
      vm_request_exit (v->vm, VM_EXIT_ERROR, "%s", hull_error_msg (&err));
      hull_error_free (&err);
      return NULL;
    }
  while (vm_exit_requested (v->vm) == VM_EXIT_NONE)
    {
      if (ioctl (v->fd, KVM_RUN, 0) < 0)
        {
          if (errno == EINTR || errno == EAGAIN)
            {
              vcpu_after_kick (v);
              continue;
            }
          vm_request_exit (v->vm, VM_EXIT_ERROR, "KVM_RUN on vCPU %u: %s", v->id,
                           strerror (errno));
          break;
        }
      if (!vcpu_handle_exit (v))
        break;
    }
  return NULL;
}

static int
vcpu_create_one (struct vm *vm, struct vcpu *v, unsigned id, int mmap_size, hull_error_t *err)
{
  v->vm = vm;
  v->id = id;
  v->fd = ioctl (vm->vm_fd, KVM_CREATE_VCPU, (unsigned long) id);
  if (v->fd < 0)
    return hull_error (err, errno, "KVM_CREATE_VCPU %u", id);
  v->run_size = (size_t) mmap_size;
  v->run = mmap (NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
  if (v->run == MAP_FAILED)
    {
      v->run = NULL;
      return hull_error (err, errno, "map kvm_run of vCPU %u", id);
    }
  if (cpuid_setup (v, vm->ncpus, err) < 0 || cpu_setup_common (v, err) < 0)
    return -1;
  return 0;
}

int
vcpus_create (struct vm *vm, unsigned ncpus, const struct boot_entry *entry, hull_error_t *err)
{
  int mmap_size = ioctl (vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);

  if (mmap_size < (int) sizeof (struct kvm_run))
    return hull_error (err, errno, "KVM_GET_VCPU_MMAP_SIZE");
  vm->vcpus = calloc (ncpus, sizeof (*vm->vcpus));
  if (vm->vcpus == NULL)
    return hull_error (err, ENOMEM, "allocate %u vCPUs", ncpus);
  vm->ncpus = ncpus;
  for (unsigned i = 0; i < ncpus; i++)
    {
      vm->vcpus[i].fd = -1;
      pthread_mutex_init (&vm->vcpus[i].probe_lock, NULL);
      pthread_cond_init (&vm->vcpus[i].probe_cond, NULL);
    }
  for (unsigned i = 0; i < ncpus; i++)
    if (vcpu_create_one (vm, &vm->vcpus[i], i, mmap_size, err) < 0)
      return -1;
  /* The other vCPUs wait in the in-kernel LAPIC for INIT/SIPI. */
  return cpu_setup_boot (&vm->vcpus[0], entry, err);
}

static void
vcpu_kick_noop (int sig)
{
  (void) sig;
}

int
vcpus_start (struct vm *vm, hull_error_t *err)
{
  struct sigaction sa = { .sa_handler = vcpu_kick_noop };

  /* A handler, not SIG_IGN: an ignored signal is discarded and would not
   * interrupt KVM_RUN.  No SA_RESTART, so KVM_RUN returns EINTR. */
  sigemptyset (&sa.sa_mask);
  if (sigaction (VCPU_KICK_SIGNAL, &sa, NULL) < 0)
    return hull_error (err, errno, "install vCPU kick handler");
  for (unsigned i = 0; i < vm->ncpus; i++)
    {
      int r = pthread_create (&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]);

      if (r != 0)
        {
          vm_request_exit (vm, VM_EXIT_ERROR, "cannot start vCPU thread %u", i);
          return hull_error (err, r, "start vCPU thread %u", i);
        }
      vm->vcpus[i].started = true;
    }
  return 0;
}

void
vcpus_stop (struct vm *vm)
{
  if (vm->vcpus == NULL)
    return;
  for (unsigned i = 0; i < vm->ncpus; i++)
    if (vm->vcpus[i].started)
      pthread_kill (vm->vcpus[i].thread, VCPU_KICK_SIGNAL);
  for (unsigned i = 0; i < vm->ncpus; i++)
    if (vm->vcpus[i].started)
      {
        pthread_join (vm->vcpus[i].thread, NULL);
        vm->vcpus[i].started = false;
      }
}

void
vcpus_destroy (struct vm *vm)
{
  if (vm->vcpus == NULL)
    return;
  for (unsigned i = 0; i < vm->ncpus; i++)
    {
      struct vcpu *v = &vm->vcpus[i];

      if (v->run != NULL)
        munmap (v->run, v->run_size);
      if (v->fd >= 0)
        close (v->fd);
      pthread_mutex_destroy (&v->probe_lock);
      pthread_cond_destroy (&v->probe_cond);
    }
  free (vm->vcpus);
  vm->vcpus = NULL;
}

/* Ask vCPU v for its state; false if it did not answer within 200 ms. */
static bool
vcpu_probe (struct vcpu *v, bool *halted)
{
  struct timespec deadline;
  unsigned want;
  bool answered = true;

  clock_gettime (CLOCK_REALTIME, &deadline);
  deadline.tv_nsec += 200 * 1000 * 1000;
  if (deadline.tv_nsec >= 1000000000L)
    {
      deadline.tv_sec++;
      deadline.tv_nsec -= 1000000000L;
    }
  pthread_mutex_lock (&v->probe_lock);
  want = ++v->probe_req;
  pthread_mutex_unlock (&v->probe_lock);
  pthread_kill (v->thread, VCPU_KICK_SIGNAL);
  pthread_mutex_lock (&v->probe_lock);
  while (v->probe_done != want && answered)
    answered = pthread_cond_timedwait (&v->probe_cond, &v->probe_lock, &deadline) == 0;
  *halted = v->probe_done == want && v->halted_no_irq;
  pthread_mutex_unlock (&v->probe_lock);
  return answered;
}

bool
vcpus_all_halted (struct vm *vm)
{
  if (vm->vcpus == NULL)
    return false;
  for (unsigned i = 0; i < vm->ncpus; i++)
    {
      bool halted = false;

      if (!vm->vcpus[i].started || !vcpu_probe (&vm->vcpus[i], &halted) || !halted)
        return false;
    }
  return true;
}
