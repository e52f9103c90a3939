/* hull features: the runtime-spec "features" document, describing what
 * this build of hull accepts. */
#include <stdio.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "cmd/hull/commands.h"
#include "runtime/oci_config.h"
#include "runtime/state.h"

static void
str (yajl_gen g, const char *s)
{
  yajl_gen_string (g, (const unsigned char *) s, strlen (s));
}

static void
strs (yajl_gen g, const char *key, const char *const *v, size_t n)
{
  str (g, key);
  yajl_gen_array_open (g);
  for (size_t i = 0; i < n; i++)
    if (v[i] != NULL)
      str (g, v[i]);
  yajl_gen_array_close (g);
}

static void
linux_features (yajl_gen g)
{
  const char *ns[OCI_NS__COUNT];
  const char *caps[64] = { 0 };
  int ncap = oci_cap_last () + 1;

  for (int i = 0; i < OCI_NS__COUNT; i++)
    ns[i] = oci_ns_type_name ((enum oci_ns_type) i);
  for (int i = 0; i < ncap && i < 64; i++)
    caps[i] = oci_cap_name (i);
  str (g, "linux");
  yajl_gen_map_open (g);
  strs (g, "namespaces", ns, OCI_NS__COUNT);
  strs (g, "capabilities", caps, (size_t) (ncap < 64 ? ncap : 64));
  str (g, "cgroup");
  yajl_gen_map_open (g);
  str (g, "v1");
  yajl_gen_bool (g, 0);
  str (g, "v2");
  yajl_gen_bool (g, 1);
  str (g, "systemd");
  yajl_gen_bool (g, 0);
  yajl_gen_map_close (g);
  str (g, "seccomp");
  yajl_gen_map_open (g);
  str (g, "enabled");
  yajl_gen_bool (g, 1);
  yajl_gen_map_close (g);
  yajl_gen_map_close (g);
}

int
hull_cmd_features (struct hull_globals *g, int argc, char **argv)
{
  static const char *const mount_opts[] = {
    "ro", "rw", "bind", "rbind", "nosuid", "suid", "nodev", "dev", "noexec", "exec",
    "relatime", "norelatime", "strictatime", "noatime", "private", "rprivate", "shared",
    "rshared", "slave", "rslave", "tmpcopyup",
  };
  const char *hooks[OCI_HOOK__COUNT];
  yajl_gen gen = yajl_gen_alloc (NULL);
  const unsigned char *buf;
  size_t len;

  (void) argv;
  if (cmd_positional (g, "features", argc - 1, 0, 0, "no arguments") < 0)
    return 2;
  for (int i = 0; i < OCI_HOOK__COUNT; i++)
    hooks[i] = oci_hook_kind_name ((enum oci_hook_kind) i);
  yajl_gen_config (gen, yajl_gen_beautify, 1);
  yajl_gen_map_open (gen);
  str (gen, "ociVersionMin");
  str (gen, "1.0.0");
  str (gen, "ociVersionMax");
  str (gen, HULL_OCI_VERSION);
  strs (gen, "hooks", hooks, OCI_HOOK__COUNT);
  strs (gen, "mountOptions", mount_opts, sizeof (mount_opts) / sizeof (mount_opts[0]));
  linux_features (gen);
  str (gen, "annotations");
  yajl_gen_map_open (gen);
  str (gen, "io.hull.runtime");
  str (gen, "microvm");
  yajl_gen_map_close (gen);
  yajl_gen_map_close (gen);
  yajl_gen_get_buf (gen, &buf, &len);
  printf ("%.*s\n", (int) len, (const char *) buf);
  yajl_gen_free (gen);
  return 0;
}
