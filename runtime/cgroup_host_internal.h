/* Shared by cgroup_host.c and cgroup_host_dirs.c. */
#ifndef HULL_CGROUP_HOST_INTERNAL_H
#define HULL_CGROUP_HOST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/error.h"

/* Does the comma list opts (length n) hold every item of the comma list
 * ctrls? ("rw,cpu,cpuacct" holds "cpu"; "cpuset" does not.) */
bool cgroup_opts_have (const char *opts, size_t n, const char *ctrls);

#endif
