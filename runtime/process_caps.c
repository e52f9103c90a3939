/* OCI process.capabilities with libcap.  The OCI model has already turned
 * names into bit masks (bit n = capability n); this file maps masks onto
 * the kernel, bounded by what the running kernel knows. */
#include "runtime/process_setup.h"

#include <errno.h>
#include <sys/prctl.h>

#include "runtime/cleanup.h"

/* Capabilities the running kernel knows (CAP_LAST_CAP + 1), at most 64
 * since the OCI model keeps one 64-bit mask per set. */
static int
caps_known (void)
{
  int n = (int) cap_max_bits ();
  return n > 64 ? 64 : n;
}

static void
cleanup_cap (cap_t *c)
{
  if (*c != NULL)
    cap_free (*c);
}

static int
set_flag_from (cap_t c, cap_flag_t flag, const struct oci_cap_set *set,
               cap_t current, int n_known, hull_error_t *err)
{
  for (int i = 0; i < n_known; i++)
    {
      cap_value_t v = i;
      cap_flag_value_t on;

      if (set->present)
        on = (set->mask >> i) & 1 ? CAP_SET : CAP_CLEAR;
      else if (cap_get_flag (current, v, flag, &on) < 0)
        return hull_error (err, errno, "read current capability %d", i);
      if (cap_set_flag (c, flag, 1, &v, on) < 0)
        return hull_error (err, errno, "set capability %d", i);
    }
  return 0;
}

int
process_caps_build (const struct oci_capabilities *caps, cap_t *out,
                    hull_error_t *err)
{
  __attribute__ ((cleanup (cleanup_cap))) cap_t c = cap_init ();
  __attribute__ ((cleanup (cleanup_cap))) cap_t current = cap_get_proc ();
  int n = caps_known ();

  if (c == NULL || current == NULL)
    return hull_error (err, errno, "allocate capability state");
  if (set_flag_from (c, CAP_EFFECTIVE, &caps->effective, current, n, err) < 0
      || set_flag_from (c, CAP_PERMITTED, &caps->permitted, current, n, err) < 0
      || set_flag_from (c, CAP_INHERITABLE, &caps->inheritable, current, n, err) < 0)
    return hull_error_prefix (err, "process.capabilities");
  *out = c;
  c = NULL;
  return 0;
}

int
process_caps_drop_bounding (const struct oci_capabilities *caps,
                            hull_error_t *err)
{
  int n = caps_known ();

  if (caps == NULL || !caps->bounding.present)
    return 0;
  for (int i = 0; i < n; i++)
    {
      if ((caps->bounding.mask >> i) & 1)
        continue;
      if (prctl (PR_CAPBSET_DROP, i, 0, 0, 0) < 0 && errno != EINVAL)
        return hull_error (err, errno, "process.capabilities.bounding: drop %s",
                           oci_cap_name (i) ? oci_cap_name (i) : "?");
    }
  return 0;
}

static int
apply_ambient (const struct oci_cap_set *ambient, hull_error_t *err)
{
  int n = caps_known ();

  if (!ambient->present)
    return 0;
  if (prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
    return hull_error (err, errno, "process.capabilities.ambient: clear");
  for (int i = 0; i < n; i++)
    if ((ambient->mask >> i) & 1
        && prctl (PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0) < 0)
      /* The kernel demands the cap be permitted and inheritable too. */
      return hull_error (err, errno,
                         "process.capabilities.ambient: raise %s (it must also "
                         "be permitted and inheritable)",
                         oci_cap_name (i) ? oci_cap_name (i) : "?");
  return 0;
}

int
process_caps_apply (const struct oci_capabilities *caps, hull_error_t *err)
{
  __attribute__ ((cleanup (cleanup_cap))) cap_t c = NULL;

  if (caps == NULL)
    return 0;
  if (process_caps_build (caps, &c, err) < 0)
    return -1;
  if (cap_set_proc (c) < 0)
    return hull_error (err, errno, "process.capabilities: set effective/permitted/inheritable");
  return apply_ambient (&caps->ambient, err);
}
