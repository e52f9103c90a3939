/* Container state: the status machine of the runtime spec, and the
 * per-container record kept under the state dir.
 *
 *   $root/.lock            root lock (create, list)
 *   $root/<id>/lock        container lock (every CLI operation)
 *   $root/<id>/state.json  container_record (written atomically)
 *   $root/<id>/config.json the config.json read at create time
 *   $root/<id>/sock        the supervisor's socket
 *   $root/<id>/log         the supervisor's log when no --log was given
 *
 * The live status (created/running/paused) is known only to the
 * supervisor; a container whose supervisor is gone is stopped. */
#ifndef HULL_STATE_H
#define HULL_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "runtime/error.h"

#define HULL_OCI_VERSION "1.2.0"

enum container_status
{
  STATUS_CREATING,
  STATUS_CREATED,
  STATUS_RUNNING,
  STATUS_PAUSED,
  STATUS_STOPPED,
};

enum container_op
{
  OP_START,
  OP_KILL,
  OP_PAUSE,
  OP_RESUME,
  OP_EXEC,
  OP_DELETE,
  OP_DELETE_FORCE,
  OP_UPDATE,
  OP_PS,
  OP_STATS,
};

const char *container_status_name (enum container_status s);
int container_status_parse (const char *text, enum container_status *out, hull_error_t *err);

/* 0 when `op` is allowed in status `s`, otherwise an error naming the
 * container, e.g. "container `x` not running". */
int state_check_op (const char *id, enum container_status s, enum container_op op,
                    hull_error_t *err);

struct container_record
{
  char *id;
  char *bundle;
  char *rootfs;
  char *created;                 /* RFC 3339, UTC, nanoseconds */
  pid_t supervisor_pid;          /* 0 until the supervisor is up */
  unsigned long long supervisor_start; /* its start time, guards pid reuse */
  char **annotations;            /* key, value, key, value, ..., NULL */
  bool systemd_cgroup;
};

void container_record_free (struct container_record *r);

/* "$root/<id>" and friends (malloc'd). */
char *state_dir_path (const char *root, const char *id);
char *state_file_path (const char *root, const char *id, const char *name);

int container_record_write (const char *dir, const struct container_record *r, hull_error_t *err);
int container_record_read (const char *dir, struct container_record *r, hull_error_t *err);

/* Start time (clock ticks since boot) of pid from /proc, or -1. */
int proc_start_time (pid_t pid, unsigned long long *out);

/* True when the recorded supervisor process still exists (same pid and
 * start time, not a zombie). */
bool container_record_supervisor_alive (const struct container_record *r);

/* Current time in the record's `created` format. */
char *state_now_rfc3339 (void);

/* The runtime-spec state document printed by `hull state`. */
char *state_to_json (const struct container_record *r, enum container_status s, pid_t pid,
                     bool pretty);

#endif
