#include "runtime/supervisor_client.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/cleanup.h"
#include "runtime/container_id.h"
#include "runtime/lock.h"
#include "runtime/oci_config.h"
#include "runtime/supervisor_proto.h"

void
container_close (struct container *c)
{
  free (c->id);
  free (c->dir);
  free (c->sock);
  if (c->lock_fd >= 0)
    close (c->lock_fd);
  container_record_free (&c->rec);
  memset (c, 0, sizeof (*c));
  c->lock_fd = -1;
}

void
container_refresh_status (struct container *c)
{
  cleanup_error hull_error_t err = NULL;
  yajl_val reply = NULL;
  const char *st;

  c->status = STATUS_STOPPED;
  if (! container_record_supervisor_alive (&c->rec))
    return;
  if (proto_call (c->sock, proto_begin_op ("state"), NULL, 0, &reply, NULL, NULL, NULL, &err) < 0)
    return; /* a supervisor that does not answer is on its way out */
  st = proto_get_str (reply, "status");
  if (st == NULL || container_status_parse (st, &c->status, &err) < 0)
    c->status = STATUS_STOPPED;
  yajl_tree_free (reply);
}

static int
container_init (const struct hull_context *ctx, const char *id, struct container *c,
                hull_error_t *err)
{
  memset (c, 0, sizeof (*c));
  c->lock_fd = -1;
  if (container_id_validate (id, err) < 0)
    return -1;
  c->id = strdup (id);
  c->dir = state_dir_path (ctx->root, id);
  c->sock = state_file_path (ctx->root, id, "sock");
  if (c->id == NULL || c->dir == NULL || c->sock == NULL)
    return hull_error (err, ENOMEM, "container `%s`", id);
  return 0;
}

/* A record that cannot be read (a create that crashed before writing
 * it) leaves a container that is stopped and can only be deleted. */
static void
load_record (struct container *c)
{
  cleanup_error hull_error_t err = NULL;

  if (container_record_read (c->dir, &c->rec, &err) < 0)
    {
      memset (&c->rec, 0, sizeof (c->rec));
      c->rec.id = strdup (c->id);
    }
}

int
container_open (const struct hull_context *ctx, const char *id, struct container *c,
                hull_error_t *err)
{
  cleanup_free char *lock = NULL;

  if (container_init (ctx, id, c, err) < 0)
    goto fail;
  lock = state_file_path (ctx->root, id, "lock");
  if (lock == NULL)
    {
      hull_error (err, ENOMEM, "container `%s`", id);
      goto fail;
    }
  c->lock_fd = lock_acquire (lock, true, false, err);
  if (c->lock_fd < 0)
    {
      if ((*err)->status == ENOENT)
        hull_error (err, 0, "container `%s` does not exist", id);
      goto fail;
    }
  load_record (c);
  container_refresh_status (c);
  return 0;
fail:
  container_close (c);
  return -1;
}

int
container_peek (const struct hull_context *ctx, const char *id, struct container *c,
                hull_error_t *err)
{
  cleanup_free char *lock = NULL;
  int fd;

  if (container_init (ctx, id, c, err) < 0)
    {
      container_close (c);
      return -1;
    }
  load_record (c);
  container_refresh_status (c);
  lock = state_file_path (ctx->root, id, "lock");
  if (c->status == STATUS_STOPPED && lock != NULL && c->rec.supervisor_pid == 0)
    {
      cleanup_error hull_error_t e2 = NULL;
      fd = lock_try_acquire (lock, false, &e2);
      if (fd >= 0)
        close (fd);
      else
        c->status = STATUS_CREATING;
    }
  return 0;
}

int
container_call (struct container *c, yajl_gen req, yajl_val *reply, hull_error_t *err)
{
  return proto_call (c->sock, req, NULL, 0, reply, NULL, NULL, NULL, err);
}

int
container_simple_op (const struct hull_context *ctx, const char *id, const char *op,
                     enum container_op check, hull_error_t *err)
{
  struct container c;
  int r;

  if (container_open (ctx, id, &c, err) < 0)
    return -1;
  r = state_check_op (id, c.status, check, err);
  if (r == 0)
    r = container_call (&c, proto_begin_op (op), NULL, err);
  container_close (&c);
  return r;
}

/* No lock: hooks run while create holds it, and a hook may well ask for
 * the state (it then sees "creating"). */
int
container_state (const struct hull_context *ctx, const char *id, char **json, hull_error_t *err)
{
  struct container c;

  if (container_peek (ctx, id, &c, err) < 0)
    return -1;
  if (access (c.dir, F_OK) < 0)
    {
      container_close (&c);
      return hull_error (err, 0, "container `%s` does not exist", id);
    }
  *json = state_to_json (&c.rec, c.status, c.rec.supervisor_pid, true);
  container_close (&c);
  if (*json == NULL)
    return hull_error (err, ENOMEM, "state of `%s`", id);
  return 0;
}

int
container_kill (const struct hull_context *ctx, const char *id, int sig, bool all,
                hull_error_t *err)
{
  struct container c;
  yajl_gen g;
  int r;

  if (container_open (ctx, id, &c, err) < 0)
    return -1;
  r = state_check_op (id, c.status, OP_KILL, err);
  if (r == 0)
    {
      g = proto_begin_op ("kill");
      proto_put_int (g, "signal", sig);
      proto_put_bool (g, "all", all);
      r = container_call (&c, g, NULL, err);
    }
  container_close (&c);
  return r;
}

static int
cmp_str (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
container_list_ids (const struct hull_context *ctx, char ***ids, hull_error_t *err)
{
  cleanup_closedir DIR *d = opendir (ctx->root);
  char **v = NULL;
  size_t n = 0;
  struct dirent *de;

  *ids = NULL;
  if (d == NULL && errno == ENOENT)
    {
      *ids = calloc (1, sizeof (char *));
      return *ids ? 0 : hull_error (err, ENOMEM, "list");
    }
  if (d == NULL)
    return hull_error (err, errno, "open root `%s`", ctx->root);
  while ((de = readdir (d)) != NULL)
    {
      cleanup_error hull_error_t e2 = NULL;
      char **nv;
      if (de->d_name[0] == '.' || container_id_validate (de->d_name, &e2) < 0)
        continue;
      nv = realloc (v, (n + 2) * sizeof (char *));
      if (nv == NULL)
        break;
      v = nv;
      v[n++] = strdup (de->d_name);
      v[n] = NULL;
    }
  if (v == NULL)
    v = calloc (1, sizeof (char *));
  if (v == NULL)
    return hull_error (err, ENOMEM, "list");
  qsort (v, n, sizeof (char *), cmp_str);
  *ids = v;
  return 0;
}

int
state_dir_remove (const char *dir, hull_error_t *err)
{
  cleanup_closedir DIR *d = opendir (dir);
  struct dirent *de;

  if (d == NULL && errno == ENOENT)
    return 0;
  if (d == NULL)
    return hull_error (err, errno, "open `%s`", dir);
  while ((de = readdir (d)) != NULL)
    if (strcmp (de->d_name, ".") != 0 && strcmp (de->d_name, "..") != 0
        && unlinkat (dirfd (d), de->d_name, 0) < 0 && errno != ENOENT)
      return hull_error (err, errno, "remove `%s/%s`", dir, de->d_name);
  if (rmdir (dir) < 0 && errno != ENOENT)
    return hull_error (err, errno, "remove `%s`", dir);
  return 0;
}

/* Open, check, call; the reply (if wanted) outlives the container lock. */
static int
call_checked (const struct hull_context *ctx, const char *id, enum container_op op, yajl_gen req,
              yajl_val *reply, hull_error_t *err)
{
  struct container c;
  int r;

  if (container_open (ctx, id, &c, err) < 0)
    {
      yajl_gen_free (req);
      return -1;
    }
  r = state_check_op (id, c.status, op, err);
  if (r == 0)
    r = container_call (&c, req, reply, err);
  else
    yajl_gen_free (req);
  container_close (&c);
  return r;
}

int
container_ps (const struct hull_context *ctx, const char *id, pid_t **pids, size_t *n,
              hull_error_t *err)
{
  yajl_val reply = NULL, arr;

  *pids = NULL;
  *n = 0;
  if (call_checked (ctx, id, OP_PS, proto_begin_op ("ps"), &reply, err) < 0)
    return -1;
  arr = proto_get (reply, "pids");
  if (arr != NULL && YAJL_IS_ARRAY (arr) && arr->u.array.len > 0)
    {
      *pids = calloc (arr->u.array.len, sizeof (pid_t));
      for (size_t i = 0; *pids != NULL && i < arr->u.array.len; i++)
        if (YAJL_IS_INTEGER (arr->u.array.values[i]))
          (*pids)[(*n)++] = (pid_t) YAJL_GET_INTEGER (arr->u.array.values[i]);
    }
  yajl_tree_free (reply);
  return 0;
}

int
container_stats (const struct hull_context *ctx, const char *id, char **json, hull_error_t *err)
{
  yajl_val reply = NULL;
  const char *s;

  if (call_checked (ctx, id, OP_STATS, proto_begin_op ("stats"), &reply, err) < 0)
    return -1;
  s = proto_get_str (reply, "stats");
  *json = strdup (s ? s : "{}");
  yajl_tree_free (reply);
  return *json ? 0 : hull_error (err, ENOMEM, "stats");
}

int
container_update (const struct hull_context *ctx, const char *id, const char *resources,
                  hull_error_t *err)
{
  struct oci_linux_resources *r = NULL;
  yajl_gen g;

  if (oci_resources_parse_data (resources, strlen (resources), &r, err) < 0)
    return hull_error_prefix (err, "update: resources");
  oci_resources_free (r);
  g = proto_begin_op ("update");
  proto_put_str (g, "resources", resources);
  return call_checked (ctx, id, OP_UPDATE, g, NULL, err);
}
