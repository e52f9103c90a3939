/* VM sizing policy; see resources_map.h. */
#include "runtime/resources_map.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/json_gen.h"
#include "runtime/log.h"
#include "runtime/pod.h"

#define MIB (1024ULL * 1024ULL)

/* Strict decimal: digits only, no sign or spaces, fits uint64. */
static bool
parse_u64 (const char *s, uint64_t *out)
{
  char *end;

  if (s == NULL || !isdigit ((unsigned char) s[0]))
    return false;
  errno = 0;
  *out = strtoull (s, &end, 10);
  return errno == 0 && *end == '\0';
}

/* A CRI sandbox annotation (runtime/pod.h): a decimal integer, possibly
 * negative (quota -1: unlimited); *out = 0 for absent, 0 or negative. */
static int
cri_annotation (const struct oci_config *cfg, const char *key, uint64_t *out, hull_error_t *err)
{
  const char *v = oci_map_get (&cfg->annotations, key);

  *out = 0;
  if (v == NULL)
    return 0;
  if (v[0] == '-' && parse_u64 (v + 1, out))
    {
      *out = 0;
      return 0;
    }
  if (!parse_u64 (v, out))
    return hull_error (err, EINVAL, "annotation %s: `%s` is not a whole number", key, v);
  return 0;
}

/* ---- cpuset lists ---- */

static const char *
cpuset_number (const char *p, unsigned *out)
{
  unsigned long v = 0;

  if (!isdigit ((unsigned char) *p))
    return NULL;
  for (; isdigit ((unsigned char) *p); p++)
    {
      v = v * 10 + (unsigned) (*p - '0');
      if (v > RESOURCES_CPUSET_MAX_CPU)
        return NULL;
    }
  *out = (unsigned) v;
  return p;
}

int
resources_cpuset_count (const char *list, unsigned *count, hull_error_t *err)
{
  uint8_t seen[(RESOURCES_CPUSET_MAX_CPU + 8) / 8] = { 0 };
  const char *p = list;
  unsigned n = 0;

  *count = 0;
  if (*p == '\0')
    return 0;
  for (;;)
    {
      unsigned lo, hi;

      p = cpuset_number (p, &lo);
      if (p == NULL)
        goto bad;
      hi = lo;
      if (*p == '-' && ((p = cpuset_number (p + 1, &hi)) == NULL || hi < lo))
        goto bad;
      for (unsigned c = lo; c <= hi; c++)
        if (!(seen[c / 8] & (1u << (c % 8))))
          {
            seen[c / 8] |= 1u << (c % 8);
            n++;
          }
      if (*p == '\0')
        break;
      if (*p++ != ',')
        goto bad;
    }
  *count = n;
  return 0;

bad:
  return hull_error (err, EINVAL, "cpu list `%s`: expected comma-separated CPU numbers or "
                                  "ranges (\"0-3,7\") with CPUs up to %u",
                     list, RESOURCES_CPUSET_MAX_CPU);
}

/* ---- vCPUs ---- */

static int
vcpus_from_annotation (const char *v, const struct resources_defaults *d, uint32_t *out,
                       hull_error_t *err)
{
  uint64_t n;

  if (!parse_u64 (v, &n) || n < 1 || n > d->max_vcpus)
    return hull_error (err, EINVAL, "annotation %s: `%s` is not a whole number from 1 to %u",
                       RESOURCES_ANNOTATION_VCPUS, v, d->max_vcpus);
  *out = (uint32_t) n;
  return 0;
}

/* 0 when cpu says nothing about parallelism. */
static int
vcpus_from_cpu (const struct oci_cpu *cpu, uint64_t *out, hull_error_t *err)
{
  uint64_t from_quota = 0;
  unsigned from_set = 0;

  *out = 0;
  if (cpu == NULL)
    return 0;
  if (cpu->has_quota && cpu->quota > 0)
    {
      uint64_t period = cpu->has_period && cpu->period > 0 ? cpu->period
                                                           : RESOURCES_DEFAULT_CFS_PERIOD;
      from_quota = ((uint64_t) cpu->quota + period - 1) / period;
    }
  if (cpu->cpus != NULL && resources_cpuset_count (cpu->cpus, &from_set, err) < 0)
    return hull_error_prefix (err, "linux.resources.cpu.cpus");
  if (from_quota && from_set)
    *out = from_quota < from_set ? from_quota : from_set;
  else
    *out = from_quota ? from_quota : from_set;
  return 0;
}

static int
map_vcpus (const struct oci_config *cfg, const struct resources_defaults *d,
           const struct oci_linux_resources *res, struct vm_size *out, hull_error_t *err)
{
  const char *ann = oci_map_get (&cfg->annotations, RESOURCES_ANNOTATION_VCPUS);
  uint64_t n, quota, period;

  if (ann != NULL)
    {
      out->vcpus_from = "annotation " RESOURCES_ANNOTATION_VCPUS;
      return vcpus_from_annotation (ann, d, &out->vcpus, err);
    }
  /* A pod's VM: the pod's CPU limit as containerd announces it. */
  if (cri_annotation (cfg, POD_ANN_CPU_QUOTA, &quota, err) < 0
      || cri_annotation (cfg, POD_ANN_CPU_PERIOD, &period, err) < 0)
    return -1;
  if (quota > 0)
    {
      if (period == 0)
        period = RESOURCES_DEFAULT_CFS_PERIOD;
      n = quota / period + (quota % period != 0);
      out->vcpus_from = "annotation " POD_ANN_CPU_QUOTA;
    }
  else
    {
      if (vcpus_from_cpu (res ? res->cpu : NULL, &n, err) < 0)
        return -1;
      out->vcpus_from = "linux.resources.cpu";
      if (n == 0)
        {
          n = d->vcpus;
          out->vcpus_from = "default";
        }
    }
  if (n > d->max_vcpus)
    n = d->max_vcpus;
  out->vcpus = n < 1 ? 1 : (uint32_t) n;
  return 0;
}

/* ---- memory ---- */

static int
map_memory (const struct oci_config *cfg, const struct resources_defaults *d,
            const struct oci_linux_resources *res, struct vm_size *out, hull_error_t *err)
{
  const char *ann = oci_map_get (&cfg->annotations, RESOURCES_ANNOTATION_MEMORY);
  const struct oci_memory *mem = res ? res->memory : NULL;
  uint64_t mib, pod_bytes, limit = 0;
  const char *from = "linux.resources.memory.limit";

  out->memory_over_limit = false;
  if (ann != NULL)
    {
      out->memory_from = "annotation " RESOURCES_ANNOTATION_MEMORY;
      if (!parse_u64 (ann, &mib) || mib < RESOURCES_MIN_MEMORY_MIB || mib > d->max_memory_mib)
        return hull_error (err, EINVAL,
                           "annotation %s: `%s` is not a whole number of MiB from %u to %llu",
                           RESOURCES_ANNOTATION_MEMORY, ann, RESOURCES_MIN_MEMORY_MIB,
                           (unsigned long long) d->max_memory_mib);
      out->memory_mib = mib;
      return 0;
    }
  /* A pod's VM: the pod's memory limit (the pod cgroup holds the VM). */
  if (cri_annotation (cfg, POD_ANN_MEMORY, &pod_bytes, err) < 0)
    return -1;
  if (pod_bytes > 0)
    {
      limit = pod_bytes;
      from = "annotation " POD_ANN_MEMORY;
    }
  else if (mem != NULL && mem->has_limit && mem->limit > 0)
    limit = (uint64_t) mem->limit;
  if (limit > 0)
    {
      uint64_t limit_mib = limit / MIB + (limit % MIB != 0);
      out->memory_from = from;
      mib = limit_mib > d->overhead_mib ? limit_mib - d->overhead_mib : 0;
      if (mib < RESOURCES_MIN_MEMORY_MIB)
        {
          mib = RESOURCES_MIN_MEMORY_MIB;
          out->memory_over_limit = mib + d->overhead_mib > limit_mib;
        }
      if (mib > d->max_memory_mib)
        mib = d->max_memory_mib;
      out->memory_mib = mib;
      return 0;
    }
  out->memory_from = "default";
  out->memory_mib = d->memory_mib < RESOURCES_MIN_MEMORY_MIB ? RESOURCES_MIN_MEMORY_MIB
                                                             : d->memory_mib;
  return 0;
}

int
resources_map (const struct oci_config *cfg, const struct resources_defaults *d,
               struct vm_size *out, hull_error_t *err)
{
  const struct oci_linux_resources *res
      = cfg->linux_spec != NULL ? cfg->linux_spec->resources : NULL;
  struct vm_size s = { 0 };

  if (d->max_vcpus < 1 || d->max_memory_mib < RESOURCES_MIN_MEMORY_MIB)
    return hull_error (err, EINVAL, "VM size limits: max_vcpus %u, max_memory_mib %llu",
                       d->max_vcpus, (unsigned long long) d->max_memory_mib);
  if (map_vcpus (cfg, d, res, &s, err) < 0 || map_memory (cfg, d, res, &s, err) < 0)
    return -1;
  *out = s;
  return 0;
}

int
resources_vm_size (const struct oci_config *cfg, uint32_t default_vcpus,
                   uint64_t default_memory_mib, struct hull_log *log, struct vm_size *out,
                   hull_error_t *err)
{
  long online = sysconf (_SC_NPROCESSORS_ONLN);
  struct resources_defaults d = { .vcpus = default_vcpus,
                                  .memory_mib = default_memory_mib,
                                  .max_vcpus = RESOURCES_VMM_MAX_VCPUS,
                                  .max_memory_mib = RESOURCES_MAX_MEMORY_MIB,
                                  .overhead_mib = RESOURCES_VM_OVERHEAD_MIB };

  if (online > 0 && online < RESOURCES_VMM_MAX_VCPUS)
    d.max_vcpus = (uint32_t) online;
  if (resources_map (cfg, &d, out, err) < 0)
    return -1;
  if (log == NULL)
    return 0;
  log_debug (log, "microVM size: %u vCPUs (%s), %llu MiB (%s)", out->vcpus, out->vcpus_from,
             (unsigned long long) out->memory_mib, out->memory_from);
  if (out->memory_over_limit)
    log_warning (log,
                 "linux.resources.memory.limit is below what a microVM needs: the guest gets "
                 "%llu MiB (the floor) + ~%u MiB host overhead, more than the limit; the host "
                 "cgroup may OOM-kill the VM",
                 (unsigned long long) out->memory_mib, RESOURCES_VM_OVERHEAD_MIB);
  return 0;
}

/* ---- update ---- */

int
resources_update_check (const struct vm_size *vm, const struct oci_linux_resources *r,
                        hull_error_t *err)
{
  const struct oci_memory *m = r->memory;
  uint64_t cap = (vm->memory_mib + RESOURCES_VM_OVERHEAD_MIB) * MIB, want = 0;

  if (m != NULL && m->has_limit && m->limit > 0 && (uint64_t) m->limit > cap)
    return hull_error (err, EINVAL,
                       "linux.resources.memory.limit: %lld bytes is more than this microVM "
                       "holds (%llu MiB of guest RAM + %u MiB overhead); guest RAM cannot "
                       "grow while the container runs",
                       (long long) m->limit, (unsigned long long) vm->memory_mib,
                       RESOURCES_VM_OVERHEAD_MIB);
  if (vcpus_from_cpu (r->cpu, &want, err) < 0)
    return -1;
  if (want > vm->vcpus)
    return hull_error (err, EINVAL,
                       "linux.resources.cpu: quota/period or cpus asks for %llu CPUs but the "
                       "microVM has %u vCPUs; vCPUs cannot be added while the container runs",
                       (unsigned long long) want, vm->vcpus);
  if (r->block_io != NULL)
    return hull_error (err, ENOTSUP, "linux.resources.blockIO: not supported by hull update");
  if (r->n_devices > 0)
    return hull_error (err, ENOTSUP, "linux.resources.devices: not supported by hull update");
  if (r->network != NULL)
    return hull_error (err, ENOTSUP, "linux.resources.network: not supported by hull update");
  if (r->n_rdma > 0)
    return hull_error (err, ENOTSUP, "linux.resources.rdma: not supported by hull update");
  if (r->unified.n > 0)
    return hull_error (err, ENOTSUP, "linux.resources.unified: not supported by hull update");
  return 0;
}

int
resources_live_json (const struct oci_linux_resources *r, char **out, hull_error_t *err)
{
  const struct oci_memory *m = r->memory;
  const struct oci_cpu *c = r->cpu;
  struct json_gen g;

  if (json_gen_init (&g, err) < 0)
    return -1;
  json_gen_open_object (&g);
  if (m != NULL && (m->has_limit || m->has_swap))
    {
      json_gen_key (&g, "memory");
      json_gen_open_object (&g);
      if (m->has_limit)
        json_gen_kv_int (&g, "limit", m->limit);
      if (m->has_swap)
        json_gen_kv_int (&g, "swap", m->swap);
      json_gen_close_object (&g);
    }
  if (c != NULL && (c->has_shares || c->has_quota || c->has_period))
    {
      json_gen_key (&g, "cpu");
      json_gen_open_object (&g);
      if (c->has_shares)
        json_gen_kv_uint (&g, "shares", c->shares);
      if (c->has_quota)
        json_gen_kv_int (&g, "quota", c->quota);
      if (c->has_period)
        json_gen_kv_uint (&g, "period", c->period);
      json_gen_close_object (&g);
    }
  if (r->pids != NULL)
    {
      json_gen_key (&g, "pids");
      json_gen_open_object (&g);
      json_gen_kv_int (&g, "limit", r->pids->limit);
      json_gen_close_object (&g);
    }
  json_gen_close_object (&g);
  return json_gen_finish (&g, out, NULL, err);
}
