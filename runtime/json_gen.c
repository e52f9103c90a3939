/* JSON output helpers over yajl_gen; see runtime/json_gen.h. */
#include "runtime/json_gen.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
json_gen_init_opts (struct json_gen *g, bool pretty, hull_error_t *err)
{
  g->status = yajl_gen_status_ok;
  g->depth = 0;
  g->g = yajl_gen_alloc (NULL);
  if (g->g == NULL)
    return hull_error (err, ENOMEM, "JSON generator");
  if (pretty)
    {
      yajl_gen_config (g->g, yajl_gen_beautify, 1);
      yajl_gen_config (g->g, yajl_gen_indent_string, "  ");
    }
  /* Keep '/' as is: paths are the commonest strings hull writes. */
  yajl_gen_config (g->g, yajl_gen_validate_utf8, 1);
  return 0;
}

int
json_gen_init (struct json_gen *g, hull_error_t *err)
{
  return json_gen_init_opts (g, false, err);
}

static void
latch (struct json_gen *g, yajl_gen_status st)
{
  if (g->status == yajl_gen_status_ok && st != yajl_gen_status_ok)
    g->status = (int) st;
}

#define GEN_OK(g) ((g)->g != NULL && (g)->status == yajl_gen_status_ok)

void
json_gen_open_object (struct json_gen *g)
{
  if (GEN_OK (g))
    {
      latch (g, yajl_gen_map_open (g->g));
      g->depth++;
    }
}

void
json_gen_close_object (struct json_gen *g)
{
  if (GEN_OK (g))
    {
      latch (g, yajl_gen_map_close (g->g));
      g->depth--;
    }
}

void
json_gen_open_array (struct json_gen *g)
{
  if (GEN_OK (g))
    {
      latch (g, yajl_gen_array_open (g->g));
      g->depth++;
    }
}

void
json_gen_close_array (struct json_gen *g)
{
  if (GEN_OK (g))
    {
      latch (g, yajl_gen_array_close (g->g));
      g->depth--;
    }
}

void
json_gen_string (struct json_gen *g, const char *s)
{
  if (!GEN_OK (g))
    return;
  if (s == NULL)
    latch (g, yajl_gen_null (g->g));
  else
    latch (g, yajl_gen_string (g->g, (const unsigned char *) s, strlen (s)));
}

void
json_gen_int (struct json_gen *g, int64_t v)
{
  if (GEN_OK (g))
    latch (g, yajl_gen_integer (g->g, (long long) v));
}

void
json_gen_uint (struct json_gen *g, uint64_t v)
{
  char buf[24];
  int n;

  if (!GEN_OK (g))
    return;
  /* yajl_gen_integer takes long long; values above INT64_MAX (e.g. an
   * unlimited rlimit) go out as a number literal. */
  n = snprintf (buf, sizeof (buf), "%" PRIu64, v);
  latch (g, yajl_gen_number (g->g, buf, (size_t) n));
}

void
json_gen_bool (struct json_gen *g, bool v)
{
  if (GEN_OK (g))
    latch (g, yajl_gen_bool (g->g, v));
}

void
json_gen_null (struct json_gen *g)
{
  if (GEN_OK (g))
    latch (g, yajl_gen_null (g->g));
}

void
json_gen_strv (struct json_gen *g, char *const *v)
{
  json_gen_open_array (g);
  for (; v != NULL && *v != NULL; v++)
    json_gen_string (g, *v);
  json_gen_close_array (g);
}

void
json_gen_key (struct json_gen *g, const char *key)
{
  json_gen_string (g, key);
}

void
json_gen_kv_string (struct json_gen *g, const char *key, const char *s)
{
  json_gen_key (g, key);
  json_gen_string (g, s);
}

void
json_gen_kv_int (struct json_gen *g, const char *key, int64_t v)
{
  json_gen_key (g, key);
  json_gen_int (g, v);
}

void
json_gen_kv_uint (struct json_gen *g, const char *key, uint64_t v)
{
  json_gen_key (g, key);
  json_gen_uint (g, v);
}

void
json_gen_kv_bool (struct json_gen *g, const char *key, bool v)
{
  json_gen_key (g, key);
  json_gen_bool (g, v);
}

void
json_gen_kv_strv (struct json_gen *g, const char *key, char *const *v)
{
  json_gen_key (g, key);
  json_gen_strv (g, v);
}

void
json_gen_discard (struct json_gen *g)
{
  if (g->g != NULL)
    yajl_gen_free (g->g);
  g->g = NULL;
}

static const char *
status_text (int st)
{
  switch (st)
    {
    case yajl_gen_keys_must_be_strings:
      return "object key is not a string";
    case yajl_max_depth_exceeded:
      return "nesting too deep";
    case yajl_gen_in_error_state:
      return "generator in error state";
    case yajl_gen_generation_complete:
      return "value after the end of the document";
    case yajl_gen_invalid_string:
      return "string is not valid UTF-8";
    default:
      return "generator error";
    }
}

int
json_gen_finish (struct json_gen *g, char **out, size_t *len,
                 hull_error_t *err)
{
  const unsigned char *buf;
  size_t n;
  char *copy;

  if (g->g == NULL)
    return hull_error (err, EINVAL, "JSON generator not initialised");
  if (g->status != yajl_gen_status_ok)
    {
      int st = g->status;
      json_gen_discard (g);
      return hull_error (err, EINVAL, "generate JSON: %s", status_text (st));
    }
  if (g->depth != 0 || yajl_gen_get_buf (g->g, &buf, &n) != yajl_gen_status_ok
      || n == 0)
    {
      json_gen_discard (g);
      return hull_error (err, EINVAL, "generate JSON: empty or unclosed document");
    }
  copy = malloc (n + 1);
  if (copy == NULL)
    {
      json_gen_discard (g);
      return hull_error (err, ENOMEM, "generate JSON");
    }
  memcpy (copy, buf, n);
  copy[n] = '\0';
  json_gen_discard (g);
  *out = copy;
  if (len != NULL)
    *len = n;
  return 0;
}
