/* linux.seccomp: the filter description.  Syscall names are checked by
 * libseccomp when the filter is built in the guest (names differ by
 * architecture); everything else is checked here. */
#include "runtime/oci_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cleanup.h"

/* Indexed by enum oci_seccomp_action / oci_seccomp_op. */
static const char *const action_names[] = {
  "SCMP_ACT_KILL",  "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
  "SCMP_ACT_TRAP",  "SCMP_ACT_ERRNO",        "SCMP_ACT_TRACE",
  "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",          "SCMP_ACT_NOTIFY",
  NULL,
};

static const char *const op_names[] = {
  "SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",        "SCMP_CMP_EQ",
  "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ", NULL,
};

const char *
oci_seccomp_action_name (enum oci_seccomp_action a)
{
  return (size_t) a < sizeof (action_names) / sizeof (action_names[0]) - 1
             ? action_names[a]
             : NULL;
}

const char *
oci_seccomp_op_name (enum oci_seccomp_op op)
{
  return (size_t) op < sizeof (op_names) / sizeof (op_names[0]) - 1
             ? op_names[op]
             : NULL;
}

static const char *const arch_names[] = {
  "SCMP_ARCH_X86",         "SCMP_ARCH_X86_64",    "SCMP_ARCH_X32",
  "SCMP_ARCH_ARM",         "SCMP_ARCH_AARCH64",   "SCMP_ARCH_MIPS",
  "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPSEL",
  "SCMP_ARCH_MIPSEL64",    "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
  "SCMP_ARCH_PPC64",       "SCMP_ARCH_PPC64LE",   "SCMP_ARCH_S390",
  "SCMP_ARCH_S390X",       "SCMP_ARCH_PARISC",    "SCMP_ARCH_PARISC64",
  "SCMP_ARCH_RISCV64",     "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",
  "SCMP_ARCH_SH",          "SCMP_ARCH_SHEB",      NULL,
};

/* Index = position in flag_values. */
static const char *const flag_names[] = {
  "SECCOMP_FILTER_FLAG_TSYNC",
  "SECCOMP_FILTER_FLAG_LOG",
  "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
  "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
  NULL,
};

static const unsigned flag_values[] = {
  OCI_SECCOMP_FLAG_TSYNC,
  OCI_SECCOMP_FLAG_LOG,
  OCI_SECCOMP_FLAG_SPEC_ALLOW,
  OCI_SECCOMP_FLAG_WAIT_KILLABLE_RECV,
};

const char *const *
oci_seccomp_action_names (void)
{
  return action_names;
}

const char *const *
oci_seccomp_op_names (void)
{
  return op_names;
}

const char *const *
oci_seccomp_arch_names (void)
{
  return arch_names;
}

const char *const *
oci_seccomp_flag_names (void)
{
  return flag_names;
}

static int
get_action (const struct json_node *obj, const char *key,
            enum oci_seccomp_action *out, hull_error_t *err)
{
  cleanup_free char *name = NULL;
  int idx;

  if (json_get_string (obj, key, JSON_REQUIRED, &name, err) < 0)
    return -1;
  idx = oci_name_index (action_names, name);
  if (idx < 0)
    {
      struct json_node m = json_child (obj, key);
      return json_error (&m, err, "unknown seccomp action \"%s\"", name);
    }
  *out = idx;
  return 0;
}

/* errnoRet only means something for actions that return an errno. */
static int
get_errno_ret (const struct json_node *obj, const char *key,
               enum oci_seccomp_action action, bool *has, uint32_t *out,
               hull_error_t *err)
{
  int r = json_get_uint32 (obj, key, JSON_OPTIONAL, out, err);

  if (r <= 0)
    return r;
  if (action != OCI_SCMP_ACT_ERRNO && action != OCI_SCMP_ACT_TRACE)
    {
      struct json_node m = json_child (obj, key);
      return json_error (&m, err,
                         "only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
    }
  *has = true;
  return 1;
}

static int
parse_arg (const struct json_node *e, void *elem, hull_error_t *err)
{
  struct oci_seccomp_arg *a = elem;
  cleanup_free char *op = NULL;
  struct json_node m;
  int r, idx;

  if (json_expect_object (e, err) < 0
      || json_get_uint32 (e, "index", JSON_REQUIRED, &a->index, err) < 0)
    return -1;
  if (a->index > 5)
    {
      m = json_child (e, "index");
      return json_error (&m, err, "%u out of range 0..5 (syscalls have six "
                         "arguments)", a->index);
    }
  if (json_get_uint64 (e, "value", JSON_REQUIRED, &a->value, err) < 0)
    return -1;
  r = json_get_uint64 (e, "valueTwo", JSON_OPTIONAL, &a->value_two, err);
  if (r < 0)
    return -1;
  a->has_value_two = r > 0;
  if (json_get_string (e, "op", JSON_REQUIRED, &op, err) < 0)
    return -1;
  idx = oci_name_index (op_names, op);
  if (idx < 0)
    {
      m = json_child (e, "op");
      return json_error (&m, err, "unknown seccomp operator \"%s\"", op);
    }
  a->op = idx;
  return 0;
}

static int
parse_syscall (const struct json_node *e, void *elem, hull_error_t *err)
{
  struct oci_seccomp_syscall *s = elem;
  void *v = NULL;
  size_t n = 0, i;

  if (json_expect_object (e, err) < 0
      || oci_parse_strv (e, "names", JSON_REQUIRED, &s->names, err) < 0)
    return -1;
  if (s->names.n == 0)
    {
      struct json_node m = json_child (e, "names");
      return json_error (&m, err, "must have at least one entry");
    }
  for (i = 0; i < s->names.n; i++)
    if (s->names.v[i][0] == '\0')
      {
        struct json_node m = json_child (e, "names");
        struct json_node x = json_element (&m, i);
        return json_error (&x, err, "must not be empty");
      }
  if (get_action (e, "action", &s->action, err) < 0
      || get_errno_ret (e, "errnoRet", s->action, &s->has_errno_ret,
                        &s->errno_ret, err)
             < 0)
    return -1;
  if (oci_parse_array (e, "args", JSON_OPTIONAL, sizeof (*s->args), parse_arg,
                       NULL, &v, &n, err)
      < 0)
    return -1;
  s->args = v;
  s->n_args = n;
  return 0;
}

static void
free_syscall (void *elem)
{
  struct oci_seccomp_syscall *s = elem;

  oci_strv_free (&s->names);
  free (s->args);
}

static int
parse_arches_flags (const struct json_node *sn, struct oci_seccomp *s,
                    hull_error_t *err)
{
  struct oci_strv flags = { 0 };
  struct json_node m, e;
  size_t i;

  if (oci_parse_strv (sn, "architectures", JSON_OPTIONAL, &s->architectures,
                      err)
      < 0)
    return -1;
  for (i = 0; i < s->architectures.n; i++)
    if (oci_name_index (arch_names, s->architectures.v[i]) < 0)
      {
        m = json_child (sn, "architectures");
        e = json_element (&m, i);
        return json_error (&e, err, "unknown seccomp architecture \"%s\"",
                           s->architectures.v[i]);
      }
  if (oci_parse_strv (sn, "flags", JSON_OPTIONAL, &flags, err) < 0)
    return -1;
  for (i = 0; i < flags.n; i++)
    {
      int idx = oci_name_index (flag_names, flags.v[i]);
      if (idx < 0)
        {
          m = json_child (sn, "flags");
          e = json_element (&m, i);
          json_error (&e, err, "unknown seccomp flag \"%s\"", flags.v[i]);
          oci_strv_free (&flags);
          return -1;
        }
      s->flags |= flag_values[idx];
    }
  oci_strv_free (&flags);
  return 0;
}

static bool
uses_notify (const struct oci_seccomp *s)
{
  size_t i;

  if (s->default_action == OCI_SCMP_ACT_NOTIFY)
    return true;
  for (i = 0; i < s->n_syscalls; i++)
    if (s->syscalls[i].action == OCI_SCMP_ACT_NOTIFY)
      return true;
  return false;
}

static int
seccomp_fill (const struct json_node *sn, struct oci_seccomp *s,
              hull_error_t *err)
{
  void *v = NULL;
  size_t n = 0;

  if (json_expect_object (sn, err) < 0
      || get_action (sn, "defaultAction", &s->default_action, err) < 0
      || get_errno_ret (sn, "defaultErrnoRet", s->default_action,
                        &s->has_default_errno_ret, &s->default_errno_ret, err)
             < 0
      || parse_arches_flags (sn, s, err) < 0
      || oci_get_abs_path (sn, "listenerPath", JSON_OPTIONAL,
                           &s->listener_path, err)
             < 0
      || json_get_string (sn, "listenerMetadata", JSON_OPTIONAL,
                          &s->listener_metadata, err)
             < 0)
    return -1;
  if (oci_parse_array (sn, "syscalls", JSON_OPTIONAL, sizeof (*s->syscalls),
                       parse_syscall, free_syscall, &v, &n, err)
      < 0)
    return -1;
  s->syscalls = v;
  s->n_syscalls = n;
  /* The spec: listenerPath MUST be set when SCMP_ACT_NOTIFY is used. */
  if (uses_notify (s) && s->listener_path == NULL)
    {
      struct json_node m = json_child (sn, "listenerPath");
      return json_error (&m, err, "required when SCMP_ACT_NOTIFY is used");
    }
  return 0;
}

int
oci_seccomp_parse_node (const struct json_node *n, struct oci_seccomp **out,
                        hull_error_t *err)
{
  struct oci_seccomp *s = calloc (1, sizeof (*s));

  if (s == NULL)
    return hull_error (err, ENOMEM, "allocate seccomp");
  if (seccomp_fill (n, s, err) < 0)
    {
      oci_seccomp_free (s);
      return -1;
    }
  *out = s;
  return 0;
}

void
oci_seccomp_free (struct oci_seccomp *s)
{
  if (s == NULL)
    return;
  oci_strv_free (&s->architectures);
  free (s->listener_path);
  free (s->listener_metadata);
  oci_array_free (s->syscalls, s->n_syscalls, sizeof (*s->syscalls),
                  free_syscall);
  free (s);
}
