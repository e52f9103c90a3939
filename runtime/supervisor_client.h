/* The CLI side of the lifecycle: every hull command that touches a
 * container goes through these functions, which hold the container's lock
 * and talk to its supervisor (runtime/supervisor_proto.h). */
#ifndef HULL_SUPERVISOR_CLIENT_H
#define HULL_SUPERVISOR_CLIENT_H

#include <stdbool.h>
#include <sys/types.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "runtime/error.h"
#include "runtime/log.h"
#include "runtime/state.h"

/* What every command needs from the global options. */
struct hull_context
{
  const char *root;
  struct hull_log *log;
  const char *log_path; /* passed on to the supervisor */
  bool log_json;
  bool debug;
  bool systemd_cgroup;
};

/* An opened container: the lock is held until container_close. */
struct container
{
  char *id;
  char *dir;
  char *sock;
  int lock_fd;
  struct container_record rec;
  enum container_status status;
};

/* Validate the id, lock the container and find its status.  A missing
 * container fails with "container `ID` does not exist". */
int container_open (const struct hull_context *ctx, const char *id, struct container *c,
                    hull_error_t *err);
void container_close (struct container *c);

/* Fill c->status (asks the supervisor when it is alive). */
void container_refresh_status (struct container *c);

/* Send a request to the supervisor (req is consumed); the reply is
 * returned when `reply` is not NULL. */
int container_call (struct container *c, yajl_gen req, yajl_val *reply, hull_error_t *err);

/* A request with just an op, checked against the status first. */
int container_simple_op (const struct hull_context *ctx, const char *id, const char *op,
                         enum container_op check, hull_error_t *err);

/* The runtime-spec state JSON of one container. */
int container_state (const struct hull_context *ctx, const char *id, char **json,
                     hull_error_t *err);

int container_kill (const struct hull_context *ctx, const char *id, int sig, bool all,
                    hull_error_t *err);

/* The container's processes. */
int container_ps (const struct hull_context *ctx, const char *id, pid_t **pids, size_t *n,
                  hull_error_t *err);
/* Statistics as the JSON "data" object of a runc stats event. */
int container_stats (const struct hull_context *ctx, const char *id, char **json,
                     hull_error_t *err);
/* Apply linux.resources JSON (validated here, then by the supervisor). */
int container_update (const struct hull_context *ctx, const char *id, const char *resources,
                      hull_error_t *err);

/* ids under root (sorted), NULL-terminated. */
int container_list_ids (const struct hull_context *ctx, char ***ids, hull_error_t *err);

/* For `list`: state without taking the container lock (a container being
 * created shows as "creating"). */
int container_peek (const struct hull_context *ctx, const char *id, struct container *c,
                    hull_error_t *err);

struct create_opts
{
  const char *id;
  const char *bundle;
  const char *pid_file;
  const char *console_socket;
  int preserve_fds;
  bool no_pivot;
  bool no_new_keyring;
};

/* Fork the supervisor and wait until the container is created; returns
 * the supervisor's pid (our child). */
pid_t container_create (const struct hull_context *ctx, const struct create_opts *o,
                        hull_error_t *err);
/* start, then poststart hooks (their failure only warns). */
int container_start (const struct hull_context *ctx, const char *id, hull_error_t *err);
int container_delete (const struct hull_context *ctx, const char *id, bool force,
                      hull_error_t *err);
/* Wait for our child supervisor, forwarding the signals we get to it;
 * returns its exit status. */
int container_wait_child (pid_t supervisor, hull_error_t *err);

/* Interactive `run` with a terminal and no --console-socket
 * (runtime/supervisor_run.c): listen on a private console socket (its
 * path in *path), then after create+start relay our terminal to the pty
 * until the supervisor exits; returns its exit status. */
int run_console_listen (char **path, hull_error_t *err);
int run_console_wait (int listen_fd, pid_t supervisor, hull_error_t *err);
/* Remove the socket and its directory; frees path. */
void run_console_unlink (char *path);

/* Remove $root/<id> and everything in it. */
int state_dir_remove (const char *dir, hull_error_t *err);

#endif
