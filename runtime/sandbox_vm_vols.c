/* Bind-mount volumes of a microVM container: every distinct host
 * directory that config.mounts binds gets its own virtiofsd and virtio-fs
 * device (tag "hullvolN"); the kernel command line tells the agent which
 * mount each volume serves (hull.vols=I0,I1,... : volume N serves
 * mounts[IN] and every other bind of the same source) so that it mounts
 * the tag at /run/hull/vol/N and rewrites those sources before the
 * ordinary bind-mount code runs.  The JSON the agent receives stays the
 * bundle's own, so both sides index the same mounts array.
 *
 * Host FILES cannot be shared one by one over virtio-fs and sharing their
 * directory would leak the neighbours: regular files up to VM_VOL_FILE_MAX
 * (Docker's /etc/hosts, /etc/resolv.conf, /etc/hostname) are copied at
 * create into <state_dir>/volfiles/<mount index>, shared read-only as the
 * last volume and announced as hull.volfiles=J0,... (a snapshot: later
 * host changes are not seen).  Other file binds (devices, big files) are
 * skipped with a warning and listed as hull.skipmounts=J0,... so the agent
 * drops them too. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/log.h"
#include "runtime/sandbox_vm.h"
#include "vmm/machine.h"
#include "vmm/virtio_fs.h"

/* The volume already serving this source with the same access, or -1. */
static int
vol_find (const struct sandbox *sb, const char *source, bool ro)
{
  for (size_t k = 0; k < sb->n_vols; k++)
    if (strcmp (sb->vols[k].source, source) == 0 && sb->vols[k].readonly == ro)
      return (int) k;
  return -1;
}

/* Appends ",N" (or "N" first) to *list. */
static int
list_add (char **list, size_t n, hull_error_t *err)
{
  char *s = NULL;
  if (asprintf (&s, "%s%s%zu", *list ? *list : "", *list ? "," : "", n) < 0)
    return hull_error (err, ENOMEM, "volume list");
  free (*list);
  *list = s;
  return 0;
}

static int
vol_add (struct sandbox *sb, size_t i, const char *source, bool ro, hull_error_t *err)
{
  if (sb->n_vols >= VM_MAX_VOLS)
    return hull_error (err, E2BIG,
                       "mounts[%zu].source `%s`: at most %d distinct host directories (host "
                       "files count as one) can be bind-mounted into a microVM",
                       i, source, VM_MAX_VOLS);
  virtiofsd_init (&sb->vols[sb->n_vols].fsd);
  sb->vols[sb->n_vols].fs = NULL;
  sb->vols[sb->n_vols].source = source;
  sb->vols[sb->n_vols].mount_idx = i;
  sb->vols[sb->n_vols].readonly = ro;
  sb->n_vols++;
  return 0;
}

/* A copy of mounts[i]'s file as <vol_files_dir>/<i>. */
static int
file_copy (struct sandbox *sb, size_t i, const struct stat *st, hull_error_t *err)
{
  const char *src = sb->config->mounts[i].source;
  cleanup_free char *dst = NULL;
  cleanup_close int in = -1, out = -1;
  off_t off = 0;

  if (sb->vol_files_dir == NULL)
    {
      if (asprintf (&sb->vol_files_dir, "%s/volfiles", sb->state_dir) < 0)
        return hull_error (err, ENOMEM, "volume files dir");
      if (mkdir (sb->vol_files_dir, 0755) < 0 && errno != EEXIST)
        return hull_error (err, errno, "mkdir `%s`", sb->vol_files_dir);
    }
  if (asprintf (&dst, "%s/%zu", sb->vol_files_dir, i) < 0)
    return hull_error (err, ENOMEM, "volume file path");
  in = open (src, O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return hull_error (err, errno, "mounts[%zu].source `%s`", i, src);
  out = open (dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st->st_mode & 0777);
  if (out < 0)
    return hull_error (err, errno, "create `%s`", dst);
  sb->vol_files[sb->n_vol_files++] = i;
  while (off < st->st_size)
    if (sendfile (out, in, &off, (size_t) (st->st_size - off)) <= 0)
      return hull_error (err, errno ? errno : EIO, "mounts[%zu].source `%s`: copy", i, src);
  return 0;
}

static int
vol_plan_one (struct sandbox *sb, size_t i, char **skips, hull_error_t *err)
{
  const struct oci_mount *m = &sb->config->mounts[i];
  bool ro = oci_strv_has (&m->options, "ro");
  struct stat st;

  if (m->source == NULL || m->source[0] != '/')
    return hull_error (err, EINVAL,
                       "mounts[%zu].source `%s`: a bind mount into a microVM needs an absolute "
                       "host path",
                       i, m->source ? m->source : "");
  if (stat (m->source, &st) < 0)
    return hull_error (err, errno, "mounts[%zu].source `%s`", i, m->source);
  if (S_ISREG (st.st_mode) && st.st_size <= (off_t) VM_VOL_FILE_MAX
      && sb->n_vol_files < VM_MAX_VOL_FILES)
    return file_copy (sb, i, &st, err);
  if (!S_ISDIR (st.st_mode))
    {
      log_warning (sb->log,
                   "container `%s`: mounts[%zu].source `%s` is not a directory nor a regular "
                   "file up to %u bytes (at most %d of them): it cannot be shared into the "
                   "microVM, the mount on `%s` is skipped",
                   sb->id, i, m->source, VM_VOL_FILE_MAX, VM_MAX_VOL_FILES, m->destination);
      return list_add (skips, i, err);
    }
  if (vol_find (sb, m->source, ro) >= 0)
    return 0;
  return vol_add (sb, i, m->source, ro, err);
}

/* The kernel command line words for the agent ("" without binds). */
static int
vols_cmdline (struct sandbox *sb, const char *skips, hull_error_t *err)
{
  cleanup_free char *idx = NULL, *files = NULL;

  for (size_t k = 0; k < sb->n_vols; k++)
    if (sb->vols[k].mount_idx != SIZE_MAX && list_add (&idx, sb->vols[k].mount_idx, err) < 0)
      return -1;
  for (size_t k = 0; k < sb->n_vol_files; k++)
    if (list_add (&files, sb->vol_files[k], err) < 0)
      return -1;
  if (asprintf (&sb->vols_cmdline, "%s%s%s%s%s%s", idx ? "hull.vols=" : "", idx ? idx : "",
                files ? " hull.volfiles=" : "", files ? files : "",
                skips ? " hull.skipmounts=" : "", skips ? skips : "")
      < 0)
    return hull_error (err, ENOMEM, "volume command line");
  return 0;
}

int
vm_vols_plan (struct sandbox *sb, hull_error_t *err)
{
  cleanup_free char *skips = NULL;

  for (size_t i = 0; i < sb->config->n_mounts; i++)
    if (oci_mount_is_bind (&sb->config->mounts[i]) && vol_plan_one (sb, i, &skips, err) < 0)
      return -1;
  /* The copies' share comes last: the agent numbers it after hull.vols. */
  if (sb->n_vol_files > 0 && vol_add (sb, sb->vol_files[0], sb->vol_files_dir, true, err) < 0)
    return -1;
  if (sb->n_vol_files > 0)
    sb->vols[sb->n_vols - 1].mount_idx = SIZE_MAX;
  return vols_cmdline (sb, skips, err);
}

int
vm_vols_start_daemons (struct sandbox *sb, hull_error_t *err)
{
  for (size_t k = 0; k < sb->n_vols; k++)
    {
      cleanup_free char *sock = NULL, *log = NULL;
      struct virtiofsd_config vc = { 0 };

      /* Socket 0 is the rootfs's. */
      if (virtiofsd_socket_path (&sock, sb->state_dir, (unsigned) k + 1, err) < 0)
        return -1;
      if (asprintf (&log, "%s/virtiofsd-vol%zu.log", sb->state_dir, k) < 0)
        return hull_error (err, ENOMEM, "virtiofsd log path");
      vc.binary = sb->settings.virtiofsd;
      vc.source = sb->vols[k].source;
      vc.socket_path = sock;
      vc.cache = sb->settings.virtiofsd_cache;
      vc.readonly = sb->vols[k].readonly;
      vc.log_path = log;
      if (virtiofsd_start (&sb->vols[k].fsd, &vc, err) < 0)
        return hull_error_prefix (err, "bind-mount volume `%s`", sb->vols[k].source);
    }
  return 0;
}

int
vm_vols_add_devices (struct sandbox *sb, hull_error_t *err)
{
  for (size_t k = 0; k < sb->n_vols; k++)
    {
      char tag[VIRTIO_FS_TAG_LEN];
      snprintf (tag, sizeof tag, "%s%zu", VM_VOL_TAG_PREFIX, k);
      if (virtio_fs_create (machine_vm (sb->m), tag, sb->vols[k].fsd.socket_path, &sb->vols[k].fs,
                            err)
          < 0)
        return hull_error_prefix (err, "virtio-fs for bind-mount volume `%s`",
                                  sb->vols[k].source);
    }
  return 0;
}

void
vm_vols_destroy_devices (struct sandbox *sb)
{
  for (size_t k = 0; k < sb->n_vols; k++)
    {
      if (sb->vols[k].fs != NULL)
        virtio_fs_destroy (sb->vols[k].fs);
      sb->vols[k].fs = NULL;
    }
}

void
vm_vols_stop_daemons (struct sandbox *sb)
{
  for (size_t k = 0; k < sb->n_vols; k++)
    virtiofsd_stop (&sb->vols[k].fsd);
  sb->n_vols = 0;
  free (sb->vols_cmdline);
  sb->vols_cmdline = NULL;
  /* The state dir is removed file by file: its volfiles dir goes here. */
  for (size_t k = 0; k < sb->n_vol_files && sb->vol_files_dir != NULL; k++)
    {
      char *f = NULL;
      if (asprintf (&f, "%s/%zu", sb->vol_files_dir, sb->vol_files[k]) >= 0)
        unlink (f);
      free (f);
    }
  if (sb->vol_files_dir != NULL)
    rmdir (sb->vol_files_dir);
  free (sb->vol_files_dir);
  sb->vol_files_dir = NULL;
  sb->n_vol_files = 0;
}
