/* The supervisor's host cgroup; see cgroup_host.h. */
#include "runtime/cgroup_host.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/cgroup_host_internal.h"
#include "runtime/json.h"

/* ---- cgroupsPath ---- */

static bool
has_dotdot (const char *p)
{
  for (const char *s = p; (s = strstr (s, "..")) != NULL; s += 2)
    if ((s == p || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
      return true;
  return false;
}

int
cgroup_systemd_slice_path (const char *slice, char **out, hull_error_t *err)
{
  size_t len = strlen (slice), base;
  char *buf, *w;

  *out = NULL;
  if (strcmp (slice, "-.slice") == 0)
    return (*out = strdup ("")) ? 0 : hull_error (err, ENOMEM, "slice");
  if (len <= 6 || strcmp (slice + len - 6, ".slice") != 0 || strchr (slice, '/') != NULL)
    return hull_error (err, EINVAL, "slice `%s`: expected NAME.slice without `/`", slice);
  base = len - 6;
  if (slice[0] == '-' || slice[base - 1] == '-' || strstr (slice, "--") != NULL)
    return hull_error (err, EINVAL, "slice `%s`: empty component between dashes", slice);
  /* Every dash-separated prefix is a parent slice. */
  buf = w = malloc (2 * len * (len + 8) + 1);
  if (buf == NULL)
    return hull_error (err, ENOMEM, "slice");
  for (size_t i = 0; i <= base; i++)
    if (i == base || slice[i] == '-')
      w += sprintf (w, "/%.*s.slice", (int) i, slice);
  *out = buf;
  return 0;
}

static int
systemd_path (const char *p, char **out, hull_error_t *err)
{
  const char *c1 = strchr (p, ':'), *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
  cleanup_free char *slice = NULL, *prefix = NULL, *sp = NULL;
  const char *name;

  if (c1 == NULL || c2 == NULL || strchr (c2 + 1, ':') != NULL || c2[1] == '\0')
    return hull_error (err, EINVAL,
                       "linux.cgroupsPath `%s`: with --systemd-cgroup expected "
                       "\"slice:prefix:name\"",
                       p);
  slice = c1 == p ? strdup ("system.slice") : strndup (p, (size_t) (c1 - p));
  prefix = strndup (c1 + 1, (size_t) (c2 - c1 - 1));
  name = c2 + 1;
  if (slice == NULL || prefix == NULL)
    return hull_error (err, ENOMEM, "cgroupsPath");
  if (strchr (name, '/') || strchr (prefix, '/'))
    return hull_error (err, EINVAL, "linux.cgroupsPath `%s`: `/` in the prefix or name", p);
  if (cgroup_systemd_slice_path (slice, &sp, err) < 0)
    return hull_error_prefix (err, "linux.cgroupsPath `%s`", p);
  size_t nl = strlen (name);
  int r;
  if (nl > 6 && strcmp (name + nl - 6, ".slice") == 0)
    r = asprintf (out, "%s/%s", sp, name);
  else if (prefix[0] == '\0')
    r = asprintf (out, "%s/%s.scope", sp, name);
  else
    r = asprintf (out, "%s/%s-%s.scope", sp, prefix, name);
  return r < 0 ? hull_error (err, ENOMEM, "cgroupsPath") : 0;
}

/* Collapse "//" and drop a trailing "/" and "./" components. */
static char *
clean_path (const char *p)
{
  char *out = malloc (strlen (p) + 1), *w = out;

  if (out == NULL)
    return NULL;
  for (const char *s = p; *s;)
    {
      if (*s == '/' && (w > out && w[-1] == '/'))
        s++;
      else if ((s == p || s[-1] == '/') && s[0] == '.' && (s[1] == '/' || s[1] == '\0'))
        s += s[1] ? 2 : 1;
      else
        *w++ = *s++;
    }
  while (w > out + 1 && w[-1] == '/')
    w--;
  *w = '\0';
  return out;
}

int
cgroup_path_resolve (const char *cgroups_path, bool systemd, char **out, hull_error_t *err)
{
  *out = NULL;
  if (cgroups_path == NULL)
    return 0;
  if (cgroups_path[0] == '\0')
    return hull_error (err, EINVAL, "linux.cgroupsPath: empty");
  if (systemd)
    return systemd_path (cgroups_path, out, err);
  if (strchr (cgroups_path, ':') != NULL)
    return hull_error (err, EINVAL,
                       "linux.cgroupsPath `%s`: looks like the systemd form "
                       "\"slice:prefix:name\"; pass --systemd-cgroup, or give a path",
                       cgroups_path);
  if (has_dotdot (cgroups_path))
    return hull_error (err, EINVAL, "linux.cgroupsPath `%s`: `..` is not allowed",
                       cgroups_path);
  *out = clean_path (cgroups_path);
  if (*out == NULL)
    return hull_error (err, ENOMEM, "cgroupsPath");
  if (strcmp (*out, "/") == 0 || **out == '\0')
    {
      free (*out);
      *out = NULL;
      return hull_error (err, EINVAL,
                         "linux.cgroupsPath `%s`: names the root cgroup, which hull will "
                         "not take over",
                         cgroups_path);
    }
  return 0;
}

/* ---- layout ---- */

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *
unescape (const char *s, size_t n)
{
  char *out = malloc (n + 1), *w = out;

  if (out == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++)
    if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3')
      {
        *w++ = (char) ((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
        i += 3;
      }
    else
      *w++ = s[i];
  *w = '\0';
  return out;
}

/* Field i (0-based, space separated) of a line. */
static bool
field (const char *line, int i, const char **start, size_t *len)
{
  const char *p = line;

  for (int k = 0; k < i; k++)
    {
      p = strchr (p, ' ');
      if (p == NULL)
        return false;
      p++;
    }
  *start = p;
  *len = strcspn (p, " \n");
  return true;
}

/* Does the comma list `opts` (length n) contain every item of `ctrls`? */
bool
cgroup_opts_have (const char *opts, size_t n, const char *ctrls)
{
  cleanup_free char *o = strndup (opts, n), *c = strdup (ctrls);
  char *save = NULL;

  if (o == NULL || c == NULL)
    return false;
  for (char *t = strtok_r (c, ",", &save); t; t = strtok_r (NULL, ",", &save))
    {
      size_t tl = strlen (t);
      bool found = false;
      for (const char *q = o; q && *q; q = strchr (q, ','), q = q ? q + 1 : NULL)
        if (strncmp (q, t, tl) == 0 && (q[tl] == ',' || q[tl] == '\0'))
          found = true;
      if (!found)
        return false;
    }
  return true;
}

struct mnt
{
  char *root, *point;
};

/* The mount of a hierarchy: cgroup2 for "", else cgroup with those
 * controllers among its super options.  0 found, 1 not mounted. */
static int
find_mount (const char *mountinfo, const char *ctrls, struct mnt *m)
{
  for (const char *line = mountinfo; line && *line;
       line = strchr (line, '\n'), line = line ? line + 1 : NULL)
    {
      const char *dash = strstr (line, " - "), *eol = strchr (line, '\n');
      const char *fs, *root, *point, *opts;
      size_t fsl, rl, pl, ol;

      if (dash == NULL || (eol && dash > eol) || !field (dash + 3, 0, &fs, &fsl)
          || !field (dash + 3, 2, &opts, &ol) || !field (line, 3, &root, &rl)
          || !field (line, 4, &point, &pl))
        continue;
      bool v2 = fsl == 7 && strncmp (fs, "cgroup2", 7) == 0;
      bool v1 = fsl == 6 && strncmp (fs, "cgroup", 6) == 0;
      if (ctrls[0] == '\0' ? !v2 : !(v1 && cgroup_opts_have (opts, ol, ctrls)))
        continue;
      m->root = unescape (root, rl);
      m->point = unescape (point, pl);
      return m->root && m->point ? 0 : -1;
    }
  return 1;
}

static int
add_hier (struct cgroup_layout *l, const char *ctrls, const char *self, struct mnt *m,
          hull_error_t *err)
{
  struct cgroup_hier *h = &l->h[l->n];
  size_t rl = strlen (m->root);

  if (l->n == CGROUP_MAX_HIER)
    return hull_error (err, E2BIG, "more than %d cgroup hierarchies", CGROUP_MAX_HIER);
  /* A mount of a subtree (a cgroup namespace or bind mount): our cgroup
   * is below its root. */
  if (strcmp (m->root, "/") != 0 && strncmp (self, m->root, rl) == 0
      && (self[rl] == '/' || self[rl] == '\0'))
    self += rl;
  h->mount = m->point;
  h->controllers = strdup (ctrls);
  h->self = strdup (self[0] ? self : "/");
  h->unified = ctrls[0] == '\0';
  m->point = NULL;
  if (h->controllers == NULL || h->self == NULL)
    return hull_error (err, ENOMEM, "cgroup layout");
  l->n++;
  return 0;
}

int
cgroup_layout_parse (const char *mountinfo, const char *self_cgroup, struct cgroup_layout *l,
                     hull_error_t *err)
{
  bool v1_controllers = false;
  const char *line;

  memset (l, 0, sizeof *l);
  for (line = self_cgroup; line && *line; line = strchr (line, '\n'), line = line ? line + 1 : NULL)
    {
      const char *c1 = strchr (line, ':'), *c2 = c1 ? strchr (c1 + 1, ':') : NULL;
      size_t sl;
      cleanup_free char *ctrls = NULL, *self = NULL;
      struct mnt m = { 0 };
      int r;

      if (c2 == NULL)
        continue;
      sl = strcspn (c2 + 1, "\n");
      ctrls = strndup (c1 + 1, (size_t) (c2 - c1 - 1));
      self = strndup (c2 + 1, sl);
      if (ctrls == NULL || self == NULL)
        return hull_error (err, ENOMEM, "cgroup layout");
      r = find_mount (mountinfo, ctrls, &m);
      if (r == 0)
        {
          r = add_hier (l, ctrls, self, &m, err);
          if (r == 0 && ctrls[0] != '\0' && strncmp (ctrls, "name=", 5) != 0)
            v1_controllers = true;
        }
      else if (r < 0)
        hull_error (err, ENOMEM, "cgroup layout");
      free (m.root);
      free (m.point);
      if (r < 0)
        {
          cgroup_layout_free (l);
          return -1;
        }
    }
  if (l->n == 0)
    return hull_error (err, ENOENT, "no cgroup hierarchy is mounted");
  l->v2 = !v1_controllers;
  return 0;
}

int
cgroup_layout_read (struct cgroup_layout *l, hull_error_t *err)
{
  cleanup_free char *mi = NULL, *self = NULL;
  size_t n;

  if (json_read_file ("/proc/self/mountinfo", &mi, &n, err) < 0
      || json_read_file ("/proc/self/cgroup", &self, &n, err) < 0)
    return -1;
  return cgroup_layout_parse (mi, self, l, err);
}

void
cgroup_layout_free (struct cgroup_layout *l)
{
  for (size_t i = 0; i < l->n; i++)
    {
      free (l->h[i].mount);
      free (l->h[i].controllers);
      free (l->h[i].self);
    }
  memset (l, 0, sizeof *l);
}

char *
cgroup_hier_dir (const struct cgroup_hier *h, const char *path)
{
  char *out = NULL;
  const char *self = strcmp (h->self, "/") == 0 ? "" : h->self;

  if (path[0] == '/')
    return asprintf (&out, "%s%s", h->mount, path) < 0 ? NULL : out;
  return asprintf (&out, "%s%s/%s", h->mount, self, path) < 0 ? NULL : out;
}

/* ---- files ---- */

int
cgroup_write_file (const char *dir, const char *file, const char *value, hull_error_t *err)
{
  cleanup_free char *path = NULL;
  cleanup_close int fd = -1;
  size_t n = strlen (value);

  if (asprintf (&path, "%s/%s", dir, file) < 0)
    return hull_error (err, ENOMEM, "cgroup path");
  fd = open (path, O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return hull_error (err, errno, "open `%s`", path);
  if (write (fd, value, n) != (ssize_t) n)
    return hull_error (err, errno, "write `%s` to `%s`", value, path);
  return 0;
}

/* ---- v2 settings (host on v2, and the guest agent) ---- */

unsigned long long
cgroup_shares_to_weight (unsigned long long shares)
{
  if (shares < 2)
    shares = 2;
  if (shares > 262144)
    shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

static void
kv (struct cgroup_kv *out, size_t *n, const char *file, const char *field, const char *fmt, ...)
  __attribute__ ((format (printf, 5, 6)));

static void
kv (struct cgroup_kv *out, size_t *n, const char *file, const char *field, const char *fmt, ...)
{
  va_list ap;

  if (*n == CGROUP_V2_MAX_KV)
    return;
  out[*n].file = file;
  out[*n].field = field;
  out[*n].optional = strcmp (file, "memory.swap.max") == 0;
  va_start (ap, fmt);
  vsnprintf (out[*n].value, sizeof out[*n].value, fmt, ap);
  va_end (ap);
  (*n)++;
}

size_t
cgroup_v2_settings (const struct oci_linux_resources *res, bool pids, struct cgroup_kv *out)
{
  const struct oci_memory *m = res ? res->memory : NULL;
  const struct oci_cpu *c = res ? res->cpu : NULL;
  size_t n = 0;

  if (m && m->has_limit)
    {
      if (m->limit > 0)
        kv (out, &n, "memory.max", "linux.resources.memory.limit", "%" PRId64, m->limit);
      else
        kv (out, &n, "memory.max", "linux.resources.memory.limit", "max");
    }
  if (m && m->has_swap)
    {
      /* OCI's swap is memory+swap; v2 counts swap alone. */
      if (m->swap < 0)
        kv (out, &n, "memory.swap.max", "linux.resources.memory.swap", "max");
      else if (m->has_limit && m->limit > 0 && m->swap >= m->limit)
        kv (out, &n, "memory.swap.max", "linux.resources.memory.swap", "%" PRId64,
            m->swap - m->limit);
    }
  if (c && c->has_shares && c->shares > 0)
    kv (out, &n, "cpu.weight", "linux.resources.cpu.shares", "%llu",
        cgroup_shares_to_weight (c->shares));
  if (c && (c->has_quota || c->has_period))
    {
      uint64_t period = c->has_period && c->period > 0 ? c->period : 100000;
      if (c->has_quota && c->quota > 0)
        kv (out, &n, "cpu.max", "linux.resources.cpu.quota", "%" PRId64 " %" PRIu64, c->quota,
            period);
      else
        kv (out, &n, "cpu.max", "linux.resources.cpu.quota", "max %" PRIu64, period);
    }
  if (c && c->cpus && c->cpus[0])
    kv (out, &n, "cpuset.cpus", "linux.resources.cpu.cpus", "%s", c->cpus);
  if (c && c->mems && c->mems[0])
    kv (out, &n, "cpuset.mems", "linux.resources.cpu.mems", "%s", c->mems);
  if (pids && res && res->pids)
    {
      if (res->pids->limit > 0)
        kv (out, &n, "pids.max", "linux.resources.pids.limit", "%" PRId64, res->pids->limit);
      else
        kv (out, &n, "pids.max", "linux.resources.pids.limit", "max");
    }
  return n;
}

/* ---- limits ---- */

static int
apply_v2 (const char *dir, const struct oci_linux_resources *res, hull_error_t *err)
{
  struct cgroup_kv s[CGROUP_V2_MAX_KV];
  size_t n = cgroup_v2_settings (res, false, s);

  for (size_t i = 0; i < n; i++)
    {
      char path[4096];
      snprintf (path, sizeof path, "%s/%s", dir, s[i].file);
      if (s[i].optional && access (path, F_OK) < 0)
        continue;
      if (cgroup_write_file (dir, s[i].file, s[i].value, err) < 0)
        return hull_error_prefix (err, "%s on the host", s[i].field);
    }
  return 0;
}

static int
apply_v1_one (const struct cgroup_hier *h, const char *dir,
              const struct oci_linux_resources *res, hull_error_t *err)
{
  const struct oci_memory *m = res->memory;
  const struct oci_cpu *c = res->cpu;
  char v[64];

  if (m && m->has_limit && cgroup_opts_have (h->controllers, strlen (h->controllers), "memory"))
    {
      snprintf (v, sizeof v, "%" PRId64, m->limit > 0 ? m->limit : -1);
      if (cgroup_write_file (dir, "memory.limit_in_bytes", v, err) < 0)
        return hull_error_prefix (err, "linux.resources.memory.limit on the host");
    }
  if (c && cgroup_opts_have (h->controllers, strlen (h->controllers), "cpu"))
    {
      if (c->has_shares && c->shares > 0)
        {
          snprintf (v, sizeof v, "%" PRIu64, c->shares);
          if (cgroup_write_file (dir, "cpu.shares", v, err) < 0)
            return hull_error_prefix (err, "linux.resources.cpu.shares on the host");
        }
      if (c->has_period && c->period > 0)
        {
          snprintf (v, sizeof v, "%" PRIu64, c->period);
          if (cgroup_write_file (dir, "cpu.cfs_period_us", v, err) < 0)
            return hull_error_prefix (err, "linux.resources.cpu.period on the host");
        }
      if (c->has_quota)
        {
          snprintf (v, sizeof v, "%" PRId64, c->quota > 0 ? c->quota : -1);
          if (cgroup_write_file (dir, "cpu.cfs_quota_us", v, err) < 0)
            return hull_error_prefix (err, "linux.resources.cpu.quota on the host");
        }
    }
  if (c && cgroup_opts_have (h->controllers, strlen (h->controllers), "cpuset"))
    {
      if (c->cpus && c->cpus[0] && cgroup_write_file (dir, "cpuset.cpus", c->cpus, err) < 0)
        return hull_error_prefix (err, "linux.resources.cpu.cpus on the host");
      if (c->mems && c->mems[0] && cgroup_write_file (dir, "cpuset.mems", c->mems, err) < 0)
        return hull_error_prefix (err, "linux.resources.cpu.mems on the host");
    }
  return 0;
}

int
cgroup_host_apply (const struct cgroup_host *cg, const struct oci_linux_resources *res,
                   hull_error_t *err)
{
  if (res == NULL)
    return 0;
  for (size_t i = 0; i < cg->layout.n; i++)
    {
      const struct cgroup_hier *h = &cg->layout.h[i];
      if (cg->dirs[i] == NULL)
        continue;
      if (h->unified ? (cg->layout.v2 && apply_v2 (cg->dirs[i], res, err) < 0)
                     : apply_v1_one (h, cg->dirs[i], res, err) < 0)
        return -1;
    }
  return 0;
}

/* The memory limit in force in the memory hierarchy; UINT64_MAX: none. */
static uint64_t
current_memory_limit (const struct cgroup_host *cg)
{
  for (size_t i = 0; i < cg->layout.n; i++)
    {
      const struct cgroup_hier *h = &cg->layout.h[i];
      cleanup_free char *path = NULL, *text = NULL;
      hull_error_t ignored = NULL;
      size_t n;
      bool v2 = h->unified && cg->layout.v2;

      if (cg->dirs[i] == NULL
          || (!v2 && !cgroup_opts_have (h->controllers, strlen (h->controllers), "memory"))
          || (h->unified && !v2))
        continue;
      if (asprintf (&path, "%s/%s", cg->dirs[i], v2 ? "memory.max" : "memory.limit_in_bytes") < 0
          || json_read_file (path, &text, &n, &ignored) < 0)
        {
          hull_error_free (&ignored);
          continue;
        }
      if (strncmp (text, "max", 3) == 0)
        return UINT64_MAX;
      return strtoull (text, NULL, 10);
    }
  return UINT64_MAX;
}

int
cgroup_host_update (const struct cgroup_host *cg, const struct oci_linux_resources *res,
                    hull_error_t *err)
{
  struct oci_linux_resources copy;
  struct oci_memory mem;
  uint64_t cur;

  if (res == NULL || cg->layout.n == 0)
    return 0;
  copy = *res;
  if (res->memory != NULL && res->memory->has_limit && res->memory->limit > 0
      && (cur = current_memory_limit (cg)) != UINT64_MAX && (uint64_t) res->memory->limit < cur)
    {
      mem = *res->memory;
      mem.has_limit = false;
      mem.has_swap = false;
      copy.memory = &mem;
    }
  return cgroup_host_apply (cg, &copy, err);
}
