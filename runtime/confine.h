/* Confinement of the VMM process once it is set up: the production
 * supervisor (runtime/supervisor.c, microVM backend only) and `hull boot`
 * call confine_apply when everything that needs privileges (virtiofsd,
 * taps, cgroups, hooks, /dev/kvm, guest memory) exists.  From then on:
 *
 *   - no capabilities in any thread: the calling thread drops its
 *     bounding, ambient, inheritable, permitted and effective sets; the
 *     other threads (vCPUs, device iothreads, the agent's I/O thread,
 *     created during setup, and Linux keeps capabilities per thread) lose
 *     their effective set through a process-wide switch of the effective
 *     uid to 65534 (glibc applies set*id calls to every thread), and the
 *     calling thread keeps filesystem uid 0 for the state directory;
 *   - PR_SET_NO_NEW_PRIVS (every thread, through TSYNC);
 *   - a seccomp filter on every thread (SECCOMP_FILTER_FLAG_TSYNC) whose
 *     default action kills the whole process (SIGSYS): only the system
 *     calls the running supervisor and VMM make are allowed, some with
 *     their arguments checked (ioctl request numbers, clone only for
 *     threads, socket only AF_UNIX, prctl only thread names).  There is no
 *     execve, fork, ptrace, mount, setns, capset, set*id, bpf, ...
 *     Nothing can get capabilities back: capset, set*uid and execve are
 *     all outside the list.
 *
 * Fds inherited from the caller that the process does not use are closed
 * at its start (confine_close_fds), before it opens anything.
 *
 * The only opt-out is the settings file's "confineVmm": false
 * (runtime/settings.h), for debugging the VMM under strace or gdb. */
#ifndef HULL_CONFINE_H
#define HULL_CONFINE_H

#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>

#include "runtime/error.h"

/* The effective uid every thread switches to (see above). */
#define CONFINE_UID 65534

/* Close every fd >= 3 that is not in keep[0..n-1]. */
int confine_close_fds (const int *keep, size_t n, hull_error_t *err);

/* The filter, built but not loaded (for tests and confine_apply). */
int confine_filter_build (scmp_filter_ctx *out, hull_error_t *err);

/* Drop the capabilities, set no_new_privs and load the filter on every
 * thread, in that order.  On failure the process may be partly confined;
 * callers treat it as fatal. */
int confine_apply (hull_error_t *err);

/* Whether the settings (HULL_SETTINGS or /etc/hull/settings.json) leave
 * confinement on (the default). */
int confine_wanted (bool *out, hull_error_t *err);

#endif
