/* The process of an exec request: either a whole process object (what
 * `hull exec --process F` and containerd send) or, for `hull exec ID
 * ARGS...`, config.process of the container with args replaced and cwd,
 * env, user and terminal overridden, as runc does. */
#include <errno.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cleanup.h"
#include "runtime/json.h"
#include "runtime/supervisor_internal.h"
#include "runtime/supervisor_proto.h"

/* A JSON array of strings as a NULL-terminated vector. */
static int
strv_from_json (yajl_val arr, const char *what, struct oci_strv *out, hull_error_t *err)
{
  size_t n;
  char **v;

  if (arr == NULL || ! YAJL_IS_ARRAY (arr))
    return hull_error (err, 0, "exec: `%s` must be an array of strings", what);
  n = arr->u.array.len;
  v = calloc (n + 1, sizeof (char *));
  if (v == NULL)
    return hull_error (err, ENOMEM, "exec: %s", what);
  for (size_t i = 0; i < n; i++)
    {
      yajl_val e = arr->u.array.values[i];
      if (! YAJL_IS_STRING (e) || (v[i] = strdup (e->u.string)) == NULL)
        {
          json_strv_free (v);
          return hull_error (err, 0, "exec: `%s[%zu]` must be a string", what, i);
        }
    }
  out->v = v;
  out->n = n;
  return 0;
}

static bool
same_key (const char *a, const char *b)
{
  size_t ka = strcspn (a, "="), kb = strcspn (b, "=");
  return ka == kb && strncmp (a, b, ka) == 0;
}

/* env = base entries not overridden, then the additions. */
static int
merge_env (struct oci_strv *env, const struct oci_strv *add, hull_error_t *err)
{
  char **v = calloc (env->n + add->n + 1, sizeof (char *));
  size_t n = 0;

  if (v == NULL)
    return hull_error (err, ENOMEM, "exec: env");
  for (size_t i = 0; i < env->n; i++)
    {
      bool overridden = false;
      for (size_t j = 0; j < add->n; j++)
        overridden |= same_key (env->v[i], add->v[j]);
      if (overridden)
        free (env->v[i]);
      else
        v[n++] = env->v[i];
    }
  for (size_t j = 0; j < add->n; j++)
    v[n++] = add->v[j];
  free (env->v);
  free (add->v);
  env->v = v;
  env->n = n;
  return 0;
}

static int
apply_overrides (struct oci_process *p, yajl_val msg, hull_error_t *err)
{
  struct oci_strv args = { 0 }, env = { 0 };
  const char *cwd = proto_get_str (msg, "cwd");
  long long uid, gid;

  if (strv_from_json (proto_get (msg, "args"), "args", &args, err) < 0)
    return -1;
  if (args.n == 0)
    {
      json_strv_free (args.v);
      return hull_error (err, 0, "exec: no command given");
    }
  json_strv_free (p->args.v);
  p->args = args;
  if (proto_get (msg, "env") != NULL)
    {
      if (strv_from_json (proto_get (msg, "env"), "env", &env, err) < 0
          || merge_env (&p->env, &env, err) < 0)
        return -1;
    }
  if (cwd != NULL)
    {
      if (cwd[0] != '/')
        return hull_error (err, 0, "exec: --cwd `%s` must be an absolute path", cwd);
      free (p->cwd);
      p->cwd = strdup (cwd);
    }
  if (proto_get_int (msg, "uid", &uid))
    {
      p->user.uid = (uint32_t) uid;
      p->user.gid = proto_get_int (msg, "gid", &gid) ? (uint32_t) gid : 0;
      free (p->user.additional_gids);
      p->user.additional_gids = NULL;
      p->user.n_additional_gids = 0;
    }
  p->terminal = proto_get_bool (msg, "tty");
  return 0;
}

int
supervisor_exec_process (struct supervisor *s, yajl_val msg, struct oci_process **out,
                         hull_error_t *err)
{
  const char *text = proto_get_str (msg, "process");
  struct oci_config *fresh = NULL;
  struct oci_process *p;

  if (text != NULL)
    {
      if (oci_process_parse_data (text, strlen (text), out, err) < 0)
        return hull_error_prefix (err, "exec: process");
      return 0;
    }
  /* Parsing the saved config again is the simplest deep copy. */
  if (oci_config_parse_data (s->config_text, s->config_len, &fresh, err) < 0)
    return -1;
  p = fresh->process;
  fresh->process = NULL;
  oci_config_free (fresh);
  if (apply_overrides (p, msg, err) < 0)
    {
      oci_process_free (p);
      return -1;
    }
  *out = p;
  return 0;
}

int
supervisor_exec_stdio (struct sandbox_exec_args *ea, struct oci_process *p, const int *fds,
                       size_t nfds, const char *what, hull_error_t *err)
{
  if (!p->terminal && nfds != 3)
    return hull_error (err, 0, "%s: expected 3 stdio fds, got %zu", what, nfds);
  ea->process = p;
  for (size_t i = 0; i < 3 && i < nfds; i++)
    ea->stdio[i] = fds[i];
  return 0;
}

int
supervisor_exec_reply (struct sup_conn *c, uint32_t ctr, uint32_t pid, int master,
                       hull_error_t *err)
{
  struct ucred cred;
  socklen_t len = sizeof (cred);
  yajl_gen g;

  c->is_exec = true;
  c->ctr = ctr;
  c->proc = pid;
  /* The exec relay's host pid, for `hull ps` (sandbox_ops.guest_pids). */
  c->peer_pid = getsockopt (c->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 ? cred.pid : 0;
  g = proto_begin ();
  proto_put_bool (g, "ok", true);
  proto_put_int (g, "pid", pid);
  return proto_send (c->fd, g, master >= 0 ? &master : NULL, master >= 0 ? 1 : 0, err);
}
