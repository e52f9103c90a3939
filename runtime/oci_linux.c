/* config.linux: namespaces, ID mappings, devices, cgroups path, sysctl,
 * propagation, masked/readonly paths and the smaller Linux sections.
 * Resources and seccomp have their own files. */
#include "runtime/oci_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>

#include "runtime/cleanup.h"

static int
ns_type_from_name (const char *s)
{
  int t;

  for (t = 0; t < OCI_NS__COUNT; t++)
    if (strcmp (oci_ns_type_name (t), s) == 0)
      return t;
  return -1;
}

static int
parse_namespace (const struct json_node *e, void *elem, hull_error_t *err)
{
  struct oci_namespace *ns = elem;
  cleanup_free char *type = NULL;
  int t;

  if (json_expect_object (e, err) < 0
      || json_get_string (e, "type", JSON_REQUIRED, &type, err) < 0)
    return -1;
  t = ns_type_from_name (type);
  if (t < 0)
    {
      struct json_node m = json_child (e, "type");
      return json_error (&m, err, "unknown namespace type \"%s\"", type);
    }
  ns->type = t;
  return oci_get_abs_path (e, "path", JSON_OPTIONAL, &ns->path, err) < 0 ? -1
                                                                         : 0;
}

static void
free_namespace (void *elem)
{
  free (((struct oci_namespace *) elem)->path);
}

static int
parse_namespaces (const struct json_node *ln, struct oci_linux *l,
                  hull_error_t *err)
{
  void *v = NULL;
  size_t n = 0, i;
  unsigned seen = 0;
  int r;

  r = oci_parse_array (ln, "namespaces", JSON_OPTIONAL,
                       sizeof (struct oci_namespace), parse_namespace,
                       free_namespace, &v, &n, err);
  if (r <= 0)
    return r;
  l->namespaces = v;
  l->n_namespaces = n;
  /* The spec: a type appearing twice is an error. */
  for (i = 0; i < n; i++)
    {
      unsigned bit = 1u << l->namespaces[i].type;
      if (seen & bit)
        {
          struct json_node m = json_child (ln, "namespaces");
          struct json_node e = json_element (&m, i);
          struct json_node t = json_child (&e, "type");
          return json_error (&t, err, "duplicate namespace type \"%s\"",
                             oci_ns_type_name (l->namespaces[i].type));
        }
      seen |= bit;
    }
  return 0;
}

static int
parse_time_offset (const struct json_node *offs, const char *key,
                   struct oci_time_offset *o, hull_error_t *err)
{
  struct json_node m;
  int r;

  r = oci_get_object (offs, key, JSON_OPTIONAL, &m, err);
  if (r <= 0)
    return r;
  if (json_get_int64 (&m, "secs", JSON_OPTIONAL, &o->secs, err) < 0
      || json_get_uint32 (&m, "nanosecs", JSON_OPTIONAL, &o->nanosecs, err)
             < 0)
    return -1;
  if (o->nanosecs >= 1000000000u)
    {
      struct json_node ns = json_child (&m, "nanosecs");
      return json_error (&ns, err, "must be below 1000000000");
    }
  o->present = true;
  return 0;
}

static int
parse_time_offsets (const struct json_node *ln, struct oci_linux *l,
                    hull_error_t *err)
{
  struct json_node offs;
  size_t i;
  int r;

  r = oci_get_object (ln, "timeOffsets", JSON_OPTIONAL, &offs, err);
  if (r <= 0)
    return r;
  /* Only these two clocks can be offset in a time namespace; anything
   * else could not be applied, so it is an error rather than ignored. */
  for (i = 0; i < json_object_len (&offs); i++)
    {
      struct json_node e = json_object_entry (&offs, i);
      if (strcmp (e.key, "boottime") != 0 && strcmp (e.key, "monotonic") != 0)
        return json_error (&e, err,
                           "unknown clock (expected boottime or monotonic)");
    }
  if (parse_time_offset (&offs, "boottime", &l->time_offset_boottime, err)
          < 0
      || parse_time_offset (&offs, "monotonic", &l->time_offset_monotonic,
                            err)
             < 0)
    return -1;
  return 0;
}

static int
parse_device (const struct json_node *e, void *elem, hull_error_t *err)
{
  struct oci_device *d = elem;
  cleanup_free char *type = NULL;
  struct json_node m;
  int r;

  if (json_expect_object (e, err) < 0
      || json_get_string (e, "type", JSON_REQUIRED, &type, err) < 0)
    return -1;
  if (strlen (type) != 1 || strchr ("cbup", type[0]) == NULL)
    {
      m = json_child (e, "type");
      return json_error (&m, err, "unknown device type \"%s\"", type);
    }
  d->type = type[0];
  if (oci_get_abs_path (e, "path", JSON_REQUIRED, &d->path, err) < 0)
    return -1;
  /* major/minor are REQUIRED except for FIFOs. */
  r = json_get_int64 (e, "major", d->type == 'p' ? JSON_OPTIONAL
                                                 : JSON_REQUIRED,
                      &d->major, err);
  if (r < 0)
    return -1;
  d->has_major = r > 0;
  r = json_get_int64 (e, "minor", d->type == 'p' ? JSON_OPTIONAL
                                                 : JSON_REQUIRED,
                      &d->minor, err);
  if (r < 0)
    return -1;
  d->has_minor = r > 0;
  if ((r = json_get_uint32 (e, "fileMode", JSON_OPTIONAL, &d->file_mode, err))
      < 0)
    return -1;
  d->has_file_mode = r > 0;
  if (d->has_file_mode && d->file_mode > 07777)
    {
      m = json_child (e, "fileMode");
      return json_error (&m, err, "%u is not a file mode (0..07777)",
                         d->file_mode);
    }
  if ((r = json_get_uint32 (e, "uid", JSON_OPTIONAL, &d->uid, err)) < 0)
    return -1;
  d->has_uid = r > 0;
  if ((r = json_get_uint32 (e, "gid", JSON_OPTIONAL, &d->gid, err)) < 0)
    return -1;
  d->has_gid = r > 0;
  return 0;
}

static void
free_device (void *elem)
{
  free (((struct oci_device *) elem)->path);
}

static bool
ifname_valid (const char *s)
{
  size_t len = strlen (s);

  return len > 0 && len < 16 && strcmp (s, ".") != 0 && strcmp (s, "..") != 0
         && strpbrk (s, "/: \t\n") == NULL;
}

static int
parse_net_devices (const struct json_node *ln, struct oci_linux *l,
                   hull_error_t *err)
{
  struct json_node nd;
  size_t i, len;
  int r;

  r = oci_get_object (ln, "netDevices", JSON_OPTIONAL, &nd, err);
  if (r <= 0)
    return r;
  if (json_object_unique (&nd, err) < 0)
    return -1;
  len = json_object_len (&nd);
  if (len == 0)
    return 0;
  l->net_devices = calloc (len, sizeof (*l->net_devices));
  if (l->net_devices == NULL)
    return hull_error (err, ENOMEM, "allocate netDevices");
  for (i = 0; i < len; i++)
    {
      struct json_node e = json_object_entry (&nd, i);
      struct oci_net_device *d = &l->net_devices[i];

      l->n_net_devices = i + 1;
      if (!ifname_valid (e.key))
        return json_error (&e, err, "invalid interface name");
      d->host_name = strdup (e.key);
      if (d->host_name == NULL)
        return hull_error (err, ENOMEM, "allocate netDevices");
      if (json_expect_object (&e, err) < 0
          || json_get_string (&e, "name", JSON_OPTIONAL, &d->name, err) < 0)
        return -1;
      if (d->name != NULL && !ifname_valid (d->name))
        {
          struct json_node m = json_child (&e, "name");
          return json_error (&m, err, "invalid interface name \"%s\"",
                             d->name);
        }
    }
  return 0;
}

static int
parse_propagation (const struct json_node *ln, struct oci_linux *l,
                   hull_error_t *err)
{
  /* The spec lists the first four; runc and crun also take the recursive
   * spellings, which real configs use. */
  static const char *const names[]
      = { "private",  "shared",  "slave",  "unbindable", "rprivate",
          "rshared",  "rslave",  "runbindable", NULL };
  static const unsigned long flags[]
      = { MS_PRIVATE, MS_SHARED, MS_SLAVE, MS_UNBINDABLE,
          MS_PRIVATE | MS_REC, MS_SHARED | MS_REC, MS_SLAVE | MS_REC,
          MS_UNBINDABLE | MS_REC };
  int r, idx;

  r = json_get_string (ln, "rootfsPropagation", JSON_OPTIONAL,
                       &l->rootfs_propagation, err);
  if (r <= 0)
    return r;
  idx = oci_name_index (names, l->rootfs_propagation);
  if (idx < 0)
    {
      struct json_node m = json_child (ln, "rootfsPropagation");
      return json_error (&m, err, "unknown propagation \"%s\"",
                         l->rootfs_propagation);
    }
  l->rootfs_propagation_flags = flags[idx];
  return 0;
}

static int
parse_personality (const struct json_node *ln, struct oci_linux *l,
                   hull_error_t *err)
{
  static const char *const domains[] = { "LINUX", "LINUX32", NULL };
  cleanup_free char *domain = NULL;
  struct oci_strv flags = { 0 };
  struct json_node pn, m;
  int r, idx;

  r = oci_get_object (ln, "personality", JSON_OPTIONAL, &pn, err);
  if (r <= 0)
    return r;
  if (json_get_string (&pn, "domain", JSON_REQUIRED, &domain, err) < 0)
    return -1;
  idx = oci_name_index (domains, domain);
  if (idx < 0)
    {
      m = json_child (&pn, "domain");
      return json_error (&m, err, "unknown personality domain \"%s\"",
                         domain);
    }
  if (oci_parse_strv (&pn, "flags", JSON_OPTIONAL, &flags, err) < 0)
    return -1;
  if (flags.n > 0)
    {
      struct json_node f = json_child (&pn, "flags");
      m = json_element (&f, 0);
      json_error (&m, err, "unsupported personality flag \"%s\"", flags.v[0]);
      oci_strv_free (&flags);
      return -1;
    }
  l->personality = calloc (1, sizeof (*l->personality));
  if (l->personality == NULL)
    return hull_error (err, ENOMEM, "allocate personality");
  l->personality->domain = idx == 0 ? PER_LINUX : PER_LINUX32;
  return 0;
}

static int
parse_intel_rdt (const struct json_node *ln, struct oci_linux *l,
                 hull_error_t *err)
{
  struct json_node rn;
  struct oci_intel_rdt *rdt;
  int r;

  r = oci_get_object (ln, "intelRdt", JSON_OPTIONAL, &rn, err);
  if (r <= 0)
    return r;
  rdt = l->intel_rdt = calloc (1, sizeof (*rdt));
  if (rdt == NULL)
    return hull_error (err, ENOMEM, "allocate intelRdt");
  if (json_get_string (&rn, "closID", JSON_OPTIONAL, &rdt->clos_id, err) < 0
      || json_get_string (&rn, "l3CacheSchema", JSON_OPTIONAL,
                          &rdt->l3_cache_schema, err)
             < 0
      || json_get_string (&rn, "memBwSchema", JSON_OPTIONAL,
                          &rdt->mem_bw_schema, err)
             < 0
      || json_get_bool (&rn, "enableCMT", JSON_OPTIONAL, &rdt->enable_cmt, err)
             < 0
      || json_get_bool (&rn, "enableMBM", JSON_OPTIONAL, &rdt->enable_mbm, err)
             < 0)
    return -1;
  return 0;
}

static int
parse_sub_sections (const struct json_node *ln, struct oci_linux *l,
                    hull_error_t *err)
{
  struct json_node m;
  int r;

  r = oci_get_object (ln, "resources", JSON_OPTIONAL, &m, err);
  if (r < 0 || (r > 0 && oci_resources_parse_node (&m, &l->resources, err) < 0))
    return -1;
  r = oci_get_object (ln, "seccomp", JSON_OPTIONAL, &m, err);
  if (r < 0 || (r > 0 && oci_seccomp_parse_node (&m, &l->seccomp, err) < 0))
    return -1;
  return 0;
}

static int
linux_fill (const struct json_node *ln, struct oci_linux *l,
            hull_error_t *err)
{
  void *v = NULL;
  size_t n = 0;

  if (parse_namespaces (ln, l, err) < 0
      || oci_parse_id_mappings (ln, "uidMappings", &l->uid_mappings, err) < 0
      || oci_parse_id_mappings (ln, "gidMappings", &l->gid_mappings, err) < 0
      || parse_time_offsets (ln, l, err) < 0)
    return -1;
  if (oci_parse_array (ln, "devices", JSON_OPTIONAL, sizeof (*l->devices),
                       parse_device, free_device, &v, &n, err)
      < 0)
    return -1;
  l->devices = v;
  l->n_devices = n;
  if (parse_net_devices (ln, l, err) < 0
      || json_get_string (ln, "cgroupsPath", JSON_OPTIONAL, &l->cgroups_path,
                          err)
             < 0
      || parse_intel_rdt (ln, l, err) < 0
      || oci_parse_map (ln, "sysctl", &l->sysctl, err) < 0
      || parse_propagation (ln, l, err) < 0
      || oci_parse_strv (ln, "maskedPaths", JSON_OPTIONAL, &l->masked_paths,
                         err)
             < 0
      || oci_check_abs_strv (ln, "maskedPaths", &l->masked_paths, err) < 0
      || oci_parse_strv (ln, "readonlyPaths", JSON_OPTIONAL,
                         &l->readonly_paths, err)
             < 0
      || oci_check_abs_strv (ln, "readonlyPaths", &l->readonly_paths, err) < 0
      || json_get_string (ln, "mountLabel", JSON_OPTIONAL, &l->mount_label,
                          err)
             < 0
      || parse_personality (ln, l, err) < 0
      || parse_sub_sections (ln, l, err) < 0)
    return -1;
  return 0;
}

int
oci_linux_parse_node (const struct json_node *n, struct oci_linux **out,
                      hull_error_t *err)
{
  struct oci_linux *l = calloc (1, sizeof (*l));

  if (l == NULL)
    return hull_error (err, ENOMEM, "allocate linux");
  if (json_expect_object (n, err) < 0 || linux_fill (n, l, err) < 0)
    {
      oci_linux_free (l);
      return -1;
    }
  *out = l;
  return 0;
}

void
oci_linux_free (struct oci_linux *l)
{
  size_t i;

  if (l == NULL)
    return;
  oci_array_free (l->namespaces, l->n_namespaces, sizeof (*l->namespaces),
                  free_namespace);
  free (l->uid_mappings.v);
  free (l->gid_mappings.v);
  oci_array_free (l->devices, l->n_devices, sizeof (*l->devices),
                  free_device);
  for (i = 0; i < l->n_net_devices; i++)
    {
      free (l->net_devices[i].host_name);
      free (l->net_devices[i].name);
    }
  free (l->net_devices);
  free (l->cgroups_path);
  oci_resources_free (l->resources);
  if (l->intel_rdt != NULL)
    {
      free (l->intel_rdt->clos_id);
      free (l->intel_rdt->l3_cache_schema);
      free (l->intel_rdt->mem_bw_schema);
      free (l->intel_rdt);
    }
  oci_map_free (&l->sysctl);
  oci_seccomp_free (l->seccomp);
  free (l->rootfs_propagation);
  oci_strv_free (&l->masked_paths);
  oci_strv_free (&l->readonly_paths);
  free (l->mount_label);
  free (l->personality);
  free (l);
}
