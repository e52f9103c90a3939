/* Bind-mount volumes (the supervisor's runtime/sandbox_vm_vols.c): the
 * kernel command line says hull.vols=I0,I1,... (volume N is virtio-fs tag
 * hullvolN and serves mounts[IN], and every bind of the same source with
 * the same ro-ness), hull.volfiles=F0,... (host-file binds copied into one
 * more share, tag hullvolN with N the number of hull.vols entries, file
 * named after the mount index) and hull.skipmounts=J0,... (host-file binds
 * the supervisor could not share).  At boot each tag is mounted at
 * /run/hull/vol/N; at create the matching sources are rewritten to those
 * guest paths and skipped mounts are dropped, so the ordinary bind code in
 * runtime/container_mounts.c does the rest (ro included). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "cmd/hull-agent/agent.h"
#include "runtime/cleanup.h"
#include "runtime/pod.h"

#define AGENT_VOL_DIR "/run/hull/vol"
#define AGENT_MAX_VOLS 8
#define AGENT_MAX_SKIPS 64

/* The comma-separated numbers of KEY= on /proc/cmdline: count, or -1 if
 * malformed (logged).  0 when absent. */
static int
cmdline_list (const char *key, size_t *out, size_t max)
{
  cleanup_fclose FILE *f = fopen ("/proc/cmdline", "re");
  char line[4096];
  size_t klen = strlen (key), n = 0;
  const char *p;
  char *end;

  if (f == NULL || fgets (line, sizeof line, f) == NULL)
    return 0;
  for (p = line; (p = strstr (p, key)) != NULL; p++)
    if ((p == line || p[-1] == ' ') && p[klen] == '=')
      break;
  if (p == NULL)
    return 0;
  p += klen + 1;
  while (*p >= '0' && *p <= '9')
    {
      if (n >= max)
        break;
      out[n++] = strtoul (p, &end, 10);
      p = end;
      if (*p != ',')
        break;
      p++;
    }
  if (*p != ' ' && *p != '\n' && *p != '\0')
    {
      agent_log ("%s: malformed list", key);
      return -1;
    }
  return (int) n;
}

void
agent_vols_boot (void)
{
  size_t idx[AGENT_MAX_VOLS], files[AGENT_MAX_SKIPS];
  int n = cmdline_list ("hull.vols", idx, AGENT_MAX_VOLS);

  if (n >= 0 && cmdline_list ("hull.volfiles", files, AGENT_MAX_SKIPS) > 0)
    n++; /* the copied files' share */
  if (n > 0)
    {
      mkdir ("/run/hull", 0755);
      mkdir (AGENT_VOL_DIR, 0755);
    }
  for (int k = 0; k < n; k++)
    {
      char tag[32], dir[64];
      snprintf (tag, sizeof tag, "hullvol%d", k);
      snprintf (dir, sizeof dir, AGENT_VOL_DIR "/%d", k);
      mkdir (dir, 0755);
      if (mount (tag, dir, "virtiofs", 0, NULL) < 0)
        agent_log ("mount virtio-fs `%s` on %s: %s", tag, dir, strerror (errno));
    }
}

/* Every bind of the volume's source with its ro-ness now reads the
 * guest path; sources are compared before any is rewritten. */
static int
vols_rewrite (struct oci_config *c, const size_t *idx, int n, hull_error_t *err)
{
  cleanup_free char **orig = calloc (c->n_mounts ? c->n_mounts : 1, sizeof (char *));

  if (orig == NULL)
    return hull_error (err, ENOMEM, "volumes");
  for (int k = 0; k < n; k++)
    if (idx[k] >= c->n_mounts || !oci_mount_is_bind (&c->mounts[idx[k]])
        || c->mounts[idx[k]].source == NULL)
      return hull_error (err, EINVAL, "hull.vols: mounts[%zu] is not a bind mount", idx[k]);
  for (size_t j = 0; j < c->n_mounts; j++)
    orig[j] = c->mounts[j].source;
  for (size_t j = 0; j < c->n_mounts; j++)
    {
      struct oci_mount *m = &c->mounts[j];
      bool ro = oci_strv_has (&m->options, "ro");
      for (int k = 0; k < n && orig[j] != NULL && oci_mount_is_bind (m); k++)
        {
          const struct oci_mount *v = &c->mounts[idx[k]];
          char *guest = NULL;
          if (strcmp (orig[idx[k]], orig[j]) != 0 || oci_strv_has (&v->options, "ro") != ro)
            continue;
          if (asprintf (&guest, AGENT_VOL_DIR "/%d", k) < 0)
            return hull_error (err, ENOMEM, "volume path");
          m->source = guest;
          break;
        }
    }
  for (size_t j = 0; j < c->n_mounts; j++)
    if (c->mounts[j].source != orig[j])
      free (orig[j]);
  return 0;
}

/* mounts[files[k]] reads /run/hull/vol/<share>/<mount index>. */
static int
vols_files (struct oci_config *c, const size_t *files, int nf, int share, hull_error_t *err)
{
  for (int k = 0; k < nf; k++)
    {
      char *guest = NULL;
      if (files[k] >= c->n_mounts)
        return hull_error (err, EINVAL, "hull.volfiles: no mounts[%zu]", files[k]);
      if (asprintf (&guest, AGENT_VOL_DIR "/%d/%zu", share, files[k]) < 0)
        return hull_error (err, ENOMEM, "volume file path");
      free (c->mounts[files[k]].source);
      c->mounts[files[k]].source = guest;
    }
  return 0;
}

/* Skipped mounts go (in order) behind n_mounts, which shrinks; the
 * caller restores n_mounts to *total before freeing the config. */
static int
vols_skip (struct oci_config *c, const size_t *skip, int n, size_t *total, hull_error_t *err)
{
  cleanup_free struct oci_mount *tmp = NULL;
  size_t kept = 0, dropped = 0;

  *total = c->n_mounts;
  if (n <= 0)
    return 0;
  tmp = calloc (c->n_mounts, sizeof *tmp);
  if (tmp == NULL)
    return hull_error (err, ENOMEM, "skipped mounts");
  for (size_t j = 0; j < c->n_mounts; j++)
    {
      bool drop = false;
      for (int k = 0; k < n; k++)
        drop = drop || skip[k] == j;
      if (drop)
        agent_log ("mounts[%zu] on `%s`: a host file, skipped", j, c->mounts[j].destination);
      else
        tmp[kept++] = c->mounts[j];
    }
  for (size_t j = 0; j < c->n_mounts; j++)
    {
      bool drop = false;
      for (int k = 0; k < n; k++)
        drop = drop || skip[k] == j;
      if (drop)
        tmp[kept + dropped++] = c->mounts[j];
    }
  memcpy (c->mounts, tmp, c->n_mounts * sizeof *tmp);
  c->n_mounts = kept;
  return 0;
}

int
agent_vols_apply (struct oci_config *c, size_t *n_mounts_total, hull_error_t *err)
{
  size_t idx[AGENT_MAX_VOLS], skip[AGENT_MAX_SKIPS], files[AGENT_MAX_SKIPS];
  int n = cmdline_list ("hull.vols", idx, AGENT_MAX_VOLS);
  int ns = cmdline_list ("hull.skipmounts", skip, AGENT_MAX_SKIPS);
  int nf = cmdline_list ("hull.volfiles", files, AGENT_MAX_SKIPS);

  *n_mounts_total = c->n_mounts;
  if (n < 0 || ns < 0 || nf < 0)
    return hull_error (err, EINVAL,
                       "hull.vols / hull.volfiles / hull.skipmounts on the kernel command line");
  if (vols_rewrite (c, idx, n, err) < 0 || vols_files (c, files, nf, n, err) < 0)
    return -1;
  return vols_skip (c, skip, ns, n_mounts_total, err);
}

/* A pod container's binds (runtime/pod.h): the supervisor bound mounts[J]'s
 * source at bindDir/mJ in the share the VM mounted at boot; skipped ones
 * are dropped as above. */
int
agent_vols_apply_pod (struct oci_config *c, const struct pod_layout *l, size_t *n_mounts_total,
                      hull_error_t *err)
{
  *n_mounts_total = c->n_mounts;
  for (size_t k = 0; k < l->n_binds; k++)
    {
      struct oci_mount *m = &c->mounts[l->binds[k]];
      char *guest = NULL;

      if (!oci_mount_is_bind (m))
        return hull_error (err, EINVAL, "pod layout: mounts[%zu] is not a bind mount",
                           l->binds[k]);
      if (asprintf (&guest, "%s/m%zu", l->bind_dir, l->binds[k]) < 0)
        return hull_error (err, ENOMEM, "bind path");
      free (m->source);
      m->source = guest;
    }
  if (l->n_skips > (size_t) INT32_MAX)
    return hull_error (err, EINVAL, "pod layout: too many skipped mounts");
  return vols_skip (c, l->skips, (int) l->n_skips, n_mounts_total, err);
}
