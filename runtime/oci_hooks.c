/* config.hooks: the six lifecycle hook lists. */
#include "runtime/oci_internal.h"

#include <stdlib.h>

static int
parse_hook (const struct json_node *e, void *elem, hull_error_t *err)
{
  struct oci_hook *h = elem;
  int64_t timeout;
  struct json_node m;
  int r;

  if (json_expect_object (e, err) < 0
      || oci_get_abs_path (e, "path", JSON_REQUIRED, &h->path, err) < 0
      || oci_parse_strv (e, "args", JSON_OPTIONAL, &h->args, err) < 0
      || oci_parse_strv (e, "env", JSON_OPTIONAL, &h->env, err) < 0)
    return -1;
  r = json_member (e, "timeout", JSON_OPTIONAL, &m, err);
  if (r <= 0)
    return r;
  /* The spec: if set, timeout MUST be greater than zero. */
  if (json_as_int (&m, 1, INT32_MAX, &timeout, err) < 0)
    return -1;
  h->has_timeout = true;
  h->timeout = (int) timeout;
  return 0;
}

static void
free_hook (void *elem)
{
  struct oci_hook *h = elem;

  free (h->path);
  oci_strv_free (&h->args);
  oci_strv_free (&h->env);
}

int
oci_hooks_parse (const struct json_node *config,
                 struct oci_hook_list hooks[OCI_HOOK__COUNT],
                 hull_error_t *err)
{
  struct json_node hn;
  int k, r;

  r = oci_get_object (config, "hooks", JSON_OPTIONAL, &hn, err);
  if (r <= 0)
    return r;
  for (k = 0; k < OCI_HOOK__COUNT; k++)
    {
      void *v = NULL;
      size_t n = 0;

      r = oci_parse_array (&hn, oci_hook_kind_name (k), JSON_OPTIONAL,
                           sizeof (struct oci_hook), parse_hook, free_hook,
                           &v, &n, err);
      if (r < 0)
        return -1;
      hooks[k].v = v;
      hooks[k].n = n;
    }
  return 0;
}

void
oci_hooks_free (struct oci_hook_list hooks[OCI_HOOK__COUNT])
{
  int k;

  for (k = 0; k < OCI_HOOK__COUNT; k++)
    {
      oci_array_free (hooks[k].v, hooks[k].n, sizeof (struct oci_hook),
                      free_hook);
      hooks[k].v = NULL;
      hooks[k].n = 0;
    }
}
