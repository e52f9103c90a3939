/* The top level of config.json: version, root, process, hostname, mounts,
 * hooks, annotations and the linux section. */
#include "runtime/oci_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "1.<minor>.<patch>" with an optional "-pre" or "+build" suffix: every
 * 1.x version is accepted (later minors only add fields, which are ignored
 * when unknown); other majors are refused. */
static bool
version_supported (const char *v)
{
  size_t i = 0;
  int part;

  if (strncmp (v, "1.", 2) != 0)
    return false;
  v += 2;
  for (part = 0; part < 2; part++)
    {
      for (i = 0; v[i] >= '0' && v[i] <= '9'; i++)
        ;
      if (i == 0)
        return false;
      v += i;
      if (part == 0 && *v++ != '.')
        return false;
    }
  return *v == '\0' || *v == '-' || *v == '+';
}

static int
parse_version (const struct json_node *root, struct oci_config *c,
               hull_error_t *err)
{
  if (json_get_string (root, "ociVersion", JSON_REQUIRED, &c->oci_version,
                       err)
      < 0)
    return -1;
  if (!version_supported (c->oci_version))
    {
      struct json_node m = json_child (root, "ociVersion");
      return json_error (&m, err,
                         "unsupported version \"%s\" (hull supports 1.x)",
                         c->oci_version);
    }
  return 0;
}

static int
parse_root (const struct json_node *root, struct oci_root *r,
            hull_error_t *err)
{
  struct json_node rn;

  /* Optional in the spec only for Hyper-V Windows containers; hull runs
   * Linux containers, whose rootfs it shares into the VM. */
  if (oci_get_object (root, "root", JSON_REQUIRED, &rn, err) < 0
      || json_get_string (&rn, "path", JSON_REQUIRED, &r->path, err) < 0
      || json_get_bool (&rn, "readonly", JSON_OPTIONAL, &r->readonly, err)
             < 0)
    return -1;
  if (r->path[0] == '\0')
    {
      struct json_node m = json_child (&rn, "path");
      return json_error (&m, err, "must not be empty");
    }
  return 0;
}

static int
parse_mount (const struct json_node *e, void *elem, hull_error_t *err)
{
  struct oci_mount *m = elem;
  struct json_node d;

  if (json_expect_object (e, err) < 0
      || json_get_string (e, "destination", JSON_REQUIRED, &m->destination,
                          err)
             < 0)
    return -1;
  d = json_child (e, "destination");
  if (m->destination[0] == '\0')
    return json_error (&d, err, "must not be empty");
  if (m->destination[0] != '/')
    {
      /* Deprecated but allowed by the spec: relative to "/". */
      char *abs = NULL;
      if (asprintf (&abs, "/%s", m->destination) < 0)
        return hull_error (err, ENOMEM, "allocate destination");
      free (m->destination);
      m->destination = abs;
    }
  if (json_get_string (e, "type", JSON_OPTIONAL, &m->type, err) < 0
      || json_get_string (e, "source", JSON_OPTIONAL, &m->source, err) < 0
      || oci_parse_strv (e, "options", JSON_OPTIONAL, &m->options, err) < 0
      || oci_parse_id_mappings (e, "uidMappings", &m->uid_mappings, err) < 0
      || oci_parse_id_mappings (e, "gidMappings", &m->gid_mappings, err) < 0)
    return -1;
  return 0;
}

static void
free_mount (void *elem)
{
  struct oci_mount *m = elem;

  free (m->destination);
  free (m->type);
  free (m->source);
  oci_strv_free (&m->options);
  free (m->uid_mappings.v);
  free (m->gid_mappings.v);
}

static int
parse_mounts (const struct json_node *root, struct oci_config *c,
              hull_error_t *err)
{
  void *v = NULL;
  size_t n = 0;
  int r;

  r = oci_parse_array (root, "mounts", JSON_OPTIONAL, sizeof (*c->mounts),
                       parse_mount, free_mount, &v, &n, err);
  if (r > 0)
    {
      c->mounts = v;
      c->n_mounts = n;
    }
  return r;
}

static int
parse_sections (const struct json_node *root, struct oci_config *c,
                hull_error_t *err)
{
  struct json_node m;
  int r;

  r = oci_get_object (root, "process", JSON_OPTIONAL, &m, err);
  if (r < 0 || (r > 0 && oci_process_parse_node (&m, &c->process, err) < 0))
    return -1;
  r = oci_get_object (root, "linux", JSON_OPTIONAL, &m, err);
  if (r < 0 || (r > 0 && oci_linux_parse_node (&m, &c->linux_spec, err) < 0))
    return -1;
  return 0;
}

static int
config_fill (const struct json_node *root, struct oci_config *c,
             hull_error_t *err)
{
  if (parse_version (root, c, err) < 0 || parse_root (root, &c->root, err) < 0
      || json_get_string (root, "hostname", JSON_OPTIONAL, &c->hostname, err)
             < 0
      || json_get_string (root, "domainname", JSON_OPTIONAL, &c->domainname,
                          err)
             < 0
      || parse_mounts (root, c, err) < 0
      || oci_hooks_parse (root, c->hooks, err) < 0
      || oci_parse_map (root, "annotations", &c->annotations, err) < 0
      || parse_sections (root, c, err) < 0)
    return -1;
  return 0;
}

static int
config_root (const struct json_node *root, void *out, hull_error_t *err)
{
  struct oci_config *c = calloc (1, sizeof (*c));

  if (c == NULL)
    return hull_error (err, ENOMEM, "allocate config");
  if (config_fill (root, c, err) < 0)
    {
      oci_config_free (c);
      return -1;
    }
  *(struct oci_config **) out = c;
  return 0;
}

int
oci_config_parse_data (const char *data, size_t len, struct oci_config **out,
                       hull_error_t *err)
{
  return oci_parse_document (data, len, config_root, out, err);
}

int
oci_config_parse_file (const char *path, struct oci_config **out,
                       hull_error_t *err)
{
  return oci_parse_document_file (path, config_root, out, err);
}

void
oci_config_free (struct oci_config *c)
{
  if (c == NULL)
    return;
  free (c->oci_version);
  free (c->root.path);
  oci_process_free (c->process);
  free (c->hostname);
  free (c->domainname);
  oci_array_free (c->mounts, c->n_mounts, sizeof (*c->mounts), free_mount);
  oci_hooks_free (c->hooks);
  oci_map_free (&c->annotations);
  oci_linux_free (c->linux_spec);
  free (c);
}
