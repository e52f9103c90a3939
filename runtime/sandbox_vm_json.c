/* An exec'd process (struct oci_process, as the supervisor built it from
 * the exec request) back to the runtime-spec JSON the agent parses with
 * the same OCI model.  Fields the guest cannot honour yet are refused by
 * name rather than silently dropped. */
#include <errno.h>
#include <stdlib.h>

#include "runtime/json_gen.h"
#include "runtime/sandbox_vm.h"

static void
gen_caps (struct json_gen *g, const struct oci_capabilities *c)
{
  const struct oci_cap_set *sets[] = { &c->bounding, &c->effective, &c->inheritable,
                                       &c->permitted, &c->ambient };
  const char *names[] = { "bounding", "effective", "inheritable", "permitted", "ambient" };

  json_gen_key (g, "capabilities");
  json_gen_open_object (g);
  for (size_t i = 0; i < 5; i++)
    if (sets[i]->present)
      {
        json_gen_key (g, names[i]);
        json_gen_open_array (g);
        for (size_t k = 0; k < sets[i]->names.n; k++)
          json_gen_string (g, sets[i]->names.v[k]);
        json_gen_close_array (g);
      }
  json_gen_close_object (g);
}

static void
gen_user (struct json_gen *g, const struct oci_user *u)
{
  json_gen_key (g, "user");
  json_gen_open_object (g);
  json_gen_kv_uint (g, "uid", u->uid);
  json_gen_kv_uint (g, "gid", u->gid);
  if (u->has_umask)
    json_gen_kv_uint (g, "umask", u->umask);
  if (u->n_additional_gids > 0)
    {
      json_gen_key (g, "additionalGids");
      json_gen_open_array (g);
      for (size_t i = 0; i < u->n_additional_gids; i++)
        json_gen_uint (g, u->additional_gids[i]);
      json_gen_close_array (g);
    }
  json_gen_close_object (g);
}

static void
gen_rlimits (struct json_gen *g, const struct oci_process *p)
{
  json_gen_key (g, "rlimits");
  json_gen_open_array (g);
  for (size_t i = 0; i < p->n_rlimits; i++)
    {
      json_gen_open_object (g);
      json_gen_kv_string (g, "type", p->rlimits[i].type);
      json_gen_kv_uint (g, "soft", p->rlimits[i].soft);
      json_gen_kv_uint (g, "hard", p->rlimits[i].hard);
      json_gen_close_object (g);
    }
  json_gen_close_array (g);
}

static void
gen_io_priority (struct json_gen *g, const struct oci_io_priority *io)
{
  static const char *const classes[] = { "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
                                         "IOPRIO_CLASS_IDLE" };

  json_gen_key (g, "ioPriority");
  json_gen_open_object (g);
  if (io->class_ >= 1 && io->class_ <= 3)
    json_gen_kv_string (g, "class", classes[io->class_ - 1]);
  json_gen_kv_int (g, "priority", io->priority);
  json_gen_close_object (g);
}

int
vm_process_json (const struct oci_process *p, char **out, hull_error_t *err)
{
  struct json_gen g;

  if (p->scheduler != NULL)
    return hull_error (err, ENOTSUP, "process.scheduler: not supported by the microVM backend");
  if (p->exec_cpu_affinity_initial != NULL || p->exec_cpu_affinity_final != NULL)
    return hull_error (err, ENOTSUP,
                       "process.execCPUAffinity: not supported by the microVM backend");
  if (json_gen_init (&g, err) < 0)
    return -1;
  json_gen_open_object (&g);
  json_gen_kv_bool (&g, "terminal", p->terminal);
  if (p->has_console_size)
    {
      json_gen_key (&g, "consoleSize");
      json_gen_open_object (&g);
      json_gen_kv_uint (&g, "height", p->console_height);
      json_gen_kv_uint (&g, "width", p->console_width);
      json_gen_close_object (&g);
    }
  gen_user (&g, &p->user);
  json_gen_kv_strv (&g, "args", p->args.v);
  if (p->env.n > 0)
    json_gen_kv_strv (&g, "env", p->env.v);
  json_gen_kv_string (&g, "cwd", p->cwd);
  if (p->capabilities != NULL)
    gen_caps (&g, p->capabilities);
  if (p->n_rlimits > 0)
    gen_rlimits (&g, p);
  json_gen_kv_bool (&g, "noNewPrivileges", p->no_new_privileges);
  if (p->apparmor_profile != NULL)
    json_gen_kv_string (&g, "apparmorProfile", p->apparmor_profile);
  if (p->has_oom_score_adj)
    json_gen_kv_int (&g, "oomScoreAdj", p->oom_score_adj);
  if (p->selinux_label != NULL)
    json_gen_kv_string (&g, "selinuxLabel", p->selinux_label);
  if (p->io_priority != NULL)
    gen_io_priority (&g, p->io_priority);
  json_gen_close_object (&g);
  return json_gen_finish (&g, out, NULL, err);
}
