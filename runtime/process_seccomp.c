/* OCI linux.seccomp with libseccomp: the OCI model validated names and
 * ranges, this file maps them onto a libseccomp filter. */
#include "runtime/process_setup.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

static void
cleanup_ctx (scmp_filter_ctx *c)
{
  if (*c != NULL)
    seccomp_release (*c);
}

/* libseccomp action for an OCI action; errno_ret is used by ERRNO/TRACE
 * (EPERM when absent, as the spec says for ERRNO). */
static int
map_action (enum oci_seccomp_action a, bool has_errno, uint32_t errno_ret,
            uint32_t *out, hull_error_t *err)
{
  switch (a)
    {
    case OCI_SCMP_ACT_KILL:
    case OCI_SCMP_ACT_KILL_THREAD:
      *out = SCMP_ACT_KILL_THREAD;
      return 0;
    case OCI_SCMP_ACT_KILL_PROCESS:
      *out = SCMP_ACT_KILL_PROCESS;
      return 0;
    case OCI_SCMP_ACT_TRAP:
      *out = SCMP_ACT_TRAP;
      return 0;
    case OCI_SCMP_ACT_ERRNO:
      *out = SCMP_ACT_ERRNO (has_errno ? errno_ret : EPERM);
      return 0;
    case OCI_SCMP_ACT_TRACE:
      *out = SCMP_ACT_TRACE (has_errno ? errno_ret : EPERM);
      return 0;
    case OCI_SCMP_ACT_ALLOW:
      *out = SCMP_ACT_ALLOW;
      return 0;
    case OCI_SCMP_ACT_LOG:
      *out = SCMP_ACT_LOG;
      return 0;
    case OCI_SCMP_ACT_NOTIFY:
      return hull_error (err, ENOTSUP,
                         "SCMP_ACT_NOTIFY is not supported by hull yet (no seccomp listener)");
    }
  return hull_error (err, EINVAL, "unknown seccomp action %d", (int) a);
}

static enum scmp_compare
map_op (enum oci_seccomp_op op)
{
  static const enum scmp_compare ops[] = {
    [OCI_SCMP_CMP_NE] = SCMP_CMP_NE,  [OCI_SCMP_CMP_LT] = SCMP_CMP_LT,
    [OCI_SCMP_CMP_LE] = SCMP_CMP_LE,  [OCI_SCMP_CMP_EQ] = SCMP_CMP_EQ,
    [OCI_SCMP_CMP_GE] = SCMP_CMP_GE,  [OCI_SCMP_CMP_GT] = SCMP_CMP_GT,
    [OCI_SCMP_CMP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
  };
  return ops[op];
}

/* "SCMP_ARCH_X86_64" -> libseccomp's token for "x86_64". */
static int
add_arch (scmp_filter_ctx ctx, const char *name, hull_error_t *err)
{
  char lower[32];
  const char *p = name;
  size_t i;
  uint32_t token;
  int r;

  if (strncmp (p, "SCMP_ARCH_", 10) == 0)
    p += 10;
  for (i = 0; p[i] && i < sizeof lower - 1; i++)
    lower[i] = (char) tolower ((unsigned char) p[i]);
  lower[i] = '\0';
  token = seccomp_arch_resolve_name (lower);
  if (token == 0)
    return hull_error (err, EINVAL, "architecture %s unknown to libseccomp", name);
  r = seccomp_arch_add (ctx, token);
  if (r < 0 && r != -EEXIST)
    return hull_error (err, -r, "add architecture %s", name);
  return 0;
}

static int
set_flags (scmp_filter_ctx ctx, unsigned flags, hull_error_t *err)
{
  int r = 0;

  if (flags & OCI_SECCOMP_FLAG_TSYNC)
    r = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_TSYNC, 1);
  if (r == 0 && (flags & OCI_SECCOMP_FLAG_LOG))
    r = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_LOG, 1);
  if (r == 0 && (flags & OCI_SECCOMP_FLAG_SPEC_ALLOW))
    r = seccomp_attr_set (ctx, SCMP_FLTATR_CTL_SSB, 1);
  if (r < 0)
    return hull_error (err, -r, "linux.seccomp.flags");
  if (flags & OCI_SECCOMP_FLAG_WAIT_KILLABLE_RECV)
    return hull_error (err, ENOTSUP,
                       "linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV "
                       "needs libseccomp >= 2.6");
  return 0;
}

/* Comparisons on the same argument in one libseccomp rule would be an
 * AND the library refuses; OCI profiles mean OR there (the way runc reads
 * them), so such a syscall gets one rule per comparison. */
static bool
args_repeat_index (const struct oci_seccomp_syscall *sc)
{
  for (size_t i = 0; i < sc->n_args; i++)
    for (size_t j = i + 1; j < sc->n_args; j++)
      if (sc->args[i].index == sc->args[j].index)
        return true;
  return false;
}

static struct scmp_arg_cmp
make_cmp (const struct oci_seccomp_arg *a)
{
  struct scmp_arg_cmp c = { .arg = a->index, .op = map_op (a->op),
                            .datum_a = a->value, .datum_b = a->value_two };
  return c;
}

static int
add_rule (scmp_filter_ctx ctx, uint32_t action, int nr,
          const struct oci_seccomp_syscall *sc, const char *name, size_t idx,
          hull_error_t *err)
{
  struct scmp_arg_cmp cmps[6];
  int r = 0;

  if (sc->n_args > 6 || args_repeat_index (sc))
    {
      for (size_t i = 0; i < sc->n_args && r == 0; i++)
        {
          cmps[0] = make_cmp (&sc->args[i]);
          r = seccomp_rule_add_array (ctx, action, nr, 1, cmps);
        }
    }
  else
    {
      for (size_t i = 0; i < sc->n_args; i++)
        cmps[i] = make_cmp (&sc->args[i]);
      r = seccomp_rule_add_array (ctx, action, nr, (unsigned) sc->n_args, cmps);
    }
  if (r < 0)
    return hull_error (err, -r, "linux.seccomp.syscalls[%zu]: add rule for %s", idx, name);
  return 0;
}

static int
add_syscalls (scmp_filter_ctx ctx, const struct oci_seccomp *s, uint32_t def,
              hull_error_t *err)
{
  for (size_t i = 0; i < s->n_syscalls; i++)
    {
      const struct oci_seccomp_syscall *sc = &s->syscalls[i];
      uint32_t action;

      if (map_action (sc->action, sc->has_errno_ret, sc->errno_ret, &action, err) < 0)
        return hull_error_prefix (err, "linux.seccomp.syscalls[%zu].action", i);
      /* libseccomp refuses a rule that repeats the default action; it
         would change nothing anyway. */
      if (action == def)
        continue;
      for (size_t k = 0; k < sc->names.n; k++)
        {
          int nr = seccomp_syscall_resolve_name (sc->names.v[k]);
          if (nr == __NR_SCMP_ERROR)
            continue; /* a syscall this libseccomp does not know */
          if (add_rule (ctx, action, nr, sc, sc->names.v[k], i, err) < 0)
            return -1;
        }
    }
  return 0;
}

int
process_seccomp_build (const struct oci_seccomp *s, scmp_filter_ctx *out,
                       hull_error_t *err)
{
  __attribute__ ((cleanup (cleanup_ctx))) scmp_filter_ctx ctx = NULL;
  uint32_t def;

  if (map_action (s->default_action, s->has_default_errno_ret, s->default_errno_ret,
                  &def, err) < 0)
    return hull_error_prefix (err, "linux.seccomp.defaultAction");
  ctx = seccomp_init (def);
  if (ctx == NULL)
    return hull_error (err, ENOMEM, "seccomp_init");
  for (size_t i = 0; i < s->architectures.n; i++)
    if (add_arch (ctx, s->architectures.v[i], err) < 0)
      return hull_error_prefix (err, "linux.seccomp.architectures[%zu]", i);
  /* no_new_privs is the process's business (process.noNewPrivileges). */
  if (seccomp_attr_set (ctx, SCMP_FLTATR_CTL_NNP, 0) < 0)
    return hull_error (err, EINVAL, "seccomp: clear NNP attribute");
  if (set_flags (ctx, s->flags, err) < 0 || add_syscalls (ctx, s, def, err) < 0)
    return -1;
  *out = ctx;
  ctx = NULL;
  return 0;
}

int
process_seccomp_apply (const struct oci_seccomp *s, hull_error_t *err)
{
  __attribute__ ((cleanup (cleanup_ctx))) scmp_filter_ctx ctx = NULL;
  int r;

  if (s == NULL)
    return 0;
  if (process_seccomp_build (s, &ctx, err) < 0)
    return -1;
  r = seccomp_load (ctx);
  if (r < 0)
    return hull_error (err, -r, "linux.seccomp: load filter");
  return 0;
}
