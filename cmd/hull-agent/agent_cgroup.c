/* The container's cgroup inside the guest (cgroup v2 at /sys/fs/cgroup):
 * what `hull events --stats`, pause/resume and ps read, and where
 * linux.resources are enforced inside the VM: memory.max, memory.swap.max,
 * cpu.weight, cpu.max, cpuset and pids.max (runtime/cgroup_host.h
 * cgroup_v2_settings), at create and on update.  The VM's size bounds the
 * container as a whole; these make the limits exact (a fork beyond
 * pids.limit fails, cpu.max throttles below the vCPU count) and make the
 * guest kernel count OOM kills in memory.events, which the agent reports
 * to the host as OOM events. */
#include "cmd/hull-agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/cgroup_host.h"
#include "runtime/cleanup.h"


int
agent_cgroup_create (struct agent_container *c, hull_error_t *err)
{
  hull_error_t ignored = NULL;

  /* Named after the container so agents under test on one host do not
   * collide; in the VM there is only one. */
  snprintf (c->cgroup, sizeof c->cgroup, "/sys/fs/cgroup/hull-%s", c->id);
  if (mkdir (c->cgroup, 0755) < 0 && errno != EEXIST)
    return hull_error (err, errno, "mkdir `%s`", c->cgroup);
  /* Controllers the guest kernel lacks are not fatal: stats just omit
   * their numbers. */
  static const char *const ctrls[] = { "+memory", "+pids", "+cpu", "+io", "+cpuset" };
  for (size_t i = 0; i < sizeof ctrls / sizeof ctrls[0]; i++)
    if (cgroup_write_file ("/sys/fs/cgroup", "cgroup.subtree_control", ctrls[i], &ignored) < 0)
      {
        agent_log ("cgroup: %s", hull_error_msg (&ignored));
        hull_error_free (&ignored);
      }
  /* Limits before any container process joins. */
  if (c->config->linux_spec != NULL && c->config->linux_spec->resources != NULL)
    return agent_cgroup_apply (c, c->config->linux_spec->resources, err);
  return 0;
}

int
agent_cgroup_apply (const struct agent_container *c, const struct oci_linux_resources *r,
                    hull_error_t *err)
{
  struct cgroup_kv kv[CGROUP_V2_MAX_KV];
  size_t n = cgroup_v2_settings (r, true, kv);

  for (size_t i = 0; i < n; i++)
    {
      char path[256];
      /* cpu.cpus/mems name host CPUs and nodes: the guest has vCPUs
       * 0..n-1 (as many as the set, resources_map.h) and one node. */
      if (strncmp (kv[i].file, "cpuset.", 7) == 0)
        continue;
      snprintf (path, sizeof path, "%s/%s", c->cgroup, kv[i].file);
      if (kv[i].optional && access (path, F_OK) < 0)
        continue;
      if (cgroup_write_file (c->cgroup, kv[i].file, kv[i].value, err) < 0)
        return hull_error_prefix (err, "%s in the guest", kv[i].field);
    }
  return 0;
}

int
agent_cgroup_update (const struct agent_container *c, const char *json, hull_error_t *err)
{
  struct oci_linux_resources *r = NULL;
  int ret;

  if (json == NULL)
    return hull_error (err, EINVAL, "update: no resources");
  if (oci_resources_parse_data (json, strlen (json), &r, err) < 0)
    return hull_error_prefix (err, "update: resources");
  ret = agent_cgroup_apply (c, r, err);
  oci_resources_free (r);
  return ret;
}

int
agent_cgroup_join (const struct agent_container *c, pid_t pid, hull_error_t *err)
{
  char buf[24];

  snprintf (buf, sizeof buf, "%d", (int) pid);
  return cgroup_write_file (c->cgroup, "cgroup.procs", buf, err);
}

/* First number of a file, or of the line starting with `key` (flat-keyed
 * files like cpu.stat).  "max" reads as 0.  1 when found. */
static int
read_u64 (const char *path, const char *key, uint64_t *out)
{
  cleanup_fclose FILE *f = fopen (path, "re");
  char line[256];
  size_t klen = key ? strlen (key) : 0;

  if (f == NULL)
    return 0;
  while (fgets (line, sizeof line, f))
    {
      char *v = line;
      if (key)
        {
          if (strncmp (line, key, klen) != 0 || (line[klen] != ' ' && line[klen] != ':'))
            continue;
          v = line + klen + 1;
        }
      while (*v == ' ' || *v == '\t')
        v++;
      if (strncmp (v, "max", 3) == 0)
        *out = 0;
      else
        *out = strtoull (v, NULL, 10);
      return 1;
    }
  return 0;
}

static void
put_stat (struct hull_msgbuf *mb, uint16_t tag, const char *dir, const char *file,
          const char *key, uint64_t scale)
{
  char path[256];
  uint64_t v;

  snprintf (path, sizeof path, "%s/%s", dir, file);
  if (read_u64 (path, key, &v))
    hull_msgbuf_put_u64 (mb, tag, v * scale);
}

int
agent_cgroup_stats (const struct agent_container *c, struct hull_msgbuf *mb,
                    hull_error_t *err)
{
  (void) err;
  put_stat (mb, HULL_ATTR_MEM_USAGE, c->cgroup, "memory.current", NULL, 1);
  put_stat (mb, HULL_ATTR_MEM_LIMIT, c->cgroup, "memory.max", NULL, 1);
  put_stat (mb, HULL_ATTR_MEM_SWAP_USAGE, c->cgroup, "memory.swap.current", NULL, 1);
  put_stat (mb, HULL_ATTR_CPU_USAGE_USEC, c->cgroup, "cpu.stat", "usage_usec", 1);
  put_stat (mb, HULL_ATTR_CPU_USER_USEC, c->cgroup, "cpu.stat", "user_usec", 1);
  put_stat (mb, HULL_ATTR_CPU_SYSTEM_USEC, c->cgroup, "cpu.stat", "system_usec", 1);
  put_stat (mb, HULL_ATTR_PIDS_CURRENT, c->cgroup, "pids.current", NULL, 1);
  put_stat (mb, HULL_ATTR_PIDS_LIMIT, c->cgroup, "pids.max", NULL, 1);
  put_stat (mb, HULL_ATTR_OOM_KILLS, c->cgroup, "memory.events", "oom_kill", 1);
  put_stat (mb, HULL_ATTR_MEMINFO_TOTAL, "/proc", "meminfo", "MemTotal", 1024);
  put_stat (mb, HULL_ATTR_MEMINFO_FREE, "/proc", "meminfo", "MemFree", 1024);
  put_stat (mb, HULL_ATTR_MEMINFO_AVAILABLE, "/proc", "meminfo", "MemAvailable", 1024);
  return 0;
}

int
agent_cgroup_freeze (const struct agent_container *c, bool frozen, hull_error_t *err)
{
  return cgroup_write_file (c->cgroup, "cgroup.freeze", frozen ? "1" : "0", err);
}

int
agent_cgroup_pids (const struct agent_container *c, struct hull_msgbuf *mb,
                   hull_error_t *err)
{
  char path[256];
  cleanup_fclose FILE *f = NULL;
  cleanup_free uint8_t *buf = NULL;
  size_t n = 0, cap = 0;
  long pid;

  snprintf (path, sizeof path, "%s/cgroup.procs", c->cgroup);
  f = fopen (path, "re");
  if (f == NULL)
    return hull_error (err, errno, "open `%s`", path);
  while (fscanf (f, "%ld", &pid) == 1)
    {
      uint32_t v = agent_ns_pid ((pid_t) pid);
      if (n + 4 > cap)
        {
          cap = cap ? cap * 2 : 256;
          uint8_t *nb = realloc (buf, cap);
          if (nb == NULL)
            return hull_error (err, errno, "allocate pid list");
          buf = nb;
        }
      for (int i = 0; i < 4; i++)
        buf[n + (size_t) i] = (uint8_t) (v >> (8 * i));
      n += 4;
    }
  hull_msgbuf_put_bytes (mb, HULL_ATTR_PIDS, buf, n);
  return 0;
}

/* Guest OOM kills of the container's processes (memory.events oom_kill
 * counts every OOM killer's victims in the cgroup, the guest-wide one
 * included): an OOM event to the host when the count grew.  Called before
 * exits are sent, so the host hears of the OOM before the exit it caused. */
static int
oom_check_one (struct agent *a, struct agent_container *c, hull_error_t *err)
{
  struct hull_msgbuf mb;
  char path[256];
  uint64_t kills = 0;

  snprintf (path, sizeof path, "%s/memory.events", c->cgroup);
  if (!read_u64 (path, "oom_kill", &kills) || kills <= c->oom_kills)
    return 0;
  c->oom_kills = kills;
  agent_log ("container %s: %llu process(es) OOM-killed", c->id, (unsigned long long) kills);
  hull_msgbuf_init (&mb, HULL_FRAME_EVENT, HULL_EVENT_OOM, 0);
  hull_msgbuf_put_str (&mb, HULL_ATTR_CONTAINER_ID, c->id);
  hull_msgbuf_put_u64 (&mb, HULL_ATTR_OOM_KILLS, kills);
  int r = hull_conn_send_msg (&a->conn, &mb, err);
  hull_msgbuf_free (&mb);
  return r;
}

int
agent_cgroup_oom_check (struct agent *a, hull_error_t *err)
{
  for (size_t i = 0; i < a->n_ctrs; i++)
    if (!a->ctrs[i]->deleted && oom_check_one (a, a->ctrs[i], err) < 0)
      return -1;
  return 0;
}

int
agent_cgroup_signal (const struct agent_container *c, int sig, hull_error_t *err)
{
  char path[256];
  cleanup_fclose FILE *f = NULL;
  long pid;

  snprintf (path, sizeof path, "%s/cgroup.kill", c->cgroup);
  /* cgroup.kill (Linux 5.14) leaves no process a chance to fork away. */
  if (sig == SIGKILL && access (path, F_OK) == 0)
    return cgroup_write_file (c->cgroup, "cgroup.kill", "1", err);
  snprintf (path, sizeof path, "%s/cgroup.procs", c->cgroup);
  f = fopen (path, "re");
  if (f == NULL)
    return hull_error (err, errno, "open `%s`", path);
  while (fscanf (f, "%ld", &pid) == 1)
    if (kill ((pid_t) pid, sig) < 0 && errno != ESRCH)
      return hull_error (err, errno, "signal %d to pid %ld of container `%s`", sig, pid, c->id);
  return 0;
}

void
agent_cgroup_remove (const struct agent_container *c)
{
  if (c->cgroup[0] != '\0' && rmdir (c->cgroup) < 0 && errno != ENOENT)
    agent_log ("remove %s: %s", c->cgroup, strerror (errno));
}
