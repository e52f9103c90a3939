/* Small helpers for writing JSON with yajl_gen (state, features, events).
 * Calls latch the first failure, so a whole document can be emitted
 * without checking every call; json_gen_finish reports it.  Only yajl and
 * libc: usable in the static guest agent too.
 *
 *   struct json_gen g;
 *   if (json_gen_init (&g, err) < 0) return -1;
 *   json_gen_open_object (&g);
 *   json_gen_kv_string (&g, "ociVersion", "1.2.0");
 *   json_gen_kv_int (&g, "pid", pid);
 *   json_gen_close_object (&g);
 *   return json_gen_finish (&g, &text, &len, err);   // frees g either way */
#ifndef HULL_JSON_GEN_H
#define HULL_JSON_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>

#include "runtime/error.h"

struct json_gen
{
  yajl_gen g;
  int status; /* first yajl_gen_status other than ok */
  int depth;  /* open objects/arrays, so finish can refuse a torso */
};

/* pretty: indent with two spaces (for files people read). */
int json_gen_init_opts (struct json_gen *g, bool pretty, hull_error_t *err);
int json_gen_init (struct json_gen *g, hull_error_t *err);

void json_gen_open_object (struct json_gen *g);
void json_gen_close_object (struct json_gen *g);
void json_gen_open_array (struct json_gen *g);
void json_gen_close_array (struct json_gen *g);

void json_gen_string (struct json_gen *g, const char *s); /* NULL -> null */
void json_gen_int (struct json_gen *g, int64_t v);
void json_gen_uint (struct json_gen *g, uint64_t v); /* full uint64 range */
void json_gen_bool (struct json_gen *g, bool v);
void json_gen_null (struct json_gen *g);
void json_gen_strv (struct json_gen *g, char *const *v); /* NULL-terminated */

/* "key": value pairs inside an object. */
void json_gen_key (struct json_gen *g, const char *key);
void json_gen_kv_string (struct json_gen *g, const char *key, const char *s);
void json_gen_kv_int (struct json_gen *g, const char *key, int64_t v);
void json_gen_kv_uint (struct json_gen *g, const char *key, uint64_t v);
void json_gen_kv_bool (struct json_gen *g, const char *key, bool v);
void json_gen_kv_strv (struct json_gen *g, const char *key, char *const *v);

/* Hands out the document (NUL-terminated, *len without the NUL) and frees
 * the generator; on failure nothing is handed out.  len may be NULL. */
int json_gen_finish (struct json_gen *g, char **out, size_t *len,
                     hull_error_t *err);
/* Frees the generator without producing output (error paths). */
void json_gen_discard (struct json_gen *g);

#endif
