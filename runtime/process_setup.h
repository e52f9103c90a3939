/* Applying an OCI "process" to the calling process: what hull-agent does
 * in the guest between fork and execve of a container process.  Each part
 * is separate so the pure parts (filter and set construction, PATH
 * search) are unit-tested on the host.
 *
 * Order in the child, and why:
 *   1. process_rlimits_apply      (before dropping CAP_SYS_RESOURCE), then
 *      process_sched_apply, process_ioprio_apply (CAP_SYS_NICE) and
 *      process_personality_apply
 *   2. process_caps_drop_bounding (needs CAP_SETPCAP, still held)
 *   3. process_user_apply         (keeps permitted caps across setuid)
 *   4. process_caps_apply         (final E/P/I and ambient sets)
 *   5. chdir + PATH lookup        (process_env_resolve; as the user)
 *   6. process_seccomp_apply      (last: the filter may deny setup calls)
 *   7. execve */
#ifndef HULL_PROCESS_SETUP_H
#define HULL_PROCESS_SETUP_H

#include <seccomp.h>
#include <stddef.h>
#include <sys/capability.h>

#include "runtime/error.h"
#include "runtime/oci_config.h"

/* ---- capabilities (process_caps.c) ---- */
/* A cap_t holding effective/permitted/inheritable from the OCI sets.
 * Capabilities the running kernel does not know are left out: a config
 * written for a newer kernel still runs. */
int process_caps_build (const struct oci_capabilities *caps, cap_t *out,
                        hull_error_t *err);
/* Drop every bounding-set capability the config does not list (nothing
 * when the bounding set is absent). */
int process_caps_drop_bounding (const struct oci_capabilities *caps,
                                hull_error_t *err);
/* Set effective/permitted/inheritable, then the ambient set. */
int process_caps_apply (const struct oci_capabilities *caps, hull_error_t *err);

/* ---- seccomp (process_seccomp.c) ---- */
/* A libseccomp filter for linux.seccomp, not loaded.  Syscall names the
 * running libseccomp does not know are skipped (profiles list syscalls of
 * newer kernels).  SCMP_ACT_NOTIFY is refused: it needs a listener that
 * hull does not provide yet. */
int process_seccomp_build (const struct oci_seccomp *s, scmp_filter_ctx *out,
                           hull_error_t *err);
/* Build and load.  The caller has set no_new_privs or holds
 * CAP_SYS_ADMIN. */
int process_seccomp_apply (const struct oci_seccomp *s, hull_error_t *err);

/* ---- rlimits (process_rlimits.c) ---- */
int process_rlimits_apply (const struct oci_rlimit *r, size_t n,
                           hull_error_t *err);

/* ---- scheduling and personality (process_sched.c) ---- */
/* Each does nothing when its object is absent (NULL). */
int process_sched_apply (const struct oci_scheduler *s, hull_error_t *err);
int process_ioprio_apply (const struct oci_io_priority *p, hull_error_t *err);
int process_personality_apply (const struct oci_personality *p, hull_error_t *err);

/* ---- user (process_user.c) ---- */
/* setgroups, setresgid, setresuid, umask (0022 when absent), keeping the
 * permitted capabilities across the uid change for process_caps_apply. */
int process_user_apply (const struct oci_user *u, hull_error_t *err);

/* ---- environment and exec (process_env.c) ---- */
/* The value of `name` in a "KEY=value" vector, or NULL. */
const char *process_env_get (char *const *env, const char *name);
/* Find args[0] the way execvp does, but with the container's PATH (from
 * `env`, default PROCESS_DEFAULT_PATH) relative to the current root and
 * directory.  *out is malloc'ed. */
#define PROCESS_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
int process_env_resolve (const char *file, char *const *env, char **out,
                         hull_error_t *err);
/* runc's rule for HOME: when `env` has none, the home directory of `uid`
 * in `passwd_path` (the container's /etc/passwd), or "/" when the file or
 * the entry is missing.  *out is a new vector (NULL when `env` already has
 * HOME); its strings are env's plus one malloc'ed "HOME=..." entry. */
int process_env_with_home (char *const *env, uid_t uid, const char *passwd_path, char ***out,
                           hull_error_t *err);
/* chdir(cwd), resolve args[0], execve with `env` (NULL: process.env).
 * Returns only on failure. */
int process_env_exec (const struct oci_process *p, char *const *env, hull_error_t *err);
/* oom_score_adj of the calling process (inherited by its children). */
int process_oom_score_adj_apply (int value, hull_error_t *err);

#endif
