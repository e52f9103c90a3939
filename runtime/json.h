/* A small path-tracking JSON reader on top of yajl_tree.
 *
 * Every value is reached through a `struct json_node` that remembers how it
 * was reached (parent + member name or array index), so any error can name
 * the exact place: "process.rlimits[2].hard: expected unsigned integer".
 * Nodes live on the caller's stack and are cheap; they never own memory.
 *
 * Input is checked before yajl sees it (size, nesting depth, entries per
 * container, total values, NUL bytes, comments), because yajl_tree builds
 * the whole tree and frees it recursively: hostile input must be refused
 * before it can exhaust memory or stack.  yajl itself checks the syntax and
 * that strings are valid UTF-8.  Only yajl and libc are used, so this links
 * into the static guest agent too. */
#ifndef HULL_JSON_H
#define HULL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "runtime/error.h"

#define HULL_JSON_MAX_INPUT (16u << 20) /* bytes in a document */
#define HULL_JSON_MAX_DEPTH 64          /* nested arrays/objects */
#define HULL_JSON_MAX_ENTRIES 65536     /* members of one array/object */
#define HULL_JSON_MAX_VALUES (1u << 20) /* values in a document */

/* Parse a complete document.  data need not be NUL-terminated.  On success
 * *out is the tree (free with json_free). */
int json_parse (const char *data, size_t len, yajl_val *out,
                hull_error_t *err);
void json_free (yajl_val v);

/* Read a whole file of at most HULL_JSON_MAX_INPUT bytes (regular file,
 * pipe or FIFO; "-" is standard input).  *data is NUL-terminated; errors
 * name the path.  So every *_parse_file function also takes "-". */
int json_read_file (const char *path, char **data, size_t *len,
                    hull_error_t *err);

struct json_node
{
  yajl_val v; /* NULL: the member is absent */
  const struct json_node *parent;
  const char *key; /* member name; NULL for an array element or the root */
  size_t index;    /* array index when key == NULL and parent != NULL */
};

/* The root node of a tree. */
struct json_node json_root (yajl_val v);

/* "process.rlimits[2].hard"; "(top level)" for the root.  Returns a new
 * string (NULL only when out of memory). */
char *json_path (const struct json_node *n);

/* Fill *err with "<path>: <message>" and return -1. */
int json_error (const struct json_node *n, hull_error_t *err,
                const char *fmt, ...) __attribute__ ((format (printf, 3, 4)));

/* The JSON type of a value, for messages: "string", "null", ... */
const char *json_type_name (yajl_val v);

/* ---- structure ----------------------------------------------------------- */

enum json_presence
{
  JSON_OPTIONAL = 0,
  JSON_REQUIRED = 1,
};

int json_expect_object (const struct json_node *n, hull_error_t *err);
/* Checks n is an array of at most HULL_JSON_MAX_ENTRIES; *len = length. */
int json_expect_array (const struct json_node *n, size_t *len,
                       hull_error_t *err);

/* Member `key` of object node obj.  Returns 1 and fills *out when present,
 * 0 when absent (out->v = NULL, or an error when required), -1 on error
 * (obj not an object, duplicate key). */
int json_member (const struct json_node *obj, const char *key,
                 enum json_presence req, struct json_node *out,
                 hull_error_t *err);

/* Member `key` as a node without checks (v NULL when absent or when obj is
 * not an object): for naming a value already read in a later error. */
struct json_node json_child (const struct json_node *obj, const char *key);

/* Element i of array node arr (caller checked the bounds). */
struct json_node json_element (const struct json_node *arr, size_t i);

/* For objects used as maps: the number of members, and member i as a node
 * (out->key is the member name).  json_object_unique rejects an object
 * that has the same key twice. */
size_t json_object_len (const struct json_node *obj);
struct json_node json_object_entry (const struct json_node *obj, size_t i);
int json_object_unique (const struct json_node *obj, hull_error_t *err);

/* ---- scalar values (node level) ----------------------------------------- */

/* *out = strdup of the string. */
int json_as_string (const struct json_node *n, char **out, hull_error_t *err);
int json_as_bool (const struct json_node *n, bool *out, hull_error_t *err);
/* Integers must be written as JSON integers (no fraction or exponent) and
 * lie within [min, max]; errors say "expected integer" or "out of range". */
int json_as_int (const struct json_node *n, int64_t min, int64_t max,
                 int64_t *out, hull_error_t *err);
/* Non-negative integers up to max; "expected unsigned integer" otherwise. */
int json_as_uint (const struct json_node *n, uint64_t max, uint64_t *out,
                  hull_error_t *err);
/* An array of strings: *out is NULL-terminated (NULL when empty). */
int json_as_strv (const struct json_node *n, char ***out, size_t *n_out,
                  hull_error_t *err);

/* ---- member getters: 1 present, 0 absent, -1 error ------------------------
 * Absent members leave *out untouched, so callers preset defaults. */
int json_get_string (const struct json_node *obj, const char *key,
                     enum json_presence req, char **out, hull_error_t *err);
int json_get_bool (const struct json_node *obj, const char *key,
                   enum json_presence req, bool *out, hull_error_t *err);
int json_get_int64 (const struct json_node *obj, const char *key,
                    enum json_presence req, int64_t *out, hull_error_t *err);
int json_get_int32 (const struct json_node *obj, const char *key,
                    enum json_presence req, int32_t *out, hull_error_t *err);
int json_get_uint64 (const struct json_node *obj, const char *key,
                     enum json_presence req, uint64_t *out,
                     hull_error_t *err);
int json_get_uint32 (const struct json_node *obj, const char *key,
                     enum json_presence req, uint32_t *out,
                     hull_error_t *err);
int json_get_uint16 (const struct json_node *obj, const char *key,
                     enum json_presence req, uint16_t *out,
                     hull_error_t *err);
int json_get_strv (const struct json_node *obj, const char *key,
                   enum json_presence req, char ***out, size_t *n_out,
                   hull_error_t *err);

/* Free a NULL-terminated string vector (NULL is fine). */
void json_strv_free (char **v);

#endif
