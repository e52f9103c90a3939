/* OCI hooks: run each hook of one kind in order, with the container's
 * state JSON on stdin, honouring its timeout.  Which hooks run where for a
 * VM runtime is documented in runtime/README.md. */
#ifndef HULL_HOOKS_H
#define HULL_HOOKS_H

#include "runtime/error.h"
#include "runtime/oci_config.h"

struct hull_log;

/* Runs list->v[0..n) in order; stops at the first failure (non-zero exit,
 * death by signal, timeout, exec failure) and returns -1 with an error
 * naming the hook kind, index and path. */
int hooks_run (const struct oci_hook_list *list, enum oci_hook_kind kind, const char *state_json,
               struct hull_log *log, hull_error_t *err);

/* Restore default signal dispositions and an empty mask: for children of
 * the supervisor (which blocks everything) before exec. */
void hooks_child_reset_signals (void);

#endif
