/* config.process, also the whole document of `hull exec --process`. */
#include "runtime/oci_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cleanup.h"

static int
parse_console_size (const struct json_node *proc, struct oci_process *p,
                    hull_error_t *err)
{
  struct json_node cs;
  int r;

  /* The spec says to ignore consoleSize without a terminal, so it is
   * parsed (types still checked) but has_console_size tells the caller
   * whether it applies. */
  r = oci_get_object (proc, "consoleSize", JSON_OPTIONAL, &cs, err);
  if (r <= 0)
    return r;
  if (json_get_uint64 (&cs, "height", JSON_REQUIRED, &p->console_height, err)
          < 0
      || json_get_uint64 (&cs, "width", JSON_REQUIRED, &p->console_width, err)
             < 0)
    return -1;
  p->has_console_size = true;
  return 0;
}

static int
parse_user (const struct json_node *proc, struct oci_user *u,
            hull_error_t *err)
{
  struct json_node un, gids;
  size_t len, i;
  int r;

  r = oci_get_object (proc, "user", JSON_OPTIONAL, &un, err);
  if (r <= 0)
    return r; /* absent: uid 0, gid 0 */
  if (json_get_uint32 (&un, "uid", JSON_REQUIRED, &u->uid, err) < 0
      || json_get_uint32 (&un, "gid", JSON_REQUIRED, &u->gid, err) < 0)
    return -1;
  r = json_get_uint32 (&un, "umask", JSON_OPTIONAL, &u->umask, err);
  if (r < 0)
    return -1;
  if (r > 0 && u->umask > 0777)
    {
      struct json_node m = json_child (&un, "umask");
      return json_error (&m, err, "%u is not a umask (0..0777)", u->umask);
    }
  u->has_umask = r > 0;
  if (json_get_string (&un, "username", JSON_OPTIONAL, &u->username, err) < 0)
    return -1;
  r = json_member (&un, "additionalGids", JSON_OPTIONAL, &gids, err);
  if (r <= 0)
    return r;
  if (json_expect_array (&gids, &len, err) < 0)
    return -1;
  if (len == 0)
    return 0;
  u->additional_gids = calloc (len, sizeof (uint32_t));
  if (u->additional_gids == NULL)
    return hull_error (err, ENOMEM, "allocate additionalGids");
  for (i = 0; i < len; i++)
    {
      struct json_node e = json_element (&gids, i);
      uint64_t v;

      if (json_as_uint (&e, UINT32_MAX, &v, err) < 0)
        return -1;
      u->additional_gids[i] = (uint32_t) v;
      u->n_additional_gids = i + 1;
    }
  return 0;
}

static int
parse_args_env (const struct json_node *proc, struct oci_process *p,
                hull_error_t *err)
{
  struct json_node m;
  size_t i;

  if (oci_parse_strv (proc, "args", JSON_OPTIONAL, &p->args, err) < 0
      || json_get_string (proc, "commandLine", JSON_OPTIONAL,
                          &p->command_line, err)
             < 0)
    return -1;
  /* commandLine is Windows-only; on Linux args must name the program. */
  if (p->args.n == 0)
    {
      m = json_child (proc, "args");
      return json_error (&m, err,
                         m.v ? "must have at least one entry"
                             : "required field missing");
    }
  if (oci_parse_strv (proc, "env", JSON_OPTIONAL, &p->env, err) < 0)
    return -1;
  for (i = 0; i < p->env.n; i++)
    {
      const char *eq = strchr (p->env.v[i], '=');
      if (eq == NULL || eq == p->env.v[i])
        {
          struct json_node env = json_child (proc, "env");
          struct json_node e = json_element (&env, i);
          return json_error (&e, err, "expected \"KEY=value\", got \"%s\"",
                             p->env.v[i]);
        }
    }
  return 0;
}

static int
parse_cap_set (const struct json_node *caps, const char *key,
               struct oci_cap_set *set, hull_error_t *err)
{
  size_t i;
  int r;

  r = oci_parse_strv (caps, key, JSON_OPTIONAL, &set->names, err);
  if (r <= 0)
    return r;
  set->present = true;
  for (i = 0; i < set->names.n; i++)
    {
      int cap = oci_cap_from_name (set->names.v[i]);
      if (cap < 0)
        {
          struct json_node m = json_child (caps, key);
          struct json_node e = json_element (&m, i);
          return json_error (&e, err, "unknown capability \"%s\"",
                             set->names.v[i]);
        }
      set->mask |= UINT64_C (1) << cap;
    }
  return 0;
}

static int
parse_capabilities (const struct json_node *proc, struct oci_process *p,
                    hull_error_t *err)
{
  struct json_node caps;
  struct oci_capabilities *c;
  int r;

  r = oci_get_object (proc, "capabilities", JSON_OPTIONAL, &caps, err);
  if (r <= 0)
    return r;
  c = p->capabilities = calloc (1, sizeof (*c));
  if (c == NULL)
    return hull_error (err, ENOMEM, "allocate capabilities");
  if (parse_cap_set (&caps, "bounding", &c->bounding, err) < 0
      || parse_cap_set (&caps, "effective", &c->effective, err) < 0
      || parse_cap_set (&caps, "inheritable", &c->inheritable, err) < 0
      || parse_cap_set (&caps, "permitted", &c->permitted, err) < 0
      || parse_cap_set (&caps, "ambient", &c->ambient, err) < 0)
    return -1;
  return 0;
}

static void
free_capabilities (struct oci_capabilities *c)
{
  if (c == NULL)
    return;
  oci_strv_free (&c->bounding.names);
  oci_strv_free (&c->effective.names);
  oci_strv_free (&c->inheritable.names);
  oci_strv_free (&c->permitted.names);
  oci_strv_free (&c->ambient.names);
  free (c);
}

static int
parse_rlimit (const struct json_node *e, void *elem, hull_error_t *err)
{
  struct oci_rlimit *rl = elem;
  struct json_node m;

  if (json_expect_object (e, err) < 0
      || json_get_string (e, "type", JSON_REQUIRED, &rl->type, err) < 0)
    return -1;
  rl->resource = oci_rlimit_from_name (rl->type);
  if (rl->resource < 0)
    {
      m = json_child (e, "type");
      return json_error (&m, err, "unknown rlimit \"%s\"", rl->type);
    }
  if (json_get_uint64 (e, "soft", JSON_REQUIRED, &rl->soft, err) < 0
      || json_get_uint64 (e, "hard", JSON_REQUIRED, &rl->hard, err) < 0)
    return -1;
  if (rl->soft > rl->hard)
    {
      m = json_child (e, "soft");
      return json_error (&m, err, "soft limit is greater than hard limit");
    }
  return 0;
}

static void
free_rlimit (void *elem)
{
  free (((struct oci_rlimit *) elem)->type);
}

static int
parse_rlimits (const struct json_node *proc, struct oci_process *p,
               hull_error_t *err)
{
  void *v = NULL;
  size_t n = 0, i, j;
  int r;

  r = oci_parse_array (proc, "rlimits", JSON_OPTIONAL, sizeof (*p->rlimits),
                       parse_rlimit, free_rlimit, &v, &n, err);
  if (r <= 0)
    return r;
  p->rlimits = v;
  p->n_rlimits = n;
  /* Two entries for one resource would make the result order-dependent. */
  for (i = 0; i < n; i++)
    for (j = 0; j < i; j++)
      if (p->rlimits[i].resource == p->rlimits[j].resource)
        {
          struct json_node m = json_child (proc, "rlimits");
          struct json_node e = json_element (&m, i);
          struct json_node t = json_child (&e, "type");
          return json_error (&t, err, "duplicate rlimit \"%s\"",
                             p->rlimits[i].type);
        }
  return 0;
}

static int
parse_io_priority (const struct json_node *proc, struct oci_process *p,
                   hull_error_t *err)
{
  static const char *const classes[]
      = { "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE", NULL };
  struct json_node io, m;
  cleanup_free char *cls = NULL;
  int32_t prio = 0;
  int r, idx;

  r = oci_get_object (proc, "ioPriority", JSON_OPTIONAL, &io, err);
  if (r <= 0)
    return r;
  if (json_get_string (&io, "class", JSON_REQUIRED, &cls, err) < 0)
    return -1;
  idx = oci_name_index (classes, cls);
  if (idx < 0)
    {
      m = json_child (&io, "class");
      return json_error (&m, err, "unknown I/O priority class \"%s\"", cls);
    }
  if (json_get_int32 (&io, "priority", JSON_OPTIONAL, &prio, err) < 0)
    return -1;
  if (prio < 0 || prio > 7)
    {
      m = json_child (&io, "priority");
      return json_error (&m, err, "%d out of range 0..7", prio);
    }
  p->io_priority = calloc (1, sizeof (*p->io_priority));
  if (p->io_priority == NULL)
    return hull_error (err, ENOMEM, "allocate ioPriority");
  p->io_priority->class_ = idx + 1; /* IOPRIO_CLASS_RT is 1 */
  p->io_priority->priority = prio;
  return 0;
}

static int
parse_exec_cpu_affinity (const struct json_node *proc, struct oci_process *p,
                         hull_error_t *err)
{
  static const char *const keys[] = { "initial", "final" };
  char **dst[] = { &p->exec_cpu_affinity_initial,
                   &p->exec_cpu_affinity_final };
  struct json_node aff;
  size_t i;
  int r;

  r = oci_get_object (proc, "execCPUAffinity", JSON_OPTIONAL, &aff, err);
  if (r <= 0)
    return r;
  for (i = 0; i < 2; i++)
    {
      r = json_get_string (&aff, keys[i], JSON_OPTIONAL, dst[i], err);
      if (r < 0)
        return -1;
      if (r > 0 && (*dst[i])[strspn (*dst[i], "0123456789,- ")] != '\0')
        {
          struct json_node m = json_child (&aff, keys[i]);
          return json_error (&m, err, "\"%s\" is not a CPU list", *dst[i]);
        }
    }
  return 0;
}

static int
parse_misc (const struct json_node *proc, struct oci_process *p,
            hull_error_t *err)
{
  int64_t oom;
  int r;

  if (json_get_bool (proc, "terminal", JSON_OPTIONAL, &p->terminal, err) < 0
      || json_get_bool (proc, "noNewPrivileges", JSON_OPTIONAL,
                        &p->no_new_privileges, err)
             < 0
      || json_get_string (proc, "apparmorProfile", JSON_OPTIONAL,
                          &p->apparmor_profile, err)
             < 0
      || json_get_string (proc, "selinuxLabel", JSON_OPTIONAL,
                          &p->selinux_label, err)
             < 0)
    return -1;
  {
    struct json_node m;
    r = json_member (proc, "oomScoreAdj", JSON_OPTIONAL, &m, err);
    if (r < 0 || (r > 0 && json_as_int (&m, -1000, 1000, &oom, err) < 0))
      return -1;
    if (r > 0)
      {
        p->has_oom_score_adj = true;
        p->oom_score_adj = (int) oom;
      }
  }
  return 0;
}

static int
process_fill (const struct json_node *n, struct oci_process *p,
              hull_error_t *err)
{
  if (json_expect_object (n, err) < 0 || parse_misc (n, p, err) < 0
      || parse_console_size (n, p, err) < 0 || parse_user (n, &p->user, err) < 0
      || parse_args_env (n, p, err) < 0
      || oci_get_abs_path (n, "cwd", JSON_REQUIRED, &p->cwd, err) < 0
      || parse_capabilities (n, p, err) < 0 || parse_rlimits (n, p, err) < 0
      || parse_io_priority (n, p, err) < 0
      || oci_scheduler_parse (n, &p->scheduler, err) < 0
      || parse_exec_cpu_affinity (n, p, err) < 0)
    return -1;
  return 0;
}

int
oci_process_parse_node (const struct json_node *n, struct oci_process **out,
                        hull_error_t *err)
{
  struct oci_process *p = calloc (1, sizeof (*p));

  if (p == NULL)
    return hull_error (err, ENOMEM, "allocate process");
  if (process_fill (n, p, err) < 0)
    {
      oci_process_free (p);
      return -1;
    }
  *out = p;
  return 0;
}

void
oci_process_free (struct oci_process *p)
{
  if (p == NULL)
    return;
  free (p->user.additional_gids);
  free (p->user.username);
  oci_strv_free (&p->args);
  free (p->command_line);
  oci_strv_free (&p->env);
  free (p->cwd);
  free_capabilities (p->capabilities);
  oci_array_free (p->rlimits, p->n_rlimits, sizeof (*p->rlimits),
                  free_rlimit);
  free (p->apparmor_profile);
  free (p->selinux_label);
  free (p->io_priority);
  free (p->scheduler);
  free (p->exec_cpu_affinity_initial);
  free (p->exec_cpu_affinity_final);
  free (p);
}

static int
process_root (const struct json_node *root, void *out, hull_error_t *err)
{
  return oci_process_parse_node (root, out, err);
}

int
oci_process_parse_data (const char *data, size_t len,
                        struct oci_process **out, hull_error_t *err)
{
  return oci_parse_document (data, len, process_root, out, err);
}

int
oci_process_parse_file (const char *path, struct oci_process **out,
                        hull_error_t *err)
{
  return oci_parse_document_file (path, process_root, out, err);
}
