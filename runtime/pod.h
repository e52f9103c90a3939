/* Pods: one microVM per Kubernetes pod (runtime/pods.md).
 *
 * containerd's CRI plugin marks its containers with annotations: the
 * sandbox ("pause") container has container-type `sandbox` and sandbox-id
 * its own id; an app container has container-type `container` and the
 * sandbox's id.  The sandbox boots the pod's VM; an app container (a pod
 * *member*) joins it:
 *
 *   - host: the sandbox's VM shares one directory, <root>/<sandbox>/pod
 *     (the *share*, a shared mount of its own), through its virtiofsd; each
 *     container of the pod has <share>/<id>/rootfs (a bind of its root.path)
 *     and <share>/<id>/m<J> (a bind of mounts[J]'s source), which mount
 *     propagation carries into virtiofsd's namespace and so into the guest,
 *     at POD_GUEST_ROOT/<id>/...;
 *   - protocol: the create request of every pod container carries a
 *     *layout* (HULL_ATTR_POD_JSON) saying which mounts were bound, which
 *     were skipped, and for a member whose namespaces named by path are the
 *     sandbox container's (in the guest).
 *
 * pod.c is pure (annotations, layout JSON, paths); pod_host.c finds the
 * sandbox and makes the host mounts. */
#ifndef HULL_POD_H
#define HULL_POD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "runtime/error.h"
#include "runtime/oci_config.h"

struct hull_log;

#define POD_ANN_CONTAINER_TYPE "io.kubernetes.cri.container-type"
#define POD_ANN_SANDBOX_ID "io.kubernetes.cri.sandbox-id"
#define POD_ANN_CPU_QUOTA "io.kubernetes.cri.sandbox-cpu-quota"
#define POD_ANN_CPU_PERIOD "io.kubernetes.cri.sandbox-cpu-period"
#define POD_ANN_MEMORY "io.kubernetes.cri.sandbox-memory"
#define POD_TYPE_SANDBOX "sandbox"
#define POD_TYPE_CONTAINER "container"

/* The share's name in the sandbox's state dir, and where the guest mounts
 * it (the VM's rootfs tag, runtime/sandbox_vm.h VM_GUEST_ROOTFS). */
#define POD_SHARE_NAME "pod"
#define POD_GUEST_ROOT "/run/hull/rootfs"

enum pod_role
{
  POD_NONE,    /* no CRI annotations: a container with a VM of its own */
  POD_SANDBOX, /* boots the pod's VM */
  POD_MEMBER,  /* joins the VM of the sandbox `sandbox_id` */
};

/* The role the annotations give container `id`; *sandbox_id points into
 * c's annotations (NULL for POD_NONE).  Inconsistent annotations are an
 * error naming the annotation: an unknown container-type, a member
 * without a valid sandbox-id or naming itself, a sandbox whose sandbox-id
 * is not its own id. */
int pod_role_of (const struct oci_config *c, const char *id, enum pod_role *role,
                 const char **sandbox_id, hull_error_t *err);

/* The same from a container record's annotations (key, value, ...,
 * NULL), for cleanup: never fails, anything inconsistent is POD_NONE. */
enum pod_role pod_role_of_annotations (char *const *kv, const char *id,
                                       const char **sandbox_id);

/* A container's layout in the pod VM (HULL_ATTR_POD_JSON):
 *   {"bindDir":"/run/hull/rootfs/ID","binds":[0,3],"skip":[5],
 *    "shareWith":"SANDBOX"}
 * binds: mounts[J] reads bindDir/mJ; skip: mounts[J] is dropped (a source
 * that cannot be shared: a device, socket, fifo); shareWith (members
 * only): linux.namespaces entries of types ipc, uts and pid that have a
 * path mean those of that container in the guest. */
struct pod_layout
{
  char *bind_dir;
  size_t *binds;
  size_t n_binds;
  size_t *skips;
  size_t n_skips;
  char *share_with; /* NULL: none */
};

void pod_layout_free (struct pod_layout *l);
int pod_layout_add (size_t **v, size_t *n, size_t idx, hull_error_t *err);
int pod_layout_to_json (const struct pod_layout *l, char **out, hull_error_t *err);
/* Errors name the member ("pod layout: binds[1]: ..."); indexes must be
 * below n_mounts and appear at most once over binds and skip. */
int pod_layout_parse (const char *json, size_t n_mounts, struct pod_layout *out,
                      hull_error_t *err);

/* "POD_GUEST_ROOT/<id>" (malloc'd). */
char *pod_guest_dir (const char *id);
/* "<share>/<id>" (malloc'd). */
char *pod_host_dir (const char *share, const char *id);

/* ---- pod_host.c: the host side ---- */

/* A sandbox found by pod_sandbox_find. */
struct pod_sandbox
{
  char *id;
  char *dir;   /* <root>/<id> */
  char *sock;  /* its supervisor's socket */
  char *share; /* <root>/<id>/pod */
  pid_t pid;   /* its supervisor (the pid CRI names in /proc/<pid>/ns/...) */
  char *netns; /* the network namespace path of its config, or NULL */
};

void pod_sandbox_free (struct pod_sandbox *s);

/* The sandbox `sandbox_id` of a member: it must exist in root, be a pod
 * sandbox (its own annotations) and be running (its supervisor says so).
 * Errors name the annotation and the id. */
int pod_sandbox_find (const char *root, const char *sandbox_id, struct pod_sandbox *out,
                      hull_error_t *err);

/* A member may name the pod's namespaces only: ipc, uts, pid and network
 * paths must be the sandbox supervisor's (/proc/<pid>/ns/...; the network
 * may also be the sandbox's own netns path); other types cannot be joined
 * by path.  Errors name linux.namespaces[N].path. */
int pod_member_check_namespaces (const struct oci_config *c, const struct pod_sandbox *sb,
                                 hull_error_t *err);

/* The share: <state_dir>/pod, bound onto itself and made a shared mount in
 * a peer group of its own.  *share is its path (malloc'd). */
int pod_share_create (const char *state_dir, char **share, hull_error_t *err);
/* Detach every mount under the share and the share itself, remove the
 * directories and files pod_bind_container made.  Nothing to do when
 * there is no share.  Never descends into a bind. */
int pod_share_remove (const char *state_dir, hull_error_t *err);

/* Bind `rootfs` (read-only with root.readonly) at <share>/<id>/rootfs and
 * every bind mount's source of c at <share>/<id>/m<J> ("ro" kept);
 * directories and regular files only, other sources are skipped with a
 * warning.  Fills the layout's bind_dir, binds and skips, and *guest_rootfs.
 * On failure whatever was bound is undone. */
int pod_bind_container (const char *share, const char *id, const char *rootfs,
                        const struct oci_config *c, struct hull_log *log,
                        struct pod_layout *layout, char **guest_rootfs, hull_error_t *err);
/* Undo pod_bind_container (idempotent; nothing to do when absent). */
int pod_unbind_container (const char *share, const char *id, hull_error_t *err);

/* `hull delete` and a failed `hull create`: a share in the container's
 * state dir `dir`, and a member's binds in its sandbox's share (from the
 * annotations, key, value, ..., NULL), go with the container. */
int pod_cleanup (const char *root, const char *dir, const char *id, char *const *annotations,
                 hull_error_t *err);

#endif
