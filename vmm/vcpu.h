/* vCPUs: one thread each running KVM_RUN and dispatching port I/O and MMIO
 * exits to the VM's buses.  Threads are stopped with a signal "kick"
 * (VCPU_KICK_SIGNAL), which is only unblocked while inside KVM_RUN.  A
 * real-time signal, so that a runtime forwarding SIGUSR1/2 to a container
 * never collides with it; nothing else in the process may ignore it. */
#ifndef HULL_VMM_VCPU_H
#define HULL_VMM_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "runtime/error.h"
#include "vmm/vm.h"

#define VCPU_KICK_SIGNAL (SIGRTMIN + 3)

struct vcpu
{
  struct vm *vm;
  unsigned id;               /* also its APIC id */
  int fd;
  struct kvm_run *run;
  size_t run_size;
  pthread_t thread;
  bool started;

  /* Halt probe: the main thread bumps probe_req and kicks; the vCPU thread
   * answers with its state and sets probe_done = probe_req. */
  pthread_mutex_t probe_lock;
  pthread_cond_t probe_cond;
  unsigned probe_req, probe_done;
  bool halted_no_irq;        /* last answer: HLT with RFLAGS.IF clear, or
                              * an AP never started */
};

/* How the boot vCPU starts: Linux's 64-bit boot protocol (long mode, RSI =
 * zero page) or PVH (32-bit protected mode, paging off, EBX = start info). */
enum boot_mode
{
  BOOT_LINUX_64,
  BOOT_PVH_32,
};

struct boot_entry
{
  enum boot_mode mode;
  uint64_t entry;            /* guest physical entry point */
  uint64_t param;            /* zero page (RSI) or hvm_start_info (EBX) */
};

/* Create vm->ncpus vCPUs with CPUID, MSRs and FPU state; vCPU 0 gets the
 * boot registers for entry, the others wait for INIT/SIPI. */
int vcpus_create (struct vm *vm, unsigned ncpus, const struct boot_entry *entry,
                  hull_error_t *err);
int vcpus_start (struct vm *vm, hull_error_t *err);
/* Kick every vCPU out of KVM_RUN and join the threads (the VM must have an
 * exit reason set first, or they go straight back in). */
void vcpus_stop (struct vm *vm);
void vcpus_destroy (struct vm *vm);
/* True when every vCPU sits in HLT with interrupts disabled (or, for an
 * AP, was never started): with the
 * in-kernel irqchip that state never exits to us, so the VMM has to look.
 * Costs one kick per vCPU. */
bool vcpus_all_halted (struct vm *vm);

/* cpuid.c: CPUID for vCPU id of ncpus (topology, APIC ids, KVM leaves). */
int cpuid_setup (struct vcpu *v, unsigned ncpus, hull_error_t *err);
/* The family/model/stepping signature and feature bits (leaf 1 EAX/EDX)
 * the vCPUs report, for the MP table's processor entries. */
int cpuid_signature (int kvm_fd, uint32_t *signature, uint32_t *features, hull_error_t *err);

/* cpu_setup.c: entry MSRs, FPU and LAPIC LINT pins for every vCPU, and the
 * boot registers (segments, paging, RIP/RSI/RBX) for the boot vCPU. */
int cpu_setup_common (struct vcpu *v, hull_error_t *err);
int cpu_setup_boot (struct vcpu *v, const struct boot_entry *entry, hull_error_t *err);

#endif
