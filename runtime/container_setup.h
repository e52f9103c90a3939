/* Building a container's filesystem view and system settings inside the
 * guest: OCI mounts, masked/readonly paths, devices, root switch, sysctl,
 * hostname.  The parsing helpers are pure and unit-tested on the host;
 * the functions that mount or mknod only run in the guest's container
 * child (after unshare(CLONE_NEWNS)). */
#ifndef HULL_CONTAINER_SETUP_H
#define HULL_CONTAINER_SETUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "runtime/error.h"
#include "runtime/oci_config.h"

/* ---- mount options (container_mount_opts.c) ---- */
struct container_mount_opts
{
  unsigned long flags;       /* MS_* to set (ro, nosuid, ... and MS_BIND/MS_REC) */
  unsigned long clear;       /* MS_* an option explicitly cleared (rw, suid, ...) */
  unsigned long propagation; /* MS_PRIVATE/SHARED/SLAVE/UNBINDABLE [|MS_REC], or 0 */
  char *data;                /* filesystem options ("mode=755,size=64k"), or NULL */
};

/* Longest data string mount(2) takes (one page, NUL included). */
#define CONTAINER_MOUNT_DATA_MAX 4095

/* Split OCI mount options into flags, propagation and data.  Unknown
 * options are filesystem data (that is how "mode=755" or "newinstance"
 * reach the filesystem); options hull cannot honour yet (idmap, the
 * recursive rro/rnosuid family) are an error that names them.  A type of
 * "bind" implies MS_BIND. */
int container_mount_opts_parse (const char *type, const struct oci_strv *options,
                                struct container_mount_opts *out,
                                hull_error_t *err);
void container_mount_opts_free (struct container_mount_opts *o);

/* ---- sysctl, devices: pure helpers (container_system.c) ---- */
/* "net.ipv4.ip_forward" -> "/proc/sys/net/ipv4/ip_forward"; refuses keys
 * that could leave /proc/sys. *out is malloc'ed. */
int container_sysctl_path (const char *key, char **out, hull_error_t *err);
/* mknod mode (type bits | permission) and dev_t of a linux.devices entry. */
int container_device_node (const struct oci_device *d, mode_t *mode, dev_t *dev,
                           hull_error_t *err);

/* ---- host side ----
 * runc makes every mount point before it turns the root read-only, in the
 * rootfs itself.  hull serves a read-only root read-only from the host
 * (virtiofsd), where the guest cannot create anything: so for such a root
 * the supervisor makes the missing destinations of config.mounts under the
 * host's `rootfs` first (directories, or empty files for bind mounts of
 * files), resolved inside it like container_mounts_apply. */
int container_mountpoints_make (const struct oci_config *c, const char *rootfs,
                                hull_error_t *err);

/* ---- guest-only actions ----
 * Order: container_mounts_apply, container_root_switch,
 * container_devices_create, container_system_apply (sysctl writes
 * /proc/sys), container_paths_finish (may make /proc/sys read-only). */
/* Every mount of config.mounts under `rootfs` (a guest path), in order,
 * after making the mount tree private to this namespace and rootfs a
 * mount point.  Destinations resolve inside rootfs (symlinks cannot
 * escape it) and are created when missing. */
int container_mounts_apply (const struct oci_config *c, const char *rootfs,
                            hull_error_t *err);
/* The default device nodes, linux.devices and the /dev symlinks, relative
 * to the current root (call after the root switch). */
int container_devices_create (const struct oci_linux *l, hull_error_t *err);
/* Make `rootfs` the root: pivot_root, or, when the current root is the
 * initramfs (which cannot be pivoted), move it over / and chroot. */
int container_root_switch (const char *rootfs, hull_error_t *err);
/* After the switch: masked and readonly paths, root.readonly, and
 * linux.rootfsPropagation. */
int container_paths_finish (const struct oci_config *c, hull_error_t *err);
/* linux.sysctl, hostname, domainname. */
int container_system_apply (const struct oci_config *c, hull_error_t *err);

#endif
