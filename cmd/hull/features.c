/* hull features: the runtime-spec "features" document, describing what
 * this build of hull accepts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/hull/commands.h"
#include "runtime/json_gen.h"
#include "runtime/oci_config.h"
#include "runtime/state.h"

static void
strs (struct json_gen *g, const char *key, const char *const *v, size_t n)
{
  json_gen_key (g, key);
  json_gen_open_array (g);
  for (size_t i = 0; i < n; i++)
    if (v[i] != NULL)
      json_gen_string (g, v[i]);
  json_gen_close_array (g);
}

static void
linux_features (struct json_gen *g)
{
  const char *ns[OCI_NS__COUNT];
  const char *caps[64] = { 0 };
  int ncap = oci_cap_last () + 1;

  for (int i = 0; i < OCI_NS__COUNT; i++)
    ns[i] = oci_ns_type_name ((enum oci_ns_type) i);
  for (int i = 0; i < ncap && i < 64; i++)
    caps[i] = oci_cap_name (i);
  json_gen_key (g, "linux");
  json_gen_open_object (g);
  strs (g, "namespaces", ns, OCI_NS__COUNT);
  strs (g, "capabilities", caps, (size_t) (ncap < 64 ? ncap : 64));
  json_gen_key (g, "cgroup");
  json_gen_open_object (g);
  json_gen_kv_bool (g, "v1", true); /* runtime/cgroup_host.h */
  json_gen_kv_bool (g, "v2", true);
  json_gen_kv_bool (g, "systemd", false);
  json_gen_close_object (g);
  json_gen_key (g, "seccomp");
  json_gen_open_object (g);
  json_gen_kv_bool (g, "enabled", true);
  json_gen_close_object (g);
  json_gen_close_object (g);
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
  hull_error_t err = NULL;
  struct json_gen gen;
  char *doc = NULL;

  (void) argv;
  if (cmd_positional (g, "features", argc - 1, 0, 0, "no arguments") < 0)
    return 2;
  for (int i = 0; i < OCI_HOOK__COUNT; i++)
    hooks[i] = oci_hook_kind_name ((enum oci_hook_kind) i);
  if (json_gen_init_opts (&gen, true, &err) < 0)
    return cmd_fail (g, &err, 1);
  json_gen_open_object (&gen);
  json_gen_kv_string (&gen, "ociVersionMin", "1.0.0");
  json_gen_kv_string (&gen, "ociVersionMax", HULL_OCI_VERSION);
  strs (&gen, "hooks", hooks, OCI_HOOK__COUNT);
  strs (&gen, "mountOptions", mount_opts, sizeof (mount_opts) / sizeof (mount_opts[0]));
  linux_features (&gen);
  json_gen_key (&gen, "annotations");
  json_gen_open_object (&gen);
  json_gen_kv_string (&gen, "io.hull.runtime", "microvm");
  json_gen_close_object (&gen);
  json_gen_close_object (&gen);
  if (json_gen_finish (&gen, &doc, NULL, &err) < 0)
    return cmd_fail (g, &err, 1);
  fputs (doc, stdout);
  if (doc[0] == '\0' || doc[strlen (doc) - 1] != '\n')
    fputc ('\n', stdout);
  free (doc);
  return 0;
}
