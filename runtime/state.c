#include "runtime/state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "runtime/cleanup.h"
#include "runtime/json_gen.h"

static const char *const status_names[] = {
  [STATUS_CREATING] = "creating", [STATUS_CREATED] = "created", [STATUS_RUNNING] = "running",
  [STATUS_PAUSED] = "paused",     [STATUS_STOPPED] = "stopped",
};

const char *
container_status_name (enum container_status s)
{
  if ((size_t) s < sizeof (status_names) / sizeof (status_names[0]))
    return status_names[s];
  return "unknown";
}

int
container_status_parse (const char *text, enum container_status *out, hull_error_t *err)
{
  for (size_t i = 0; i < sizeof (status_names) / sizeof (status_names[0]); i++)
    if (strcmp (text, status_names[i]) == 0)
      {
        *out = (enum container_status) i;
        return 0;
      }
  return hull_error (err, 0, "unknown container status `%s`", text);
}

int
state_check_op (const char *id, enum container_status s, enum container_op op, hull_error_t *err)
{
  const char *sn = container_status_name (s);

  switch (op)
    {
    case OP_START:
      if (s == STATUS_CREATED)
        return 0;
      if (s == STATUS_STOPPED)
        return hull_error (err, 0, "cannot start container `%s`: it has stopped", id);
      return hull_error (err, 0, "cannot start container `%s`: it is %s, not created", id, sn);
    case OP_KILL:
    case OP_PS:
    case OP_STATS:
    case OP_UPDATE:
      if (s == STATUS_CREATED || s == STATUS_RUNNING || s == STATUS_PAUSED)
        return 0;
      /* containerd matches "container not running" to mean "already
       * finished". */
      return hull_error (err, 0, "cannot %s container `%s`: container not running (%s)",
                         op == OP_KILL ? "signal" : op == OP_PS ? "list processes of"
                         : op == OP_STATS ? "get statistics of" : "update",
                         id, sn);
    case OP_EXEC:
      if (s == STATUS_RUNNING)
        return 0;
      if (s == STATUS_PAUSED)
        return hull_error (err, 0, "cannot exec in container `%s`: it is paused", id);
      return hull_error (err, 0, "cannot exec in container `%s`: container not running (%s)", id,
                         sn);
    case OP_PAUSE:
      if (s == STATUS_RUNNING)
        return 0;
      if (s == STATUS_PAUSED)
        return hull_error (err, 0, "container `%s` is already paused", id);
      return hull_error (err, 0, "cannot pause container `%s`: container not running (%s)", id,
                         sn);
    case OP_RESUME:
      if (s == STATUS_PAUSED)
        return 0;
      return hull_error (err, 0, "cannot resume container `%s`: container not paused (%s)", id,
                         sn);
    case OP_DELETE:
      if (s == STATUS_STOPPED || s == STATUS_CREATED || s == STATUS_CREATING)
        return 0;
      return hull_error (err, 0,
                         "cannot delete container `%s` that is not stopped: %s (use --force)", id,
                         sn);
    case OP_DELETE_FORCE:
      return 0;
    }
  return hull_error (err, 0, "container `%s`: unknown operation", id);
}

void
container_record_free (struct container_record *r)
{
  free (r->id);
  free (r->bundle);
  free (r->rootfs);
  free (r->created);
  if (r->annotations != NULL)
    for (char **p = r->annotations; *p != NULL; p++)
      free (*p);
  free (r->annotations);
  memset (r, 0, sizeof (*r));
}

char *
state_dir_path (const char *root, const char *id)
{
  char *p = NULL;
  if (asprintf (&p, "%s/%s", root, id) < 0)
    return NULL;
  return p;
}

char *
state_file_path (const char *root, const char *id, const char *name)
{
  char *p = NULL;
  if (asprintf (&p, "%s/%s/%s", root, id, name) < 0)
    return NULL;
  return p;
}

static void
gen_annotations (struct json_gen *g, char **ann)
{
  json_gen_key (g, "annotations");
  json_gen_open_object (g);
  for (char **p = ann; p != NULL && p[0] != NULL && p[1] != NULL; p += 2)
    json_gen_kv_string (g, p[0], p[1]);
  json_gen_close_object (g);
}

static char *
record_to_json (const struct container_record *r)
{
  cleanup_error hull_error_t err = NULL;
  struct json_gen g;
  char *out = NULL;

  if (json_gen_init (&g, &err) < 0)
    return NULL;
  json_gen_open_object (&g);
  json_gen_kv_string (&g, "id", r->id);
  json_gen_kv_string (&g, "bundle", r->bundle);
  json_gen_kv_string (&g, "rootfs", r->rootfs);
  json_gen_kv_string (&g, "created", r->created);
  json_gen_kv_int (&g, "supervisorPid", r->supervisor_pid);
  json_gen_kv_uint (&g, "supervisorStart", r->supervisor_start);
  json_gen_kv_bool (&g, "systemdCgroup", r->systemd_cgroup);
  gen_annotations (&g, r->annotations);
  json_gen_close_object (&g);
  if (json_gen_finish (&g, &out, NULL, &err) < 0)
    return NULL;
  return out;
}

static int
write_file_atomic (const char *dir, const char *name, const char *data, hull_error_t *err)
{
  cleanup_free char *tmp = NULL, *dst = NULL;
  cleanup_close int fd = -1;
  size_t len = strlen (data);

  if (asprintf (&tmp, "%s/.%s.XXXXXX", dir, name) < 0 || asprintf (&dst, "%s/%s", dir, name) < 0)
    return hull_error (err, ENOMEM, "state file `%s/%s`", dir, name);
  fd = mkostemp (tmp, O_CLOEXEC);
  if (fd < 0)
    return hull_error (err, errno, "create `%s`", tmp);
  if (write (fd, data, len) != (ssize_t) len || rename (tmp, dst) < 0)
    {
      int saved = errno;
      unlink (tmp);
      return hull_error (err, saved, "write state file `%s`", dst);
    }
  return 0;
}

int
container_record_write (const char *dir, const struct container_record *r, hull_error_t *err)
{
  cleanup_free char *json = record_to_json (r);

  if (json == NULL)
    return hull_error (err, ENOMEM, "serialise state of `%s`", r->id);
  return write_file_atomic (dir, "state.json", json, err);
}

static char *
tree_str (yajl_val root, const char *key)
{
  const char *path[] = { key, NULL };
  yajl_val v = yajl_tree_get (root, path, yajl_t_string);
  return v && YAJL_IS_STRING (v) ? strdup (v->u.string) : NULL;
}

static long long
tree_int (yajl_val root, const char *key)
{
  const char *path[] = { key, NULL };
  yajl_val v = yajl_tree_get (root, path, yajl_t_number);
  return v && YAJL_IS_INTEGER (v) ? YAJL_GET_INTEGER (v) : 0;
}

static int
read_annotations (yajl_val root, struct container_record *r)
{
  const char *path[] = { "annotations", NULL };
  yajl_val v = yajl_tree_get (root, path, yajl_t_object);
  size_t n = v ? YAJL_GET_OBJECT (v)->len : 0, j = 0;

  r->annotations = calloc (2 * n + 1, sizeof (char *));
  if (r->annotations == NULL)
    return -1;
  for (size_t i = 0; i < n; i++)
    {
      yajl_val val = YAJL_GET_OBJECT (v)->values[i];
      if (! YAJL_IS_STRING (val))
        continue;
      r->annotations[j++] = strdup (YAJL_GET_OBJECT (v)->keys[i]);
      r->annotations[j++] = strdup (val->u.string);
    }
  return 0;
}

static char *
read_small_file (const char *path, hull_error_t *err)
{
  cleanup_fclose FILE *f = fopen (path, "re");
  char *buf = NULL;
  size_t len = 0;
  FILE *m;

  if (f == NULL)
    {
      hull_error (err, errno, "open `%s`", path);
      return NULL;
    }
  m = open_memstream (&buf, &len);
  if (m == NULL)
    {
      hull_error (err, errno, "read `%s`", path);
      return NULL;
    }
  for (int c; (c = fgetc (f)) != EOF;)
    fputc (c, m);
  fclose (m);
  return buf;
}

int
container_record_read (const char *dir, struct container_record *r, hull_error_t *err)
{
  cleanup_free char *path = NULL, *text = NULL;
  char ebuf[256];
  yajl_val root;

  memset (r, 0, sizeof (*r));
  if (asprintf (&path, "%s/state.json", dir) < 0)
    return hull_error (err, ENOMEM, "state of `%s`", dir);
  text = read_small_file (path, err);
  if (text == NULL)
    return -1;
  root = yajl_tree_parse (text, ebuf, sizeof (ebuf));
  if (root == NULL)
    return hull_error (err, 0, "`%s`: invalid JSON: %s", path, ebuf);
  r->id = tree_str (root, "id");
  r->bundle = tree_str (root, "bundle");
  r->rootfs = tree_str (root, "rootfs");
  r->created = tree_str (root, "created");
  r->supervisor_pid = (pid_t) tree_int (root, "supervisorPid");
  r->supervisor_start = (unsigned long long) tree_int (root, "supervisorStart");
  {
    const char *p[] = { "systemdCgroup", NULL };
    r->systemd_cgroup = YAJL_IS_TRUE (yajl_tree_get (root, p, yajl_t_true));
  }
  if (read_annotations (root, r) < 0 || r->id == NULL)
    {
      yajl_tree_free (root);
      container_record_free (r);
      return hull_error (err, 0, "`%s`: missing or invalid fields", path);
    }
  yajl_tree_free (root);
  return 0;
}

int
proc_start_time (pid_t pid, unsigned long long *out)
{
  char path[64], buf[1024], state;
  cleanup_close int fd = -1;
  const char *p;
  ssize_t n;

  snprintf (path, sizeof (path), "/proc/%d/stat", (int) pid);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  n = read (fd, buf, sizeof (buf) - 1);
  if (n <= 0)
    return -1;
  buf[n] = '\0';
  /* The command name may contain spaces and parentheses: skip to the
   * last ')' and count fields from there (state is field 3, start 22). */
  p = strrchr (buf, ')');
  if (p == NULL || sscanf (p + 1, " %c", &state) != 1)
    return -1;
  if (state == 'Z' || state == 'X')
    return -1;
  p += 2;
  for (int field = 3; field < 22; field++)
    {
      p = strchr (p, ' ');
      if (p == NULL)
        return -1;
      p++;
    }
  *out = strtoull (p, NULL, 10);
  return 0;
}

bool
container_record_supervisor_alive (const struct container_record *r)
{
  unsigned long long start;

  if (r->supervisor_pid <= 0)
    return false;
  if (proc_start_time (r->supervisor_pid, &start) < 0)
    return false;
  return start == r->supervisor_start;
}

char *
state_now_rfc3339 (void)
{
  struct timespec ts;
  struct tm tm;
  char base[32], *out = NULL;

  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  strftime (base, sizeof (base), "%Y-%m-%dT%H:%M:%S", &tm);
  if (asprintf (&out, "%s.%09ldZ", base, (long) ts.tv_nsec) < 0)
    return NULL;
  return out;
}

char *
state_to_json (const struct container_record *r, enum container_status s, pid_t pid, bool pretty)
{
  cleanup_error hull_error_t err = NULL;
  struct json_gen g;
  char *out = NULL;

  if (json_gen_init_opts (&g, pretty, &err) < 0)
    return NULL;
  json_gen_open_object (&g);
  json_gen_kv_string (&g, "ociVersion", HULL_OCI_VERSION);
  json_gen_kv_string (&g, "id", r->id);
  json_gen_kv_int (&g, "pid", s == STATUS_STOPPED ? 0 : pid);
  json_gen_kv_string (&g, "status", container_status_name (s));
  json_gen_kv_string (&g, "bundle", r->bundle ? r->bundle : "");
  json_gen_kv_string (&g, "rootfs", r->rootfs ? r->rootfs : "");
  json_gen_kv_string (&g, "created", r->created ? r->created : "");
  json_gen_kv_string (&g, "owner", "");
  gen_annotations (&g, r->annotations);
  json_gen_close_object (&g);
  if (json_gen_finish (&g, &out, NULL, &err) < 0)
    return NULL;
  return out;
}
