/* The name lists in config-schema/defs.schema.json must match the parser's
 * tables, so the schema and hull cannot drift apart silently. */
#include <criterion/criterion.h>
#include <string.h>

#include "runtime/cleanup.h"
#include "runtime/json.h"
#include "runtime/oci_config.h"

/* The enum at $defs.<def>[.<sub>...] of defs.schema.json. */
static void
schema_enum (const char *const *path, char ***out, size_t *n)
{
  cleanup_error hull_error_t err = NULL;
  cleanup_free char *data = NULL;
  size_t len = 0;
  yajl_val tree = NULL;
  struct json_node nodes[12];
  size_t i;

  cr_assert_eq (json_read_file ("config-schema/defs.schema.json", &data, &len,
                                &err),
                0, "%s", hull_error_msg (&err));
  cr_assert_eq (json_parse (data, len, &tree, &err), 0, "%s",
                hull_error_msg (&err));
  nodes[0] = json_root (tree);
  for (i = 0; path[i] != NULL; i++)
    {
      cr_assert_lt (i + 1, 12);
      cr_assert_eq (json_member (&nodes[i], path[i], JSON_REQUIRED,
                                 &nodes[i + 1], &err),
                    1, "%s", hull_error_msg (&err));
    }
  cr_assert_eq (json_as_strv (&nodes[i], out, n, &err), 0, "%s",
                hull_error_msg (&err));
  json_free (tree);
}

static void
expect_same (const char *const *path, const char *const *table)
{
  char **names = NULL;
  size_t n = 0, i;

  schema_enum (path, &names, &n);
  for (i = 0; table[i] != NULL && i < n; i++)
    cr_expect_str_eq (names[i], table[i], "entry %zu of %s", i, path[1]);
  cr_expect_null (table[i], "%s: schema lacks %s", path[1], table[i]);
  cr_expect_eq (i, n, "%s: schema has extra entries", path[1]);
  json_strv_free (names);
}

Test (oci_schema_tables, seccomp)
{
  static const char *const actions[]
      = { "$defs", "seccompSyscall", "properties", "action", "enum", NULL };
  static const char *const ops[]
      = { "$defs", "seccompSyscall", "properties", "args", "items",
          "properties", "op", "enum", NULL };
  static const char *const arches[] = { "$defs", "seccomp", "properties",
                                        "architectures", "items", "enum",
                                        NULL };
  static const char *const flags[]
      = { "$defs", "seccomp", "properties", "flags", "items", "enum", NULL };

  expect_same (actions, oci_seccomp_action_names ());
  expect_same (ops, oci_seccomp_op_names ());
  expect_same (arches, oci_seccomp_arch_names ());
  expect_same (flags, oci_seccomp_flag_names ());
}

Test (oci_schema_tables, capabilities)
{
  static const char *const path[]
      = { "$defs", "capabilitySet", "items", "enum", NULL };
  const char *table[64];
  int i;

  for (i = 0; i <= oci_cap_last (); i++)
    table[i] = oci_cap_name (i);
  table[i] = NULL;
  expect_same (path, table);
}
