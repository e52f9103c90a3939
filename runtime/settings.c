/* hull's settings file; see runtime/settings.h for the keys. */
#include "runtime/settings.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/json.h"

static const char *const known_keys[] = {
  "kernel",        "initramfs",    "virtiofsd",
  "virtiofsdCache", "kernelCmdline", "defaultVcpus",
  "defaultMemoryMiB", "bootTimeoutMs", "confineVmm", NULL,
};

static int
set_str (char **dst, const char *v, hull_error_t *err)
{
  char *s = strdup (v);

  if (s == NULL)
    return hull_error (err, ENOMEM, "settings");
  free (*dst);
  *dst = s;
  return 0;
}

int
hull_settings_init (struct hull_settings *s, hull_error_t *err)
{
  memset (s, 0, sizeof (*s));
  s->default_vcpus = 1;
  s->default_memory_mib = 256;
  s->boot_timeout_ms = 30000;
  s->confine_vmm = true;
  if (set_str (&s->kernel, "/usr/lib/hull/vmlinuz", err) < 0
      || set_str (&s->initramfs, "/usr/lib/hull/initramfs.img", err) < 0
      || set_str (&s->virtiofsd, "/usr/lib/qemu/virtiofsd", err) < 0
      || set_str (&s->virtiofsd_cache, "auto", err) < 0
      || set_str (&s->kernel_cmdline, "", err) < 0)
    {
      hull_settings_free (s);
      return -1;
    }
  return 0;
}

void
hull_settings_free (struct hull_settings *s)
{
  free (s->kernel);
  free (s->initramfs);
  free (s->virtiofsd);
  free (s->virtiofsd_cache);
  free (s->kernel_cmdline);
  memset (s, 0, sizeof (*s));
}

static int
get_path (const struct json_node *root, const char *key, char **dst,
          hull_error_t *err)
{
  int r = json_get_string (root, key, JSON_OPTIONAL, dst, err);

  if (r > 0 && (*dst)[0] != '/')
    {
      struct json_node m = json_child (root, key);
      return json_error (&m, err, "must be an absolute path, got \"%s\"",
                         *dst);
    }
  return r;
}

static int
get_range (const struct json_node *root, const char *key, uint64_t min,
           uint64_t max, uint64_t *out, hull_error_t *err)
{
  struct json_node m;
  int r = json_member (root, key, JSON_OPTIONAL, &m, err);

  if (r <= 0)
    return r;
  if (json_as_uint (&m, max, out, err) < 0)
    return -1;
  if (*out < min)
    return json_error (&m, err, "%llu out of range %llu..%llu",
                       (unsigned long long) *out, (unsigned long long) min,
                       (unsigned long long) max);
  return 1;
}

static int
check_keys (const struct json_node *root, hull_error_t *err)
{
  size_t i, k;

  if (json_object_unique (root, err) < 0)
    return -1;
  for (i = 0; i < json_object_len (root); i++)
    {
      struct json_node e = json_object_entry (root, i);
      for (k = 0; known_keys[k] != NULL; k++)
        if (strcmp (known_keys[k], e.key) == 0)
          break;
      if (known_keys[k] == NULL)
        return json_error (&e, err, "unknown setting");
    }
  return 0;
}

static int
settings_fill (const struct json_node *root, struct hull_settings *s,
               hull_error_t *err)
{
  uint64_t vcpus = s->default_vcpus, mem = s->default_memory_mib,
           boot = s->boot_timeout_ms;

  if (json_expect_object (root, err) < 0 || check_keys (root, err) < 0
      || get_path (root, "kernel", &s->kernel, err) < 0
      || get_path (root, "initramfs", &s->initramfs, err) < 0
      || get_path (root, "virtiofsd", &s->virtiofsd, err) < 0
      || json_get_string (root, "virtiofsdCache", JSON_OPTIONAL,
                          &s->virtiofsd_cache, err)
             < 0
      || json_get_string (root, "kernelCmdline", JSON_OPTIONAL,
                          &s->kernel_cmdline, err)
             < 0
      || get_range (root, "defaultVcpus", 1, 255, &vcpus, err) < 0
      || get_range (root, "defaultMemoryMiB", 64, 1048576, &mem, err) < 0
      || get_range (root, "bootTimeoutMs", 100, 600000, &boot, err) < 0
      || json_get_bool (root, "confineVmm", JSON_OPTIONAL, &s->confine_vmm, err) < 0)
    return -1;
  if (strcmp (s->virtiofsd_cache, "auto") != 0
      && strcmp (s->virtiofsd_cache, "always") != 0
      && strcmp (s->virtiofsd_cache, "none") != 0)
    {
      struct json_node m = json_child (root, "virtiofsdCache");
      return json_error (&m, err, "\"%s\": want auto, always or none",
                         s->virtiofsd_cache);
    }
  s->default_vcpus = (uint32_t) vcpus;
  s->default_memory_mib = mem;
  s->boot_timeout_ms = (uint32_t) boot;
  return 0;
}

int
hull_settings_parse_data (const char *data, size_t len,
                          struct hull_settings *s, hull_error_t *err)
{
  yajl_val tree = NULL;
  struct json_node root;
  int r;

  if (hull_settings_init (s, err) < 0)
    return -1;
  if (json_parse (data, len, &tree, err) < 0)
    {
      hull_settings_free (s);
      return -1;
    }
  root = json_root (tree);
  r = settings_fill (&root, s, err);
  json_free (tree);
  if (r < 0)
    hull_settings_free (s);
  return r;
}

int
hull_settings_load (const char *path, struct hull_settings *s,
                    hull_error_t *err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;

  if (path == NULL)
    {
      path = HULL_SETTINGS_PATH;
      if (access (path, F_OK) < 0 && errno == ENOENT)
        return hull_settings_init (s, err);
    }
  if (json_read_file (path, &data, &len, err) < 0)
    return -1;
  if (hull_settings_parse_data (data, len, s, err) < 0)
    return hull_error_prefix (err, "%s", path);
  return 0;
}
