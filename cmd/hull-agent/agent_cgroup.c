/* The container's cgroup inside the guest (cgroup v2 at /sys/fs/cgroup):
 * what `hull events --stats`, pause/resume and ps read.  The VM itself
 * is the resource boundary, so linux.resources are not written here. */
#include "cmd/hull-agent/agent.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/cleanup.h"

static int
write_str (const char *dir, const char *file, const char *value, hull_error_t *err)
{
  char path[256];
  cleanup_close int fd = -1;
  size_t n = strlen (value);

  snprintf (path, sizeof path, "%s/%s", dir, file);
  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return hull_error (err, errno, "open `%s`", path);
  if (write (fd, value, n) != (ssize_t) n)
    return hull_error (err, errno, "write `%s` to `%s`", value, path);
  return 0;
}

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
  static const char *const ctrls[] = { "+memory", "+pids", "+cpu", "+io" };
  for (size_t i = 0; i < sizeof ctrls / sizeof ctrls[0]; i++)
    if (write_str ("/sys/fs/cgroup", "cgroup.subtree_control", ctrls[i], &ignored) < 0)
      {
        agent_log ("cgroup: %s", hull_error_msg (&ignored));
        hull_error_free (&ignored);
      }
  return 0;
}

int
agent_cgroup_join (const struct agent_container *c, pid_t pid, hull_error_t *err)
{
  char buf[24];

  snprintf (buf, sizeof buf, "%d", (int) pid);
  return write_str (c->cgroup, "cgroup.procs", buf, err);
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
  return write_str (c->cgroup, "cgroup.freeze", frozen ? "1" : "0", err);
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
