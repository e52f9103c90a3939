/* Path-tracking typed accessors over a yajl tree (see runtime/json.h). */
#include "runtime/json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cleanup.h"

struct json_node
json_root (yajl_val v)
{
  struct json_node n = { .v = v };
  return n;
}

/* Keys made of these characters print as `.key`; anything else (dots in
 * annotation names, spaces) prints as `["key"]` so the path stays
 * unambiguous. */
static bool
key_is_plain (const char *k)
{
  if (*k == '\0')
    return false;
  for (; *k; k++)
    if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z')
          || (*k >= '0' && *k <= '9') || *k == '_' || *k == '-'))
      return false;
  return true;
}

#define JSON_KEY_MAX 64

static void
path_write (const struct json_node *n, FILE *f)
{
  if (n == NULL || n->parent == NULL)
    return; /* the root contributes nothing */
  path_write (n->parent, f);
  if (n->key == NULL)
    fprintf (f, "[%zu]", n->index);
  else if (strlen (n->key) > JSON_KEY_MAX) /* hostile key: show a prefix */
    fprintf (f, "[\"%.*s...\"]", JSON_KEY_MAX, n->key);
  else if (!key_is_plain (n->key))
    fprintf (f, "[\"%s\"]", n->key);
  else if (n->parent->parent == NULL)
    fputs (n->key, f);
  else
    fprintf (f, ".%s", n->key);
}

char *
json_path (const struct json_node *n)
{
  char *buf = NULL;
  size_t size = 0;
  FILE *f;

  if (n == NULL || n->parent == NULL)
    return strdup ("(top level)");
  f = open_memstream (&buf, &size);
  if (f == NULL)
    return NULL;
  path_write (n, f);
  if (fclose (f) != 0)
    {
      free (buf);
      return NULL;
    }
  return buf;
}

#define JSON_ERROR_MAX 512

int
json_error (const struct json_node *n, hull_error_t *err, const char *fmt,
            ...)
{
  cleanup_free char *path = json_path (n);
  cleanup_free char *msg = NULL;
  va_list ap;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) < 0)
    msg = NULL;
  va_end (ap);
  /* Messages quote input values, which can be megabytes long; a log line
   * only needs enough to recognise them. */
  if (msg != NULL && strlen (msg) > JSON_ERROR_MAX)
    strcpy (msg + JSON_ERROR_MAX - 3, "...");
  return hull_error (err, 0, "%s: %s", path ? path : "?",
                     msg ? msg : "invalid value");
}

const char *
json_type_name (yajl_val v)
{
  if (v == NULL)
    return "nothing";
  switch (v->type)
    {
    case yajl_t_string:
      return "string";
    case yajl_t_number:
      return "number";
    case yajl_t_object:
      return "object";
    case yajl_t_array:
      return "array";
    case yajl_t_true:
    case yajl_t_false:
      return "boolean";
    case yajl_t_null:
      return "null";
    default:
      return "unknown";
    }
}

int
json_expect_object (const struct json_node *n, hull_error_t *err)
{
  if (!YAJL_IS_OBJECT (n->v))
    return json_error (n, err, "expected object, got %s",
                       json_type_name (n->v));
  return 0;
}

int
json_expect_array (const struct json_node *n, size_t *len,
                   hull_error_t *err)
{
  if (!YAJL_IS_ARRAY (n->v))
    return json_error (n, err, "expected array, got %s",
                       json_type_name (n->v));
  if (n->v->u.array.len > HULL_JSON_MAX_ENTRIES)
    return json_error (n, err, "more than %d entries",
                       HULL_JSON_MAX_ENTRIES);
  *len = n->v->u.array.len;
  return 0;
}

int
json_member (const struct json_node *obj, const char *key,
             enum json_presence req, struct json_node *out,
             hull_error_t *err)
{
  size_t i;
  yajl_val found = NULL;

  if (json_expect_object (obj, err) < 0)
    return -1;
  out->v = NULL;
  out->parent = obj;
  out->key = key;
  out->index = 0;
  for (i = 0; i < obj->v->u.object.len; i++)
    {
      if (strcmp (obj->v->u.object.keys[i], key) != 0)
        continue;
      /* yajl keeps both copies of a repeated key; which one wins would be
       * a guess, and host and guest must never disagree. */
      if (found != NULL)
        return json_error (out, err, "duplicate key");
      found = obj->v->u.object.values[i];
    }
  out->v = found;
  if (found == NULL && req == JSON_REQUIRED)
    return json_error (out, err, "required field missing");
  return found != NULL ? 1 : 0;
}

struct json_node
json_child (const struct json_node *obj, const char *key)
{
  struct json_node n = { .v = NULL, .parent = obj, .key = key };
  size_t i;

  if (YAJL_IS_OBJECT (obj->v))
    for (i = 0; i < obj->v->u.object.len; i++)
      if (strcmp (obj->v->u.object.keys[i], key) == 0)
        {
          n.v = obj->v->u.object.values[i];
          break;
        }
  return n;
}

struct json_node
json_element (const struct json_node *arr, size_t i)
{
  struct json_node n = { .v = arr->v->u.array.values[i], .parent = arr,
                         .key = NULL, .index = i };
  return n;
}

size_t
json_object_len (const struct json_node *obj)
{
  return YAJL_IS_OBJECT (obj->v) ? obj->v->u.object.len : 0;
}

struct json_node
json_object_entry (const struct json_node *obj, size_t i)
{
  struct json_node n = { .v = obj->v->u.object.values[i], .parent = obj,
                         .key = obj->v->u.object.keys[i] };
  return n;
}

static int
cmp_str_ptr (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

int
json_object_unique (const struct json_node *obj, hull_error_t *err)
{
  size_t n, i;
  cleanup_free const char **keys = NULL;

  if (json_expect_object (obj, err) < 0)
    return -1;
  n = obj->v->u.object.len;
  if (n > HULL_JSON_MAX_ENTRIES)
    return json_error (obj, err, "more than %d entries",
                       HULL_JSON_MAX_ENTRIES);
  if (n < 2)
    return 0;
  /* Sorting keeps this O(n log n) for maps with many keys. */
  keys = malloc (n * sizeof (*keys));
  if (keys == NULL)
    return hull_error (err, ENOMEM, "checking keys");
  for (i = 0; i < n; i++)
    keys[i] = obj->v->u.object.keys[i];
  qsort (keys, n, sizeof (*keys), cmp_str_ptr);
  for (i = 1; i < n; i++)
    if (strcmp (keys[i - 1], keys[i]) == 0)
      {
        struct json_node dup = { .v = NULL, .parent = obj, .key = keys[i] };
        return json_error (&dup, err, "duplicate key");
      }
  return 0;
}

/* ---- scalars ------------------------------------------------------------ */

int
json_as_string (const struct json_node *n, char **out, hull_error_t *err)
{
  char *s;

  if (!YAJL_IS_STRING (n->v))
    return json_error (n, err, "expected string, got %s",
                       json_type_name (n->v));
  s = strdup (n->v->u.string);
  if (s == NULL)
    return hull_error (err, ENOMEM, "copy string");
  *out = s;
  return 0;
}

int
json_as_bool (const struct json_node *n, bool *out, hull_error_t *err)
{
  if (YAJL_IS_TRUE (n->v))
    *out = true;
  else if (YAJL_IS_FALSE (n->v))
    *out = false;
  else
    return json_error (n, err, "expected boolean, got %s",
                       json_type_name (n->v));
  return 0;
}

/* The literal is an integer: optional '-', digits, nothing else.  The raw
 * text is used (not yajl's long long) so uint64 values above INT64_MAX
 * work and 1.0 / 1e3 are not silently truncated. */
static bool
literal_is_integer (const char *r)
{
  if (*r == '-')
    r++;
  if (*r == '\0')
    return false;
  for (; *r; r++)
    if (*r < '0' || *r > '9')
      return false;
  return true;
}

int
json_as_int (const struct json_node *n, int64_t min, int64_t max,
             int64_t *out, hull_error_t *err)
{
  long long v;
  char *end;

  if (!YAJL_IS_NUMBER (n->v) || !literal_is_integer (n->v->u.number.r))
    return json_error (n, err, "expected integer, got %s",
                       YAJL_IS_NUMBER (n->v) ? "a non-integer number"
                                             : json_type_name (n->v));
  errno = 0;
  v = strtoll (n->v->u.number.r, &end, 10);
  if (errno == ERANGE || v < min || v > max)
    return json_error (n, err, "%s out of range %" PRId64 "..%" PRId64,
                       n->v->u.number.r, min, max);
  *out = v;
  return 0;
}

int
json_as_uint (const struct json_node *n, uint64_t max, uint64_t *out,
              hull_error_t *err)
{
  unsigned long long v;
  char *end;

  if (!YAJL_IS_NUMBER (n->v) || !literal_is_integer (n->v->u.number.r))
    return json_error (n, err, "expected unsigned integer, got %s",
                       YAJL_IS_NUMBER (n->v) ? "a non-integer number"
                                             : json_type_name (n->v));
  if (n->v->u.number.r[0] == '-')
    return json_error (n, err, "expected unsigned integer, got %s",
                       n->v->u.number.r);
  errno = 0;
  v = strtoull (n->v->u.number.r, &end, 10);
  if (errno == ERANGE || v > max)
    return json_error (n, err, "%s out of range 0..%" PRIu64,
                       n->v->u.number.r, max);
  *out = v;
  return 0;
}

void
json_strv_free (char **v)
{
  char **p;

  if (v == NULL)
    return;
  for (p = v; *p; p++)
    free (*p);
  free (v);
}

int
json_as_strv (const struct json_node *n, char ***out, size_t *n_out,
              hull_error_t *err)
{
  size_t len, i;
  char **v;

  if (json_expect_array (n, &len, err) < 0)
    return -1;
  if (len == 0)
    {
      *out = NULL;
      *n_out = 0;
      return 0;
    }
  v = calloc (len + 1, sizeof (*v));
  if (v == NULL)
    return hull_error (err, ENOMEM, "copy strings");
  for (i = 0; i < len; i++)
    {
      struct json_node e = json_element (n, i);
      if (json_as_string (&e, &v[i], err) < 0)
        {
          json_strv_free (v);
          return -1;
        }
    }
  *out = v;
  *n_out = len;
  return 0;
}

/* ---- member getters ----------------------------------------------------- */

#define MEMBER_OR_RETURN(obj, key, req, m, err)                              \
  do                                                                         \
    {                                                                        \
      int r_ = json_member ((obj), (key), (req), &(m), (err));               \
      if (r_ <= 0)                                                           \
        return r_;                                                           \
    }                                                                        \
  while (0)

int
json_get_string (const struct json_node *obj, const char *key,
                 enum json_presence req, char **out, hull_error_t *err)
{
  struct json_node m;
  char *s = NULL;

  MEMBER_OR_RETURN (obj, key, req, m, err);
  if (json_as_string (&m, &s, err) < 0)
    return -1;
  free (*out); /* callers start from NULL; this only guards re-reads */
  *out = s;
  return 1;
}

int
json_get_bool (const struct json_node *obj, const char *key,
               enum json_presence req, bool *out, hull_error_t *err)
{
  struct json_node m;

  MEMBER_OR_RETURN (obj, key, req, m, err);
  return json_as_bool (&m, out, err) < 0 ? -1 : 1;
}

int
json_get_int64 (const struct json_node *obj, const char *key,
                enum json_presence req, int64_t *out, hull_error_t *err)
{
  struct json_node m;

  MEMBER_OR_RETURN (obj, key, req, m, err);
  return json_as_int (&m, INT64_MIN, INT64_MAX, out, err) < 0 ? -1 : 1;
}

int
json_get_int32 (const struct json_node *obj, const char *key,
                enum json_presence req, int32_t *out, hull_error_t *err)
{
  struct json_node m;
  int64_t v;

  MEMBER_OR_RETURN (obj, key, req, m, err);
  if (json_as_int (&m, INT32_MIN, INT32_MAX, &v, err) < 0)
    return -1;
  *out = (int32_t) v;
  return 1;
}

int
json_get_uint64 (const struct json_node *obj, const char *key,
                 enum json_presence req, uint64_t *out, hull_error_t *err)
{
  struct json_node m;

  MEMBER_OR_RETURN (obj, key, req, m, err);
  return json_as_uint (&m, UINT64_MAX, out, err) < 0 ? -1 : 1;
}

int
json_get_uint32 (const struct json_node *obj, const char *key,
                 enum json_presence req, uint32_t *out, hull_error_t *err)
{
  struct json_node m;
  uint64_t v;

  MEMBER_OR_RETURN (obj, key, req, m, err);
  if (json_as_uint (&m, UINT32_MAX, &v, err) < 0)
    return -1;
  *out = (uint32_t) v;
  return 1;
}

int
json_get_uint16 (const struct json_node *obj, const char *key,
                 enum json_presence req, uint16_t *out, hull_error_t *err)
{
  struct json_node m;
  uint64_t v;

  MEMBER_OR_RETURN (obj, key, req, m, err);
  if (json_as_uint (&m, UINT16_MAX, &v, err) < 0)
    return -1;
  *out = (uint16_t) v;
  return 1;
}

int
json_get_strv (const struct json_node *obj, const char *key,
               enum json_presence req, char ***out, size_t *n_out,
               hull_error_t *err)
{
  struct json_node m;
  char **v = NULL;
  size_t n = 0;

  MEMBER_OR_RETURN (obj, key, req, m, err);
  if (json_as_strv (&m, &v, &n, err) < 0)
    return -1;
  json_strv_free (*out);
  *out = v;
  *n_out = n;
  return 1;
}
