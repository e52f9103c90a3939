/* CPUID for each vCPU: what KVM supports, with the per-CPU parts filled
 * in.  Linux derives its topology from leaf 1 (initial APIC id, logical
 * count), leaves 0xB/0x1F (x2APIC topology), leaf 4 (Intel cores per
 * package) and 0x80000008 (AMD core count), and finds kvm-clock through
 * the hypervisor leaves 0x40000000/0x40000001.  The topology presented is
 * one socket with ncpus single-threaded cores, APIC id = vCPU index. */
#include <errno.h>
#include <linux/kvm.h>
#include <asm/kvm_para.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "runtime/cleanup.h"
#include "vmm/vcpu.h"

#define CPUID_MAX_ENTRIES 512
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_HTT (1u << 28)

static struct kvm_cpuid2 *
cpuid_supported (int kvm_fd, hull_error_t *err)
{
  for (unsigned n = 64; n <= CPUID_MAX_ENTRIES; n *= 2)
    {
      struct kvm_cpuid2 *c = calloc (1, sizeof (*c) + n * sizeof (c->entries[0]));

      if (c == NULL)
        {
          hull_error (err, ENOMEM, "allocate CPUID table");
          return NULL;
        }
      c->nent = n;
      if (ioctl (kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
        return c;
      free (c);
      if (errno != E2BIG)
        {
          hull_error (err, errno, "KVM_GET_SUPPORTED_CPUID");
          return NULL;
        }
    }
  hull_error (err, E2BIG, "KVM_GET_SUPPORTED_CPUID: more than %d entries", CPUID_MAX_ENTRIES);
  return NULL;
}

static struct kvm_cpuid_entry2 *
cpuid_find (struct kvm_cpuid2 *c, uint32_t fn, uint32_t index)
{
  for (uint32_t i = 0; i < c->nent; i++)
    if (c->entries[i].function == fn && c->entries[i].index == index)
      return &c->entries[i];
  return NULL;
}

/* Drop every entry of leaf fn. */
static void
cpuid_remove (struct kvm_cpuid2 *c, uint32_t fn)
{
  uint32_t j = 0;

  for (uint32_t i = 0; i < c->nent; i++)
    if (c->entries[i].function != fn)
      c->entries[j++] = c->entries[i];
  c->nent = j;
}

/* The table was allocated for at least nent + 8 entries (see below). */
static struct kvm_cpuid_entry2 *
cpuid_append (struct kvm_cpuid2 *c, uint32_t fn, uint32_t index, uint32_t flags)
{
  struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];

  memset (e, 0, sizeof (*e));
  e->function = fn;
  e->index = index;
  e->flags = flags;
  return e;
}

static unsigned
cpuid_shift_for (unsigned n)
{
  unsigned s = 0;

  while ((1u << s) < n)
    s++;
  return s;
}

/* Leaves 0xB and 0x1F: level 0 SMT (1 thread), level 1 core (ncpus). */
static void
cpuid_set_x2apic_topology (struct kvm_cpuid2 *c, uint32_t fn, unsigned id, unsigned ncpus)
{
  struct kvm_cpuid_entry2 *e;

  cpuid_remove (c, fn);
  e = cpuid_append (c, fn, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
  e->eax = 0;
  e->ebx = 1;
  e->ecx = 0 | (1u << 8);
  e->edx = id;
  e = cpuid_append (c, fn, 1, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
  e->eax = cpuid_shift_for (ncpus);
  e->ebx = ncpus;
  e->ecx = 1 | (2u << 8);
  e->edx = id;
  e = cpuid_append (c, fn, 2, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
  e->ecx = 2;
  e->edx = id;
}

static bool
cpuid_is_amd (struct kvm_cpuid2 *c)
{
  struct kvm_cpuid_entry2 *e = cpuid_find (c, 0, 0);

  /* "AuthenticAMD" / "HygonGenuine": EBX is "Auth" / "Hygo". */
  return e != NULL && (e->ebx == 0x68747541 || e->ebx == 0x6f677948);
}

static void
cpuid_set_hypervisor (struct kvm_cpuid2 *c)
{
  struct kvm_cpuid_entry2 *e = cpuid_find (c, KVM_CPUID_SIGNATURE, 0);
  uint32_t features = (1u << KVM_FEATURE_CLOCKSOURCE) | (1u << KVM_FEATURE_CLOCKSOURCE2)
                      | (1u << KVM_FEATURE_CLOCKSOURCE_STABLE_BIT);

  if (e == NULL)
    e = cpuid_append (c, KVM_CPUID_SIGNATURE, 0, 0);
  e->eax = KVM_CPUID_FEATURES; /* highest hypervisor leaf */
  memcpy (&e->ebx, "KVMK", 4);
  memcpy (&e->ecx, "VMKV", 4);
  memcpy (&e->edx, "M\0\0\0", 4);
  /* Keep whatever KVM offers (kvm-clock, PV EOI, ...); make sure the
   * clock bits are there even if an older KVM omitted the leaf. */
  e = cpuid_find (c, KVM_CPUID_FEATURES, 0);
  if (e == NULL)
    {
      e = cpuid_append (c, KVM_CPUID_FEATURES, 0, 0);
      e->eax = features;
    }
}

static void
cpuid_adjust (struct kvm_cpuid2 *c, unsigned id, unsigned ncpus)
{
  struct kvm_cpuid_entry2 *e;
  unsigned logical = ncpus > 255 ? 255 : ncpus;
  uint32_t max_basic = 0;

  if ((e = cpuid_find (c, 0, 0)) != NULL)
    max_basic = e->eax;
  if ((e = cpuid_find (c, 1, 0)) != NULL)
    {
      e->ebx = (e->ebx & 0xffffu) | (logical << 16) | (id << 24);
      e->ecx |= CPUID_1_ECX_HYPERVISOR;
      e->edx |= CPUID_1_EDX_HTT;
    }
  for (uint32_t i = 0; i < c->nent; i++)
    if (c->entries[i].function == 4)
      {
        uint32_t cores = ncpus > 64 ? 64 : ncpus;

        /* EAX[31:26] cores per package - 1; EAX[25:14] sharing - 1 = 0. */
        c->entries[i].eax = (c->entries[i].eax & 0x3fffu) | ((cores - 1) << 26);
      }
  if (max_basic >= 0xB)
    cpuid_set_x2apic_topology (c, 0xB, id, ncpus);
  if (max_basic >= 0x1F)
    cpuid_set_x2apic_topology (c, 0x1F, id, ncpus);
  if (cpuid_is_amd (c) && (e = cpuid_find (c, 0x80000008, 0)) != NULL)
    e->ecx = (e->ecx & ~0xf0ffu) | ((ncpus - 1) & 0xff) | (cpuid_shift_for (ncpus) << 12);
  cpuid_set_hypervisor (c);
}

int
cpuid_setup (struct vcpu *v, unsigned ncpus, hull_error_t *err)
{
  cleanup_free struct kvm_cpuid2 *sup = cpuid_supported (v->vm->kvm_fd, err);
  cleanup_free struct kvm_cpuid2 *c = NULL;

  if (sup == NULL)
    return -1;
  /* Room for the entries cpuid_adjust may append (2 x 3 topology + 2). */
  c = calloc (1, sizeof (*c) + (sup->nent + 8) * sizeof (c->entries[0]));
  if (c == NULL)
    return hull_error (err, ENOMEM, "allocate CPUID table");
  c->nent = sup->nent;
  memcpy (c->entries, sup->entries, sup->nent * sizeof (c->entries[0]));
  cpuid_adjust (c, v->id, ncpus);
  if (ioctl (v->fd, KVM_SET_CPUID2, c) < 0)
    return hull_error (err, errno, "KVM_SET_CPUID2 on vCPU %u", v->id);
  return 0;
}

int
cpuid_signature (int kvm_fd, uint32_t *signature, uint32_t *features, hull_error_t *err)
{
  cleanup_free struct kvm_cpuid2 *sup = cpuid_supported (kvm_fd, err);
  struct kvm_cpuid_entry2 *e;

  if (sup == NULL)
    return -1;
  e = cpuid_find (sup, 1, 0);
  *signature = e ? e->eax : 0x600;
  *features = e ? e->edx : 0x201; /* FPU | APIC */
  return 0;
}
