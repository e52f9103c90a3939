/* How big a container's VM is: vCPUs and guest RAM from the OCI config.
 *
 * Precedence, for each of the two:
 *   1. annotation io.hull.vcpus / io.hull.memory_mib (validated; a bad value
 *      is an error naming the annotation, never silently ignored),
 *   2. for a pod's VM (runtime/pod.h), the CRI sandbox annotations
 *      io.kubernetes.cri.sandbox-cpu-quota / -cpu-period (vCPUs =
 *      ceil(quota / period)) and io.kubernetes.cri.sandbox-memory (bytes,
 *      taken like memory.limit below: the pod's cgroup holds the VM);
 *      0 or negative means no limit,
 *   3. linux.resources:
 *        vCPUs  = ceil(cpu.quota / cpu.period)  (period absent: 100000 us,
 *                 the kernel's CFS default; quota <= 0: unlimited), and/or
 *                 the number of CPUs in cpu.cpus ("0-3,7"); with both, the
 *                 smaller, since that is all the container can ever use;
 *        memory = memory.limit rounded up to MiB, minus the VM overhead
 *                 (see below),
 *   4. the defaults passed in (hull_settings default_vcpus /
 *      default_memory_mib).
 * vCPUs derived from resources are clamped to [1, max_vcpus] (asking for
 * more vCPUs than the host has only costs threads); an annotation beyond
 * max_vcpus is an error.
 *
 * VM overhead: the supervisor (VMM, virtiofsd) runs inside the container's
 * memory cgroup, so the cgroup limit must hold guest RAM plus what the host
 * side uses.  Guest RAM from memory.limit is therefore limit - overhead_mib,
 * but never below RESOURCES_MIN_MEMORY_MIB, the smallest guest that boots
 * hull's kernel and agent comfortably.  When that floor wins, the guest may
 * outgrow the cgroup (memory_over_limit tells the caller, to warn).
 * Annotations are taken as the guest size as they stand (>= the floor). */
#ifndef HULL_RESOURCES_MAP_H
#define HULL_RESOURCES_MAP_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/error.h"
#include "runtime/oci_config.h"

#define RESOURCES_MIN_MEMORY_MIB 128
#define RESOURCES_DEFAULT_CFS_PERIOD 100000
#define RESOURCES_ANNOTATION_VCPUS "io.hull.vcpus"
#define RESOURCES_ANNOTATION_MEMORY "io.hull.memory_mib"
/* Highest CPU number cpuset lists may name (Linux's NR_CPUS maximum). */
#define RESOURCES_CPUSET_MAX_CPU 8191

struct resources_defaults
{
  uint32_t vcpus;          /* settings.default_vcpus */
  uint64_t memory_mib;     /* settings.default_memory_mib */
  uint32_t max_vcpus;      /* e.g. the host's online CPUs, or KVM's limit */
  uint64_t max_memory_mib; /* refuse bigger annotations */
  uint64_t overhead_mib;   /* host-side memory charged to the same cgroup */
};

/* Where a number came from, for logs: "annotation io.hull.vcpus",
 * "linux.resources.cpu", "linux.resources.memory.limit", "default". */
struct vm_size
{
  uint32_t vcpus;
  uint64_t memory_mib;
  const char *vcpus_from;
  const char *memory_from;
  bool memory_over_limit; /* guest RAM + overhead > memory.limit */
};

/* Pure: reads cfg (annotations, linux.resources; either may be absent). */
int resources_map (const struct oci_config *cfg, const struct resources_defaults *d,
                   struct vm_size *out, hull_error_t *err);

/* ---- the VM backend's use (sandbox_vm_boot.c, sandbox_vm.c) ---- */

/* Host memory the supervisor (VMM threads, virtiofsd) uses besides guest
 * RAM, charged to the same host cgroup (runtime/cgroup_host.h). */
#define RESOURCES_VM_OVERHEAD_MIB 32
/* The VMM's own limit on vCPUs (MP table, ACPI MADT). */
#define RESOURCES_VMM_MAX_VCPUS 64
#define RESOURCES_MAX_MEMORY_MIB 1048576

struct hull_log;

/* resources_map with this host's limits (vCPUs up to the host's online
 * CPUs and the VMM's limit) and the settings' defaults.  With a log, says
 * where the size came from and warns when the memory floor is above
 * linux.resources.memory.limit (the VM may then outgrow the cgroup). */
int resources_vm_size (const struct oci_config *cfg, uint32_t default_vcpus,
                       uint64_t default_memory_mib, struct hull_log *log, struct vm_size *out,
                       hull_error_t *err);

/* `hull update` on a running microVM (sizes from resources_vm_size of the
 * container's config).  Live: pids.limit, cpu.shares/quota/period,
 * memory.limit/swap inside the guest; hugepage limits are met trivially
 * (the guest has no huge pages).  Refused, naming the field: memory.limit
 * above what the VM holds (guest RAM + RESOURCES_VM_OVERHEAD_MIB: RAM
 * cannot grow live), a cpu quota or cpu set asking for more CPUs than the
 * VM's vCPUs (vCPUs cannot be added live), blockIO, devices, network,
 * rdma and unified (not applied by hull at all). */
int resources_update_check (const struct vm_size *vm, const struct oci_linux_resources *r,
                            hull_error_t *err);
/* The part of r the guest applies, as a linux.resources JSON object. */
int resources_live_json (const struct oci_linux_resources *r, char **out, hull_error_t *err);

/* Number of distinct CPUs in a cpuset list ("0-3,7", "1,3-4"); an empty
 * string is 0 (no restriction).  Errors name the list. */
int resources_cpuset_count (const char *list, unsigned *count, hull_error_t *err);

#endif
