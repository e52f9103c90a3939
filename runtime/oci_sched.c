/* process.scheduler: the sched_setattr(2) parameters of the process. */
#include "runtime/oci_internal.h"

#include <errno.h>
#include <stdlib.h>

#include "runtime/cleanup.h"

/* Index = the kernel's SCHED_* value (SCHED_ISO is reserved but named by
 * the spec). */
static const char *const policies[] = {
  "SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",       "SCHED_BATCH",
  "SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE", NULL,
};

/* Index = bit number of the kernel's SCHED_FLAG_* value. */
static const char *const flag_names[] = {
  "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM",
  "SCHED_FLAG_DL_OVERRUN",    "SCHED_FLAG_KEEP_POLICY",
  "SCHED_FLAG_KEEP_PARAMS",   "SCHED_FLAG_UTIL_CLAMP_MIN",
  "SCHED_FLAG_UTIL_CLAMP_MAX", NULL,
};

static int
parse_flags (const struct json_node *sn, struct oci_scheduler *s,
             hull_error_t *err)
{
  struct oci_strv flags = { 0 };
  size_t i;
  int r;

  r = oci_parse_strv (sn, "flags", JSON_OPTIONAL, &flags, err);
  if (r <= 0)
    return r;
  for (i = 0; i < flags.n; i++)
    {
      int bit = oci_name_index (flag_names, flags.v[i]);
      if (bit < 0)
        {
          struct json_node m = json_child (sn, "flags");
          struct json_node e = json_element (&m, i);
          json_error (&e, err, "unknown scheduler flag \"%s\"", flags.v[i]);
          oci_strv_free (&flags);
          return -1;
        }
      s->flags |= UINT64_C (1) << bit;
    }
  oci_strv_free (&flags);
  return 0;
}

static int
parse_fields (const struct json_node *sn, struct oci_scheduler *s,
              hull_error_t *err)
{
  cleanup_free char *policy = NULL;
  struct json_node m;
  int r;

  if (json_get_string (sn, "policy", JSON_REQUIRED, &policy, err) < 0)
    return -1;
  s->policy = oci_name_index (policies, policy);
  if (s->policy < 0)
    {
      m = json_child (sn, "policy");
      return json_error (&m, err, "unknown scheduler policy \"%s\"", policy);
    }
  r = json_get_int32 (sn, "nice", JSON_OPTIONAL, &s->nice, err);
  if (r < 0)
    return -1;
  s->has_nice = r > 0;
  if (s->has_nice && (s->nice < -20 || s->nice > 19))
    {
      m = json_child (sn, "nice");
      return json_error (&m, err, "%d out of range -20..19", s->nice);
    }
  r = json_get_int32 (sn, "priority", JSON_OPTIONAL, &s->priority, err);
  if (r < 0)
    return -1;
  s->has_priority = r > 0;
  if ((r = json_get_uint64 (sn, "runtime", JSON_OPTIONAL, &s->runtime, err))
      < 0)
    return -1;
  s->has_runtime = r > 0;
  if ((r = json_get_uint64 (sn, "deadline", JSON_OPTIONAL, &s->deadline, err))
      < 0)
    return -1;
  s->has_deadline = r > 0;
  if ((r = json_get_uint64 (sn, "period", JSON_OPTIONAL, &s->period, err))
      < 0)
    return -1;
  s->has_period = r > 0;
  return parse_flags (sn, s, err);
}

int
oci_scheduler_parse (const struct json_node *proc, struct oci_scheduler **out,
                     hull_error_t *err)
{
  struct json_node sn;
  struct oci_scheduler *s;
  int r;

  r = oci_get_object (proc, "scheduler", JSON_OPTIONAL, &sn, err);
  if (r <= 0)
    return r;
  s = calloc (1, sizeof (*s));
  if (s == NULL)
    return hull_error (err, ENOMEM, "allocate scheduler");
  if (parse_fields (&sn, s, err) < 0)
    {
      free (s);
      return -1;
    }
  *out = s;
  return 0;
}
