/* libFuzzer target for the OCI mount options parser: NUL-separated
 * options, the first entry is the mount type.  Findings are crashes,
 * sanitizer reports and broken output invariants. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "runtime/container_setup.h"

#define MAX_OPTS 64

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char *copy = malloc (size + 1), *opts[MAX_OPTS + 1], *type, *p, *end;
  struct container_mount_opts o;
  struct oci_strv v = { .v = opts, .n = 0 };
  hull_error_t err = NULL;

  if (copy == NULL)
    return 0;
  memcpy (copy, data, size);
  copy[size] = '\0';
  type = copy;
  p = copy + strlen (copy);
  end = copy + size;
  while (p < end && v.n < MAX_OPTS)
    {
      p++;
      opts[v.n++] = p;
      p += strlen (p);
    }
  opts[v.n] = NULL;
  if (container_mount_opts_parse (type, &v, &o, &err) == 0)
    {
      /* Invariants: data fits a page and carries no empty option. */
      if (o.data && (strlen (o.data) > CONTAINER_MOUNT_DATA_MAX || strstr (o.data, ",,")
                     || o.data[0] == ','))
        abort ();
      if (o.flags & o.clear)
        abort ();
      container_mount_opts_free (&o);
    }
  else if (err == NULL)
    abort ();
  hull_error_free (&err);
  free (copy);
  return 0;
}
