/* Shared helpers of the oci_*.c parsers; not part of the public API
 * (that is runtime/oci_config.h). */
#ifndef HULL_OCI_INTERNAL_H
#define HULL_OCI_INTERNAL_H

#include "runtime/json.h"
#include "runtime/oci_config.h"

/* Parses one array element into *elem (zeroed memory); on failure the
 * element may be partly filled and is released with the free callback. */
typedef int (*oci_elem_parse_fn) (const struct json_node *e, void *elem,
                                  hull_error_t *err);
typedef void (*oci_elem_free_fn) (void *elem);

/* obj.key as an array of objects of elem_size bytes each.  Returns 1 when
 * present, 0 when absent, -1 on error (nothing left allocated). */
int oci_parse_array (const struct json_node *obj, const char *key,
                     enum json_presence req, size_t elem_size,
                     oci_elem_parse_fn parse, oci_elem_free_fn free_elem,
                     void **out, size_t *n_out, hull_error_t *err);
void oci_array_free (void *v, size_t n, size_t elem_size,
                     oci_elem_free_fn free_elem);

int oci_parse_strv (const struct json_node *obj, const char *key,
                    enum json_presence req, struct oci_strv *out,
                    hull_error_t *err);
void oci_strv_free (struct oci_strv *s);

/* An object of strings; keys must be non-empty and unique. */
int oci_parse_map (const struct json_node *obj, const char *key,
                   struct oci_map *out, hull_error_t *err);
void oci_map_free (struct oci_map *m);

int oci_parse_id_mappings (const struct json_node *obj, const char *key,
                           struct oci_id_mappings *out, hull_error_t *err);

/* The string member must be an absolute path (when present). */
int oci_get_abs_path (const struct json_node *obj, const char *key,
                      enum json_presence req, char **out, hull_error_t *err);
/* Every entry of a string-array member must be an absolute path. */
int oci_check_abs_strv (const struct json_node *obj, const char *key,
                        const struct oci_strv *s, hull_error_t *err);

/* Member as an optional object: 1 present (object checked), 0 absent. */
int oci_get_object (const struct json_node *obj, const char *key,
                    enum json_presence req, struct json_node *out,
                    hull_error_t *err);

/* Looks s up in a NULL-terminated table of names; index or -1. */
int oci_name_index (const char *const *table, const char *s);

/* Section parsers working on a node; each allocates *out. */
int oci_process_parse_node (const struct json_node *n,
                            struct oci_process **out, hull_error_t *err);
/* process.scheduler (runtime/oci_sched.c); *out stays NULL when absent. */
int oci_scheduler_parse (const struct json_node *proc,
                         struct oci_scheduler **out, hull_error_t *err);
int oci_resources_parse_node (const struct json_node *n,
                              struct oci_linux_resources **out,
                              hull_error_t *err);
int oci_seccomp_parse_node (const struct json_node *n,
                            struct oci_seccomp **out, hull_error_t *err);
void oci_seccomp_free (struct oci_seccomp *s);
int oci_linux_parse_node (const struct json_node *n, struct oci_linux **out,
                          hull_error_t *err);
void oci_linux_free (struct oci_linux *l);
int oci_hooks_parse (const struct json_node *config,
                     struct oci_hook_list hooks[OCI_HOOK__COUNT],
                     hull_error_t *err);
void oci_hooks_free (struct oci_hook_list hooks[OCI_HOOK__COUNT]);

/* Reads path, parses it and hands the root node to fn; errors get the file
 * name as prefix.  Shared by the *_parse_file entry points. */
typedef int (*oci_root_fn) (const struct json_node *root, void *out,
                            hull_error_t *err);
int oci_parse_document (const char *data, size_t len, oci_root_fn fn,
                        void *out, hull_error_t *err);
int oci_parse_document_file (const char *path, oci_root_fn fn, void *out,
                             hull_error_t *err);

#endif
