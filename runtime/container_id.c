#include "runtime/container_id.h"

#include <ctype.h>
#include <string.h>

static int
id_char_ok (unsigned char c)
{
  return isascii (c) && (isalnum (c) || c == '_' || c == '+' || c == '-' || c == '.');
}

int
container_id_validate (const char *id, hull_error_t *err)
{
  size_t len;

  if (id == NULL || id[0] == '\0')
    return hull_error (err, 0, "container id must not be empty");
  len = strlen (id);
  if (len > CONTAINER_ID_MAX)
    return hull_error (err, 0, "container id is %zu characters long, the limit is %d", len,
                       CONTAINER_ID_MAX);
  if (strcmp (id, ".") == 0 || strcmp (id, "..") == 0)
    return hull_error (err, 0, "invalid container id `%s`", id);
  for (size_t i = 0; i < len; i++)
    if (! id_char_ok ((unsigned char) id[i]))
      return hull_error (err, 0,
                         "invalid container id `%s`: character %zu is not one of "
                         "letters, digits, `_`, `+`, `-`, `.`",
                         id, i + 1);
  return 0;
}
