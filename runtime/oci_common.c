/* Helpers shared by the OCI section parsers: arrays of objects, string
 * arrays and maps, ID mappings, absolute paths, document entry points. */
#include "runtime/oci_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cleanup.h"

void
oci_array_free (void *v, size_t n, size_t elem_size,
                oci_elem_free_fn free_elem)
{
  size_t i;

  if (v == NULL)
    return;
  if (free_elem != NULL)
    for (i = 0; i < n; i++)
      free_elem ((char *) v + i * elem_size);
  free (v);
}

int
oci_parse_array (const struct json_node *obj, const char *key,
                 enum json_presence req, size_t elem_size,
                 oci_elem_parse_fn parse, oci_elem_free_fn free_elem,
                 void **out, size_t *n_out, hull_error_t *err)
{
  struct json_node m;
  size_t len, i;
  char *v;
  int r;

  r = json_member (obj, key, req, &m, err);
  if (r <= 0)
    return r;
  if (json_expect_array (&m, &len, err) < 0)
    return -1;
  if (len == 0)
    {
      *out = NULL;
      *n_out = 0;
      return 1;
    }
  v = calloc (len, elem_size);
  if (v == NULL)
    return hull_error (err, ENOMEM, "allocate %s", key);
  for (i = 0; i < len; i++)
    {
      struct json_node e = json_element (&m, i);
      if (parse (&e, v + i * elem_size, err) < 0)
        {
          oci_array_free (v, i + 1, elem_size, free_elem);
          return -1;
        }
    }
  *out = v;
  *n_out = len;
  return 1;
}

int
oci_parse_strv (const struct json_node *obj, const char *key,
                enum json_presence req, struct oci_strv *out,
                hull_error_t *err)
{
  return json_get_strv (obj, key, req, &out->v, &out->n, err);
}

void
oci_strv_free (struct oci_strv *s)
{
  json_strv_free (s->v);
  s->v = NULL;
  s->n = 0;
}

void
oci_map_free (struct oci_map *m)
{
  size_t i;

  for (i = 0; i < m->n; i++)
    {
      free (m->v[i].key);
      free (m->v[i].value);
    }
  free (m->v);
  m->v = NULL;
  m->n = 0;
}

int
oci_parse_map (const struct json_node *obj, const char *key,
               struct oci_map *out, hull_error_t *err)
{
  struct json_node m;
  size_t len, i;
  int r;

  r = json_member (obj, key, JSON_OPTIONAL, &m, err);
  if (r <= 0)
    return r;
  if (json_object_unique (&m, err) < 0)
    return -1;
  len = json_object_len (&m);
  if (len == 0)
    return 1;
  out->v = calloc (len, sizeof (*out->v));
  if (out->v == NULL)
    return hull_error (err, ENOMEM, "allocate %s", key);
  for (i = 0; i < len; i++)
    {
      struct json_node e = json_object_entry (&m, i);

      out->n = i + 1; /* so oci_map_free releases this entry on failure */
      if (e.key[0] == '\0')
        {
          oci_map_free (out);
          return json_error (&m, err, "keys must not be empty");
        }
      out->v[i].key = strdup (e.key);
      if (out->v[i].key == NULL)
        {
          oci_map_free (out);
          return hull_error (err, ENOMEM, "allocate %s", key);
        }
      if (json_as_string (&e, &out->v[i].value, err) < 0)
        {
          oci_map_free (out);
          return -1;
        }
    }
  return 1;
}

const char *
oci_map_get (const struct oci_map *m, const char *key)
{
  size_t i;

  for (i = 0; i < m->n; i++)
    if (strcmp (m->v[i].key, key) == 0)
      return m->v[i].value;
  return NULL;
}

static int
parse_id_mapping (const struct json_node *e, void *elem, hull_error_t *err)
{
  struct oci_id_mapping *idm = elem;

  if (json_expect_object (e, err) < 0
      || json_get_uint32 (e, "containerID", JSON_REQUIRED, &idm->container_id,
                          err) < 0
      || json_get_uint32 (e, "hostID", JSON_REQUIRED, &idm->host_id, err) < 0
      || json_get_uint32 (e, "size", JSON_REQUIRED, &idm->size, err) < 0)
    return -1;
  if (idm->size == 0)
    {
      struct json_node s = json_child (e, "size");
      return json_error (&s, err, "must be greater than 0");
    }
  return 0;
}

int
oci_parse_id_mappings (const struct json_node *obj, const char *key,
                       struct oci_id_mappings *out, hull_error_t *err)
{
  void *v = NULL;
  size_t n = 0;
  int r;

  r = oci_parse_array (obj, key, JSON_OPTIONAL, sizeof (*out->v),
                       parse_id_mapping, NULL, &v, &n, err);
  if (r > 0)
    {
      out->v = v;
      out->n = n;
    }
  return r;
}

int
oci_get_abs_path (const struct json_node *obj, const char *key,
                  enum json_presence req, char **out, hull_error_t *err)
{
  int r = json_get_string (obj, key, req, out, err);

  if (r > 0 && (*out)[0] != '/')
    {
      struct json_node m = json_child (obj, key);
      return json_error (&m, err, "must be an absolute path, got \"%s\"",
                         *out);
    }
  return r;
}

int
oci_check_abs_strv (const struct json_node *obj, const char *key,
                    const struct oci_strv *s, hull_error_t *err)
{
  struct json_node m, e;
  size_t i;

  for (i = 0; i < s->n; i++)
    if (s->v[i][0] != '/')
      {
        m = json_child (obj, key);
        e = json_element (&m, i);
        return json_error (&e, err, "must be an absolute path, got \"%s\"",
                           s->v[i]);
      }
  return 0;
}

int
oci_get_object (const struct json_node *obj, const char *key,
                enum json_presence req, struct json_node *out,
                hull_error_t *err)
{
  int r = json_member (obj, key, req, out, err);

  if (r > 0 && json_expect_object (out, err) < 0)
    return -1;
  return r;
}

int
oci_name_index (const char *const *table, const char *s)
{
  int i;

  for (i = 0; table[i] != NULL; i++)
    if (strcmp (table[i], s) == 0)
      return i;
  return -1;
}

int
oci_parse_document (const char *data, size_t len, oci_root_fn fn, void *out,
                    hull_error_t *err)
{
  yajl_val tree = NULL;
  struct json_node root;
  int r;

  if (json_parse (data, len, &tree, err) < 0)
    return -1;
  root = json_root (tree);
  r = json_expect_object (&root, err);
  if (r == 0)
    r = fn (&root, out, err);
  json_free (tree);
  return r;
}

int
oci_parse_document_file (const char *path, oci_root_fn fn, void *out,
                         hull_error_t *err)
{
  cleanup_free char *data = NULL;
  size_t len = 0;

  if (json_read_file (path, &data, &len, err) < 0)
    return -1;
  if (oci_parse_document (data, len, fn, out, err) < 0)
    return hull_error_prefix (err, "%s", path);
  return 0;
}

bool
oci_strv_has (const struct oci_strv *s, const char *word)
{
  for (size_t i = 0; i < s->n; i++)
    if (strcmp (s->v[i], word) == 0)
      return true;
  return false;
}

bool
oci_mount_is_bind (const struct oci_mount *m)
{
  return (m->type != NULL && strcmp (m->type, "bind") == 0) || oci_strv_has (&m->options, "bind")
         || oci_strv_has (&m->options, "rbind");
}
