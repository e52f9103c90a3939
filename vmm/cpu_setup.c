/* Architectural state at the first instruction.  Every vCPU gets the MSRs
 * and FPU state firmware would leave behind; the boot vCPU additionally
 * gets the mode its entry point expects:
 *  - Linux 64-bit boot protocol: long mode, identity-mapped paging for the
 *    low 4 GiB, CS = __BOOT_CS (0x10) and data = __BOOT_DS (0x18) flat,
 *    RSI = zero page.
 *  - PVH: flat 32-bit protected mode without paging, EBX = start info. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/layout.h"
#include "vmm/vcpu.h"

#define MSR_IA32_TSC 0x10
#define MSR_IA32_SYSENTER_CS 0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE 0x1a0
#define MSR_MTRR_DEF_TYPE 0x2ff
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SYSCALL_MASK 0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102

#define MISC_ENABLE_FAST_STRING 0x1ULL
#define MTRR_DEF_ENABLE (1ULL << 11)
#define MTRR_TYPE_WRBACK 6ULL

#define CR0_PE 0x1ULL
#define CR0_ET 0x10ULL
#define CR0_PG 0x80000000ULL
#define CR4_PAE 0x20ULL
#define EFER_LME 0x100ULL
#define EFER_LMA 0x400ULL

#define SEL_CODE32 0x08
#define SEL_CODE64 0x10
#define SEL_DATA 0x18

#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXTINT 0x7

static int
cpu_set_msrs (struct vcpu *v, hull_error_t *err)
{
  static const struct
  {
    uint32_t index;
    uint64_t data;
  } init[] = {
    { MSR_IA32_SYSENTER_CS, 0 },
    { MSR_IA32_SYSENTER_ESP, 0 },
    { MSR_IA32_SYSENTER_EIP, 0 },
    { MSR_STAR, 0 },
    { MSR_CSTAR, 0 },
    { MSR_KERNEL_GS_BASE, 0 },
    { MSR_SYSCALL_MASK, 0 },
    { MSR_LSTAR, 0 },
    { MSR_IA32_TSC, 0 },
    /* Linux trusts firmware to have enabled fast string operations. */
    { MSR_IA32_MISC_ENABLE, MISC_ENABLE_FAST_STRING },
    /* MTRRs enabled, everything write-back: without it Linux maps all
     * memory uncached ("MTRRs disabled" + PAT fallback). */
    { MSR_MTRR_DEF_TYPE, MTRR_DEF_ENABLE | MTRR_TYPE_WRBACK },
  };
  const unsigned n = sizeof (init) / sizeof (init[0]);
  struct kvm_msrs *msrs = calloc (1, sizeof (*msrs) + n * sizeof (msrs->entries[0]));
  int r;

  if (msrs == NULL)
    return hull_error (err, ENOMEM, "allocate MSR list");
  msrs->nmsrs = n;
  for (unsigned i = 0; i < n; i++)
    {
      msrs->entries[i].index = init[i].index;
      msrs->entries[i].data = init[i].data;
    }
  r = ioctl (v->fd, KVM_SET_MSRS, msrs);
  free (msrs);
  if (r < 0)
    return hull_error (err, errno, "KVM_SET_MSRS on vCPU %u", v->id);
  if ((unsigned) r != n)
    return hull_error (err, 0, "KVM_SET_MSRS on vCPU %u: MSR 0x%x rejected", v->id,
                       init[r].index);
  return 0;
}

static int
cpu_set_fpu (struct vcpu *v, hull_error_t *err)
{
  struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };

  if (ioctl (v->fd, KVM_SET_FPU, &fpu) < 0)
    return hull_error (err, errno, "KVM_SET_FPU on vCPU %u", v->id);
  return 0;
}

static void
lapic_set_mode (struct kvm_lapic_state *s, unsigned reg, uint32_t mode)
{
  uint32_t v;

  memcpy (&v, &s->regs[reg], 4);
  v = (v & ~0x700u) | (mode << 8);
  memcpy (&s->regs[reg], &v, 4);
}

/* LINT0 = ExtINT (the 8259 behind it), LINT1 = NMI: the virtual-wire
 * setup an MP BIOS leaves and that the MP table's local entries describe. */
static int
cpu_set_lint (struct vcpu *v, hull_error_t *err)
{
  struct kvm_lapic_state s;

  if (ioctl (v->fd, KVM_GET_LAPIC, &s) < 0)
    return hull_error (err, errno, "KVM_GET_LAPIC on vCPU %u", v->id);
  lapic_set_mode (&s, APIC_LVT_LINT0, APIC_MODE_EXTINT);
  lapic_set_mode (&s, APIC_LVT_LINT1, APIC_MODE_NMI);
  if (ioctl (v->fd, KVM_SET_LAPIC, &s) < 0)
    return hull_error (err, errno, "KVM_SET_LAPIC on vCPU %u", v->id);
  return 0;
}

int
cpu_setup_common (struct vcpu *v, hull_error_t *err)
{
  if (cpu_set_msrs (v, err) < 0 || cpu_set_fpu (v, err) < 0 || cpu_set_lint (v, err) < 0)
    return -1;
  return 0;
}

/* GDT: null, 32-bit code, 64-bit code, data (all flat, ring 0). */
static int
cpu_write_gdt (struct guest_mem *mem, hull_error_t *err)
{
  static const uint64_t gdt[4] = {
    0,
    0x00cf9b000000ffffULL, /* 0x08: code, 32-bit, 4 GiB */
    0x00af9b000000ffffULL, /* 0x10: code, 64-bit */
    0x00cf93000000ffffULL, /* 0x18: data, 4 GiB */
  };
  void *p = guest_mem_ptr (mem, LAYOUT_BOOT_GDT, sizeof (gdt));

  if (p == NULL)
    return hull_error (err, ERANGE, "boot GDT at 0x%llx is outside RAM",
                       (unsigned long long) LAYOUT_BOOT_GDT);
  memcpy (p, gdt, sizeof (gdt));
  return 0;
}

/* PML4 -> one PDPT -> four PDs of 2 MiB pages: identity map of 0-4 GiB,
 * which covers the kernel, zero page, command line and initrd (the
 * loaders keep all of them below 4 GiB). */
static int
cpu_write_page_tables (struct guest_mem *mem, hull_error_t *err)
{
  uint64_t *t = guest_mem_ptr (mem, LAYOUT_BOOT_PML4, LAYOUT_BOOT_PAGE_TABLES_END - LAYOUT_BOOT_PML4);
  uint64_t *pml4, *pdpt, *pd;

  if (t == NULL)
    return hull_error (err, ERANGE, "boot page tables are outside RAM");
  memset (t, 0, LAYOUT_BOOT_PAGE_TABLES_END - LAYOUT_BOOT_PML4);
  pml4 = t;
  pdpt = t + 512;
  pd = t + 1024;
  pml4[0] = (LAYOUT_BOOT_PML4 + 0x1000) | 0x3; /* present, writable */
  for (uint64_t i = 0; i < 4; i++)
    pdpt[i] = (LAYOUT_BOOT_PML4 + 0x2000 + i * 0x1000) | 0x3;
  for (uint64_t i = 0; i < 4 * 512; i++)
    pd[i] = (i << 21) | 0x83; /* present, writable, 2 MiB page */
  return 0;
}

static struct kvm_segment
cpu_flat_segment (uint16_t selector, uint8_t type, bool code64)
{
  return (struct kvm_segment){
    .base = 0,
    .limit = 0xffffffff,
    .selector = selector,
    .type = type,
    .present = 1,
    .s = 1,
    .db = code64 ? 0 : 1,
    .l = code64 ? 1 : 0,
    .g = 1,
  };
}

int
cpu_setup_boot (struct vcpu *v, const struct boot_entry *entry, hull_error_t *err)
{
  bool lm = entry->mode == BOOT_LINUX_64;
  struct kvm_sregs sregs;
  struct kvm_regs regs = { .rflags = 0x2, .rip = entry->entry };
  struct kvm_segment data = cpu_flat_segment (SEL_DATA, 0x3, false);

  if (cpu_write_gdt (&v->vm->mem, err) < 0 || (lm && cpu_write_page_tables (&v->vm->mem, err) < 0))
    return -1;
  if (ioctl (v->fd, KVM_GET_SREGS, &sregs) < 0)
    return hull_error (err, errno, "KVM_GET_SREGS on vCPU %u", v->id);
  /* TR and LDTR keep KVM's reset values (busy TSS, LDT), which are valid
   * for both modes. */
  sregs.gdt.base = LAYOUT_BOOT_GDT;
  sregs.gdt.limit = 4 * 8 - 1;
  sregs.idt.base = 0;
  sregs.idt.limit = 0;
  sregs.cs = lm ? cpu_flat_segment (SEL_CODE64, 0xb, true) : cpu_flat_segment (SEL_CODE32, 0xb, false);
  sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
  if (lm)
    {
      sregs.cr3 = LAYOUT_BOOT_PML4;
      sregs.cr4 = CR4_PAE;
      sregs.cr0 = CR0_PE | CR0_ET | CR0_PG;
      sregs.efer = EFER_LME | EFER_LMA;
      regs.rsi = entry->param;
    }
  else
    {
      sregs.cr3 = 0;
      sregs.cr4 = 0;
      sregs.cr0 = CR0_PE | CR0_ET;
      sregs.efer = 0;
      regs.rbx = entry->param;
    }
  if (ioctl (v->fd, KVM_SET_SREGS, &sregs) < 0)
    return hull_error (err, errno, "KVM_SET_SREGS on vCPU %u", v->id);
  if (ioctl (v->fd, KVM_SET_REGS, &regs) < 0)
    return hull_error (err, errno, "KVM_SET_REGS on vCPU %u", v->id);
  return 0;
}
