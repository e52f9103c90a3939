/* Container IDs name a directory under --root, so they are validated before
 * any path is built from them. */
#ifndef HULL_CONTAINER_ID_H
#define HULL_CONTAINER_ID_H

#include "runtime/error.h"

#define CONTAINER_ID_MAX 255

/* 0 when `id` is 1..255 characters of [A-Za-z0-9_+.-] and not "." or "..";
 * otherwise fills err with a message that quotes the id. */
int container_id_validate (const char *id, hull_error_t *err);

#endif
