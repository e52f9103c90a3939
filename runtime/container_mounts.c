/* OCI mounts, the root switch, masked/readonly paths and root
 * propagation.  Guest only (they run in the container child, in its own
 * mount namespace, as root of the dedicated VM), but for
 * container_mountpoints_make, which the host runs for a read-only root. */
#include "runtime/container_setup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/cleanup.h"

/* Open `path` (relative to root_fd, absolute or not) with symlinks
 * resolved inside root_fd, creating it (directory, or empty file when
 * `file`) and its parents when missing.  Returns an O_PATH fd. */
static int
open_in_root (int root_fd, const char *path, bool create, bool file,
              hull_error_t *err)
{
  struct open_how how = { .flags = O_PATH | O_CLOEXEC,
                          .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
  cleanup_free char *copy = NULL;
  cleanup_close int parent = -1;
  char *slash, *base;
  int fd;

  while (*path == '/')
    path++;
  if (*path == '\0')
    return (int) fcntl (root_fd, F_DUPFD_CLOEXEC, 0);
  fd = (int) syscall (SYS_openat2, root_fd, path, &how, sizeof how);
  if (fd >= 0 || errno != ENOENT || !create)
    return fd >= 0 ? fd : hull_error (err, errno, "open `/%s` in the container root", path);
  copy = strdup (path);
  if (copy == NULL)
    return hull_error (err, errno, "strdup");
  slash = strrchr (copy, '/');
  base = slash ? slash + 1 : copy;
  if (slash)
    *slash = '\0';
  parent = open_in_root (root_fd, slash ? copy : "", true, false, err);
  if (parent < 0)
    return -1;
  if (file)
    {
      int f = openat (parent, base, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (f < 0 && errno != EEXIST)
        return hull_error (err, errno, "create `/%s` in the container root", path);
      if (f >= 0)
        close (f);
    }
  else if (mkdirat (parent, base, 0755) < 0 && errno != EEXIST)
    return hull_error (err, errno, "mkdir `/%s` in the container root", path);
  fd = (int) syscall (SYS_openat2, root_fd, path, &how, sizeof how);
  if (fd < 0)
    return hull_error (err, errno, "open `/%s` in the container root", path);
  return fd;
}

static int
fd_path (int fd, char buf[64])
{
  return snprintf (buf, 64, "/proc/self/fd/%d", fd);
}

/* Bind sources that are files get a file as mount point. */
static bool
source_is_file (const char *source)
{
  struct stat st;
  return source != NULL && stat (source, &st) == 0 && !S_ISDIR (st.st_mode);
}

int
container_mountpoints_make (const struct oci_config *c, const char *rootfs, hull_error_t *err)
{
  cleanup_close int root_fd = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);

  if (root_fd < 0)
    return hull_error (err, errno, "root.path `%s`", rootfs);
  for (size_t i = 0; i < c->n_mounts; i++)
    {
      const struct oci_mount *m = &c->mounts[i];
      int fd = open_in_root (root_fd, m->destination, true,
                             oci_mount_is_bind (m) && source_is_file (m->source), err);

      if (fd < 0)
        return hull_error_prefix (err, "mounts[%zu]", i);
      close (fd);
    }
  return 0;
}

static int
mount_one (int root_fd, const struct oci_mount *m, size_t idx, hull_error_t *err)
{
  struct container_mount_opts o;
  cleanup_close int target_fd = -1;
  char target[64];
  const char *type = m->type;
  int r = 0;

  if (container_mount_opts_parse (m->type, &m->options, &o, err) < 0)
    return hull_error_prefix (err, "mounts[%zu] (%s)", idx, m->destination);
  target_fd = open_in_root (root_fd, m->destination, true,
                            (o.flags & MS_BIND) && source_is_file (m->source), err);
  if (target_fd < 0)
    goto fail;
  fd_path (target_fd, target);
  /* The guest kernel runs the unified hierarchy only. */
  if (type != NULL && strcmp (type, "cgroup") == 0)
    type = "cgroup2";
  if (o.flags & MS_BIND)
    r = mount (m->source, target, NULL, o.flags & (MS_BIND | MS_REC), NULL);
  else
    r = mount (m->source ? m->source : "none", target, type, o.flags, o.data);
  bool remount = (o.flags & MS_BIND) && (o.flags & ~(MS_BIND | MS_REC));
  if (r == 0 && (remount || o.propagation))
    {
      /* The fd still names the directory under the new mount: reopen to
       * reach the mount itself. */
      close (target_fd);
      target_fd = open_in_root (root_fd, m->destination, false, false, err);
      if (target_fd < 0)
        goto fail;
      fd_path (target_fd, target);
    }
  /* A bind mount takes its other flags only on a remount. */
  if (r == 0 && remount)
    r = mount (NULL, target, NULL, MS_REMOUNT | MS_BIND | (o.flags & ~MS_REC), NULL);
  if (r == 0 && o.propagation)
    r = mount (NULL, target, NULL, o.propagation, NULL);
  if (r < 0)
    hull_error (err, errno, "mount %s `%s` on `%s`", type ? type : "bind",
                m->source ? m->source : "none", m->destination);
fail:
  container_mount_opts_free (&o);
  if (r < 0 || target_fd < 0)
    return hull_error_prefix (err, "mounts[%zu]", idx);
  return 0;
}

int
container_mounts_apply (const struct oci_config *c, const char *rootfs,
                        hull_error_t *err)
{
  cleanup_close int root_fd = -1;

  /* Nothing below may propagate back into the agent's namespace. */
  if (mount (NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
    return hull_error (err, errno, "make / a slave mount");
  /* pivot_root and MS_MOVE need the new root to be a mount point. */
  if (mount (rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
    return hull_error (err, errno, "bind `%s` on itself", rootfs);
  root_fd = open (rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0)
    return hull_error (err, errno, "open root `%s`", rootfs);
  for (size_t i = 0; i < c->n_mounts; i++)
    if (mount_one (root_fd, &c->mounts[i], i, err) < 0)
      return -1;
  return 0;
}

int
container_root_switch (const char *rootfs, hull_error_t *err)
{
  cleanup_close int old_root = open ("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);

  if (old_root < 0)
    return hull_error (err, errno, "open /");
  if (chdir (rootfs) < 0)
    return hull_error (err, errno, "chdir `%s`", rootfs);
  /* pivot_root(".", ".") stacks the old root under the new one; it is
   * then detached from the new root's directory. */
  if (syscall (SYS_pivot_root, ".", ".") == 0)
    {
      if (fchdir (old_root) < 0)
        return hull_error (err, errno, "fchdir old root");
      if (mount (NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
        return hull_error (err, errno, "make old root a slave");
      if (umount2 (".", MNT_DETACH) < 0)
        return hull_error (err, errno, "detach old root");
    }
  else if (errno == EINVAL)
    {
      /* The initramfs root cannot be pivoted (pivot_root(2)): overmount
       * it with the container root and chroot, as switch_root does. */
      if (mount (".", "/", NULL, MS_MOVE, NULL) < 0)
        return hull_error (err, errno, "move `%s` over /", rootfs);
      if (chroot (".") < 0)
        return hull_error (err, errno, "chroot `%s`", rootfs);
    }
  else
    return hull_error (err, errno, "pivot_root `%s`", rootfs);
  if (chdir ("/") < 0)
    return hull_error (err, errno, "chdir /");
  return 0;
}

static int
mask_path (const char *path, hull_error_t *err)
{
  struct stat st;

  if (stat (path, &st) < 0)
    return errno == ENOENT ? 0 : hull_error (err, errno, "linux.maskedPaths `%s`", path);
  if (S_ISDIR (st.st_mode))
    {
      if (mount ("tmpfs", path, "tmpfs", MS_RDONLY, NULL) < 0)
        return hull_error (err, errno, "linux.maskedPaths: tmpfs on `%s`", path);
    }
  else if (mount ("/dev/null", path, NULL, MS_BIND, NULL) < 0)
    return hull_error (err, errno, "linux.maskedPaths: /dev/null on `%s`", path);
  return 0;
}

static int
readonly_path (const char *path, hull_error_t *err)
{
  if (mount (path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
    return errno == ENOENT ? 0 : hull_error (err, errno, "linux.readonlyPaths `%s`", path);
  if (mount (NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
                                  | MS_NOEXEC,
             NULL) < 0)
    return hull_error (err, errno, "linux.readonlyPaths: remount `%s` read-only", path);
  return 0;
}

int
container_paths_finish (const struct oci_config *c, hull_error_t *err)
{
  const struct oci_linux *l = c->linux_spec;

  for (size_t i = 0; l && i < l->masked_paths.n; i++)
    if (mask_path (l->masked_paths.v[i], err) < 0)
      return -1;
  for (size_t i = 0; l && i < l->readonly_paths.n; i++)
    if (readonly_path (l->readonly_paths.v[i], err) < 0)
      return -1;
  if (c->root.readonly
      && mount (NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) < 0)
    return hull_error (err, errno, "root.readonly: remount / read-only");
  if (l && l->rootfs_propagation_flags
      && mount (NULL, "/", NULL, l->rootfs_propagation_flags, NULL) < 0)
    return hull_error (err, errno, "linux.rootfsPropagation `%s`", l->rootfs_propagation);
  return 0;
}
