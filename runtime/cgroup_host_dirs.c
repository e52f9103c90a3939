/* The supervisor's host cgroup: directories, the record of what hull
 * created, moving in, removal (see cgroup_host.h). */
#include "runtime/cgroup_host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/cgroup_host_internal.h"
#include "runtime/cleanup.h"
#include "runtime/json.h"

#define RMDIR_TRIES 50 /* x 20 ms: processes of a dead supervisor leaving */

/* v1 cpuset: a new directory has empty cpus/mems and nothing can join it
 * until they are filled: copy the parent's. */
static int
cpuset_inherit (const char *dir, hull_error_t *err)
{
  static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };
  cleanup_free char *parent = strdup (dir);
  char *slash;

  if (parent == NULL || (slash = strrchr (parent, '/')) == NULL)
    return hull_error (err, ENOMEM, "cpuset");
  *slash = '\0';
  for (size_t i = 0; i < 2; i++)
    {
      cleanup_free char *path = NULL, *val = NULL;
      size_t n;
      if (asprintf (&path, "%s/%s", parent, files[i]) < 0)
        return hull_error (err, ENOMEM, "cpuset");
      if (json_read_file (path, &val, &n, err) < 0)
        return -1;
      val[strcspn (val, "\n")] = '\0';
      if (val[0] != '\0' && cgroup_write_file (dir, files[i], val, err) < 0)
        return -1;
    }
  return 0;
}

/* ---- directories ---- */

struct created
{
  char *dirs[CGROUP_MAX_HIER * 16];
  size_t n;
};

static void
created_undo (struct created *c)
{
  while (c->n > 0)
    {
      char *d = c->dirs[--c->n];
      rmdir (d);
      free (d);
    }
}

/* Is `w` one of the space-separated words of `list`? */
static bool
word_in (const char *list, const char *w)
{
  size_t wl = strlen (w);

  for (const char *p = list; (p = strstr (p, w)) != NULL; p += wl)
    if ((p == list || p[-1] == ' ') && (p[wl] == ' ' || p[wl] == '\n' || p[wl] == '\0'))
      return true;
  return false;
}

/* v2: a child gets the controllers its parent enables for its subtree.
 * Enable what is available, from the mount down to dir's parent (the root
 * cgroup may hold processes; an inner cgroup that does would refuse with
 * EBUSY, and then the limit files are missing and writing them fails
 * with a message naming the field). */
static void
v2_enable (const char *mount, const char *dir)
{
  cleanup_free char *p = strdup (dir);
  size_t ml = strlen (mount);

  if (p == NULL)
    return;
  for (char *s = p + ml;; s = strchr (s + 1, '/'))
    {
      cleanup_free char *avail = NULL;
      hull_error_t ignored = NULL;
      char path[4096];
      size_t n;

      if (s == NULL)
        break;
      *s = '\0';
      snprintf (path, sizeof path, "%s/cgroup.controllers", p[0] ? p : "/");
      if (json_read_file (path, &avail, &n, &ignored) == 0)
        {
          static const char *const want[] = { "memory", "cpu", "cpuset", "pids" };
          for (size_t i = 0; i < 4; i++)
            {
              char plus[16];
              if (!word_in (avail, want[i]))
                continue;
              snprintf (plus, sizeof plus, "+%s", want[i]);
              cgroup_write_file (p, "cgroup.subtree_control", plus, &ignored);
              hull_error_free (&ignored);
            }
        }
      hull_error_free (&ignored);
      *s = '/';
    }
}

/* mkdir -p, remembering what did not exist. */
static int
mkdirs (const char *mount, const char *dir, bool v1_cpuset, struct created *c,
        hull_error_t *err)
{
  cleanup_free char *p = strdup (dir);
  size_t ml = strlen (mount);

  if (p == NULL)
    return hull_error (err, ENOMEM, "cgroup path");
  for (char *s = p + ml + 1;; s++)
    {
      bool end = *s == '\0';
      if (!end && *s != '/')
        continue;
      *s = '\0';
      if (mkdir (p, 0755) == 0)
        {
          if (c->n == sizeof c->dirs / sizeof c->dirs[0] || (c->dirs[c->n] = strdup (p)) == NULL)
            return hull_error (err, ENOMEM, "cgroup path");
          c->n++;
          if (v1_cpuset && cpuset_inherit (p, err) < 0)
            return -1;
        }
      else if (errno != EEXIST)
        return hull_error (err, errno, "mkdir `%s`", p);
      if (end)
        return 0;
      *s = '/';
    }
}

static int
record_write (const char *path, const struct created *c, hull_error_t *err)
{
  cleanup_fclose FILE *f = fopen (path, "we");

  if (f == NULL)
    return hull_error (err, errno, "open `%s`", path);
  for (size_t i = 0; i < c->n; i++)
    fprintf (f, "%s\n", c->dirs[i]);
  if (fflush (f) != 0)
    return hull_error (err, errno, "write `%s`", path);
  return 0;
}

static int
enter (const struct cgroup_host *cg, pid_t pid, hull_error_t *err)
{
  char v[24];

  snprintf (v, sizeof v, "%d", (int) pid);
  for (size_t i = 0; i < cg->layout.n; i++)
    if (cgroup_write_file (cg->dirs[i], "cgroup.procs", v, err) < 0)
      return hull_error_prefix (err, "move the supervisor into linux.cgroupsPath");
  return 0;
}

int
cgroup_host_setup (struct cgroup_host *cg, const char *path,
                   const struct oci_linux_resources *res, const char *record_path, pid_t pid,
                   hull_error_t *err)
{
  struct created c = { .n = 0 };

  for (size_t i = 0; i < cg->layout.n; i++)
    {
      const struct cgroup_hier *h = &cg->layout.h[i];
      bool cpuset = !h->unified && cgroup_opts_have (h->controllers, strlen (h->controllers),
                                                   "cpuset");
      cg->dirs[i] = cgroup_hier_dir (h, path);
      if (cg->dirs[i] == NULL)
        {
          hull_error (err, ENOMEM, "cgroup path");
          goto fail;
        }
      if (mkdirs (h->mount, cg->dirs[i], cpuset, &c, err) < 0)
        {
          hull_error_prefix (err, "linux.cgroupsPath `%s`", path);
          goto fail;
        }
      if (h->unified && cg->layout.v2)
        v2_enable (h->mount, cg->dirs[i]);
    }
  if (record_path != NULL && record_write (record_path, &c, err) < 0)
    goto fail;
  if (cgroup_host_apply (cg, res, err) < 0 || enter (cg, pid, err) < 0)
    goto fail;
  cg->record = record_path ? strdup (record_path) : NULL;
  for (size_t i = 0; i < c.n; i++)
    free (c.dirs[i]);
  return 0;
fail:
  created_undo (&c);
  if (record_path != NULL)
    unlink (record_path);
  for (size_t i = 0; i < CGROUP_MAX_HIER; i++)
    {
      free (cg->dirs[i]);
      cg->dirs[i] = NULL;
    }
  return -1;
}

void
cgroup_host_free (struct cgroup_host *cg)
{
  for (size_t i = 0; i < CGROUP_MAX_HIER; i++)
    free (cg->dirs[i]);
  free (cg->record);
  cgroup_layout_free (&cg->layout);
  memset (cg, 0, sizeof *cg);
}

int
cgroup_host_remove_recorded (const char *record_path, hull_error_t *err)
{
  cleanup_free char *text = NULL;
  char *lines[CGROUP_MAX_HIER * 16];
  size_t n = 0, len;
  int r = 0;

  if (access (record_path, F_OK) < 0)
    return 0;
  if (json_read_file (record_path, &text, &len, err) < 0)
    return -1;
  for (char *save = NULL, *t = strtok_r (text, "\n", &save);
       t != NULL && n < sizeof lines / sizeof lines[0]; t = strtok_r (NULL, "\n", &save))
    lines[n++] = t;
  while (n > 0)
    {
      const char *d = lines[--n];
      int tries = 0;
      while (rmdir (d) < 0 && errno == EBUSY && ++tries < RMDIR_TRIES)
        nanosleep (&(struct timespec){ .tv_nsec = 20 * 1000 * 1000 }, NULL);
      if (access (d, F_OK) == 0 && r == 0)
        r = hull_error (err, errno, "remove cgroup `%s`", d);
    }
  if (r == 0)
    unlink (record_path);
  return r;
}

int
cgroup_host_place_self (struct cgroup_host *cg, const struct oci_config *cfg, bool systemd,
                        const char *state_dir, hull_error_t *err)
{
  const struct oci_linux *l = cfg->linux_spec;
  cleanup_free char *path = NULL, *record = NULL;

  memset (cg, 0, sizeof *cg);
  if (cgroup_path_resolve (l ? l->cgroups_path : NULL, systemd, &path, err) < 0)
    return -1;
  if (path == NULL)
    return 0;
  if (asprintf (&record, "%s/%s", state_dir, CGROUP_RECORD_FILE) < 0)
    return hull_error (err, ENOMEM, "cgroup record");
  if (cgroup_layout_read (&cg->layout, err) < 0)
    return hull_error_prefix (err, "linux.cgroupsPath `%s`", path);
  if (cgroup_host_setup (cg, path, l->resources, record, getpid (), err) < 0)
    {
      cgroup_host_free (cg);
      return -1;
    }
  return 0;
}

