/* OCI process.rlimits.  The OCI model resolved the names and checked
 * soft <= hard; a value of 2^64-1 is RLIM_INFINITY on Linux. */
#include "runtime/process_setup.h"

#include <errno.h>
#include <sys/resource.h>

int
process_rlimits_apply (const struct oci_rlimit *r, size_t n, hull_error_t *err)
{
  for (size_t i = 0; i < n; i++)
    {
      struct rlimit rl = { .rlim_cur = (rlim_t) r[i].soft,
                           .rlim_max = (rlim_t) r[i].hard };

      if (setrlimit ((__rlimit_resource_t) r[i].resource, &rl) < 0)
        return hull_error (err, errno, "process.rlimits[%zu]: set %s to %llu/%llu", i,
                           r[i].type ? r[i].type : "?",
                           (unsigned long long) r[i].soft,
                           (unsigned long long) r[i].hard);
    }
  return 0;
}
