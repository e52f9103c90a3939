/* linux.resources, also the whole document of `hull update --resources`.
 * Hull maps memory and CPU limits onto the microVM and the rest onto the
 * guest's cgroup, but the model is the spec's, unchanged. */
#include "runtime/oci_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cleanup.h"

/* Reads an optional int64 that must be >= min; sets *has. */
static int
get_int_min (const struct json_node *obj, const char *key, int64_t min,
             bool *has, int64_t *out, hull_error_t *err)
{
  struct json_node m;
  int r = json_member (obj, key, JSON_OPTIONAL, &m, err);

  if (r <= 0)
    return r;
  if (json_as_int (&m, min, INT64_MAX, out, err) < 0)
    return -1;
  *has = true;
  return 1;
}

static int
get_uint_max (const struct json_node *obj, const char *key, uint64_t max,
              bool *has, uint64_t *out, hull_error_t *err)
{
  struct json_node m;
  int r = json_member (obj, key, JSON_OPTIONAL, &m, err);

  if (r <= 0)
    return r;
  if (json_as_uint (&m, max, out, err) < 0)
    return -1;
  *has = true;
  return 1;
}

static int
get_bool (const struct json_node *obj, const char *key, bool *has, bool *out,
          hull_error_t *err)
{
  int r = json_get_bool (obj, key, JSON_OPTIONAL, out, err);

  if (r > 0)
    *has = true;
  return r;
}

static int
parse_device_cgroup (const struct json_node *e, void *elem, hull_error_t *err)
{
  struct oci_device_cgroup *d = elem;
  cleanup_free char *type = NULL;
  struct json_node m;
  int r;

  if (json_expect_object (e, err) < 0
      || json_get_bool (e, "allow", JSON_REQUIRED, &d->allow, err) < 0)
    return -1;
  d->type = 'a';
  r = json_get_string (e, "type", JSON_OPTIONAL, &type, err);
  if (r < 0)
    return -1;
  if (r > 0)
    {
      if (strlen (type) != 1 || strchr ("abc", type[0]) == NULL)
        {
          m = json_child (e, "type");
          return json_error (&m, err, "unknown device type \"%s\"", type);
        }
      d->type = type[0];
    }
  /* -1 is the cgroup wildcard some tools write instead of omitting. */
  if (get_int_min (e, "major", -1, &d->has_major, &d->major, err) < 0
      || get_int_min (e, "minor", -1, &d->has_minor, &d->minor, err) < 0)
    return -1;
  r = json_get_string (e, "access", JSON_OPTIONAL, &d->access, err);
  if (r < 0)
    return -1;
  if (r > 0 && d->access[strspn (d->access, "rwm")] != '\0')
    {
      m = json_child (e, "access");
      return json_error (&m, err, "\"%s\" is not a combination of r, w, m",
                         d->access);
    }
  return 0;
}

static void
free_device_cgroup (void *elem)
{
  free (((struct oci_device_cgroup *) elem)->access);
}

static int
memory_fill (const struct json_node *mn, struct oci_memory *m,
             hull_error_t *err)
{
  /* Byte counts: -1 means unlimited, anything lower is meaningless. */
  if (get_int_min (mn, "limit", -1, &m->has_limit, &m->limit, err) < 0
      || get_int_min (mn, "reservation", -1, &m->has_reservation,
                      &m->reservation, err)
             < 0
      || get_int_min (mn, "swap", -1, &m->has_swap, &m->swap, err) < 0
      || get_int_min (mn, "kernel", -1, &m->has_kernel, &m->kernel, err) < 0
      || get_int_min (mn, "kernelTCP", -1, &m->has_kernel_tcp, &m->kernel_tcp,
                      err)
             < 0
      || get_uint_max (mn, "swappiness", 100, &m->has_swappiness,
                       &m->swappiness, err)
             < 0
      || get_bool (mn, "disableOOMKiller", &m->has_disable_oom_killer,
                   &m->disable_oom_killer, err)
             < 0
      || get_bool (mn, "useHierarchy", &m->has_use_hierarchy,
                   &m->use_hierarchy, err)
             < 0
      || get_bool (mn, "checkBeforeUpdate", &m->has_check_before_update,
                   &m->check_before_update, err)
             < 0)
    return -1;
  return 0;
}

/* "0-3,7" style lists (cpuset.cpus / cpuset.mems). */
static int
get_cpu_list (const struct json_node *obj, const char *key, char **out,
              hull_error_t *err)
{
  int r = json_get_string (obj, key, JSON_OPTIONAL, out, err);

  if (r > 0 && (*out)[strspn (*out, "0123456789,-")] != '\0')
    {
      struct json_node m = json_child (obj, key);
      return json_error (&m, err, "\"%s\" is not a CPU or node list", *out);
    }
  return r;
}

static int
cpu_fill (const struct json_node *cn, struct oci_cpu *c, hull_error_t *err)
{
  uint64_t idle;
  bool has_idle = false;

  if (get_uint_max (cn, "shares", UINT64_MAX, &c->has_shares, &c->shares, err)
          < 0
      || get_int_min (cn, "quota", -1, &c->has_quota, &c->quota, err) < 0
      || get_uint_max (cn, "burst", UINT64_MAX, &c->has_burst, &c->burst, err)
             < 0
      || get_uint_max (cn, "period", UINT64_MAX, &c->has_period, &c->period,
                       err)
             < 0
      || get_int_min (cn, "realtimeRuntime", INT64_MIN,
                      &c->has_realtime_runtime, &c->realtime_runtime, err)
             < 0
      || get_uint_max (cn, "realtimePeriod", UINT64_MAX,
                       &c->has_realtime_period, &c->realtime_period, err)
             < 0
      || get_cpu_list (cn, "cpus", &c->cpus, err) < 0
      || get_cpu_list (cn, "mems", &c->mems, err) < 0
      /* idle: 0 = normal, 1 = SCHED_IDLE group (cgroup v2 cpu.idle) */
      || get_uint_max (cn, "idle", 1, &has_idle, &idle, err) < 0)
    return -1;
  c->has_idle = has_idle;
  c->idle = has_idle ? (int64_t) idle : 0;
  return 0;
}

static int
parse_weight_device (const struct json_node *e, void *elem,
                     hull_error_t *err)
{
  struct oci_blkio_weight_device *w = elem;
  int r;

  if (json_expect_object (e, err) < 0
      || json_get_int64 (e, "major", JSON_REQUIRED, &w->major, err) < 0
      || json_get_int64 (e, "minor", JSON_REQUIRED, &w->minor, err) < 0)
    return -1;
  if ((r = json_get_uint16 (e, "weight", JSON_OPTIONAL, &w->weight, err)) < 0)
    return -1;
  w->has_weight = r > 0;
  if ((r = json_get_uint16 (e, "leafWeight", JSON_OPTIONAL, &w->leaf_weight,
                            err))
      < 0)
    return -1;
  w->has_leaf_weight = r > 0;
  return 0;
}

static int
parse_throttle (const struct json_node *e, void *elem, hull_error_t *err)
{
  struct oci_blkio_throttle *t = elem;

  if (json_expect_object (e, err) < 0
      || json_get_int64 (e, "major", JSON_REQUIRED, &t->major, err) < 0
      || json_get_int64 (e, "minor", JSON_REQUIRED, &t->minor, err) < 0
      || json_get_uint64 (e, "rate", JSON_REQUIRED, &t->rate, err) < 0)
    return -1;
  return 0;
}

static int
throttle_list (const struct json_node *bn, const char *key,
               struct oci_blkio_throttle_list *l, hull_error_t *err)
{
  void *v = NULL;
  size_t n = 0;
  int r = oci_parse_array (bn, key, JSON_OPTIONAL, sizeof (*l->v),
                           parse_throttle, NULL, &v, &n, err);
  if (r > 0)
    {
      l->v = v;
      l->n = n;
    }
  return r;
}

static int
block_io_fill (const struct json_node *bn, struct oci_block_io *b,
               hull_error_t *err)
{
  void *v = NULL;
  size_t n = 0;
  int r;

  if ((r = json_get_uint16 (bn, "weight", JSON_OPTIONAL, &b->weight, err))
      < 0)
    return -1;
  b->has_weight = r > 0;
  if ((r = json_get_uint16 (bn, "leafWeight", JSON_OPTIONAL, &b->leaf_weight,
                            err))
      < 0)
    return -1;
  b->has_leaf_weight = r > 0;
  if (oci_parse_array (bn, "weightDevice", JSON_OPTIONAL,
                       sizeof (*b->weight_device), parse_weight_device, NULL,
                       &v, &n, err)
      < 0)
    return -1;
  b->weight_device = v;
  b->n_weight_device = n;
  if (throttle_list (bn, "throttleReadBpsDevice", &b->throttle_read_bps, err)
          < 0
      || throttle_list (bn, "throttleWriteBpsDevice", &b->throttle_write_bps,
                        err)
             < 0
      || throttle_list (bn, "throttleReadIOPSDevice", &b->throttle_read_iops,
                        err)
             < 0
      || throttle_list (bn, "throttleWriteIOPSDevice",
                        &b->throttle_write_iops, err)
             < 0)
    return -1;
  return 0;
}

static void
free_block_io (struct oci_block_io *b)
{
  if (b == NULL)
    return;
  free (b->weight_device);
  free (b->throttle_read_bps.v);
  free (b->throttle_write_bps.v);
  free (b->throttle_read_iops.v);
  free (b->throttle_write_iops.v);
  free (b);
}

static int
parse_hugepage (const struct json_node *e, void *elem, hull_error_t *err)
{
  struct oci_hugepage_limit *h = elem;
  size_t digits;

  if (json_expect_object (e, err) < 0
      || json_get_string (e, "pageSize", JSON_REQUIRED, &h->page_size, err)
             < 0
      || json_get_uint64 (e, "limit", JSON_REQUIRED, &h->limit, err) < 0)
    return -1;
  /* "2MB", "1GB", "64KB": the hugetlb.<size>.* cgroup file infix. */
  digits = strspn (h->page_size, "0123456789");
  if (digits == 0 || strchr ("KMGT", h->page_size[digits]) == NULL
      || h->page_size[digits] == '\0'
      || strcmp (h->page_size + digits + 1, "B") != 0)
    {
      struct json_node m = json_child (e, "pageSize");
      return json_error (&m, err, "\"%s\" is not a page size like \"2MB\"",
                         h->page_size);
    }
  return 0;
}

static void
free_hugepage (void *elem)
{
  free (((struct oci_hugepage_limit *) elem)->page_size);
}

static int
parse_net_priority (const struct json_node *e, void *elem, hull_error_t *err)
{
  struct oci_net_priority *p = elem;

  if (json_expect_object (e, err) < 0
      || json_get_string (e, "name", JSON_REQUIRED, &p->name, err) < 0
      || json_get_uint32 (e, "priority", JSON_REQUIRED, &p->priority, err)
             < 0)
    return -1;
  return 0;
}

static void
free_net_priority (void *elem)
{
  free (((struct oci_net_priority *) elem)->name);
}

static int
network_fill (const struct json_node *nn, struct oci_network *n,
              hull_error_t *err)
{
  void *v = NULL;
  size_t cnt = 0;
  int r;

  if ((r = json_get_uint32 (nn, "classID", JSON_OPTIONAL, &n->class_id, err))
      < 0)
    return -1;
  n->has_class_id = r > 0;
  if (oci_parse_array (nn, "priorities", JSON_OPTIONAL,
                       sizeof (*n->priorities), parse_net_priority,
                       free_net_priority, &v, &cnt, err)
      < 0)
    return -1;
  n->priorities = v;
  n->n_priorities = cnt;
  return 0;
}

static void
free_network (struct oci_network *n)
{
  if (n == NULL)
    return;
  oci_array_free (n->priorities, n->n_priorities, sizeof (*n->priorities),
                  free_net_priority);
  free (n);
}

static int
parse_rdma (const struct json_node *rn, struct oci_linux_resources *res,
            hull_error_t *err)
{
  struct json_node m;
  size_t i, len;
  int r;

  r = oci_get_object (rn, "rdma", JSON_OPTIONAL, &m, err);
  if (r <= 0)
    return r;
  if (json_object_unique (&m, err) < 0)
    return -1;
  len = json_object_len (&m);
  if (len == 0)
    return 0;
  res->rdma = calloc (len, sizeof (*res->rdma));
  if (res->rdma == NULL)
    return hull_error (err, ENOMEM, "allocate rdma");
  for (i = 0; i < len; i++)
    {
      struct json_node e = json_object_entry (&m, i);
      struct oci_rdma *d = &res->rdma[i];

      res->n_rdma = i + 1;
      d->device = strdup (e.key);
      if (d->device == NULL)
        return hull_error (err, ENOMEM, "allocate rdma");
      if (json_expect_object (&e, err) < 0)
        return -1;
      if ((r = json_get_uint32 (&e, "hcaHandles", JSON_OPTIONAL,
                                &d->hca_handles, err))
          < 0)
        return -1;
      d->has_hca_handles = r > 0;
      if ((r = json_get_uint32 (&e, "hcaObjects", JSON_OPTIONAL,
                                &d->hca_objects, err))
          < 0)
        return -1;
      d->has_hca_objects = r > 0;
    }
  return 0;
}

/* An optional sub-object: allocate *out (elem_size) and fill it. */
static int
sub_object (const struct json_node *rn, const char *key, size_t elem_size,
            int (*fill) (const struct json_node *, void *, hull_error_t *),
            void **out, hull_error_t *err)
{
  struct json_node m;
  int r;

  r = oci_get_object (rn, key, JSON_OPTIONAL, &m, err);
  if (r <= 0)
    return r;
  *out = calloc (1, elem_size);
  if (*out == NULL)
    return hull_error (err, ENOMEM, "allocate %s", key);
  return fill (&m, *out, err) < 0 ? -1 : 1;
}

static int
pids_fill (const struct json_node *pn, void *out, hull_error_t *err)
{
  struct oci_pids *p = out;
  return json_get_int64 (pn, "limit", JSON_REQUIRED, &p->limit, err);
}

static int
unified_check (const struct json_node *rn, struct oci_linux_resources *res,
               hull_error_t *err)
{
  size_t i;

  for (i = 0; i < res->unified.n; i++)
    {
      const char *k = res->unified.v[i].key;
      /* Keys are file names inside the container's cgroup directory. */
      if (strchr (k, '/') != NULL || strcmp (k, ".") == 0
          || strcmp (k, "..") == 0)
        {
          struct json_node u = json_child (rn, "unified");
          struct json_node e = { .v = NULL, .parent = &u, .key = k };
          return json_error (&e, err, "not a cgroup file name");
        }
    }
  return 0;
}

#define FILL_FN(fn, type)                                                    \
  static int fn##_v (const struct json_node *n, void *o, hull_error_t *e)    \
  {                                                                          \
    return fn (n, (type *) o, e);                                            \
  }
FILL_FN (memory_fill, struct oci_memory)
FILL_FN (cpu_fill, struct oci_cpu)
FILL_FN (block_io_fill, struct oci_block_io)
FILL_FN (network_fill, struct oci_network)

static int
resources_fill (const struct json_node *rn, struct oci_linux_resources *res,
                hull_error_t *err)
{
  void *v = NULL;
  size_t n = 0;

  if (json_expect_object (rn, err) < 0)
    return -1;
  if (oci_parse_array (rn, "devices", JSON_OPTIONAL, sizeof (*res->devices),
                       parse_device_cgroup, free_device_cgroup, &v, &n, err)
      < 0)
    return -1;
  res->devices = v;
  res->n_devices = n;
  if (sub_object (rn, "memory", sizeof (struct oci_memory), memory_fill_v,
                  (void **) &res->memory, err)
          < 0
      || sub_object (rn, "cpu", sizeof (struct oci_cpu), cpu_fill_v,
                     (void **) &res->cpu, err)
             < 0
      || sub_object (rn, "pids", sizeof (struct oci_pids), pids_fill,
                     (void **) &res->pids, err)
             < 0
      || sub_object (rn, "blockIO", sizeof (struct oci_block_io),
                     block_io_fill_v, (void **) &res->block_io, err)
             < 0
      || sub_object (rn, "network", sizeof (struct oci_network),
                     network_fill_v, (void **) &res->network, err)
             < 0)
    return -1;
  v = NULL;
  n = 0;
  if (oci_parse_array (rn, "hugepageLimits", JSON_OPTIONAL,
                       sizeof (*res->hugepage_limits), parse_hugepage,
                       free_hugepage, &v, &n, err)
      < 0)
    return -1;
  res->hugepage_limits = v;
  res->n_hugepage_limits = n;
  if (parse_rdma (rn, res, err) < 0
      || oci_parse_map (rn, "unified", &res->unified, err) < 0
      || unified_check (rn, res, err) < 0)
    return -1;
  return 0;
}

int
oci_resources_parse_node (const struct json_node *n,
                          struct oci_linux_resources **out, hull_error_t *err)
{
  struct oci_linux_resources *r = calloc (1, sizeof (*r));

  if (r == NULL)
    return hull_error (err, ENOMEM, "allocate resources");
  if (resources_fill (n, r, err) < 0)
    {
      oci_resources_free (r);
      return -1;
    }
  *out = r;
  return 0;
}

void
oci_resources_free (struct oci_linux_resources *r)
{
  size_t i;

  if (r == NULL)
    return;
  oci_array_free (r->devices, r->n_devices, sizeof (*r->devices),
                  free_device_cgroup);
  free (r->memory);
  if (r->cpu != NULL)
    {
      free (r->cpu->cpus);
      free (r->cpu->mems);
      free (r->cpu);
    }
  free (r->pids);
  free_block_io (r->block_io);
  oci_array_free (r->hugepage_limits, r->n_hugepage_limits,
                  sizeof (*r->hugepage_limits), free_hugepage);
  free_network (r->network);
  for (i = 0; i < r->n_rdma; i++)
    free (r->rdma[i].device);
  free (r->rdma);
  oci_map_free (&r->unified);
  free (r);
}

static int
resources_root (const struct json_node *root, void *out, hull_error_t *err)
{
  return oci_resources_parse_node (root, out, err);
}

int
oci_resources_parse_data (const char *data, size_t len,
                          struct oci_linux_resources **out, hull_error_t *err)
{
  return oci_parse_document (data, len, resources_root, out, err);
}

int
oci_resources_parse_file (const char *path, struct oci_linux_resources **out,
                          hull_error_t *err)
{
  return oci_parse_document_file (path, resources_root, out, err);
}
