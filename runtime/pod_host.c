/* Pods on the host: finding a member's sandbox, checking the namespaces a
 * member names, and the share with its binds (see pod.h).
 *
 * Mount propagation is what makes a member's rootfs appear in a VM that is
 * already running: the share is a shared mount; virtiofsd (sandbox=
 * namespace) makes its copy of the host's mounts a slave and bind-mounts
 * the share as its root, so a bind made under the share later propagates
 * into virtiofsd's view, and with announce_submounts the guest sees it as
 * a submount.  Binds are made with the new mount API (open_tree +
 * mount_setattr + move_mount) so a read-only one is read-only before it is
 * attached, and its propagated copy too (a remount would not propagate). */
#include "runtime/pod.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/log.h"
#include "runtime/state.h"
#include "runtime/supervisor_proto.h"

#define POD_DETACH_ROUNDS 16

/* ---- the sandbox of a member ---- */

void
pod_sandbox_free (struct pod_sandbox *s)
{
  free (s->id);
  free (s->dir);
  free (s->sock);
  free (s->share);
  free (s->netns);
  memset (s, 0, sizeof (*s));
}

/* "running", ... from the supervisor, or NULL when it does not answer. */
static char *
sandbox_status (const char *sock)
{
  cleanup_error hull_error_t err = NULL;
  yajl_val reply = NULL;
  const char *st;
  char *out;

  if (proto_call (sock, proto_begin_op ("state"), NULL, 0, &reply, NULL, NULL, NULL, &err) < 0)
    return NULL;
  st = proto_get_str (reply, "status");
  out = st ? strdup (st) : NULL;
  yajl_tree_free (reply);
  return out;
}

static void
sandbox_netns (struct pod_sandbox *s)
{
  cleanup_error hull_error_t err = NULL;
  cleanup_free char *path = NULL;
  struct oci_config *c = NULL;
  const struct oci_namespace *ns;

  if (asprintf (&path, "%s/config.json", s->dir) < 0
      || oci_config_parse_file (path, &c, &err) < 0)
    return;
  ns = c->linux_spec ? oci_linux_namespace (c->linux_spec, OCI_NS_NETWORK) : NULL;
  if (ns != NULL && ns->path != NULL)
    s->netns = strdup (ns->path);
  oci_config_free (c);
}

int
pod_sandbox_find (const char *root, const char *sandbox_id, struct pod_sandbox *out,
                  hull_error_t *err)
{
  struct container_record rec = { 0 };
  cleanup_error hull_error_t e2 = NULL;
  cleanup_free char *status = NULL;
  const char *sid = NULL;
  enum pod_role role;

  memset (out, 0, sizeof (*out));
  out->id = strdup (sandbox_id);
  out->dir = state_dir_path (root, sandbox_id);
  out->sock = state_file_path (root, sandbox_id, "sock");
  out->share = state_file_path (root, sandbox_id, POD_SHARE_NAME);
  if (out->id == NULL || out->dir == NULL || out->sock == NULL || out->share == NULL)
    {
      pod_sandbox_free (out);
      return hull_error (err, ENOMEM, "sandbox `%s`", sandbox_id);
    }
  if (access (out->dir, F_OK) < 0 || container_record_read (out->dir, &rec, &e2) < 0)
    {
      pod_sandbox_free (out);
      return hull_error (err, ENOENT,
                         "annotation %s: the pod's sandbox `%s` does not exist (no such "
                         "container in this root)",
                         POD_ANN_SANDBOX_ID, sandbox_id);
    }
  role = pod_role_of_annotations (rec.annotations, sandbox_id, &sid);
  out->pid = rec.supervisor_pid;
  if (role != POD_SANDBOX)
    {
      container_record_free (&rec);
      pod_sandbox_free (out);
      return hull_error (err, EINVAL,
                         "annotation %s: container `%s` is not a pod sandbox (no %s `%s` "
                         "annotation)",
                         POD_ANN_SANDBOX_ID, sandbox_id, POD_ANN_CONTAINER_TYPE,
                         POD_TYPE_SANDBOX);
    }
  if (container_record_supervisor_alive (&rec))
    status = sandbox_status (out->sock);
  container_record_free (&rec);
  if (status == NULL || strcmp (status, "running") != 0)
    {
      hull_error (err, EINVAL, "annotation %s: the pod's sandbox `%s` is not running (%s)",
                  POD_ANN_SANDBOX_ID, sandbox_id, status ? status : "stopped");
      pod_sandbox_free (out);
      return -1;
    }
  sandbox_netns (out);
  return 0;
}

static bool
same_file (const char *a, const char *b)
{
  struct stat sa, sb;

  return stat (a, &sa) == 0 && stat (b, &sb) == 0 && sa.st_dev == sb.st_dev
         && sa.st_ino == sb.st_ino;
}

int
pod_member_check_namespaces (const struct oci_config *c, const struct pod_sandbox *sb,
                             hull_error_t *err)
{
  static const char *const proc_name[OCI_NS__COUNT] = {
    [OCI_NS_PID] = "pid", [OCI_NS_NETWORK] = "net", [OCI_NS_IPC] = "ipc", [OCI_NS_UTS] = "uts",
  };
  const struct oci_linux *l = c->linux_spec;

  for (size_t i = 0; l != NULL && i < l->n_namespaces; i++)
    {
      const struct oci_namespace *ns = &l->namespaces[i];
      char own[64];

      if (ns->path == NULL)
        continue;
      if (proc_name[ns->type] == NULL)
        return hull_error (err, EINVAL,
                           "linux.namespaces[%zu].path `%s`: a pod's app container cannot join "
                           "a %s namespace by path (it lives in the pod's microVM)",
                           i, ns->path, oci_ns_type_name (ns->type));
      snprintf (own, sizeof (own), "/proc/%d/ns/%s", (int) sb->pid, proc_name[ns->type]);
      if (same_file (ns->path, own)
          || (ns->type == OCI_NS_NETWORK && sb->netns != NULL && same_file (ns->path, sb->netns)))
        continue;
      return hull_error (err, EINVAL,
                         "linux.namespaces[%zu].path `%s`: not the %s namespace of the pod's "
                         "sandbox `%s` (%s)",
                         i, ns->path, oci_ns_type_name (ns->type), sb->id, own);
    }
  return 0;
}

/* ---- mounts ---- */

/* \NNN escapes of /proc/self/mountinfo, in place. */
static void
unescape (char *s)
{
  char *w = s;

  for (char *r = s; *r; )
    if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0'
        && r[3] <= '7')
      {
        *w++ = (char) ((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
        r += 4;
      }
    else
      *w++ = *r++;
  *w = '\0';
}

/* The deepest mount point at or under `dir`, or NULL (malloc'd). */
static char *
deepest_mount_under (const char *dir)
{
  cleanup_fclose FILE *f = fopen ("/proc/self/mountinfo", "re");
  size_t dlen = strlen (dir), best_len = 0;
  char *best = NULL, *line = NULL;
  size_t cap = 0;

  while (f != NULL && getline (&line, &cap, f) > 0)
    {
      char *save = NULL, *mp = strtok_r (line, " ", &save);
      for (int k = 0; k < 4 && mp != NULL; k++)
        mp = strtok_r (NULL, " ", &save);
      if (mp == NULL)
        continue;
      unescape (mp);
      if (strncmp (mp, dir, dlen) != 0 || (mp[dlen] != '\0' && mp[dlen] != '/'))
        continue;
      if (best == NULL || strlen (mp) > best_len)
        {
          free (best);
          best = strdup (mp);
          best_len = strlen (mp);
        }
    }
  free (line);
  return best;
}

/* Lazily unmount everything at or under dir, deepest first. */
static int
detach_under (const char *dir, hull_error_t *err)
{
  for (int round = 0; round < 64 * POD_DETACH_ROUNDS; round++)
    {
      cleanup_free char *mp = deepest_mount_under (dir);
      if (mp == NULL)
        return 0;
      if (umount2 (mp, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
        return hull_error (err, errno, "unmount `%s`", mp);
    }
  return hull_error (err, EBUSY, "`%s`: mounts keep coming back", dir);
}

/* The entries of a container's dir (rootfs, m<J>): mount points only,
 * never descended into. */
static int
remove_ctr_dir (const char *host, hull_error_t *err)
{
  cleanup_closedir DIR *d = opendir (host);
  struct dirent *de;

  if (d == NULL)
    return errno == ENOENT ? 0 : hull_error (err, errno, "open `%s`", host);
  while ((de = readdir (d)) != NULL)
    {
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      int flags = de->d_type == DT_DIR ? AT_REMOVEDIR : 0;
      int r = unlinkat (dirfd (d), de->d_name, flags);
      /* d_type may be DT_UNKNOWN: a directory then says EISDIR. */
      if (r < 0 && errno == EISDIR && flags == 0)
        r = unlinkat (dirfd (d), de->d_name, AT_REMOVEDIR);
      if (r < 0 && errno != ENOENT)
        return hull_error (err, errno, "remove `%s/%s`", host, de->d_name);
    }
  if (rmdir (host) < 0 && errno != ENOENT)
    return hull_error (err, errno, "remove `%s`", host);
  return 0;
}

int
pod_unbind_container (const char *share, const char *id, hull_error_t *err)
{
  cleanup_free char *host = pod_host_dir (share, id);

  if (host == NULL)
    return hull_error (err, ENOMEM, "pod dir");
  if (access (host, F_OK) < 0)
    return 0;
  if (detach_under (host, err) < 0)
    return -1;
  return remove_ctr_dir (host, err);
}

int
pod_share_create (const char *state_dir, char **share, hull_error_t *err)
{
  cleanup_free char *p = NULL;

  if (asprintf (&p, "%s/%s", state_dir, POD_SHARE_NAME) < 0)
    return hull_error (err, ENOMEM, "pod share path");
  if (mkdir (p, 0711) < 0 && errno != EEXIST)
    return hull_error (err, errno, "mkdir `%s`", p);
  /* Private first: a peer group of its own, so binds below it propagate
   * to virtiofsd's copy and nowhere else. */
  if (mount (p, p, NULL, MS_BIND, NULL) < 0)
    {
      int e = errno;
      rmdir (p);
      return hull_error (err, e, "bind-mount the pod share `%s`", p);
    }
  if (mount (NULL, p, NULL, MS_PRIVATE, NULL) < 0 || mount (NULL, p, NULL, MS_SHARED, NULL) < 0)
    {
      int e = errno;
      umount2 (p, MNT_DETACH);
      rmdir (p);
      return hull_error (err, e, "make the pod share `%s` a shared mount", p);
    }
  *share = hull_steal_ptr (&p);
  return 0;
}

int
pod_share_remove (const char *state_dir, hull_error_t *err)
{
  cleanup_free char *share = NULL;
  cleanup_closedir DIR *d = NULL;
  struct dirent *de;

  if (asprintf (&share, "%s/%s", state_dir, POD_SHARE_NAME) < 0)
    return hull_error (err, ENOMEM, "pod share path");
  if (access (share, F_OK) < 0)
    return 0;
  /* The share is bound onto itself: its entries are the directory's own. */
  if (detach_under (share, err) < 0)
    return -1;
  d = opendir (share);
  if (d == NULL)
    return hull_error (err, errno, "open `%s`", share);
  while ((de = readdir (d)) != NULL)
    {
      cleanup_free char *host = NULL;
      if (strcmp (de->d_name, ".") == 0 || strcmp (de->d_name, "..") == 0)
        continue;
      host = pod_host_dir (share, de->d_name);
      if (host == NULL)
        return hull_error (err, ENOMEM, "pod dir");
      if (remove_ctr_dir (host, err) < 0)
        return -1;
    }
  if (rmdir (share) < 0 && errno != ENOENT)
    return hull_error (err, errno, "remove `%s`", share);
  return 0;
}

/* src's tree cloned, made read-only when asked, attached at dst. */
static int
bind_tree (const char *src, const char *dst, bool ro, const char *what, hull_error_t *err)
{
  struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
  cleanup_close int fd = open_tree (AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC
                                                       | AT_RECURSIVE);

  if (fd < 0 && errno == ENOSYS)
    {
      /* Before Linux 5.2: a plain bind; the guest still applies ro. */
      if (mount (src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
        return hull_error (err, errno, "%s `%s`: bind-mount into the pod", what, src);
      return 0;
    }
  if (fd < 0)
    return hull_error (err, errno, "%s `%s`: bind-mount into the pod", what, src);
  if (ro && mount_setattr (fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof (attr)) < 0
      && errno != ENOSYS)
    return hull_error (err, errno, "%s `%s`: make its pod bind read-only", what, src);
  if (move_mount (fd, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return hull_error (err, errno, "%s `%s`: attach its bind at `%s`", what, src, dst);
  return 0;
}

/* mounts[j]: bound at <host>/m<j>, or skipped. */
static int
bind_one (const char *host, size_t j, const struct oci_mount *m, const char *id,
          struct hull_log *log, struct pod_layout *l, hull_error_t *err)
{
  cleanup_free char *dst = NULL, *what = NULL;
  struct stat st;

  if (m->source == NULL || m->source[0] != '/')
    return hull_error (err, EINVAL,
                       "mounts[%zu].source `%s`: a bind mount into a microVM needs an absolute "
                       "host path",
                       j, m->source ? m->source : "");
  if (stat (m->source, &st) < 0)
    return hull_error (err, errno, "mounts[%zu].source `%s`", j, m->source);
  if (!S_ISDIR (st.st_mode) && !S_ISREG (st.st_mode))
    {
      log_warning (log,
                   "container `%s`: mounts[%zu].source `%s` is not a directory nor a regular "
                   "file: it cannot be shared into the pod's microVM, the mount on `%s` is "
                   "skipped",
                   id, j, m->source, m->destination);
      return pod_layout_add (&l->skips, &l->n_skips, j, err);
    }
  if (asprintf (&dst, "%s/m%zu", host, j) < 0 || asprintf (&what, "mounts[%zu].source", j) < 0)
    return hull_error (err, ENOMEM, "pod bind path");
  if (S_ISDIR (st.st_mode) ? mkdir (dst, 0755) < 0 && errno != EEXIST
                           : mknod (dst, S_IFREG | 0644, 0) < 0 && errno != EEXIST)
    return hull_error (err, errno, "create `%s`", dst);
  if (bind_tree (m->source, dst, oci_strv_has (&m->options, "ro"), what, err) < 0)
    return -1;
  return pod_layout_add (&l->binds, &l->n_binds, j, err);
}

static int
bind_all (const char *host, const char *id, const char *rootfs, const struct oci_config *c,
          struct hull_log *log, struct pod_layout *l, hull_error_t *err)
{
  cleanup_free char *root_dst = NULL;

  if (mkdir (host, 0711) < 0)
    return hull_error (err, errno, "mkdir `%s`", host);
  if (asprintf (&root_dst, "%s/rootfs", host) < 0)
    return hull_error (err, ENOMEM, "pod rootfs path");
  if (mkdir (root_dst, 0755) < 0)
    return hull_error (err, errno, "mkdir `%s`", root_dst);
  if (bind_tree (rootfs, root_dst, c->root.readonly, "root.path", err) < 0)
    return -1;
  for (size_t j = 0; j < c->n_mounts; j++)
    if (oci_mount_is_bind (&c->mounts[j]) && bind_one (host, j, &c->mounts[j], id, log, l, err) < 0)
      return -1;
  return 0;
}

int
pod_bind_container (const char *share, const char *id, const char *rootfs,
                    const struct oci_config *c, struct hull_log *log, struct pod_layout *layout,
                    char **guest_rootfs, hull_error_t *err)
{
  cleanup_free char *host = pod_host_dir (share, id);
  cleanup_error hull_error_t e2 = NULL;

  memset (layout, 0, sizeof (*layout));
  *guest_rootfs = NULL;
  if (host == NULL)
    return hull_error (err, ENOMEM, "pod dir");
  /* A leftover of a container of the same id that crashed. */
  if (pod_unbind_container (share, id, err) < 0)
    return -1;
  layout->bind_dir = pod_guest_dir (id);
  if (layout->bind_dir == NULL || asprintf (guest_rootfs, "%s/rootfs", layout->bind_dir) < 0)
    {
      *guest_rootfs = NULL;
      pod_layout_free (layout);
      return hull_error (err, ENOMEM, "pod guest paths");
    }
  if (bind_all (host, id, rootfs, c, log, layout, err) == 0)
    return 0;
  if (pod_unbind_container (share, id, &e2) < 0)
    log_warning (log, "container `%s`: %s", id, hull_error_msg (&e2));
  pod_layout_free (layout);
  free (*guest_rootfs);
  *guest_rootfs = NULL;
  return -1;
}

int
pod_cleanup (const char *root, const char *dir, const char *id, char *const *annotations,
             hull_error_t *err)
{
  const char *sid = NULL;
  cleanup_free char *share = NULL;

  /* A share in a state dir is always a sandbox's, whatever the record
   * says (a create that died before writing it has none). */
  if (pod_share_remove (dir, err) < 0)
    return -1;
  if (pod_role_of_annotations (annotations, id, &sid) != POD_MEMBER)
    return 0;
  share = state_file_path (root, sid, POD_SHARE_NAME);
  if (share == NULL)
    return hull_error (err, ENOMEM, "pod share path");
  return pod_unbind_container (share, id, err);
}
