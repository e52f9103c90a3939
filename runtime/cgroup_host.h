/* The supervisor's host cgroup: linux.cgroupsPath on the host.
 *
 * The supervisor holds the VMM (its vCPU and device threads) and starts
 * virtiofsd, so placing the supervisor in the container's cgroup before
 * the backend creates anything puts the whole microVM there: `docker
 * stats`, the kubelet and containerd see what the container really costs
 * the host, and the host enforces the limits that make sense for the VM as
 * a whole.  This is done by the supervisor itself, before the backend's
 * create, so it is the same for every backend (build/hull-test's host
 * processes land there too, which is how the host lane tests it).
 *
 * cgroupsPath:
 *   - absent: no placement (hull creates no cgroup unless told where; the
 *     VM's size already bounds it).  Docker, containerd and the kubelet
 *     always pass one.
 *   - cgroupfs (default): "/a/b" is relative to each hierarchy's mount
 *     point; "a/b" is relative to the cgroup the caller (hull create) is
 *     in, per hierarchy, as runc does.  ".." components are refused.
 *   - --systemd-cgroup: "slice:prefix:name" (empty slice = system.slice),
 *     mapped to the cgroupfs path systemd would give the scope:
 *     "system.slice:docker:ID" -> /system.slice/docker-ID.scope, and
 *     "kubepods-burstable-podU.slice:cri-containerd:ID" ->
 *     /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podU.slice/
 *     cri-containerd-ID.scope.  A name ending in ".slice" is used as is.
 *     hull creates that directory itself; it does not ask systemd over
 *     D-Bus for a transient scope, so systemd does not know the unit (it
 *     leaves foreign cgroups alone; `systemctl status` will not list it).
 *
 * Hierarchies: every hierarchy of /proc/self/cgroup that is mounted
 * (/proc/self/mountinfo): on cgroup v2 the unified one; on v1 each
 * controller hierarchy (memory, cpu, cpuacct, cpuset, pids, ... and
 * name=systemd) plus, in hybrid mode, the unified one (no controllers).
 *
 * Limits written on the host (the VM as a whole):
 *   memory.limit -> memory.limit_in_bytes / memory.max (the VM must fit in
 *                   the container's limit: guest RAM is sized below it,
 *                   runtime/resources_map.h);
 *   cpu.shares/quota/period -> cpu.shares, cpu.cfs_quota_us/period_us /
 *                   cpu.weight, cpu.max;
 *   cpu.cpus/mems -> cpuset.cpus/mems (v1 also copies the parent's into
 *                   every directory it creates, or nothing could join).
 * The container's pids.limit is NOT copied: the host cgroup holds the
 * VMM's threads and virtiofsd, not the container's processes, which the
 * guest limits (hull-agent).  The rest of linux.resources applies in the
 * guest or not at all.
 *
 * Removal: the directories hull created (never one that existed) are
 * listed in <state dir>/cgroups, one per line, parents first; `hull
 * delete` (and a failed create) removes them, deepest first, once the
 * supervisor is gone. */
#ifndef HULL_CGROUP_HOST_H
#define HULL_CGROUP_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "runtime/error.h"
#include "runtime/oci_config.h"

#define CGROUP_MAX_HIER 16
#define CGROUP_RECORD_FILE "cgroups"

struct cgroup_hier
{
  char *mount;       /* where it is mounted */
  char *controllers; /* "memory", "cpu,cpuacct", "name=systemd"; "" unified */
  char *self;        /* our cgroup in it, relative to the mount */
  bool unified;
};

struct cgroup_layout
{
  struct cgroup_hier h[CGROUP_MAX_HIER];
  size_t n;
  bool v2; /* the unified hierarchy carries the controllers */
};

/* One directory per hierarchy, in layout order. */
struct cgroup_host
{
  struct cgroup_layout layout;
  char *dirs[CGROUP_MAX_HIER];
  char *record; /* the record file, NULL: none */
};

/* cgroupsPath -> "/abs/path" or "rel/path"; *out NULL when absent. */
/* Write value to dir/file in one write(2), as cgroupfs wants; errors name
 * the path.  Also the guest agent's writer. */
int cgroup_write_file (const char *dir, const char *file, const char *value, hull_error_t *err);
int cgroup_path_resolve (const char *cgroups_path, bool systemd, char **out, hull_error_t *err);
/* "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice" ("-.slice": ""). */
int cgroup_systemd_slice_path (const char *slice, char **out, hull_error_t *err);

/* From the texts of /proc/self/mountinfo and /proc/self/cgroup. */
int cgroup_layout_parse (const char *mountinfo, const char *self_cgroup, struct cgroup_layout *l,
                         hull_error_t *err);
int cgroup_layout_read (struct cgroup_layout *l, hull_error_t *err);
void cgroup_layout_free (struct cgroup_layout *l);

/* The directory of `path` (from cgroup_path_resolve) in hierarchy h. */
char *cgroup_hier_dir (const struct cgroup_hier *h, const char *path);

/* Create the directories, write the limits, record what was created in
 * record_path and move pid in.  A failure removes what it created. */
int cgroup_host_setup (struct cgroup_host *cg, const char *path,
                       const struct oci_linux_resources *res, const char *record_path, pid_t pid,
                       hull_error_t *err);
/* Write the limits of res (setup and update). */
int cgroup_host_apply (const struct cgroup_host *cg, const struct oci_linux_resources *res,
                       hull_error_t *err);
/* `hull update`: like apply, but the host memory limit is never lowered:
 * guest RAM the VM has touched stays resident (there is no balloon), so a
 * lower host limit would OOM-kill the VMM instead of a process in the
 * guest; the guest's cgroup enforces the lower limit instead. */
int cgroup_host_update (const struct cgroup_host *cg, const struct oci_linux_resources *res,
                        hull_error_t *err);
void cgroup_host_free (struct cgroup_host *cg);

/* Remove the directories listed in record_path (deepest first, waiting a
 * little for exiting processes) and the record.  A missing record is
 * nothing to do. */
int cgroup_host_remove_recorded (const char *record_path, hull_error_t *err);

/* The supervisor's step: cgroupsPath of cfg (absent: nothing), the
 * layout of this host, setup with our own pid.  *cg is zeroed first. */
int cgroup_host_place_self (struct cgroup_host *cg, const struct oci_config *cfg, bool systemd,
                            const char *state_dir, hull_error_t *err);

/* cgroup v2 files and values for res: memory.max, memory.swap.max,
 * cpu.weight, cpu.max, cpuset.cpus/mems and (with pids) pids.max; the
 * agent writes them in the guest, the host on v2.  Returns how many
 * (at most CGROUP_V2_MAX_KV); values are in the static-size buffers. */
#define CGROUP_V2_MAX_KV 8
struct cgroup_kv
{
  const char *file;
  const char *field; /* the linux.resources field it comes from */
  bool optional;     /* skip when the file does not exist (memory.swap.max
                        without swap accounting) */
  char value[64];
};
size_t cgroup_v2_settings (const struct oci_linux_resources *res, bool pids,
                           struct cgroup_kv *out);
/* cpu.shares (2..262144) -> cpu.weight (1..10000), as runc/crun map it. */
unsigned long long cgroup_shares_to_weight (unsigned long long shares);

#endif
