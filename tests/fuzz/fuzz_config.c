/* libFuzzer target for the OCI parsers: every input is handed, whole, to
 * the three entry points that read user files (config.json, the process.json
 * of `hull exec`, the resources file of `hull update`), so one corpus of
 * config.json, process and resources documents exercises all of them.
 * A config that parses is also sized by resources_map(), the next thing
 * `hull create` does with it.
 *
 * Findings: crashes, sanitizer reports (overflows, leaks on the error
 * paths, UB), a failure without an error message, and accepted documents
 * that break the invariants oci_config.h promises its callers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/oci_config.h"
#include "runtime/resources_map.h"

#define CHECK(cond) \
  do \
    { \
      if (!(cond)) \
        abort (); \
    } \
  while (0)

/* A parser refused the input: it must say why, and say it non-empty. */
static void
check_failure (hull_error_t *err)
{
  const char *msg;

  CHECK (*err != NULL);
  msg = hull_error_msg (err);
  CHECK (msg != NULL && msg[0] != '\0');
  hull_error_free (err);
}

/* struct oci_strv: n entries, then NULL; v NULL only when empty. */
static void
check_strv (const struct oci_strv *s)
{
  if (s->n == 0)
    {
      CHECK (s->v == NULL || s->v[0] == NULL);
      return;
    }
  CHECK (s->v != NULL);
  for (size_t i = 0; i < s->n; i++)
    CHECK (s->v[i] != NULL);
  CHECK (s->v[s->n] == NULL);
}

static void
check_abs_strv (const struct oci_strv *s)
{
  check_strv (s);
  for (size_t i = 0; i < s->n; i++)
    CHECK (s->v[i][0] == '/');
}

static void
check_process (const struct oci_process *p)
{
  CHECK (p->args.n >= 1);
  check_strv (&p->args);
  check_strv (&p->env);
  for (size_t i = 0; i < p->env.n; i++)
    CHECK (strchr (p->env.v[i], '=') != NULL && p->env.v[i][0] != '=');
  CHECK (p->cwd != NULL && p->cwd[0] == '/');
  CHECK (!p->user.has_umask || p->user.umask <= 0777);
  CHECK (p->user.n_additional_gids == 0 || p->user.additional_gids != NULL);
  for (size_t i = 0; i < p->n_rlimits; i++)
    {
      CHECK (p->rlimits[i].soft <= p->rlimits[i].hard);
      CHECK (p->rlimits[i].resource >= 0);
      for (size_t j = 0; j < i; j++)
        CHECK (p->rlimits[i].resource != p->rlimits[j].resource);
    }
  CHECK (!p->has_oom_score_adj || (p->oom_score_adj >= -1000 && p->oom_score_adj <= 1000));
  if (p->capabilities != NULL)
    {
      const struct oci_cap_set *sets[] = {
        &p->capabilities->bounding, &p->capabilities->effective,
        &p->capabilities->inheritable, &p->capabilities->permitted,
        &p->capabilities->ambient,
      };
      for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        {
          check_strv (&sets[i]->names);
          /* Only bits of capabilities hull knows may be set. */
          CHECK ((sets[i]->mask >> (oci_cap_last () + 1)) == 0
                 || oci_cap_last () >= 63);
        }
    }
  if (p->io_priority != NULL)
    CHECK (p->io_priority->priority >= 0 && p->io_priority->priority <= 7);
  if (p->scheduler != NULL && p->scheduler->has_nice)
    CHECK (p->scheduler->nice >= -20 && p->scheduler->nice <= 19);
}

static void
check_resources (const struct oci_linux_resources *r)
{
  CHECK (r->n_devices == 0 || r->devices != NULL);
  for (size_t i = 0; i < r->n_devices; i++)
    {
      const char *a = r->devices[i].access;
      CHECK (strchr ("abc", r->devices[i].type) != NULL);
      CHECK (a == NULL || strspn (a, "rwm") == strlen (a));
    }
  if (r->memory != NULL && r->memory->has_swappiness)
    CHECK (r->memory->swappiness <= 100);
  for (size_t i = 0; i < r->unified.n; i++)
    CHECK (r->unified.v[i].key != NULL && r->unified.v[i].value != NULL);
}

static void
check_linux (const struct oci_linux *l)
{
  for (size_t i = 0; i < l->n_namespaces; i++)
    {
      CHECK (l->namespaces[i].type < OCI_NS__COUNT);
      CHECK (l->namespaces[i].path == NULL || l->namespaces[i].path[0] == '/');
      for (size_t j = 0; j < i; j++)
        CHECK (l->namespaces[i].type != l->namespaces[j].type);
      /* The lookup every consumer uses must find it. */
      CHECK (oci_linux_namespace (l, l->namespaces[i].type) == &l->namespaces[i]);
    }
  for (size_t i = 0; i < l->n_devices; i++)
    {
      CHECK (strchr ("cbup", l->devices[i].type) != NULL);
      CHECK (l->devices[i].path != NULL && l->devices[i].path[0] == '/');
      CHECK (!l->devices[i].has_file_mode || l->devices[i].file_mode <= 07777);
    }
  check_abs_strv (&l->masked_paths);
  check_abs_strv (&l->readonly_paths);
  if (l->resources != NULL)
    check_resources (l->resources);
  if (l->seccomp != NULL)
    for (size_t i = 0; i < l->seccomp->n_syscalls; i++)
      {
        CHECK (l->seccomp->syscalls[i].names.n >= 1);
        check_strv (&l->seccomp->syscalls[i].names);
        for (size_t j = 0; j < l->seccomp->syscalls[i].n_args; j++)
          CHECK (l->seccomp->syscalls[i].args[j].index <= 5);
      }
}

static void
check_size (const struct oci_config *c)
{
  const struct resources_defaults d = {
    .vcpus = 1, .memory_mib = 512, .max_vcpus = 8,
    .max_memory_mib = 65536, .overhead_mib = 64,
  };
  struct vm_size vs;
  hull_error_t err = NULL;

  if (resources_map (c, &d, &vs, &err) < 0)
    {
      check_failure (&err);
      return;
    }
  CHECK (vs.vcpus >= 1 && vs.vcpus <= d.max_vcpus);
  CHECK (vs.memory_mib >= RESOURCES_MIN_MEMORY_MIB);
  CHECK (vs.vcpus_from != NULL && vs.memory_from != NULL);
}

static void
check_config (const struct oci_config *c)
{
  CHECK (c->oci_version != NULL && strncmp (c->oci_version, "1.", 2) == 0);
  CHECK (c->root.path != NULL && c->root.path[0] != '\0');
  if (c->process != NULL)
    check_process (c->process);
  for (size_t i = 0; i < c->n_mounts; i++)
    {
      CHECK (c->mounts[i].destination != NULL && c->mounts[i].destination[0] == '/');
      check_strv (&c->mounts[i].options);
    }
  for (int k = 0; k < OCI_HOOK__COUNT; k++)
    for (size_t i = 0; i < c->hooks[k].n; i++)
      {
        CHECK (c->hooks[k].v[i].path != NULL && c->hooks[k].v[i].path[0] == '/');
        CHECK (!c->hooks[k].v[i].has_timeout || c->hooks[k].v[i].timeout > 0);
        check_strv (&c->hooks[k].v[i].args);
        check_strv (&c->hooks[k].v[i].env);
      }
  for (size_t i = 0; i < c->annotations.n; i++)
    CHECK (c->annotations.v[i].key != NULL && c->annotations.v[i].value != NULL);
  if (c->linux_spec != NULL)
    check_linux (c->linux_spec);
  check_size (c);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct oci_config *c = NULL;
  struct oci_process *p = NULL;
  struct oci_linux_resources *r = NULL;
  hull_error_t err = NULL;
  /* The parsers take (data, len) and must not read past len: give them an
   * exact-size heap copy so ASan sees any overread. */
  char *buf = malloc (size ? size : 1);

  if (buf == NULL)
    return 0;
  memcpy (buf, data, size);

  if (oci_config_parse_data (buf, size, &c, &err) == 0)
    {
      CHECK (err == NULL && c != NULL);
      check_config (c);
      oci_config_free (c);
    }
  else
    {
      CHECK (c == NULL);
      check_failure (&err);
    }

  if (oci_process_parse_data (buf, size, &p, &err) == 0)
    {
      CHECK (err == NULL && p != NULL);
      check_process (p);
      oci_process_free (p);
    }
  else
    {
      CHECK (p == NULL);
      check_failure (&err);
    }

  if (oci_resources_parse_data (buf, size, &r, &err) == 0)
    {
      CHECK (err == NULL && r != NULL);
      check_resources (r);
      oci_resources_free (r);
    }
  else
    {
      CHECK (r == NULL);
      check_failure (&err);
    }

  free (buf);
  return 0;
}
