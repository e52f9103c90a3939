/* Pods: the pure part (annotations, the layout JSON, paths); see pod.h. */
#include "runtime/pod.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cleanup.h"
#include "runtime/container_id.h"
#include "runtime/json.h"
#include "runtime/json_gen.h"

static int
role_from (const char *type, const char *sid, const char *id, enum pod_role *role,
           const char **sandbox_id, hull_error_t *err)
{
  cleanup_error hull_error_t e2 = NULL;

  *role = POD_NONE;
  *sandbox_id = NULL;
  if (type == NULL)
    return 0;
  if (strcmp (type, POD_TYPE_SANDBOX) == 0)
    {
      if (sid != NULL && strcmp (sid, id) != 0)
        return hull_error (err, EINVAL,
                           "annotation %s `%s`: a sandbox container's sandbox id must be its "
                           "own (`%s`)",
                           POD_ANN_SANDBOX_ID, sid, id);
      *role = POD_SANDBOX;
      *sandbox_id = id;
      return 0;
    }
  if (strcmp (type, POD_TYPE_CONTAINER) != 0)
    return hull_error (err, EINVAL, "annotation %s `%s`: expected `%s` or `%s`",
                       POD_ANN_CONTAINER_TYPE, type, POD_TYPE_SANDBOX, POD_TYPE_CONTAINER);
  if (sid == NULL)
    return hull_error (err, EINVAL, "annotation %s: required with %s `%s` (the pod's sandbox)",
                       POD_ANN_SANDBOX_ID, POD_ANN_CONTAINER_TYPE, type);
  if (container_id_validate (sid, &e2) < 0)
    return hull_error (err, EINVAL, "annotation %s: %s", POD_ANN_SANDBOX_ID,
                       hull_error_msg (&e2));
  if (strcmp (sid, id) == 0)
    return hull_error (err, EINVAL,
                       "annotation %s `%s`: an app container cannot be its own sandbox",
                       POD_ANN_SANDBOX_ID, sid);
  *role = POD_MEMBER;
  *sandbox_id = sid;
  return 0;
}

int
pod_role_of (const struct oci_config *c, const char *id, enum pod_role *role,
             const char **sandbox_id, hull_error_t *err)
{
  return role_from (oci_map_get (&c->annotations, POD_ANN_CONTAINER_TYPE),
                    oci_map_get (&c->annotations, POD_ANN_SANDBOX_ID), id, role, sandbox_id,
                    err);
}

enum pod_role
pod_role_of_annotations (char *const *kv, const char *id, const char **sandbox_id)
{
  cleanup_error hull_error_t err = NULL;
  const char *type = NULL, *sid = NULL;
  enum pod_role role = POD_NONE;

  for (size_t i = 0; kv != NULL && kv[i] != NULL && kv[i + 1] != NULL; i += 2)
    {
      if (strcmp (kv[i], POD_ANN_CONTAINER_TYPE) == 0)
        type = kv[i + 1];
      else if (strcmp (kv[i], POD_ANN_SANDBOX_ID) == 0)
        sid = kv[i + 1];
    }
  if (role_from (type, sid, id, &role, sandbox_id, &err) < 0)
    {
      *sandbox_id = NULL;
      return POD_NONE;
    }
  return role;
}

/* ---- the layout ---- */

void
pod_layout_free (struct pod_layout *l)
{
  free (l->bind_dir);
  free (l->binds);
  free (l->skips);
  free (l->share_with);
  memset (l, 0, sizeof (*l));
}

int
pod_layout_add (size_t **v, size_t *n, size_t idx, hull_error_t *err)
{
  size_t *nv = realloc (*v, (*n + 1) * sizeof (size_t));

  if (nv == NULL)
    return hull_error (err, ENOMEM, "pod layout");
  nv[(*n)++] = idx;
  *v = nv;
  return 0;
}

static void
gen_indexes (struct json_gen *g, const char *key, const size_t *v, size_t n)
{
  json_gen_key (g, key);
  json_gen_open_array (g);
  for (size_t i = 0; i < n; i++)
    json_gen_uint (g, v[i]);
  json_gen_close_array (g);
}

int
pod_layout_to_json (const struct pod_layout *l, char **out, hull_error_t *err)
{
  struct json_gen g;

  if (json_gen_init (&g, err) < 0)
    return -1;
  json_gen_open_object (&g);
  json_gen_kv_string (&g, "bindDir", l->bind_dir);
  gen_indexes (&g, "binds", l->binds, l->n_binds);
  gen_indexes (&g, "skip", l->skips, l->n_skips);
  if (l->share_with != NULL)
    json_gen_kv_string (&g, "shareWith", l->share_with);
  json_gen_close_object (&g);
  return json_gen_finish (&g, out, NULL, err);
}

static int
parse_indexes (const struct json_node *root, const char *key, size_t n_mounts, bool *seen,
               size_t **v, size_t *n, hull_error_t *err)
{
  struct json_node arr;
  size_t len;
  int r = json_member (root, key, JSON_OPTIONAL, &arr, err);

  if (r <= 0)
    return r;
  if (json_expect_array (&arr, &len, err) < 0)
    return -1;
  for (size_t i = 0; i < len; i++)
    {
      struct json_node e = json_element (&arr, i);
      uint64_t idx;

      if (json_as_uint (&e, n_mounts > 0 ? n_mounts - 1 : 0, &idx, err) < 0)
        return -1;
      if (n_mounts == 0)
        return json_error (&e, err, "no mounts[%llu] in the config", (unsigned long long) idx);
      if (seen[idx])
        return json_error (&e, err, "mounts[%llu] listed twice", (unsigned long long) idx);
      seen[idx] = true;
      if (pod_layout_add (v, n, (size_t) idx, err) < 0)
        return -1;
    }
  return 0;
}

int
pod_layout_parse (const char *json, size_t n_mounts, struct pod_layout *out, hull_error_t *err)
{
  cleanup_free bool *seen = calloc (n_mounts + 1, sizeof (bool));
  struct json_node root;
  yajl_val tree = NULL;
  int r = -1;

  memset (out, 0, sizeof (*out));
  if (seen == NULL)
    return hull_error (err, ENOMEM, "pod layout");
  if (json_parse (json, strlen (json), &tree, err) < 0)
    return hull_error_prefix (err, "pod layout");
  root = json_root (tree);
  if (json_expect_object (&root, err) < 0
      || json_get_string (&root, "bindDir", JSON_REQUIRED, &out->bind_dir, err) < 0
      || parse_indexes (&root, "binds", n_mounts, seen, &out->binds, &out->n_binds, err) < 0
      || parse_indexes (&root, "skip", n_mounts, seen, &out->skips, &out->n_skips, err) < 0
      || json_get_string (&root, "shareWith", JSON_OPTIONAL, &out->share_with, err) < 0)
    goto out;
  if (out->bind_dir[0] != '/')
    {
      hull_error (err, EINVAL, "bindDir `%s`: not an absolute path", out->bind_dir);
      goto out;
    }
  r = 0;
out:
  json_free (tree);
  if (r < 0)
    {
      pod_layout_free (out);
      return hull_error_prefix (err, "pod layout");
    }
  return 0;
}

char *
pod_guest_dir (const char *id)
{
  char *p = NULL;
  return asprintf (&p, "%s/%s", POD_GUEST_ROOT, id) < 0 ? NULL : p;
}

char *
pod_host_dir (const char *share, const char *id)
{
  char *p = NULL;
  return asprintf (&p, "%s/%s", share, id) < 0 ? NULL : p;
}
