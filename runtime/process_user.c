/* OCI process.user: supplementary groups, gid, uid, umask. */
#include "runtime/process_setup.h"

#include <errno.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

int
process_user_apply (const struct oci_user *u, hull_error_t *err)
{
  /* Groups and gid first: after setuid to non-root they cannot change. */
  if (setgroups (u->n_additional_gids, (const gid_t *) u->additional_gids) < 0)
    return hull_error (err, errno, "process.user.additionalGids: setgroups");
  if (setresgid (u->gid, u->gid, u->gid) < 0)
    return hull_error (err, errno, "process.user.gid: setresgid %u", u->gid);
  /* Without KEEPCAPS a uid change from 0 empties the permitted set, and
   * process_caps_apply could not grant a non-root user its capabilities. */
  if (u->uid != 0 && prctl (PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    return hull_error (err, errno, "prctl PR_SET_KEEPCAPS");
  if (setresuid (u->uid, u->uid, u->uid) < 0)
    return hull_error (err, errno, "process.user.uid: setresuid %u", u->uid);
  if (u->uid != 0 && prctl (PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return hull_error (err, errno, "prctl PR_SET_KEEPCAPS");
  umask (u->has_umask ? (mode_t) u->umask : 0022);
  return 0;
}
